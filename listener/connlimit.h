/*
 * connlimit.h - the limits on the listener's TCP connections that
 * libmicrohttpd does not enforce itself:
 *
 *   - Service.MaxConnectionsPerAddress: connections at once from one client
 *     (an IPv4 address, or an IPv6 /64 prefix);
 *   - Service.HeaderWaitTimeout: a connection that is not authenticated
 *     must deliver complete request headers within that time, from its
 *     accept and again from the end of each of its requests;
 *   - a connection whose client has gone (it shut down its side and left
 *     nothing unread, or reset the connection) is closed at once, whatever
 *     the state libmicrohttpd has it in.
 *
 * A connection is closed by shutdown(2) of its socket: libmicrohttpd then
 * sees a hang-up and closes it itself.  The socket stays libmicrohttpd's.
 *
 * The listener calls connlimit_open when libmicrohttpd accepts a
 * connection, connlimit_request_begin/_end around each of its requests and
 * connlimit_close when libmicrohttpd says it is closed (before it closes
 * the socket).  A sweeper thread (connlimit_start) enforces the deadline
 * and finds vanished clients every CONNLIMIT_SWEEP_MS.
 */
#ifndef WINRMD_CONNLIMIT_H
#define WINRMD_CONNLIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define CONNLIMIT_SWEEP_MS 100

/* Whose connections are counted together. */
struct connlimit_key {
	uint8_t family;  /* AF_INET or AF_INET6; 0: not counted */
	uint8_t addr[8]; /* IPv4: 4 bytes; IPv6: the /64 prefix */
};

/*
 * Per-connection state, embedded in struct conn.  Every field is
 * connlimit's, guarded by its lock, from connlimit_open to connlimit_close.
 */
struct connlimit_entry {
	struct connlimit_entry *prev, *next; /* the list the sweeper walks */
	int fd;           /* libmicrohttpd's socket: shutdown() only */
	uint64_t id;      /* the connection's id, for logs */
	const char *addr; /* text address, for logs (owner: struct conn) */
	struct connlimit_key key;
	bool counted;        /* holds one of its address's places */
	bool shut;           /* shut down already */
	bool busy;           /* a request is in progress (headers complete) */
	int64_t deadline_ms; /* headers due by then (monotonic); 0: none */
	unsigned requests;   /* requests begun so far */
	bool suspect;        /* found gone by the last sweep */
	unsigned suspect_requests; /* requests then */
};

enum connlimit_verdict {
	CONNLIMIT_OK,
	CONNLIMIT_OVER, /* over MaxConnectionsPerAddress: shut down */
	CONNLIMIT_GONE, /* the client had gone before the accept: shut down */
};

/* The key of a client address; false (family 0) for other families. */
bool connlimit_key_of(const struct sockaddr *sa, struct connlimit_key *k);

/* Settings (from the configuration, at start and on reload). */
void connlimit_configure(int64_t max_per_address, int64_t header_wait_ms);

/* For libmicrohttpd's accept policy: false when sa's address already has
 * its maximum of connections (the refusal is counted for the log). */
bool connlimit_may_accept(const struct sockaddr *sa);

/*
 * Registers a connection just accepted on fd (sa NULL: not counted, the
 * local socket; tls: an HTTPS connection).  A connection over its
 * address's maximum, or whose client has already gone, is shut down at
 * once; it stays registered until connlimit_close all the same.
 */
enum connlimit_verdict connlimit_open(struct connlimit_entry *e, int fd,
				      const struct sockaddr *sa, bool tls,
				      const char *addr, uint64_t id);
/* Complete headers arrived: no deadline while the request is handled. */
void connlimit_request_begin(struct connlimit_entry *e);
/* The request ended; the deadline starts again unless authenticated. */
void connlimit_request_end(struct connlimit_entry *e, bool authenticated);
/* libmicrohttpd closes the connection: forget it (before its fd closes). */
void connlimit_close(struct connlimit_entry *e);

/* One pass of the sweeper at monotonic time now_ms: returns the number of
 * connections shut down. */
unsigned connlimit_sweep(int64_t now_ms);

/* Connections registered, and the ones counted for sa's address. */
unsigned connlimit_count(void);
unsigned connlimit_count_of(const struct sockaddr *sa);

/* The sweeper thread: 0 or -1 (logged). */
int connlimit_start(void);
void connlimit_stop(void);

#endif
