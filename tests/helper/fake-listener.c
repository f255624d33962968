/*
 * fake-listener.c - plays a compromised winrmd listener against the real
 * winrmd-priv: starts the helper as winrmd does (fork + exec with one end
 * of a socketpair, as root), drops to an unprivileged account as the
 * listener does, then sends helper messages that a hostile listener
 * could send, and prints what came back, one line per step:
 *
 *   <step>: <answer type> key=value ...
 *
 * tests/integration/t0004-helper-boundary.py runs it and decides what is
 * right.  Usage (as root):
 *
 *   fake-listener -c CONFIG -u USER [-H HELPER] STEP...
 *
 * Steps (each may use what earlier steps learnt):
 *   ping                      PING
 *   peer-root-listener        the f1c8dc8 attack: a Unix socket listened on
 *                             while root, connect()ed to after the drop,
 *                             its client end passed in AUTH_PEER, then a
 *                             SPAWN of "id -u" on that connection
 *   peer-connected            connects to the helper's AdminSocket, takes
 *                             the LOCAL_CONN, passes the connect()ed end
 *                             (not the accepted one) in AUTH_PEER
 *   peer-accepted             the same, passing the accepted end (a real
 *                             local login, of the fake listener's account)
 *   peer-socketpair           AUTH_PEER with a socketpair end
 *   basic USER PASSWORD       AUTH_BASIC on a new connection id
 *   spawn-last CMD            SPAWN "CMD" on the last authenticated
 *                             connection; prints its stdout and status
 *   spawn-provider PROGRAM    SPAWN of PROGRAM as the WMI provider host
 *                             (PRIV_SPAWN_PROVIDER) on the last
 *                             authenticated connection
 *   spawn-unauth              SPAWN on a connection nobody authenticated
 *   spawn-args N              SPAWN with N arguments (unauthenticated)
 *   spawn-shell ID CMD        SPAWN "CMD" in shell ID (any string, sent as
 *                             is) on the last authenticated connection
 *   shell-end UID ID          SHELL_END of shell ID (any string) of UID
 *   unwrap-unauth / wrap-unauth / config-put-unauth / certmap-unauth /
 *   listener-edit-unauth
 *   signal-unauth             SIGNAL of a command on an unknown connection
 *   config-put-last           CONFIG_PUT Service.MaxEnvelopeSizekb=600 on
 *                             the last authenticated connection
 *   certmap-last              CERTMAP list on the last authenticated one
 *   listener-edit-last        LISTENER_EDIT deleting the HTTP listener on
 *                             * on the last authenticated connection
 *   cert-chain DERFILE        AUTH_CERT whose "handshake" is only a client
 *                             Certificate message with that certificate
 *                             and a garbage CertificateVerify
 *   sign-arbitrary            SIGN of arbitrary bytes
 *   reload                    RELOAD; prints whether a private key is in
 *                             the answer
 *   conn-close                CONN_CLOSE of an unknown connection
 *   shutdown                  SHUTDOWN
 *   raw-type N                a frame of message type N with an empty body
 *   krb5                      AUTH_GSS (scheme Kerberos) with the first
 *                             token of a Kerberos initiator context made
 *                             before the drop (-k: the client's ccache is
 *                             root's); completes it with the answer's token
 *   krb5-seal                 on that connection: a valid sealed request
 *                             (UNWRAP, gss_wrap_iov as clients do), then
 *                             hostile tokens (each "krb5-seal-<what>"),
 *                             another valid one, a replay of it, and a WRAP
 *                             the initiator must unwrap
 *
 * -k HOST: make the Kerberos initiator context for HTTP@HOST while root.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

#include "lib/config.h"
#include "lib/priv/msg.h"
#include "lib/priv/proto.h"

static int helper_fd = -1;
static uint32_t next_seq = 1;
static uint64_t next_conn = 1000;
static uint64_t last_auth_conn; /* the last connection that authenticated */
static const char *spawn_shell_id = ""; /* shell id of the next SPAWN */
static const char *admin_path;
static int root_listen_fd = -1; /* peer-root-listener: made while root */
static char root_listen_path[256];

