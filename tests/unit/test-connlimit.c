/*
 * test-connlimit.c - unit tests of listener/connlimit.c: address keys (IPv4,
 * IPv6 by /64, IPv4-mapped), the per-address limit, clients gone before
 * the accept, the sweeper's two rules (header deadline, vanished client)
 * and its thread, on real TCP connections over 127.0.0.x.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener/connlimit.h"
#include "lib/log.h"
#include "tests/lib/tap.h"
#include "lib/util.h"

static int listen_fd = -1;
static struct sockaddr_in listen_sa;

/* One accepted TCP connection: the client's socket and the server's. */
struct pair {
	int client, server;
	struct sockaddr_in peer; /* the client's address, as accepted */
};

static void start_listening(void)
{
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	listen_sa.sin_family = AF_INET;
	listen_sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(listen_sa);
	if (bind(listen_fd, (struct sockaddr *)&listen_sa, len) != 0 ||
	    listen(listen_fd, 64) != 0 ||
	    getsockname(listen_fd, (struct sockaddr *)&listen_sa, &len) != 0)
		fatal("listen: %s", strerror(errno));
}

/* A connection from 127.0.0.<last> (the server side non-blocking, as
 * libmicrohttpd's). */
static struct pair connect_from(int last)
{
	struct pair p;
	p.client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in src = { .sin_family = AF_INET };
	src.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)last);
	if (bind(p.client, (struct sockaddr *)&src, sizeof(src)) != 0 ||
	    connect(p.client, (struct sockaddr *)&listen_sa,
		    sizeof(listen_sa)) != 0)
		fatal("connect: %s", strerror(errno));
	socklen_t len = sizeof(p.peer);
	p.server = accept4(listen_fd, (struct sockaddr *)&p.peer, &len,
			   SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (p.server < 0)
		fatal("accept: %s", strerror(errno));
	return p;
}

static void close_pair(struct pair *p)
{
	close(p->client);
	close(p->server);
}

/* Was the server side shut down (as libmicrohttpd would then see)? */
static bool is_shut(int server)
{
	struct pollfd pf = { .fd = server, .events = POLLIN };
	return poll(&pf, 1, 0) == 1 && (pf.revents & POLLHUP) != 0;
}

/* Does the client see its connection end (EOF) within a second? */
static bool client_sees_end(int client)
{
	struct pollfd pf = { .fd = client, .events = POLLIN };
	char b[64];
	return poll(&pf, 1, 1000) == 1 &&
	       recv(client, b, sizeof(b), MSG_DONTWAIT) <= 0;
}

/* Reads what waits on the server side, as libmicrohttpd does. */
static void drain(int server)
{
	char b[4096];
	usleep(20000);
	while (recv(server, b, sizeof(b), MSG_DONTWAIT) > 0)
		;
}

static void send_text(int fd, const char *s)
{
	if (send(fd, s, strlen(s), MSG_NOSIGNAL) != (ssize_t)strlen(s))
		fatal("send: %s", strerror(errno));
}

static struct sockaddr_in6 v6(const char *text)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6 };
	inet_pton(AF_INET6, text, &s.sin6_addr);
	return s;
}

static void test_keys(void)
{
	struct connlimit_key a, b;
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	inet_pton(AF_INET, "192.0.2.7", &s4.sin_addr);
	ok(connlimit_key_of((struct sockaddr *)&s4, &a), "IPv4: a key");
	is_int(a.family, AF_INET, "IPv4: family");
	ok(memcmp(a.addr, "\xc0\x00\x02\x07\0\0\0\0", 8) == 0,
	   "IPv4: the address");

	struct sockaddr_in6 m = v6("::ffff:192.0.2.7");
	ok(connlimit_key_of((struct sockaddr *)&m, &b) &&
		   memcmp(&a, &b, sizeof(a)) == 0,
	   "IPv4-mapped IPv6 counts as the IPv4 address");

	struct sockaddr_in6 x = v6("2001:db8:1:2:3:4:5:6"),
			    y = v6("2001:db8:1:2:ffff::1");
	struct sockaddr_in6 z = v6("2001:db8:1:3::6");
	connlimit_key_of((struct sockaddr *)&x, &a);
	connlimit_key_of((struct sockaddr *)&y, &b);
	is_int(a.family, AF_INET6, "IPv6: family");
	ok(memcmp(&a, &b, sizeof(a)) == 0, "IPv6: one /64, one key");
	connlimit_key_of((struct sockaddr *)&z, &b);
	ok(memcmp(&a, &b, sizeof(a)) != 0, "IPv6: another /64, another key");

	struct sockaddr sa = { .sa_family = AF_UNIX };
	ok(!connlimit_key_of(&sa, &a) && a.family == 0, "AF_UNIX: not counted");
	ok(!connlimit_key_of(NULL, &a), "no address: not counted");
}

