/*
 * client.c - listener side of the helper protocol: request/reply matching
 * over one socket, a reader thread, synchronous and asynchronous calls.
 *
 * Must not: interpret message contents (the wrappers in the modules that
 * use the helper do that), or block the reader thread on anything but
 * reading.  Entry points: priv_client_start, priv_call, priv_call_async,
 * priv_client_on_notify, priv_client_stop.
 */
#include "autoconfig.h"

#include "listener/helper-client.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"

struct pending {
	uint32_t seq;
	priv_reply_cb cb; /* async caller, or NULL for a blocked caller */
	void *arg;
	bool done; /* blocked caller: reply is in *reply */
	struct priv_msg *reply;
	pthread_cond_t cond;
	struct pending *next;
};

static struct {
	int fd;
	pthread_t reader;
	atomic_bool running;
	bool lost; /* helper gone: fail everything at once */
	uint32_t next_seq;
	pthread_mutex_t lock;      /* guards pending list, next_seq, lost */
	pthread_mutex_t send_lock; /* one frame on the wire at a time */
	struct pending *pending;
	void (*on_lost)(void);
	priv_notify_cb notify[PRIV_TYPE_MAX];
} client = {
	.fd = -1,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.send_lock = PTHREAD_MUTEX_INITIALIZER,
};

/* Removes and returns the pending entry for seq (lock held). */
static struct pending *pending_take(uint32_t seq)
{
	for (struct pending **pp = &client.pending; *pp; pp = &(*pp)->next) {
		if ((*pp)->seq == seq) {
			struct pending *p = *pp;
			*pp = p->next;
			return p;
		}
	}
	return NULL;
}

/* Hands msg to whoever waits for it; takes ownership of msg's contents. */
static void complete(struct pending *p, struct priv_msg *msg)
{
	if (p->cb != NULL) {
		p->cb(p->arg, msg);
		priv_msg_release(msg);
		free(p);
		return;
	}
	pthread_mutex_lock(&client.lock);
	*p->reply = *msg; /* moves body and fds to the caller */
	priv_msg_init(msg, PRIV_NONE);
	p->done = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&client.lock);
}

static void fail_all(void)
{
	pthread_mutex_lock(&client.lock);
	client.lost = true;
	struct pending *list = client.pending;
	client.pending = NULL;
	pthread_mutex_unlock(&client.lock);
	while (list != NULL) {
		struct pending *next = list->next;
		struct priv_msg none;
		priv_msg_init(&none, PRIV_NONE);
		complete(list, &none);
		list = next;
	}
}

static void *reader_main(void *unused)
{
	for (;;) {
		struct priv_msg msg;
		int rc = priv_recv(client.fd, &msg);
		if (rc != 0) {
			if (rc < 0)
				log_err("helper connection broken: %s",
					strerror(errno));
			else
				log_debug("helper closed its socket");
			priv_msg_release(&msg);
			break;
		}
		if (msg.seq == 0) {
			priv_notify_cb cb = msg.type < PRIV_TYPE_MAX
						    ? client.notify[msg.type]
						    : NULL;
			if (cb == NULL) {
				log_err("unexpected notification %s from helper",
					priv_type_name(msg.type));
				priv_msg_release(&msg);
				break;
			}
			cb(&msg);
			priv_msg_release(&msg);
			continue;
		}
		pthread_mutex_lock(&client.lock);
		struct pending *p = pending_take(msg.seq);
		pthread_mutex_unlock(&client.lock);
		if (p == NULL) {
			log_err("helper replied to unknown request %u",
				msg.seq);
			priv_msg_release(&msg);
			break;
		}
		complete(p, &msg);
	}
	fail_all();
	if (client.on_lost != NULL && client.running)
		client.on_lost();
	return NULL;
}

int priv_client_start(int fd, void (*on_lost)(void))
{
	client.fd = fd;
	client.on_lost = on_lost;
	client.next_seq = 1;
	client.running = true;
	if (pthread_create(&client.reader, NULL, reader_main, NULL) != 0) {
		client.running = false;
		return -1;
	}
	return 0;
}

void priv_client_on_notify(uint16_t type, priv_notify_cb cb)
{
	if (type < PRIV_TYPE_MAX)
		client.notify[type] = cb;
}

/* Registers p and sends req; returns 0 or -1 (p unregistered). */
static int submit(struct pending *p, struct priv_msg *req)
{
	pthread_mutex_lock(&client.lock);
	if (client.lost || client.fd < 0) {
		pthread_mutex_unlock(&client.lock);
		priv_msg_release(req);
		return -1;
	}
	p->seq = client.next_seq++;
	if (client.next_seq == 0)
		client.next_seq = 1; /* 0 is reserved for notifications */
	req->seq = p->seq;
	p->next = client.pending;
	client.pending = p;
	pthread_mutex_unlock(&client.lock);

	pthread_mutex_lock(&client.send_lock);
	int rc = priv_send(client.fd, req);
	pthread_mutex_unlock(&client.send_lock);
	priv_msg_release(req);
	if (rc != 0) {
		pthread_mutex_lock(&client.lock);
		struct pending *again = pending_take(p->seq);
		pthread_mutex_unlock(&client.lock);
		if (again == NULL)
			return 0; /* the reader already failed it: completed */
		return -1;
	}
	return 0;
}

int priv_call(struct priv_msg *req, struct priv_msg *reply)
{
	struct pending p = { .reply = reply };
	priv_msg_init(reply, PRIV_NONE);
	pthread_cond_init(&p.cond, NULL);
	if (submit(&p, req) != 0) {
		pthread_cond_destroy(&p.cond);
		return -1;
	}
	pthread_mutex_lock(&client.lock);
	while (!p.done)
		pthread_cond_wait(&p.cond, &client.lock);
	pthread_mutex_unlock(&client.lock);
	pthread_cond_destroy(&p.cond);
	return reply->type == PRIV_NONE ? -1 : 0;
}

int priv_call_async(struct priv_msg *req, priv_reply_cb cb, void *arg)
{
	struct pending *p = xcalloc(1, sizeof(*p));
	p->cb = cb;
	p->arg = arg;
	if (submit(p, req) != 0) {
		free(p);
		return -1;
	}
	return 0;
}

void priv_client_stop(void)
{
	if (!client.running)
		return;
	client.running = false; /* no lost-callback for a requested stop */
	shutdown(client.fd, SHUT_RDWR);
	pthread_join(client.reader, NULL);
	close(client.fd);
	client.fd = -1;
}

int priv_request(uint16_t type, const void *req, struct priv_msg *answer,
		 const char **why_r)
{
	struct priv_msg m;
	priv_msg_init(answer, PRIV_NONE);
	if (priv_encode(&m, type, req, why_r) != 0)
		return -2;
	return priv_call(&m, answer);
}

int priv_request_async(uint16_t type, const void *req, priv_reply_cb cb,
		       void *arg, const char **why_r)
{
	struct priv_msg m;
	if (priv_encode(&m, type, req, why_r) != 0)
		return -2;
	return priv_call_async(&m, cb, arg);
}
