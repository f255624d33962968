/*
 * qc-config.h - the text of winrmd.conf as winrmctl quickconfig sees and
 * edits it: whose the file is (the shipped default, quickconfig's own, or
 * an administrator's), the checksum line that tells, and the listener
 * groups quickconfig adds to the Listeners list.
 *
 * Pure text work (libconfig to find settings, lcfg to tell code from
 * strings and comments): no files, no system calls, no output.  The file
 * is edited as text so that every other setting and comment stays as it
 * was; what quickconfig writes is validated by the normal loader before it
 * replaces the file (quickconfig.c).
 */
#ifndef WINRMD_QC_CONFIG_H
#define WINRMD_QC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/config.h"
#include "lib/util.h"

/*
 * The first line of a file quickconfig wrote: this prefix, the SHA-256 of
 * everything after the line (64 lower-case hex digits), and a note for the
 * reader.  A file whose line does not match its contents any more was
 * changed by someone else (an administrator, or winrmd itself for
 * "winrmctl set winrm/config...").
 */
#define QC_MARKER_PREFIX "# winrmctl quickconfig sha256:"

enum qc_origin {
	QC_MISSING, /* no file */
	QC_DEFAULT, /* byte for byte the shipped default */
	QC_OURS,    /* written by quickconfig, unchanged since */
	QC_EDITED,  /* anything else */
};

/*
 * Whose text (len bytes) is: QC_OURS when its first line is a marker that
 * matches the rest, QC_DEFAULT when it equals deflt (dlen bytes; deflt may
 * be NULL), QC_EDITED otherwise.  (QC_MISSING is the caller's to say.)
 */
enum qc_origin qc_classify(const char *text, size_t len, const char *deflt,
			   size_t dlen);

/* Where the text after a marker line starts (0 when there is none). */
size_t qc_body_offset(const char *text, size_t len);

/* Appends to out the marker line for body (len bytes), then body. */
void qc_seal(struct buf *out, const char *body, size_t len);

/* A listener quickconfig adds. */
struct qc_listener {
	enum listener_transport transport;
	int port;
	const char *cert_file; /* HTTPS only */
	const char *key_file;  /* HTTPS only */
};

/*
 * Adds the listener l (address "*", URL prefix "wsman", enabled) to the
 * Listeners list of text, a whole winrmd.conf whose relative @include
 * names are relative to dir, and whose loaded configuration is cfg.  The
 * group goes right after the last entry of the list, the rest of the text
 * unchanged.  A file without a Listeners setting gets one at its end,
 * holding cfg's listeners (winrmd's default HTTP listener) and l: an
 * explicit list replaces the default.  Returns 0, or -1 with *error_r
 * (caller frees) when the text does not parse or the list is in an
 * included file or is not a list.
 */
int qc_add_listener(struct buf *text, const char *dir,
		    const struct winrmd_config *cfg,
		    const struct qc_listener *l, char **error_r);

/* How quickconfig names a listener: HTTP:// or HTTPS:// with the address,
 * and ":PORT" when the port is not the transport's default. */
char *qc_listener_name(enum listener_transport t, const char *address,
		       int port);

#endif