static void die(const char *what)
{
	printf("fatal: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Sends m (released) and waits for the answer to it; notifications that
 * arrive first are stored in *note (if not NULL, the first one only).
 * Returns 0, or -1 when the helper closed the connection. */
static int call(struct priv_msg *m, struct priv_msg *answer,
		struct priv_msg *note)
{
	uint32_t seq = next_seq++;
	m->seq = seq;
	if (priv_send(helper_fd, m) != 0) {
		priv_msg_release(m);
		priv_msg_init(answer, PRIV_NONE);
		return -1;
	}
	priv_msg_release(m);
	for (;;) {
		if (priv_recv(helper_fd, answer) != 0) {
			priv_msg_release(answer);
			priv_msg_init(answer, PRIV_NONE);
			return -1;
		}
		if (answer->seq == seq)
			return 0;
		if (answer->seq == 0 && note != NULL &&
		    note->type == PRIV_NONE) {
			*note = *answer;
			priv_msg_init(answer, PRIV_NONE);
			continue;
		}
		priv_msg_release(answer);
	}
}

/* Encodes and calls; prints "step: gone" when the helper is gone. */
static int request(const char *step, uint16_t type, const void *s,
		   struct priv_msg *answer)
{
	struct priv_msg m;
	const char *why;
	if (priv_encode(&m, type, s, &why) != 0) {
		printf("%s: not-encodable field=%s\n", step, why);
		priv_msg_init(answer, PRIV_NONE);
		return -1;
	}
	if (call(&m, answer, NULL) != 0) {
		printf("%s: gone\n", step);
		return -1;
	}
	return 0;
}

static void print_auth(const char *step, struct priv_msg *a, uint64_t conn)
{
	struct priv_auth_result r;
	if (priv_decode_auth_result(a, &r, NULL) != 0) {
		printf("%s: %s (undecodable)\n", step, priv_type_name(a->type));
		return;
	}
	static const char *const names[] = { "?", "CONTINUE", "OK", "DENIED",
					     "THROTTLED" };
	printf("%s: AUTH_RESULT status=%s user=%s uid=%u flags=%u reason=\"%s\"\n",
	       step, r.status <= 4 ? names[r.status] : "?", r.user, r.uid,
	       r.flags, r.reason);
	if (r.status == PRIV_AUTH_OK)
		last_auth_conn = conn;
}

/* The answer types whose struct starts with (error, message). */
static void print_refusable(const char *step, struct priv_msg *a)
{
	struct {
		uint32_t error;
		const char *message;
	} * r;
	_Alignas(max_align_t) uint8_t buf[PRIV_MAX_STRUCT];
	memset(buf, 0, sizeof(buf));
	r = (void *)buf;
	if (priv_decode(a, a->type, buf, NULL) != 0) {
		printf("%s: %s (undecodable)\n", step, priv_type_name(a->type));
		return;
	}
	if (a->type == PRIV_OK) {
		printf("%s: OK\n", step);
		return;
	}
	printf("%s: %s error=%u message=\"%s\"\n", step,
	       priv_type_name(a->type), r->error, r->message);
}

/* ---- local administration socket ---- */

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	return fd;
}

/* Waits for the helper's LOCAL_CONN after a connect to its socket. */
static int take_local_conn(uint64_t *id, int *accepted)
{
	struct pollfd p = { .fd = helper_fd, .events = POLLIN };
	if (poll(&p, 1, 5000) != 1)
		return -1;
	struct priv_msg n;
	struct priv_local_conn lc;
	if (priv_recv(helper_fd, &n) != 0 || n.seq != 0 ||
	    priv_decode_local_conn(&n, &lc, NULL) != 0) {
		priv_msg_release(&n);
		return -1;
	}
	*id = lc.conn;
	*accepted = priv_take_fd(&n);
	priv_msg_release(&n);
	return *accepted >= 0 ? 0 : -1;
}

static void auth_peer(const char *step, uint64_t conn, int fd)
{
	struct priv_msg m, a;
	struct priv_auth_peer p = { .conn = conn };
	priv_encode_auth_peer(&m, &p, NULL);
	if (fd >= 0)
		priv_put_fd(&m, fd); /* closed once sent */
	if (call(&m, &a, NULL) != 0) {
		printf("%s: gone\n", step);
		return;
	}
	print_auth(step, &a, conn);
	priv_msg_release(&a);
}

static void step_peer(const char *step, bool pass_accepted)
{
	int client = connect_unix(admin_path);
	uint64_t id;
	int accepted;
	if (client < 0 || take_local_conn(&id, &accepted) != 0) {
		printf("%s: no-local-connection\n", step);
		return;
	}
	if (pass_accepted) {
		auth_peer(step, id, accepted);
		close(client);
	} else {
		auth_peer(step, id, client);
		close(accepted);
	}
}

static void step_peer_root_listener(const char *step)
{
	if (root_listen_fd < 0) {
		printf("%s: no-socket\n", step);
		return;
	}
	int client = connect_unix(root_listen_path);
	if (client < 0) {
		printf("%s: cannot connect: %s\n", step, strerror(errno));
		return;
	}
	/* The conn id of the old protocol (the listener's own range) and
	 * one of the helper's range: neither may give an identity. */
	uint64_t conn = next_conn++;
	auth_peer(step, conn, dup(client));
	auth_peer(step, (1ULL << 63) | 77, client);
}

static void step_peer_socketpair(const char *step)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
		die("socketpair");
	auth_peer(step, (1ULL << 63) | 1, sp[0]);
	close(sp[1]);
}

