/* test-priv-proto.c - encoding, bounds checks, framing and fd passing of
 * the listener <-> helper protocol. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/priv/proto.h"
#include "tests/lib/tap.h"

static void test_roundtrip_memory(void)
{
	struct priv_msg m;
	priv_msg_init(&m, PRIV_PING);
	m.seq = 77;
	priv_put_u32(&m, 0xdeadbeef);
	priv_put_u64(&m, 0x0123456789abcdefULL);
	priv_put_str(&m, "alice");
	priv_put_bytes(&m, "\0\1\2", 3);
	priv_put_str(&m, NULL);

	struct buf wire = BUF_INIT;
	priv_frame_encode(&m, &wire);
	struct priv_msg d;
	long used = priv_frame_parse(wire.data, wire.len, &d);
	is_int(used, (long)wire.len, "frame parses whole");
	is_int(d.seq, 77, "seq survives");
	is_int(d.type, PRIV_PING, "type survives");
	is_int(priv_get_u32(&d), 0xdeadbeef, "u32");
	ok(priv_get_u64(&d) == 0x0123456789abcdefULL, "u64");
	char *s = priv_get_str(&d);
	is_str(s, "alice", "string");
	free(s);
	size_t n;
	const uint8_t *p = priv_get_bytes(&d, &n);
	ok(n == 3 && memcmp(p, "\0\1\2", 3) == 0, "bytes with NULs");
	s = priv_get_str(&d);
	is_str(s, "", "NULL string encodes as empty");
	free(s);
	ok(priv_msg_ok(&d), "fully consumed and ok");
	priv_get_u32(&d);
	ok(!priv_msg_ok(&d), "reading past the end latches bad");
	is_int(priv_get_u32(&d), 0, "getters return 0 once bad");

	/* partial frames need more bytes */
	struct priv_msg e;
	is_int(priv_frame_parse(wire.data, 5, &e), 0,
	       "short header needs more");
	priv_msg_release(&e);
	is_int(priv_frame_parse(wire.data, wire.len - 1, &e), 0,
	       "short body needs more");
	priv_msg_release(&e);
	priv_msg_release(&d);
	priv_msg_release(&m);
	buf_release(&wire);
}

static void test_hostile(void)
{
	struct priv_msg m;
	/* a string whose length runs past the body */
	priv_msg_init(&m, PRIV_PING);
	priv_put_u32(&m, 1000);
	buf_append(&m.body, "abc", 3);
	size_t n;
	priv_get_bytes(&m, &n);
	ok(!priv_msg_ok(&m) && n == 0, "overlong length is refused");
	priv_msg_release(&m);

	/* embedded NUL in a string */
	priv_msg_init(&m, PRIV_PING);
	priv_put_bytes(&m, "a\0b", 3);
	char *s = priv_get_str(&m);
	ok(!priv_msg_ok(&m), "embedded NUL marks the message bad");
	is_str(s, "", "and yields an empty string");
	free(s);
	priv_msg_release(&m);

	/* frame length over the limit */
	uint8_t hdr[12] = { 0xff, 0xff, 0xff, 0x7f, 1, 0, 0, 0, 1, 0, 0, 0 };
	struct priv_msg d;
	is_int(priv_frame_parse(hdr, sizeof(hdr), &d), -1,
	       "huge frame refused");
	priv_msg_release(&d);
	/* length smaller than the header */
	uint8_t tiny[12] = { 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0 };
	is_int(priv_frame_parse(tiny, sizeof(tiny), &d), -1,
	       "impossible length refused");
	priv_msg_release(&d);
	/* too many fds announced */
	uint8_t fds[12] = { 8, 0, 0, 0, 1, 0, 0, 0, 1, 0, 9, 0 };
	is_int(priv_frame_parse(fds, sizeof(fds), &d), -1,
	       "fd count over limit refused");
	priv_msg_release(&d);
}

static void test_socket(void)
{
	int sp[2];
	ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0, "socketpair");

	/* a large body crosses the socket buffer in pieces */
	struct priv_msg m;
	priv_msg_init(&m, PRIV_RELOAD_RESULT);
	m.seq = 9;
	size_t big = 3 * 1024 * 1024;
	char *blob = malloc(big);
	for (size_t i = 0; i < big; i++)
		blob[i] = (char)('A' + i % 23);
	priv_put_bytes(&m, blob, big);
	int fd = open("/dev/null", O_RDONLY);
	ok(fd >= 0, "open /dev/null");
	ok(priv_put_fd(&m, fd) == 0, "attach fd");

	pid_t pid = fork();
	if (pid == 0) {
		close(sp[0]);
		_exit(priv_send(sp[1], &m) == 0 ? 0 : 1);
	}
	priv_msg_release(&m); /* parent's copy: closes the fd here */
	close(sp[1]);
	struct priv_msg r;
	is_int(priv_recv(sp[0], &r), 0, "large frame received");
	is_int(r.seq, 9, "seq");
	size_t n;
	const uint8_t *p = priv_get_bytes(&r, &n);
	ok(n == big && memcmp(p, blob, big) == 0, "3 MiB body intact");
	is_int(r.n_fds, 1, "one fd received");
	int got = priv_take_fd(&r);
	struct stat st;
	ok(got >= 0 && fstat(got, &st) == 0 && S_ISCHR(st.st_mode),
	   "received fd is the character device");
	if (got >= 0)
		close(got);
	is_int(priv_take_fd(&r), -1, "no second fd");
	priv_msg_release(&r);
	is_int(priv_recv(sp[0], &r), 1, "clean EOF after the sender exits");
	priv_msg_release(&r);
	close(sp[0]);
	free(blob);

	/* truncated frame: EOF in the middle is an error, not EOF */
	ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0, "socketpair 2");
	uint8_t half[8] = { 20, 0, 0, 0, 1, 0, 0, 0 };
	ok(write(sp[1], half, sizeof(half)) == (ssize_t)sizeof(half),
	   "write half");
	close(sp[1]);
	errno = 0;
	is_int(priv_recv(sp[0], &r), -1, "truncated frame is an error");
	is_int(errno, EPROTO, "errno EPROTO");
	priv_msg_release(&r);
	close(sp[0]);
}

int main(void)
{
	test_roundtrip_memory();
	test_hostile();
	test_socket();
	return tap_done();
}
