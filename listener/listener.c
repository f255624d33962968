/*
 * listener.c - owns libmicrohttpd: listening sockets, daemon options,
 * per-connection and per-request contexts, body intake with a hard cap,
 * suspend/resume, and turning a struct response into an HTTP response.
 *
 * Must not: look inside a SOAP body or decide who may do what (request.c
 * does); answer anything but POST on the configured URL prefix.
 *
 * Entry points: listeners_open (as root), listeners_start, listeners_stop.
 * It hands each request its hooks (wake, peer gone) when it creates it.
 */
#include "autoconfig.h"

#include "listener/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <systemd/sd-daemon.h>

#include "listener/auth/auth.h"
#include "listener/helper-client.h"
#include "listener/conn.h"
#include "listener/connlimit.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "listener/gate.h"
#include "listener/identify-memo.h"
#include "lib/x509.h"
#include "listener/request.h"
#include "listener/runtime.h"
#include "listener/resources/resources.h"
#include "listener/tls.h"

/* Shutdown: new requests are refused once stopping is set, and
 * libmicrohttpd may only be stopped with no connection suspended. */
#define SHUTDOWN_GRACE_MS 10000
static atomic_bool stopping;
static atomic_int n_suspended;

/* Idle keep-alive connections are closed after this many seconds, as
 * http.sys does after its 2-minute idle timer.  Suspended connections
 * (long-polls) are not subject to it.  libmicrohttpd restarts this timer
 * at every byte: the deadline for request headers (HeaderWaitTimeout) and
 * noticing clients that have gone are connlimit.c's. */
#define CONNECTION_IDLE_TIMEOUT_S WINRMD_HTTP_IDLE_TIMEOUT_S
/* libmicrohttpd keeps a request's line and headers in a per-connection
 * pool which it zeroes at every request, so its size is paid on every
 * request: MaxRequestBytes for the read buffer (which starts at half the
 * pool and grows into the rest) plus 16 KiB for its bookkeeping and the
 * first part of a body.  At the default (16384) that is 32 KiB, the
 * largest pool libmicrohttpd takes from malloc: a larger one is mmap'd
 * for every connection and unmapped after it (page faults, and a TLB
 * shootdown across the worker threads), which cost three quarters of the
 * rate of new connections (measured: 2,900 against 12,200 a second).
 * The exact limit is request_too_long's. */
static size_t connection_memory(const struct winrmd_config *cfg)
{
	return (size_t)cfg->max_request_bytes + 16384;
}

static struct listener *listeners;
static size_t n_listeners;
/* CA certificates (PEM) named in the TLS CertificateRequest of HTTPS
 * listeners when certificate authentication can be used; read as root. */
static char *trust_pem;
static char *running_priorities;          /* Service.TlsPriorities at start */
static bool running_client_ca;            /* ClientCAFile was set at start */
static int64_t running_max_request_bytes; /* MaxRequestBytes at start */

/* Reads a whole PEM file (a regular file of at most X509_MAX_FILE
 * bytes, never a part of one); NULL with *error_r ("FILE: why"). */
static char *read_pem(const char *path, char **error_r)
{
	struct buf b = BUF_INIT;
	char *why;
	if (file_read_regular(path, X509_MAX_FILE, &b, NULL, &why) != 0) {
		*error_r = xasprintf("%s: %s", path, why);
		free(why);
		buf_release(&b);
		return NULL;
	}
	return buf_steal(&b);
}
static atomic_uint_fast64_t next_conn_id = 1;

/* Responses for the unauthenticated Identify never change: built once and
 * queued again and again (libmicrohttpd reference-counts them). */
static struct MHD_Response *identify_response[3];

static void listener_free_fields(struct listener *l)
{
	free(l->address);
	free(l->url_prefix);
	free(l->display);
}

static int parse_address(const char *text, int port,
			 struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (strncasecmp(text, "IP:", 3) == 0)
		text += 3;
	if (strcmp(text, "*") == 0) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_any;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return 0;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return 0;
	}
	char tmp[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(text);
	if (n >= 2 && text[0] == '[' && text[n - 1] == ']' &&
	    n - 2 < sizeof(tmp)) {
		memcpy(tmp, text + 1, n - 2);
		tmp[n - 2] = '\0';
		text = tmp;
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return 0;
	}
	return -1;
}

