/*
 * log.h - leveled logging to stderr for winrmd and winrmd-priv.
 *
 * Under systemd (JOURNAL_STREAM set, or -s) each line carries a "<N>"
 * syslog priority prefix that journald understands (journald keeps the
 * time); in the foreground the lines are plain and start with the local
 * time in ISO 8601 with its zone, "2026-12-06T14:03:07.123+01:00".  Never
 * pass credentials, tokens or Authorization header values to these
 * functions.
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

/*
 * The audit trail: one line per security event, at notice level, tagged
 * "audit:" so that it can be filtered, as key=value fields:
 *
 *   audit: EVENT remote=ADDRESS FIELDS... conn=ID port=PORT
 *
 * EVENT is authentication, authorization, lockout, decryption, quota,
 * shell, command, config or certmapping.  ID is the connection's id,
 * the same in both processes for one TCP connection (or one connection
 * to the admin socket, remote=local port=0), so that the lines of one
 * session can be found together: grep 'conn=ID '.  The fields a line
 * had before conn and port were added keep their order.
 *
 * With log_audit_syslog(true) every audit line also goes to syslog's
 * authpriv facility (LOG_AUTHPRIV | LOG_NOTICE, the tag of log_init,
 * with the pid), where the system's authentication logs are.
 */
struct audit_peer {
	unsigned long long conn; /* connection id */
	const char *addr;        /* client address, "local": escaped here */
	unsigned port;           /* client port, 0 when none */
};

/* FIELDS are formatted from fmt and must escape what a client chose
 * (LOG_ESC); the address is escaped here. */
void log_audit_event(const struct audit_peer *peer, const char *event,
		     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Audit lines also to syslog's authpriv facility (off by default;
 * Logging.AuditSyslog).  Opens the syslog socket at once, so call it
 * before dropping privileges or entering a sandbox. */
void log_audit_syslog(bool on);

/*
 * Under journald (log_init's journald: stderr is the journal's stream)
 * each audit event is sent instead through journald's native protocol as
 * one entry with fields: MESSAGE (the line above, without the "<5>"),
 * PRIORITY=5, SYSLOG_FACILITY (10, authpriv, with log_audit_syslog(true),
 * and then not to syslog(3) again; else 3, daemon), SYSLOG_IDENTIFIER
 * (the tag), WINRMD_EVENT, REMOTE_ADDR, REMOTE_PORT, CONN_ID, every
 * key=value of the line as WINRMD_KEY (key in capitals, value without its
 * quotes, \" and \\ undone, \xNN kept), METHOD and RESULT when the line
 * has them, and USER: user=, else mapped=, else claimed=.  When the
 * journal cannot take it the line goes to stderr as usual.
 */

/* The journal entry of an audit event in the native protocol's
 * "NAME=value\n" form into buf; its length, 0 when it does not fit.
 * message is the line; fields what fmt made.  Exposed for the tests. */
size_t log_audit_journal_fields(char *buf, size_t size, const char *message,
				const struct audit_peer *peer,
				const char *event, const char *fields,
				bool authpriv);

/* The journal's socket (default /run/systemd/journal/socket); tests. */
void log_journal_socket(const char *path);

/* A line of the audit tag without a connection (the daemon itself ends a
 * shell, for example); prefer log_audit_event. */
#define log_audit(...) log_msg(LOG_LVL_NOTICE, "audit", __VA_ARGS__)

#endif
