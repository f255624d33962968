/*
 * spawn.c - running commands for the Windows Remote Shell, as the
 * authenticated user (design.md decision 5).
 *
 * For every command the helper forks a small root "monitor" process that
 * opens the PAM session, forks the user's process, and closes the session
 * when it ends.  The user's process gets its own session and process
 * group (setsid), then, in this order and checked: initgroups, setgid,
 * setuid; resource limits; a clean environment; the working directory;
 * closefrom; exec of the login shell with -c (or the program itself).
 * The pipes go back to the listener by SCM_RIGHTS: stdin, stdout, stderr
 * and a status pipe on which the monitor writes the wait status.  The
 * start (its command line) and the end (its exit status, written by the
 * monitor) of every command are audit lines of its connection.
 *
 * Only a connection whose identity the helper established, authorized,
 * may spawn; only the owner of a command (same uid) may signal it.
 *
 * The WMI provider host (PRIV_SPAWN_PROVIDER, design.md decision 11) is
 * started the same way, as the caller: it is the one program the helper
 * starts when Winrs.AllowRemoteShellAccess is false, and only when the
 * listener names exactly the configured Wmi.ProviderPath, without
 * arguments, environment or working directory; so a listener gains no
 * other program to run through it.
 *
 * Entry point: module_spawn (SPAWN, SIGNAL; its stop hook ends every
 * command).
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "helper/closefds.h"
#include "helper/conns.h"
#include "lib/log.h"
#include "helper/loop.h"
#include "helper/module.h"

#define TERMINATE_GRACE_MS 5000

struct command {
	uint64_t handle;
	pid_t monitor; /* root process holding the PAM session */
	pid_t pid; /* the user's process and process group; 0 until started */
	uid_t uid;
	char *user;
	uint64_t conn_id; /* the connection that started it */
	char remote[64];  /* its client, for the audit lines */
	unsigned port;
	char *cmdline;       /* what it runs, for the audit lines */
	int ctl_fd;          /* monitor -> helper: started or failed */
	uint32_t seq;        /* the SPAWN request awaiting its answer */
	int listener_fds[4]; /* stdin (w), stdout (r), stderr (r), status (r) */
	struct timer *kill_timer;
	struct command *next;
};

static struct command *commands;
static uint64_t next_handle = 1;

/* What the monitor tells the helper on the control pipe. */
struct ctl_report {
	int32_t error; /* 0: started */
	int32_t pid;
	char stage[32]; /* where it failed: "pam_open_session", "exec"... */
};

/* ---- the user's process (in the grandchild) ---- */

struct spawn_args {
	const char *user;
	uid_t uid;
	gid_t gid;
	const char *home;
	const char *shell;
	uint32_t flags;
	const char *program;
	const char *const *argv; /* program arguments (SKIP_SHELL) */
	size_t argc;
	const char *cwd;               /* "" = home */
	char **env;                    /* NAME=value, NULL-terminated */
	uint64_t max_memory;           /* 0 = unlimited */
	const struct audit_peer *peer; /* the command's end is audited */
};

static void report_exec_error(int fd, const char *stage)
{
	struct ctl_report r = { .error = errno, .pid = 0 };
	snprintf(r.stage, sizeof(r.stage), "%s", stage);
	if (write(fd, &r, sizeof(r)) < 0) {
		/* the monitor sees EOF and reports a failure anyway */
	}
	_exit(127);
}

