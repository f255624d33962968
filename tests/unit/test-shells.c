/*
 * test-shells.c - the shell store (listener/shells.c) on its own, without
 * HTTP, XML or the helper: Create with its quotas (MaxShellsPerUser,
 * MaxConcurrentUsers, MaxProcessesPerShell, AllowRemoteShellAccess), one
 * account never seeing or using another's shells, Command answered
 * through the waiter, Receive waking when output or the exit arrives,
 * timing out, giving way to a newer Receive, keeping output that was not
 * delivered or whose client left, Send reaching the process's stdin,
 * Signal and Delete waking the waiting Receive, idle expiry, and stop.
 *
 * The helper is played in process: this file defines priv_call_async and
 * priv_request_async (listener/helper-client.h) instead of linking the
 * helper client.  A PRIV_SPAWN is kept until the test answers it with a
 * PRIV_SPAWN_RESULT carrying real pipes, whose other ends play the process
 * (its stdin, stdout, stderr and the monitor's wait status).
 */
#include "autoconfig.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/base64.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/priv/msg.h"
#include "lib/util.h"
#include "listener/helper-client.h"
#include "listener/runtime.h"
#include "listener/shells.h"
#include "tests/lib/tap.h"

/* ---- the helper, played here ---- */

static struct {
	pthread_mutex_t lock;
	bool gone;              /* calls fail as with a lost helper */
	priv_reply_cb spawn_cb; /* the PRIV_SPAWN waiting for an answer */
	void *spawn_arg;
	struct priv_msg spawn_req;
	int n_spawns;
	int n_signals;
	struct priv_signal_command last_signal;
} helper = { .lock = PTHREAD_MUTEX_INITIALIZER };

int priv_call_async(struct priv_msg *req, priv_reply_cb cb, void *arg)
{
	pthread_mutex_lock(&helper.lock);
	if (helper.gone) {
		pthread_mutex_unlock(&helper.lock);
		priv_msg_release(req);
		return -1;
	}
	if (req->type == PRIV_SPAWN) {
		helper.n_spawns++;
		helper.spawn_cb = cb;
		helper.spawn_arg = arg;
		priv_msg_release(&helper.spawn_req);
		helper.spawn_req = *req;
		priv_msg_init(req, PRIV_NONE);
	} else if (req->type == PRIV_SIGNAL) {
		/* Runs with the store's lock held: only recorded, and the
		 * answer (which nobody waits for) is not sent. */
		struct priv_signal_command sc;
		if (priv_decode_signal_command(req, &sc, NULL) == 0) {
			helper.n_signals++;
			helper.last_signal = sc;
		}
	}
	pthread_mutex_unlock(&helper.lock);
	priv_msg_release(req);
	return 0;
}

int priv_request_async(uint16_t type, const void *req, priv_reply_cb cb,
		       void *arg, const char **why_r)
{
	struct priv_msg m;
	if (priv_encode(&m, type, req, why_r) != 0)
		return -2;
	return priv_call_async(&m, cb, arg);
}

/* How many PRIV_SIGNALs were sent, and the last one. */
static int signals_sent(struct priv_signal_command *last)
{
	pthread_mutex_lock(&helper.lock);
	int n = helper.n_signals;
	if (last != NULL)
		*last = helper.last_signal;
	pthread_mutex_unlock(&helper.lock);
	return n;
}

/* The process side of a spawned command. */
struct proc {
	int in;     /* reads what Send wrote */
	int out;    /* stdout */
	int err;    /* stderr */
	int status; /* the monitor's wait status */
};

#define PROC_NONE                                                              \
	{                                                                      \
		-1, -1, -1, -1                                                 \
	}

static void proc_close(struct proc *p)
{
	int *fds[] = { &p->in, &p->out, &p->err, &p->status };
	for (size_t i = 0; i < 4; i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

/* Takes the pending PRIV_SPAWN's callback (NULL when none). */
static priv_reply_cb take_spawn(void **arg)
{
	pthread_mutex_lock(&helper.lock);
	priv_reply_cb cb = helper.spawn_cb;
	*arg = helper.spawn_arg;
	helper.spawn_cb = NULL;
	pthread_mutex_unlock(&helper.lock);
	return cb;
}

/* Answers the pending PRIV_SPAWN with a started process: p gets the
 * process's ends of four pipes.  Returns false when none was pending. */
static bool answer_spawn(struct proc *p, uint64_t handle)
{
	void *arg;
	priv_reply_cb cb = take_spawn(&arg);
	if (cb == NULL)
		return false;
	int in[2], out[2], err[2], st[2];
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
	    pipe2(err, O_CLOEXEC) != 0 || pipe2(st, O_CLOEXEC) != 0)
		abort();
	struct priv_spawn_result res = { 0, "", handle, 4242 };
	struct priv_msg m;
	if (priv_encode_spawn_result(&m, &res, NULL) != 0)
		abort();
	priv_put_fd(&m, in[1]);
	priv_put_fd(&m, out[0]);
	priv_put_fd(&m, err[0]);
	priv_put_fd(&m, st[0]);
	*p = (struct proc){ in[0], out[1], err[1], st[1] };
	cb(arg, &m);
	priv_msg_release(&m);
	return true;
}

/* Answers the pending PRIV_SPAWN with the helper's refusal. */
static bool answer_spawn_error(void)
{
	void *arg;
	priv_reply_cb cb = take_spawn(&arg);
	if (cb == NULL)
		return false;
	struct priv_spawn_result res = { 2, "no such program", 0, 0 };
	struct priv_msg m;
	if (priv_encode_spawn_result(&m, &res, NULL) != 0)
		abort();
	cb(arg, &m);
	priv_msg_release(&m);
	return true;
}

/* The process exits with code: the monitor reports, the pipes close. */
static void proc_exit(struct proc *p, int code)
{
	int32_t status = (code & 0xff) << 8; /* as waitpid reports exit(code) */
	if (write(p->status, &status, sizeof(status)) != sizeof(status))
		abort();
	close(p->out);
	close(p->err);
	close(p->status);
	p->out = p->err = p->status = -1;
}

static void proc_write(int fd, const char *text)
{
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
}

/* ---- waiters ---- */

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int woken;
	bool gone;
	struct shell_waiter w;
};