/* Finds a socket systemd passed for this address/port; -1 if none. */
static int adopt_systemd_socket(const struct sockaddr_storage *ss, int n_fds,
				bool *used)
{
	for (int i = 0; i < n_fds; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		if (used[i])
			continue;
		struct sockaddr_storage got;
		socklen_t len = sizeof(got);
		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0 ||
		    getsockname(fd, (struct sockaddr *)&got, &len) != 0 ||
		    got.ss_family != ss->ss_family)
			continue;
		bool same;
		if (got.ss_family == AF_INET) {
			const struct sockaddr_in *a = (const void *)&got;
			const struct sockaddr_in *b = (const void *)ss;
			same = a->sin_port == b->sin_port &&
			       a->sin_addr.s_addr == b->sin_addr.s_addr;
		} else {
			const struct sockaddr_in6 *a = (const void *)&got;
			const struct sockaddr_in6 *b = (const void *)ss;
			same = a->sin6_port == b->sin6_port &&
			       memcmp(&a->sin6_addr, &b->sin6_addr,
				      sizeof(a->sin6_addr)) == 0;
		}
		if (same) {
			used[i] = true;
			return fd;
		}
	}
	return -1;
}

static int open_socket(const struct sockaddr_storage *ss, socklen_t len,
		       char **error_r, const char *display)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 && ss->ss_family == AF_INET6 && errno == EAFNOSUPPORT) {
		/* No IPv6 on this host: "*" falls back to IPv4 only. */
		struct sockaddr_in s4 = { .sin_family = AF_INET };
		s4.sin_port = ((const struct sockaddr_in6 *)ss)->sin6_port;
		s4.sin_addr.s_addr = htonl(INADDR_ANY);
		struct sockaddr_storage v4;
		memcpy(&v4, &s4, sizeof(s4));
		return open_socket(&v4, sizeof(s4), error_r, display);
	}
	if (fd < 0)
		goto fail;
	int one = 1, zero = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(
		    &((const struct sockaddr_in6 *)ss)->sin6_addr))
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (const struct sockaddr *)ss, len) != 0 ||
	    listen(fd, 1024) != 0)
		goto fail;
	return fd;