static void exec_user(const struct spawn_args *a, int in, int out, int err,
		      int exec_err)
{
	if (setsid() < 0)
		report_exec_error(exec_err, "setsid");
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		report_exec_error(exec_err, "dup2");
	/* Privileges: supplementary groups, then gid, then uid; checked. */
	if (initgroups(a->user, a->gid) != 0)
		report_exec_error(exec_err, "initgroups");
	if (setresgid(a->gid, a->gid, a->gid) != 0)
		report_exec_error(exec_err, "setgid");
	if (setresuid(a->uid, a->uid, a->uid) != 0)
		report_exec_error(exec_err, "setuid");
	if (a->uid != 0 && (setuid(0) == 0 || geteuid() != a->uid ||
			    getuid() != a->uid || getegid() != a->gid)) {
		errno = EPERM;
		report_exec_error(exec_err, "privilege check");
	}
	if (a->max_memory > 0) {
		struct rlimit rl = { (rlim_t)a->max_memory,
				     (rlim_t)a->max_memory };
		if (setrlimit(RLIMIT_AS, &rl) != 0)
			report_exec_error(exec_err, "setrlimit");
	}
	const char *dir = a->cwd[0] != '\0' ? a->cwd : a->home;
	if (chdir(dir) != 0) {
		if (a->cwd[0] != '\0')
			report_exec_error(exec_err, "chdir");
		/* No usable home: "/" as login(1) does. */
		if (chdir("/") != 0)
			report_exec_error(exec_err, "chdir");
	}
	if (closefds_except(&exec_err, 1) != 0)
		report_exec_error(exec_err, "close descriptors");

	if (a->flags & PRIV_SPAWN_SKIP_SHELL) {
		char **argv = xcalloc(a->argc + 2, sizeof(*argv));
		argv[0] = (char *)a->program;
		for (size_t i = 0; i < a->argc; i++)
			argv[i + 1] = (char *)a->argv[i];
		execvpe(a->program, argv, a->env);
		report_exec_error(exec_err, "exec");
	}
	/* Through the account's shell, as cmd.exe /c does on Windows; a
	 * login shell (profile loaded) unless WINRS_NOPROFILE. */
	const char *shell = a->shell[0] != '\0' ? a->shell : "/bin/sh";
	const char *base = strrchr(shell, '/');
	base = base ? base + 1 : shell;
	char *argv0 = (a->flags & PRIV_SPAWN_NOPROFILE)
			      ? xstrdup(base)
			      : xasprintf("-%s", base);
	char *argv[] = { argv0, "-c", (char *)a->program, NULL };
	execve(shell, argv, a->env);
	report_exec_error(exec_err, "exec");
}

/* ---- the monitor (root, in the child) ---- */

static int null_conv(int n, const struct pam_message **msg,
		     struct pam_response **resp, void *data)
{
	(void)n;
	(void)msg;
	(void)resp;
	(void)data;
	return PAM_CONV_ERR; /* no conversation in a session */
}

static void env_add(char ***env, size_t *n, const char *name, const char *value)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < *n; i++) {
		if (strncmp((*env)[i], name, len) == 0 &&
		    (*env)[i][len] == '=') {
			free((*env)[i]);
			(*env)[i] = xasprintf("%s=%s", name, value);
			return;
		}
	}
	*env = xrealloc(*env, sizeof(**env) * (*n + 2));
	(*env)[(*n)++] = xasprintf("%s=%s", name, value);
	(*env)[*n] = NULL;
}

