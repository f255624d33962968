/*
 * shells.c - shells, commands, pipes and the shell I/O thread (see
 * shells.h).
 *
 * One mutex guards everything here.  The I/O thread owns the epoll set
 * and is the only one that frees commands and shells: other threads unlink
 * them and close their pipes, then leave them on a graveyard list, so an
 * epoll event already returned never points at freed memory.
 *
 * Must not: fork, change uid, or signal processes (the helper does all of
 * that), or block while holding the lock.
 */
#include "autoconfig.h"

#include "listener/shells.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "listener/auth/auth.h"
#include "listener/helper-client.h"
#include "listener/conn.h"
#include "lib/log.h"
#include "listener/request.h"
#include "lib/wsman/ns.h"
#include "listener/runtime.h"

/* Output kept per command before its pipes are left unread. */
#define CMD_BUFFER_MAX (1024 * 1024)
/* Stdin kept per command before Send is refused. */
#define CMD_STDIN_MAX (16 * 1024 * 1024)
/* After the process exits, how long to wait for its pipes to reach EOF
 * (a background child may hold them open) before reporting Done. */
#define EXIT_DRAIN_MS 2000
#define READ_CHUNK 65536

enum stream { STREAM_STDOUT = 0, STREAM_STDERR = 1 };

struct chunk {
	struct chunk *next;
	enum stream stream;
	size_t len;
	uint8_t data[];
};

enum fd_kind { FD_STDIN = 0, FD_STDOUT, FD_STDERR, FD_STATUS };

struct shell;

struct cmd {
	char id[SHELL_ID_LEN + 1];
	struct shell *shell;
	uint64_t serial;          /* epoll cookie: serial << 2 | fd kind */
	uint64_t handle;          /* the helper's */
	int fd[4];
	struct buf stdin_buf;
	size_t stdin_off;
	bool stdin_end;
	struct chunk *head, *tail;
	size_t buffered;
	bool paused;              /* output pipes not polled: buffer full */
	bool exited;
	int exit_code;
	int64_t exited_at;
	bool done_delivered;      /* the Done state reached the client */
	bool removed;             /* terminated or its shell deleted */
	struct request *waiter;   /* the Receive waiting for this command */
	struct cmd *next;         /* in shell->cmds, or in the graveyard */
};

struct shell {
	char id[SHELL_ID_LEN + 1];
	uid_t uid;
	char *owner;
	char *client_ip;
	struct shell_options opts;
	int64_t created;
	int64_t last_activity;
	int64_t idle_timeout_ms;
	struct cmd *cmds;
	bool removed;
	struct shell *next;
};

/* What a waiting or answered Command/Receive keeps (r->shell_wait). */
enum wait_state {
	WAIT_NONE = 0,
	WAIT_SPAWNING,   /* Command: the helper is starting the process */
	WAIT_SPAWNED,    /* Command: the helper answered (reply below) */
	WAIT_OUTPUT,     /* Receive: waiting for output or exit */
	WAIT_WOKEN,      /* Receive: something arrived */
	WAIT_TIMEOUT,    /* Receive: the operation timeout passed */
	WAIT_GONE,       /* Receive: the command went away meanwhile */
	WAIT_DONE,       /* answered */
};

struct shell_wait {
	enum wait_state state;
	int64_t deadline;
	struct priv_msg reply;         /* Command: PRIV_SPAWN_RESULT */
	/* Receive: output taken for the response, and where it came from */
	struct chunk *taken;
	char shell_id[SHELL_ID_LEN + 1];
	char cmd_id[SHELL_ID_LEN + 1];
	uid_t uid;
	bool reported_done;
	struct shell_wait *next;       /* in the list of waiters with deadlines */
};

static struct {
	pthread_mutex_t lock;
	pthread_t thread;
	bool running;
	bool stopping;
	int epfd;
	int evfd;
	struct shell *shells;
	struct cmd *graveyard;
	struct shell *shell_graveyard;
	uint64_t next_serial;
} S = { .lock = PTHREAD_MUTEX_INITIALIZER, .epfd = -1, .evfd = -1,
	.next_serial = 1 };

/* ---- small helpers (lock held) ---- */

static void kick(void)
{
	uint64_t one = 1;
	if (write(S.evfd, &one, sizeof(one)) < 0) {
		/* the counter saturates only if nobody reads: fine */
	}
}

void shell_options_release(struct shell_options *o)
{
	free(o->input_streams);
	free(o->output_streams);
	free(o->working_directory);
	for (size_t i = 0; i < o->n_env; i++) {
		free(o->env[i].name);
		free(o->env[i].value);
	}
	free(o->env);
	free(o->client_shell_id);
	memset(o, 0, sizeof(*o));
}

