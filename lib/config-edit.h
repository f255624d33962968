/*
 * config-edit.h - changes to the text of winrmd.conf that keep the rest of
 * it as the administrator wrote it: comments, layout, order, and the
 * spelling of every setting not changed.  For the helper's winrm/config
 * Put and winrm/config/listener Create, Put and Delete
 * (helper/config-write.c), which validate the whole result with the
 * loader before it replaces the file.
 *
 * libconfig finds the settings (their lines); this module finds their
 * bytes, looking at code only (never inside strings or comments, see
 * lcfg_lex_step).  Settings in an @include'd file are not changed here:
 * the error says which file to change.
 *
 * Every function takes the text of the file (changed in place on
 * success, left alone on failure) and dir, the directory @include names
 * are relative to.  Each returns 0, or -1 with *error_r (caller frees).
 * Values are libconfig literals, already checked by the caller
 * (config_value_literal, config_listener_literal).
 *
 * Must not: log, exit, keep global state, or touch a file.
 */
#ifndef WINRMD_CONFIG_EDIT_H
#define WINRMD_CONFIG_EDIT_H

#include <stddef.h>

#include "lib/config.h"
#include "lib/util.h"

/*
 * Sets the global setting path ("Service.Auth.Basic") to literal: the
 * value is replaced where the setting is; a missing setting is inserted
 * right after the opening brace of its group, indented like the group's
 * next line, groups created as needed (at the end of the file when none
 * of them exists).
 */
int config_edit_set(struct buf *text, const char *dir, const char *path,
		    const char *literal, char **error_r);

/* One member of a listener group: its key ("Port") and libconfig literal. */
struct config_edit_member {
	const char *name;
	const char *literal;
};

/*
 * The Listeners list.  cur is the configuration the text loads to (its
 * listeners are the list's groups, in order; without a Listeners setting,
 * the default listener): a change to a file without the list first writes
 * the list out with cur's listeners (config_dump_listener), at the end of
 * the file, so that the listener that was in effect stays.
 *
 * config_edit_listener_add appends a group of the n members after the
 * last group of the list, in the layout of that group (one line, or one
 * member a line).  config_edit_listener_set sets the members of group
 * index (a member it has: its value replaced; one it has not: inserted
 * after its opening brace).  config_edit_listener_delete removes group
 * index with its separating comma (and its lines when it had them to
 * itself).
 */
int config_edit_listener_add(struct buf *text, const char *dir,
			     const struct winrmd_config *cur,
			     const struct config_edit_member *m, size_t n,
			     char **error_r);
int config_edit_listener_set(struct buf *text, const char *dir,
			     const struct winrmd_config *cur, size_t index,
			     const struct config_edit_member *m, size_t n,
			     char **error_r);
int config_edit_listener_delete(struct buf *text, const char *dir,
				const struct winrmd_config *cur, size_t index,
				char **error_r);

/*
 * The listener of cfg that Address and Transport selectors name (Address
 * "*" or "IP:address", IPv6 with or without brackets, compared as
 * addresses; Transport in any case): its index, or -1.
 */
long config_listener_find(const struct winrmd_config *cfg, const char *address,
			  const char *transport);

#endif