/* ---- the other requests ---- */

static void step_basic(const char *step, const char *user, const char *password)
{
	uint64_t conn = next_conn++;
	/* the port: conn + 30000, so that t0004 can tie the audit lines */
	struct priv_auth_basic b = { .conn = conn,
				     .remote = "127.0.0.1",
				     .port = (uint32_t)(conn + 30000),
				     .flags = PRIV_AUTH_HTTPS,
				     .user = user,
				     .password = password };
	struct priv_msg a;
	if (request(step, PRIV_AUTH_BASIC, &b, &a) == 0)
		print_auth(step, &a, conn);
	priv_msg_release(&a);
}

static void read_all_fd(int fd, char *out, size_t n)
{
	size_t got = 0;
	ssize_t r;
	while (got + 1 < n && (r = read(fd, out + got, n - 1 - got)) > 0)
		got += (size_t)r;
	out[got] = '\0';
	while (got > 0 && (out[got - 1] == '\n' || out[got - 1] == '\r'))
		out[--got] = '\0';
}

static void spawn(const char *step, uint64_t conn, const char *program,
		  size_t argc, uint32_t flags)
{
	const char **argv = calloc(argc + 1, sizeof(*argv));
	for (size_t i = 0; i < argc; i++)
		argv[i] = "x";
	struct priv_spawn s = { .conn = conn,
				.flags = flags,
				.program = program,
				.cwd = "",
				.argc = argc,
				.argv = argv,
				.shell_id = spawn_shell_id };
	struct priv_msg m, a;
	const char *why;
	/* Encoded by hand past the protocol's bounds when asked to: a
	 * hostile listener is not held by priv_encode. */
	if (priv_encode(&m, PRIV_SPAWN, &s, &why) != 0) {
		priv_msg_init(&m, PRIV_SPAWN);
		priv_put_u64(&m, conn);
		priv_put_u32(&m, 0);
		priv_put_str(&m, program);
		priv_put_u32(&m, (uint32_t)argc);
		for (size_t i = 0; i < argc; i++)
			priv_put_str(&m, "x");
		priv_put_str(&m, "");
		priv_put_u32(&m, 0);
		priv_put_u64(&m, 0);
		priv_put_str(&m, spawn_shell_id);
	}
	free(argv);
	if (call(&m, &a, NULL) != 0) {
		printf("%s: gone\n", step);
		return;
	}
	struct priv_spawn_result r;
	if (priv_decode_spawn_result(&a, &r, NULL) != 0 || r.error != 0) {
		print_refusable(step, &a);
		priv_msg_release(&a);
		return;
	}
	int in = priv_take_fd(&a), out = priv_take_fd(&a);
	int err = priv_take_fd(&a), status = priv_take_fd(&a);
	close(in);
	char text[256];
	read_all_fd(out, text, sizeof(text));
	int32_t st = -1;
	if (read(status, &st, sizeof(st)) != sizeof(st))
		st = -1;
	printf("%s: started stdout=\"%s\" status=%d\n", step, text, (int)st);
	close(out);
	close(err);
	close(status);
	priv_msg_release(&a);
}

/* ---- Kerberos: a real initiator, then hostile sealed messages ---- */