void shell_info_release(struct shell_info *i)
{
	free(i->owner);
	free(i->client_ip);
	free(i->input_streams);
	free(i->output_streams);
	free(i->working_directory);
	for (size_t k = 0; k < i->n_env; k++) {
		free(i->env[k].name);
		free(i->env[k].value);
	}
	free(i->env);
	memset(i, 0, sizeof(*i));
}

static struct shell *find_shell(const char *id, uid_t uid)
{
	if (id == NULL)
		return NULL;
	for (struct shell *s = S.shells; s != NULL; s = s->next)
		if (s->uid == uid && strcasecmp(s->id, id) == 0)
			return s;
	return NULL;
}

static struct cmd *find_cmd(struct shell *s, const char *id)
{
	if (s == NULL || id == NULL)
		return NULL;
	for (struct cmd *c = s->cmds; c != NULL; c = c->next)
		if (strcasecmp(c->id, id) == 0)
			return c;
	return NULL;
}

static void fill_info(const struct shell *s, struct shell_info *info)
{
	memset(info, 0, sizeof(*info));
	memcpy(info->id, s->id, sizeof(info->id));
	info->owner = xstrdup(s->owner);
	info->client_ip = xstrdup(s->client_ip);
	info->input_streams = xstrdup(s->opts.input_streams);
	info->output_streams = xstrdup(s->opts.output_streams);
	info->working_directory = s->opts.working_directory
					  ? xstrdup(s->opts.working_directory) : NULL;
	info->n_env = s->opts.n_env;
	info->env = xcalloc(s->opts.n_env + 1, sizeof(*info->env));
	for (size_t i = 0; i < s->opts.n_env; i++) {
		info->env[i].name = xstrdup(s->opts.env[i].name);
		info->env[i].value = xstrdup(s->opts.env[i].value);
	}
	int64_t now = time_mono_ms();
	info->idle_timeout_ms = s->idle_timeout_ms;
	info->run_time_ms = now - s->created;
	info->inactivity_ms = now - s->last_activity;
}

static void close_fd(struct cmd *c, enum fd_kind k)
{
	if (c->fd[k] >= 0) {
		epoll_ctl(S.epfd, EPOLL_CTL_DEL, c->fd[k], NULL);
		close(c->fd[k]);
		c->fd[k] = -1;
	}
}

static void wake_waiter(struct cmd *c, enum wait_state why)
{
	struct request *r = c->waiter;
	if (r == NULL)
		return;
	c->waiter = NULL;
	struct shell_wait *w = r->shell_wait;
	if (w != NULL && w->state == WAIT_OUTPUT)
		w->state = why;
	request_wake(r);
}

static void free_chunks(struct chunk *ch)
{
	while (ch != NULL) {
		struct chunk *next = ch->next;
		free(ch);
		ch = next;
	}
}

/* Asks the helper to signal a command; the answer is not waited for. */
static void ignore_reply(void *arg, struct priv_msg *reply)
{
	(void)arg;
	if (reply->type == PRIV_ERROR)
		log_warn("the helper refused a signal");
}

static void helper_signal(uint64_t conn_id, uint64_t handle, uint32_t kind)
{
	struct priv_signal_command m = { .conn = conn_id, .handle = handle,
					 .kind = kind };
	if (priv_request_async(PRIV_SIGNAL, &m, ignore_reply, NULL, NULL) != 0)
		log_warn("cannot signal command %llu: the helper is gone",
			 (unsigned long long)handle);
}

/* Unlinks c from its shell, ends its process (through the helper), closes
 * its pipes and wakes its waiter; the I/O thread frees it.  conn_id names
 * a connection authenticated as the owner, for the helper's check; 0 when
 * winrmd itself ends the shell (idle, run time, shutdown), which the
 * helper allows for termination only. */
