/*
 * shells.c - the shell store: shells, commands, pipes and the shell I/O
 * thread (see shells.h).
 *
 * One mutex guards everything here, the ops included.  The I/O thread owns
 * the epoll set and is the only one that frees commands and shells: other
 * threads unlink them and close their pipes, then leave them on a
 * graveyard list, so an epoll event already returned never points at
 * freed memory.  A waiting Receive is a struct shell_op linked from its
 * command (cmd->waiter); waking it clears that link under the lock, so a
 * waiter runs once and never after its op ended.
 *
 * Must not: fork, change uid, or signal processes (the helper does all of
 * that), block while holding the lock, or know about HTTP, requests or
 * XML (the shell resource renders; callers wait through shell_waiter).
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

#include "lib/base64.h"
#include "lib/log.h"
#include "lib/priv/msg.h"
#include "lib/util.h"
#include "listener/helper-client.h"
#include "listener/runtime.h"

/* Output kept per command before its pipes are left unread. */
#define CMD_BUFFER_MAX (1024 * 1024)
/* Stdin queued per command beyond which a Send's answer waits until the
 * process has read it down to this (so a client sends no faster than the
 * command reads, as over a pipe). */
#define CMD_STDIN_WAIT (1024 * 1024)
/* Stdin queued per command before a Send is refused: only a client that
 * sends without waiting for answers (several connections) gets there. */
#define CMD_STDIN_MAX (16 * 1024 * 1024)
/* After the process exits, how long to wait for its pipes to reach EOF
 * (a background child may hold them open) before reporting Done. */
#define EXIT_DRAIN_MS 2000
#define READ_CHUNK 65536
/* epoll events the I/O thread takes at once (and outputs it encodes
 * between two holds of the lock) */
#define IO_EVENTS 64
/* What a command's stdin and stdout pipes hold (Linux's default is 64 KiB) */
#define PIPE_SIZE (256 * 1024)

/* stdin not yet written to the process: a Send's decoded bytes, taken
 * over from the handler (no copy), wiped when written */
struct chunk {
	struct chunk *next;
	struct buf bytes;
};

/* Output as read from a pipe, kept as its base64 text (standalone and
 * padded, one rsp:Stream element): the I/O thread encodes while the
 * client is busy with the previous answer, which keeps the encoding off
 * the Receive's path. */
struct out_chunk {
	struct out_chunk *next;
	enum shell_stream stream;
	size_t len;     /* the raw bytes (still to send) */
	size_t skip;    /* text already sent from the front of b64 */
	size_t b64_len; /* the text at b64 + skip, BASE64_LEN(len) */
	char b64[];
};

enum fd_kind { FD_STDIN = 0, FD_STDOUT, FD_STDERR, FD_STATUS };

struct shell;

struct cmd {
	char id[SHELL_ID_LEN + 1];
	struct shell *shell;
	uint64_t serial; /* epoll cookie: serial << 2 | fd kind */
	uint64_t handle; /* the helper's */
	int fd[4];
	/* stdin not yet written to the process, in Send order */
	struct chunk *in_head, *in_tail;
	size_t in_off;     /* bytes of in_head already written */
	size_t in_pending; /* bytes queued, in_off excluded */
	bool stdin_end;
	struct out_chunk *head, *tail;
	size_t buffered; /* raw bytes in head...tail */
	bool paused;     /* output pipes not polled: buffer full */
	bool exited;
	int exit_code;
	int64_t exited_at;
	bool removed;                 /* terminated or its shell deleted */
	struct shell_op *waiter;      /* the Receive waiting for this command */
	struct shell_op *send_waiter; /* a Send waiting for stdin to drain */
	struct cmd *next;             /* in shell->cmds, or in the graveyard */
};

struct shell {
	char id[SHELL_ID_LEN + 1];
	uid_t uid;
	char *owner;
	char *client_ip;
	uint64_t conn_id;     /* of the Create, for the audit line of an end */
	unsigned client_port; /* the daemon decides on */
	struct shell_options opts;
	int64_t created;
	int64_t last_activity;
	int64_t idle_timeout_ms;
	struct cmd *cmds;
	bool removed;
	struct shell *next;
};

/* Where a Command or Receive stands between its calls. */
enum op_state {
	OP_NEW = 0,
	OP_SPAWNING,  /* Command: the helper is starting the process */
	OP_SPAWNED,   /* Command: the helper answered (reply below) */
	OP_ABANDONED, /* Command: ended while spawning; the answer frees it */
	OP_WAITING,   /* Receive: waiting for output or exit; Send: for the
			 process to read its stdin */
	OP_WOKEN,     /* Receive: something arrived; Send: stdin drained */
	OP_TIMEOUT, /* Receive, Send: the timeout passed, or a newer one came */
	OP_GONE,    /* Receive, Send: the command went away meanwhile */
	OP_DONE,    /* answered */
};

