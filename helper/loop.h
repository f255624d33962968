/*
 * loop.h - what every module of winrmd-priv (the root helper) may use:
 * the current configuration, answers to the listener, and the event
 * loop's services (fd watches, timers, child processes).
 *
 * The helper is single-threaded: one poll loop (helper.c) over the
 * listener socket, a signalfd, and the fds and timers registered here.
 * Modules never include helper.c's declarations: helper.c sits at the top
 * of the helper's dependency graph and reaches the modules through their
 * tables (module.h).
 */
#ifndef WINRMD_PRIV_LOOP_H
#define WINRMD_PRIV_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/config.h"
#include "lib/priv/msg.h"

/* The helper's current configuration (replaced by a reload or a Put). */
extern struct winrmd_config *helper_config;
/* The configuration file the helper was started with (set once). */
const char *helper_config_path(void);
void helper_set_config_path(const char *path);
/* Makes cfg (consumed) the current configuration and runs every module's
 * reload hook. */
void helper_config_install(struct winrmd_config *cfg);
/* helper.c's hook for helper_config_install (set once at start). */
void helper_set_config_hook(void (*hook)(void));

/* The socket to the listener (set once at start). */
void helper_set_listener_fd(int fd);

/*
 * Encodes s as a message of type and sends it to the listener as the
 * answer to seq (0: a notification), with n_fds descriptors that are
 * closed once sent.  A message the helper cannot encode is a bug of the
 * helper, and a failed send means the listener is gone: both end the
 * helper.
 */
void helper_answer(uint32_t seq, uint16_t type, const void *s, const int *fds,
		   unsigned n_fds);
/* helper_answer with a refusal: the answer type's struct starts with
 * (u32 error, string message), every other field empty. */
void helper_refuse(uint32_t seq, uint16_t type, uint32_t error,
		   const char *message);

/* Event loop services for deferred work. */
typedef void (*helper_fd_cb)(void *arg, int fd);
typedef void (*helper_timer_cb)(void *arg);
typedef void (*helper_child_cb)(void *arg, int status);
/* Runs cb when fd is readable or hung up, until helper_unwatch_fd.
 * Returns 0, or -1 when too many fds are watched (nothing registered). */
int helper_watch_fd(int fd, helper_fd_cb cb, void *arg);
void helper_unwatch_fd(int fd);
/* The poll events of a watched fd (POLLIN by default): a library's own
 * connection (sd-bus) also waits for POLLOUT while it has output queued.
 * The callback then runs on any of them, or on a hang-up. */
void helper_watch_set_events(int fd, short events);
/* True when n more fds can be watched now (check before forking what
 * will need the watch: the loop is single-threaded, so it stays true). */
bool helper_watch_room(unsigned n);
/* Runs cb once, at or after the monotonic time at_ms; the handle can
 * cancel it until then. */
struct timer;
struct timer *helper_timer_at(int64_t at_ms, helper_timer_cb cb, void *arg);
void helper_timer_cancel(struct timer *t);
/* Runs cb(arg, wait status) once when child pid exits. */
void helper_watch_child(pid_t pid, helper_child_cb cb, void *arg);
/* In a freshly forked child of the helper: closes every descriptor from 3
 * up except the n in keep (the helper's sockets, the signalfd, and the
 * pipes of other children and of commands still starting), and restores
 * the default signal mask and handlers.  A descriptor that cannot be
 * closed for sure ends the child (exit 127). */
void helper_child_init(const int *keep, size_t n);
/* helper.c's signalfd, closed by helper_child_init (set once at start). */
void helper_set_signal_fd(int fd);

/* For helper.c's loop: the poll set of the watches, the timers, reaping. */
struct pollfd;
size_t helper_watch_pollfds(struct pollfd *out, size_t max);
void helper_watch_dispatch(const struct pollfd *pfd, size_t n);
int helper_run_timers(void); /* returns the poll timeout (-1: none) */
void helper_reap_children(void);
#define HELPER_MAX_WATCHES 1024

#endif