fail:
	*error_r = xasprintf("%s: cannot listen: %s", display, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/*
 * The local administration socket (winrmctl) is the helper's: it accepts
 * each connection itself (so that the peer's credentials come from a
 * socket it accepted) and hands it over with a connection id of its own
 * (PRIV_LOCAL_CONN); the local listener has no listening socket and
 * serves what it is given.  Accepted descriptors wait here, with their
 * ids, until libmicrohttpd reports them started.
 */
#define MAX_PENDING_LOCAL 64
static struct {
	pthread_mutex_t lock;
	struct pending_local {
		int fd;
		uint64_t id;
	} pending[MAX_PENDING_LOCAL];
	size_t n;
} local_conns = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The helper's id for a local connection libmicrohttpd started; 0 when
 * unknown (it then gets a listener id, which the helper refuses). */
static uint64_t local_conn_id(int fd)
{
	uint64_t id = 0;
	pthread_mutex_lock(&local_conns.lock);
	for (size_t i = 0; i < local_conns.n; i++) {
		if (local_conns.pending[i].fd == fd) {
			id = local_conns.pending[i].id;
			local_conns.pending[i] =
				local_conns.pending[--local_conns.n];
			break;
		}
	}
	pthread_mutex_unlock(&local_conns.lock);
	return id;
}

static struct listener *local_listener(void)
{
	for (size_t i = 0; i < n_listeners; i++)
		if (listeners[i].local && listeners[i].mhd != NULL)
			return &listeners[i];
	return NULL;
}

static void ignore_answer(void *arg, struct priv_msg *reply)
{
	(void)arg;
	(void)reply;
}

/* Tells the helper a local connection it handed over is gone unserved. */
static void forget_local(uint64_t id)
{
	struct priv_conn_close m = { .conn = id };
	priv_request_async(PRIV_CONN_CLOSE, &m, ignore_answer, NULL, NULL);
}

/* PRIV_LOCAL_CONN, on the helper client's reader thread. */
static void on_local_conn(struct priv_msg *msg)
{
	struct priv_local_conn lc;
	int fd = priv_take_fd(msg);
	struct listener *l = local_listener();
	if (priv_decode_local_conn(msg, &lc, NULL) != 0 || fd < 0) {
		log_err("malformed LOCAL_CONN from the helper");
		if (fd >= 0)
			close(fd);
		return;
	}
	if (l == NULL || atomic_load(&stopping)) {
		/* not serving (yet, or any more) */
		close(fd);
		forget_local(lc.conn);
		return;
	}
	pthread_mutex_lock(&local_conns.lock);
	bool room = local_conns.n < MAX_PENDING_LOCAL;
	if (room)
		local_conns.pending[local_conns.n++] = (struct pending_local){
			fd, lc.conn
		};
	pthread_mutex_unlock(&local_conns.lock);
	if (!room) {
		log_warn("too many local connections waiting; closing one");
		close(fd);
		forget_local(lc.conn);
		return;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (MHD_add_connection(l->mhd, fd, (struct sockaddr *)&sa,
			       sizeof(sa)) != MHD_YES) {
		/* libmicrohttpd closed it */
		log_warn("cannot serve a local connection: %s",
			 strerror(errno));
		local_conn_id(fd);
		forget_local(lc.conn);
	}
}

static struct tls_conn *tls_conn_of_session(void *session);

int listeners_open(const struct winrmd_config *cfg, char **error_r)
{
	/* Before the helper starts: it may hand over a connection at once. */
	priv_client_on_notify(PRIV_LOCAL_CONN, on_local_conn);
	tls_set_conn_resolver(tls_conn_of_session);
	int n_fds = sd_listen_fds(1);
	if (n_fds < 0)
		n_fds = 0;
	bool used[64] = { false };
	if (n_fds > 64)
		n_fds = 64;

	listeners = xcalloc(cfg->n_listeners + 1, sizeof(*listeners));
	n_listeners = 0;
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		const struct listener_config *lc = &cfg->listeners[i];
		if (!lc->enabled)
			continue;
		struct listener *l = &listeners[n_listeners];
		l->address = xstrdup(lc->address);
		l->port = lc->port;
		l->transport = lc->transport;
		l->url_prefix = xstrdup(lc->url_prefix);
		bool v6 = strchr(lc->address, ':') != NULL &&
			  strncasecmp(lc->address, "IP:", 3) != 0;
		l->display = xasprintf("%s://%s%s%s:%d/%s",
				       lc->transport == TRANSPORT_HTTPS
					       ? "https"
					       : "http",
				       v6 ? "[" : "", lc->address,
				       v6 ? "]" : "", lc->port, lc->url_prefix);
		l->fd = -1;
		n_listeners++;

		l->cfg_index = (int)i;
		if (lc->transport == TRANSPORT_HTTPS) {
			/* The certificate, read as root now (the helper reads
			 * renewals); the key stays the helper's. */
			char *err = NULL;
			char *cert = read_pem(lc->certificate_file, &err);
			struct tls_cred *cred = cert ? tls_cred_new(cert, &err)
						     : NULL;
			free(cert);
			if (cred == NULL) {
				*error_r = xasprintf("%s: %s", l->display, err);
				free(err);
				return -1;
			}
			tls_set(l, cred);
			if (trust_pem == NULL &&
			    cfg->client_ca_file[0] != '\0') {
				trust_pem = read_pem(cfg->client_ca_file, &err);
				if (trust_pem == NULL) {
					*error_r = err;
					return -1;
				}
			}
		}
		struct sockaddr_storage ss;
		socklen_t len;
		if (parse_address(lc->address, lc->port, &ss, &len) != 0) {
			*error_r = xasprintf("%s: invalid address", l->display);
			return -1;
		}
		l->fd = adopt_systemd_socket(&ss, n_fds, used);
		if (l->fd >= 0) {
			l->from_systemd = true;
			continue;
		}
		l->fd = open_socket(&ss, len, error_r, l->display);
		if (l->fd < 0)
			return -1;
	}
	if (cfg->admin_socket[0] != '\0') {
		/* No socket here: the helper listens (see on_local_conn). */
		struct listener *l = &listeners[n_listeners++];
		l->address = xstrdup(cfg->admin_socket);
		l->transport = TRANSPORT_HTTP;
		l->url_prefix = xstrdup("wsman");
		l->display = xasprintf("unix:%s", cfg->admin_socket);
		l->fd = -1;
		l->local = true;
		l->cfg_index = -1;
	}
	for (int i = 0; i < n_fds; i++)
		if (!used[i]) {
			log_warn("socket passed by systemd (fd %d) matches no "
				 "listener in the configuration; closing it",
				 SD_LISTEN_FDS_START + i);
			close(SD_LISTEN_FDS_START + i);
		}
	return 0;
}

/* ---- per-connection context ---- */

static void on_connection(void *cls, struct MHD_Connection *mc,
			  void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct listener *l = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		struct conn *c = xcalloc(1, sizeof(*c));
		c->listener = l;
		c->https = l->transport == TRANSPORT_HTTPS;
		c->local = l->local;
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
			mc, MHD_CONNECTION_INFO_CONNECTION_FD);
		c->fd = ci != NULL ? ci->connect_fd : -1;
		c->id = l->local ? local_conn_id(c->fd) : 0;
		if (c->id == 0)
			c->id = atomic_fetch_add(&next_conn_id, 1);
		else
			c->auth.helper_state = true; /* the helper made it */
		ci = MHD_get_connection_info(
			mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		const struct sockaddr *client = ci != NULL ? ci->client_addr
							   : NULL;
		if (l->local) {
			strcpy(c->remote_addr, "local");
		} else if (ci != NULL && ci->client_addr != NULL) {
			const struct sockaddr *sa = ci->client_addr;
			if (sa->sa_family == AF_INET) {
				const struct sockaddr_in *s4 = (const void *)sa;
				inet_ntop(AF_INET, &s4->sin_addr,
					  c->remote_addr,
					  sizeof(c->remote_addr));
				c->remote_port = ntohs(s4->sin_port);
			} else if (sa->sa_family == AF_INET6) {
				const struct sockaddr_in6 *s6 = (const void *)
					sa;
				if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
					inet_ntop(AF_INET,
						  &s6->sin6_addr.s6_addr[12],
						  c->remote_addr,
						  sizeof(c->remote_addr));
				else
					inet_ntop(AF_INET6, &s6->sin6_addr,
						  c->remote_addr,
						  sizeof(c->remote_addr));
				c->remote_port = ntohs(s6->sin6_port);
			}
		}
		if (c->fd >= 0 && !l->local) {
			/* Answers go out at once: a delayed-ACK stall costs
			 * 40 ms per request on a reused connection. */
			int one = 1;
			setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
		}
		if (l->transport == TRANSPORT_HTTPS) {
			/* The session exists, no byte was read yet: the
			 * whole handshake is recorded. */
			ci = MHD_get_connection_info(
				mc, MHD_CONNECTION_INFO_GNUTLS_SESSION);
			if (ci != NULL && ci->tls_session != NULL)
				c->tls = tls_conn_new(ci->tls_session, c->id,
						      l);
		}
		/* Counted for its address (not on the local socket) and given
		 * its header deadline.  One over its address's limit, or whose
		 * client has already gone, is shut down here: libmicrohttpd
		 * then closes it as soon as it looks at it. */
		connlimit_open(&c->lim, c->fd, l->local ? NULL : client,
			       l->transport == TRANSPORT_HTTPS, c->remote_addr,
			       c->id);
		*socket_context = c;
		log_debug("connection %llu from %s:%u on %s",
			  (unsigned long long)c->id, c->remote_addr,
			  c->remote_port, l->display);
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		struct conn *c = *socket_context;
		if (c != NULL) {
			log_debug("connection %llu closed",
				  (unsigned long long)c->id);
			/* Before libmicrohttpd closes the socket: from now on
			 * connlimit's sweeper no longer touches it. */
			connlimit_close(&c->lim);
			auth_conn_closed(c);
			tls_conn_free(c->tls);
			free(c);
		}
		*socket_context = NULL;
	}
}