static gss_ctx_id_t ictx = GSS_C_NO_CONTEXT;
static gss_name_t target = GSS_C_NO_NAME;
static gss_buffer_desc first_token = GSS_C_EMPTY_BUFFER;
static uint64_t krb5_conn;

static OM_uint32 init_step(gss_buffer_t in, gss_buffer_t out)
{
	OM_uint32 minor;
	return gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ictx, target,
				    (gss_OID)gss_mech_krb5,
				    GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG |
					    GSS_C_SEQUENCE_FLAG |
					    GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG,
				    0, GSS_C_NO_CHANNEL_BINDINGS, in, NULL, out,
				    NULL, NULL);
}

/* While root: the context and its first token (the ccache is root's). */
static void krb5_prepare(const char *host)
{
	OM_uint32 minor;
	char name[300];
	snprintf(name, sizeof(name), "HTTP@%s", host);
	gss_buffer_desc nb = { strlen(name), name };
	if (GSS_ERROR(gss_import_name(&minor, &nb, GSS_C_NT_HOSTBASED_SERVICE,
				      &target)) ||
	    GSS_ERROR(init_step(GSS_C_NO_BUFFER, &first_token))) {
		printf("fatal: no Kerberos initiator context for %s\n", name);
		exit(2);
	}
}

static void step_krb5(const char *step)
{
	uint64_t conn = next_conn++;
	struct priv_auth_gss g = { .conn = conn,
				   .remote = "127.0.0.1",
				   .scheme = "Kerberos",
				   .token = { first_token.value,
					      first_token.length } };
	struct priv_msg a;
	if (request(step, PRIV_AUTH_GSS, &g, &a) != 0)
		return;
	print_auth(step, &a, conn);
	struct priv_auth_result r;
	if (priv_decode_auth_result(&a, &r, NULL) == 0 &&
	    r.status == PRIV_AUTH_OK) {
		gss_buffer_desc in = { r.token.len, (void *)r.token.data };
		gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
		OM_uint32 major = init_step(&in, &out), minor;
		gss_release_buffer(&minor, &out);
		printf("%s-initiator: %s\n", step,
		       major == GSS_S_COMPLETE ? "complete" : "incomplete");
		krb5_conn = conn;
	}
	priv_msg_release(&a);
}

/* gss_wrap_iov as the clients do: header (60 bytes with AES) || data. */
static void client_wrap(const char *text, struct buf *hdr, struct buf *data)
{
	OM_uint32 minor;
	int conf = 0;
	gss_iov_buffer_desc iov[3];
	buf_init(hdr);
	buf_init(data);
	buf_append_str(data, text);
	memset(iov, 0, sizeof(iov));
	iov[0].type = GSS_IOV_BUFFER_TYPE_HEADER | GSS_IOV_BUFFER_FLAG_ALLOCATE;
	iov[1].type = GSS_IOV_BUFFER_TYPE_DATA;
	iov[1].buffer.length = data->len;
	iov[1].buffer.value = data->data;
	iov[2].type = GSS_IOV_BUFFER_TYPE_PADDING |
		      GSS_IOV_BUFFER_FLAG_ALLOCATE;
	if (GSS_ERROR(gss_wrap_iov(&minor, ictx, 1, GSS_C_QOP_DEFAULT, &conf,
				   iov, 3))) {
		printf("fatal: gss_wrap_iov\n");
		exit(2);
	}
	buf_append(hdr, iov[0].buffer.value, iov[0].buffer.length);
	buf_append(data, iov[2].buffer.value, iov[2].buffer.length);
	gss_release_iov_buffer(&minor, iov, 3);
}

/* UNWRAP of one part; prints "plain=<text>" or the refusal. */
static void unwrap_part(const char *step, const struct buf *hdr,
			const struct buf *sealed)
{
	struct priv_sealed_part part = { { hdr->data, hdr->len },
					 { sealed->data, sealed->len } };
	struct priv_unwrap u = { .conn = krb5_conn, .n = 1, .parts = &part };
	struct priv_msg a;
	struct priv_unwrap_result r;
	if (request(step, PRIV_UNWRAP, &u, &a) != 0)
		return;
	if (priv_decode_unwrap_result(&a, &r, NULL) == 0 && r.error == 0 &&
	    r.n == 1)
		printf("%s: plain=\"%.*s\"\n", step, (int)r.plain[0].len,
		       (const char *)r.plain[0].data);
	else
		print_refusable(step, &a);
	priv_msg_release(&a);
}

