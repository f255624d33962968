/*
 * config-write.c - changing winrmd.conf for winrm/config Put and for
 * winrm/config/listener Create, Put and Delete, in the helper (the
 * listener never writes to /etc).
 *
 * The file is edited as text (lib/config-edit.c), so that the
 * administrator's comments and layout stay: a setting that exists has its
 * value replaced; a missing one is inserted right after the opening brace
 * of its group (groups are created as needed); a listener is a group of
 * the Listeners list, added after the last one or removed with its comma.
 * The result is validated as a whole by the normal loader (and, for a
 * listener change, the certificate and key files it names are checked)
 * before it replaces the file atomically (temporary file in the same
 * directory, fsync, rename, fsync of the directory): a crash leaves the
 * old file or the new one, never a torn one.  The new configuration then
 * becomes the helper's, and its dump goes back to the listener.  Changed
 * listeners are opened or closed only when winrmd restarts, as after an
 * edit and a reload: the log says so, and so does the answer.
 *
 * Must not: accept a path outside config_ws_settable, or put the
 * listener's text into the file without re-encoding it (every value
 * becomes a libconfig literal through the key table first).
 * Entry point: module_config_write (CONFIG_PUT, LISTENER_EDIT; at start it
 * removes temporary files a crash left behind).
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/config-edit.h"
#include "lib/fileio.h"
#include "helper/conns.h"
#include "lib/log.h"
#include "helper/loop.h"
#include "helper/module.h"

#define MAX_FILE (1024 * 1024)

/* Why path may not be named by a setting of the helper's files over
 * WS-Management (config_root_file), or NULL: only "" or a regular file of
 * root's that group and others cannot write, reached through directories
 * of root's that group and others cannot write either, so that whoever
 * changes the setting cannot also choose the file's contents. */
static const char *root_file_refusal(const char *path)
{
	struct stat st;
	if (path[0] == '\0')
		return NULL;
	if (path[0] != '/')
		return "must be an absolute file name";
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? "no such file" : "cannot be examined";
	if (!S_ISREG(st.st_mode))
		return "is not a regular file";
	if (st.st_uid != 0 || (st.st_mode & 022))
		return "must be a file owned by root that group and others "
		       "cannot write (change the file itself as root)";
	char *dir = path_dir(path);
	const char *why = NULL;
	for (;;) {
		/* A sticky directory of root's (/tmp) lets nobody else
		 * replace root's file in it. */
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
		    st.st_uid != 0 ||
		    ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))) {
			why = "must be in directories owned by root that group "
			      "and others cannot write";
			break;
		}
		if (strcmp(dir, "/") == 0)
			break;
		char *up = path_dir(dir);
		free(dir);
		dir = up;
	}
	free(dir);
	return why;
}

static void result(uint32_t seq, uint32_t error, const char *message,
		   const struct winrmd_config *cfg)
{
	struct buf dump = BUF_INIT;
	if (cfg != NULL)
		config_dump(cfg, &dump);
	struct priv_config_result res = {
		.error = error,
		.message = message,
		.dump = (const char *)dump.data,
	};
	helper_answer(seq, PRIV_CONFIG_RESULT, &res, NULL, 0);
	buf_release(&dump);
}

/* Reads the file (the current text and its metadata); -1 with *error_r and
 * *code_r. */
static int read_current(const char *path, struct buf *text, struct stat *st,
			char **error_r, uint32_t *code_r)
{
	char *unread;
	if (file_read_regular(path, MAX_FILE, text, st, &unread) != 0) {
		*code_r = (uint32_t)errno;
		*error_r = xasprintf("cannot read %s: %s", path,
				     strerror(errno));
		free(unread);
		return -1;
	}
	return 0;
}

/* The "KEY: message" parts of config_check_host's errors for cfg, one a
 * line (without FILE:LINE, which an edit moves). */
static char *host_errors(const struct winrmd_config *cfg)
{
	char *error = NULL;
	if (config_check_host(cfg, 0, &error, NULL) == 0)
		return xstrdup("");
	struct buf out = BUF_INIT;
	for (char *line = strtok(error, "\n"); line != NULL;
	     line = strtok(NULL, "\n")) {
		/* "FILE:LINE: KEY: m" or "FILE: KEY (default): m" */
		const char *p = strstr(line, ": ");
		buf_printf(&out, "%s\n", p != NULL ? p + 2 : line);
	}
	free(error);
	return buf_steal(&out);
}

/*
 * What config_check_host finds wrong with the new configuration that it
 * did not find with the one in use (caller frees), or NULL: a change
 * must not make a configuration that "winrmd -t", and so the next start
 * under systemd, refuses; problems the host had before are not the
 * change's.
 */