static void monitor_main(struct spawn_args *a,
			 const struct priv_env_var *client_env,
			 size_t client_envc, const char *remote, int fds[10])
{
	/* fds: 0 stdin r, 1 stdin w, 2 stdout r, 3 stdout w, 4 stderr r,
	 * 5 stderr w, 6 status r, 7 status w, 8 ctl r, 9 ctl w */
	close(fds[1]);
	close(fds[2]);
	close(fds[4]);
	close(fds[6]);
	close(fds[8]);
	int ctl = fds[9], status_fd = fds[7];
	struct ctl_report rep = { 0 };

	/* The monitor outlives signals sent to the user's process group. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	struct pam_conv conv = { null_conv, NULL };
	pam_handle_t *ph = NULL;
	int rc = pam_start(helper_config->pam_service, a->user, &conv, &ph);
	if (rc == PAM_SUCCESS) {
		pam_set_item(ph, PAM_RHOST, remote);
		pam_set_item(ph, PAM_TTY, "winrm");
		pam_setcred(ph, PAM_ESTABLISH_CRED);
		rc = pam_open_session(ph, 0);
	}
	if (rc != PAM_SUCCESS) {
		rep.error = EACCES;
		snprintf(rep.stage, sizeof(rep.stage), "pam_open_session");
		if (write(ctl, &rep, sizeof(rep)) < 0) {
			/* helper sees EOF */
		}
		_exit(1);
	}

	/* Environment: the account, then KeepEnvironment, then PAM's, then
	 * the client's rsp:Environment. */
	char **env = xcalloc(1, sizeof(*env));
	size_t n = 0;
	env_add(&env, &n, "HOME", a->home);
	env_add(&env, &n, "USER", a->user);
	env_add(&env, &n, "LOGNAME", a->user);
	env_add(&env, &n, "SHELL", a->shell[0] ? a->shell : "/bin/sh");
	env_add(&env, &n, "PATH",
		a->uid == 0
			? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
			: "/usr/local/bin:/usr/bin:/bin");
	env_add(&env, &n, "LANG", "C.UTF-8");
	for (size_t i = 0; i < helper_config->n_keep_environment; i++) {
		const char *v = getenv(helper_config->keep_environment[i]);
		if (v != NULL)
			env_add(&env, &n, helper_config->keep_environment[i],
				v);
	}
	char **pam_env = pam_getenvlist(ph);
	for (size_t i = 0; pam_env != NULL && pam_env[i] != NULL; i++) {
		char *eq = strchr(pam_env[i], '=');
		if (eq != NULL) {
			*eq = '\0';
			env_add(&env, &n, pam_env[i], eq + 1);
		}
	}
	for (size_t i = 0; i < client_envc; i++)
		env_add(&env, &n, client_env[i].name, client_env[i].value);
	a->env = env;

	int exec_err[2];
	if (pipe2(exec_err, O_CLOEXEC) != 0) {
		rep.error = errno;
		snprintf(rep.stage, sizeof(rep.stage), "pipe");
		goto fail;
	}
	pid_t pid = fork();
	if (pid < 0) {
		rep.error = errno;
		snprintf(rep.stage, sizeof(rep.stage), "fork");
		goto fail;
	}
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		close(exec_err[0]);
		close(ctl);
		close(status_fd);
		exec_user(a, fds[0], fds[3], fds[5], exec_err[1]);
	}
	close(exec_err[1]);
	close(fds[0]);
	close(fds[3]);
	close(fds[5]);
	/* EOF on the CLOEXEC pipe means the exec succeeded. */
	struct ctl_report child;
	ssize_t got;
	do {
		got = read(exec_err[0], &child, sizeof(child));
	} while (got < 0 && errno == EINTR);
	close(exec_err[0]);
	if (got == (ssize_t)sizeof(child)) {
		rep = child;
		rep.stage[sizeof(rep.stage) - 1] = '\0';
	} else {
		rep.error = 0;
		rep.pid = pid;
	}
	if (write(ctl, &rep, sizeof(rep)) < 0) {
		/* the helper is gone; the command still runs to its end */
	}
	close(ctl);

	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rep.error == 0) {
		if (WIFSIGNALED(status))
			log_audit_event(a->peer, "command",
					"user=%s action=exit pid=%d signal=%d",
					LOG_ESC(a->user), (int)pid,
					WTERMSIG(status));
		else
			log_audit_event(a->peer, "command",
					"user=%s action=exit pid=%d exit=%d",
					LOG_ESC(a->user), (int)pid,
					WEXITSTATUS(status));
	}
	if (rep.error == 0) {
		int32_t st = status;
		if (write(status_fd, &st, sizeof(st)) < 0) {
			/* nobody listens any more */
		}
	}
	close(status_fd);
	pam_close_session(ph, 0);
	pam_setcred(ph, PAM_DELETE_CRED);
	pam_end(ph, PAM_SUCCESS);
	_exit(0);
fail:
	if (write(ctl, &rep, sizeof(rep)) < 0) {
		/* helper sees EOF */
	}
	pam_close_session(ph, 0);
	pam_end(ph, PAM_SUCCESS);
	_exit(1);
}

/* ---- the helper side ---- */

static struct command *find_command(uint64_t handle)
{
	for (struct command *c = commands; c != NULL; c = c->next)
		if (c->handle == handle)
			return c;
	return NULL;
}

static void command_free(struct command *c)
{
	for (struct command **pp = &commands; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->ctl_fd >= 0) {
		helper_unwatch_fd(c->ctl_fd);
		close(c->ctl_fd);
	}
	for (int i = 0; i < 4; i++)
		if (c->listener_fds[i] >= 0)
			close(c->listener_fds[i]);
	if (c->kill_timer != NULL)
		helper_timer_cancel(c->kill_timer);
	free(c->user);
	free(c->cmdline);
	free(c);
}

