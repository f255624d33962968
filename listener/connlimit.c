/*
 * connlimit.c - connections per client address, the request-header
 * deadline of unauthenticated connections, and dropping connections whose
 * client has gone.  See connlimit.h.
 *
 * Why this exists beside libmicrohttpd (0.9.75, epoll + thread pool):
 *
 *   - It registers connection sockets edge-triggered and, when a recv()
 *     returns less than it asked for, takes the socket as drained.  A
 *     client whose last bytes and FIN are both waiting when it reads (a
 *     connection accepted from the listen queue after its client gave up,
 *     or one whose client sent a last line and closed between two reads)
 *     gets no further edge: libmicrohttpd never reads the end of file and
 *     keeps the connection, half-read, until its 120 s idle timer.  At
 *     MaxConnections such connections stop the listener from accepting:
 *     each wave of them costs 120 s.  Here a socket whose client shut its
 *     side down and that has nothing left to read is shut down (the
 *     sweeper, and connlimit_open for the ones dead on arrival).
 *   - Its connection timeout is an idle timer that every byte restarts, so
 *     a client that trickles header lines holds a connection for ever.
 *     Here a deadline runs from the accept to complete headers.
 *   - Its per-IP limit counts each IPv6 address alone, per listener, and
 *     logs every refusal; here IPv6 counts by /64, across all listeners,
 *     with a summary in the log at most every RATELOG_MS.
 *
 * The lever is shutdown(SHUT_RDWR): libmicrohttpd sees the hang-up on its
 * epoll and closes the connection itself, in its own thread, whatever
 * state the connection is in (a libmicrohttpd call from here would not be
 * thread-safe).  An fd is touched only under the lock, and the listener's
 * connlimit_close (libmicrohttpd's MHD_CONNECTION_NOTIFY_CLOSED, which it
 * calls before it closes the socket: daemon.c, MHD_cleanup_connections and
 * new_connection_process_) takes the same lock: so a descriptor number
 * shut down here is always still that connection's socket.
 *
 * Must not: close a socket, read from one (MSG_PEEK only), call
 * libmicrohttpd, or act on a connection whose request is being handled
 * (its request owns it; a vanished client of a waiting Receive is
 * request.c's business).
 */
#include "autoconfig.h"

#include "listener/connlimit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>

#include "lib/log.h"
#include "lib/util.h"

/* Refusals and deadline closures are logged at most this often. */
#define RATELOG_MS 10000
#define ADDR_BUCKETS 1024
/* A peek this long that finds no empty line leaves the verdict to
 * libmicrohttpd (its header limit is larger). */
#define PEEK_BYTES 8192

/* Connections counted for one key. */
struct addr_count {
	struct addr_count *next;
	struct connlimit_key key;
	unsigned count;
};

/* Events summarised in the log. */
struct ratelog {
	unsigned pending; /* events not logged yet */
	bool ever;        /* logged once */
	int64_t last_ms;  /* when last logged */
	char addr[64];    /* the last event's client */
	int64_t setting;  /* the setting's value then */
};

/* What one report says (copied out of the lock). */
struct report {
	unsigned n;
	char addr[64];
	int64_t setting;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned max_per_address = 30;
static int64_t header_wait_ms = 20000;
static struct connlimit_entry *head;
static unsigned n_entries;
static struct addr_count *buckets[ADDR_BUCKETS];
static uint32_t hash_seed;
static bool seeded;
static struct ratelog refused_log, deadline_log;
/* The sweeper's poll set, grown as needed (under the lock). */
static struct pollfd *pfds;
static struct connlimit_entry **pents;
static size_t pcap;

/* ---- keys and the per-address counts ---- */

bool connlimit_key_of(const struct sockaddr *sa, struct connlimit_key *k)
{
	memset(k, 0, sizeof(*k));
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		k->family = AF_INET;
		memcpy(k->addr, &s4->sin_addr, 4);
		return true;
	}
	if (sa->sa_family != AF_INET6)
		return false;
	const struct sockaddr_in6 *s6 = (const void *)sa;
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		/* an IPv4 client of a dual-stack listener */
		k->family = AF_INET;
		memcpy(k->addr, &s6->sin6_addr.s6_addr[12], 4);
		return true;
	}
	/* One host commonly owns a whole /64: counting single IPv6
	 * addresses would make the limit free to evade. */
	k->family = AF_INET6;
	memcpy(k->addr, s6->sin6_addr.s6_addr, 8);
	return true;
}

