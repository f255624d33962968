/*
 * helper.c - winrmd-priv: the small root helper of winrmd.
 *
 * It is started by winrmd (fork + exec, never by hand) with one end of a
 * socketpair, before winrmd drops its privileges.  It serves requests from
 * a closed table: each entry names the message type it accepts and the
 * state in which it may arrive; anything else is a protocol violation,
 * after which the helper exits (and so takes the listener down: systemd
 * restarts both).  When the listener goes away, the helper cleans up and
 * exits; when the helper goes away, the listener does the same.
 *
 * Must not: link libmicrohttpd or libxml2, parse HTTP or XML, or trust
 * anything the listener says beyond what the table allows.
 *
 * Usage (internal): winrmd-priv -s FD -c CONFIG [-d] [-j]
 */
#include "autoconfig.h"

#include "helper.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "closefds.h"
#include "conns.h"
#include "log.h"

#include <security/pam_appl.h>

struct winrmd_config *helper_config;

static const char *config_path;
static int listener_fd = -1;
static bool running = true;
/* After a direct SIGTERM the helper waits this long for the listener's
 * orderly SHUTDOWN (systemd signals the whole cgroup at once). */
#define TERM_GRACE_MS 10000
static int64_t term_deadline; /* 0 = no SIGTERM seen */

enum handler_flags {
	HANDLER_ONCE = 1 << 0, /* at most once per helper lifetime */
};

struct handler {
	uint16_t type;
	unsigned flags;
	helper_handler fn;
	unsigned calls;
};

/* ---- event loop services: fd watchers and timers ---- */

#define MAX_WATCHES 1024

static struct watch {
	int fd;
	helper_fd_cb cb;
	void *arg;
} watches[MAX_WATCHES];
static size_t n_watches;

struct timer {
	int64_t at;
	helper_timer_cb cb;
	void *arg;
	struct timer *next;
};
static struct timer *timers; /* sorted by deadline */

void helper_watch_fd(int fd, helper_fd_cb cb, void *arg)
{
	if (n_watches >= MAX_WATCHES)
		fatal("too many pending helper tasks");
	watches[n_watches].fd = fd;
	watches[n_watches].cb = cb;
	watches[n_watches].arg = arg;
	n_watches++;
}

void helper_unwatch_fd(int fd)
{
	for (size_t i = 0; i < n_watches; i++) {
		if (watches[i].fd == fd) {
			watches[i] = watches[--n_watches];
			return;
		}
	}
}

struct timer *helper_timer_at(int64_t at_ms, helper_timer_cb cb, void *arg)
{
	struct timer *t = xmalloc(sizeof(*t));
	t->at = at_ms;
	t->cb = cb;
	t->arg = arg;
	struct timer **pp = &timers;
	while (*pp != NULL && (*pp)->at <= at_ms)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	return t;
}

void helper_timer_cancel(struct timer *t)
{
	for (struct timer **pp = &timers; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			free(t);
			return;
		}
	}
}

static int sigfd = -1;

void helper_child_init(const int *keep, size_t n)
{
	/* Not only the helper's own descriptors: the pipes of commands
	 * still starting (held by the helper until they go to the
	 * listener) would keep another user's stdin open for as long as
	 * this child lives. */
	if (closefds_except(keep, n) != 0)
		_exit(127);
	n_watches = 0;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
}

struct child {
	pid_t pid;
	helper_child_cb cb;
	void *arg;
	struct child *next;
};
static struct child *children;

void helper_watch_child(pid_t pid, helper_child_cb cb, void *arg)
{
	struct child *c = xmalloc(sizeof(*c));
	c->pid = pid;
	c->cb = cb;
	c->arg = arg;
	c->next = children;
	children = c;
}

static void reap_children(void)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (struct child **pp = &children; *pp != NULL; pp = &(*pp)->next) {
			if ((*pp)->pid == pid) {
				struct child *c = *pp;
				*pp = c->next;
				c->cb(c->arg, status);
				free(c);
				break;
			}
		}
	}
}

/* Runs due timers; returns the poll timeout until the next one (-1: none). */
static int run_timers(void)
{
	int64_t now = time_mono_ms();
	while (timers != NULL && timers->at <= now) {
		struct timer *t = timers;
		timers = t->next;
		t->cb(t->arg);
		free(t);
		now = time_mono_ms();
	}
	if (timers == NULL)
		return -1;
	int64_t left = timers->at - now;
	return left > 60000 ? 60000 : (int)left;
}

/* Connections the listener never reported closed must not keep their
 * identities for ever: every CONNS_SWEEP_MS, the idle limit of the
 * configuration in force (a reload counts from the next sweep) and the
 * sweep of conns.c; conns_find checks the same limit on every lookup. */
#define CONNS_SWEEP_MS 30000

