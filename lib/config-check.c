/*
 * config-check.c - checks the files a loaded configuration names, which
 * loading does not read: every enabled HTTPS listener's certificate and
 * key (x509.c), the ClientCAFile, and the certificate mapping table
 * (certmap.c).  See config_check_files in config.h.
 *
 * Separate from the loader so that config.c needs neither certmap nor
 * x509: only processes that will use the files call this.
 *
 * Must not: log, exit, keep global state, or change a file.
 *
 * Entry point: config_check_files.
 */
#include "autoconfig.h"

#include "lib/config.h"
#include "lib/certmap.h"
#include "lib/x509.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Files named by the configuration must be usable: an HTTPS listener's
 * certificate and key (readable, PEM, matching), the client CA file.
 * Only for files on disk: the listener, which reloads from the helper's
 * dump after dropping privileges, cannot read root-only keys and need not.
 */
int config_check_files(const struct winrmd_config *cfg, const char *path,
		       unsigned flags, char **error_r, char **warnings_r)
{
	struct buf errs = BUF_INIT, warns = BUF_INIT;
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		const struct listener_config *l = &cfg->listeners[i];
		if (l->transport != TRANSPORT_HTTPS || !l->enabled)
			continue;
		char err[512];
		int r = x509_check_keypair(l->certificate_file,
					   (flags & CONFIG_CHECK_KEYS)
						   ? l->key_file
						   : NULL,
					   err, sizeof(err));
		bool key = r == -2;
		struct buf *to = r < 0 ? &errs : &warns;
		if (r != 0)
			buf_printf(to, "%s%s:%d: Listeners.[%zu].%s: %s%s",
				   to->len ? "\n" : "", path,
				   key ? l->key_line : l->certificate_line, i,
				   key ? "KeyFile" : "CertificateFile",
				   r > 0 ? "warning: " : "", err);
	}
	if (warnings_r != NULL)
		*warnings_r = warns.len ? buf_steal(&warns) : NULL;
	buf_release(&warns);
	if (cfg->client_ca_file[0] != '\0' &&
	    access(cfg->client_ca_file, R_OK) != 0)
		buf_printf(&errs, "%s%s: Service.Auth.ClientCAFile: %s: %s",
			   errs.len ? "\n" : "", path, cfg->client_ca_file,
			   strerror(errno));
	/* The mapping table is its own file; its messages name it. */
	struct certmap *t = NULL;
	char *cm_error = NULL;
	if (certmap_load_file(cfg->certmapping_file, &t, &cm_error) != 0) {
		buf_printf(&errs, "%s%s", errs.len ? "\n" : "", cm_error);
		free(cm_error);
	}
	certmap_free(t);
	if (errs.len == 0)
		return 0;
	*error_r = buf_steal(&errs);
	return -1;
}
