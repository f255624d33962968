/*
 * shells.h - the shell store: the Windows Remote Shell's state in the
 * listener (shells, their commands, the commands' pipes) and the I/O
 * thread that moves bytes between pipes and buffers and wakes whoever
 * waits for them.
 *
 * A shell belongs to the account (uid) that created it; every lookup is by
 * (shell id, uid), so another account simply does not find it.  Commands
 * are started by the helper (PRIV_SPAWN); their pipes come back by
 * SCM_RIGHTS.  Output is buffered up to a bound per command; beyond it the
 * pipes are no longer read, so a slow client slows the command down
 * instead of losing output.  Output handed out by a Receive goes back to
 * the buffers unless its caller says it was delivered, so a client that
 * disconnects mid-Receive loses nothing.
 *
 * The store knows nothing of HTTP, requests or XML: callers name
 * themselves with a struct shell_caller, wait through a struct
 * shell_waiter, and get plain data and an enum shell_status back (the
 * shell resource, listener/resources/shell.c, maps those to responses
 * and faults).
 *
 * All functions lock the module's state themselves; they may be called
 * from any thread.
 */
#ifndef WINRMD_SHELLS_H
#define WINRMD_SHELLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/config.h"
#include "lib/util.h"

#define SHELL_ID_LEN 36

/* What an operation came to.  SHELL_PENDING: the waiter runs later, and
 * the caller then calls the same function again with the same op. */
enum shell_status {
	SHELL_OK = 0,
	SHELL_PENDING,
	SHELL_NOT_ALLOWED,       /* Winrs.AllowRemoteShellAccess is false */
	SHELL_NOT_FOUND,         /* no such shell or command for this caller */
	SHELL_MAX_SHELLS,        /* Winrs.MaxShellsPerUser reached */
	SHELL_MAX_USERS,         /* Winrs.MaxConcurrentUsers reached */
	SHELL_MAX_PROCESSES,     /* Winrs.MaxProcessesPerShell reached */
	SHELL_OVER_HELPER_LIMIT, /* the command breaks the helper's bounds */
	SHELL_STDIN_FULL,        /* Send: too much input queued already */
	SHELL_START_FAILED,      /* the helper could not start the process */
	SHELL_TIMED_OUT,         /* Receive: nothing within the timeout */
	SHELL_CLIENT_GONE,       /* Receive: the caller's client left while it
				   * waited; the output stays for the next one */
	SHELL_INTERNAL,          /* winrmd is stopping, or the helper failed */
};

/* Who asks: an authenticated account on one connection (strings are
 * only read during the call). */
struct shell_caller {
	uid_t uid;             /* the owner key of every lookup */
	const char *user;      /* account name: rsp:Owner and logs */
	uint64_t conn_id;      /* the connection, for the helper's check */
	const char *client_ip; /* rsp:ClientIP */
	unsigned client_port;  /* for the audit lines */
};

/*
 * How an asynchronous operation (Command, Receive) tells its caller to
 * call again.  wake(arg) runs once per SHELL_PENDING, on another thread
 * (the shell I/O thread or the helper client's reader), possibly before
 * the call that returned SHELL_PENDING has returned.  It runs with the
 * store's lock held, so it must not block nor call into the store; once
 * shells_op_end(op) returned it no longer runs.  gone(arg), optional,
 * tells whether the caller's client has left: a Receive that waited asks
 * it before handing out output (lock held too).
 */
struct shell_waiter {
	void (*wake)(void *arg);
	bool (*gone)(void *arg);
	void *arg;
};

/* One asynchronous Command, Receive or Send, kept by the caller between
 * its calls (opaque). */
struct shell_op;

/* A new op (never NULL); the caller ends it with shells_op_end. */
struct shell_op *shells_op_new(void);
/* Ends op (NULL: nothing).  delivered tells whether what the op returned
 * reached the client: Receive output not delivered goes back in front of
 * the command's buffers for the next Receive. */
void shells_op_end(struct shell_op *op, bool delivered);

struct shell_env {
	char *name;
	char *value;
};

/* What a Create asked for (owned by the shell once created). */
struct shell_options {
	char *input_streams;     /* e.g. "stdin" */
	char *output_streams;    /* e.g. "stdout stderr" */
	char *working_directory; /* NULL: the account's home */
	struct shell_env *env;
	size_t n_env;
	int64_t idle_timeout_ms; /* requested rsp:IdleTimeOut, 0 = default */
	bool noprofile;          /* WINRS_NOPROFILE */
	int codepage;            /* WINRS_CODEPAGE, 0 = not given */
	char *client_shell_id;   /* rsp:Shell/@ShellId (PSRP), or NULL */
};

void shell_options_release(struct shell_options *o);

/* A copy of a shell's public facts, for rendering (caller releases). */
struct shell_info {
	char id[SHELL_ID_LEN + 1];
	char *owner;
	char *client_ip;
	char *input_streams, *output_streams, *working_directory;
	struct shell_env *env;
	size_t n_env;
	int64_t idle_timeout_ms;
	int64_t run_time_ms;
	int64_t inactivity_ms;
};

void shell_info_release(struct shell_info *i);

