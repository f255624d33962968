/*
 * config-write.c - changing winrmd.conf for winrm/config Put, in the
 * helper (the listener never writes to /etc).
 *
 * The file is edited as text, so that the administrator's comments and
 * layout stay: a setting that exists has its value replaced on its own
 * line; a missing one is inserted right after the opening brace of its
 * group (groups are created as needed).  libconfig tells where settings
 * are.  The result is validated as a whole by the normal loader before it
 * replaces the file atomically (temporary file in the same directory,
 * fsync, rename, fsync of the directory): a crash leaves the old file or
 * the new one, never a torn one.  The new configuration then becomes the
 * helper's, and its dump goes back to the listener.
 *
 * Must not: accept a path outside config_ws_settable, or put the
 * listener's text into the file without re-encoding it.
 * Entry point: module_config_write (CONFIG_PUT; at start it removes
 * temporary files a crash left behind).
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

#include <libconfig.h>

#include "lib/fileio.h"
#include "helper/conns.h"
#include "lib/log.h"
#include "helper/loop.h"
#include "helper/module.h"

#define MAX_FILE (1024 * 1024)

/* Offset of the start of 1-based line number line. */
static size_t line_offset(const struct buf *t, int line)
{
	size_t off = 0;
	for (int l = 1; l < line && off < t->len; off++)
		if (t->data[off] == '\n')
			l++;
	return off;
}

static bool name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '*';
}

/* Finds "name =" or "name :" from offset from on; returns the offset just
 * after the separator and spaces, or -1. */