static char *new_host_errors(const struct winrmd_config *cfg)
{
	char *error = NULL;
	if (config_check_host(cfg, 0, &error, NULL) == 0)
		return NULL;
	char *before = host_errors(helper_config), *after = host_errors(cfg);
	struct buf fresh = BUF_INIT;
	size_t i = 0;
	for (char *line = strtok(error, "\n"); line != NULL;
	     line = strtok(NULL, "\n"), i++) {
		/* the i-th line of after is this line without FILE:LINE */
		const char *a = after;
		for (size_t k = 0; k < i && a != NULL; k++) {
			a = strchr(a, '\n');
			a = a != NULL ? a + 1 : NULL;
		}
		size_t alen = a != NULL ? strcspn(a, "\n") : 0;
		bool old = false;
		for (const char *b = before; a != NULL && *b != '\0';) {
			size_t blen = strcspn(b, "\n");
			old = old || (blen == alen && memcmp(a, b, alen) == 0);
			b += blen + (b[blen] == '\n');
		}
		if (!old)
			buf_printf(&fresh, "%s%s", fresh.len ? "\n" : "", line);
	}
	free(before);
	free(after);
	free(error);
	return fresh.len > 0 ? buf_steal(&fresh) : NULL;
}

/* msg with every occurrence of tmp replaced by path (caller frees). */
static char *name_real_file(const char *msg, const char *tmp, const char *path)
{
	struct buf out = BUF_INIT;
	size_t tl = strlen(tmp);
	for (const char *p = msg; *p != '\0';) {
		if (strncmp(p, tmp, tl) == 0) {
			buf_append_str(&out, path);
			p += tl;
		} else {
			buf_append_byte(&out, (uint8_t)*p++);
		}
	}
	return buf_steal(&out);
}

/*
 * Validates text as the new file and installs it: written to a temporary
 * file next to path, loaded from there (so that relative @include names
 * resolve the same way), with check_files also the files the listeners
 * name checked, then renamed over path; the helper's configuration
 * becomes the new one.  Returns it (borrowed: helper_config), or NULL
 * with *error_r and *code_r.
 */
static const struct winrmd_config *
install(const char *path, const struct buf *text, const struct stat *st,
	bool check_files, char **error_r, uint32_t *code_r)
{
	enum atomic_step step;
	char *tmp = atomic_write_temp(path, text->data, text->len,
				      st->st_mode & 07777, st, &step);
	if (tmp == NULL) {
		*code_r = (uint32_t)errno;
		*error_r = xasprintf("cannot write %s: %s", path,
				     strerror(errno));
		return NULL;
	}
	char *load_error = NULL;
	struct winrmd_config *cfg = config_load_file(tmp, &load_error);
	if (cfg != NULL && check_files &&
	    config_check_files(cfg, tmp, CONFIG_CHECK_KEYS, &load_error,
			       NULL) != 0) {
		config_unref(cfg);
		cfg = NULL;
	}
	if (cfg != NULL && (load_error = new_host_errors(cfg)) != NULL) {
		config_unref(cfg);
		cfg = NULL;
	}
	if (cfg == NULL) {
		/* Name the real file in the messages, not the temporary one. */
		char *msg = name_real_file(load_error, tmp, path);
		*error_r = xasprintf("the change would make the configuration "
				     "invalid: %s",
				     msg);
		*code_r = EINVAL;
		free(msg);
		free(load_error);
		unlink(tmp);
		free(tmp);
		return NULL;
	}
	/* A directory that could not be synced after the rename (> 0) is
	 * not a reason to refuse a change that is in place. */
	if (atomic_install(tmp, path) < 0) {
		*code_r = (uint32_t)errno;
		*error_r = xasprintf("cannot replace %s: %s", path,
				     strerror(errno));
		config_unref(cfg);
		unlink(tmp);
		free(tmp);
		return NULL;
	}
	free(tmp);
	helper_config_install(cfg);
	return helper_config;
}