static void sweep_conns(void *arg)
{
	(void)arg;
	conns_set_idle_limit(conns_idle_limit_ms(helper_config));
	conns_expire(time_mono_ms());
	helper_timer_at(time_mono_ms() + CONNS_SWEEP_MS, sweep_conns, NULL);
}

static void handle_ping(struct priv_msg *req, struct priv_msg *reply)
{
	uint64_t token = priv_get_u64(req);
	priv_msg_init(reply, PRIV_PONG);
	priv_put_u64(reply, token);
	priv_put_u32(reply, (uint32_t)getpid());
}

/* Appends a (small, text) file to out; on failure out stays empty. */
static void read_small_file(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return;
	char tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0 && out->len < 1024 * 1024)
		buf_append(out, tmp, n);
	fclose(f);
}

static void handle_reload(struct priv_msg *req, struct priv_msg *reply)
{
	char *error = NULL, *warnings = NULL;
	struct winrmd_config *cfg = config_load_file(config_path, &error);
	if (cfg != NULL &&
	    config_check_files(cfg, config_path, &error, &warnings) != 0) {
		config_unref(cfg);
		cfg = NULL;
	}
	if (warnings != NULL) {
		log_warn("%s", warnings);
		free(warnings);
	}
	priv_msg_init(reply, PRIV_RELOAD_RESULT);
	if (cfg == NULL) {
		log_err("reload refused, keeping the running configuration:\n%s",
			error);
		priv_put_u32(reply, 0);
		priv_put_str(reply, error);
		free(error);
		return;
	}
	config_unref(helper_config);
	helper_config = cfg;
	log_set_level((enum log_level)cfg->log_level);
	gss_configure(cfg);
	certmap_table_preload();
	struct buf dump = BUF_INIT;
	config_dump(cfg, &dump);
	priv_put_u32(reply, 1);
	priv_put_str(reply, (const char *)dump.data);
	buf_release(&dump);
	/* The HTTPS listeners' certificates and keys: the listener cannot
	 * read root-only files any more. */
	priv_put_u32(reply, (uint32_t)cfg->n_listeners);
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		const struct listener_config *l = &cfg->listeners[i];
		struct buf cert = BUF_INIT, key = BUF_INIT;
		if (l->transport == TRANSPORT_HTTPS && l->enabled) {
			read_small_file(l->certificate_file, &cert);
			read_small_file(l->key_file, &key);
		}
		priv_put_str(reply, cert.data ? (const char *)cert.data : "");
		priv_put_str(reply, key.data ? (const char *)key.data : "");
		buf_release(&cert);
		buf_release_secret(&key);
	}
	log_info("configuration reloaded from %s", config_path);
}

static void handle_shutdown(struct priv_msg *req, struct priv_msg *reply)
{
	spawn_shutdown();
	priv_msg_init(reply, PRIV_SHUTDOWN_DONE);
	running = false;
}

/* The closed request table.  Every accepted message type is listed here. */
static struct handler handlers[] = {
	{ PRIV_PING, 0, handle_ping, 0 },
	{ PRIV_RELOAD, 0, handle_reload, 0 },
	{ PRIV_SHUTDOWN, HANDLER_ONCE, handle_shutdown, 0 },
	{ PRIV_AUTH_GSS, 0, handle_auth_gss, 0 },
	{ PRIV_AUTH_BASIC, 0, handle_auth_basic, 0 },
	{ PRIV_CONN_CLOSE, 0, handle_conn_close, 0 },
	{ PRIV_SPAWN, 0, handle_spawn, 0 },
	{ PRIV_SIGNAL, 0, handle_signal, 0 },
	{ PRIV_CONFIG_PUT, 0, handle_config_put, 0 },
	{ PRIV_AUTH_PEER, 0, handle_auth_peer, 0 },
	{ PRIV_AUTH_CERT, 0, handle_auth_cert, 0 },
	{ PRIV_UNWRAP, 0, handle_unwrap, 0 },
	{ PRIV_WRAP, 0, handle_wrap, 0 },
	{ PRIV_CERTMAP, 0, handle_certmap, 0 },
};

const char *helper_config_path(void)
{
	return config_path;
}

void helper_send(struct priv_msg *msg)
{
	if (priv_send(listener_fd, msg) != 0) {
		priv_msg_release(msg);
		log_err("cannot write to the listener: %s; exiting",
			strerror(errno));
		exit(1);
	}
	priv_msg_release(msg);
}

static void dispatch(struct priv_msg *req)
{
	struct handler *h = NULL;
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].type == req->type)
			h = &handlers[i];
	if (h == NULL || req->seq == 0)
		fatal("protocol violation: unexpected %s (type %u) from the listener",
		      priv_type_name(req->type), req->type);
	if ((h->flags & HANDLER_ONCE) && h->calls > 0)
		fatal("protocol violation: repeated %s", priv_type_name(req->type));
	h->calls++;

	struct priv_msg reply;
	priv_msg_init(&reply, PRIV_NONE);
	h->fn(req, &reply);
	if (!priv_msg_ok(req))
		fatal("protocol violation: malformed %s", priv_type_name(req->type));
	if (reply.type == PRIV_NONE)
		return; /* deferred: the handler answers later */
	reply.seq = req->seq;
	helper_send(&reply);
}

