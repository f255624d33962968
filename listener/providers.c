/*
 * providers.c - the WMI provider hosts (providers.h): per account one
 * winrmd-wmi started by the helper, its queue of calls, its pipes, and
 * the I/O thread that moves frames and ends idle, hung or broken hosts.
 *
 * One mutex guards everything here.  The I/O thread owns the epoll set
 * and is the only one that frees hosts: others unlink a host, close its
 * descriptors and leave it on a graveyard list, so that an epoll event
 * already returned never points at freed memory (shells.c's rule).  The
 * helper's spawn answer finds its host by serial number, so an answer
 * for a host that is gone meanwhile only closes the descriptors.
 *
 * Must not: fork, change uid or signal processes (the helper does), read
 * anything of an account's but the frames its host writes, block while
 * holding the lock, or know XML.
 */
#include "autoconfig.h"

#include "listener/providers.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/priv/msg.h"
#include "lib/wmi/wire.h"
#include "listener/helper-client.h"
#include "listener/resources/resources.h"
#include "listener/runtime.h"

#define MAX_HOSTS 512   /* accounts with a host at once */
#define MAX_QUEUED 4096 /* calls waiting for one host */
#define STDERR_LINE 1024
#define READ_CHUNK 65536

enum fd_kind { FD_IN = 0, FD_OUT, FD_ERR, FD_STATUS };

enum host_state { H_SPAWNING = 1, H_READY, H_BUSY, H_DEAD };

enum call_state {
	C_QUEUED = 1,
	C_RUNNING,
	C_DONE,      /* answered: result set */
	C_ABANDONED, /* the request ended while running: freed at the end */
};

struct host;

struct provider_call {
	enum call_state state;
	enum provider_status result;
	struct host *host;
	uid_t uid;
	uint64_t conn_id;
	struct buf frame;
	uint8_t *payload;
	size_t len;
	int64_t deadline;
	struct provider_waiter waiter;
	struct provider_call *next; /* in the host's queue */
};

struct host {
	uint64_t serial; /* epoll cookie: serial << 2 | fd kind */
	uid_t uid;
	char *user;
	enum host_state state;
	uint64_t handle; /* the helper's, for signals */
	int fd[4];
	struct provider_call *queue, *queue_tail; /* waiting, in order */
	size_t n_queued;
	struct provider_call *current;
	size_t woff;       /* of current->frame written */
	struct buf rbuf;   /* reply being read */
	struct buf errbuf; /* a stderr line being read */
	int64_t last_used;
	struct host *next;
};

static struct {
	pthread_mutex_t lock;
	pthread_t thread;
	bool running, stopping;
	int epfd, evfd;
	struct host *hosts;
	size_t n_hosts;
	struct host *graveyard;
	uint64_t next_serial;
	int64_t idle_ms;
} P = { .lock = PTHREAD_MUTEX_INITIALIZER,
	.epfd = -1,
	.evfd = -1,
	.next_serial = 1,
	.idle_ms = 60000 };

static void kick(void)
{
	uint64_t one = 1;
	if (write(P.evfd, &one, sizeof(one)) < 0) {
		/* saturated: the thread wakes anyway */
	}
}

/* ---- calls (lock held) ---- */

static void call_free(struct provider_call *c)
{
	buf_release(&c->frame);
	free(c->payload);
	free(c);
}

/* Ends c with result st and wakes its request (or frees it if nobody
 * waits any more). */
static void finish_call(struct provider_call *c, enum provider_status st)
{
	if (c->state == C_ABANDONED) {
		call_free(c);
		return;
	}
	c->state = C_DONE;
	c->result = st;
	c->host = NULL;
	c->waiter.wake(c->waiter.arg);
}

static void unqueue(struct host *h, struct provider_call *c)
{
	struct provider_call *prev = NULL;
	for (struct provider_call *q = h->queue; q != NULL; q = q->next) {
		if (q == c) {
			if (prev != NULL)
				prev->next = q->next;
			else
				h->queue = q->next;
			if (h->queue_tail == q)
				h->queue_tail = prev;
			h->n_queued--;
			c->next = NULL;
			return;
		}
		prev = q;
	}
}

