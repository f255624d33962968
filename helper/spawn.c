/*
 * spawn.c - running commands for the Windows Remote Shell, as the
 * authenticated user (design.md decisions 5 and 10).
 *
 * Two ways, chosen once at start (units.h):
 *
 * - Where systemd is PID 1, each command is a transient service of the
 *   user (units.c): systemd opens the PAM session (PAMName=: account
 *   check, session), changes to the user and runs the login shell with
 *   -c (or the program itself); the command's pipes are handed to systemd
 *   as file descriptors.  A shell's commands share a slice in the user's
 *   slice, whose MemoryMax is Winrs.MaxMemoryPerShellMB (the memory of the
 *   whole shell, as Windows means it) and whose TasksMax is
 *   Winrs.MaxProcessesPerShell plus one per running command (systemd's
 *   "(sd-pam)" process of each).  The helper writes the wait status on the
 *   status pipe when systemd says the service ended.
 *
 * - Otherwise the helper forks a small root "monitor" process per
 *   command that opens the PAM session, forks the user's process, and
 *   closes the session when it ends.  The user's process gets its own
 *   session and process group (setsid), then, in this order and checked:
 *   initgroups, setgid, setuid; resource limits; a clean environment; the
 *   working directory; closefrom; exec of the login shell with -c (or the
 *   program itself).  The monitor writes the wait status.
 *
 * Either way the pipes go back to the listener by SCM_RIGHTS: stdin,
 * stdout, stderr and the status pipe.  The helper knows the listener's
 * shells by (uid, shell id) for the caller's own commands only: to group
 * them (their slice) and to keep the shell's delegated Kerberos
 * credentials (ccache.h) until SHELL_END.  The start (its command line)
 * and the end (its exit status) of every command are audit lines of its
 * connection.
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
 * Entry point: module_spawn (SPAWN, SIGNAL, SHELL_END; its start hook
 * connects to systemd, its stop hook ends every command).
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
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "helper/ccache.h"
#include "helper/closefds.h"
#include "helper/conns.h"
#include "helper/loop.h"
#include "helper/module.h"
#include "helper/units.h"
#include "lib/log.h"

#define TERMINATE_GRACE_MS 5000
/* Shells the helper keeps at most (a correct listener ends each one). */
#define MAX_SHELLS 100000
/* Winrs quotas at their maximum mean no limit. */
#define QUOTA_NONE 2147483647

/* A shell of the listener's, as far as the helper needs it. */
struct hshell {
	uid_t uid;
	char id[PRIV_SHELL_ID_LEN + 1]; /* upper case, as the listener's */
	char *slice;          /* its systemd slice once made, or NULL */
	char *ccache;         /* its credential cache file, or NULL */
	uint64_t ccache_conn; /* the connection whose ticket it holds */
	unsigned running;     /* its commands that have not ended */
	bool ended;           /* SHELL_END came: freed when nothing runs */
	struct hshell *next;
};

static struct hshell *shells;
static size_t n_shells;

