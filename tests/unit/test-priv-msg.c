/* test-priv-msg.c - the typed helper messages (lib/priv/msg.c): every
 * type encodes, frames and decodes back to the same values; truncated,
 * padded and over-the-bound bodies are refused by the decoder; the
 * encoder refuses what the decoder would refuse. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "lib/priv/msg.h"
#include "tests/lib/tap.h"

/* Encodes s, frames it, parses the frame back: the received message. */
static void through_wire(uint16_t type, const void *s, struct priv_msg *out)
{
	struct priv_msg m;
	const char *why = NULL;
	int rc = priv_encode(&m, type, s, &why);
	is_int(rc, 0, "%s encodes (%s)", priv_type_name(type),
	       why ? why : "ok");
	m.seq = 9;
	struct buf wire = BUF_INIT;
	priv_frame_encode(&m, &wire);
	long used = priv_frame_parse(wire.data, wire.len, out);
	is_int(used, (long)wire.len, "%s frame parses", priv_type_name(type));
	buf_release(&wire);
	priv_msg_release(&m);
}

/* Every proper prefix of the body, and the body plus one byte, fail. */
static void truncations_fail(const struct priv_msg *m)
{
	size_t size = priv_struct_size(m->type);
	bool all = true;
	void *s = calloc(1, size + 1);
	for (size_t cut = 0; cut < m->body.len; cut++) {
		struct priv_msg t;
		priv_msg_init(&t, m->type);
		buf_append(&t.body, m->body.data, cut);
		if (priv_decode(&t, m->type, s, NULL) == 0)
			all = false;
		priv_msg_release(&t);
	}
	ok(all, "%s: every truncation is refused", priv_type_name(m->type));
	struct priv_msg t;
	priv_msg_init(&t, m->type);
	buf_append(&t.body, m->body.data, m->body.len);
	buf_append_byte(&t.body, 0);
	ok(priv_decode(&t, m->type, s, NULL) != 0,
	   "%s: a trailing byte is refused", priv_type_name(m->type));
	priv_msg_release(&t);
	free(s);
}

static void test_auth_gss(void)
{
	static const uint8_t tok[] = { 0x60, 0, 1, 2, 0xff };
	struct priv_auth_gss in = {
		.conn = 0x1122334455667788ULL,
		.remote = "::1",
		.port = 65535,
		.scheme = "Negotiate",
		.flags = PRIV_AUTH_HTTPS,
		.token = { tok, sizeof(tok) },
		.end_point = { (const uint8_t *)"tls-server-end-point:", 21 }
	};
	struct priv_msg m;
	through_wire(PRIV_AUTH_GSS, &in, &m);
	struct priv_auth_gss out;
	is_int(priv_decode_auth_gss(&m, &out, NULL), 0, "AUTH_GSS decodes");
	ok(out.conn == in.conn, "conn");
	is_str(out.remote, "::1", "remote");
	is_int(out.port, 65535, "port");
	is_str(out.scheme, "Negotiate", "scheme");
	is_int(out.flags, PRIV_AUTH_HTTPS, "flags");
	ok(out.token.len == sizeof(tok) &&
		   memcmp(out.token.data, tok, sizeof(tok)) == 0,
	   "token with NUL and 0xff bytes");
	ok(out.end_point.len == 21, "end point");
	truncations_fail(&m);
	priv_msg_release(&m);
}