/* ---- hosts (lock held) ---- */

static void close_fd(struct host *h, enum fd_kind k)
{
	if (h->fd[k] >= 0) {
		epoll_ctl(P.epfd, EPOLL_CTL_DEL, h->fd[k], NULL);
		close(h->fd[k]);
		h->fd[k] = -1;
	}
}

static void ignore_reply(void *arg, struct priv_msg *reply)
{
	(void)arg;
	(void)reply;
}

static void signal_host(struct host *h, uint32_t kind)
{
	if (h->handle == 0)
		return;
	struct priv_signal_command m = { .conn = 0,
					 .handle = h->handle,
					 .kind = kind };
	if (priv_request_async(PRIV_SIGNAL, &m, ignore_reply, NULL, NULL) != 0)
		log_warn("cannot end the WMI provider host of %s: the helper "
			 "is gone",
			 LOG_ESC(h->user));
}

static void spawn_host(struct host *h, const struct winrmd_config *cfg,
		       uint64_t conn_id);

/* Ends host h: its running call fails with st (queued calls go to a new
 * host, or fail too when none can be started); h goes to the
 * graveyard. */
static void end_host(struct host *h, enum provider_status st, const char *why)
{
	if (h->state == H_DEAD)
		return;
	log_info("WMI provider host of %s ended: %s", LOG_ESC(h->user), why);
	signal_host(h, st == PROVIDER_OK ? PRIV_SIGNAL_TERMINATE
					 : PRIV_SIGNAL_KILL);
	for (int k = 0; k < 4; k++)
		close_fd(h, (enum fd_kind)k);
	h->state = H_DEAD;
	if (h->current != NULL) {
		struct provider_call *c = h->current;
		h->current = NULL;
		finish_call(c, st == PROVIDER_OK ? PROVIDER_FAILED : st);
	}
	for (struct host **pp = &P.hosts; *pp != NULL; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			P.n_hosts--;
			break;
		}
	struct provider_call *queue = h->queue;
	h->queue = h->queue_tail = NULL;
	h->n_queued = 0;
	h->next = P.graveyard;
	P.graveyard = h;
	if (queue == NULL)
		return;
	if (P.stopping) {
		while (queue != NULL) {
			struct provider_call *c = queue;
			queue = c->next;
			finish_call(c, PROVIDER_STOPPING);
		}
		return;
	}
	/* the waiting calls get a new host of the same account */
	struct host *n = xcalloc(1, sizeof(*n));
	n->serial = P.next_serial++;
	n->uid = h->uid;
	n->user = xstrdup(h->user);
	for (int k = 0; k < 4; k++)
		n->fd[k] = -1;
	n->queue = queue;
	for (struct provider_call *c = queue; c != NULL; c = c->next) {
		c->host = n;
		n->queue_tail = c;
		n->n_queued++;
	}
	n->next = P.hosts;
	P.hosts = n;
	P.n_hosts++;
	struct winrmd_config *cfg = runtime_config();
	spawn_host(n, cfg, queue->conn_id);
	config_unref(cfg);
}

/* Starts writing the next queued call's frame to a ready host. */
static void start_next(struct host *h)
{
	if (h->state != H_READY || h->queue == NULL)
		return;
	struct provider_call *c = h->queue;
	unqueue(h, c);
	c->state = C_RUNNING;
	h->current = c;
	h->state = H_BUSY;
	h->woff = 0;
	buf_reset(&h->rbuf);
	struct epoll_event ev = { .events = EPOLLOUT,
				  .data.u64 = h->serial << 2 | FD_IN };
	epoll_ctl(P.epfd, EPOLL_CTL_MOD, h->fd[FD_IN], &ev);
}

