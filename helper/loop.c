/*
 * loop.c - the helper's shared services (see loop.h): the configuration
 * in use, typed answers to the listener, fd watches, timers and child
 * processes for helper.c's poll loop.
 *
 * Must not: know any request type (the modules do) or read from the
 * listener (helper.c does).
 */
#include "autoconfig.h"

#include "helper/loop.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <syslog.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper/closefds.h"
#include "lib/log.h"

struct winrmd_config *helper_config;

static int listener_fd = -1;
static int signal_fd = -1;
static void (*config_hook)(void);
static const char *config_path;

void helper_set_config_path(const char *path)
{
	config_path = path;
}

const char *helper_config_path(void)
{
	return config_path;
}

void helper_set_listener_fd(int fd)
{
	listener_fd = fd;
}

void helper_set_signal_fd(int fd)
{
	signal_fd = fd;
}

void helper_set_config_hook(void (*hook)(void))
{
	config_hook = hook;
}

void helper_config_install(struct winrmd_config *cfg)
{
	config_unref(helper_config);
	helper_config = cfg;
	log_set_level((enum log_level)cfg->log_level);
	log_audit_syslog(cfg->audit_syslog);
	if (config_hook != NULL)
		config_hook();
}

/* ---- answers ---- */

void helper_answer(uint32_t seq, uint16_t type, const void *s, const int *fds,
		   unsigned n_fds)
{
	struct priv_msg m;
	const char *why;
	if (priv_encode(&m, type, s, &why) != 0)
		fatal("cannot encode %s: %s", priv_type_name(type), why);
	m.seq = seq;
	for (unsigned i = 0; i < n_fds; i++)
		if (priv_put_fd(&m, fds[i]) != 0)
			fatal("%s with too many descriptors",
			      priv_type_name(type));
	if (priv_send(listener_fd, &m) != 0) {
		priv_msg_release(&m);
		log_err("cannot write to the listener: %s; exiting",
			strerror(errno));
		exit(1);
	}
	priv_msg_release(&m);
}

/* The common start of every answer that can be a refusal. */
struct refusal {
	uint32_t error;
	const char *message;
};

void helper_refuse(uint32_t seq, uint16_t type, uint32_t error,
		   const char *message)
{
	/* Large enough and aligned for any answer struct. */
	_Alignas(max_align_t) uint8_t s[PRIV_MAX_STRUCT];
	size_t size = priv_struct_size(type);
	if (size < sizeof(struct refusal) || size > sizeof(s))
		fatal("%s cannot carry a refusal", priv_type_name(type));
	memset(s, 0, sizeof(s));
	struct refusal *r = (struct refusal *)s;
	r->error = error;
	r->message = message;
	helper_answer(seq, type, s, NULL, 0);
}

/* ---- fd watches ---- */

static struct watch {
	int fd;
	short events;
	helper_fd_cb cb;
	void *arg;
} watches[HELPER_MAX_WATCHES];
static size_t n_watches;

int helper_watch_fd(int fd, helper_fd_cb cb, void *arg)
{
	if (n_watches >= HELPER_MAX_WATCHES)
		return -1;
	watches[n_watches].fd = fd;
	watches[n_watches].events = POLLIN;
	watches[n_watches].cb = cb;
	watches[n_watches].arg = arg;
	n_watches++;
	return 0;
}

bool helper_watch_room(unsigned n)
{
	return n_watches + n <= HELPER_MAX_WATCHES;
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

void helper_watch_set_events(int fd, short events)
{
	for (size_t i = 0; i < n_watches; i++)
		if (watches[i].fd == fd)
			watches[i].events = events;
}

size_t helper_watch_pollfds(struct pollfd *out, size_t max)
{
	size_t n = n_watches < max ? n_watches : max;
	for (size_t i = 0; i < n; i++)
		out[i] = (struct pollfd){ .fd = watches[i].fd,
					  .events = watches[i].events };
	return n;
}

void helper_watch_dispatch(const struct pollfd *pfd, size_t n)
{
	/* Callbacks may add or remove watches, so look each fd up again
	 * before calling. */
	for (size_t i = 0; i < n; i++) {
		if (!(pfd[i].revents & (POLLIN | POLLOUT | POLLHUP | POLLERR)))
			continue;
		for (size_t j = 0; j < n_watches; j++) {
			if (watches[j].fd == pfd[i].fd) {
				watches[j].cb(watches[j].arg, watches[j].fd);
				break;
			}
		}
	}
}

/* ---- timers ---- */

struct timer {
	int64_t at;
	helper_timer_cb cb;
	void *arg;
	struct timer *next;
};
static struct timer *timers; /* sorted by deadline */

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

int helper_run_timers(void)
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

/* ---- children ---- */

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

void helper_reap_children(void)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (struct child **pp = &children; *pp != NULL;
		     pp = &(*pp)->next) {
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

void helper_child_init(const int *keep, size_t n)
{
	/* Not only the helper's own descriptors: the pipes of commands
	 * still starting (held by the helper until they go to the
	 * listener) would keep another user's stdin open for as long as
	 * this child lives. */
	/* syslog(3)'s socket (Logging.AuditSyslog) first, so that it
	 * reconnects when needed rather than write to a reused number. */
	closelog();
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