static void test_per_address(void)
{
	connlimit_configure(3, 60000);
	struct pair p[5];
	struct connlimit_entry e[5];
	for (int i = 0; i < 3; i++) {
		p[i] = connect_from(2);
		is_int(connlimit_open(&e[i], p[i].server,
				      (struct sockaddr *)&p[i].peer, false,
				      "127.0.0.2", (uint64_t)i + 1),
		       CONNLIMIT_OK, "connection %d from 127.0.0.2 admitted",
		       i + 1);
	}
	is_int(connlimit_count_of((struct sockaddr *)&p[0].peer), 3,
	       "3 counted for 127.0.0.2");
	ok(!connlimit_may_accept((struct sockaddr *)&p[0].peer),
	   "the policy refuses a 4th");

	p[3] = connect_from(2);
	is_int(connlimit_open(&e[3], p[3].server, (struct sockaddr *)&p[3].peer,
			      false, "127.0.0.2", 4),
	       CONNLIMIT_OVER,
	       "a 4th from 127.0.0.2 (two accepts at once): over");
	ok(is_shut(p[3].server), "... shut down for libmicrohttpd to close");
	ok(client_sees_end(p[3].client), "... and its client sees the end");
	is_int(connlimit_count_of((struct sockaddr *)&p[0].peer), 3,
	       "... and not counted");
	ok(!is_shut(p[0].server), "the first three are left alone");

	p[4] = connect_from(3);
	ok(connlimit_may_accept((struct sockaddr *)&p[4].peer),
	   "127.0.0.3 may connect");
	is_int(connlimit_open(&e[4], p[4].server, (struct sockaddr *)&p[4].peer,
			      false, "127.0.0.3", 5),
	       CONNLIMIT_OK, "127.0.0.3 admitted while 127.0.0.2 is full");

	connlimit_close(&e[3]);
	close_pair(&p[3]);
	connlimit_close(&e[0]);
	close_pair(&p[0]);
	is_int(connlimit_count_of((struct sockaddr *)&p[1].peer), 2,
	       "a closed one gives its place back");
	p[0] = connect_from(2);
	is_int(connlimit_open(&e[0], p[0].server, (struct sockaddr *)&p[0].peer,
			      false, "127.0.0.2", 6),
	       CONNLIMIT_OK, "then 127.0.0.2 is admitted again");

	connlimit_configure(2, 60000);
	ok(!connlimit_may_accept((struct sockaddr *)&p[0].peer),
	   "a lower limit applies to the next accept");
	connlimit_configure(30, 60000);
	ok(connlimit_may_accept((struct sockaddr *)&p[0].peer),
	   "a higher one too");

	for (int i = 0; i < 5; i++) {
		if (i == 3)
			continue;
		connlimit_close(&e[i]);
		close_pair(&p[i]);
	}
	is_int(connlimit_count(), 0, "every connection forgotten");
	is_int(connlimit_count_of((struct sockaddr *)&p[1].peer), 0,
	       "127.0.0.2: none counted");
	is_int(connlimit_count_of((struct sockaddr *)&p[4].peer), 0,
	       "127.0.0.3: none counted");

	/* the local socket is never counted */
	connlimit_configure(1, 60000);
	struct pair q[2];
	struct connlimit_entry f[2];
	for (int i = 0; i < 2; i++) {
		q[i] = connect_from(4);
		is_int(connlimit_open(&f[i], q[i].server, NULL, false, "local",
				      10),
		       CONNLIMIT_OK,
		       "uncounted connection %d admitted at limit 1", i + 1);
	}
	for (int i = 0; i < 2; i++) {
		connlimit_close(&f[i]);
		close_pair(&q[i]);
	}
	connlimit_configure(30, 60000);
}

/* A connection whose client sent text, maybe shut its side, then accepted. */
static enum connlimit_verdict open_after(const char *text, bool shut_wr,
					 bool tls, struct pair *p,
					 struct connlimit_entry *e)
{
	*p = connect_from(5);
	if (text[0] != '\0')
		send_text(p->client, text);
	if (shut_wr)
		shutdown(p->client, SHUT_WR);
	usleep(20000);
	return connlimit_open(e, p->server, (struct sockaddr *)&p->peer, tls,
			      "127.0.0.5", 20);
}