static long find_assignment(const struct buf *t, size_t from, const char *name)
{
	size_t n = strlen(name);
	const char *s = (const char *)t->data;
	for (size_t i = from; i + n <= t->len; i++) {
		if (s[i] == '#' ||
		    (s[i] == '/' && i + 1 < t->len && s[i + 1] == '/')) {
			while (i < t->len && s[i] != '\n')
				i++;
			continue;
		}
		if (strncmp(s + i, name, n) != 0 ||
		    (i > 0 && name_char(s[i - 1])) ||
		    (i + n < t->len && name_char(s[i + n])))
			continue;
		size_t j = i + n;
		while (j < t->len && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (j < t->len && (s[j] == '=' || s[j] == ':')) {
			j++;
			while (j < t->len && (s[j] == ' ' || s[j] == '\t'))
				j++;
			return (long)j;
		}
	}
	return -1;
}

/* End of a value starting at off (a quoted string, a token, or an array
 * [ ... ] of strings). */
static size_t value_end(const struct buf *t, size_t off)
{
	const char *s = (const char *)t->data;
	size_t i = off;
	if (i < t->len && s[i] == '[') {
		for (i++; i < t->len && s[i] != ']'; i++) {
			if (s[i] == '"') {
				for (i++; i < t->len && s[i] != '"'; i++)
					if (s[i] == '\\')
						i++;
			} else if (s[i] == '#' ||
				   (s[i] == '/' && i + 1 < t->len &&
				    s[i + 1] == '/')) {
				while (i < t->len && s[i] != '\n')
					i++;
			} else if (s[i] == '/' && i + 1 < t->len &&
				   s[i + 1] == '*') {
				for (i += 2; i + 1 < t->len &&
					     !(s[i] == '*' && s[i + 1] == '/');
				     i++)
					;
				i++;
			}
		}
		return i < t->len ? i + 1 : i;
	}
	if (i < t->len && s[i] == '"') {
		for (i++; i < t->len && s[i] != '"'; i++)
			if (s[i] == '\\')
				i++;
		return i < t->len ? i + 1 : i;
	}
	while (i < t->len && s[i] != ';' && s[i] != ',' && s[i] != '\n' &&
	       s[i] != ' ' && s[i] != '\t' && s[i] != '#' && s[i] != '}')
		i++;
	return i;
}

static void text_splice(struct buf *t, size_t off, size_t len, const char *with)
{
	struct buf out = BUF_INIT;
	buf_append(&out, t->data, off);
	buf_append_str(&out, with);
	buf_append(&out, t->data + off + len, t->len - off - len);
	buf_release(t);
	*t = out;
}

/* Applies one edit to the text; returns 0 or -1 with a message. */
static int apply_edit(struct buf *t, const char *dir, const char *path,
		      const char *literal, char **error_r)
{
	config_t lc;
	config_init(&lc);
	config_set_include_dir(&lc, dir);
	if (config_read_string(&lc, (const char *)t->data) != CONFIG_TRUE) {
		*error_r = xasprintf(
			"the current file does not parse: line %d: %s",
			config_error_line(&lc), config_error_text(&lc));
		config_destroy(&lc);
		return -1;
	}
	int rc = 0;
	config_setting_t *s = config_lookup(&lc, path);
	if (s != NULL) {
		if (config_setting_source_file(s) != NULL) {
			*error_r =
				xasprintf("%s is set in the included file %s; "
					  "change it there",
					  path, config_setting_source_file(s));
			rc = -1;
			goto out;
		}
		const char *leafname = strrchr(path, '.');
		leafname = leafname ? leafname + 1 : path;
		size_t from = line_offset(t,
					  (int)config_setting_source_line(s));
		long v = find_assignment(t, from, leafname);
		if (v < 0) {
			*error_r = xasprintf("cannot find %s on line %u", path,
					     config_setting_source_line(s));
			rc = -1;
			goto out;
		}
		size_t end = value_end(t, (size_t)v);
		text_splice(t, (size_t)v, end - (size_t)v, literal);
		goto out;
	}
	/* Missing: find the deepest existing group and insert below it. */
	char *group = xstrdup(path);
	char *dot = strrchr(group, '.');
	struct buf text = BUF_INIT;
	const char *leafname = dot ? dot + 1 : path;
	buf_printf(&text, "%s = %s;", leafname, literal);
	while (dot != NULL) {
		*dot = '\0';
		config_setting_t *g = config_lookup(&lc, group);
		if (g != NULL && config_setting_is_group(g)) {
			if (config_setting_source_file(g) != NULL) {
				*error_r = xasprintf(
					"%s is in the included file %s; "
					"change it there",
					group, config_setting_source_file(g));
				rc = -1;
				break;
			}
			const char *gleaf = strrchr(group, '.');
			gleaf = gleaf ? gleaf + 1 : group;
			size_t from = line_offset(
				t, (int)config_setting_source_line(g));
			long v = find_assignment(t, from, gleaf);
			const char *brace = v >= 0 ? memchr(t->data + v, '{',
							    t->len - (size_t)v)
						   : NULL;
			if (brace == NULL) {
				*error_r = xasprintf("cannot find the group %s",
						     group);
				rc = -1;
				break;
			}
			size_t at = (size_t)(brace - (const char *)t->data) + 1;
			/* Indent like the group's next line, tab otherwise. */
			const char *nl = memchr(t->data + at, '\n',
						t->len - at);
			size_t ind = 0;
			if (nl != NULL) {
				const char *p = nl + 1;
				while (p + ind <
					       (const char *)t->data + t->len &&
				       (p[ind] == ' ' || p[ind] == '\t'))
					ind++;
			}
			char *ins =
				ind > 0 ? xasprintf("\n%.*s%s", (int)ind,
						    nl + 1,
						    (const char *)text.data)
					: xasprintf("\n\t%s",
						    (const char *)text.data);
			text_splice(t, at, 0, ins);
			free(ins);
			goto inserted;
		}
		/* wrap in this group and go one level up */
		const char *gl = strrchr(group, '.');
		gl = gl ? gl + 1 : group;
		struct buf w = BUF_INIT;
		buf_printf(&w, "%s = { %s };", gl, (const char *)text.data);
		buf_release(&text);
		text = w;
		dot = strrchr(group, '.');
	}
	if (rc == 0) {
		/* No group exists: append at the end of the file. */
		if (t->len > 0 && t->data[t->len - 1] != '\n')
			buf_append_byte(t, '\n');
		buf_printf(t, "%s\n", (const char *)text.data);
	}
inserted:
	buf_release(&text);
	free(group);
out:
	config_destroy(&lc);
	return rc;
}

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
	char *tmp = NULL;
	struct buf text = BUF_INIT;
	struct stat st;
	uint32_t code = EINVAL;
	if (n == 0) {
		error = xstrdup("no setting to change");
		goto done;
	}
	char *unread;
	if (file_read_regular(path, MAX_FILE, &text, &st, &unread) != 0) {
		code = (uint32_t)errno;
		error = xasprintf("cannot read %s: %s", path, strerror(errno));
		free(unread);
		goto done;
	}
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
		} else if (apply_edit(&text, dir, paths[i],
				      (const char *)lit.data, &error) != 0) {
			/* error set */
		}
		buf_release(&lit);
	}
	free(dir);
	if (error != NULL)
		goto done;
	enum atomic_step step;
	tmp = atomic_write_temp(path, text.data, text.len, st.st_mode & 07777,
				&st, &step);
	if (tmp == NULL) {
		code = (uint32_t)errno;
		error = xasprintf("cannot write %s: %s", path, strerror(errno));
		goto done;
	}
	/* Validate exactly what will be installed, where it will live (so
	 * that relative @include names resolve the same way). */
	char *load_error = NULL;
	struct winrmd_config *cfg = config_load_file(tmp, &load_error);
	if (cfg == NULL) {
		/* Name the real file in the messages, not the temporary one. */
		struct buf msg = BUF_INIT;
		size_t tl = strlen(tmp);
		for (const char *p = load_error; *p != '\0';) {
			if (strncmp(p, tmp, tl) == 0) {
				buf_append_str(&msg, path);
				p += tl;
			} else {
				buf_append_byte(&msg, (uint8_t)*p++);
			}
		}
		error = xasprintf("the change would make the configuration "
				  "invalid: %s",
				  msg.data ? (char *)msg.data : "");
		buf_release(&msg);
		free(load_error);
		goto done;
	}
	/* A directory that could not be synced after the rename (> 0) is
	 * not a reason to refuse a change that is in place. */
	if (atomic_install(tmp, path) < 0) {
		code = (uint32_t)errno;
		error = xasprintf("cannot replace %s: %s", path,
				  strerror(errno));
		config_unref(cfg);
		goto done;
	}
	free(tmp);
	tmp = NULL;
	helper_config_install(cfg);
	for (size_t i = 0; i < n; i++)
		log_notice("configuration: %s set to \"%s\" by %s",
			   LOG_ESC(paths[i]), LOG_ESC(values[i]),
			   LOG_ESC(hc->identity.user));
	result(call->seq, 0, "", cfg);
	goto out;
done:
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	log_warn("configuration change refused: %s", LOG_ESC(error));
	result(call->seq, code, error, NULL);
	free(error);
out:
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
};

const struct helper_module module_config_write = {
	.name = "config-write",
	HELPER_REQUESTS(requests),
	.start = cleanup_at_start,
};