/* FNV-1a, seeded so that clients cannot aim at one bucket. */
static uint32_t key_hash(const struct connlimit_key *k)
{
	uint32_t h = 2166136261u ^ hash_seed;
	h = (h ^ k->family) * 16777619u;
	for (size_t i = 0; i < sizeof(k->addr); i++)
		h = (h ^ k->addr[i]) * 16777619u;
	return h;
}

static bool key_eq(const struct connlimit_key *a, const struct connlimit_key *b)
{
	return a->family == b->family &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* The link that points at k's count, or at the NULL ending its chain. */
static struct addr_count **count_slot(const struct connlimit_key *k)
{
	if (!seeded) {
		if (getrandom(&hash_seed, sizeof(hash_seed), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(hash_seed))
			hash_seed = (uint32_t)time_mono_ms();
		seeded = true;
	}
	struct addr_count **p = &buckets[key_hash(k) % ADDR_BUCKETS];
	while (*p != NULL && !key_eq(&(*p)->key, k))
		p = &(*p)->next;
	return p;
}

static unsigned count_of_key(const struct connlimit_key *k)
{
	struct addr_count *c = *count_slot(k);
	return c != NULL ? c->count : 0;
}

/* Takes one place of k's address; false when it has none left. */
static bool take_place(const struct connlimit_key *k)
{
	struct addr_count **p = count_slot(k);
	if (*p != NULL && (*p)->count >= max_per_address)
		return false;
	if (*p == NULL) {
		*p = xcalloc(1, sizeof(**p));
		(*p)->key = *k;
	}
	(*p)->count++;
	return true;
}

/* "192.0.2.1" or "2001:db8:1:2::/64", for the log. */
static void key_text(const struct connlimit_key *k, char *out, size_t size)
{
	if (k->family == AF_INET) {
		inet_ntop(AF_INET, k->addr, out, (socklen_t)size);
		return;
	}
	uint8_t a[16] = { 0 };
	memcpy(a, k->addr, sizeof(k->addr));
	char t[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, a, t, sizeof(t));
	snprintf(out, size, "%s/64", t);
}

static void give_back_place(const struct connlimit_key *k)
{
	struct addr_count **p = count_slot(k);
	struct addr_count *c = *p;
	if (c == NULL)
		return;
	if (--c->count == 0) {
		*p = c->next;
		free(c);
	}
}

/* ---- the log summaries ---- */

/* Counts one event (under the lock); fills r when it is time to log. */
static void ratelog_note(struct ratelog *rl, const char *addr, int64_t setting,
			 int64_t now, struct report *r)
{
	rl->pending++;
	snprintf(rl->addr, sizeof(rl->addr), "%s", addr != NULL ? addr : "?");
	rl->setting = setting;
	if (rl->ever && now - rl->last_ms < RATELOG_MS)
		return;
	r->n = rl->pending;
	memcpy(r->addr, rl->addr, sizeof(r->addr));
	r->setting = rl->setting;
	rl->pending = 0;
	rl->ever = true;
	rl->last_ms = now;
}

/* The events still pending once RATELOG_MS has passed (the sweeper). */
static void ratelog_flush(struct ratelog *rl, int64_t now, struct report *r)
{
	if (rl->pending == 0 || now - rl->last_ms < RATELOG_MS)
		return;
	r->n = rl->pending;
	memcpy(r->addr, rl->addr, sizeof(r->addr));
	r->setting = rl->setting;
	rl->pending = 0;
	rl->last_ms = now;
}

static void report_refused(const struct report *r)
{
	if (r->n > 0)
		log_warn(
			"refused %u connection%s over Service.MaxConnectionsPerAddress"
			" (%lld connections from one address; the last from %s)",
			r->n, r->n == 1 ? "" : "s", (long long)r->setting,
			r->addr);
}

static void report_deadline(const struct report *r)
{
	if (r->n > 0)
		log_info(
			"closed %u connection%s that did not send complete request"
			" headers within Service.HeaderWaitTimeout (%.1f s; the "
			"last from %s)",
			r->n, r->n == 1 ? "" : "s", (double)r->setting / 1000.0,
			r->addr);
}

/* ---- is the client still there? ---- */

enum peer_state {
	PEER_HERE,
	PEER_GONE,       /* reset, or shut its side with nothing unread */
	PEER_LEFT_BYTES, /* shut its side, but bytes wait to be read */
};

static enum peer_state peer_state_of(int fd, short revents)
{
	if (revents & (POLLHUP | POLLERR))
		return PEER_GONE;
	if (!(revents & POLLRDHUP))
		return PEER_HERE;
	int unread = 0;
	if (ioctl(fd, SIOCINQ, &unread) != 0)
		return PEER_LEFT_BYTES; /* cannot tell: leave it be */
	return unread == 0 ? PEER_GONE : PEER_LEFT_BYTES;
}

/*
 * Could the bytes waiting on fd (plain HTTP) still end a request head,
 * that is hold an empty line?  Lines may end in CR LF, LF or CR, as
 * libmicrohttpd takes them.  When in doubt (an error, more bytes than one
 * peek) the answer is yes and libmicrohttpd decides.
 */
static bool head_may_complete(int fd)
{
	char b[PEEK_BYTES];
	ssize_t n = recv(fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 || (size_t)n == sizeof(b))
		return true;
	for (ssize_t i = 0; i < n; i++) {
		if (b[i] != '\r' && b[i] != '\n')
			continue;
		ssize_t j = i + 1;
		if (b[i] == '\r' && j < n && b[j] == '\n')
			j++;
		if (j < n && (b[j] == '\r' || b[j] == '\n'))
			return true;
		i = j - 1;
	}
	return false;
}

/* Gone before it was accepted: the client gave up while it waited in the
 * listen queue (or reset).  Such a connection can never complete a
 * request: nothing left to read, a TLS handshake that needs more from the
 * client, or a request head without its end. */
static bool gone_at_accept(int fd, bool tls)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };
	if (poll(&p, 1, 0) != 1)
		return false;
	switch (peer_state_of(fd, p.revents)) {
	case PEER_GONE: return true;
	case PEER_LEFT_BYTES: return tls || !head_may_complete(fd);
	case PEER_HERE: break;
	}
	return false;
}