static void on_writable(struct host *h)
{
	struct provider_call *c = h->current;
	while (c != NULL && h->woff < c->frame.len) {
		ssize_t n = write(h->fd[FD_IN], c->frame.data + h->woff,
				  c->frame.len - h->woff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			end_host(h, PROVIDER_FAILED,
				 "its input closed while a request was sent");
			return;
		}
		h->woff += (size_t)n;
	}
	struct epoll_event ev = { .events = 0,
				  .data.u64 = h->serial << 2 | FD_IN };
	epoll_ctl(P.epfd, EPOLL_CTL_MOD, h->fd[FD_IN], &ev);
}

/* A complete reply frame is in h->rbuf: hand its payload to the call. */
static void reply_complete(struct host *h, uint32_t len)
{
	struct provider_call *c = h->current;
	h->current = NULL;
	h->state = H_READY;
	h->last_used = time_mono_ms();
	if (c != NULL) {
		uint8_t *p = xmalloc(len + 1u);
		memcpy(p, h->rbuf.data + WMI_WIRE_HEADER, len);
		c->payload = p;
		c->len = len;
		finish_call(c, PROVIDER_OK);
	}
	buf_reset(&h->rbuf);
	if (h->rbuf.cap > (1u << 20))
		buf_release(&h->rbuf); /* no large buffer kept while idle */
	start_next(h);
}

static void on_output(struct host *h)
{
	uint8_t chunk[READ_CHUNK];
	for (;;) {
		ssize_t n = read(h->fd[FD_OUT], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			end_host(h, PROVIDER_FAILED, "its output closed");
			return;
		}
		if (h->current == NULL) {
			end_host(h, PROVIDER_FAILED,
				 "it wrote without being asked");
			return;
		}
		buf_append(&h->rbuf, chunk, (size_t)n);
		if (h->rbuf.len < WMI_WIRE_HEADER)
			continue;
		uint32_t len = wmi_wire_frame_len(h->rbuf.data);
		if (len == 0 || len > WMI_WIRE_MAX_REPLY) {
			end_host(h, PROVIDER_FAILED,
				 "it broke the protocol (frame length)");
			return;
		}
		if (h->rbuf.len > WMI_WIRE_HEADER + (size_t)len) {
			end_host(h, PROVIDER_FAILED,
				 "it broke the protocol (more than one "
				 "frame)");
			return;
		}
		if (h->rbuf.len == WMI_WIRE_HEADER + (size_t)len) {
			reply_complete(h, len);
			return;
		}
	}
}

/* Logs what a host writes on stderr, a line at a time (cut at
 * STDERR_LINE bytes). */
static void on_stderr(struct host *h)
{
	char chunk[4096];
	ssize_t n;
	do {
		n = read(h->fd[FD_ERR], chunk, sizeof(chunk));
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		close_fd(h, FD_ERR);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (chunk[i] == '\n' || h->errbuf.len >= STDERR_LINE) {
			if (h->errbuf.len > 0)
				log_info("WMI provider host of %s: %.*s",
					 LOG_ESC(h->user), (int)h->errbuf.len,
					 (const char *)h->errbuf.data);
			buf_reset(&h->errbuf);
			if (chunk[i] == '\n')
				continue;
		}
		buf_append_byte(&h->errbuf, (uint8_t)chunk[i]);
	}
}