static void test_spawn(void)
{
	const char *argv[] = { "-l", "", "ä" };
	struct priv_env_var env[] = { { "A", "1" }, { "EMPTY", "" } };
	struct priv_spawn in = {
		.conn = 7,
		.flags = PRIV_SPAWN_SKIP_SHELL,
		.program = "/bin/ls",
		.argc = 3,
		.argv = argv,
		.cwd = "/tmp",
		.n_env = 2,
		.env = env,
		.max_memory = 1ULL << 40,
		.shell_id = "0D9C51B2-3F4E-4C5A-9B7D-2E1F0A6C8D43"
	};
	struct priv_msg m;
	through_wire(PRIV_SPAWN, &in, &m);
	struct priv_spawn out;
	is_int(priv_decode_spawn(&m, &out, NULL), 0, "SPAWN decodes");
	ok(out.argc == 3 && strcmp(out.argv[2], "ä") == 0 &&
		   out.argv[1][0] == '\0',
	   "arguments");
	ok(out.n_env == 2 && strcmp(out.env[0].name, "A") == 0 &&
		   strcmp(out.env[1].value, "") == 0,
	   "environment");
	ok(out.max_memory == 1ULL << 40, "u64 max memory");
	is_str(out.program, "/bin/ls", "program");
	is_str(out.cwd, "/tmp", "cwd");
	is_str(out.shell_id, "0D9C51B2-3F4E-4C5A-9B7D-2E1F0A6C8D43",
	       "shell id");
	truncations_fail(&m);
	priv_msg_release(&m);
	/* A shell id is a GUID: 36 characters at most. */
	struct priv_spawn longid = in;
	longid.shell_id = "0D9C51B2-3F4E-4C5A-9B7D-2E1F0A6C8D431";
	const char *why0 = NULL;
	ok(priv_encode(&m, PRIV_SPAWN, &longid, &why0) == -1 && why0 != NULL &&
		   strcmp(why0, "shell_id") == 0,
	   "a 37-character shell id is refused");
	priv_msg_release(&m);

	/* The bound: 1024 arguments encode, 1025 do not (and a frame that
	 * carries them anyway does not decode). */
	const char **many = calloc(PRIV_MAX_ARGS + 1, sizeof(*many));
	for (size_t i = 0; i <= PRIV_MAX_ARGS; i++)
		many[i] = "x";
	struct priv_spawn big = { .conn = 1,
				  .program = "p",
				  .argc = PRIV_MAX_ARGS,
				  .argv = many,
				  .cwd = "" };
	const char *why = NULL;
	is_int(priv_encode(&m, PRIV_SPAWN, &big, &why), 0,
	       "1024 arguments encode");
	priv_msg_release(&m);
	big.argc = PRIV_MAX_ARGS + 1;
	is_int(priv_encode(&m, PRIV_SPAWN, &big, &why), -1,
	       "1025 arguments do not");
	is_str(why, "argv", "the encoder names the field");
	ok(m.body.len == 0, "nothing encoded");
	priv_msg_release(&m);
	priv_msg_init(&m, PRIV_SPAWN);
	priv_put_u64(&m, 1);
	priv_put_u32(&m, 0);
	priv_put_str(&m, "p");
	priv_put_u32(&m, PRIV_MAX_ARGS + 1);
	for (size_t i = 0; i <= PRIV_MAX_ARGS; i++)
		priv_put_str(&m, "x");
	priv_put_str(&m, "");
	priv_put_u32(&m, 0);
	priv_put_u64(&m, 0);
	priv_put_str(&m, "");
	struct priv_spawn dec;
	why = NULL;
	is_int(priv_decode_spawn(&m, &dec, &why), -1,
	       "1025 arguments do not decode");
	is_str(why, "argv", "the decoder names the field");
	priv_msg_release(&m);
	free(many);

	/* A huge count with a tiny body allocates nothing and fails. */
	priv_msg_init(&m, PRIV_SPAWN);
	priv_put_u64(&m, 1);
	priv_put_u32(&m, 0);
	priv_put_str(&m, "p");
	priv_put_u32(&m, 1000);
	why = NULL;
	ok(priv_decode_spawn(&m, &dec, &why) == -1 && why != NULL &&
		   strcmp(why, "argv") == 0,
	   "a count larger than the body can hold is refused");
	priv_msg_release(&m);
}