/* Under the lock: makes libmicrohttpd close e's connection. */
static void shut_down(struct connlimit_entry *e)
{
	if (e->shut)
		return;
	shutdown(e->fd, SHUT_RDWR);
	e->shut = true;
}

/* ---- the listener's calls ---- */

void connlimit_configure(int64_t max, int64_t wait_ms)
{
	pthread_mutex_lock(&lock);
	max_per_address = max < 1 ? 1 : max > 1000000 ? 1000000 : (unsigned)max;
	header_wait_ms = wait_ms < 1 ? 1 : wait_ms;
	pthread_mutex_unlock(&lock);
}

bool connlimit_may_accept(const struct sockaddr *sa)
{
	struct connlimit_key k;
	if (!connlimit_key_of(sa, &k))
		return true;
	struct report r = { 0 };
	char text[64] = "";
	pthread_mutex_lock(&lock);
	unsigned max = max_per_address;
	bool ok = count_of_key(&k) < max;
	if (!ok) {
		key_text(&k, text, sizeof(text));
		ratelog_note(&refused_log, text, max, time_mono_ms(), &r);
	}
	pthread_mutex_unlock(&lock);
	if (!ok)
		log_debug("connection from %s refused: %u connections from it "
			  "already",
			  text, max);
	report_refused(&r);
	return ok;
}