static int setup_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A file-size limit must fail a write (EFBIG), not kill the helper. */
	signal(SIGXFSZ, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

/*
 * Loads the PAM library and configuration once, in the helper itself, so
 * that the short-lived children that run PAM (verification, command
 * monitors) inherit it instead of each starting from scratch.  (It also
 * keeps pam_wrapper, used by the tests, from racing its children for
 * runtime directories.)  No module is called by pam_start.
 */
static void pam_preload(const char *service)
{
	struct pam_conv conv = { NULL, NULL };
	pam_handle_t *h = NULL;
	if (pam_start(service, NULL, &conv, &h) == PAM_SUCCESS)
		pam_end(h, PAM_SUCCESS);
}

static void usage(void)
{
	fprintf(stderr, "winrmd-priv is started by winrmd; it is not run by hand.\n"
			"usage: winrmd-priv -s FD -c CONFIG [-d] [-j]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	bool debug = false, journald = false;
	int opt;
	while ((opt = getopt(argc, argv, "s:c:dj")) != -1) {
		switch (opt) {
		case 's': listener_fd = atoi(optarg); break;
		case 'c': config_path = optarg; break;
		case 'd': debug = true; break;
		case 'j': journald = true; break;
		default: usage();
		}
	}
	if (listener_fd < 3 || config_path == NULL || optind != argc)
		usage();
	log_init("winrmd-priv", debug ? LOG_LVL_DEBUG : LOG_LVL_INFO, journald);
	if (geteuid() != 0)
		fatal("winrmd-priv must run as root");

	char *error = NULL;
	helper_config = config_load_file(config_path, &error);
	if (helper_config == NULL)
		fatal("cannot load %s:\n%s", config_path, error);
	if (!debug)
		log_set_level((enum log_level)helper_config->log_level);
	gss_configure(helper_config);
	pam_preload(helper_config->pam_service);
	config_write_cleanup(config_path);
	config_write_cleanup(helper_config->certmapping_file);
	certmap_table_preload();

	sigfd = setup_signals();
	if (sigfd < 0)
		fatal("signalfd: %s", strerror(errno));
	log_debug("helper started, pid %d", (int)getpid());
	sweep_conns(NULL);

	static struct pollfd pfd[2 + MAX_WATCHES];
	while (running) {
		pfd[0] = (struct pollfd){ .fd = listener_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		size_t nw = n_watches;
		for (size_t i = 0; i < nw; i++)
			pfd[2 + i] = (struct pollfd){ .fd = watches[i].fd, .events = POLLIN };
		int timeout = run_timers();
		if (term_deadline != 0) {
			int64_t left = term_deadline - time_mono_ms();
			if (left <= 0) {
				log_warn("no shutdown order from the listener "
					 "after SIGTERM; exiting");
				break;
			}
			if (timeout < 0 || left < timeout)
				timeout = (int)left;
		}
		if (poll(pfd, 2 + nw, timeout) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll: %s", strerror(errno));
		}
		/* Watches first: their callbacks may add or remove watches,
		 * so look each fd up again before calling. */
		for (size_t i = 0; i < nw; i++) {
			if (!(pfd[2 + i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			for (size_t j = 0; j < n_watches; j++) {
				if (watches[j].fd == pfd[2 + i].fd) {
					watches[j].cb(watches[j].arg, watches[j].fd);
					break;
				}
			}
		}
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD) {
					reap_children();
				} else if (si.ssi_signo == SIGTERM ||
					   si.ssi_signo == SIGINT) {
					/* The listener orders our shutdown; a
					 * direct signal (systemd's stop signals
					 * the whole cgroup) starts a grace period
					 * in which we keep serving until the
					 * listener says so or goes away. */
					log_debug("signal %u: waiting for the listener",
						  si.ssi_signo);
					if (term_deadline == 0)
						term_deadline = time_mono_ms() +
								TERM_GRACE_MS;
				}
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			struct priv_msg req;
			int rc = priv_recv(listener_fd, &req);
			if (rc == 1) {
				log_info("listener went away; helper exiting");
				priv_msg_release(&req);
				break;
			}
			if (rc < 0)
				fatal("protocol violation: %s", strerror(errno));
			dispatch(&req);
			priv_msg_release(&req);
		}
	}
	spawn_shutdown(); /* no-op after an orderly SHUTDOWN */
	config_unref(helper_config);
	close(listener_fd);
	log_debug("helper stopped");
	return 0;
}