static void remove_cmd(struct cmd *c, uint64_t conn_id)
{
	struct shell *s = c->shell;
	for (struct cmd **pp = &s->cmds; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (!c->exited)
		helper_signal(conn_id, c->handle, PRIV_SIGNAL_TERMINATE);
	for (int k = 0; k < 4; k++)
		close_fd(c, (enum fd_kind)k);
	c->removed = true;
	wake_waiter(c, WAIT_GONE);
	c->next = S.graveyard;
	S.graveyard = c;
}

static void remove_shell(struct shell *s, uint64_t conn_id, const char *why)
{
	log_info("shell %s of %s ended: %s", s->id, LOG_ESC(s->owner), why);
	while (s->cmds != NULL)
		remove_cmd(s->cmds, conn_id);
	for (struct shell **pp = &S.shells; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	s->removed = true;
	s->next = S.shell_graveyard;
	S.shell_graveyard = s;
	kick();
}

/* ---- output ---- */

static void append_output(struct cmd *c, enum stream st, const uint8_t *p,
			  size_t n)
{
	struct chunk *ch = xmalloc(sizeof(*ch) + n);
	ch->next = NULL;
	ch->stream = st;
	ch->len = n;
	memcpy(ch->data, p, n);
	if (c->tail != NULL)
		c->tail->next = ch;
	else
		c->head = ch;
	c->tail = ch;
	c->buffered += n;
}

static void set_paused(struct cmd *c, bool paused)
{
	if (c->paused == paused)
		return;
	c->paused = paused;
	for (int k = FD_STDOUT; k <= FD_STDERR; k++) {
		if (c->fd[k] < 0)
			continue;
		struct epoll_event ev = { .events = paused ? 0 : EPOLLIN,
					  .data.u64 = c->serial << 2 | (uint64_t)k };
		epoll_ctl(S.epfd, EPOLL_CTL_MOD, c->fd[k], &ev);
	}
}

static bool finished(const struct cmd *c)
{
	return c->exited && c->fd[FD_STDOUT] < 0 && c->fd[FD_STDERR] < 0;
}

static void update_stdin_interest(struct cmd *c)
{
	if (c->fd[FD_STDIN] < 0)
		return;
	bool want = c->stdin_buf.len > c->stdin_off;
	struct epoll_event ev = { .events = want ? EPOLLOUT : 0,
				  .data.u64 = c->serial << 2 | FD_STDIN };
	epoll_ctl(S.epfd, EPOLL_CTL_MOD, c->fd[FD_STDIN], &ev);
	if (!want && c->stdin_end)
		close_fd(c, FD_STDIN);
}

static void on_readable(struct cmd *c, enum fd_kind k)
{
	uint8_t buf[READ_CHUNK];
	ssize_t n;
	do {
		n = read(c->fd[k], buf, sizeof(buf));
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (k == FD_STATUS) {
		int32_t status = 0;
		if (n == (ssize_t)sizeof(status)) {
			memcpy(&status, buf, sizeof(status));
			/* POSIX has no exit code for a signal: 128 + signal,
			 * as shells report it. */
			c->exit_code = WIFEXITED(status) ? WEXITSTATUS(status)
				     : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
		} else {
			c->exit_code = 255; /* the monitor died */
		}
		c->exited = true;
		c->exited_at = time_mono_ms();
		close_fd(c, FD_STATUS);
	} else if (n <= 0) {
		close_fd(c, k);
	} else {
		append_output(c, k == FD_STDOUT ? STREAM_STDOUT : STREAM_STDERR,
			      buf, (size_t)n);
		if (c->buffered >= CMD_BUFFER_MAX)
			set_paused(c, true);
	}
	wake_waiter(c, WAIT_WOKEN);
}

static void on_writable(struct cmd *c)
{
	while (c->stdin_buf.len > c->stdin_off) {
		ssize_t n = write(c->fd[FD_STDIN], c->stdin_buf.data + c->stdin_off,
				  c->stdin_buf.len - c->stdin_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			/* The process closed its stdin: drop what is left. */
			c->stdin_off = c->stdin_buf.len;
			c->stdin_end = true;
			break;
		}
		c->stdin_off += (size_t)n;
	}
	if (c->stdin_off == c->stdin_buf.len) {
		buf_reset(&c->stdin_buf);
		c->stdin_off = 0;
	}
	update_stdin_interest(c);
}

static struct cmd *cmd_by_serial(uint64_t serial)
{
	for (struct shell *s = S.shells; s != NULL; s = s->next)
		for (struct cmd *c = s->cmds; c != NULL; c = c->next)
			if (c->serial == serial)
				return c;
	return NULL;
}

/* Timers: waiter deadlines, exit drains, idle and run-time limits. */
static int64_t run_timers(int64_t now, const struct winrmd_config *cfg)
{
	int64_t next = now + 1000;
	for (struct shell *s = S.shells, *snext; s != NULL; s = snext) {
		snext = s->next;
		bool waiting = false;
		for (struct cmd *c = s->cmds; c != NULL; c = c->next) {
			if (c->waiter != NULL) {
				waiting = true;
				struct shell_wait *w = c->waiter->shell_wait;
				if (w != NULL && w->deadline <= now)
					wake_waiter(c, WAIT_TIMEOUT);
				else if (w != NULL && w->deadline < next)
					next = w->deadline;
			}
			if (c->exited && !finished(c)) {
				if (now - c->exited_at >= EXIT_DRAIN_MS) {
					/* Something else holds the pipes open:
					 * report the exit now, as Windows does. */
					close_fd(c, FD_STDOUT);
					close_fd(c, FD_STDERR);
					wake_waiter(c, WAIT_WOKEN);
				} else if (c->exited_at + EXIT_DRAIN_MS < next) {
					next = c->exited_at + EXIT_DRAIN_MS;
				}
			}
		}
		if (!waiting && now - s->last_activity >= s->idle_timeout_ms)
			remove_shell(s, 0, "idle timeout");
		else if (now - s->created >= cfg->max_shell_run_time_ms)
			remove_shell(s, 0, "MaxShellRunTime reached");
	}
	return next;
}

static void bury(void)
{
	while (S.graveyard != NULL) {
		struct cmd *c = S.graveyard;
		S.graveyard = c->next;
		free_chunks(c->head);
		buf_release(&c->stdin_buf);
		free(c);
	}
	while (S.shell_graveyard != NULL) {
		struct shell *s = S.shell_graveyard;
		S.shell_graveyard = s->next;
		shell_options_release(&s->opts);
		free(s->owner);
		free(s->client_ip);
		free(s);
	}
}

static void *io_main(void *unused)
{
	struct epoll_event events[64];
	int timeout = 1000;
	for (;;) {
		int n = epoll_wait(S.epfd, events, 64, timeout);
		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			n = 0;
		}
		pthread_mutex_lock(&S.lock);
		if (!S.running) {
			pthread_mutex_unlock(&S.lock);
			break;
		}
		for (int i = 0; i < n; i++) {
			uint64_t d = events[i].data.u64;
			if (d == 0) {
				uint64_t v;
				if (read(S.evfd, &v, sizeof(v)) < 0) {
					/* spurious */
				}
				continue;
			}
			struct cmd *c = cmd_by_serial(d >> 2);
			enum fd_kind k = (enum fd_kind)(d & 3);
			if (c == NULL || c->removed || c->fd[k] < 0)
				continue;
			if (k == FD_STDIN) {
				if (events[i].events & (EPOLLERR | EPOLLHUP)) {
					close_fd(c, FD_STDIN);
					c->stdin_end = true;
				} else {
					on_writable(c);
				}
			} else {
				on_readable(c, k);
			}
		}
		struct winrmd_config *cfg = runtime_config();
		int64_t now = time_mono_ms();
		int64_t next = run_timers(now, cfg);
		config_unref(cfg);
		timeout = next > now ? (int)(next - now) : 0;
		bury();
		pthread_mutex_unlock(&S.lock);
	}
	return NULL;
}

int shells_start(void)
{
	S.epfd = epoll_create1(EPOLL_CLOEXEC);
	S.evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (S.epfd < 0 || S.evfd < 0)
		return -1;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
	if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, S.evfd, &ev) != 0)
		return -1;
	S.running = true;
	if (pthread_create(&S.thread, NULL, io_main, NULL) != 0) {
		S.running = false;
		return -1;
	}
	return 0;
}

