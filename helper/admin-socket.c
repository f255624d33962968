/*
 * admin-socket.c - the local administration socket (winrmctl).
 *
 * The helper listens on it and accepts every connection itself, so a
 * local caller's identity comes from a descriptor the helper accepted
 * (SO_PEERCRED, read at accept) and never from one the listener chose:
 * a connect()ed socket reports whoever listened on the other end, which
 * is how a listener could once claim root.  Each accepted connection goes
 * to the listener for the HTTP part (LOCAL_CONN), bound to a connection
 * id of the helper's own range; with the connection's first request the
 * listener hands the descriptor back (AUTH_PEER), the helper checks that
 * it is the very socket it accepted for that id, and verifies the account
 * (PAM account check, groups) as for every other method.
 *
 * Must not: take an identity from any descriptor it did not accept.
 * Entry point: module_admin_socket (AUTH_PEER; the socket is opened at
 * start and removed at stop).
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "helper/authres.h"
#include "helper/conns.h"
#include "lib/log.h"
#include "helper/loop.h"
#include "helper/module.h"

/* Local connections alive at once (winrmctl opens one per command). */
#define MAX_LOCAL_CONNS 64

static int listen_fd = -1;
static char *socket_path;
static uint64_t next_local = 1;

/* Opens path as a listening Unix socket, replacing one left by a previous
 * run; -1 (logged: the network listeners matter more) on failure. */
static int open_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_warn(
			"AdminSocket %s: path too long; no local administration",
			path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		/* A socket left by a previous run, unless someone answers. */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 &&
		    connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			close(fd);
			log_warn("AdminSocket %s is in use by another process; "
				 "no local administration",
				 path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	/* Anyone may connect: the account decides what the caller may do. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0666) != 0 || listen(fd, 64) != 0) {
		log_warn("AdminSocket %s: %s; no local administration", path,
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void on_accept(void *arg, int fd)
{
	(void)arg;
	for (;;) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("AdminSocket: accept: %s",
					 strerror(errno));
			return;
		}
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct stat st;
		if (conns_count_local() >= MAX_LOCAL_CONNS) {
			log_warn("AdminSocket: %d local connections are open; "
				 "refusing another",
				 MAX_LOCAL_CONNS);
			close(c);
			continue;
		}
		if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
		    fstat(c, &st) != 0) {
			log_warn("AdminSocket: no peer credentials: %s",
				 strerror(errno));
			close(c);
			continue;
		}
		struct priv_local_conn lc = { .conn = HCONN_LOCAL_BIT |
						      next_local++ };
		struct hconn *h = conns_new_local(lc.conn);
		h->sock_dev = st.st_dev;
		h->sock_ino = st.st_ino;
		h->peer_uid = cred.uid;
		snprintf(h->remote, sizeof(h->remote), "local");
		snprintf(h->scheme, sizeof(h->scheme), "Local");
		log_debug("local connection %llx from uid %u",
			  (unsigned long long)lc.conn, (unsigned)cred.uid);
		helper_answer(0, PRIV_LOCAL_CONN, &lc, &c,
			      1); /* c sent, closed */
	}
}

static void handle_auth_peer(struct helper_call *call)
{
	struct hconn *c = call->conn; /* NULL unless a local id we know */
	int fd = priv_take_fd(call->msg);
	struct stat st;
	bool ours = c != NULL && c->local && fd >= 0 && fstat(fd, &st) == 0 &&
		    st.st_dev == c->sock_dev && st.st_ino == c->sock_ino;
	if (fd >= 0)
		close(fd);
	if (!ours) {
		const struct priv_auth_peer *m = call->args;
		const struct audit_peer peer = { m->conn, "local", 0 };
		authres_refuse(call->seq, &peer, "Local", NULL, NULL,
			       "not a connection the helper accepted on its "
			       "administration socket");
		return;
	}
	conns_reset(c);
	char claimed[64], account[32];
	snprintf(claimed, sizeof(claimed), "uid %u", (unsigned)c->peer_uid);
	snprintf(account, sizeof(account), "#%u", (unsigned)c->peer_uid);
	authres_verify(authres_attempt_new(call->seq, c, "Local",
					   "PeerCredentials", xstrdup(claimed)),
		       account, NULL);
}

static void start(void)
{
	const char *path = helper_config->admin_socket;
	if (path[0] == '\0')
		return;
	listen_fd = open_socket(path);
	if (listen_fd < 0)
		return;
	socket_path = xstrdup(path);
	if (helper_watch_fd(listen_fd, on_accept, NULL) != 0)
		fatal("cannot watch the administration socket");
	log_debug("local administration on %s", path);
}

static void stop(void)
{
	if (listen_fd < 0)
		return;
	helper_unwatch_fd(listen_fd);
	close(listen_fd);
	listen_fd = -1;
	unlink(socket_path);
	free(socket_path);
	socket_path = NULL;
}

static const struct helper_request requests[] = {
	{ PRIV_AUTH_PEER, REQ_AUTH_STEP, PRIV_AUTH_RESULT, handle_auth_peer },
};

const struct helper_module module_admin_socket = {
	.name = "admin-socket",
	HELPER_REQUESTS(requests),
	.start = start,
	.stop = stop,
};