enum connlimit_verdict connlimit_open(struct connlimit_entry *e, int fd,
				      const struct sockaddr *sa, bool tls,
				      const char *addr, uint64_t id)
{
	memset(e, 0, sizeof(*e));
	e->fd = fd;
	e->id = id;
	e->addr = addr;
	bool counted_key = connlimit_key_of(sa, &e->key);
	/* Checked before the lock: libmicrohttpd has not read this socket
	 * yet, and nobody else may shut it down. */
	bool gone = fd >= 0 && gone_at_accept(fd, tls);
	enum connlimit_verdict v = CONNLIMIT_OK;
	struct report r = { 0 };
	unsigned max;

	pthread_mutex_lock(&lock);
	max = max_per_address;
	e->deadline_ms = time_mono_ms() + header_wait_ms;
	e->next = head;
	if (head != NULL)
		head->prev = e;
	head = e;
	n_entries++;
	if (gone) {
		v = CONNLIMIT_GONE;
	} else if (counted_key) {
		e->counted = take_place(&e->key);
		if (!e->counted) {
			v = CONNLIMIT_OVER;
			ratelog_note(&refused_log, addr, max, time_mono_ms(),
				     &r);
		}
	}
	if (v != CONNLIMIT_OK && fd >= 0)
		shut_down(e);
	pthread_mutex_unlock(&lock);

	if (v == CONNLIMIT_GONE)
		log_debug(
			"connection %llu from %s: the client had already gone; "
			"closed",
			(unsigned long long)id, addr);
	else if (v == CONNLIMIT_OVER)
		log_debug(
			"connection %llu from %s refused: %u connections from "
			"it already",
			(unsigned long long)id, addr, max);
	report_refused(&r);
	return v;
}

void connlimit_request_begin(struct connlimit_entry *e)
{
	pthread_mutex_lock(&lock);
	e->busy = true;
	e->deadline_ms = 0;
	e->requests++;
	e->suspect = false;
	pthread_mutex_unlock(&lock);
}

void connlimit_request_end(struct connlimit_entry *e, bool authenticated)
{
	pthread_mutex_lock(&lock);
	e->busy = false;
	e->deadline_ms = authenticated ? 0 : time_mono_ms() + header_wait_ms;
	pthread_mutex_unlock(&lock);
}

void connlimit_close(struct connlimit_entry *e)
{
	pthread_mutex_lock(&lock);
	if (e->prev != NULL)
		e->prev->next = e->next;
	else if (head == e)
		head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	e->prev = e->next = NULL;
	n_entries--;
	if (e->counted)
		give_back_place(&e->key);
	e->counted = false;
	e->fd = -1;
	pthread_mutex_unlock(&lock);
}

unsigned connlimit_count(void)
{
	pthread_mutex_lock(&lock);
	unsigned n = n_entries;
	pthread_mutex_unlock(&lock);
	return n;
}

unsigned connlimit_count_of(const struct sockaddr *sa)
{
	struct connlimit_key k;
	if (!connlimit_key_of(sa, &k))
		return 0;
	pthread_mutex_lock(&lock);
	unsigned n = count_of_key(&k);
	pthread_mutex_unlock(&lock);
	return n;
}

/* ---- the sweeper ---- */

/* Under the lock: the idle connections to poll go into pfds/pents; the
 * ones past their header deadline are shut down.  Returns how many. */