static void test_gone_at_accept(void)
{
	static const struct {
		const char *text;
		bool shut_wr, tls;
		enum connlimit_verdict want;
		const char *what;
	} cases[] = {
		{ "", false, false, CONNLIMIT_OK,
		  "a client that has sent nothing yet" },
		{ "POST /wsman HTTP/1.1\r\nHost: x\r\n", false, false,
		  CONNLIMIT_OK, "a client half-way through its headers" },
		{ "", true, false, CONNLIMIT_GONE,
		  "a client that closed, nothing sent" },
		{ "POST /wsman HTTP/1.1\r\nHost: x\r\n", true, false,
		  CONNLIMIT_GONE,
		  "a client that closed half-way through its headers" },
		{ "POST /wsman HTTP/1.1\r\nHost: x\r\n\r\n", true, false,
		  CONNLIMIT_OK,
		  "a complete request head, then the client's side shut: served" },
		{ "POST /wsman HTTP/1.1\nHost: x\n\n", true, false,
		  CONNLIMIT_OK, "the same with bare LF line ends" },
		{ "POST /wsman HTTP/1.1\r\nHost: x\r\n\r", true, false,
		  CONNLIMIT_OK, "an empty line begun: libmicrohttpd decides" },
		{ "\x16\x03\x01\x00\x05hello", true, true, CONNLIMIT_GONE,
		  "TLS: a handshake the client can no longer finish" },
		{ "\x16\x03\x01\x00\x05hello", false, true, CONNLIMIT_OK,
		  "TLS: a client in its handshake" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pair p;
		struct connlimit_entry e;
		enum connlimit_verdict v = open_after(cases[i].text,
						      cases[i].shut_wr,
						      cases[i].tls, &p, &e);
		is_int(v, cases[i].want, "at accept: %s", cases[i].what);
		is_int(is_shut(p.server), cases[i].want != CONNLIMIT_OK,
		       "... %s",
		       cases[i].want != CONNLIMIT_OK ? "shut down"
						     : "left open");
		connlimit_close(&e);
		close_pair(&p);
	}

	/* a reset client */
	struct pair p = connect_from(5);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(p.client, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(p.client);
	usleep(20000);
	struct connlimit_entry e;
	is_int(connlimit_open(&e, p.server, (struct sockaddr *)&p.peer, false,
			      "127.0.0.5", 21),
	       CONNLIMIT_GONE, "at accept: a client that reset the connection");
	connlimit_close(&e);
	close(p.server);
}

static void test_sweep_gone(void)
{
	connlimit_configure(30, 60000);
	int64_t now = time_mono_ms();
	struct pair p = connect_from(6);
	struct connlimit_entry e;
	connlimit_open(&e, p.server, (struct sockaddr *)&p.peer, false,
		       "127.0.0.6", 30);
	send_text(p.client, "POST /wsman HTTP/1.1\r\nHost: x\r\n");
	drain(p.server);
	is_int(connlimit_sweep(now), 0,
	       "sweep: a client trickling headers stays");
	close(p.client);
	usleep(20000);
	/* The client's last bytes and its FIN arrived together and were read
	 * in one go: libmicrohttpd would never see the end of file. */
	ok(!is_shut(p.server), "the client closed: not yet shut down");
	is_int(connlimit_sweep(now), 0, "first sweep: only suspected");
	is_int(connlimit_sweep(now), 1, "second sweep: shut down");
	ok(is_shut(p.server), "... the server side sees the hang-up");
	is_int(connlimit_sweep(now), 0, "never twice");
	connlimit_close(&e);
	close(p.server);

	/* busy: a request in progress is its request's business */
	p = connect_from(6);
	connlimit_open(&e, p.server, (struct sockaddr *)&p.peer, false,
		       "127.0.0.6", 31);
	connlimit_request_begin(&e);
	close(p.client);
	usleep(20000);
	connlimit_sweep(now);
	is_int(connlimit_sweep(now), 0, "a request in progress: left alone");
	connlimit_request_end(&e, true);
	connlimit_sweep(now);
	is_int(connlimit_sweep(now), 1, "once it has ended: shut down");
	connlimit_close(&e);
	close(p.server);

	/* a request begun between two sweeps clears the suspicion */
	p = connect_from(6);
	connlimit_open(&e, p.server, (struct sockaddr *)&p.peer, false,
		       "127.0.0.6", 32);
	send_text(p.client, "POST /wsman HTTP/1.1\r\nHost: x\r\n\r\n");
	shutdown(p.client, SHUT_WR);
	drain(p.server);
	is_int(connlimit_sweep(now), 0,
	       "complete request read, client's side shut: suspected");
	connlimit_request_begin(&e);
	connlimit_request_end(&e, false);
	is_int(connlimit_sweep(now), 0,
	       "a request ran in between: suspected anew");
	is_int(connlimit_sweep(now), 1, "then shut down");
	connlimit_close(&e);
	close_pair(&p);

	/* a client that reset: at once */
	p = connect_from(6);
	connlimit_open(&e, p.server, (struct sockaddr *)&p.peer, false,
		       "127.0.0.6", 33);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(p.client, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(p.client);
	usleep(20000);
	is_int(connlimit_sweep(now), 1,
	       "a reset connection: shut down at the first sweep");
	connlimit_close(&e);
	close(p.server);

	/* data still unread after the FIN: libmicrohttpd will read it */
	p = connect_from(6);
	connlimit_open(&e, p.server, (struct sockaddr *)&p.peer, false,
		       "127.0.0.6", 34);
	send_text(p.client, "POST /wsman HTTP/1.1\r\n");
	close(p.client);
	usleep(20000);
	connlimit_sweep(now);
	is_int(connlimit_sweep(now), 0,
	       "bytes still unread: left to libmicrohttpd");
	drain(p.server);
	connlimit_sweep(now);
	is_int(connlimit_sweep(now), 1, "once read: shut down");
	connlimit_close(&e);
	close(p.server);
}

static void test_sweep_deadline(void)
{
	connlimit_configure(30, 1000);
	int64_t t0 = time_mono_ms();
	struct pair p = connect_from(7);
	struct connlimit_entry e;
	connlimit_open(&e, p.server, (struct sockaddr *)&p.peer, false,
		       "127.0.0.7", 40);
	send_text(p.client, "POST /wsman HTTP/1.1\r\n");
	drain(p.server);
	is_int(connlimit_sweep(t0 + 500), 0,
	       "headers due in 1 s: open after 0.5 s");
	send_text(p.client, "X-A: b\r\n");
	drain(p.server);
	is_int(connlimit_sweep(t0 + 5000), 1,
	       "still no complete headers after 5 s: shut down");
	ok(client_sees_end(p.client), "... the client sees the end");
	connlimit_close(&e);
	close_pair(&p);

	p = connect_from(7);
	connlimit_open(&e, p.server, (struct sockaddr *)&p.peer, false,
		       "127.0.0.7", 41);
	connlimit_request_begin(&e);
	is_int(connlimit_sweep(t0 + 5000), 0,
	       "headers complete: no deadline while handled");
	connlimit_request_end(&e, true);
	is_int(connlimit_sweep(t0 + 600000), 0,
	       "authenticated: no deadline between requests");
	connlimit_request_begin(&e);
	connlimit_request_end(&e, false);
	int64_t t1 = time_mono_ms();
	is_int(connlimit_sweep(t1 + 500), 0,
	       "unauthenticated: a new deadline after the request");
	is_int(connlimit_sweep(t1 + 1500), 1, "... which passes");
	connlimit_close(&e);
	close_pair(&p);
	connlimit_configure(30, 20000);
}

static void test_thread(void)
{
	connlimit_configure(30, 200);
	struct pair p = connect_from(8);
	struct connlimit_entry e;
	connlimit_open(&e, p.server, (struct sockaddr *)&p.peer, false,
		       "127.0.0.8", 50);
	ok(connlimit_start() == 0, "the sweeper starts");
	ok(connlimit_start() == 0, "... once");
	bool shut = false;
	for (int i = 0; i < 100 && !shut; i++) {
		usleep(50000);
		shut = is_shut(p.server);
	}
	ok(shut, "the sweeper shuts down a connection past its deadline");
	connlimit_stop();
	connlimit_stop();
	connlimit_close(&e);
	close_pair(&p);
	is_int(connlimit_count(), 0, "nothing left registered");
}

int main(void)
{
	start_listening();
	test_keys();
	test_per_address();
	test_gone_at_accept();
	test_sweep_gone();
	test_sweep_deadline();
	test_thread();
	close(listen_fd);
	return tap_done();
}
