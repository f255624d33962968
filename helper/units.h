/*
 * units.h - commands as transient systemd units (docs/design.md,
 * decision 10): where systemd is PID 1, winrmd-priv asks systemd over
 * D-Bus (org.freedesktop.systemd1) to run each command as a transient
 * service of the user, in a slice of the user's slice, instead of forking
 * it itself; so the command is not in winrmd.service's cgroup and does not
 * inherit its sandbox, and Winrs quotas are cgroup limits of the slice.
 *
 * One bus connection, driven by the helper's poll loop (loop.h): nothing
 * here blocks but units_init and units_shutdown.
 *
 * Names: every unit this module starts matches one of UNITS_PATTERNS, so
 * that a helper that starts stops what an earlier one left behind (a
 * helper killed with SIGKILL cannot stop its commands: they would run on).
 */
#ifndef WINRMD_PRIV_UNITS_H
#define WINRMD_PRIV_UNITS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Units of commands: winrmd-shell-<SHELLID>-<n>.service for a shell's,
 * winrmd-run-<n>.service for one outside any shell; slices of shells:
 * user-<UID>-winrmd\x2dshell\x2d<SHELLID>.slice (a slice's place in the
 * tree is its name: this one sits in user-<UID>.slice). */
#define UNITS_SHELL_PREFIX "winrmd-shell-"
#define UNITS_RUN_PREFIX "winrmd-run-"
#define UNITS_PATTERNS                                                         \
	{                                                                      \
		UNITS_SHELL_PREFIX "*.service", UNITS_RUN_PREFIX "*.service",  \
			"user-*-winrmd*.slice", NULL                           \
	}

/* At the helper's start: when systemd is PID 1, connects to the system bus
 * and stops every unit matching UNITS_PATTERNS (waits for them, bounded).
 * Otherwise, or when the bus cannot be reached, units_enabled() stays
 * false and commands are forked as before (said in the log). */
void units_init(void);
bool units_enabled(void);
/* At the helper's stop: stops every command unit still running and waits
 * for their ends (bounded; their ended callbacks run), then disconnects. */
void units_shutdown(void);

/* One command. */
struct unit_exec {
	const char *name;        /* the unit, "....service" */
	const char *slice;       /* the slice it runs in */
	const char *description; /* Description= */
	uid_t uid;               /* User= (numeric: any NSS name works) */
	const char *pam_service; /* PAMName=: account check and session */
	const char *path;        /* absolute path of the program */
	const char *const *argv; /* its argv, argv[0] included */
	const char *const *env;  /* NAME=value..., NULL-terminated */
	const char *cwd;         /* WorkingDirectory=; "" = home, or / */
	int fds[3];              /* stdin, stdout, stderr (not taken) */
	uint64_t memory_max;     /* MemoryMax= in bytes; 0: none */
	uint64_t runtime_max_us; /* RuntimeMaxSec=; 0: none */
};

struct unit_callbacks {
	/* Once: the unit started (error 0, pid of its main process, 0 when
	 * unknown) or not (an errno value and why). */
	void (*started)(void *arg, int error, const char *why, pid_t pid);
	/* Once, after a successful start: the command ended with this wait
	 * status (-1: unknown, the bus was lost). */
	void (*ended)(void *arg, int wait_status);
};

struct unit;

/*
 * Asks systemd to start x; the callbacks say how it went.  NULL when the
 * request could not even be sent (*why_r: a message the caller frees);
 * then no callback runs.  The returned unit is this module's: valid until
 * its ended callback returned, or its started callback reported an error.
 * The descriptors in x->fds are duplicated into the request: the caller
 * closes its own.
 */
struct unit *unit_start(const struct unit_exec *x,
			const struct unit_callbacks *cb, void *arg,
			char **why_r);
/*
 * Signals the command: SIGTERM stops the unit (SIGTERM to every process,
 * SIGKILL after UNITS_STOP_TIMEOUT_S); SIGKILL kills every process;
 * another signal (SIGINT, SIGQUIT) goes to the process group of the main
 * process (as the fork path's kill(-pgid)), but for systemd's "(sd-pam)"
 * process, which would die of it without closing the PAM session.
 */
void unit_signal(struct unit *u, int sig);
#define UNITS_STOP_TIMEOUT_S 5

/* A shell's slice: created (referenced by this connection, so that it
 * stays while the shell lives), its TasksMax changed, ended (stops what
 * still runs in it, drops the reference).  0 means no limit. */
void units_slice_create(const char *name, const char *description,
			uint64_t memory_max, uint64_t tasks_max);
void units_slice_set_tasks(const char *name, uint64_t tasks_max);
void units_slice_end(const char *name);

#endif