static void handle_config_put(struct helper_call *call)
{
	const struct priv_config_put *r = call->args;
	size_t n = r->n;
	const char *paths[PRIV_MAX_SETTINGS], *values[PRIV_MAX_SETTINGS];
	for (size_t i = 0; i < n; i++) {
		paths[i] = r->settings[i].path;
		values[i] = r->settings[i].value;
	}
	const char *path = helper_config_path();
	const struct hconn *hc = call->conn; /* an administrator */
	char *error = NULL;
	struct buf text = BUF_INIT;
	struct stat st;
	uint32_t code = EINVAL;
	if (n == 0) {
		error = xstrdup("no setting to change");
		goto done;
	}
	if (read_current(path, &text, &st, &error, &code) != 0)
		goto done;
	char *dir = path_dir(path);
	for (size_t i = 0; i < n && error == NULL; i++) {
		struct buf lit = BUF_INIT;
		const char *why;
		if (!config_ws_settable(paths[i])) {
			error = xasprintf(
				"%s cannot be changed over WS-Management",
				paths[i]);
		} else if (config_value_literal(paths[i], values[i], &lit,
						&why) != 0) {
			error = xasprintf("%s: %s", paths[i], why);
		} else if (config_root_file(paths[i]) &&
			   (why = root_file_refusal(values[i])) != NULL) {
			error = xasprintf("%s: %s", paths[i], why);
			code = EACCES;
		} else if (config_edit_set(&text, dir, paths[i],
					   (const char *)lit.data,
					   &error) != 0) {
			/* error set */
		}
		buf_release(&lit);
	}
	free(dir);
	if (error != NULL)
		goto done;
	const struct winrmd_config *cfg = install(path, &text, &st, false,
						  &error, &code);
	if (cfg == NULL)
		goto done;
	for (size_t i = 0; i < n; i++) {
		log_notice("configuration: %s set to \"%s\" by %s",
			   LOG_ESC(paths[i]), LOG_ESC(values[i]),
			   LOG_ESC(hc->identity.user));
		log_audit_event(HCONN_PEER(hc), "config",
				"user=%s setting=%s value=\"%s\" "
				"result=success",
				LOG_ESC(hc->identity.user), LOG_ESC(paths[i]),
				LOG_ESC(values[i]));
	}
	result(call->seq, 0, "", cfg);
	goto out;
done:
	log_warn("configuration change refused: %s", LOG_ESC(error));
	for (size_t i = 0; i < n; i++)
		log_audit_event(HCONN_PEER(hc), "config",
				"user=%s setting=%s value=\"%s\" "
				"result=failure reason=\"%s\"",
				LOG_ESC(hc->identity.user), LOG_ESC(paths[i]),
				LOG_ESC(values[i]), LOG_ESC(error));
	result(call->seq, code, error, NULL);
	free(error);
out:
	buf_release(&text);
}

static const char *const listener_actions[] = {
	[PRIV_LISTENER_CREATE] = "create",
	[PRIV_LISTENER_PUT] = "set",
	[PRIV_LISTENER_DELETE] = "delete",
};

static const char *const listener_ops[] = {
	[PRIV_LISTENER_CREATE] = "created",
	[PRIV_LISTENER_PUT] = "changed",
	[PRIV_LISTENER_DELETE] = "deleted",
};

/*
 * winrm/config/listener Create, Put, Delete: the Listeners list of the
 * file as it is now (an administrator may have edited it), the listener
 * the selectors name found in it, one group added, changed or removed.
 */