static void step_krb5_seal(const char *step)
{
	char name[64];
	struct buf hdr, data, h2 = BUF_INIT, d2 = BUF_INIT;
	if (krb5_conn == 0) {
		printf("%s: no-context\n", step);
		return;
	}
	client_wrap("<first/>", &hdr, &data);
	unwrap_part(step, &hdr, &data);

	/* Hostile variations of a fresh valid token. */
	static const char *const kinds[] = { "short-header",  "rrc-huge",
					     "ec-huge",       "split-moved",
					     "acceptor-flag", "flipped-byte",
					     "sealed-empty" };
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		buf_release(&hdr);
		buf_release(&data);
		client_wrap("<hostile/>", &hdr, &data);
		buf_reset(&h2);
		buf_reset(&d2);
		buf_append(&h2, hdr.data, hdr.len);
		buf_append(&d2, data.data, data.len);
		switch (k) {
		case 0: h2.len = 10; break;
		case 1: h2.data[6] = h2.data[7] = 0xff; break;
		case 2: h2.data[4] = h2.data[5] = 0xff; break;
		case 3:
			/* the last header byte moved into the data */
			buf_reset(&d2);
			buf_append(&d2, hdr.data + hdr.len - 1, 1);
			buf_append(&d2, data.data, data.len);
			h2.len = hdr.len - 1;
			break;
		case 4: h2.data[2] |= 0x01; break;
		case 5: d2.data[0] ^= 0x40; break;
		case 6: d2.len = 0; break;
		}
		snprintf(name, sizeof(name), "%s-%s", step, kinds[k]);
		unwrap_part(name, &h2, &d2);
	}
	buf_release(&hdr);
	buf_release(&data);
	client_wrap("<after/>", &hdr, &data);
	snprintf(name, sizeof(name), "%s-after", step);
	unwrap_part(name, &hdr, &data);
	snprintf(name, sizeof(name), "%s-replay", step);
	unwrap_part(name, &hdr, &data);

	/* A WRAP, unwrapped by the initiator as clients do. */
	struct priv_wrap w = { .conn = krb5_conn,
			       .plain = { (const uint8_t *)"<reply/>", 8 } };
	struct priv_msg a;
	struct priv_wrap_result r;
	snprintf(name, sizeof(name), "%s-wrap", step);
	if (request(name, PRIV_WRAP, &w, &a) == 0) {
		if (priv_decode_wrap_result(&a, &r, NULL) == 0 &&
		    r.error == 0) {
			OM_uint32 minor;
			int conf = 0;
			buf_reset(&h2);
			buf_reset(&d2);
			buf_append(&h2, r.hdr.data, r.hdr.len);
			buf_append(&d2, r.sealed.data, r.sealed.len);
			gss_iov_buffer_desc iov[2] = {
				{ GSS_IOV_BUFFER_TYPE_HEADER,
				  { h2.len, h2.data } },
				{ GSS_IOV_BUFFER_TYPE_DATA,
				  { d2.len, d2.data } },
			};
			OM_uint32 major = gss_unwrap_iov(&minor, ictx, &conf,
							 NULL, iov, 2);
			printf("%s: header=%zu %s plain=\"%.*s\"\n", name,
			       r.hdr.len, GSS_ERROR(major) ? "bad" : "good",
			       (int)iov[1].buffer.length,
			       (const char *)iov[1].buffer.value);
		} else {
			print_refusable(name, &a);
		}
	}
	priv_msg_release(&a);
	buf_release(&hdr);
	buf_release(&data);
	buf_release(&h2);
	buf_release(&d2);
}

static void step_unwrap(const char *step)
{
	struct priv_sealed_part part = { { (const uint8_t *)"h", 1 },
					 { (const uint8_t *)"s", 1 } };
	struct priv_unwrap u = { .conn = next_conn++, .n = 1, .parts = &part };
	struct priv_msg a;
	if (request(step, PRIV_UNWRAP, &u, &a) == 0)
		print_refusable(step, &a);
	priv_msg_release(&a);
}

static void step_wrap(const char *step)
{
	struct priv_wrap w = { .conn = next_conn++,
			       .plain = { (const uint8_t *)"secret", 6 } };
	struct priv_msg a;
	if (request(step, PRIV_WRAP, &w, &a) == 0)
		print_refusable(step, &a);
	priv_msg_release(&a);
}

