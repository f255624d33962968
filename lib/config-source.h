/*
 * config-source.h - the text of winrmd.conf as libconfig gets it, for the
 * loader (config.c) only: the file and the files it @includes spliced
 * into one text, with a map from each line of that text back to a file
 * and a line, and the problems found so far, kept in file order.
 *
 * Must not: log, exit, keep global state, or know the keys.
 */
#ifndef WINRMD_CONFIG_SOURCE_H
#define WINRMD_CONFIG_SOURCE_H

#include <stdarg.h>
#include <stddef.h>

#include "lib/lcfg.h"
#include "lib/util.h"

#define CONFIG_MAX_SIZE (1024 * 1024) /* per file, and all files together */
#define CONFIG_MAX_DEPTH 10           /* nested @include */

struct config_origin {
	const char *file; /* one of config_source.files */
	int line;         /* 0: the file as a whole */
};

/* Filled by config_source_init; the fields are read-only outside
 * config-source.c. */
struct config_source {
	const char *name;            /* of the top file, in messages */
	struct buf text;             /* what libconfig parses */
	struct config_origin *lines; /* [i]: where line i + 1 of text is
					 from */
	size_t n_lines;
	char **files; /* names of the files read, owned */
	size_t n_files;
	size_t total;      /* bytes read from all files */
	char *include_dir; /* NULL: the working directory */
	enum lcfg_lex state;
	struct lcfg_errors errors; /* ordered by line of text */
};

void config_source_init(struct config_source *src, const char *name);
void config_source_release(struct config_source *src);

/*
 * Splice the top file into src->text: config_source_file reads src->name
 * (a regular file of at most CONFIG_MAX_SIZE bytes; @include names that
 * are not absolute are relative to its directory), config_source_string
 * takes len bytes of text as its contents (relative @include names are
 * relative to the working directory).  An "@include" at the start of a
 * line is replaced by the file it names, and integer literals outside the
 * int32 range get an L suffix (libconfig 1.5 would otherwise truncate
 * them: 4294967295 reads as -1).  Returns 0, or -1 with the problems added
 * to src->errors.
 */
int config_source_file(struct config_source *src);
int config_source_string(struct config_source *src, const char *text,
			 size_t len);

/* Where line tline of src->text comes from (0, or past the end: the top
 * file as a whole, or its last line). */
struct config_origin config_source_origin(const struct config_source *src,
					  unsigned tline);

/* Adds "FILE:LINE: KEY: message" for line tline of src->text (0: the top
 * file as a whole); key may be NULL. */
void config_source_error(struct config_source *src, unsigned tline,
			 const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void config_source_verror(struct config_source *src, unsigned tline,
			  const char *key, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

#endif