static void handle_listener_edit(struct helper_call *call)
{
	const struct priv_listener_edit *r = call->args;
	uint32_t op = r->op;
	if (op > PRIV_LISTENER_DELETE)
		fatal("protocol violation: LISTENER_EDIT operation %u", op);
	const char *path = helper_config_path();
	const struct hconn *hc = call->conn; /* an administrator */
	char *error = NULL;
	struct buf text = BUF_INIT;
	struct stat st;
	uint32_t code = EINVAL;
	struct winrmd_config *cur = NULL;
	struct config_edit_member m[PRIV_MAX_SETTINGS + 2];
	struct buf lits[PRIV_MAX_SETTINGS + 2];
	size_t n = 0;
	for (size_t i = 0; i < PRIV_MAX_SETTINGS + 2; i++)
		buf_init(&lits[i]);

	if (read_current(path, &text, &st, &error, &code) != 0)
		goto done;
	char *load_error = NULL;
	cur = config_load_file(path, &load_error);
	if (cur == NULL) {
		/* Never edit a file the administrator must repair. */
		error = xasprintf("the configuration file does not load: %s",
				  load_error);
		free(load_error);
		code = EIO;
		goto done;
	}
	long index = config_listener_find(cur, r->address, r->transport);
	if (op == PRIV_LISTENER_CREATE && index >= 0) {
		error = xasprintf("a listener with Address=%s and Transport=%s "
				  "exists",
				  r->address, r->transport);
		code = EEXIST;
		goto done;
	}
	if (op != PRIV_LISTENER_CREATE && index < 0) {
		error = xasprintf("no listener has Address=%s and Transport=%s",
				  r->address, r->transport);
		code = ENOENT;
		goto done;
	}
	const char *why = NULL;
	if (op == PRIV_LISTENER_CREATE) {
		/* the selectors are the new group's first members */
		m[0].name = "Address";
		m[1].name = "Transport";
		if (config_listener_literal("Address", r->address, &lits[0],
					    &why) != 0 ||
		    config_listener_literal("Transport", r->transport, &lits[1],
					    &why) != 0) {
			error = xasprintf("selectors: %s", why);
			goto done;
		}
		n = 2;
	}
	for (size_t i = 0; i < r->n; i++) {
		const char *key = config_listener_key(r->settings[i].path);
		if (key == NULL || strcmp(key, "Address") == 0 ||
		    strcmp(key, "Transport") == 0) {
			error = xasprintf("%s cannot be set on a listener%s",
					  r->settings[i].path,
					  key != NULL ? " (it is a selector)"
						      : "");
			goto done;
		}
		if (config_listener_literal(key, r->settings[i].value, &lits[n],
					    &why) != 0) {
			error = xasprintf("%s: %s", key, why);
			goto done;
		}
		m[n].name = key;
		n++;
	}
	for (size_t i = 0; i < n; i++)
		m[i].literal = (const char *)lits[i].data;
	char *dir = path_dir(path);
	int rc;
	if (op == PRIV_LISTENER_CREATE)
		rc = config_edit_listener_add(&text, dir, cur, m, n, &error);
	else if (op == PRIV_LISTENER_PUT)
		rc = config_edit_listener_set(&text, dir, cur, (size_t)index, m,
					      n, &error);
	else
		rc = config_edit_listener_delete(&text, dir, cur, (size_t)index,
						 &error);
	free(dir);
	if (rc != 0)
		goto done;
	const struct winrmd_config *cfg = install(path, &text, &st,
						  op != PRIV_LISTENER_DELETE,
						  &error, &code);
	if (cfg == NULL)
		goto done;
	log_notice("configuration: listener Address=%s Transport=%s %s by %s; "
		   "listeners are opened and closed when winrmd restarts",
		   LOG_ESC(r->address), LOG_ESC(r->transport), listener_ops[op],
		   LOG_ESC(hc->identity.user));
	log_audit_event(HCONN_PEER(hc), "config",
			"user=%s listener=\"Address=%s Transport=%s\" "
			"action=%s result=success",
			LOG_ESC(hc->identity.user), LOG_ESC(r->address),
			LOG_ESC(r->transport), listener_actions[op]);
	result(call->seq, 0, "", cfg);
	goto out;
done:
	log_warn("listener change refused: %s", LOG_ESC(error));
	log_audit_event(HCONN_PEER(hc), "config",
			"user=%s listener=\"Address=%s Transport=%s\" "
			"action=%s result=failure reason=\"%s\"",
			LOG_ESC(hc->identity.user), LOG_ESC(r->address),
			LOG_ESC(r->transport), listener_actions[op],
			LOG_ESC(error));
	result(call->seq, code, error, NULL);
	free(error);
out:
	for (size_t i = 0; i < PRIV_MAX_SETTINGS + 2; i++)
		buf_release(&lits[i]);
	config_unref(cur);
	buf_release(&text);
}

static void config_write_cleanup(const char *path)
{
	char *dir = path_dir(path);
	const char *slash = strrchr(path, '/');
	const char *base = slash != NULL ? slash + 1 : path;
	size_t bl = strlen(base);
	DIR *d = opendir(dir);
	if (d != NULL) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			/* exactly what atomic_write_temp names ".<base>.XXXXXX" */
			const char *name = e->d_name;
			if (name[0] != '.' ||
			    strncmp(name + 1, base, bl) != 0 ||
			    name[1 + bl] != '.' || strlen(name) != 1 + bl + 7)
				continue;
			char *p = xasprintf("%s/%s", dir, e->d_name);
			struct stat st;
			if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) &&
			    st.st_uid == 0) {
				log_notice(
					"removing %s, left by an interrupted change",
					p);
				unlink(p);
			}
			free(p);
		}
		closedir(d);
	}
	free(dir);
}

static void cleanup_at_start(void)
{
	config_write_cleanup(helper_config_path());
	config_write_cleanup(helper_config->certmapping_file);
}

static const struct helper_request requests[] = {
	{ PRIV_CONFIG_PUT, REQ_ADMIN, PRIV_CONFIG_RESULT, handle_config_put },
	{ PRIV_LISTENER_EDIT, REQ_ADMIN, PRIV_CONFIG_RESULT,
	  handle_listener_edit },
};

const struct helper_module module_config_write = {
	.name = "config-write",
	HELPER_REQUESTS(requests),
	.start = cleanup_at_start,
};