void shells_stop(void)
{
	if (!S.running)
		return;
	pthread_mutex_lock(&S.lock);
	S.stopping = true;
	while (S.shells != NULL)
		remove_shell(S.shells, 0, "winrmd is stopping");
	pthread_mutex_unlock(&S.lock);
}

void shells_join(void)
{
	if (!S.running)
		return;
	pthread_mutex_lock(&S.lock);
	S.running = false;
	kick();
	pthread_mutex_unlock(&S.lock);
	pthread_join(S.thread, NULL);
	pthread_mutex_lock(&S.lock);
	bury();
	pthread_mutex_unlock(&S.lock);
	close(S.epfd);
	close(S.evfd);
}


size_t shells_count(void)
{
	pthread_mutex_lock(&S.lock);
	size_t n = 0;
	for (struct shell *s = S.shells; s != NULL; s = s->next)
		n++;
	pthread_mutex_unlock(&S.lock);
	return n;
}

/* ---- operations ---- */

static uid_t caller(const struct request *r)
{
	return r->identity->uid;
}

enum fault_id shells_create(struct request *r, struct shell_options *opts,
			    struct shell_info *info)
{
	const struct winrmd_config *cfg = r->cfg;
	if (!cfg->allow_remote_shell_access)
		return FAULT_SHELLS_NOT_ALLOWED;
	pthread_mutex_lock(&S.lock);
	if (S.stopping) {
		pthread_mutex_unlock(&S.lock);
		return FAULT_INTERNAL_ERROR;
	}
	uid_t uid = caller(r);
	int64_t mine = 0, users = 0;
	bool user_has_shell = false;
	for (struct shell *s = S.shells; s != NULL; s = s->next) {
		if (s->uid == uid) {
			mine++;
			user_has_shell = true;
		}
		bool counted = false;
		for (struct shell *t = S.shells; t != s; t = t->next)
			if (t->uid == s->uid)
				counted = true;
		if (!counted)
			users++;
	}
	if (mine >= cfg->max_shells_per_user) {
		pthread_mutex_unlock(&S.lock);
		log_info("%s: shell refused: MaxShellsPerUser (%lld) reached",
			 LOG_ESC(r->identity->user),
			 (long long)cfg->max_shells_per_user);
		return FAULT_QUOTA_MAX_SHELLS;
	}
	if (!user_has_shell && users >= cfg->max_concurrent_users) {
		pthread_mutex_unlock(&S.lock);
		log_info("%s: shell refused: MaxConcurrentUsers (%lld) reached",
			 LOG_ESC(r->identity->user),
			 (long long)cfg->max_concurrent_users);
		return FAULT_QUOTA_MAX_USERS;
	}
	struct shell *s = xcalloc(1, sizeof(*s));
	if (opts->client_shell_id != NULL && strlen(opts->client_shell_id) == SHELL_ID_LEN &&
	    find_shell(opts->client_shell_id, uid) == NULL) {
		/* PSRP clients choose the id; honour it when it is unique. */
		memcpy(s->id, opts->client_shell_id, SHELL_ID_LEN + 1);
		for (char *p = s->id; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
	} else {
		guid_generate(s->id);
	}
	s->uid = uid;
	s->owner = xstrdup(r->identity->user);
	s->client_ip = xstrdup(r->conn->remote_addr);
	s->opts = *opts;
	memset(opts, 0, sizeof(*opts));
	s->created = s->last_activity = time_mono_ms();
	s->idle_timeout_ms = s->opts.idle_timeout_ms > 0 &&
					     s->opts.idle_timeout_ms < cfg->idle_timeout_ms
				     ? s->opts.idle_timeout_ms : cfg->idle_timeout_ms;
	s->next = S.shells;
	S.shells = s;
	fill_info(s, info);
	pthread_mutex_unlock(&S.lock);
	log_info("shell %s created for %s from %s", s->id,
		 LOG_ESC(r->identity->user), LOG_ESC(r->conn->remote_addr));
	return FAULT_NONE;
}

enum fault_id shells_delete(struct request *r, const char *shell_id)
{
	pthread_mutex_lock(&S.lock);
	struct shell *s = find_shell(shell_id, caller(r));
	if (s == NULL) {
		pthread_mutex_unlock(&S.lock);
		return FAULT_UNEXPECTED_SELECTORS;
	}
	remove_shell(s, r->conn->id, "deleted by the client");
	pthread_mutex_unlock(&S.lock);
	return FAULT_NONE;
}

enum fault_id shells_get(struct request *r, const char *shell_id,
			 struct shell_info *info)
{
	pthread_mutex_lock(&S.lock);
	struct shell *s = find_shell(shell_id, caller(r));
	if (s == NULL) {
		pthread_mutex_unlock(&S.lock);
		return FAULT_UNEXPECTED_SELECTORS;
	}
	fill_info(s, info);
	pthread_mutex_unlock(&S.lock);
	return FAULT_NONE;
}

size_t shells_list(struct request *r, struct shell_info **infos)
{
	pthread_mutex_lock(&S.lock);
	uid_t uid = caller(r);
	size_t n = 0;
	for (struct shell *s = S.shells; s != NULL; s = s->next)
		n += s->uid == uid;
	*infos = n > 0 ? xcalloc(n, sizeof(**infos)) : NULL;
	size_t k = 0;
	for (struct shell *s = S.shells; s != NULL; s = s->next)
		if (s->uid == uid)
			fill_info(s, &(*infos)[k++]);
	pthread_mutex_unlock(&S.lock);
	return n;
}

static struct shell_wait *wait_state(struct request *r)
{
	if (r->shell_wait == NULL) {
		struct shell_wait *w = xcalloc(1, sizeof(*w));
		priv_msg_init(&w->reply, PRIV_NONE);
		r->shell_wait = w;
	}
	return r->shell_wait;
}

static void spawn_answered(void *arg, struct priv_msg *reply)
{
	struct request *r = arg;
	struct shell_wait *w = r->shell_wait;
	w->reply = *reply; /* moves the fds too */
	priv_msg_init(reply, PRIV_NONE);
	pthread_mutex_lock(&S.lock);
	w->state = WAIT_SPAWNED;
	pthread_mutex_unlock(&S.lock);
	request_wake(r);
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

enum fault_id shells_command(struct request *r, const char *shell_id,
			     const struct shell_command_spec *spec,
			     char *id_out)
{
	struct shell_wait *w = wait_state(r);
	const struct winrmd_config *cfg = r->cfg;
	pthread_mutex_lock(&S.lock);
	struct shell *s = find_shell(shell_id, caller(r));
	if (s == NULL) {
		pthread_mutex_unlock(&S.lock);
		/* The shell went away while the process was started: the
		 * descriptors close with the reply. */
		return FAULT_UNEXPECTED_SELECTORS;
	}
	s->last_activity = time_mono_ms();
	if (w->state == WAIT_NONE) {
		int64_t running = 0;
		for (struct cmd *c = s->cmds; c != NULL; c = c->next)
			if (!c->exited)
				running++;
		if (running >= cfg->max_processes_per_shell) {
			pthread_mutex_unlock(&S.lock);
			return FAULT_QUOTA_MAX_PROCESSES;
		}
		uint32_t flags = (spec->skip_shell ? PRIV_SPAWN_SKIP_SHELL : 0) |
				 (s->opts.noprofile ? PRIV_SPAWN_NOPROFILE : 0);
		struct buf line = BUF_INIT;
		struct priv_spawn m = {
			.conn = r->conn->id,
			.flags = flags,
			.cwd = s->opts.working_directory,
			.n_env = s->opts.n_env,
		};
		if (spec->skip_shell) {
			m.program = spec->command;
			m.argc = spec->n_args;
			m.argv = (const char *const *)spec->args;
		} else {
			/* cmd.exe /c style: the command and its arguments
			 * joined by single spaces, not re-quoted. */
			buf_append_str(&line, spec->command);
			for (size_t i = 0; i < spec->n_args; i++) {
				buf_append_byte(&line, ' ');
				buf_append_str(&line, spec->args[i]);
			}
			m.program = (const char *)line.data;
		}
		struct priv_env_var *env = xcalloc(s->opts.n_env + 1, sizeof(*env));
		for (size_t i = 0; i < s->opts.n_env; i++)
			env[i] = (struct priv_env_var){ s->opts.env[i].name,
							s->opts.env[i].value };
		m.env = env;
		m.max_memory = cfg->max_memory_per_shell_mb >= 2147483647
				       ? 0 : (uint64_t)cfg->max_memory_per_shell_mb << 20;
		w->state = WAIT_SPAWNING;
		pthread_mutex_unlock(&S.lock);
		const char *why = NULL;
		int rc = priv_request_async(PRIV_SPAWN, &m, spawn_answered, r, &why);
		buf_release(&line);
		free(env);
		if (rc == -2) {
			/* Resource handlers check the bounds first; this is the
			 * safety net: never a frame the helper must refuse. */
			log_warn("%s: command refused: %s over the limit",
				 r->identity->user, why);
			pthread_mutex_lock(&S.lock);
			w->state = WAIT_NONE;
			pthread_mutex_unlock(&S.lock);
			return FAULT_QUOTA_REQUEST_LIMIT;
		}
		if (rc != 0)
			return FAULT_INTERNAL_ERROR;
		r->handler_pending = true;
		return FAULT_NONE;
	}
	if (w->state != WAIT_SPAWNED) {
		pthread_mutex_unlock(&S.lock);
		return FAULT_INTERNAL_ERROR;
	}
	w->state = WAIT_DONE;
	struct priv_msg *rep = &w->reply;
	struct priv_spawn_result res;
	if (priv_decode_spawn_result(rep, &res, NULL) != 0 ||
	    (res.error == 0 && rep->n_fds != 4)) {
		pthread_mutex_unlock(&S.lock);
		return FAULT_INTERNAL_ERROR;
	}
	if (res.error != 0) {
		pthread_mutex_unlock(&S.lock);
		log_info("%s: command not started: %s", LOG_ESC(r->identity->user),
			 LOG_ESC(res.message));
		return FAULT_PROCESS_START;
	}
	uint64_t handle = res.handle;
	struct cmd *c = xcalloc(1, sizeof(*c));
	c->shell = s;
	c->handle = handle;
	c->serial = S.next_serial++;
	buf_init(&c->stdin_buf);
	for (int k = 0; k < 4; k++) {
		c->fd[k] = priv_take_fd(rep);
		set_nonblock(c->fd[k]);
	}
	if (spec->client_command_id != NULL &&
	    strlen(spec->client_command_id) == SHELL_ID_LEN &&
	    find_cmd(s, spec->client_command_id) == NULL) {
		memcpy(c->id, spec->client_command_id, SHELL_ID_LEN + 1);
		for (char *p = c->id; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
	} else {
		guid_generate(c->id);
	}
	for (int k = 0; k < 4; k++) {
		struct epoll_event ev = {
			.events = k == FD_STDIN ? 0 : EPOLLIN,
			.data.u64 = c->serial << 2 | (uint64_t)k,
		};
		epoll_ctl(S.epfd, EPOLL_CTL_ADD, c->fd[k], &ev);
	}
	c->next = s->cmds;
	s->cmds = c;
	memcpy(id_out, c->id, SHELL_ID_LEN + 1);
	pthread_mutex_unlock(&S.lock);
	return FAULT_NONE;
}

enum fault_id shells_send(struct request *r, const char *shell_id,
			  const char *command_id, const void *data, size_t len,
			  bool end)
{
	pthread_mutex_lock(&S.lock);
	struct shell *s = find_shell(shell_id, caller(r));
	struct cmd *c = find_cmd(s, command_id);
	if (c == NULL) {
		pthread_mutex_unlock(&S.lock);
		return FAULT_UNEXPECTED_SELECTORS;
	}
	s->last_activity = time_mono_ms();
	if (c->fd[FD_STDIN] < 0 || c->stdin_end) {
		/* stdin already closed: Windows drops the bytes silently */
		pthread_mutex_unlock(&S.lock);
		return FAULT_NONE;
	}
	if (c->stdin_buf.len - c->stdin_off + len > CMD_STDIN_MAX) {
		pthread_mutex_unlock(&S.lock);
		return FAULT_QUOTA_LIMIT;
	}
	buf_append(&c->stdin_buf, data, len);
	if (end)
		c->stdin_end = true;
	on_writable(c); /* writes what the pipe takes now, polls for the rest */
	pthread_mutex_unlock(&S.lock);
	return FAULT_NONE;
}

enum fault_id shells_signal(struct request *r, const char *shell_id,
			    const char *command_id, enum shell_signal sig)
{
	pthread_mutex_lock(&S.lock);
	struct shell *s = find_shell(shell_id, caller(r));
	if (s == NULL) {
		pthread_mutex_unlock(&S.lock);
		return FAULT_UNEXPECTED_SELECTORS;
	}
	s->last_activity = time_mono_ms();
	struct cmd *c = find_cmd(s, command_id);
	if (c == NULL) {
		/* Signal after the command is gone succeeds (pywinrm, Go and
		 * Ruby terminate routinely after Done). */
		pthread_mutex_unlock(&S.lock);
		return FAULT_NONE;
	}
	if (sig == SHELL_SIGNAL_TERMINATE) {
		remove_cmd(c, r->conn->id);
	} else if (!c->exited) {
		helper_signal(r->conn->id, c->handle,
			      sig == SHELL_SIGNAL_CTRL_C ? PRIV_SIGNAL_CTRL_C
							 : PRIV_SIGNAL_CTRL_BREAK);
	}
	pthread_mutex_unlock(&S.lock);
	return FAULT_NONE;
}

/* Takes output for one response: whole chunks of the wanted streams in
 * arrival order, up to max bytes (a chunk is split when needed). */
static struct chunk *take_output(struct cmd *c, bool want_out, bool want_err,
				 size_t max)
{
	struct chunk *taken = NULL, **tail = &taken;
	size_t total = 0;
	struct chunk **pp = &c->head;
	while (*pp != NULL && total < max) {
		struct chunk *ch = *pp;
		bool want = ch->stream == STREAM_STDOUT ? want_out : want_err;
		if (!want) {
			pp = &ch->next;
			continue;
		}
		if (total + ch->len > max) {
			/* Split: the first part goes out, the rest stays. */
			size_t part = max - total;
			struct chunk *first = xmalloc(sizeof(*first) + part);
			first->next = NULL;
			first->stream = ch->stream;
			first->len = part;
			memcpy(first->data, ch->data, part);
			memmove(ch->data, ch->data + part, ch->len - part);
			ch->len -= part;
			c->buffered -= part;
			*tail = first;
			total += part;
			break;
		}
		*pp = ch->next;
		ch->next = NULL;
		*tail = ch;
		tail = &ch->next;
		total += ch->len;
		c->buffered -= ch->len;
	}
	/* recompute the tail */
	c->tail = NULL;
	for (struct chunk *ch = c->head; ch != NULL; ch = ch->next)
		c->tail = ch;
	if (c->paused && c->buffered < CMD_BUFFER_MAX / 2)
		set_paused(c, false);
	return taken;
}

static bool has_output(const struct cmd *c, bool want_out, bool want_err)
{
	for (const struct chunk *ch = c->head; ch != NULL; ch = ch->next)
		if (ch->stream == STREAM_STDOUT ? want_out : want_err)
			return true;
	return false;
}

static void render_stream(struct buf *out, const char *name, const char *cmd_id,
			  const uint8_t *data, size_t len, bool end)
{
	buf_printf(out, "<rsp:Stream Name=\"%s\" CommandId=\"%s\"%s>", name,
		   cmd_id, end ? " End=\"true\"" : "");
	base64_encode(out, data, len);
	buf_append_str(out, "</rsp:Stream>");
}

enum fault_id shells_receive(struct request *r, const char *shell_id,
			     const char *command_id, bool want_stdout,
			     bool want_stderr, int64_t timeout_ms,
			     size_t max_payload, struct buf *out)
{
	struct shell_wait *w = wait_state(r);
	pthread_mutex_lock(&S.lock);
	if (w->state == WAIT_NONE) {
		w->deadline = time_mono_ms() + timeout_ms;
		snprintf(w->shell_id, sizeof(w->shell_id), "%s", shell_id);
		snprintf(w->cmd_id, sizeof(w->cmd_id), "%s", command_id);
		w->uid = caller(r);
	}
	struct shell *s = find_shell(shell_id, caller(r));
	struct cmd *c = find_cmd(s, command_id);
	if (c == NULL) {
		pthread_mutex_unlock(&S.lock);
		return FAULT_UNEXPECTED_SELECTORS;
	}
	s->last_activity = time_mono_ms();
	if (S.stopping) {
		pthread_mutex_unlock(&S.lock);
		return FAULT_INTERNAL_ERROR;
	}
	bool ready = has_output(c, want_stdout, want_stderr) || finished(c);
	if (!ready) {
		if (w->state == WAIT_TIMEOUT || w->state == WAIT_GONE ||
		    time_mono_ms() >= w->deadline) {
			pthread_mutex_unlock(&S.lock);
			return FAULT_TIMED_OUT;
		}
		if (c->waiter != NULL && c->waiter != r) {
			/* A newer Receive (the client reconnected) replaces
			 * the waiting one, which answers TimedOut. */
			wake_waiter(c, WAIT_TIMEOUT);
		}
		c->waiter = r;
		w->state = WAIT_OUTPUT;
		r->handler_pending = true;
		pthread_mutex_unlock(&S.lock);
		kick(); /* the I/O thread recomputes its next deadline */
		return FAULT_NONE;
	}
	if (c->waiter == r)
		c->waiter = NULL;
	if ((w->state == WAIT_OUTPUT || w->state == WAIT_WOKEN) &&
	    request_peer_gone(r)) {
		/* The client left while this Receive waited: what it would
		 * get stays for the next Receive (a write to a closed
		 * socket may still succeed, so delivery cannot tell). */
		w->state = WAIT_TIMEOUT;
		pthread_mutex_unlock(&S.lock);
		log_info("receive for command %s: the client left; output kept",
			 c->id);
		r->resp.close = true;
		return FAULT_TIMED_OUT;
	}
	w->state = WAIT_DONE;
	struct chunk *taken = take_output(c, want_stdout, want_stderr, max_payload);
	bool done = finished(c) && !has_output(c, want_stdout, want_stderr);
	buf_append_str(out, "<rsp:ReceiveResponse>");
	for (struct chunk *ch = taken; ch != NULL; ch = ch->next)
		render_stream(out, ch->stream == STREAM_STDOUT ? "stdout" : "stderr",
			      c->id, ch->data, ch->len, false);
	if (done) {
		if (want_stdout)
			render_stream(out, "stdout", c->id, NULL, 0, true);
		if (want_stderr)
			render_stream(out, "stderr", c->id, NULL, 0, true);
		buf_printf(out,
			   "<rsp:CommandState CommandId=\"%s\" State=\"" NS_SHELL_STATE
			   "/Done\"><rsp:ExitCode>%d</rsp:ExitCode></rsp:CommandState>",
			   c->id, c->exit_code);
	} else {
		buf_printf(out,
			   "<rsp:CommandState CommandId=\"%s\" State=\"" NS_SHELL_STATE
			   "/Running\"></rsp:CommandState>", c->id);
	}
	buf_append_str(out, "</rsp:ReceiveResponse>");
	/* Kept until the response is known to be sent (see below). */
	w->taken = taken;
	w->reported_done = done;
	pthread_mutex_unlock(&S.lock);
	return FAULT_NONE;
}

void shells_request_finished(struct request *r, bool delivered)
{
	struct shell_wait *w = r->shell_wait;
	if (w == NULL)
		return;
	pthread_mutex_lock(&S.lock);
	struct shell *s = find_shell(w->shell_id, w->uid);
	struct cmd *c = find_cmd(s, w->cmd_id);
	if (c != NULL && c->waiter == r)
		c->waiter = NULL;
	if (!delivered && w->taken != NULL && c != NULL) {
		/* The client did not get this output: it goes back in front,
		 * for the next Receive. */
		struct chunk *last = w->taken;
		while (last->next != NULL)
			last = last->next;
		for (struct chunk *ch = w->taken; ch != NULL; ch = ch->next)
			c->buffered += ch->len;
		last->next = c->head;
		c->head = w->taken;
		if (c->tail == NULL)
			c->tail = last;
		w->taken = NULL;
		log_info("receive for command %s not delivered; output kept", c->id);
	}
	if (delivered && w->reported_done && c != NULL)
		c->done_delivered = true;
	free_chunks(w->taken);
	pthread_mutex_unlock(&S.lock);
	priv_msg_release(&w->reply);
	free(w);
	r->shell_wait = NULL;
}