/* Appends s, quoted as a POSIX shell word when it needs to be. */
static void shell_word(struct buf *b, const char *s)
{
	bool plain = s[0] != '\0';
	for (const char *p = s; *p != '\0' && plain; p++)
		plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			       "0123456789_-+=./:,@%",
			       *p) != NULL;
	if (plain) {
		buf_append_str(b, s);
		return;
	}
	buf_append_str(b, "'");
	for (const char *p = s; *p != '\0'; p++)
		buf_append_str(b, *p == '\'' ? "'\\''" : (char[2]){ *p, 0 });
	buf_append_str(b, "'");
}

/* The command line as it runs, for the audit lines: the text the shell
 * runs, or the program and its arguments as shell words. */
static char *command_line(const struct priv_spawn *r)
{
	if (!(r->flags & PRIV_SPAWN_SKIP_SHELL))
		return xstrdup(r->program);
	struct buf line = BUF_INIT;
	shell_word(&line, r->program);
	for (size_t i = 0; i < r->argc; i++) {
		buf_append_str(&line, " ");
		shell_word(&line, r->argv[i]);
	}
	return buf_steal(&line);
}

#define COMMAND_PEER(c)                                                        \
	(&(const struct audit_peer){ (c)->conn_id, (c)->remote, (c)->port })

/* Answers a SPAWN: started (error 0: the command's handle, pid and the
 * listener's ends of its pipes, which are closed once sent) or not. */
static void spawn_reply(uint32_t seq, int error, const char *message,
			struct command *c)
{
	struct priv_spawn_result res = { .error = (uint32_t)error,
					 .message = message };
	if (error == 0 && c != NULL) {
		res.handle = c->handle;
		res.pid = (uint32_t)c->pid;
		helper_answer(seq, PRIV_SPAWN_RESULT, &res, c->listener_fds, 4);
		for (int i = 0; i < 4; i++)
			c->listener_fds[i] = -1;
		return;
	}
	helper_answer(seq, PRIV_SPAWN_RESULT, &res, NULL, 0);
}

static void on_ctl(void *arg, int fd)
{
	struct command *c = arg;
	struct ctl_report rep;
	ssize_t n;
	do {
		n = read(fd, &rep, sizeof(rep));
	} while (n < 0 && errno == EINTR);
	helper_unwatch_fd(fd);
	close(fd);
	c->ctl_fd = -1;
	if (n != (ssize_t)sizeof(rep)) {
		spawn_reply(c->seq, EIO, "the command could not be started",
			    NULL);
		log_err("command for %s: the monitor died before starting it",
			LOG_ESC(c->user));
		for (int i = 0; i < 4; i++) {
			close(c->listener_fds[i]);
			c->listener_fds[i] = -1;
		}
		return; /* freed when the monitor is reaped */
	}
	rep.stage[sizeof(rep.stage) - 1] = '\0';
	if (rep.error != 0) {
		char *msg = xasprintf("%s: %s", rep.stage, strerror(rep.error));
		log_audit_event(COMMAND_PEER(c), "command",
				"user=%s action=start command=\"%s\" "
				"result=failure reason=\"%s\"",
				LOG_ESC(c->user), LOG_ESC(c->cmdline),
				LOG_ESC(msg));
		spawn_reply(c->seq, rep.error, msg, NULL);
		free(msg);
		for (int i = 0; i < 4; i++) {
			close(c->listener_fds[i]);
			c->listener_fds[i] = -1;
		}
		return;
	}
	c->pid = rep.pid;
	log_audit_event(COMMAND_PEER(c), "command",
			"user=%s action=start pid=%d command=\"%s\" "
			"result=success",
			LOG_ESC(c->user), (int)c->pid, LOG_ESC(c->cmdline));
	spawn_reply(c->seq, 0, "", c);
}

static void on_monitor_exit(void *arg, int status)
{
	struct command *c = arg;
	log_debug("command %llu (monitor %d) finished, status %d",
		  (unsigned long long)c->handle, (int)c->monitor, status);
	/* The end of a command counts as a use of its connection (the
	 * client polled for it through the listener alone). */
	struct hconn *hc = conns_find(c->conn_id);
	if (hc != NULL && hc->commands > 0)
		hc->commands--;
	/* The loop may reap a short-lived monitor before it polled the
	 * start report the monitor wrote: read it now, so that the
	 * SPAWN request is always answered (EOF answers an error). */
	if (c->ctl_fd >= 0)
		on_ctl(c, c->ctl_fd);
	command_free(c);
}