static void test_strings(void)
{
	/* An embedded NUL is not a string. */
	struct priv_msg m;
	priv_msg_init(&m, PRIV_ERROR);
	priv_put_u32(&m, 5);
	priv_put_bytes(&m, "a\0b", 3);
	struct priv_error e;
	ok(priv_decode_error(&m, &e, NULL) == -1,
	   "a string with a NUL is refused");
	priv_msg_release(&m);
	/* A name over PRIV_MAX_NAME. */
	char *longname = malloc(PRIV_MAX_NAME + 2);
	memset(longname, 'a', PRIV_MAX_NAME + 1);
	longname[PRIV_MAX_NAME + 1] = '\0';
	struct priv_auth_basic b = {
		.conn = 1, .remote = longname, .user = "u", .password = "p"
	};
	const char *why;
	ok(priv_encode(&m, PRIV_AUTH_BASIC, &b, &why) == -1 &&
		   strcmp(why, "remote") == 0,
	   "a remote address over the bound is not encoded");
	priv_msg_release(&m);
	longname[PRIV_MAX_NAME] = '\0';
	b.port = 8;
	ok(priv_encode(&m, PRIV_AUTH_BASIC, &b, &why) == 0,
	   "at the bound it is");
	struct priv_auth_basic bo;
	struct priv_msg t2;
	priv_msg_release(&m);
	b.remote = "10.0.0.1";
	through_wire(PRIV_AUTH_BASIC, &b, &t2);
	ok(priv_decode_auth_basic(&t2, &bo, NULL) == 0 && bo.port == 8 &&
		   strcmp(bo.remote, "10.0.0.1") == 0 &&
		   strcmp(bo.user, "u") == 0,
	   "AUTH_BASIC carries the client's port");
	priv_msg_release(&t2);
	free(longname);
	/* NULL strings encode as "". */
	struct priv_error n = { .code = 1, .message = NULL };
	through_wire(PRIV_ERROR, &n, &m);
	ok(priv_decode_error(&m, &e, NULL) == 0 && e.message[0] == '\0',
	   "NULL encodes as the empty string");
	priv_msg_release(&m);
}

static void test_lists_and_results(void)
{
	struct priv_bytes plain[] = { { (const uint8_t *)"one", 3 },
				      { (const uint8_t *)"", 0 } };
	struct priv_unwrap_result u = {
		.error = 0, .message = "", .n = 2, .plain = plain
	};
	struct priv_msg m;
	through_wire(PRIV_UNWRAP_RESULT, &u, &m);
	struct priv_unwrap_result uo;
	ok(priv_decode_unwrap_result(&m, &uo, NULL) == 0 && uo.n == 2 &&
		   uo.plain[0].len == 3 && uo.plain[1].len == 0,
	   "UNWRAP_RESULT list of bytes");
	truncations_fail(&m);
	priv_msg_release(&m);

	struct priv_sealed_part parts[] = { { { (const uint8_t *)"h", 1 },
					      { (const uint8_t *)"sealed",
						6 } } };
	struct priv_unwrap uw = { .conn = 3, .n = 1, .parts = parts };
	through_wire(PRIV_UNWRAP, &uw, &m);
	struct priv_unwrap uwo;
	ok(priv_decode_unwrap(&m, &uwo, NULL) == 0 &&
		   uwo.parts[0].sealed.len == 6,
	   "UNWRAP list of pairs");
	truncations_fail(&m);
	priv_msg_release(&m);

	struct priv_hs_msg hs[] = { { 1 | PRIV_HS_FROM_CLIENT,
				      { (const uint8_t *)"ch", 2 } },
				    { 2, { (const uint8_t *)"sh", 2 } } };
	struct priv_auth_cert ac = { .conn = 4,
				     .remote = "127.0.0.1",
				     .port = 50000,
				     .uri = "http://x",
				     .n_msgs = 2,
				     .msgs = hs };
	through_wire(PRIV_AUTH_CERT, &ac, &m);
	struct priv_auth_cert aco;
	ok(priv_decode_auth_cert(&m, &aco, NULL) == 0 && aco.n_msgs == 2 &&
		   aco.msgs[0].type == (1 | PRIV_HS_FROM_CLIENT) &&
		   aco.msgs[1].body.len == 2 && aco.port == 50000,
	   "AUTH_CERT handshake messages, and the port");
	truncations_fail(&m);
	priv_msg_release(&m);

	struct priv_setting set[] = { { "Service.Auth.Basic", "true" } };
	struct priv_config_put cp = { .conn = 5, .n = 1, .settings = set };
	through_wire(PRIV_CONFIG_PUT, &cp, &m);
	struct priv_config_put cpo;
	ok(priv_decode_config_put(&m, &cpo, NULL) == 0 &&
		   strcmp(cpo.settings[0].value, "true") == 0,
	   "CONFIG_PUT settings");
	truncations_fail(&m);
	priv_msg_release(&m);

	const char *certs[] = { "-----BEGIN CERTIFICATE-----", "" };
	struct priv_reload_result rr = {
		.ok = 1, .text = "Service = {};", .n_certs = 2, .certs = certs
	};
	through_wire(PRIV_RELOAD_RESULT, &rr, &m);
	struct priv_reload_result rro;
	ok(priv_decode_reload_result(&m, &rro, NULL) == 0 && rro.n_certs == 2 &&
		   rro.certs[1][0] == '\0',
	   "RELOAD_RESULT certificates");
	truncations_fail(&m);
	priv_msg_release(&m);
}