static void step_config_put(const char *step, uint64_t conn)
{
	struct priv_setting set = { "Service.MaxEnvelopeSizekb", "600" };
	struct priv_config_put p = { .conn = conn, .n = 1, .settings = &set };
	struct priv_msg a;
	if (request(step, PRIV_CONFIG_PUT, &p, &a) == 0)
		print_refusable(step, &a);
	priv_msg_release(&a);
}

static void step_listener_edit(const char *step, uint64_t conn)
{
	struct priv_listener_edit e = { .conn = conn,
					.op = PRIV_LISTENER_DELETE,
					.address = "*",
					.transport = "HTTP" };
	struct priv_msg a;
	if (request(step, PRIV_LISTENER_EDIT, &e, &a) == 0)
		print_refusable(step, &a);
	priv_msg_release(&a);
}

static void step_certmap(const char *step, uint64_t conn)
{
	struct priv_certmap c = { .conn = conn, .op = PRIV_CERTMAP_LIST };
	struct priv_msg a;
	if (request(step, PRIV_CERTMAP, &c, &a) == 0)
		print_refusable(step, &a);
	priv_msg_release(&a);
}

static void step_signal(const char *step)
{
	struct priv_signal_command s = { .conn = next_conn++,
					 .handle = 1,
					 .kind = PRIV_SIGNAL_KILL };
	struct priv_msg a;
	if (request(step, PRIV_SIGNAL, &s, &a) == 0)
		print_refusable(step, &a);
	priv_msg_release(&a);
}

/* SHELL_END, encoded by hand: priv_encode would refuse an id too long. */
static void step_shell_end(const char *step, uint32_t uid, const char *id)
{
	struct priv_msg m, a;
	priv_msg_init(&m, PRIV_SHELL_END);
	priv_put_u32(&m, uid);
	priv_put_str(&m, id);
	if (call(&m, &a, NULL) != 0) {
		printf("%s: gone\n", step);
		return;
	}
	printf("%s: %s\n", step, priv_type_name(a.type));
	priv_msg_release(&a);
}

/* AUTH_CERT with a Certificate message holding the certificate (TLS 1.3
 * layout) and a CertificateVerify that proves nothing. */
static void step_cert_chain(const char *step, const char *der_path)
{
	FILE *f = fopen(der_path, "rb");
	if (f == NULL)
		die(der_path);
	static uint8_t der[65536];
	size_t n = fread(der, 1, sizeof(der), f);
	fclose(f);
	struct buf cert = BUF_INIT;
	uint8_t hdr[] = { 0, /* request context */
			  (uint8_t)((n + 5) >> 16),
			  (uint8_t)((n + 5) >> 8),
			  (uint8_t)(n + 5),
			  (uint8_t)(n >> 16),
			  (uint8_t)(n >> 8),
			  (uint8_t)n };
	buf_append(&cert, hdr, sizeof(hdr));
	buf_append(&cert, der, n);
	buf_append(&cert, "\0\0", 2); /* no extensions */
	static const uint8_t verify[] = { 0x04, 0x03, 0x00, 0x04, 1, 2, 3, 4 };
	struct priv_hs_msg msgs[] = {
		{ 11 | PRIV_HS_FROM_CLIENT, { cert.data, cert.len } },
		{ 15 | PRIV_HS_FROM_CLIENT, { verify, sizeof(verify) } },
	};
	uint64_t conn = next_conn++;
	struct priv_auth_cert c = { .conn = conn,
				    .remote = "127.0.0.1",
				    .port = (uint32_t)(conn + 30000),
				    .uri = "",
				    .n_msgs = 2,
				    .msgs = msgs };
	struct priv_msg a;
	if (request(step, PRIV_AUTH_CERT, &c, &a) == 0)
		print_auth(step, &a, conn);
	priv_msg_release(&a);
	buf_release(&cert);
}

static void step_sign(const char *step)
{
	static const uint8_t id[32];
	struct priv_sign s = { .conn = next_conn++,
			       .key_id = { id, sizeof(id) },
			       .scheme = 0x0403,
			       .tbs = { (const uint8_t *)"pay alice 100",
					13 } };
	struct priv_msg a;
	if (request(step, PRIV_SIGN, &s, &a) == 0)
		print_refusable(step, &a);
	priv_msg_release(&a);
}

