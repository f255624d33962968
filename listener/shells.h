/*
 * shells.h - the Windows Remote Shell's state in the listener: shells,
 * their commands, the commands' pipes, and the I/O thread that moves bytes
 * between pipes and buffers and wakes the requests waiting for them.
 *
 * A shell belongs to the account (uid) that created it; every lookup is by
 * (shell id, uid), so another account simply does not find it.  Commands
 * are started by the helper (PRIV_SPAWN); their pipes come back by
 * SCM_RIGHTS.  Output is buffered up to a bound per command; beyond it the
 * pipes are no longer read, so a slow client slows the command down
 * instead of losing output.  Output handed to a Receive response goes back
 * to the buffers unless that response was fully sent, so a client that
 * disconnects mid-Receive loses nothing.
 *
 * All functions lock the module's state themselves; they may be called
 * from any thread.
 */
#ifndef WINRMD_SHELLS_H
#define WINRMD_SHELLS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/wsman/fault.h"
#include "lib/util.h"

struct request;
struct identity;

#define SHELL_ID_LEN 36

struct shell_env {
	char *name;
	char *value;
};

/* What a Create asked for (owned by the shell once created). */
struct shell_options {
	char *input_streams;       /* e.g. "stdin" */
	char *output_streams;      /* e.g. "stdout stderr" */
	char *working_directory;   /* NULL: the account's home */
	struct shell_env *env;
	size_t n_env;
	int64_t idle_timeout_ms;   /* requested rsp:IdleTimeOut, 0 = default */
	bool noprofile;            /* WINRS_NOPROFILE */
	int codepage;              /* WINRS_CODEPAGE, 0 = not given */
	char *client_shell_id;     /* rsp:Shell/@ShellId (PSRP), or NULL */
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

int shells_start(void);
/* Ends every shell (commands are terminated through the helper), and
 * answers every waiting request.  Called before the listeners stop. */
void shells_stop(void);
/* After the listeners stopped: ends the I/O thread and frees everything. */
void shells_join(void);

/* Create: applies the Winrs quotas.  On success fills *info. */
enum fault_id shells_create(struct request *r, struct shell_options *opts,
			    struct shell_info *info);
enum fault_id shells_delete(struct request *r, const char *shell_id);
/* Copies the facts of one of the caller's shells. */
enum fault_id shells_get(struct request *r, const char *shell_id,
			 struct shell_info *info);

/* Copies the facts of all the caller's shells into *infos (caller
 * releases each and frees the array); returns how many. */
size_t shells_list(struct request *r, struct shell_info **infos);

/* A command to start (Command body), owned by the caller. */
struct shell_command_spec {
	char *command;             /* rsp:Command (outer quotes already stripped) */
	char **args;               /* rsp:Arguments, one per element */
	size_t n_args;
	bool skip_shell;           /* WINRS_SKIP_CMD_SHELL */
	char *client_command_id;   /* rsp:CommandLine/@CommandId, or NULL */
};

/*
 * Command: asynchronous.  The first call starts the spawn and returns
 * FAULT_NONE with r->handler_pending set; when woken, call again: it then
 * returns the result with the command id in id_out (37 bytes).
 */
enum fault_id shells_command(struct request *r, const char *shell_id,
			     const struct shell_command_spec *spec,
			     char *id_out);

/* Send: stdin bytes for one command; end closes its stdin afterwards. */
enum fault_id shells_send(struct request *r, const char *shell_id,
			  const char *command_id, const void *data, size_t len,
			  bool end);

enum shell_signal { SHELL_SIGNAL_TERMINATE, SHELL_SIGNAL_CTRL_C, SHELL_SIGNAL_CTRL_BREAK };
enum fault_id shells_signal(struct request *r, const char *shell_id,
			    const char *command_id, enum shell_signal sig);

/*
 * Receive: asynchronous like Command.  Renders the rsp:ReceiveResponse body
 * (streams and CommandState) into out when output or the exit is there;
 * otherwise waits until then or until the operation timeout
 * (FAULT_TIMED_OUT).  max_payload bounds the raw bytes put in this answer
 * (the caller derives it from w:MaxEnvelopeSize).
 */
enum fault_id shells_receive(struct request *r, const char *shell_id,
			     const char *command_id, bool want_stdout,
			     bool want_stderr, int64_t timeout_ms,
			     size_t max_payload, struct buf *out);

/* Called by the gate when a request ends: delivered tells whether its
 * response was fully sent (output of an undelivered Receive goes back). */
void shells_request_finished(struct request *r, bool delivered);

/* Counts, for tests and logs. */
size_t shells_count(void);

#endif