/* ---- responses ---- */

static enum MHD_Result queue(struct MHD_Connection *mc, struct request *r)
{
	struct response *resp = &r->resp;
	struct MHD_Response *m;
	bool shared = false;
	if (resp->shared_identify) {
		m = identify_response[0];
		shared = true;
	} else {
		size_t len = resp->body.len;
		void *data = len > 0 ? buf_steal(&resp->body) : NULL;
		m = MHD_create_response_from_buffer(
			len, data,
			len > 0 ? MHD_RESPMEM_MUST_FREE
				: MHD_RESPMEM_PERSISTENT);
		if (m == NULL) {
			free(data);
			return MHD_NO;
		}
		if (resp->content_type != NULL)
			MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE,
						resp->content_type);
		for (unsigned i = 0; i < resp->n_headers; i++)
			MHD_add_response_header(m, resp->headers[i].name,
						resp->headers[i].value);
		if (resp->close)
			MHD_add_response_header(m, MHD_HTTP_HEADER_CONNECTION,
						"close");
	}
	enum MHD_Result ret = MHD_queue_response(mc, (unsigned)resp->status, m);
	if (!shared)
		MHD_destroy_response(m);
	return ret;
}

/* Answers with an empty body and the given status right away. */
static enum MHD_Result respond_status(struct MHD_Connection *mc,
				      struct request *r, int status)
{
	r->resp.status = status;
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		response_add_header(&r->resp, MHD_HTTP_HEADER_ALLOW, "POST");
	return queue(mc, r);
}