static void step_reload(const char *step)
{
	struct priv_msg a;
	if (request(step, PRIV_RELOAD, NULL, &a) != 0)
		return;
	struct priv_reload_result r;
	if (priv_decode_reload_result(&a, &r, NULL) != 0) {
		printf("%s: %s (undecodable)\n", step, priv_type_name(a.type));
	} else {
		bool key = memmem(a.body.data, a.body.len, "PRIVATE KEY", 11) !=
			   NULL;
		printf("%s: RELOAD_RESULT ok=%u certs=%zu private-key=%s\n",
		       step, r.ok, r.n_certs, key ? "yes" : "no");
	}
	priv_msg_release(&a);
}

static void step_raw(const char *step, unsigned type)
{
	struct priv_msg m, a;
	priv_msg_init(&m, (uint16_t)type);
	if (call(&m, &a, NULL) != 0)
		printf("%s: gone\n", step);
	else
		printf("%s: %s\n", step, priv_type_name(a.type));
	priv_msg_release(&a);
}

/* ---- start-up ---- */

static void start_helper(const char *helper, const char *config)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
		die("socketpair");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int fl = fcntl(sp[1], F_GETFD);
		fcntl(sp[1], F_SETFD, fl & ~FD_CLOEXEC);
		char fd[16];
		snprintf(fd, sizeof(fd), "%d", sp[1]);
		execl(helper, "winrmd-priv", "-s", fd, "-c", config, "-d",
		      (char *)NULL);
		_exit(127);
	}
	close(sp[1]);
	helper_fd = sp[0];
}

static void drop_to(const char *user)
{
	struct passwd *pw = getpwnam(user);
	if (pw == NULL || pw->pw_uid == 0) {
		printf("fatal: no unprivileged account %s\n", user);
		exit(2);
	}
	gid_t gid = pw->pw_gid;
	if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0)
		die("drop privileges");
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	printf("dropped: uid=%u\n", (unsigned)getuid());
}

/* As the f1c8dc8 listener did: a Unix socket listened on while root. */
static void listen_as_root(const char *dir)
{
	snprintf(root_listen_path, sizeof(root_listen_path),
		 "%s/root-listened.sock", dir);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(root_listen_path) >= sizeof(sa.sun_path)) {
		printf("fatal: %s: path too long\n", root_listen_path);
		exit(2);
	}
	memcpy(sa.sun_path, root_listen_path, strlen(root_listen_path) + 1);
	unlink(root_listen_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(root_listen_path, 0666) != 0 || listen(fd, 8) != 0)
		die("root listener");
	root_listen_fd = fd;
}

