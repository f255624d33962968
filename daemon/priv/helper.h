/*
 * helper.h - shared state of winrmd-priv, the root helper.
 *
 * The helper is single-threaded: one poll loop over the listener socket,
 * a signalfd and the pipes of its short-lived children.  Each module of the
 * helper (auth, PAM, GSSAPI, spawn) adds request handlers to the table in
 * helper.c; every handler fills a reply or marks the request deferred and
 * answers later with helper_reply().
 */
#ifndef WINRMD_PRIV_HELPER_H
#define WINRMD_PRIV_HELPER_H

#include <sys/types.h>

#include "config.h"
#include "proto.h"

/* The helper's current configuration (replaced on a successful RELOAD). */
extern struct winrmd_config *helper_config;

/* Sends a reply or notification to the listener; releases msg.  A failed
 * send means the listener is gone: the helper shuts down. */
void helper_send(struct priv_msg *msg);

/*
 * Request handlers: fill *reply, or leave it PRIV_NONE to answer later
 * (the handler then keeps req->seq and calls helper_send itself).  A
 * handler that finds the request out of place calls fatal(): the listener
 * broke the protocol.
 */
typedef void (*helper_handler)(struct priv_msg *req, struct priv_msg *reply);

/* Event loop services for deferred work. */
typedef void (*helper_fd_cb)(void *arg, int fd);
typedef void (*helper_timer_cb)(void *arg);
/* Runs cb when fd is readable or hung up, until helper_unwatch_fd. */
void helper_watch_fd(int fd, helper_fd_cb cb, void *arg);
void helper_unwatch_fd(int fd);
/* Runs cb once, at or after the monotonic time at_ms; the handle can
 * cancel it until then. */
struct timer;
struct timer *helper_timer_at(int64_t at_ms, helper_timer_cb cb, void *arg);
void helper_timer_cancel(struct timer *t);
/* In a freshly forked child of the helper: closes every descriptor from 3
 * up except the n in keep (the helper's sockets, the signalfd, and the
 * pipes of other children and of commands still starting), and restores
 * the default signal mask and handlers.  A descriptor that cannot be
 * closed for sure ends the child (exit 127). */
void helper_child_init(const int *keep, size_t n);
/* Runs cb(arg, wait status) once when child pid exits (reaped by the loop). */
typedef void (*helper_child_cb)(void *arg, int status);
void helper_watch_child(pid_t pid, helper_child_cb cb, void *arg);

/* Handlers implemented by the helper's modules. */
void handle_auth_gss(struct priv_msg *req, struct priv_msg *reply);     /* gss.c */
void handle_auth_basic(struct priv_msg *req, struct priv_msg *reply);   /* basic.c */
void handle_conn_close(struct priv_msg *req, struct priv_msg *reply);   /* conns.c */
void handle_spawn(struct priv_msg *req, struct priv_msg *reply);        /* spawn.c */
void handle_signal(struct priv_msg *req, struct priv_msg *reply);       /* spawn.c */
/* Ends every command (SIGTERM, then SIGKILL) and reaps the monitors. */
void spawn_shutdown(void);                                              /* spawn.c */

void handle_config_put(struct priv_msg *req, struct priv_msg *reply);   /* config-write.c */
/* Removes temporary files a crash left next to the configuration file. */
void config_write_cleanup(const char *path);                             /* config-write.c */
void handle_auth_peer(struct priv_msg *req, struct priv_msg *reply);    /* auth-peer.c */
void handle_unwrap(struct priv_msg *req, struct priv_msg *reply);       /* crypt.c */
void handle_auth_cert(struct priv_msg *req, struct priv_msg *reply);    /* auth-cert.c */
/* Loads the CertMapping table now (at start, after a reload), so that a
 * later bad edit finds a good table to keep. */
void certmap_table_preload(void);                                       /* auth-cert.c */
/* Makes t (consumed) the table in use: it was just written. */
struct certmap;
void certmap_table_install(struct certmap *t);                          /* auth-cert.c */
void handle_wrap(struct priv_msg *req, struct priv_msg *reply);         /* crypt.c */
void handle_certmap(struct priv_msg *req, struct priv_msg *reply);      /* certmap-write.c */

/* The configuration file the helper was started with. */
const char *helper_config_path(void);

/* Called on start and after every reload. */
void gss_configure(const struct winrmd_config *cfg);                    /* gss.c */

#endif