static void handle_spawn(struct helper_call *call)
{
	const struct priv_spawn *r = call->args;
	struct hconn *hc = call->conn; /* authenticated and authorized */
	uint32_t flags = r->flags;
	if (flags & PRIV_SPAWN_PROVIDER) {
		if (strcmp(r->program, helper_config->wmi_provider_path) != 0 ||
		    r->argc != 0 || r->n_env != 0 || r->cwd[0] != '\0') {
			log_warn("%s: a provider host other than %s was asked "
				 "for (%s); refused",
				 LOG_ESC(hc->identity.user),
				 LOG_ESC(helper_config->wmi_provider_path),
				 LOG_ESC(r->program));
			spawn_reply(call->seq, EPERM,
				    "not the configured provider host", NULL);
			return;
		}
		flags = PRIV_SPAWN_PROVIDER | PRIV_SPAWN_SKIP_SHELL |
			PRIV_SPAWN_NOPROFILE;
	} else if (!helper_config->allow_remote_shell_access) {
		spawn_reply(call->seq, EACCES,
			    "remote shell access is disabled", NULL);
		return;
	}
	errno = 0;
	struct passwd *pw = getpwnam(hc->identity.user);
	if (pw == NULL || pw->pw_uid != hc->identity.uid) {
		spawn_reply(call->seq, ENOENT, "the account no longer exists",
			    NULL);
		return;
	}
	struct spawn_args a = {
		.user = hc->identity.user,
		.uid = pw->pw_uid,
		.gid = pw->pw_gid,
		.home = pw->pw_dir,
		.shell = pw->pw_shell,
		.flags = flags,
		.program = r->program,
		.argv = r->argv,
		.argc = r->argc,
		.cwd = r->cwd,
		.max_memory = r->max_memory,
	};
	if (!helper_watch_room(1)) {
		spawn_reply(call->seq, EAGAIN, "too many commands are starting",
			    NULL);
		return;
	}
	int fds[10];
	int made = 0;
	for (; made < 5; made++)
		if (pipe2(fds + 2 * made, O_CLOEXEC) != 0)
			break;
	if (made < 5) {
		int e = errno;
		for (int i = 0; i < 2 * made; i++)
			close(fds[i]);
		spawn_reply(call->seq, e, "out of file descriptors", NULL);
		return;
	}
	a.peer = HCONN_PEER(hc);
	pid_t monitor = fork();
	if (monitor == 0) {
		helper_child_init(fds, 10);
		monitor_main(&a, r->env, r->n_env, hc->remote, fds);
	}
	close(fds[0]);
	close(fds[3]);
	close(fds[5]);
	close(fds[7]);
	close(fds[9]);
	if (monitor < 0) {
		int e = errno;
		close(fds[1]);
		close(fds[2]);
		close(fds[4]);
		close(fds[6]);
		close(fds[8]);
		spawn_reply(call->seq, e, "cannot fork", NULL);
		return;
	}
	struct command *c = xcalloc(1, sizeof(*c));
	c->handle = next_handle++;
	c->monitor = monitor;
	c->uid = pw->pw_uid;
	c->user = xstrdup(hc->identity.user);
	c->conn_id = r->conn;
	snprintf(c->remote, sizeof(c->remote), "%s", hc->remote);
	c->port = hc->port;
	/* the command line as it runs: through the shell, or the program
	 * and its arguments */
	c->cmdline = command_line(r);
	hc->commands++; /* its identity does not expire meanwhile */
	c->ctl_fd = fds[8];
	c->seq = call->seq;
	c->listener_fds[0] = fds[1];
	c->listener_fds[1] = fds[2];
	c->listener_fds[2] = fds[4];
	c->listener_fds[3] = fds[6];
	c->next = commands;
	commands = c;
	helper_watch_fd(c->ctl_fd, on_ctl, c); /* room checked above */
	helper_watch_child(monitor, on_monitor_exit, c);
	/* answered from on_ctl once the exec succeeded or failed */
}