int main(int argc, char **argv)
{
	const char *config = NULL, *user = NULL, *helper = NULL;
	const char *krb5_host = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "c:u:H:k:")) != -1) {
		switch (opt) {
		case 'k': krb5_host = optarg; break;
		case 'c': config = optarg; break;
		case 'u': user = optarg; break;
		case 'H': helper = optarg; break;
		default: return 2;
		}
	}
	if (config == NULL || user == NULL || helper == NULL) {
		fprintf(stderr,
			"usage: fake-listener -c CONFIG -u USER -H HELPER STEP...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	char *error = NULL;
	struct winrmd_config *cfg = config_load_file(config, &error);
	if (cfg == NULL) {
		printf("fatal: %s\n", error);
		return 2;
	}
	admin_path = cfg->admin_socket;
	char *dir = xstrdup(config);
	char *slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	listen_as_root(dir);
	start_helper(helper, config);
	if (krb5_host != NULL)
		krb5_prepare(krb5_host);
	drop_to(user);
	/* Let the helper open its socket before the first step. */
	struct priv_msg a;
	struct priv_ping ping = { .token = 42 };
	if (request("start", PRIV_PING, &ping, &a) != 0)
		return 1;
	priv_msg_release(&a);

	for (int i = optind; i < argc; i++) {
		const char *s = argv[i];
		const char *arg1 = i + 1 < argc ? argv[i + 1] : "";
		const char *arg2 = i + 2 < argc ? argv[i + 2] : "";
		if (strcmp(s, "ping") == 0) {
			if (request(s, PRIV_PING, &ping, &a) == 0)
				printf("ping: %s\n", priv_type_name(a.type));
			priv_msg_release(&a);
		} else if (strcmp(s, "peer-root-listener") == 0) {
			step_peer_root_listener(s);
		} else if (strcmp(s, "peer-connected") == 0) {
			step_peer(s, false);
		} else if (strcmp(s, "peer-accepted") == 0) {
			step_peer(s, true);
		} else if (strcmp(s, "peer-socketpair") == 0) {
			step_peer_socketpair(s);
		} else if (strcmp(s, "krb5") == 0) {
			step_krb5(s);
		} else if (strcmp(s, "krb5-seal") == 0) {
			step_krb5_seal(s);
		} else if (strcmp(s, "basic") == 0) {
			step_basic(s, arg1, arg2);
			i += 2;
		} else if (strcmp(s, "spawn-last") == 0) {
			if (last_auth_conn == 0)
				printf("%s: no-identity\n", s);
			else
				spawn(s, last_auth_conn, arg1, 0, 0);
			i++;
		} else if (strcmp(s, "spawn-provider") == 0) {
			if (last_auth_conn == 0)
				printf("%s: no-identity\n", s);
			else
				spawn(s, last_auth_conn, arg1, 0,
				      PRIV_SPAWN_PROVIDER);
			i++;
		} else if (strcmp(s, "spawn-shell") == 0) {
			/* sent as is: encoded by hand if priv_encode refuses */
			spawn_shell_id = arg1;
			if (last_auth_conn == 0)
				printf("%s: no-identity\n", s);
			else
				spawn(s, last_auth_conn, arg2, 0, 0);
			spawn_shell_id = "";
			i += 2;
		} else if (strcmp(s, "shell-end") == 0) {
			step_shell_end(s, (uint32_t)strtoul(arg1, NULL, 10),
				       arg2);
			i += 2;
		} else if (strcmp(s, "spawn-unauth") == 0) {
			spawn(s, next_conn++, "id -u", 0, 0);
		} else if (strcmp(s, "spawn-args") == 0) {
			spawn(s, next_conn++, "true", (size_t)atol(arg1), 0);
			i++;
		} else if (strcmp(s, "unwrap-unauth") == 0) {
			step_unwrap(s);
		} else if (strcmp(s, "wrap-unauth") == 0) {
			step_wrap(s);
		} else if (strcmp(s, "config-put-unauth") == 0) {
			step_config_put(s, next_conn++);
		} else if (strcmp(s, "config-put-last") == 0) {
			step_config_put(s, last_auth_conn);
		} else if (strcmp(s, "listener-edit-unauth") == 0) {
			step_listener_edit(s, next_conn++);
		} else if (strcmp(s, "listener-edit-last") == 0) {
			step_listener_edit(s, last_auth_conn);
		} else if (strcmp(s, "certmap-unauth") == 0) {
			step_certmap(s, next_conn++);
		} else if (strcmp(s, "certmap-last") == 0) {
			step_certmap(s, last_auth_conn);
		} else if (strcmp(s, "signal-unauth") == 0) {
			step_signal(s);
		} else if (strcmp(s, "cert-chain") == 0) {
			step_cert_chain(s, arg1);
			i++;
		} else if (strcmp(s, "sign-arbitrary") == 0) {
			step_sign(s);
		} else if (strcmp(s, "reload") == 0) {
			step_reload(s);
		} else if (strcmp(s, "conn-close") == 0) {
			struct priv_conn_close c = { .conn = next_conn++ };
			if (request(s, PRIV_CONN_CLOSE, &c, &a) == 0)
				printf("%s: %s\n", s, priv_type_name(a.type));
			priv_msg_release(&a);
		} else if (strcmp(s, "shutdown") == 0) {
			if (request(s, PRIV_SHUTDOWN, NULL, &a) == 0)
				printf("%s: %s\n", s, priv_type_name(a.type));
			priv_msg_release(&a);
		} else if (strcmp(s, "raw-type") == 0) {
			step_raw(s, (unsigned)atoi(arg1));
			i++;
		} else {
			printf("fatal: unknown step %s\n", s);
			return 2;
		}
	}
	close(helper_fd);
	int status;
	wait(&status);
	printf("helper-exit: %d\n", WIFEXITED(status) ? WEXITSTATUS(status)
						      : 128 + WTERMSIG(status));
	return 0;
}