/* Starts the I/O thread.  Returns 0 or -1. */
int shells_start(void);
/* Ends every shell (commands are terminated through the helper) and wakes
 * every waiting Receive.  Called before the listeners stop. */
void shells_stop(void);
/* After the listeners stopped: ends the I/O thread and frees everything. */
void shells_join(void);

/* Create: applies Winrs.AllowRemoteShellAccess, MaxShellsPerUser and
 * MaxConcurrentUsers from cfg, and takes over *opts (emptied) on success.
 * On success fills *info (caller releases). */
enum shell_status shells_create(const struct winrmd_config *cfg,
				const struct shell_caller *who,
				struct shell_options *opts,
				struct shell_info *info);
/* Delete: ends the shell and its commands. */
enum shell_status shells_delete(const struct shell_caller *who,
				const char *shell_id);
/* Copies the facts of one of the caller's shells (caller releases). */
enum shell_status shells_get(const struct shell_caller *who,
			     const char *shell_id, struct shell_info *info);
/* Copies the facts of all the caller's shells into *infos (caller
 * releases each and frees the array); returns how many. */
size_t shells_list(const struct shell_caller *who, struct shell_info **infos);

/* A command to start (Command body), owned by the caller. */
struct shell_command_spec {
	char *command; /* rsp:Command (outer quotes already stripped) */
	char **args;   /* rsp:Arguments, one per element */
	size_t n_args;
	bool skip_shell;         /* WINRS_SKIP_CMD_SHELL */
	char *client_command_id; /* rsp:CommandLine/@CommandId, or NULL */
};

/*
 * Command: asynchronous.  The first call applies MaxProcessesPerShell and
 * MaxMemoryPerShellMB from cfg, asks the helper to start the process and
 * returns SHELL_PENDING; once woken, the second call (same op, same
 * arguments) returns the result, with the command id in id_out.
 */
enum shell_status shells_command(struct shell_op *op,
				 const struct winrmd_config *cfg,
				 const struct shell_caller *who,
				 const char *shell_id,
				 const struct shell_command_spec *spec,
				 const struct shell_waiter *waiter,
				 char id_out[SHELL_ID_LEN + 1]);

/* Send: queues input's bytes as stdin for one command, taking its buffer
 * over (no copy: input is left empty when they are queued; the caller
 * releases input either way), and wipes them once written; end closes
 * its stdin once they are written.  SHELL_STDIN_FULL: over 16 MiB
 * queued. */
enum shell_status shells_send(const struct shell_caller *who,
			      const char *shell_id, const char *command_id,
			      struct buf *input, bool end);
/*
 * Flow control for Send, asynchronous like Receive: after shells_send
 * queued a Send's input, returns SHELL_OK once the command has at most
 * 1 MiB of stdin queued, otherwise registers waiter and returns
 * SHELL_PENDING; the call after the wake returns SHELL_OK (also when
 * timeout_ms passed or the command went: the input stays queued or goes
 * with the command, never twice).  The resumed call ignores shell_id and
 * command_id.
 */
enum shell_status shells_send_wait(struct shell_op *op,
				   const struct shell_caller *who,
				   const char *shell_id, const char *command_id,
				   int64_t timeout_ms,
				   const struct shell_waiter *waiter);

enum shell_signal {
	SHELL_SIGNAL_TERMINATE,
	SHELL_SIGNAL_CTRL_C,
	SHELL_SIGNAL_CTRL_BREAK
};
/* Signal: Terminate ends the command; the Ctrl signals go to its process
 * group.  A command already gone is not an error. */
enum shell_status shells_signal(const struct shell_caller *who,
				const char *shell_id, const char *command_id,
				enum shell_signal sig);

enum shell_stream { SHELL_STDOUT, SHELL_STDERR };

/* A piece of output, in the order the command wrote it, as the base64
 * text of one rsp:Stream element (standalone, padded). */
struct shell_output {
	enum shell_stream stream;
	const char *b64;
	size_t b64_len;
	size_t len; /* the raw bytes it encodes */
};

/* What a Receive returns; the pointers belong to the op (valid until
 * shells_op_end). */
struct shell_received {
	char command_id[SHELL_ID_LEN + 1]; /* as the store spells it */
	const struct shell_output *output;
	size_t n_output;
	bool done;     /* the command ended and no wanted output is left */
	int exit_code; /* when done: the exit status, 128 + signal */
};

/*
 * Receive: asynchronous like Command.  Returns SHELL_OK with *got filled
 * when output of the wanted streams or the command's end is there;
 * otherwise registers waiter and returns SHELL_PENDING, and the call
 * after the wake answers, or SHELL_TIMED_OUT once timeout_ms (counted
 * from the first call) passed.  A newer Receive for the same command
 * replaces a waiting one, which then times out.  max_bytes bounds the
 * raw output bytes in one answer.
 */
enum shell_status
shells_receive(struct shell_op *op, const struct shell_caller *who,
	       const char *shell_id, const char *command_id, bool want_stdout,
	       bool want_stderr, int64_t timeout_ms, size_t max_bytes,
	       const struct shell_waiter *waiter, struct shell_received *got);

/* Counts, for tests and logs. */
size_t shells_count(void);

#endif