static unsigned collect_idle(int64_t now, size_t *n_poll, struct report *r)
{
	unsigned dropped = 0;
	if (pcap < n_entries) {
		pcap = n_entries + n_entries / 2 + 16;
		pfds = xrealloc(pfds, pcap * sizeof(*pfds));
		pents = xrealloc(pents, pcap * sizeof(*pents));
	}
	size_t n = 0;
	for (struct connlimit_entry *e = head; e != NULL; e = e->next) {
		if (e->shut || e->busy || e->fd < 0) {
			e->suspect = false;
			continue;
		}
		if (e->deadline_ms != 0 && now >= e->deadline_ms) {
			log_debug(
				"connection %llu from %s: no complete request "
				"headers in time; closed",
				(unsigned long long)e->id, e->addr);
			shut_down(e);
			ratelog_note(&deadline_log, e->addr, header_wait_ms,
				     now, r);
			dropped++;
			continue;
		}
		pfds[n] = (struct pollfd){ .fd = e->fd, .events = POLLRDHUP };
		pents[n++] = e;
	}
	*n_poll = n;
	return dropped;
}

/* Under the lock: shuts down the polled connections whose client has
 * gone.  A half-closed client with nothing unread must be seen so in two
 * sweeps with no request begun in between: libmicrohttpd may have just
 * read the last bytes of a complete request (a client that sends it and
 * shuts its side down) and be about to hand it over. */
static unsigned drop_gone(size_t n)
{
	unsigned dropped = 0;
	for (size_t i = 0; i < n; i++) {
		struct connlimit_entry *e = pents[i];
		short ev = pfds[i].revents;
		if (peer_state_of(e->fd, ev) != PEER_GONE) {
			e->suspect = false;
			continue;
		}
		bool reset = (ev & (POLLHUP | POLLERR)) != 0;
		if (!reset &&
		    !(e->suspect && e->suspect_requests == e->requests)) {
			e->suspect = true;
			e->suspect_requests = e->requests;
			continue;
		}
		log_debug(
			"connection %llu from %s: the client has gone; closed",
			(unsigned long long)e->id, e->addr);
		shut_down(e);
		dropped++;
	}
	return dropped;
}

unsigned connlimit_sweep(int64_t now)
{
	struct report dead = { 0 }, refused = { 0 };
	size_t n = 0;
	pthread_mutex_lock(&lock);
	unsigned dropped = collect_idle(now, &n, &dead);
	/* poll() with no wait, under the lock: every fd is still its
	 * connection's (see the top of this file). */
	if (n > 0 && poll(pfds, n, 0) >= 0)
		dropped += drop_gone(n);
	ratelog_flush(&deadline_log, now, &dead);
	ratelog_flush(&refused_log, now, &refused);
	pthread_mutex_unlock(&lock);
	report_deadline(&dead);
	report_refused(&refused);
	return dropped;
}

static pthread_t sweeper;
static bool sweeper_running, sweeper_stop;
static pthread_cond_t sweeper_cond;

static void *sweeper_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!sweeper_stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += CONNLIMIT_SWEEP_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&sweeper_cond, &lock, &ts);
		if (sweeper_stop)
			break;
		pthread_mutex_unlock(&lock);
		connlimit_sweep(time_mono_ms());
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int connlimit_start(void)
{
	if (sweeper_running)
		return 0;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sweeper_cond, &ca);
	pthread_condattr_destroy(&ca);
	sweeper_stop = false;
	int err = pthread_create(&sweeper, NULL, sweeper_main, NULL);
	if (err != 0) {
		log_err("cannot start the connection sweeper: %s",
			strerror(err));
		pthread_cond_destroy(&sweeper_cond);
		return -1;
	}
	sweeper_running = true;
	return 0;
}

void connlimit_stop(void)
{
	if (!sweeper_running)
		return;
	pthread_mutex_lock(&lock);
	sweeper_stop = true;
	pthread_cond_signal(&sweeper_cond);
	pthread_mutex_unlock(&lock);
	pthread_join(sweeper, NULL);
	pthread_cond_destroy(&sweeper_cond);
	sweeper_running = false;
}