static void on_wake(void *arg)
{
	struct waiter *t = arg;
	pthread_mutex_lock(&t->lock);
	t->woken++;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

static bool on_gone(void *arg)
{
	struct waiter *t = arg;
	pthread_mutex_lock(&t->lock);
	bool gone = t->gone;
	pthread_mutex_unlock(&t->lock);
	return gone;
}

static void waiter_init(struct waiter *t)
{
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	t->woken = 0;
	t->gone = false;
	t->w = (struct shell_waiter){ on_wake, on_gone, t };
}

static void waiter_destroy(struct waiter *t)
{
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
}

static int woken(struct waiter *t)
{
	pthread_mutex_lock(&t->lock);
	int n = t->woken;
	pthread_mutex_unlock(&t->lock);
	return n;
}

/* Waits until t was woken n times in all, at most ms; true if it was. */
static bool wait_woken(struct waiter *t, int n, int ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&t->lock);
	while (t->woken < n &&
	       pthread_cond_timedwait(&t->cond, &t->lock, &until) == 0)
		;
	bool reached = t->woken >= n;
	pthread_mutex_unlock(&t->lock);
	return reached;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* Waits (at most ms) until the store holds n shells. */
static bool count_becomes(size_t n, int ms)
{
	for (int waited = 0; waited < ms; waited += 20) {
		if (shells_count() == n)
			return true;
		sleep_ms(20);
	}
	return shells_count() == n;
}

/* ---- fixtures ---- */

static struct winrmd_config *cfg;

static const struct shell_caller alice = { 1000, "alice", 11, "127.0.0.1",
					   50001 };
static const struct shell_caller bob = { 1001, "bob", 12, "127.0.0.2", 50002 };
static const struct shell_caller carol = { 1002, "carol", 13, "127.0.0.3",
					   50003 };

static enum shell_status create(const struct shell_caller *who, int64_t idle_ms,
				char id[SHELL_ID_LEN + 1])
{
	struct shell_options o = { 0 };
	o.input_streams = xstrdup("stdin");
	o.output_streams = xstrdup("stdout stderr");
	o.idle_timeout_ms = idle_ms;
	struct shell_info info;
	enum shell_status st = shells_create(cfg, who, &o, &info);
	shell_options_release(&o);
	if (st == SHELL_OK) {
		memcpy(id, info.id, SHELL_ID_LEN + 1);
		shell_info_release(&info);
	}
	return st;
}

/* Starts "cmd" in shell id for who, the helper answering with p. */
static enum shell_status start(const struct shell_caller *who, const char *id,
			       struct proc *p, uint64_t handle,
			       char cmd_id[SHELL_ID_LEN + 1])
{
	struct waiter t;
	waiter_init(&t);
	char *args[] = { "a", "b" };
	struct shell_command_spec spec = { "cmd", args, 2, false, NULL };
	struct shell_op *op = shells_op_new();
	enum shell_status st = shells_command(op, cfg, who, id, &spec, &t.w,
					      cmd_id);
	if (st == SHELL_PENDING) {
		answer_spawn(p, handle);
		if (wait_woken(&t, 1, 1000))
			st = shells_command(op, cfg, who, id, &spec, &t.w,
					    cmd_id);
	}
	shells_op_end(op, true);
	waiter_destroy(&t);
	return st;
}

/* shells_send of a copy of data (which the store takes over when it
 * queues it). */
static enum shell_status send_bytes(const struct shell_caller *who,
				    const char *id, const char *cmd_id,
				    const void *data, size_t len, bool end)
{
	struct buf input = BUF_INIT;
	buf_append(&input, data, len);
	enum shell_status st = shells_send(who, id, cmd_id, &input, end);
	buf_release(&input);
	return st;
}

/* Calls shells_receive with op until it stops waiting (t counts the
 * wakes so far). */
static enum shell_status
receive_op(struct shell_op *op, const struct shell_caller *who, const char *id,
	   const char *cmd_id, bool want_out, bool want_err, int64_t timeout_ms,
	   size_t max_bytes, struct waiter *t, struct shell_received *got)
{
	for (;;) {
		int before = woken(t);
		enum shell_status st = shells_receive(op, who, id, cmd_id,
						      want_out, want_err,
						      timeout_ms, max_bytes,
						      &t->w, got);
		if (st != SHELL_PENDING || !wait_woken(t, before + 1, 5000))
			return st;
	}
}

/* One Receive of both streams, waiting up to timeout_ms; the output is
 * appended to text (stdout as is, stderr in brackets). */
static enum shell_status receive(const struct shell_caller *who, const char *id,
				 const char *cmd_id, int64_t timeout_ms,
				 struct buf *text, bool *done, int *code)
{
	struct waiter t;
	waiter_init(&t);
	struct shell_op *op = shells_op_new();
	struct shell_received got;
	enum shell_status st = receive_op(op, who, id, cmd_id, true, true,
					  timeout_ms, 65536, &t, &got);
	if (st == SHELL_OK) {
		for (size_t i = 0; i < got.n_output; i++) {
			const struct shell_output *o = &got.output[i];
			if (o->stream == SHELL_STDERR)
				buf_append_byte(text, '[');
			/* each piece is standalone base64 of its bytes */
			size_t before = text->len;
			if (base64_decode(text, o->b64, o->b64_len) != 0 ||
			    text->len - before != o->len)
				buf_append_str(text, "<bad base64>");
			if (o->stream == SHELL_STDERR)
				buf_append_byte(text, ']');
		}
		*done = got.done;
		*code = got.exit_code;
	}
	shells_op_end(op, true);
	waiter_destroy(&t);
	return st;
}

/* One Receive of both streams bounded to max_bytes: true when it answers
 * with exactly one piece of output, want_len raw bytes whose text is
 * want_b64 (and no more). */
static bool receive_piece(const struct shell_caller *who, const char *id,
			  const char *cmd_id, size_t max_bytes, size_t want_len,
			  const char *want_b64)
{
	struct waiter t;
	waiter_init(&t);
	struct shell_op *op = shells_op_new();
	struct shell_received got;
	enum shell_status st = receive_op(op, who, id, cmd_id, true, true, 3000,
					  max_bytes, &t, &got);
	bool ok = st == SHELL_OK && got.n_output == 1 &&
		  got.output[0].len == want_len &&
		  got.output[0].b64_len == strlen(want_b64) &&
		  strcmp(got.output[0].b64, want_b64) == 0;
	shells_op_end(op, true);
	waiter_destroy(&t);
	return ok;
}

/* ---- tests ---- */

static void test_create_and_quotas(void)
{
	cfg->max_shells_per_user = 2;
	cfg->max_concurrent_users = 2;
	char a1[37], a2[37], a3[37], b1[37], c1[37];
	is_int(create(&alice, 0, a1), SHELL_OK, "alice creates a shell");
	is_int(create(&alice, 0, a2), SHELL_OK, "and a second one");
	ok(strcmp(a1, a2) != 0, "with different ids");
	is_int(create(&alice, 0, a3), SHELL_MAX_SHELLS,
	       "a third is over MaxShellsPerUser");
	is_int(create(&bob, 0, b1), SHELL_OK, "bob is the second user");
	is_int(create(&carol, 0, c1), SHELL_MAX_USERS,
	       "carol would be a third user: MaxConcurrentUsers");
	is_int(shells_count(), 3, "three shells stored");

	struct shell_info *infos;
	size_t n = shells_list(&alice, &infos);
	is_int(n, 2, "alice lists her two shells");
	for (size_t i = 0; i < n; i++)
		shell_info_release(&infos[i]);
	free(infos);
	n = shells_list(&bob, &infos);
	ok(n == 1 && strcmp(infos[0].id, b1) == 0, "bob lists only his own");
	ok(n == 1 && strcmp(infos[0].owner, "bob") == 0 &&
		   strcmp(infos[0].client_ip, "127.0.0.2") == 0,
	   "with his name and address");
	for (size_t i = 0; i < n; i++)
		shell_info_release(&infos[i]);
	free(infos);
	n = shells_list(&carol, &infos);
	ok(n == 0 && infos == NULL, "carol has none");

	struct shell_info info;
	is_int(shells_get(&bob, a1, &info), SHELL_NOT_FOUND,
	       "bob cannot get alice's shell");
	is_int(shells_delete(&bob, a1), SHELL_NOT_FOUND, "nor delete it");
	is_int(shells_get(&alice, a1, &info), SHELL_OK, "alice can");
	ok(strcmp(info.owner, "alice") == 0 &&
		   strcmp(info.input_streams, "stdin") == 0 &&
		   info.idle_timeout_ms == cfg->idle_timeout_ms,
	   "owner, streams and the configured idle timeout");
	shell_info_release(&info);

	is_int(shells_delete(&alice, a2), SHELL_OK, "alice deletes one");
	is_int(shells_delete(&alice, a2), SHELL_NOT_FOUND, "only once");
	is_int(create(&alice, 0, a3), SHELL_OK,
	       "then has room for another (MaxConcurrentUsers counts her once)");
	is_int(shells_delete(&bob, b1), SHELL_OK, "bob deletes his");
	is_int(create(&carol, 0, c1), SHELL_OK, "now carol may have one");

	cfg->allow_remote_shell_access = false;
	is_int(create(&carol, 0, c1), SHELL_NOT_ALLOWED,
	       "AllowRemoteShellAccess false refuses");
	cfg->allow_remote_shell_access = true;

	struct shell_options o = { 0 };
	o.input_streams = xstrdup("stdin");
	o.output_streams = xstrdup("stdout");
	o.idle_timeout_ms = 5000;
	o.client_shell_id = xstrdup("0a1b2c3d-0000-4000-8000-00000000abcd");
	cfg->max_shells_per_user = 10;
	cfg->max_concurrent_users = 10;
	is_int(shells_create(cfg, &bob, &o, &info), SHELL_OK,
	       "a client-chosen id (PSRP)");
	is_str(info.id, "0A1B2C3D-0000-4000-8000-00000000ABCD",
	       "is kept, in upper case");
	is_int(info.idle_timeout_ms, 5000, "a shorter IdleTimeOut is honoured");
	ok(o.input_streams == NULL, "the options moved into the shell");
	is_int(shells_delete(&bob, "0a1b2c3d-0000-4000-8000-00000000abcd"),
	       SHELL_OK, "ids match in any case");
	shell_info_release(&info);

	shells_delete(&alice, a1);
	shells_delete(&alice, a3);
	shells_delete(&carol, c1);
	is_int(shells_count(), 0, "all deleted");
}

static void test_command_and_output(void)
{
	cfg->max_processes_per_shell = 1;
	char id[37], cmd[37];
	create(&alice, 0, id);

	struct waiter t;
	waiter_init(&t);
	char *args[] = { "a", "b" };
	struct shell_command_spec spec = { "cmd", args, 2, false, NULL };
	struct shell_op *op = shells_op_new();
	is_int(shells_command(op, cfg, &alice, id, &spec, &t.w, cmd),
	       SHELL_PENDING, "Command waits for the helper");
	struct priv_spawn sp;
	pthread_mutex_lock(&helper.lock);
	int dec = priv_decode_spawn(&helper.spawn_req, &sp, NULL);
	pthread_mutex_unlock(&helper.lock);
	ok(dec == 0 && sp.conn == alice.conn_id &&
		   strcmp(sp.program, "cmd a b") == 0,
	   "PRIV_SPAWN names the caller's connection and the joined line");
	is_int(woken(&t), 0, "the waiter has not run yet");
	struct proc p = PROC_NONE;
	ok(answer_spawn(&p, 77), "the helper answers");
	is_int(woken(&t), 1, "the answer runs the waiter");
	is_int(shells_command(op, cfg, &alice, id, &spec, &t.w, cmd), SHELL_OK,
	       "then Command returns the command");
	is_int(strlen(cmd), SHELL_ID_LEN, "with its id");
	shells_op_end(op, true);
	waiter_destroy(&t);

	char other[37];
	struct proc q = PROC_NONE;
	is_int(start(&alice, id, &q, 78, other), SHELL_MAX_PROCESSES,
	       "a second running command is over MaxProcessesPerShell");

	struct buf text = BUF_INIT;
	bool done = false;
	int code = -1;
	is_int(receive(&bob, id, cmd, 1000, &text, &done, &code),
	       SHELL_NOT_FOUND, "bob cannot receive from alice's command");
	is_int(send_bytes(&bob, id, cmd, "x", 1, false), SHELL_NOT_FOUND,
	       "nor send to it");
	is_int(shells_signal(&bob, id, cmd, SHELL_SIGNAL_TERMINATE),
	       SHELL_NOT_FOUND, "nor signal it");

	/* A Receive that waits, woken by output. */
	waiter_init(&t);
	op = shells_op_new();
	struct shell_received got;
	is_int(shells_receive(op, &alice, id, cmd, true, true, 10000, 65536,
			      &t.w, &got),
	       SHELL_PENDING, "Receive with no output waits");
	proc_write(p.out, "hello");
	ok(wait_woken(&t, 1, 3000), "output wakes the waiter");
	is_int(shells_receive(op, &alice, id, cmd, true, true, 10000, 65536,
			      &t.w, &got),
	       SHELL_OK, "the Receive called again answers");
	ok(got.n_output == 1 && got.output[0].stream == SHELL_STDOUT &&
		   got.output[0].len == 5 &&
		   strcmp(got.output[0].b64, "aGVsbG8=") == 0 &&
		   got.output[0].b64_len == 8,
	   "with the output");
	ok(!got.done && strcmp(got.command_id, cmd) == 0,
	   "and the command still running");
	shells_op_end(op, false);
	waiter_destroy(&t);

	is_int(receive(&alice, id, cmd, 1000, &text, &done, &code), SHELL_OK,
	       "output of an undelivered Receive");
	is_str((char *)text.data, "hello", "comes again");
	buf_reset(&text);

	/* Streams: only the wanted one is taken. */
	proc_write(p.err, "oops");
	waiter_init(&t);
	op = shells_op_new();
	is_int(receive_op(op, &alice, id, cmd, true, false, 300, 65536, &t,
			  &got),
	       SHELL_TIMED_OUT,
	       "a stdout-only Receive ignores stderr: timed out");
	shells_op_end(op, true);
	waiter_destroy(&t);
	is_int(receive(&alice, id, cmd, 1000, &text, &done, &code), SHELL_OK,
	       "a Receive of both streams");
	is_str((char *)text.data, "[oops]", "gets the stderr output");
	buf_reset(&text);

	/* max_bytes splits, where base64 splits cleanly (3 bytes, 4
	 * characters), so that both parts are standalone base64. */
	proc_write(p.out, "0123456789");
	ok(receive_piece(&alice, id, cmd, 4, 3, "MDEy"),
	   "max_bytes bounds one answer (4: 3 bytes, \"012\")");
	is_int(receive(&alice, id, cmd, 1000, &text, &done, &code), SHELL_OK,
	       "the next Receive");
	is_str((char *)text.data, "3456789", "gets the rest, decoded whole");
	buf_reset(&text);

	/* A split copies the smaller part: the front (above) or, when what
	 * stays is smaller, the rest; a chunk whose front went out already
	 * splits again from where it stands. */
	proc_write(p.out, "abcdefghijklmnopqrstuvwxyz0123");
	ok(receive_piece(&alice, id, cmd, 3, 3, "YWJj"),
	   "a split copying the front: \"abc\"");
	ok(receive_piece(&alice, id, cmd, 24, 24,
			 "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXow"),
	   "then a split copying the rest: the next 24 bytes, text ended");
	is_int(receive(&alice, id, cmd, 1000, &text, &done, &code), SHELL_OK,
	       "the next Receive");
	is_str((char *)text.data, "123", "gets the 3 bytes left");
	buf_reset(&text);

	/* A refused Send leaves its buffer to the caller; a queued one's
	 * buffer is the store's. */
	struct buf input = BUF_INIT;
	buf_append_str(&input, "x");
	is_int(shells_send(&bob, id, cmd, &input, false), SHELL_NOT_FOUND,
	       "a Send refused");
	ok(input.len == 1 && input.data[0] == 'x', "keeps its input");
	/* Send reaches stdin; End closes it. */
	buf_reset(&input);
	buf_append_str(&input, "input\n");
	is_int(shells_send(&alice, id, cmd, &input, true), SHELL_OK,
	       "Send with End");
	ok(input.data == NULL && input.len == 0,
	   "the queued input's buffer is taken over, not copied");
	char in[16] = { 0 };
	ssize_t n = read(p.in, in, sizeof(in) - 1);
	ok(n == 6 && strcmp(in, "input\n") == 0, "the process reads the input");
	for (int i = 0; i < 100 && (n = read(p.in, in, sizeof(in))) < 0; i++)
		sleep_ms(10);
	is_int(n, 0, "then end-of-input");
	is_int(send_bytes(&alice, id, cmd, "late", 4, false), SHELL_OK,
	       "a Send after End is dropped silently");

	/* The exit. */
	proc_write(p.out, "bye");
	proc_exit(&p, 3);
	done = false;
	for (int i = 0; i < 10 && !done; i++)
		if (receive(&alice, id, cmd, 3000, &text, &done, &code) !=
		    SHELL_OK)
			break;
	is_str((char *)text.data, "bye", "the last output");
	ok(done && code == 3, "then Done with the exit code");
	buf_release(&text);

	/* the command has exited: MaxProcessesPerShell has room again */
	is_int(start(&alice, id, &q, 79, other), SHELL_OK,
	       "an exited command does not count as running");
	struct priv_signal_command last;
	int signals = signals_sent(NULL);
	is_int(shells_signal(&alice, id, cmd, SHELL_SIGNAL_TERMINATE), SHELL_OK,
	       "Terminate of the exited command");
	is_int(signals_sent(NULL), signals, "sends the helper nothing");
	is_int(shells_signal(&alice, id, cmd, SHELL_SIGNAL_TERMINATE), SHELL_OK,
	       "Terminate of a command already gone succeeds");
	is_int(shells_signal(&alice, id, other, SHELL_SIGNAL_CTRL_C), SHELL_OK,
	       "Ctrl+C");
	ok(signals_sent(&last) == signals + 1 &&
		   last.kind == PRIV_SIGNAL_CTRL_C && last.handle == 79 &&
		   last.conn == alice.conn_id,
	   "goes to the helper for that command and connection");
	shells_delete(&alice, id);
	proc_close(&p);
	proc_close(&q);
	cfg->max_processes_per_shell = 2147483647;
}

static void test_waiters_woken(void)
{
	char id[37], cmd[37];
	create(&alice, 0, id);
	struct proc p = PROC_NONE;
	start(&alice, id, &p, 80, cmd);

	/* A newer Receive replaces the waiting one. */
	struct waiter t1, t2;
	waiter_init(&t1);
	waiter_init(&t2);
	struct shell_op *op1 = shells_op_new(), *op2 = shells_op_new();
	struct shell_received got;
	is_int(shells_receive(op1, &alice, id, cmd, true, true, 10000, 65536,
			      &t1.w, &got),
	       SHELL_PENDING, "a first Receive waits");
	is_int(shells_receive(op2, &alice, id, cmd, true, true, 10000, 65536,
			      &t2.w, &got),
	       SHELL_PENDING, "a second one for the same command waits");
	is_int(woken(&t1), 1, "and wakes the first");
	is_int(shells_receive(op1, &alice, id, cmd, true, true, 10000, 65536,
			      &t1.w, &got),
	       SHELL_TIMED_OUT, "which answers timed out");
	shells_op_end(op1, true);

	/* The client left while the Receive waited: the output stays. */
	pthread_mutex_lock(&t2.lock);
	t2.gone = true;
	pthread_mutex_unlock(&t2.lock);
	proc_write(p.out, "kept");
	ok(wait_woken(&t2, 1, 3000), "output wakes the second");
	is_int(shells_receive(op2, &alice, id, cmd, true, true, 10000, 65536,
			      &t2.w, &got),
	       SHELL_CLIENT_GONE, "whose client left");
	shells_op_end(op2, true);
	struct buf text = BUF_INIT;
	bool done;
	int code;
	is_int(receive(&alice, id, cmd, 1000, &text, &done, &code), SHELL_OK,
	       "the next Receive");
	is_str((char *)text.data, "kept", "gets the output");
	buf_release(&text);

	/* Terminate wakes the waiting Receive. */
	waiter_destroy(&t1);
	waiter_init(&t1);
	op1 = shells_op_new();
	is_int(shells_receive(op1, &alice, id, cmd, true, true, 10000, 65536,
			      &t1.w, &got),
	       SHELL_PENDING, "a Receive waits");
	struct priv_signal_command last;
	int signals = signals_sent(NULL);
	is_int(shells_signal(&alice, id, cmd, SHELL_SIGNAL_TERMINATE), SHELL_OK,
	       "Terminate");
	is_int(woken(&t1), 1, "wakes it");
	ok(signals_sent(&last) == signals + 1 &&
		   last.kind == PRIV_SIGNAL_TERMINATE && last.handle == 80 &&
		   last.conn == alice.conn_id,
	   "and asks the helper to terminate the process");
	is_int(shells_receive(op1, &alice, id, cmd, true, true, 10000, 65536,
			      &t1.w, &got),
	       SHELL_NOT_FOUND, "the command is gone");
	shells_op_end(op1, true);
	proc_close(&p);

	/* Delete wakes the waiting Receive. */
	start(&alice, id, &p, 81, cmd);
	waiter_destroy(&t1);
	waiter_init(&t1);
	op1 = shells_op_new();
	is_int(shells_receive(op1, &alice, id, cmd, true, true, 10000, 65536,
			      &t1.w, &got),
	       SHELL_PENDING, "a Receive waits");
	is_int(shells_delete(&alice, id), SHELL_OK, "Delete");
	is_int(woken(&t1), 1, "wakes it");
	is_int(shells_receive(op1, &alice, id, cmd, true, true, 10000, 65536,
			      &t1.w, &got),
	       SHELL_NOT_FOUND, "the shell is gone");
	shells_op_end(op1, true);
	proc_close(&p);

	/* An op ended while waiting is not woken any more. */
	create(&alice, 0, id);
	start(&alice, id, &p, 82, cmd);
	waiter_destroy(&t1);
	waiter_init(&t1);
	op1 = shells_op_new();
	shells_receive(op1, &alice, id, cmd, true, true, 10000, 65536, &t1.w,
		       &got);
	shells_op_end(op1, true);
	proc_write(p.out, "x");
	sleep_ms(200);
	is_int(woken(&t1), 0, "an ended Receive's waiter does not run");
	shells_delete(&alice, id);
	proc_close(&p);
	waiter_destroy(&t1);
	waiter_destroy(&t2);
}

static void test_timeouts(void)
{
	char id[37], cmd[37];
	create(&alice, 0, id);
	struct proc p = PROC_NONE;
	start(&alice, id, &p, 90, cmd);
	struct waiter t;
	waiter_init(&t);
	struct shell_op *op = shells_op_new();
	struct shell_received got;
	is_int(shells_receive(op, &alice, id, cmd, true, true, 0, 65536, &t.w,
			      &got),
	       SHELL_TIMED_OUT, "a zero timeout answers at once");
	shells_op_end(op, true);
	op = shells_op_new();
	int64_t t0 = time_mono_ms();
	is_int(shells_receive(op, &alice, id, cmd, true, true, 300, 65536, &t.w,
			      &got),
	       SHELL_PENDING, "a 300 ms Receive waits");
	ok(wait_woken(&t, 1, 3000), "is woken");
	int64_t waited = time_mono_ms() - t0;
	ok(waited >= 290 && waited < 2500, "after its timeout (%lld ms)",
	   (long long)waited);
	is_int(shells_receive(op, &alice, id, cmd, true, true, 300, 65536, &t.w,
			      &got),
	       SHELL_TIMED_OUT, "and answers timed out");
	shells_op_end(op, true);
	waiter_destroy(&t);
	shells_delete(&alice, id);
	proc_close(&p);

	/* Idle expiry: a shell nobody uses ends after its IdleTimeOut, its
	 * running commands terminated by winrmd itself (connection 0). */
	create(&alice, 300, id);
	start(&alice, id, &p, 91, cmd);
	struct priv_signal_command last;
	int signals = signals_sent(NULL);
	ok(count_becomes(0, 5000), "an idle shell expires");
	ok(signals_sent(&last) == signals + 1 && last.conn == 0 &&
		   last.handle == 91 && last.kind == PRIV_SIGNAL_TERMINATE,
	   "its command is terminated by winrmd");
	proc_close(&p);

	/* ...but not while a Receive waits on it. */
	create(&alice, 300, id);
	start(&alice, id, &p, 92, cmd);
	waiter_init(&t);
	op = shells_op_new();
	shells_receive(op, &alice, id, cmd, true, true, 60000, 65536, &t.w,
		       &got);
	sleep_ms(1500);
	is_int(shells_count(), 1, "a shell with a waiting Receive is not idle");
	shells_op_end(op, true);
	ok(count_becomes(0, 5000), "once the Receive ended, it expires");
	waiter_destroy(&t);
	proc_close(&p);
}

/* Reads everything available from fd (non-blocking) into out; returns
 * how many bytes came. */
static size_t drain_fd(int fd, struct buf *out)
{
	size_t total = 0;
	uint8_t b[65536];
	ssize_t n;
	while ((n = read(fd, b, sizeof(b))) > 0) {
		buf_append(out, b, (size_t)n);
		total += (size_t)n;
	}
	return total;
}

/* Send's flow control: a Send answers at once while at most 1 MiB of
 * stdin is queued, otherwise once the process has read it down to that
 * (or its timeout passed, or the command went); nothing is lost or
 * duplicated; 16 MiB queued refuse. */
static void test_send_flow_control(void)
{
	char id[37], cmd[37];
	create(&alice, 0, id);
	struct proc p = PROC_NONE;
	start(&alice, id, &p, 95, cmd);
	fcntl(p.in, F_SETFL, O_NONBLOCK);
	const size_t piece = 512 * 1024;
	uint8_t *data = xmalloc(4 * piece);
	for (size_t i = 0; i < 4 * piece; i++)
		data[i] = (uint8_t)(i % 251);
	struct waiter t;
	waiter_init(&t);
	enum shell_status st = SHELL_OK;
	for (int i = 0; i < 2 && st == SHELL_OK; i++) {
		struct shell_op *op = shells_op_new();
		st = send_bytes(&alice, id, cmd, data + i * piece, piece,
				false);
		if (st == SHELL_OK)
			st = shells_send_wait(op, &alice, id, cmd, 60000, &t.w);
		shells_op_end(op, true);
	}
	is_int(st, SHELL_OK,
	       "1 MiB of stdin the process has not read: Sends answer at once");
	struct shell_op *op = shells_op_new();
	is_int(send_bytes(&alice, id, cmd, data + 2 * piece, piece, false),
	       SHELL_OK, "a third 512 KiB is queued");
	is_int(shells_send_wait(op, &alice, id, cmd, 60000, &t.w),
	       SHELL_PENDING, "its answer waits for the process to read");
	sleep_ms(200);
	is_int(woken(&t), 0, "not woken while the process reads nothing");
	struct buf got = BUF_INIT;
	for (int i = 0; i < 200 && woken(&t) == 0; i++) {
		drain_fd(p.in, &got);
		sleep_ms(10);
	}
	ok(wait_woken(&t, 1, 3000), "woken once the process read");
	is_int(shells_send_wait(op, &alice, id, cmd, 60000, &t.w), SHELL_OK,
	       "then answered");
	shells_op_end(op, true);

	/* A Send that waits past its timeout answers; its input stays. */
	op = shells_op_new();
	send_bytes(&alice, id, cmd, data, 3 * piece, false);
	int64_t t0 = time_mono_ms();
	is_int(shells_send_wait(op, &alice, id, cmd, 300, &t.w), SHELL_PENDING,
	       "a Send over the limit with a 300 ms timeout waits");
	ok(wait_woken(&t, 2, 3000), "is woken");
	int64_t waited = time_mono_ms() - t0;
	ok(waited >= 290 && waited < 2500, "after its timeout (%lld ms)",
	   (long long)waited);
	is_int(shells_send_wait(op, &alice, id, cmd, 300, &t.w), SHELL_OK,
	       "and answers (its input is queued, never sent twice)");
	shells_op_end(op, true);
	struct buf huge = BUF_INIT;
	buf_reserve(&huge, 16 * 1024 * 1024);
	memset(huge.data, 'h', 16 * 1024 * 1024);
	huge.len = 16 * 1024 * 1024;
	is_int(shells_send(&alice, id, cmd, &huge, false), SHELL_STDIN_FULL,
	       "more than 16 MiB queued: refused");
	ok(huge.len == 16 * 1024 * 1024,
	   "the refused input stays the caller's");
	buf_release(&huge);
	for (int i = 0; i < 500; i++) {
		if (drain_fd(p.in, &got) == 0 && got.len >= 6 * piece)
			break;
		sleep_ms(10);
	}
	/* what was sent: pieces 0, 1, 2, then 0..2 again */
	struct buf want = BUF_INIT;
	buf_append(&want, data, 3 * piece);
	buf_append(&want, data, 3 * piece);
	ok(got.len == want.len && memcmp(got.data, want.data, want.len) == 0,
	   "the process read every byte once, in order (%zu of %zu)", got.len,
	   want.len);
	buf_release(&want);

	/* A command that goes while a Send waits: the Send answers. */
	op = shells_op_new();
	send_bytes(&alice, id, cmd, data, 3 * piece, false);
	is_int(shells_send_wait(op, &alice, id, cmd, 60000, &t.w),
	       SHELL_PENDING, "another Send waits");
	shells_signal(&alice, id, cmd, SHELL_SIGNAL_TERMINATE);
	ok(wait_woken(&t, 3, 3000), "Terminate wakes it");
	is_int(shells_send_wait(op, &alice, id, cmd, 60000, &t.w), SHELL_OK,
	       "and it answers");
	shells_op_end(op, true);
	buf_release(&got);
	free(data);
	waiter_destroy(&t);
	shells_delete(&alice, id);
	proc_close(&p);
}

static void test_spawn_failures(void)
{
	char id[37], cmd[37];
	create(&alice, 0, id);
	struct waiter t;
	waiter_init(&t);
	struct shell_command_spec spec = { "nosuch", NULL, 0, true, NULL };
	struct shell_op *op = shells_op_new();
	is_int(shells_command(op, cfg, &alice, id, &spec, &t.w, cmd),
	       SHELL_PENDING, "Command waits");
	ok(answer_spawn_error(), "the helper refuses");
	is_int(shells_command(op, cfg, &alice, id, &spec, &t.w, cmd),
	       SHELL_START_FAILED, "Command answers that it could not start");
	shells_op_end(op, true);

	op = shells_op_new();
	is_int(shells_command(op, cfg, &alice, "no-such-shell", &spec, &t.w,
			      cmd),
	       SHELL_NOT_FOUND, "Command in an unknown shell");
	shells_op_end(op, true);

	op = shells_op_new();
	shells_command(op, cfg, &alice, id, &spec, &t.w, cmd);
	int before = woken(&t);
	shells_op_end(op, true);
	struct proc p = PROC_NONE;
	ok(answer_spawn(&p, 95), "an answer after its Command ended");
	is_int(woken(&t), before, "runs no waiter (the op is freed)");
	proc_close(&p);

	pthread_mutex_lock(&helper.lock);
	helper.gone = true;
	pthread_mutex_unlock(&helper.lock);
	op = shells_op_new();
	is_int(shells_command(op, cfg, &alice, id, &spec, &t.w, cmd),
	       SHELL_INTERNAL, "without the helper, Command fails");
	shells_op_end(op, true);
	pthread_mutex_lock(&helper.lock);
	helper.gone = false;
	pthread_mutex_unlock(&helper.lock);

	char *many[PRIV_MAX_ARGS + 1];
	for (size_t i = 0; i <= PRIV_MAX_ARGS; i++)
		many[i] = "x";
	struct shell_command_spec big = { "echo", many, PRIV_MAX_ARGS + 1, true,
					  NULL };
	op = shells_op_new();
	is_int(shells_command(op, cfg, &alice, id, &big, &t.w, cmd),
	       SHELL_OVER_HELPER_LIMIT, "a command over the helper's bounds");
	shells_op_end(op, true);
	waiter_destroy(&t);
	shells_delete(&alice, id);
}

static void test_stop(void)
{
	char id[37], cmd[37];
	create(&alice, 0, id);
	struct proc p = PROC_NONE;
	start(&alice, id, &p, 99, cmd);
	struct waiter t;
	waiter_init(&t);
	struct shell_op *op = shells_op_new();
	struct shell_received got;
	shells_receive(op, &alice, id, cmd, true, true, 60000, 65536, &t.w,
		       &got);
	shells_stop();
	is_int(woken(&t), 1, "stop wakes a waiting Receive");
	is_int(shells_count(), 0, "and ends every shell");
	is_int(shells_receive(op, &alice, id, cmd, true, true, 60000, 65536,
			      &t.w, &got),
	       SHELL_NOT_FOUND, "which then answers");
	shells_op_end(op, true);
	char other[37];
	is_int(create(&alice, 0, other), SHELL_INTERNAL,
	       "no shell is created while stopping");
	shells_join();
	waiter_destroy(&t);
	proc_close(&p);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_init("test-shells", LOG_LVL_WARN, false);
	priv_msg_init(&helper.spawn_req, PRIV_NONE);
	cfg = config_new_defaults();
	runtime_set_config(config_ref(cfg));
	ok(shells_start() == 0, "the I/O thread starts");
	test_create_and_quotas();
	test_command_and_output();
	test_waiters_woken();
	test_timeouts();
	test_send_flow_control();
	test_spawn_failures();
	test_stop();
	priv_msg_release(&helper.spawn_req);
	runtime_set_config(NULL);
	config_unref(cfg);
	return tap_done();
}
