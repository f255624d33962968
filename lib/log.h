/*
 * log.h - leveled logging to stderr for winrmd and winrmd-priv.
 *
 * Under systemd (JOURNAL_STREAM set, or -s) each line carries a "<N>"
 * syslog priority prefix that journald understands; in the foreground the
 * lines are plain and carry a time stamp.  Never pass credentials, tokens or
 * Authorization header values to these functions.
 *
 * Thread-safe: each line is formatted into a local buffer and written with
 * one write(2).
 */
#ifndef WINRMD_LOG_H
#define WINRMD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARN = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/* Process-wide settings: program tag ("winrmd", "winrmd-priv"), minimum
 * level, and whether to emit journald "<N>" prefixes. */
void log_init(const char *tag, enum log_level level, bool journald);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "err", "warning", "notice", "info", "debug"; -1 if unknown. */
int log_level_parse(const char *name);
const char *log_level_name(enum log_level level);

void log_msg(enum log_level level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, const char *func, const char *fmt,
	      va_list ap) __attribute__((format(printf, 3, 0)));

/* Logs at error level and terminates the process with status 1.  Only for
 * start-up and for protocol violations in the helper: nothing on the
 * request path may call it. */
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#define log_err(...) log_msg(LOG_LVL_ERR, __func__, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __func__, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __func__, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __func__, __VA_ARGS__)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_get_level() >= LOG_LVL_DEBUG)                          \
			log_msg(LOG_LVL_DEBUG, __func__, __VA_ARGS__);         \
	} while (0)

/*
 * Values a client chose (claimed names, user names, certificate subjects,
 * GSS and PAM reason texts, URIs, configuration values...) go through
 * log_escape before they reach a log line: '"' and '\\' get a backslash
 * before them and every byte below 0x20 and 0x7f becomes \xHH, so such a
 * value can neither end the quotes around it, nor start another field or
 * line, nor carry terminal escape sequences.  Bytes from 0x80 up (UTF-8)
 * stay as they are.  Values logged without quotes must besides contain
 * no space (local account names, see map_name_ok; the scheme word).
 *
 * Writes the escaped s (NULL: "") into buf of size bytes (at least 4) and
 * returns buf.  A value that does not fit is cut before a whole escape
 * and ends in "...".  Never allocates.
 */
const char *log_escape(char *buf, size_t size, const char *s);

/* A buffer for one escaped value: 127 bytes of the worst kind, or 500
 * plain ones. */
#define LOG_ESC_SIZE 512
/* log_escape into a temporary buffer, for a log argument: it lives until
 * the end of the enclosing block (a compound literal). */
#define LOG_ESC(s) log_escape((char[LOG_ESC_SIZE]){ 0 }, LOG_ESC_SIZE, (s))

/* Audit lines: one per authentication or authorization decision.  Printed
 * at notice level with an "audit:" tag so that they can be filtered. */
#define log_audit(...) log_msg(LOG_LVL_NOTICE, "audit", __VA_ARGS__)

#endif