static bool path_matches(const struct listener *l, const char *url)
{
	/* "/<prefix>" exactly, or any path below it; http.sys matches URL
	 * prefixes case-insensitively. */
	if (url[0] != '/')
		return false;
	size_t n = strlen(l->url_prefix);
	if (strncasecmp(url + 1, l->url_prefix, n) != 0)
		return false;
	char next = url[1 + n];
	return next == '\0' || next == '/';
}

static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind,
				       const char *name, const char *value)
{
	(void)kind;
	size_t *total = cls;
	*total += strlen(name) + 2 + (value != NULL ? strlen(value) : 0) + 2;
	return MHD_YES;
}

/* http.sys's MaxRequestBytes: the request line and headers together,
 * counted as sent ("Name: value\r\n"). */
static bool request_too_long(struct MHD_Connection *mc, const char *url,
			     const char *method, const char *version,
			     size_t limit)
{
	size_t total = strlen(method) + 1 + strlen(url) + 1 + strlen(version) +
		       2 + 2;
	MHD_get_connection_values(mc, MHD_HEADER_KIND, add_header_size, &total);
	return total > limit;
}

static enum MHD_Result respond_too_long(struct MHD_Connection *mc,
					struct request *r)
{
	/* What http.sys answers, so that clients show the same text. */
	static const char body[] =
		"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\">\r\n"
		"<HTML><HEAD><TITLE>Bad Request</TITLE>\r\n"
		"<META HTTP-EQUIV=\"Content-Type\" Content=\"text/html; "
		"charset=us-ascii\"></HEAD>\r\n"
		"<BODY><h2>Bad Request - Request Too Long</h2>\r\n"
		"<hr><p>HTTP Error 400. The size of the request headers is too "
		"long.</p>\r\n</BODY></HTML>\r\n";
	r->resp.content_type = "text/html; charset=us-ascii";
	buf_append(&r->resp.body, body, sizeof(body) - 1);
	r->resp.close = true;
	return respond_status(mc, r, MHD_HTTP_BAD_REQUEST);
}

static char *header_copy(struct MHD_Connection *mc, const char *name)
{
	const char *v = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, name);
	return v != NULL ? xstrdup(v) : NULL;
}

/* One request as libmicrohttpd sees it: the request, and its
 * suspend/resume state (a wake may come from any thread, before or after
 * the suspension). */
struct http_req {
	struct request *r;
	struct MHD_Connection *mc;
	pthread_mutex_t lock;
	bool suspended;
	bool wake_pending;
};