static void on_status(struct host *h)
{
	int32_t status = 0;
	ssize_t n;
	do {
		n = read(h->fd[FD_STATUS], &status, sizeof(status));
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	char why[64];
	if (n == (ssize_t)sizeof(status) && WIFSIGNALED(status))
		snprintf(why, sizeof(why), "killed by signal %d",
			 WTERMSIG(status));
	else if (n == (ssize_t)sizeof(status))
		snprintf(why, sizeof(why), "exited with %d",
			 WEXITSTATUS(status));
	else
		snprintf(why, sizeof(why), "its monitor ended");
	h->handle = 0; /* nothing left to signal */
	end_host(h, PROVIDER_FAILED, why);
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static struct host *host_by_serial(uint64_t serial)
{
	for (struct host *h = P.hosts; h != NULL; h = h->next)
		if (h->serial == serial)
			return h;
	return NULL;
}

/* A host that did not start ends, and the calls queued for it fail with
 * START_FAILED (lock held). */
static void start_failed(struct host *h, const char *why)
{
	struct provider_call *q = h->queue;
	h->queue = h->queue_tail = NULL;
	h->n_queued = 0;
	end_host(h, PROVIDER_START_FAILED, why);
	while (q != NULL) {
		struct provider_call *c = q;
		q = c->next;
		finish_call(c, PROVIDER_START_FAILED);
	}
}

/* The helper answered a host's PRIV_SPAWN (helper client's thread). */
static void spawn_answered(void *arg, struct priv_msg *reply)
{
	uint64_t serial = (uint64_t)(uintptr_t)arg;
	pthread_mutex_lock(&P.lock);
	struct host *h = host_by_serial(serial);
	if (h == NULL || h->state != H_SPAWNING) {
		/* gone meanwhile: the descriptors close with the reply */
		pthread_mutex_unlock(&P.lock);
		return;
	}
	struct priv_spawn_result res;
	if (reply->type != PRIV_SPAWN_RESULT ||
	    priv_decode_spawn_result(reply, &res, NULL) != 0 ||
	    (res.error == 0 && reply->n_fds != 4)) {
		h->state = H_READY; /* so that end_host runs its course */
		start_failed(h, "no answer from the helper");
		pthread_mutex_unlock(&P.lock);
		return;
	}
	if (res.error != 0) {
		log_warn("WMI provider host for %s not started: %s",
			 LOG_ESC(h->user), LOG_ESC(res.message));
		start_failed(h, "not started");
		pthread_mutex_unlock(&P.lock);
		return;
	}
	h->handle = res.handle;
	for (int k = 0; k < 4; k++) {
		h->fd[k] = priv_take_fd(reply);
		set_nonblock(h->fd[k]);
		struct epoll_event ev = {
			.events = k == FD_IN ? 0 : EPOLLIN,
			.data.u64 = h->serial << 2 | (uint64_t)k,
		};
		epoll_ctl(P.epfd, EPOLL_CTL_ADD, h->fd[k], &ev);
	}
	log_info("WMI provider host started for %s: pid %u", LOG_ESC(h->user),
		 res.pid);
	h->state = H_READY;
	h->last_used = time_mono_ms();
	start_next(h);
	kick();
	pthread_mutex_unlock(&P.lock);
}

static void spawn_host(struct host *h, const struct winrmd_config *cfg,
		       uint64_t conn_id)
{
	h->state = H_SPAWNING;
	struct priv_spawn m = {
		.conn = conn_id,
		.flags = PRIV_SPAWN_PROVIDER | PRIV_SPAWN_SKIP_SHELL |
			 PRIV_SPAWN_NOPROFILE,
		.program = cfg->wmi_provider_path,
		.cwd = "",
	};
	const char *why = NULL;
	if (priv_request_async(PRIV_SPAWN, &m, spawn_answered,
			       (void *)(uintptr_t)h->serial, &why) != 0) {
		struct provider_call *q = h->queue;
		h->queue = h->queue_tail = NULL;
		h->n_queued = 0;
		h->state = H_READY;
		end_host(h, PROVIDER_START_FAILED,
			 why ? why : "the helper is gone");
		while (q != NULL) {
			struct provider_call *c = q;
			q = c->next;
			finish_call(c, PROVIDER_START_FAILED);
		}
	}
}

/* ---- the I/O thread ---- */

static int64_t run_timers(int64_t now)
{
	int64_t next = now + 1000;
	for (struct host *h = P.hosts, *hnext; h != NULL; h = hnext) {
		hnext = h->next;
		/* calls waiting in the queue past their deadline */
		for (struct provider_call *c = h->queue, *cn; c != NULL;
		     c = cn) {
			cn = c->next;
			if (c->deadline <= now) {
				unqueue(h, c);
				finish_call(c, PROVIDER_TIMED_OUT);
			} else if (c->deadline < next) {
				next = c->deadline;
			}
		}
		if (h->current != NULL) {
			if (h->current->deadline <= now) {
				end_host(h, PROVIDER_TIMED_OUT,
					 "no answer in time");
				continue;
			}
			if (h->current->deadline < next)
				next = h->current->deadline;
		} else if (h->state == H_READY && h->queue == NULL) {
			if (now - h->last_used >= P.idle_ms)
				end_host(h, PROVIDER_OK, "idle");
			else if (h->last_used + P.idle_ms < next)
				next = h->last_used + P.idle_ms;
		}
	}
	return next;
}

static void bury(void)
{
	while (P.graveyard != NULL) {
		struct host *h = P.graveyard;
		P.graveyard = h->next;
		buf_release(&h->rbuf);
		buf_release(&h->errbuf);
		free(h->user);
		free(h);
	}
}

static void *io_main(void *unused)
{
	(void)unused;
	struct epoll_event events[64];
	int timeout = 1000;
	int64_t last_sweep = 0;
	for (;;) {
		int n = epoll_wait(P.epfd, events, 64, timeout);
		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			n = 0;
		}
		pthread_mutex_lock(&P.lock);
		if (!P.running) {
			pthread_mutex_unlock(&P.lock);
			break;
		}
		struct winrmd_config *cfg = runtime_config();
		P.idle_ms = cfg->wmi_provider_idle_s * 1000;
		config_unref(cfg);
		for (int i = 0; i < n; i++) {
			uint64_t d = events[i].data.u64;
			if (d == 0) {
				uint64_t v;
				if (read(P.evfd, &v, sizeof(v)) < 0) {
					/* spurious */
				}
				continue;
			}
			struct host *h = host_by_serial(d >> 2);
			enum fd_kind k = (enum fd_kind)(d & 3);
			if (h == NULL || h->state == H_DEAD || h->fd[k] < 0)
				continue;
			switch (k) {
			case FD_IN:
				if (events[i].events & (EPOLLERR | EPOLLHUP))
					end_host(h, PROVIDER_FAILED,
						 "its input closed");
				else
					on_writable(h);
				break;
			case FD_OUT: on_output(h); break;
			case FD_ERR: on_stderr(h); break;
			case FD_STATUS: on_status(h); break;
			}
		}
		int64_t now = time_mono_ms();
		int64_t next = run_timers(now);
		timeout = next > now ? (int)(next - now) : 0;
		bury();
		pthread_mutex_unlock(&P.lock);
		if (now - last_sweep >= 1000) {
			/* the enumeration contexts' expiry, once a second */
			enum_sweep();
			last_sweep = now;
		}
	}
	return NULL;
}

int providers_start(void)
{
	P.epfd = epoll_create1(EPOLL_CLOEXEC);
	P.evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (P.epfd < 0 || P.evfd < 0)
		return -1;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
	if (epoll_ctl(P.epfd, EPOLL_CTL_ADD, P.evfd, &ev) != 0)
		return -1;
	P.running = true;
	if (pthread_create(&P.thread, NULL, io_main, NULL) != 0) {
		P.running = false;
		return -1;
	}
	return 0;
}

void providers_stop(void)
{
	if (!P.running)
		return;
	pthread_mutex_lock(&P.lock);
	P.stopping = true;
	while (P.hosts != NULL)
		end_host(P.hosts, PROVIDER_STOPPING, "winrmd is stopping");
	pthread_mutex_unlock(&P.lock);
	enum_stop();
}

void providers_join(void)
{
	if (!P.running)
		return;
	pthread_mutex_lock(&P.lock);
	P.running = false;
	kick();
	pthread_mutex_unlock(&P.lock);
	pthread_join(P.thread, NULL);
	pthread_mutex_lock(&P.lock);
	bury();
	pthread_mutex_unlock(&P.lock);
	close(P.epfd);
	close(P.evfd);
}

size_t providers_count(void)
{
	pthread_mutex_lock(&P.lock);
	size_t n = P.n_hosts;
	pthread_mutex_unlock(&P.lock);
	return n;
}

/* ---- calls ---- */

static struct host *host_of(uid_t uid)
{
	for (struct host *h = P.hosts; h != NULL; h = h->next)
		if (h->uid == uid && h->state != H_DEAD)
			return h;
	return NULL;
}

/* An idle host to end to make room (lock held), or NULL. */
static struct host *idlest(void)
{
	struct host *best = NULL;
	for (struct host *h = P.hosts; h != NULL; h = h->next)
		if (h->state == H_READY && h->queue == NULL &&
		    h->current == NULL &&
		    (best == NULL || h->last_used < best->last_used))
			best = h;
	return best;
}

enum provider_status providers_call(struct provider_call **callp,
				    const struct winrmd_config *cfg,
				    const struct provider_caller *who,
				    const struct buf *frame, int64_t timeout_ms,
				    const struct provider_waiter *waiter,
				    uint8_t **payload_r, size_t *len_r)
{
	pthread_mutex_lock(&P.lock);
	struct provider_call *c = *callp;
	if (c != NULL) {
		/* the second call: the answer (or what went wrong) */
		enum provider_status st = c->state == C_DONE ? c->result
							     : PROVIDER_FAILED;
		if (st == PROVIDER_OK) {
			*payload_r = c->payload;
			*len_r = c->len;
			c->payload = NULL;
		}
		pthread_mutex_unlock(&P.lock);
		return st;
	}
	if (P.stopping || !P.running) {
		pthread_mutex_unlock(&P.lock);
		return PROVIDER_STOPPING;
	}
	struct host *h = host_of(who->uid);
	if (h != NULL && h->n_queued >= MAX_QUEUED) {
		pthread_mutex_unlock(&P.lock);
		return PROVIDER_BUSY;
	}
	if (h == NULL) {
		if (P.n_hosts >= MAX_HOSTS) {
			struct host *old = idlest();
			if (old == NULL) {
				pthread_mutex_unlock(&P.lock);
				log_warn("%s: WMI request refused: %d provider "
					 "hosts are busy",
					 LOG_ESC(who->user), MAX_HOSTS);
				return PROVIDER_BUSY;
			}
			end_host(old, PROVIDER_OK, "room for another account");
		}
		h = xcalloc(1, sizeof(*h));
		h->serial = P.next_serial++;
		h->uid = who->uid;
		h->user = xstrdup(who->user);
		for (int k = 0; k < 4; k++)
			h->fd[k] = -1;
		h->next = P.hosts;
		P.hosts = h;
		P.n_hosts++;
		h->state = H_SPAWNING; /* set properly by spawn_host below */
	}
	c = xcalloc(1, sizeof(*c));
	c->state = C_QUEUED;
	c->host = h;
	c->uid = who->uid;
	c->conn_id = who->conn_id;
	buf_append(&c->frame, frame->data, frame->len);
	c->deadline = time_mono_ms() + timeout_ms;
	c->waiter = *waiter;
	if (h->queue_tail != NULL)
		h->queue_tail->next = c;
	else
		h->queue = c;
	h->queue_tail = c;
	h->n_queued++;
	*callp = c;
	if (h->handle == 0 && h->fd[FD_IN] < 0 && h->current == NULL &&
	    h->n_queued == 1 && h->state == H_SPAWNING)
		spawn_host(h, cfg, who->conn_id); /* may finish c at once */
	else
		start_next(h);
	pthread_mutex_unlock(&P.lock);
	kick(); /* the thread recomputes its deadlines */
	return PROVIDER_PENDING;
}

void providers_call_end(struct provider_call *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&P.lock);
	switch (c->state) {
	case C_QUEUED:
		if (c->host != NULL)
			unqueue(c->host, c);
		call_free(c);
		break;
	case C_RUNNING: c->state = C_ABANDONED; break;
	case C_DONE: call_free(c); break;
	case C_ABANDONED: break;
	}
	pthread_mutex_unlock(&P.lock);
}
