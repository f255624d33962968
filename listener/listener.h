/*
 * listener.h - the HTTP(S) listeners (libmicrohttpd daemons).
 *
 * listeners_open() runs as root before the privilege drop and only opens
 * (or takes over from systemd) the listening sockets; listeners_start()
 * runs afterwards and starts one libmicrohttpd daemon per socket.
 */
#ifndef WINRMD_LISTENER_H
#define WINRMD_LISTENER_H

#include <stdbool.h>

#include "lib/config.h"

struct listener {
	char *address; /* as configured ("*" or a literal) */
	int port;
	enum listener_transport transport;
	char *url_prefix;  /* "wsman" */
	char *display;     /* "http://127.0.0.1:5985/wsman", for logs */
	int fd;            /* listening socket */
	bool from_systemd; /* socket-activated */
	bool local;        /* the Unix-domain administration socket */
	int cfg_index;     /* position in the configuration's Listeners */
	void *mhd;         /* struct MHD_Daemon * */
};

/* Opens the sockets of every enabled listener in cfg (or adopts the ones
 * systemd passed).  Returns 0, or -1 with *error_r set (caller frees). */
int listeners_open(const struct winrmd_config *cfg, char **error_r);

/* Starts serving on every opened socket.  Returns 0 or -1 (logged). */
int listeners_start(const struct winrmd_config *cfg);

/* Service.MaxConnectionsPerAddress and Service.HeaderWaitTimeout of cfg
 * take effect (at start, and on reload for what comes next). */
void listeners_apply_limits(const struct winrmd_config *cfg);

/* Stops accepting, closes every connection and frees the listeners. */
/* From now on new requests get 503 and a closed connection (shutdown). */
void listeners_refuse_new(void);
/* Waits (at most 10 s) for the suspended requests to finish, then stops
 * the listeners. */
void listeners_stop(void);

/*
 * Reload: new certificates (PEM, read by the helper, which keeps the
 * keys) for the HTTPS listeners, indexed like cfg->listeners ("" for
 * others).  New connections get them at once; established ones keep
 * theirs.
 */
void listeners_reload_tls(const struct winrmd_config *cfg,
			  const char *const *cert_pems, size_t n);

/* Logs a warning when cfg's listeners differ from the running ones (a
 * reload cannot move sockets after the privilege drop). */
void listeners_check_reload(const struct winrmd_config *cfg);

#endif