static bool http_peer_gone(void *ctx)
{
	struct http_req *hr = ctx;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		hr->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return false;
	struct pollfd p = { .fd = ci->connect_fd, .events = POLLRDHUP };
	return poll(&p, 1, 0) == 1 &&
	       (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

static void http_wake(void *ctx)
{
	struct http_req *hr = ctx;
	pthread_mutex_lock(&hr->lock);
	struct MHD_Connection *resume = NULL;
	if (hr->suspended) {
		hr->suspended = false;
		resume = hr->mc;
		atomic_fetch_sub(&n_suspended, 1);
	} else {
		hr->wake_pending = true;
	}
	pthread_mutex_unlock(&hr->lock);
	/* Resume only after the unlock, and never touch hr again: once
	 * resumed, the worker thread may finish the request and free hr at
	 * once.  The connection itself stays valid until resumed. */
	if (resume != NULL)
		MHD_resume_connection(resume);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *mc,
				 const char *url, const char *method,
				 const char *version, const char *upload_data,
				 size_t *upload_data_size, void **req_cls)
{
	struct listener *l = cls;
	struct http_req *hr = *req_cls;
	struct request *r = hr != NULL ? hr->r : NULL;

	if (hr == NULL) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
			mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		struct conn *c = ci != NULL ? ci->socket_context : NULL;
		if (c == NULL)
			return MHD_NO;
		/* The headers are complete: no deadline until it ends. */
		connlimit_request_begin(&c->lim);
		hr = xcalloc(1, sizeof(*hr));
		hr->mc = mc;
		pthread_mutex_init(&hr->lock, NULL);
		struct request_hooks hooks = { http_wake, http_peer_gone, hr };
		r = hr->r = request_new(c, runtime_config(), &hooks);
		*req_cls = hr;
		if (atomic_load(&stopping)) {
			r->resp.close = true;
			return respond_status(mc, r,
					      MHD_HTTP_SERVICE_UNAVAILABLE);
		}
		if (request_too_long(mc, url, method, version,
				     (size_t)r->cfg->max_request_bytes)) {
			log_info("%s: request headers over MaxRequestBytes "
				 "(%lld) refused",
				 c->remote_addr,
				 (long long)r->cfg->max_request_bytes);
			return respond_too_long(mc, r);
		}
		if (!path_matches(l, url))
			return respond_status(mc, r, MHD_HTTP_NOT_FOUND);
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			return respond_status(mc, r,
					      MHD_HTTP_METHOD_NOT_ALLOWED);
		r->content_type = header_copy(mc, MHD_HTTP_HEADER_CONTENT_TYPE);
		r->authorization = header_copy(mc,
					       MHD_HTTP_HEADER_AUTHORIZATION);
		const char *id = MHD_lookup_connection_value(mc,
							     MHD_HEADER_KIND,
							     "WSMANIDENTIFY");
		r->identify_unauthenticated =
			id != NULL && strcasecmp(id, "unauthenticated") == 0;
		const char *cl = MHD_lookup_connection_value(
			mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL) {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(cl, &end, 10);
			if (errno == 0 && end != cl && *end == '\0') {
				r->has_content_length = true;
				r->content_length = v;
			}
		}
		if (gate_begin(r) == REQUEST_RESPOND)
			return queue(mc, r);
		return MHD_YES;
	}

	if (*upload_data_size > 0) {
		gate_body(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}

	for (;;) {
		if (gate_run(r) == REQUEST_RESPOND)
			return queue(mc, r);
		/* An asynchronous step is under way.  Suspend, unless its
		 * completion already arrived (then run again at once). */
		pthread_mutex_lock(&hr->lock);
		if (hr->wake_pending) {
			hr->wake_pending = false;
			pthread_mutex_unlock(&hr->lock);
			continue;
		}
		MHD_suspend_connection(mc);
		hr->suspended = true;
		atomic_fetch_add(&n_suspended, 1);
		pthread_mutex_unlock(&hr->lock);
		return MHD_YES;
	}
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_req *hr = *req_cls;
	if (hr == NULL)
		return;
	struct request *r = hr->r;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_debug("request on connection %llu ended early (code %d)",
			  (unsigned long long)r->conn->id, (int)toe);
	gate_finished(r, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
	/* An unauthenticated connection has HeaderWaitTimeout again for its
	 * next request; an authenticated one only the idle timer. */
	connlimit_request_end(&r->conn->lim,
			      r->conn->auth.state == CONN_AUTHENTICATED);
	request_free(r);
	pthread_mutex_destroy(&hr->lock);
	free(hr);
	*req_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char text[512];
	vsnprintf(text, sizeof(text), fmt, ap);
	size_t n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
		text[--n] = '\0';
	log_msg(LOG_LVL_WARN, "libmicrohttpd", "%s", text);
}

/* libmicrohttpd's accept policy: a client at its MaxConnectionsPerAddress
 * is closed before any memory is spent on it.  (connlimit_open counts for
 * good: two threads may accept from one address at once.) */
static enum MHD_Result on_accept_policy(void *cls, const struct sockaddr *sa,
					socklen_t len)
{
	(void)cls;
	(void)len;
	return connlimit_may_accept(sa) ? MHD_YES : MHD_NO;
}

void listeners_apply_limits(const struct winrmd_config *cfg)
{
	connlimit_configure(cfg->max_connections_per_address,
			    cfg->header_wait_timeout_s * 1000);
}

static unsigned thread_pool_size(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > 16)
		n = 16;
	return (unsigned)n;
}

static void build_identify_responses(void)
{
	const struct buf *body = res_identify_anonymous_body();
	identify_response[0] = MHD_create_response_from_buffer(
		body->len, body->data, MHD_RESPMEM_PERSISTENT);
	if (identify_response[0] == NULL)
		fatal("cannot create the Identify response");
	MHD_add_response_header(identify_response[0],
				MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/soap+xml;charset=UTF-8");
}

int listeners_start(const struct winrmd_config *cfg)
{
	res_identify_init();
	build_identify_responses();
	unsigned threads = thread_pool_size();
	free(running_priorities);
	running_priorities = xstrdup(cfg->tls_priorities);
	/* MHD copies the string when it starts each daemon. */
	char *tls_prio = tls_priorities(cfg->tls_priorities);
	running_client_ca = trust_pem != NULL;
	running_max_request_bytes = cfg->max_request_bytes;
	listeners_apply_limits(cfg);
	if (connlimit_start() != 0)
		return -1;
	for (size_t i = 0; i < n_listeners; i++) {
		struct listener *l = &listeners[i];
		unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
				 MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
				 MHD_USE_ERROR_LOG;
		struct MHD_OptionItem opts[16];
		size_t n = 0;
#define OPT(o, v, p) opts[n++] = (struct MHD_OptionItem){ o, (intptr_t)(v), p }
		OPT(MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL);
		if (l->fd >= 0)
			OPT(MHD_OPTION_LISTEN_SOCKET, l->fd, NULL);
		else
			flags |= MHD_USE_NO_LISTEN_SOCKET;
		OPT(MHD_OPTION_THREAD_POOL_SIZE, l->local ? 2 : threads, NULL);
		OPT(MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, NULL);
		OPT(MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_IDLE_TIMEOUT_S,
		    NULL);
		OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, connection_memory(cfg),
		    NULL);
		OPT(MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, l);
		OPT(MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, l);
		if (l->transport == TRANSPORT_HTTPS) {
			flags |= MHD_USE_TLS;
			/* single-pointer options travel in ptr_value */
			OPT(MHD_OPTION_HTTPS_CERT_CALLBACK, 0,
			    tls_cert_callback());
			OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)tls_prio);
			/* With a trust list libmicrohttpd asks for a client
			 * certificate (optional: the handshake never fails for
			 * lack of one; the helper verifies what comes). */
			if (trust_pem != NULL)
				OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0,
				    (void *)trust_pem);
		}
		OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
		struct MHD_Daemon *d = MHD_start_daemon(
			flags, 0, l->local ? NULL : on_accept_policy, l,
			on_access, l, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
		if (d == NULL) {
			log_err("%s: cannot start libmicrohttpd", l->display);
			free(tls_prio);
			return -1;
		}
		l->mhd = d;
		log_info("listening on %s%s", l->display,
			 l->from_systemd ? " (socket from systemd)" : "");
	}
	free(tls_prio);
	return 0;
}