struct command {
	uint64_t handle;
	pid_t monitor; /* fork path: root process holding the PAM session */
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
	struct unit *unit;    /* unit path: the service (units.h) */
	int status_fd;        /* unit path: the status pipe's write end */
	struct hshell *shell; /* the shell it runs in, or NULL */
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
	const char *cwd;     /* "" = home */
	char **env;          /* NAME=value, NULL-terminated */
	uint64_t max_memory; /* 0 = unlimited */
	const char *ccache;  /* the shell's credential cache, or NULL */
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

/* The environment every command starts from: the account's, then
 * Winrs.KeepEnvironment from the helper's own (*n: how many). */
static char **base_env(const struct spawn_args *a, size_t *n)
{
	char **env = xcalloc(1, sizeof(*env));
	*n = 0;
	env_add(&env, n, "HOME", a->home);
	env_add(&env, n, "USER", a->user);
	env_add(&env, n, "LOGNAME", a->user);
	env_add(&env, n, "SHELL", a->shell[0] ? a->shell : "/bin/sh");
	env_add(&env, n, "PATH",
		a->uid == 0
			? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
			: "/usr/local/bin:/usr/bin:/bin");
	env_add(&env, n, "LANG", "C.UTF-8");
	for (size_t i = 0; i < helper_config->n_keep_environment; i++) {
		const char *v = getenv(helper_config->keep_environment[i]);
		if (v != NULL)
			env_add(&env, n, helper_config->keep_environment[i], v);
	}
	return env;
}

static void env_free(char **env)
{
	for (size_t i = 0; env != NULL && env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/* The audit line of a command's end, from its wait status. */
static void audit_exit(const struct audit_peer *peer, const char *user,
		       pid_t pid, int status)
{
	if (WIFSIGNALED(status))
		log_audit_event(peer, "command",
				"user=%s action=exit pid=%d signal=%d",
				LOG_ESC(user), (int)pid, WTERMSIG(status));
	else
		log_audit_event(peer, "command",
				"user=%s action=exit pid=%d exit=%d",
				LOG_ESC(user), (int)pid, WEXITSTATUS(status));
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
	 * the shell's credential cache, then the client's rsp:Environment. */
	size_t n;
	char **env = base_env(a, &n);
	char **pam_env = pam_getenvlist(ph);
	for (size_t i = 0; pam_env != NULL && pam_env[i] != NULL; i++) {
		char *eq = strchr(pam_env[i], '=');
		if (eq != NULL) {
			*eq = '\0';
			env_add(&env, &n, pam_env[i], eq + 1);
		}
	}
	if (a->ccache != NULL) {
		char *v = xasprintf("FILE:%s", a->ccache);
		env_add(&env, &n, "KRB5CCNAME", v);
		free(v);
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
	if (rep.error == 0)
		audit_exit(a->peer, a->user, pid, status);
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

/* ---- shells ---- */

static struct hshell *shell_find(uid_t uid, const char *id)
{
	for (struct hshell *sh = shells; sh != NULL; sh = sh->next)
		if (sh->uid == uid && strcasecmp(sh->id, id) == 0)
			return sh;
	return NULL;
}

/* The shell, made on its first command; NULL when too many are kept. */
static struct hshell *shell_get(uid_t uid, const char *id)
{
	struct hshell *sh = shell_find(uid, id);
	if (sh != NULL || n_shells >= MAX_SHELLS)
		return sh;
	sh = xcalloc(1, sizeof(*sh));
	sh->uid = uid;
	for (size_t i = 0; i <= PRIV_SHELL_ID_LEN; i++)
		sh->id[i] = (char)(id[i] >= 'a' && id[i] <= 'z'
					   ? id[i] - 'a' + 'A'
					   : id[i]);
	sh->next = shells;
	shells = sh;
	n_shells++;
	return sh;
}

static void shell_free(struct hshell *sh)
{
	for (struct hshell **pp = &shells; *pp != NULL; pp = &(*pp)->next)
		if (*pp == sh) {
			*pp = sh->next;
			break;
		}
	n_shells--;
	free(sh->slice);
	free(sh->ccache);
	free(sh);
}

/* The shell's TasksMax: MaxProcessesPerShell processes of the user, and
 * the (sd-pam) process of each of its running commands. */
static void shell_set_tasks(struct hshell *sh)
{
	int64_t max = helper_config->max_processes_per_shell;
	if (sh->slice != NULL && !sh->ended && max < QUOTA_NONE)
		units_slice_set_tasks(sh->slice, (uint64_t)max + sh->running);
}

/* The shell's slice, made with its limits on its first command:
 * user-<uid>-winrmd\x2dshell\x2d<id, "-" escaped>.slice, in the user's
 * slice (a slice's name is its place in the tree). */
static const char *shell_slice(struct hshell *sh, const char *user)
{
	if (sh->slice != NULL)
		return sh->slice;
	struct buf b = BUF_INIT;
	char *head = xasprintf("user-%u-winrmd\\x2dshell\\x2d",
			       (unsigned)sh->uid);
	buf_append_str(&b, head);
	free(head);
	for (const char *p = sh->id; *p; p++)
		if (*p == '-')
			buf_append_str(&b, "\\x2d");
		else
			buf_append_byte(&b, (uint8_t)*p);
	buf_append_str(&b, ".slice");
	sh->slice = buf_steal(&b);
	int64_t mb = helper_config->max_memory_per_shell_mb;
	int64_t procs = helper_config->max_processes_per_shell;
	char *desc = xasprintf("winrmd: shell %s of %s", sh->id, user);
	units_slice_create(sh->slice, desc,
			   mb < QUOTA_NONE ? (uint64_t)mb << 20 : 0,
			   procs < QUOTA_NONE ? (uint64_t)procs + 1 : 0);
	free(desc);
	return sh->slice;
}

/* The shell is over (SHELL_END, or the helper stops): its cache goes, its
 * slice is stopped and let go; freed now or when its last command ends. */
static void shell_end(struct hshell *sh)
{
	if (sh->ended)
		return;
	sh->ended = true;
	ccache_remove(sh->ccache);
	free(sh->ccache);
	sh->ccache = NULL;
	if (sh->slice != NULL)
		units_slice_end(sh->slice);
	if (sh->running == 0)
		shell_free(sh);
}

/* The connection's delegated credentials become the shell's cache (once
 * per connection: a command may have added service tickets to it). */
static void shell_take_credentials(struct hshell *sh, const struct hconn *hc,
				   gid_t gid)
{
	if (hc->deleg == GSS_C_NO_CREDENTIAL ||
	    (sh->ccache != NULL && sh->ccache_conn == hc->id))
		return;
	char *path = ccache_store(hc->deleg, sh->uid, gid, sh->id);
	if (path == NULL)
		return;
	free(sh->ccache);
	sh->ccache = path;
	sh->ccache_conn = hc->id;
	log_info("shell %s of %s: delegated Kerberos credentials in %s", sh->id,
		 LOG_ESC(hc->identity.user), path);
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
	if (c->status_fd >= 0)
		close(c->status_fd);
	if (c->kill_timer != NULL)
		helper_timer_cancel(c->kill_timer);
	free(c->user);
	free(c->cmdline);
	free(c);
}

/* The command is over (or never started): its connection and its shell
 * count one less, then it goes. */
static void command_end(struct command *c)
{
	/* The end of a command counts as a use of its connection (the
	 * client polled for it through the listener alone). */
	struct hconn *hc = conns_find(c->conn_id);
	if (hc != NULL && hc->commands > 0)
		hc->commands--;
	struct hshell *sh = c->shell;
	if (sh != NULL && sh->running > 0) {
		sh->running--;
		if (sh->ended && sh->running == 0)
			shell_free(sh);
		else
			shell_set_tasks(sh);
	}
	command_free(c);
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
 * runs, or the program and its arguments as shell words (owned). */
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

/* The audit line of a command that did not start. */
static void audit_not_started(const struct audit_peer *peer, const char *user,
			      const char *cmdline, const char *why)
{
	log_audit_event(peer, "command",
			"user=%s action=start command=\"%s\" "
			"result=failure reason=\"%s\"",
			LOG_ESC(user), LOG_ESC(cmdline), LOG_ESC(why));
}

/* The audit line of a command that started. */
static void audit_started(const struct command *c)
{
	log_audit_event(COMMAND_PEER(c), "command",
			"user=%s action=start pid=%d command=\"%s\" "
			"result=success",
			LOG_ESC(c->user), (int)c->pid, LOG_ESC(c->cmdline));
}

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

/* A new command of hc's user, not yet started; linked. */
static struct command *command_new(struct hconn *hc, const struct priv_spawn *r,
				   uint32_t seq, struct hshell *sh)
{
	struct command *c = xcalloc(1, sizeof(*c));
	c->handle = next_handle++;
	c->uid = hc->identity.uid;
	c->user = xstrdup(hc->identity.user);
	c->conn_id = r->conn;
	snprintf(c->remote, sizeof(c->remote), "%s", hc->remote);
	c->port = hc->port;
	c->cmdline = command_line(r);
	c->seq = seq;
	c->ctl_fd = -1;
	c->status_fd = -1;
	for (int i = 0; i < 4; i++)
		c->listener_fds[i] = -1;
	c->shell = sh;
	if (sh != NULL)
		sh->running++;
	hc->commands++; /* its identity does not expire meanwhile */
	c->next = commands;
	commands = c;
	return c;
}

/* ---- the fork path ---- */

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
		audit_not_started(COMMAND_PEER(c), c->user, c->cmdline, msg);
		spawn_reply(c->seq, rep.error, msg, NULL);
		free(msg);
		for (int i = 0; i < 4; i++) {
			close(c->listener_fds[i]);
			c->listener_fds[i] = -1;
		}
		return;
	}
	c->pid = rep.pid;
	audit_started(c);
	spawn_reply(c->seq, 0, "", c);
}

static void on_monitor_exit(void *arg, int status)
{
	struct command *c = arg;
	log_debug("command %llu (monitor %d) finished, status %d",
		  (unsigned long long)c->handle, (int)c->monitor, status);
	/* The loop may reap a short-lived monitor before it polled the
	 * start report the monitor wrote: read it now, so that the
	 * SPAWN request is always answered (EOF answers an error). */
	if (c->ctl_fd >= 0)
		on_ctl(c, c->ctl_fd);
	command_end(c);
}

static void spawn_fork(struct helper_call *call, struct spawn_args *a,
		       struct hshell *sh)
{
	const struct priv_spawn *r = call->args;
	struct hconn *hc = call->conn;
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
	pid_t monitor = fork();
	if (monitor == 0) {
		helper_child_init(fds, 10);
		monitor_main(a, r->env, r->n_env, hc->remote, fds);
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
	struct command *c = command_new(hc, r, call->seq, sh);
	c->monitor = monitor;
	c->ctl_fd = fds[8];
	c->listener_fds[0] = fds[1];
	c->listener_fds[1] = fds[2];
	c->listener_fds[2] = fds[4];
	c->listener_fds[3] = fds[6];
	helper_watch_fd(c->ctl_fd, on_ctl, c); /* room checked above */
	helper_watch_child(monitor, on_monitor_exit, c);
	/* answered from on_ctl once the exec succeeded or failed */
}

/* ---- the unit path ---- */

static void unit_started(void *arg, int error, const char *why, pid_t pid)
{
	struct command *c = arg;
	if (error != 0) {
		c->unit = NULL; /* units.c lets it go */
		audit_not_started(COMMAND_PEER(c), c->user, c->cmdline, why);
		spawn_reply(c->seq, error, why, NULL);
		command_end(c);
		return;
	}
	c->pid = pid;
	audit_started(c);
	spawn_reply(c->seq, 0, "", c);
}

static void unit_ended(void *arg, int status)
{
	struct command *c = arg;
	c->unit = NULL;
	log_debug("command %llu finished, status %d",
		  (unsigned long long)c->handle, status);
	if (status != -1) {
		audit_exit(COMMAND_PEER(c), c->user, c->pid, status);
		int32_t st = status;
		if (write(c->status_fd, &st, sizeof(st)) < 0) {
			/* nobody listens any more */
		}
	}
	command_end(c);
}

/* Where the command's program is: systemd wants an absolute path.  The
 * login shell, or for SKIP_SHELL the program as execvp would find it in
 * the command's PATH (seen from the helper, as root). */
static char *find_program(const struct spawn_args *a, char **env, int *err)
{
	if (!(a->flags & PRIV_SPAWN_SKIP_SHELL)) {
		const char *shell = a->shell[0] != '\0' ? a->shell : "/bin/sh";
		if (access(shell, X_OK) == 0)
			return xstrdup(shell);
		*err = errno;
		return NULL;
	}
	const char *prog = a->program;
	*err = ENOENT;
	if (prog[0] == '\0')
		return NULL;
	if (strchr(prog, '/') != NULL) {
		char *path = prog[0] == '/'
				     ? xstrdup(prog)
				     : xasprintf("%s/%s",
						 a->cwd[0] ? a->cwd : a->home,
						 prog);
		if (access(path, X_OK) == 0)
			return path;
		*err = errno;
		free(path);
		return NULL;
	}
	const char *search = "/usr/local/bin:/usr/bin:/bin";
	for (size_t i = 0; env[i] != NULL; i++)
		if (strncmp(env[i], "PATH=", 5) == 0)
			search = env[i] + 5;
	for (const char *p = search;;) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > 0) {
			char *path = xasprintf("%.*s/%s", (int)len, p, prog);
			struct stat st;
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
			    access(path, X_OK) == 0)
				return path;
			if (errno == EACCES)
				*err = EACCES;
			free(path);
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return NULL;
}

static void spawn_unit(struct helper_call *call, struct spawn_args *a,
		       struct hshell *sh)
{
	const struct priv_spawn *r = call->args;
	struct hconn *hc = call->conn;
	/* Environment: the account, KeepEnvironment, the shell's credential
	 * cache, the client's; systemd adds PAM's (pam_env) last. */
	size_t n;
	char **env = base_env(a, &n);
	if (a->ccache != NULL) {
		char *v = xasprintf("FILE:%s", a->ccache);
		env_add(&env, &n, "KRB5CCNAME", v);
		free(v);
	}
	for (size_t i = 0; i < r->n_env; i++)
		env_add(&env, &n, r->env[i].name, r->env[i].value);

	/* What the fork path would refuse before starting: here systemd's
	 * service would fail after its start, with an exit code only. */
	struct stat st;
	int err = 0;
	char *path = find_program(a, env, &err);
	const char *stage = path == NULL ? "exec" : NULL;
	if (stage == NULL && a->cwd[0] != '\0') {
		if (a->cwd[0] != '/')
			err = ENOENT;
		else if (stat(a->cwd, &st) != 0)
			err = errno;
		else if (!S_ISDIR(st.st_mode))
			err = ENOTDIR;
		if (err != 0)
			stage = "chdir";
	}
	if (stage != NULL) {
		char *msg = xasprintf("%s: %s", stage, strerror(err));
		char *line = command_line(r);
		audit_not_started(HCONN_PEER(hc), a->user, line, msg);
		free(line);
		spawn_reply(call->seq, err, msg, NULL);
		free(msg);
		free(path);
		env_free(env);
		return;
	}

	/* argv: the login shell with -c (or the program and its arguments) */
	const char **argv = xcalloc(a->argc + 4, sizeof(*argv));
	char *argv0 = NULL;
	if (a->flags & PRIV_SPAWN_SKIP_SHELL) {
		argv[0] = a->program;
		for (size_t i = 0; i < a->argc; i++)
			argv[i + 1] = a->argv[i];
	} else {
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;
		argv0 = (a->flags & PRIV_SPAWN_NOPROFILE)
				? xstrdup(base)
				: xasprintf("-%s", base);
		argv[0] = argv0;
		argv[1] = "-c";
		argv[2] = a->program;
	}

	int p[8]; /* stdin, stdout, stderr, status: read end, write end */
	int made = 0;
	for (; made < 4; made++)
		if (pipe2(p + 2 * made, O_CLOEXEC) != 0)
			break;
	if (made < 4) {
		int e = errno;
		for (int i = 0; i < 2 * made; i++)
			close(p[i]);
		spawn_reply(call->seq, e, "out of file descriptors", NULL);
		goto out;
	}
	struct command *c = command_new(hc, r, call->seq, sh);
	c->listener_fds[0] = p[1];
	c->listener_fds[1] = p[2];
	c->listener_fds[2] = p[4];
	c->listener_fds[3] = p[6];
	c->status_fd = p[7];

	char *name, *desc, *user_slice = NULL;
	const char *slice;
	if (sh != NULL) {
		name = xasprintf(UNITS_SHELL_PREFIX "%s-%llu.service", sh->id,
				 (unsigned long long)c->handle);
		desc = xasprintf("winrmd: command %llu of %s in shell %s",
				 (unsigned long long)c->handle, a->user,
				 sh->id);
		slice = shell_slice(sh, a->user);
		shell_set_tasks(sh);
	} else {
		name = xasprintf(UNITS_RUN_PREFIX "%llu.service",
				 (unsigned long long)c->handle);
		desc = xasprintf("winrmd: command %llu of %s",
				 (unsigned long long)c->handle, a->user);
		user_slice = xasprintf("user-%u.slice", (unsigned)a->uid);
		slice = user_slice;
	}
	int64_t run_ms = helper_config->max_shell_run_time_ms;
	struct unit_exec x = {
		.name = name,
		.slice = slice,
		.description = desc,
		.uid = a->uid,
		.pam_service = helper_config->pam_service,
		.path = path,
		.argv = argv,
		.env = (const char *const *)env,
		.cwd = a->cwd,
		.fds = { p[0], p[3], p[5] },
		/* a shell's memory is its slice's; one outside a shell has
		 * the listener's limit of its own */
		.memory_max = sh == NULL ? a->max_memory : 0,
		.runtime_max_us = sh != NULL && run_ms < QUOTA_NONE
					  ? (uint64_t)run_ms * 1000
					  : 0,
	};
	static const struct unit_callbacks cbs = { unit_started, unit_ended };
	char *why = NULL;
	c->unit = unit_start(&x, &cbs, c, &why);
	/* The request holds duplicates of the command's ends. */
	close(p[0]);
	close(p[3]);
	close(p[5]);
	if (c->unit == NULL) {
		audit_not_started(COMMAND_PEER(c), a->user, c->cmdline, why);
		spawn_reply(call->seq, EIO, why, NULL);
		free(why);
		command_end(c);
	}
	free(name);
	free(desc);
	free(user_slice);
out:
	free(argv0);
	free(argv);
	free(path);
	env_free(env);
	/* answered from unit_started */
}

static void handle_spawn(struct helper_call *call)
{
	const struct priv_spawn *r = call->args;
	struct hconn *hc = call->conn; /* authenticated and authorized */
	if (r->shell_id[0] != '\0' && !guid_valid(r->shell_id))
		fatal("protocol violation: SPAWN in shell \"%s\"",
		      LOG_ESC(r->shell_id));
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
	struct hshell *sh = NULL;
	if (r->shell_id[0] != '\0') {
		sh = shell_get(pw->pw_uid, r->shell_id);
		if (sh == NULL) {
			spawn_reply(call->seq, EAGAIN,
				    "too many shells are open", NULL);
			return;
		}
		if (sh->ended) {
			/* a correct listener never uses an ended shell */
			spawn_reply(call->seq, ENOENT, "the shell has ended",
				    NULL);
			return;
		}
		shell_take_credentials(sh, hc, pw->pw_gid);
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
		.ccache = sh != NULL ? sh->ccache : NULL,
		.peer = HCONN_PEER(hc),
	};
	if (units_enabled())
		spawn_unit(call, &a, sh);
	else
		spawn_fork(call, &a, sh);
	/* A shell made for a command that did not start goes with it. */
	if (sh != NULL && sh->running == 0 && sh->slice == NULL &&
	    sh->ccache == NULL)
		shell_free(sh);
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

/* Sends sig to the command: its process group (fork path), its unit
 * (units.h: SIGTERM stops it, systemd kills after the grace period).
 * SIGTERM also starts the grace period of the fork path. */
static void command_signal(struct command *c, int sig)
{
	if (c->unit != NULL) {
		unit_signal(c->unit, sig);
		return;
	}
	if (c->pid <= 0)
		return;
	kill(-c->pid, sig);
	if (sig == SIGTERM && c->kill_timer == NULL)
		c->kill_timer = helper_timer_at(time_mono_ms() +
							TERMINATE_GRACE_MS,
						kill_now, c);
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
		if (c != NULL && c->pid > 0)
			command_signal(c, r->kind == PRIV_SIGNAL_KILL
						  ? SIGKILL
						  : SIGTERM);
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
	command_signal(c, sig);
	signal_answer(call->seq, 0, NULL);
}

/* SHELL_END from the listener, which ended one of its shells. */
static void handle_shell_end(struct helper_call *call)
{
	const struct priv_shell_end *r = call->args;
	if (!guid_valid(r->shell_id))
		fatal("protocol violation: SHELL_END of shell \"%s\"",
		      LOG_ESC(r->shell_id));
	struct hshell *sh = shell_find((uid_t)r->uid, r->shell_id);
	if (sh != NULL) {
		log_debug("shell %s of uid %u ended", sh->id,
			  (unsigned)sh->uid);
		shell_end(sh);
	}
	helper_answer(call->seq, PRIV_OK, NULL, NULL, 0);
}

static void spawn_start(void)
{
	ccache_init(helper_config->admin_socket);
	units_init();
}

static void spawn_shutdown(void)
{
	for (struct hshell *sh = shells, *next; sh != NULL; sh = next) {
		next = sh->next;
		shell_end(sh);
	}
	ccache_clear();
	if (commands == NULL)
		goto done;
	log_info("ending every running command");
	/* Commands that are units: stopped, waited for by units.c. */
	units_shutdown();
	for (struct command *c = commands; c != NULL; c = c->next)
		if (c->pid > 0 && c->unit == NULL)
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
					command_end(c);
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
				command_end(c);
				break;
			}
	}
done:
	units_shutdown(); /* disconnects (again: harmless) */
}

static const struct helper_request requests[] = {
	{ PRIV_SPAWN, REQ_AUTHENTICATED, PRIV_SPAWN_RESULT, handle_spawn },
	{ PRIV_SIGNAL, REQ_AUTHENTICATED | REQ_CONN_ZERO, PRIV_ERROR,
	  handle_signal },
	{ PRIV_SHELL_END, 0, PRIV_ERROR, handle_shell_end },
};

const struct helper_module module_spawn = {
	.name = "spawn",
	HELPER_REQUESTS(requests),
	.start = spawn_start,
	.stop = spawn_shutdown,
};