struct shell_op {
	enum op_state state;
	struct shell_waiter waiter;
	int64_t deadline;
	struct priv_msg reply; /* Command: PRIV_SPAWN_RESULT */
	/* Receive: output taken for the answer, and where it came from */
	struct out_chunk *taken;
	struct shell_output *output; /* views of taken, for the caller */
	char shell_id[SHELL_ID_LEN + 1];
	char cmd_id[SHELL_ID_LEN + 1];
	uid_t uid;
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
} S = { .lock = PTHREAD_MUTEX_INITIALIZER,
	.epfd = -1,
	.evfd = -1,
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
					  ? xstrdup(s->opts.working_directory)
					  : NULL;
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

/* Runs the waiter of the Receive waiting for c, if any, once. */
static void wake_waiter(struct cmd *c, enum op_state why)
{
	struct shell_op *op = c->waiter;
	if (op == NULL)
		return;
	c->waiter = NULL;
	if (op->state == OP_WAITING)
		op->state = why;
	op->waiter.wake(op->waiter.arg);
}

/* Runs the waiter of the Send waiting for c's stdin, if any, once. */
static void wake_send_waiter(struct cmd *c, enum op_state why)
{
	struct shell_op *op = c->send_waiter;
	if (op == NULL)
		return;
	c->send_waiter = NULL;
	if (op->state == OP_WAITING)
		op->state = why;
	op->waiter.wake(op->waiter.arg);
}

static void free_chunk(struct chunk *ch)
{
	buf_release_secret(&ch->bytes);
	free(ch);
}

static void free_chunks(struct chunk *ch)
{
	while (ch != NULL) {
		struct chunk *next = ch->next;
		free_chunk(ch);
		ch = next;
	}
}

static void free_out_chunks(struct out_chunk *ch)
{
	while (ch != NULL) {
		struct out_chunk *next = ch->next;
		free(ch);
		ch = next;
	}
}

/* Asks the helper to signal a command or end a shell; the answer is not
 * waited for. */
static void ignore_reply(void *arg, struct priv_msg *reply)
{
	(void)arg;
	if (reply->type == PRIV_ERROR)
		log_warn("the helper refused a signal or a shell's end");
}

static void helper_signal(uint64_t conn_id, uint64_t handle, uint32_t kind)
{
	struct priv_signal_command m = { .conn = conn_id,
					 .handle = handle,
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
	wake_waiter(c, OP_GONE);
	wake_send_waiter(c, OP_GONE);
	c->next = S.graveyard;
	S.graveyard = c;
}

static void remove_shell(struct shell *s, uint64_t conn_id, const char *why)
{
	log_info("shell %s of %s ended: %s", s->id, LOG_ESC(s->owner), why);
	if (conn_id == 0) /* the daemon ends it: audited with its Create's
			     connection (a client's Delete is audited by
			     the shell resource) */
		log_audit_event(&(const struct audit_peer){ s->conn_id,
							    s->client_ip,
							    s->client_port },
				"shell",
				"user=%s action=end shell=%s reason=\"%s\"",
				LOG_ESC(s->owner), s->id, why);
	while (s->cmds != NULL)
		remove_cmd(s->cmds, conn_id);
	/* What the helper keeps for the shell (its systemd slice, delegated
	 * credentials) goes too; not waited for. */
	struct priv_shell_end end = { .uid = (uint32_t)s->uid,
				      .shell_id = s->id };
	if (priv_request_async(PRIV_SHELL_END, &end, ignore_reply, NULL,
			       NULL) != 0)
		log_warn("cannot end shell %s in the helper: it is gone",
			 s->id);
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

/* Output read from a pipe under the lock, to be encoded after it (see
 * io_main): base64 is most of the I/O thread's time, and a Receive that
 * waited for the lock meanwhile would wait for all of it. */
struct raw_output {
	struct cmd *c;
	enum shell_stream stream;
	size_t len;
	uint8_t *data; /* owned, READ_CHUNK bytes */
	struct out_chunk *encoded;
};

/* Encodes ro's bytes into a new chunk (no lock needed: touches only ro). */
static void encode_output(struct raw_output *ro)
{
	struct out_chunk *ch = xmalloc(sizeof(*ch) + BASE64_LEN(ro->len) + 1);
	ch->next = NULL;
	ch->stream = ro->stream;
	ch->len = ro->len;
	ch->skip = 0;
	ch->b64_len = base64_encode_to(ch->b64, ro->data, ro->len);
	ro->encoded = ch;
}

static void append_output(struct cmd *c, struct out_chunk *ch)
{
	if (c->tail != NULL)
		c->tail->next = ch;
	else
		c->head = ch;
	c->tail = ch;
	c->buffered += ch->len;
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
					  .data.u64 = c->serial << 2 |
						      (uint64_t)k };
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
	bool want = c->in_pending > 0;
	struct epoll_event ev = { .events = want ? EPOLLOUT : 0,
				  .data.u64 = c->serial << 2 | FD_STDIN };
	epoll_ctl(S.epfd, EPOLL_CTL_MOD, c->fd[FD_STDIN], &ev);
	if (!want && c->stdin_end)
		close_fd(c, FD_STDIN);
}

/* Reads what fd k of c has (lock held).  Output goes to *ro for the
 * caller to encode and hand to output_arrived; returns whether it did. */
static bool on_readable(struct cmd *c, enum fd_kind k, struct raw_output *ro)
{
	uint8_t status_buf[sizeof(int32_t) + 1];
	uint8_t *buf = k == FD_STATUS ? status_buf : xmalloc(READ_CHUNK);
	size_t size = k == FD_STATUS ? sizeof(status_buf) : READ_CHUNK;
	ssize_t n;
	do {
		n = read(c->fd[k], buf, size);
	} while (n < 0 && errno == EINTR);
	if (n > 0 && k != FD_STATUS) {
		*ro = (struct raw_output){
			.c = c,
			.stream = k == FD_STDOUT ? SHELL_STDOUT : SHELL_STDERR,
			.len = (size_t)n,
			.data = buf,
		};
		return true;
	}
	if (buf != status_buf)
		free(buf);
	if (n < 0 && errno == EAGAIN)
		return false;
	if (k == FD_STATUS) {
		int32_t status = 0;
		if (n == (ssize_t)sizeof(status)) {
			memcpy(&status, status_buf, sizeof(status));
			/* POSIX has no exit code for a signal: 128 + signal,
			 * as shells report it. */
			c->exit_code = WIFEXITED(status) ? WEXITSTATUS(status)
				       : WIFSIGNALED(status)
					       ? 128 + WTERMSIG(status)
					       : 255;
		} else {
			c->exit_code = 255; /* the monitor died */
		}
		c->exited = true;
		c->exited_at = time_mono_ms();
		close_fd(c, FD_STATUS);
	} else {
		close_fd(c, k); /* EOF or an error */
	}
	wake_waiter(c, OP_WOKEN);
	return false;
}

/* Hands encoded output to its command (lock held); takes ro's chunk. */
static void output_arrived(struct raw_output *ro)
{
	struct cmd *c = ro->c;
	if (c->removed) {
		/* ended meanwhile: nobody will receive it */
		free_out_chunks(ro->encoded);
		return;
	}
	append_output(c, ro->encoded);
	if (c->buffered >= CMD_BUFFER_MAX)
		set_paused(c, true);
	wake_waiter(c, OP_WOKEN);
}

/* The process will read no more stdin: what is queued is dropped (as a
 * write to a closed pipe would lose it) and a waiting Send answers. */
static void drop_stdin(struct cmd *c)
{
	free_chunks(c->in_head);
	c->in_head = c->in_tail = NULL;
	c->in_off = c->in_pending = 0;
	c->stdin_end = true;
	wake_send_waiter(c, OP_WOKEN);
}

static void on_writable(struct cmd *c)
{
	while (c->in_head != NULL) {
		struct chunk *ch = c->in_head;
		ssize_t n = write(c->fd[FD_STDIN], ch->bytes.data + c->in_off,
				  ch->bytes.len - c->in_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			/* The process closed its stdin. */
			drop_stdin(c);
			break;
		}
		c->in_off += (size_t)n;
		c->in_pending -= (size_t)n;
		if (c->in_off == ch->bytes.len) {
			c->in_head = ch->next;
			if (c->in_head == NULL)
				c->in_tail = NULL;
			c->in_off = 0;
			free_chunk(ch);
		}
	}
	if (c->in_pending <= CMD_STDIN_WAIT)
		wake_send_waiter(c, OP_WOKEN);
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
				int64_t deadline = c->waiter->deadline;
				if (deadline <= now)
					wake_waiter(c, OP_TIMEOUT);
				else if (deadline < next)
					next = deadline;
			}
			if (c->send_waiter != NULL) {
				waiting = true;
				int64_t deadline = c->send_waiter->deadline;
				if (deadline <= now)
					wake_send_waiter(c, OP_TIMEOUT);
				else if (deadline < next)
					next = deadline;
			}
			if (c->exited && !finished(c)) {
				if (now - c->exited_at >= EXIT_DRAIN_MS) {
					/* Something else holds the pipes open:
					 * report the exit now, as Windows does. */
					close_fd(c, FD_STDOUT);
					close_fd(c, FD_STDERR);
					wake_waiter(c, OP_WOKEN);
				} else if (c->exited_at + EXIT_DRAIN_MS <
					   next) {
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
		free_out_chunks(c->head);
		free_chunks(c->in_head);
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
	struct epoll_event events[IO_EVENTS];
	int timeout = 1000;
	for (;;) {
		int n = epoll_wait(S.epfd, events, IO_EVENTS, timeout);
		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			n = 0;
		}
		pthread_mutex_lock(&S.lock);
		if (!S.running) {
			pthread_mutex_unlock(&S.lock);
			break;
		}
		struct raw_output got[IO_EVENTS];
		size_t n_got = 0;
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
					drop_stdin(c);
				} else {
					on_writable(c);
				}
			} else if (on_readable(c, k, &got[n_got])) {
				n_got++;
			}
		}
		if (n_got > 0) {
			/* Commands stay allocated while unlocked: only this
			 * thread frees them (bury, below). */
			pthread_mutex_unlock(&S.lock);
			for (size_t i = 0; i < n_got; i++) {
				encode_output(&got[i]);
				free(got[i].data);
			}
			pthread_mutex_lock(&S.lock);
			for (size_t i = 0; i < n_got; i++)
				output_arrived(&got[i]);
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

/* ---- shells ---- */

/* Counts the caller's shells and the accounts that have shells. */
static void count_shells(uid_t uid, int64_t *mine, int64_t *users)
{
	*mine = *users = 0;
	for (struct shell *s = S.shells; s != NULL; s = s->next) {
		if (s->uid == uid)
			(*mine)++;
		bool counted = false;
		for (struct shell *t = S.shells; t != s; t = t->next)
			if (t->uid == s->uid)
				counted = true;
		if (!counted)
			(*users)++;
	}
}

/* Copies a client-chosen id (PSRP) in upper case. */
static void copy_client_id(char *dst, const char *id)
{
	memcpy(dst, id, SHELL_ID_LEN + 1);
	for (char *p = dst; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
}

enum shell_status shells_create(const struct winrmd_config *cfg,
				const struct shell_caller *who,
				struct shell_options *opts,
				struct shell_info *info)
{
	if (!cfg->allow_remote_shell_access)
		return SHELL_NOT_ALLOWED;
	pthread_mutex_lock(&S.lock);
	if (S.stopping) {
		pthread_mutex_unlock(&S.lock);
		return SHELL_INTERNAL;
	}
	int64_t mine, users;
	count_shells(who->uid, &mine, &users);
	if (mine >= cfg->max_shells_per_user) {
		pthread_mutex_unlock(&S.lock);
		log_info("%s: shell refused: MaxShellsPerUser (%lld) reached",
			 LOG_ESC(who->user),
			 (long long)cfg->max_shells_per_user);
		return SHELL_MAX_SHELLS;
	}
	if (mine == 0 && users >= cfg->max_concurrent_users) {
		pthread_mutex_unlock(&S.lock);
		log_info("%s: shell refused: MaxConcurrentUsers (%lld) reached",
			 LOG_ESC(who->user),
			 (long long)cfg->max_concurrent_users);
		return SHELL_MAX_USERS;
	}
	struct shell *s = xcalloc(1, sizeof(*s));
	if (opts->client_shell_id != NULL &&
	    guid_valid(opts->client_shell_id) &&
	    find_shell(opts->client_shell_id, who->uid) == NULL) {
		/* PSRP clients choose the id; honour a GUID when it is unique
		 * (the helper names the shell's systemd slice after it). */
		copy_client_id(s->id, opts->client_shell_id);
	} else {
		guid_generate(s->id);
	}
	s->uid = who->uid;
	s->owner = xstrdup(who->user);
	s->client_ip = xstrdup(who->client_ip);
	s->conn_id = who->conn_id;
	s->client_port = who->client_port;
	s->opts = *opts;
	memset(opts, 0, sizeof(*opts));
	s->created = s->last_activity = time_mono_ms();
	s->idle_timeout_ms = s->opts.idle_timeout_ms > 0 &&
					     s->opts.idle_timeout_ms <
						     cfg->idle_timeout_ms
				     ? s->opts.idle_timeout_ms
				     : cfg->idle_timeout_ms;
	s->next = S.shells;
	S.shells = s;
	fill_info(s, info);
	pthread_mutex_unlock(&S.lock);
	log_info("shell %s created for %s from %s", info->id,
		 LOG_ESC(who->user), LOG_ESC(who->client_ip));
	return SHELL_OK;
}

enum shell_status shells_delete(const struct shell_caller *who,
				const char *shell_id)
{
	pthread_mutex_lock(&S.lock);
	struct shell *s = find_shell(shell_id, who->uid);
	if (s == NULL) {
		pthread_mutex_unlock(&S.lock);
		return SHELL_NOT_FOUND;
	}
	remove_shell(s, who->conn_id, "deleted by the client");
	pthread_mutex_unlock(&S.lock);
	return SHELL_OK;
}

enum shell_status shells_get(const struct shell_caller *who,
			     const char *shell_id, struct shell_info *info)
{
	pthread_mutex_lock(&S.lock);
	struct shell *s = find_shell(shell_id, who->uid);
	if (s == NULL) {
		pthread_mutex_unlock(&S.lock);
		return SHELL_NOT_FOUND;
	}
	fill_info(s, info);
	pthread_mutex_unlock(&S.lock);
	return SHELL_OK;
}

size_t shells_list(const struct shell_caller *who, struct shell_info **infos)
{
	pthread_mutex_lock(&S.lock);
	size_t n = 0;
	for (struct shell *s = S.shells; s != NULL; s = s->next)
		n += s->uid == who->uid;
	*infos = n > 0 ? xcalloc(n, sizeof(**infos)) : NULL;
	size_t k = 0;
	for (struct shell *s = S.shells; s != NULL; s = s->next)
		if (s->uid == who->uid)
			fill_info(s, &(*infos)[k++]);
	pthread_mutex_unlock(&S.lock);
	return n;
}

/* ---- ops ---- */

struct shell_op *shells_op_new(void)
{
	struct shell_op *op = xcalloc(1, sizeof(*op));
	priv_msg_init(&op->reply, PRIV_NONE);
	return op;
}

static void op_free(struct shell_op *op)
{
	priv_msg_release(&op->reply);
	free_out_chunks(op->taken);
	free(op->output);
	free(op);
}

/* Puts the output an op took back in front of c's buffers (lock held). */
static void put_back(struct cmd *c, struct shell_op *op)
{
	struct out_chunk *last = op->taken;
	while (last->next != NULL)
		last = last->next;
	for (struct out_chunk *ch = op->taken; ch != NULL; ch = ch->next)
		c->buffered += ch->len;
	last->next = c->head;
	c->head = op->taken;
	if (c->tail == NULL)
		c->tail = last;
	op->taken = NULL;
	log_info("receive for command %s not delivered; output kept", c->id);
}

void shells_op_end(struct shell_op *op, bool delivered)
{
	if (op == NULL)
		return;
	pthread_mutex_lock(&S.lock);
	if (op->state == OP_SPAWNING) {
		/* The helper's answer is still to come: it frees op. */
		op->state = OP_ABANDONED;
		pthread_mutex_unlock(&S.lock);
		return;
	}
	struct shell *s = find_shell(op->shell_id, op->uid);
	struct cmd *c = find_cmd(s, op->cmd_id);
	if (c != NULL && c->waiter == op)
		c->waiter = NULL;
	if (c != NULL && c->send_waiter == op)
		c->send_waiter = NULL;
	if (!delivered && op->taken != NULL && c != NULL) {
		/* The client did not get this output: it goes back in front,
		 * for the next Receive. */
		put_back(c, op);
	}
	pthread_mutex_unlock(&S.lock);
	op_free(op);
}

/* ---- Command ---- */

/* The helper answered a PRIV_SPAWN (on the helper client's reader). */
static void spawn_answered(void *arg, struct priv_msg *reply)
{
	struct shell_op *op = arg;
	pthread_mutex_lock(&S.lock);
	if (op->state == OP_ABANDONED) {
		/* Nobody waits: the descriptors close with the reply. */
		pthread_mutex_unlock(&S.lock);
		op_free(op);
		return;
	}
	op->reply = *reply; /* moves the fds too */
	priv_msg_init(reply, PRIV_NONE);
	op->state = OP_SPAWNED;
	op->waiter.wake(op->waiter.arg);
	pthread_mutex_unlock(&S.lock);
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int64_t running_cmds(const struct shell *s)
{
	int64_t running = 0;
	for (const struct cmd *c = s->cmds; c != NULL; c = c->next)
		if (!c->exited)
			running++;
	return running;
}

/* Asks the helper to start spec in s (lock held on entry, released on
 * return); its answer wakes op's waiter. */
static enum shell_status start_spawn(struct shell_op *op,
				     const struct winrmd_config *cfg,
				     const struct shell_caller *who,
				     struct shell *s,
				     const struct shell_command_spec *spec)
{
	uint32_t flags = (spec->skip_shell ? PRIV_SPAWN_SKIP_SHELL : 0) |
			 (s->opts.noprofile ? PRIV_SPAWN_NOPROFILE : 0);
	struct buf line = BUF_INIT;
	struct priv_spawn m = {
		.conn = who->conn_id,
		.flags = flags,
		.cwd = s->opts.working_directory,
		.n_env = s->opts.n_env,
		.shell_id = s->id,
	};
	if (spec->skip_shell) {
		m.program = spec->command;
		m.argc = spec->n_args;
		m.argv = (const char *const *)spec->args;
	} else {
		/* cmd.exe /c style: the command and its arguments joined by
		 * single spaces, not re-quoted. */
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
			       ? 0
			       : (uint64_t)cfg->max_memory_per_shell_mb << 20;
	/* Encoded before the unlock: m points into the shell's options. */
	struct priv_msg req;
	const char *why = NULL;
	int rc = priv_encode(&req, PRIV_SPAWN, &m, &why);
	buf_release(&line);
	free(env);
	if (rc != 0) {
		pthread_mutex_unlock(&S.lock);
		/* Resource handlers check the bounds first; this is the safety
		 * net: never a frame the helper must refuse. */
		log_warn("%s: command refused: %s over the limit",
			 LOG_ESC(who->user), why);
		return SHELL_OVER_HELPER_LIMIT;
	}
	op->state = OP_SPAWNING;
	pthread_mutex_unlock(&S.lock);
	if (priv_call_async(&req, spawn_answered, op) != 0) {
		pthread_mutex_lock(&S.lock);
		op->state = OP_DONE;
		pthread_mutex_unlock(&S.lock);
		return SHELL_INTERNAL;
	}
	return SHELL_PENDING;
}

/* Adds the command the helper started, from its answer in op->reply, to
 * s (lock held); fills id_out. */
static enum shell_status attach_cmd(struct shell_op *op, struct shell *s,
				    const struct shell_caller *who,
				    const struct shell_command_spec *spec,
				    char id_out[SHELL_ID_LEN + 1])
{
	struct priv_msg *rep = &op->reply;
	struct priv_spawn_result res;
	if (priv_decode_spawn_result(rep, &res, NULL) != 0 ||
	    (res.error == 0 && rep->n_fds != 4))
		return SHELL_INTERNAL;
	if (res.error != 0) {
		log_info("%s: command not started: %s", LOG_ESC(who->user),
			 LOG_ESC(res.message));
		return SHELL_START_FAILED;
	}
	struct cmd *c = xcalloc(1, sizeof(*c));
	c->shell = s;
	c->handle = res.handle;
	c->serial = S.next_serial++;
	for (int k = 0; k < 4; k++) {
		c->fd[k] = priv_take_fd(rep);
		set_nonblock(c->fd[k]);
		/* A bulk stream (a file copied in or out) then costs a
		 * quarter of the wake-ups, here and in the command.  Best
		 * effort: the kernel refuses once the helper's pipes pass
		 * the per-user limit (fs.pipe-user-pages-soft). */
		if (k == FD_STDOUT || k == FD_STDIN)
			(void)fcntl(c->fd[k], F_SETPIPE_SZ, PIPE_SIZE);
	}
	if (spec->client_command_id != NULL &&
	    strlen(spec->client_command_id) == SHELL_ID_LEN &&
	    find_cmd(s, spec->client_command_id) == NULL)
		copy_client_id(c->id, spec->client_command_id);
	else
		guid_generate(c->id);
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
	return SHELL_OK;
}

enum shell_status
shells_command(struct shell_op *op, const struct winrmd_config *cfg,
	       const struct shell_caller *who, const char *shell_id,
	       const struct shell_command_spec *spec,
	       const struct shell_waiter *waiter, char id_out[SHELL_ID_LEN + 1])
{
	pthread_mutex_lock(&S.lock);
	struct shell *s = find_shell(shell_id, who->uid);
	if (s == NULL) {
		pthread_mutex_unlock(&S.lock);
		/* Also when the shell went away while the process was
		 * started: the descriptors close with the reply. */
		return SHELL_NOT_FOUND;
	}
	s->last_activity = time_mono_ms();
	if (op->state == OP_NEW) {
		if (running_cmds(s) >= cfg->max_processes_per_shell) {
			pthread_mutex_unlock(&S.lock);
			return SHELL_MAX_PROCESSES;
		}
		op->waiter = *waiter;
		return start_spawn(op, cfg, who, s, spec); /* unlocks */
	}
	if (op->state != OP_SPAWNED) {
		pthread_mutex_unlock(&S.lock);
		return SHELL_INTERNAL;
	}
	op->state = OP_DONE;
	enum shell_status st = attach_cmd(op, s, who, spec, id_out);
	pthread_mutex_unlock(&S.lock);
	return st;
}

/* ---- Send and Signal ---- */

enum shell_status shells_send(const struct shell_caller *who,
			      const char *shell_id, const char *command_id,
			      struct buf *input, bool end)
{
	size_t len = input->len;
	pthread_mutex_lock(&S.lock);
	struct shell *s = find_shell(shell_id, who->uid);
	struct cmd *c = find_cmd(s, command_id);
	if (c == NULL) {
		pthread_mutex_unlock(&S.lock);
		return SHELL_NOT_FOUND;
	}
	s->last_activity = time_mono_ms();
	if (c->fd[FD_STDIN] < 0 || c->stdin_end) {
		/* stdin already closed: Windows drops the bytes silently */
		pthread_mutex_unlock(&S.lock);
		return SHELL_OK;
	}
	if (c->in_pending + len > CMD_STDIN_MAX) {
		pthread_mutex_unlock(&S.lock);
		return SHELL_STDIN_FULL;
	}
	if (len > 0) {
		struct chunk *ch = xmalloc(sizeof(*ch));
		ch->next = NULL;
		ch->bytes = *input;
		buf_init(input);
		if (c->in_tail != NULL)
			c->in_tail->next = ch;
		else
			c->in_head = ch;
		c->in_tail = ch;
		c->in_pending += len;
	}
	if (end)
		c->stdin_end = true;
	/* The I/O thread writes it (epoll reports the pipe writable at
	 * once): the pipe's copy then overlaps this thread's next request. */
	update_stdin_interest(c);
	pthread_mutex_unlock(&S.lock);
	return SHELL_OK;
}

enum shell_status shells_send_wait(struct shell_op *op,
				   const struct shell_caller *who,
				   const char *shell_id, const char *command_id,
				   int64_t timeout_ms,
				   const struct shell_waiter *waiter)
{
	pthread_mutex_lock(&S.lock);
	if (op->state == OP_NEW) {
		op->deadline = time_mono_ms() + timeout_ms;
		snprintf(op->shell_id, sizeof(op->shell_id), "%s", shell_id);
		snprintf(op->cmd_id, sizeof(op->cmd_id), "%s", command_id);
		op->uid = who->uid;
	} else if (op->state != OP_WAITING) {
		/* Woken: drained, timed out (the input stays queued), or the
		 * command went away.  The input was taken either way. */
		op->state = OP_DONE;
		pthread_mutex_unlock(&S.lock);
		return SHELL_OK;
	}
	struct shell *s = find_shell(op->shell_id, op->uid);
	struct cmd *c = find_cmd(s, op->cmd_id);
	if (c == NULL || c->in_pending <= CMD_STDIN_WAIT || S.stopping) {
		op->state = OP_DONE;
		pthread_mutex_unlock(&S.lock);
		return SHELL_OK;
	}
	if (c->send_waiter != NULL && c->send_waiter != op) {
		/* Another Send for the same command: the older one answers,
		 * its input is queued. */
		wake_send_waiter(c, OP_WOKEN);
	}
	c->send_waiter = op;
	op->waiter = *waiter;
	op->state = OP_WAITING;
	pthread_mutex_unlock(&S.lock);
	kick(); /* the I/O thread recomputes its next deadline */
	return SHELL_PENDING;
}

enum shell_status shells_signal(const struct shell_caller *who,
				const char *shell_id, const char *command_id,
				enum shell_signal sig)
{
	pthread_mutex_lock(&S.lock);
	struct shell *s = find_shell(shell_id, who->uid);
	if (s == NULL) {
		pthread_mutex_unlock(&S.lock);
		return SHELL_NOT_FOUND;
	}
	s->last_activity = time_mono_ms();
	struct cmd *c = find_cmd(s, command_id);
	if (c == NULL) {
		/* Signal after the command is gone succeeds (pywinrm, Go and
		 * Ruby terminate routinely after Done). */
		pthread_mutex_unlock(&S.lock);
		return SHELL_OK;
	}
	if (sig == SHELL_SIGNAL_TERMINATE) {
		remove_cmd(c, who->conn_id);
	} else if (!c->exited) {
		helper_signal(who->conn_id, c->handle,
			      sig == SHELL_SIGNAL_CTRL_C
				      ? PRIV_SIGNAL_CTRL_C
				      : PRIV_SIGNAL_CTRL_BREAK);
	}
	pthread_mutex_unlock(&S.lock);
	return SHELL_OK;
}

/* ---- Receive ---- */

/* A chunk of its own for len raw bytes whose text is a copy of
 * text[0..text_len). */
static struct out_chunk *chunk_copy(enum shell_stream stream, size_t len,
				    const char *text, size_t text_len)
{
	struct out_chunk *ch = xmalloc(sizeof(*ch) + text_len + 1);
	ch->next = NULL;
	ch->stream = stream;
	ch->len = len;
	ch->skip = 0;
	ch->b64_len = text_len;
	memcpy(ch->b64, text, text_len);
	ch->b64[text_len] = '\0';
	return ch;
}

/* Takes output for one answer: whole chunks of the wanted streams in
 * arrival order, up to max raw bytes.  A chunk is split where its base64
 * text splits cleanly (a multiple of 3 bytes), so that both parts stay
 * standalone base64; the smaller part is the one copied (a Receive takes
 * 110,592 bytes, the I/O thread reads 65,536 at a time, so nearly every
 * answer splits one). */
static struct out_chunk *take_output(struct cmd *c, bool want_out,
				     bool want_err, size_t max)
{
	struct out_chunk *taken = NULL, **tail = &taken;
	size_t total = 0;
	struct out_chunk **pp = &c->head;
	while (*pp != NULL && total < max) {
		struct out_chunk *ch = *pp;
		bool want = ch->stream == SHELL_STDOUT ? want_out : want_err;
		if (!want) {
			pp = &ch->next;
			continue;
		}
		if (total + ch->len > max) {
			size_t part = (max - total) / 3 * 3;
			if (part == 0)
				break;
			size_t text = part / 3 * 4;
			struct out_chunk *sent;
			if (part <= ch->len - part) {
				/* the front goes out as a copy; the rest stays
				 * where it is */
				sent = chunk_copy(ch->stream, part,
						  ch->b64 + ch->skip, text);
				ch->skip += text;
				ch->b64_len -= text;
				ch->len -= part;
			} else {
				/* the rest stays as a copy; ch goes out, cut
				 * to the front */
				struct out_chunk *rest =
					chunk_copy(ch->stream, ch->len - part,
						   ch->b64 + ch->skip + text,
						   ch->b64_len - text);
				rest->next = ch->next;
				*pp = rest;
				sent = ch;
				sent->next = NULL;
				sent->len = part;
				sent->b64_len = text;
				sent->b64[sent->skip + text] = '\0';
			}
			c->buffered -= part;
			*tail = sent;
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
	for (struct out_chunk *ch = c->head; ch != NULL; ch = ch->next)
		c->tail = ch;
	if (c->paused && c->buffered < CMD_BUFFER_MAX / 2)
		set_paused(c, false);
	return taken;
}

static bool has_output(const struct cmd *c, bool want_out, bool want_err)
{
	for (const struct out_chunk *ch = c->head; ch != NULL; ch = ch->next)
		if (ch->stream == SHELL_STDOUT ? want_out : want_err)
			return true;
	return false;
}

/* Hands op's taken output and c's state to the caller (lock held). */
static void fill_received(struct shell_op *op, const struct cmd *c, bool done,
			  struct shell_received *got)
{
	size_t n = 0;
	for (const struct out_chunk *ch = op->taken; ch != NULL; ch = ch->next)
		n++;
	op->output = xcalloc(n + 1, sizeof(*op->output));
	n = 0;
	for (const struct out_chunk *ch = op->taken; ch != NULL; ch = ch->next)
		op->output[n++] = (struct shell_output){ ch->stream,
							 ch->b64 + ch->skip,
							 ch->b64_len, ch->len };
	memset(got, 0, sizeof(*got));
	memcpy(got->command_id, c->id, sizeof(got->command_id));
	got->output = op->output;
	got->n_output = n;
	got->done = done;
	got->exit_code = done ? c->exit_code : 0;
}

/* Makes op wait for output of c (lock held). */
static void wait_for_output(struct shell_op *op, struct cmd *c,
			    const struct shell_waiter *waiter)
{
	if (c->waiter != NULL && c->waiter != op) {
		/* A newer Receive (the client reconnected) replaces the
		 * waiting one, which answers TimedOut. */
		wake_waiter(c, OP_TIMEOUT);
	}
	c->waiter = op;
	op->waiter = *waiter;
	op->state = OP_WAITING;
}

enum shell_status
shells_receive(struct shell_op *op, const struct shell_caller *who,
	       const char *shell_id, const char *command_id, bool want_stdout,
	       bool want_stderr, int64_t timeout_ms, size_t max_bytes,
	       const struct shell_waiter *waiter, struct shell_received *got)
{
	pthread_mutex_lock(&S.lock);
	if (op->state == OP_NEW) {
		op->deadline = time_mono_ms() + timeout_ms;
		snprintf(op->shell_id, sizeof(op->shell_id), "%s", shell_id);
		snprintf(op->cmd_id, sizeof(op->cmd_id), "%s", command_id);
		op->uid = who->uid;
	}
	struct shell *s = find_shell(shell_id, who->uid);
	struct cmd *c = find_cmd(s, command_id);
	if (c == NULL) {
		pthread_mutex_unlock(&S.lock);
		return SHELL_NOT_FOUND;
	}
	s->last_activity = time_mono_ms();
	if (S.stopping) {
		pthread_mutex_unlock(&S.lock);
		return SHELL_INTERNAL;
	}
	bool ready = has_output(c, want_stdout, want_stderr) || finished(c);
	if (!ready) {
		if (op->state == OP_TIMEOUT || op->state == OP_GONE ||
		    time_mono_ms() >= op->deadline) {
			pthread_mutex_unlock(&S.lock);
			return SHELL_TIMED_OUT;
		}
		wait_for_output(op, c, waiter);
		pthread_mutex_unlock(&S.lock);
		kick(); /* the I/O thread recomputes its next deadline */
		return SHELL_PENDING;
	}
	if (c->waiter == op)
		c->waiter = NULL;
	if ((op->state == OP_WAITING || op->state == OP_WOKEN) &&
	    op->waiter.gone != NULL && op->waiter.gone(op->waiter.arg)) {
		/* The client left while this Receive waited: what it would
		 * get stays for the next Receive (a write to a closed socket
		 * may still succeed, so delivery cannot tell). */
		op->state = OP_TIMEOUT;
		log_info("receive for command %s: the client left; output kept",
			 c->id);
		pthread_mutex_unlock(&S.lock);
		return SHELL_CLIENT_GONE;
	}
	op->state = OP_DONE;
	/* Kept in op until the caller knows whether it was delivered. */
	op->taken = take_output(c, want_stdout, want_stderr, max_bytes);
	bool done = finished(c) && !has_output(c, want_stdout, want_stderr);
	fill_received(op, c, done, got);
	pthread_mutex_unlock(&S.lock);
	return SHELL_OK;
}