void listeners_refuse_new(void)
{
	atomic_store(&stopping, true);
}

void listeners_stop(void)
{
	atomic_store(&stopping, true);
	/* Every suspended request ends in bounded time (the helper answers,
	 * shells_stop answered the Receives); wait for them, boundedly. */
	int64_t deadline = time_mono_ms() + SHUTDOWN_GRACE_MS;
	while (atomic_load(&n_suspended) > 0 && time_mono_ms() < deadline)
		usleep(10000);
	int left = atomic_load(&n_suspended);
	if (left > 0) {
		/* libmicrohttpd aborts when stopped now; its threads still
		 * use the listeners: leave everything to the process exit. */
		log_err("%d requests still wait after %d s; exiting without "
			"stopping the HTTP server",
			left, SHUTDOWN_GRACE_MS / 1000);
		return;
	}
	for (size_t i = 0; i < n_listeners; i++) {
		struct listener *l = &listeners[i];
		if (l->mhd != NULL) {
			MHD_stop_daemon(l->mhd);
			l->mhd = NULL;
		}
		if (l->fd >= 0)
			close(l->fd);
		listener_free_fields(l);
	}
	connlimit_stop();
	free(listeners);
	listeners = NULL;
	n_listeners = 0;
	tls_shutdown();
	free(trust_pem);
	trust_pem = NULL;
	free(running_priorities);
	running_priorities = NULL;
	for (size_t i = 0;
	     i < sizeof(identify_response) / sizeof(identify_response[0]);
	     i++) {
		if (identify_response[i] != NULL)
			MHD_destroy_response(identify_response[i]);
		identify_response[i] = NULL;
	}
	identify_memo_clear();
}