static void kill_now(void *arg)
{
	struct command *c = arg;
	c->kill_timer = NULL;
	if (c->pid > 0) {
		log_info("command %llu did not end after SIGTERM; SIGKILL",
			 (unsigned long long)c->handle);
		kill(-c->pid, SIGKILL);
	}
}

static void signal_answer(uint32_t seq, uint32_t error, const char *message)
{
	if (error == 0) {
		helper_answer(seq, PRIV_OK, NULL, NULL, 0);
	} else {
		struct priv_error e = { .code = error, .message = message };
		helper_answer(seq, PRIV_ERROR, &e, NULL, 0);
	}
}

static void handle_signal(struct helper_call *call)
{
	const struct priv_signal_command *r = call->args;
	if (r->kind < PRIV_SIGNAL_TERMINATE || r->kind > PRIV_SIGNAL_KILL)
		fatal("protocol violation: SIGNAL of kind %u", r->kind);
	struct command *c = find_command(r->handle);
	if (r->conn == 0) {
		/* winrmd itself ends a shell (idle, run time, shutdown): only
		 * termination, and only of commands the helper started. */
		if (r->kind != PRIV_SIGNAL_TERMINATE &&
		    r->kind != PRIV_SIGNAL_KILL)
			fatal("protocol violation: SIGNAL %u without a connection",
			      r->kind);
		if (c != NULL && c->pid > 0) {
			kill(-c->pid,
			     r->kind == PRIV_SIGNAL_KILL ? SIGKILL : SIGTERM);
			if (r->kind == PRIV_SIGNAL_TERMINATE &&
			    c->kill_timer == NULL)
				c->kill_timer = helper_timer_at(
					time_mono_ms() + TERMINATE_GRACE_MS,
					kill_now, c);
		}
		signal_answer(call->seq, 0, NULL);
		return;
	}
	const struct hconn *hc = call->conn; /* authenticated */
	if (c == NULL || c->pid <= 0) {
		/* Already ended (or never started): nothing to signal. */
		signal_answer(call->seq, 0, NULL);
		return;
	}
	if (c->uid != hc->identity.uid) {
		log_warn("%s tried to signal command %llu of %s; refused",
			 LOG_ESC(hc->identity.user),
			 (unsigned long long)r->handle, LOG_ESC(c->user));
		signal_answer(call->seq, EPERM, "not the owner of the command");
		return;
	}
	int sig = r->kind == PRIV_SIGNAL_CTRL_C       ? SIGINT
		  : r->kind == PRIV_SIGNAL_CTRL_BREAK ? SIGQUIT
		  : r->kind == PRIV_SIGNAL_KILL       ? SIGKILL
						      : SIGTERM;
	kill(-c->pid, sig);
	if (r->kind == PRIV_SIGNAL_TERMINATE && c->kill_timer == NULL)
		c->kill_timer = helper_timer_at(time_mono_ms() +
							TERMINATE_GRACE_MS,
						kill_now, c);
	signal_answer(call->seq, 0, NULL);
}

static void spawn_shutdown(void)
{
	if (commands == NULL)
		return;
	log_info("ending every running command");
	for (struct command *c = commands; c != NULL; c = c->next)
		if (c->pid > 0)
			kill(-c->pid, SIGTERM);
	/* Wait for the monitors (they close the PAM sessions). */
	for (int i = 0; i < 40 && commands != NULL; i++) {
		usleep(50000);
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			for (struct command *c = commands; c != NULL;
			     c = c->next)
				if (c->monitor == pid) {
					command_free(c);
					break;
				}
	}
	for (struct command *c = commands; c != NULL; c = c->next)
		if (c->pid > 0)
			kill(-c->pid, SIGKILL);
	for (int i = 0; i < 40 && commands != NULL; i++) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0)
			break;
		for (struct command *c = commands; c != NULL; c = c->next)
			if (c->monitor == pid) {
				command_free(c);
				break;
			}
	}
}

static const struct helper_request requests[] = {
	{ PRIV_SPAWN, REQ_AUTHENTICATED, PRIV_SPAWN_RESULT, handle_spawn },
	{ PRIV_SIGNAL, REQ_AUTHENTICATED | REQ_CONN_ZERO, PRIV_ERROR,
	  handle_signal },
};

const struct helper_module module_spawn = {
	.name = "spawn",
	HELPER_REQUESTS(requests),
	.stop = spawn_shutdown,
};