/* The remaining types: one value each way, and their truncations. */
static void test_simple_types(void)
{
	struct priv_msg m;
	struct priv_ping ping = { 0xabcdef };
	through_wire(PRIV_PING, &ping, &m);
	struct priv_ping pingo;
	ok(priv_decode_ping(&m, &pingo, NULL) == 0 && pingo.token == 0xabcdef,
	   "PING");
	truncations_fail(&m);
	priv_msg_release(&m);

	struct priv_pong pong = { 1, 2 };
	through_wire(PRIV_PONG, &pong, &m);
	struct priv_pong pongo;
	ok(priv_decode_pong(&m, &pongo, NULL) == 0 && pongo.pid == 2, "PONG");
	priv_msg_release(&m);

	struct priv_auth_result ar = { .status = PRIV_AUTH_OK,
				       .claimed = "WINRMD\\alice",
				       .user = "alice",
				       .uid = 1000,
				       .gid = 100,
				       .flags = PRIV_ID_AUTHORIZED,
				       .mech = "NTLM",
				       .reason = "member of winrmusers" };
	through_wire(PRIV_AUTH_RESULT, &ar, &m);
	struct priv_auth_result aro;
	ok(priv_decode_auth_result(&m, &aro, NULL) == 0 && aro.uid == 1000 &&
		   strcmp(aro.claimed, "WINRMD\\alice") == 0,
	   "AUTH_RESULT");
	truncations_fail(&m);
	priv_msg_release(&m);

	struct priv_spawn_result sr = { 0, "", 77, 1234 };
	through_wire(PRIV_SPAWN_RESULT, &sr, &m);
	struct priv_spawn_result sro;
	ok(priv_decode_spawn_result(&m, &sro, NULL) == 0 && sro.handle == 77,
	   "SPAWN_RESULT");
	priv_msg_release(&m);

	struct priv_signal_command sc = { 8, 9, PRIV_SIGNAL_CTRL_C };
	through_wire(PRIV_SIGNAL, &sc, &m);
	struct priv_signal_command sco;
	ok(priv_decode_signal_command(&m, &sco, NULL) == 0 &&
		   sco.kind == PRIV_SIGNAL_CTRL_C,
	   "SIGNAL");
	priv_msg_release(&m);

	struct priv_certmap cm = { 1,  PRIV_CERTMAP_PUT, "u", "s", "i",
				   "", PRIV_CERTMAP_KEEP };
	through_wire(PRIV_CERTMAP, &cm, &m);
	struct priv_certmap cmo;
	ok(priv_decode_certmap(&m, &cmo, NULL) == 0 &&
		   cmo.enabled == PRIV_CERTMAP_KEEP,
	   "CERTMAP");
	truncations_fail(&m);
	priv_msg_release(&m);

	static const uint8_t id[32] = { 1 };
	struct priv_sign sg = { 2,
				{ id, 32 },
				0x0804,
				PRIV_SIGN_HASHED,
				{ (const uint8_t *)"tbs", 3 } };
	through_wire(PRIV_SIGN, &sg, &m);
	struct priv_sign sgo;
	ok(priv_decode_sign(&m, &sgo, NULL) == 0 && sgo.scheme == 0x0804 &&
		   sgo.flags == PRIV_SIGN_HASHED,
	   "SIGN");
	priv_msg_release(&m);
	struct priv_sign badid = sg;
	badid.key_id.len = 33;
	ok(priv_encode(&m, PRIV_SIGN, &badid, NULL) == -1,
	   "a 33-byte key id is refused");
	priv_msg_release(&m);

	struct priv_shell_end se = { 1001,
				     "0D9C51B2-3F4E-4C5A-9B7D-2E1F0A6C8D43" };
	through_wire(PRIV_SHELL_END, &se, &m);
	struct priv_shell_end seo;
	ok(priv_decode_shell_end(&m, &seo, NULL) == 0 && seo.uid == 1001 &&
		   strcmp(seo.shell_id, se.shell_id) == 0,
	   "SHELL_END");
	truncations_fail(&m);
	priv_msg_release(&m);

	struct priv_local_conn lc = { 1ULL << 63 | 5 };
	through_wire(PRIV_LOCAL_CONN, &lc, &m);
	struct priv_local_conn lco;
	ok(priv_decode_local_conn(&m, &lco, NULL) == 0 && lco.conn == lc.conn,
	   "LOCAL_CONN");
	priv_msg_release(&m);

	struct priv_setting ls[2] = { { "Port", "5986" },
				      { "CertificateFile", "/etc/c.pem" } };
	struct priv_listener_edit le = { 3,   PRIV_LISTENER_CREATE,
					 "*", "HTTPS",
					 2,   ls };
	through_wire(PRIV_LISTENER_EDIT, &le, &m);
	struct priv_listener_edit leo;
	ok(priv_decode_listener_edit(&m, &leo, NULL) == 0 && leo.conn == 3 &&
		   leo.op == PRIV_LISTENER_CREATE &&
		   strcmp(leo.address, "*") == 0 &&
		   strcmp(leo.transport, "HTTPS") == 0 && leo.n == 2 &&
		   strcmp(leo.settings[1].value, "/etc/c.pem") == 0,
	   "LISTENER_EDIT");
	truncations_fail(&m);
	priv_msg_release(&m);

	/* Types without fields: an empty body only. */
	through_wire(PRIV_RELOAD, NULL, &m);
	ok(priv_decode(&m, PRIV_RELOAD, NULL, NULL) == 0, "RELOAD (no fields)");
	buf_append_byte(&m.body, 1);
	ok(priv_decode(&m, PRIV_RELOAD, NULL, NULL) == -1,
	   "RELOAD with a body is refused");
	priv_msg_release(&m);

	/* The wrong type, unknown types and descriptors. */
	through_wire(PRIV_PING, &ping, &m);
	ok(priv_decode_pong(&m, &pongo, NULL) == -1, "a PING is not a PONG");
	ok(!priv_type_known(PRIV_TYPE_MAX) && !priv_type_known(PRIV_NONE),
	   "NONE and TYPE_MAX are not messages");
	is_int(priv_max_fds(PRIV_AUTH_PEER), 1,
	       "AUTH_PEER carries one descriptor");
	is_int(priv_max_fds(PRIV_SPAWN), 0, "SPAWN carries none");
	m.n_fds = 1; /* as received */
	m.fds[0] = -1;
	ok(priv_decode_ping(&m, &pingo, NULL) == -1,
	   "a PING with a descriptor is refused");
	m.n_fds = 0;
	priv_msg_release(&m);
}

int main(void)
{
	test_auth_gss();
	test_spawn();
	test_strings();
	test_lists_and_results();
	test_simple_types();
	return tap_done();
}