void listeners_reload_tls(const struct winrmd_config *cfg,
			  const char *const *cert_pems, size_t n)
{
	for (size_t i = 0; i < n_listeners; i++) {
		struct listener *l = &listeners[i];
		if (l->transport != TRANSPORT_HTTPS || l->local)
			continue;
		/* The running listener is the configured one with the same
		 * address, port and transport (listeners may have been added
		 * or reordered: those changes wait for a restart). */
		size_t k;
		for (k = 0; k < cfg->n_listeners && k < n; k++) {
			const struct listener_config *lc = &cfg->listeners[k];
			if (lc->transport == TRANSPORT_HTTPS &&
			    lc->port == l->port &&
			    strcmp(lc->address, l->address) == 0)
				break;
		}
		if (k == cfg->n_listeners || k == n || cert_pems[k][0] == '\0')
			continue;
		char *err = NULL;
		struct tls_cred *cred = tls_cred_new(cert_pems[k], &err);
		if (cred == NULL) {
			log_err("%s: the new certificate does not load (%s); "
				"keeping the old one",
				l->display, err);
			free(err);
			continue;
		}
		if (tls_set(l, cred))
			log_info("%s: certificate reloaded", l->display);
	}
}

/* tls.c's resolver: the TLS state of a GnuTLS session, through its
 * libmicrohttpd connection (which libmicrohttpd stores as the session's
 * pointer) and our socket context (set before the handshake). */
static struct tls_conn *tls_conn_of_session(void *session)
{
	void *mc = gnutls_session_get_ptr((gnutls_session_t)session);
	if (mc == NULL)
		return NULL;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	const struct conn *c = ci != NULL ? ci->socket_context : NULL;
	return c != NULL ? c->tls : NULL;
}

void listeners_check_reload(const struct winrmd_config *cfg)
{
	size_t enabled = 0;
	bool differ = false;
	size_t network = 0;
	for (size_t i = 0; i < n_listeners; i++)
		network += !listeners[i].local;
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		const struct listener_config *lc = &cfg->listeners[i];
		if (!lc->enabled)
			continue;
		if (enabled >= network ||
		    strcmp(listeners[enabled].address, lc->address) != 0 ||
		    listeners[enabled].port != lc->port ||
		    listeners[enabled].transport != lc->transport ||
		    strcmp(listeners[enabled].url_prefix, lc->url_prefix) != 0)
			differ = true;
		enabled++;
	}
	if (differ || enabled != network)
		log_warn(
			"listener changes in the configuration take effect "
			"only after a restart; the running listeners stay as they are");
	if (running_priorities != NULL &&
	    strcmp(running_priorities, cfg->tls_priorities) != 0)
		log_warn("Service.TlsPriorities changed: it takes effect only "
			 "after a restart (running with \"%s\")",
			 running_priorities);
	if (running_max_request_bytes != 0 &&
	    cfg->max_request_bytes > running_max_request_bytes)
		log_warn(
			"Service.MaxRequestBytes was raised: requests over %lld "
			"bytes of headers are accepted only after a restart",
			(long long)running_max_request_bytes);
	bool https = false;
	for (size_t i = 0; i < n_listeners; i++)
		https = https || listeners[i].transport == TRANSPORT_HTTPS;
	if (https && running_client_ca != (cfg->client_ca_file[0] != '\0'))
		log_warn("Service.Auth.ClientCAFile was %s: HTTPS listeners %s "
			 "client certificates only after a restart",
			 running_client_ca ? "removed" : "set",
			 running_client_ca ? "stop asking for" : "ask for");
}
