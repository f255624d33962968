/*
 * log.c - leveled logging for both winrmd binaries, and their audit
 * trail (log_audit_event; to syslog's authpriv facility too when asked).
 * See log.h.
 * Must not: log secrets (callers' duty), allocate on the heap (it is used
 * on out-of-memory and fatal paths).
 */
#include "autoconfig.h"

#include "lib/log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_tag = "winrmd";
static atomic_int log_level = LOG_LVL_INFO;
static bool log_journald;

static const struct {
	const char *name;
	enum log_level level;
} level_names[] = {
	{ "err", LOG_LVL_ERR },       { "error", LOG_LVL_ERR },
	{ "warning", LOG_LVL_WARN },  { "warn", LOG_LVL_WARN },
	{ "notice", LOG_LVL_NOTICE }, { "info", LOG_LVL_INFO },
	{ "debug", LOG_LVL_DEBUG },
};

void log_init(const char *tag, enum log_level level, bool journald)
{
	log_tag = tag;
	atomic_store(&log_level, (int)level);
	log_journald = journald;
}

void log_set_level(enum log_level level)
{
	atomic_store(&log_level, (int)level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&log_level);
}

int log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++)
		if (strcasecmp(name, level_names[i].name) == 0)
			return (int)level_names[i].level;
	return -1;
}

const char *log_level_name(enum log_level level)
{
	switch (level) {
	case LOG_LVL_ERR: return "err";
	case LOG_LVL_WARN: return "warning";
	case LOG_LVL_NOTICE: return "notice";
	case LOG_LVL_INFO: return "info";
	case LOG_LVL_DEBUG: return "debug";
	}
	return "info";
}

/* The escape of byte c into e (4 bytes); returns its length. */
static size_t escape_byte(unsigned char c, char *e)
{
	static const char hex[] = "0123456789abcdef";
	if (c == '"' || c == '\\') {
		e[0] = '\\';
		e[1] = (char)c;
		return 2;
	}
	if (c < 0x20 || c == 0x7f) {
		e[0] = '\\';
		e[1] = 'x';
		e[2] = hex[c >> 4];
		e[3] = hex[c & 15];
		return 4;
	}
	e[0] = (char)c;
	return 1;
}

const char *log_escape(char *buf, size_t size, const char *s)
{
	char e[4];
	if (s == NULL)
		s = "";
	size_t total = 0;
	for (const char *p = s; *p != '\0'; p++)
		total += escape_byte((unsigned char)*p, e);
	/* Everything, or as many whole escapes as leave room for "...". */
	size_t room = total < size ? total : size - 4, o = 0;
	for (const char *p = s; *p != '\0'; p++) {
		size_t n = escape_byte((unsigned char)*p, e);
		if (o + n > room)
			break;
		memcpy(buf + o, e, n);
		o += n;
	}
	if (o < total) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

void log_vmsg(enum log_level level, const char *func, const char *fmt,
	      va_list ap)
{
	if ((int)level > atomic_load(&log_level))
		return;
	char line[2048];
	size_t off = 0;
	int n;
	if (log_journald) {
		n = snprintf(line, sizeof(line), "<%d>%s: ", (int)level, func);
	} else {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		/* ISO 8601 with the zone: "+01:00" (tm_gmtoff, seconds east) */
		long zone = tm.tm_gmtoff / 60;
		char sign = zone < 0 ? '-' : '+';
		if (zone < 0)
			zone = -zone;
		n = snprintf(line, sizeof(line),
			     "%04d-%02d-%02dT%02d:%02d:%02d.%03ld%c%02ld:%02ld "
			     "%s[%d] %s: %s: ",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec,
			     ts.tv_nsec / 1000000, sign, zone / 60, zone % 60,
			     log_tag, (int)getpid(), log_level_name(level),
			     func);
	}
	if (n > 0)
		off = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	n = vsnprintf(line + off, sizeof(line) - off, fmt, ap);
	if (n > 0)
		off += (size_t)n < sizeof(line) - off ? (size_t)n
						      : sizeof(line) - off - 1;
	/* One line per message: fold embedded newlines so that a value taken
	 * from a request can never forge a log line, and keep other control
	 * bytes (terminal escapes) out of it.  This is the last line of
	 * defence: values a client chose are escaped (log_escape) before. */
	for (size_t i = 0; i < off; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == '\n' || c == '\r' || c == '\t')
			line[i] = ' ';
		else if (c < 0x20 || c == 0x7f)
			line[i] = '?';
	}
	if (off >= sizeof(line) - 1)
		off = sizeof(line) - 2;
	line[off++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, off);
	(void)w;
}

static atomic_bool audit_syslog;

void log_audit_syslog(bool on)
{
	if (on && !atomic_load(&audit_syslog))
		openlog(log_tag, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
	atomic_store(&audit_syslog, on);
}

static const char *journal_socket = "/run/systemd/journal/socket";

void log_journal_socket(const char *path)
{
	journal_socket = path;
}

/* Appends NAME=value (value of len bytes, no newline in it) and a newline
 * to buf; false when it does not fit. */
static bool jfield(char *buf, size_t size, size_t *off, const char *name,
		   const char *value, size_t len)
{
	size_t nl = strlen(name);
	if (*off + nl + 1 + len + 1 > size)
		return false;
	memcpy(buf + *off, name, nl);
	buf[*off + nl] = '=';
	memcpy(buf + *off + nl + 1, value, len);
	*off += nl + 1 + len;
	buf[(*off)++] = '\n';
	return true;
}

static bool jfield_str(char *buf, size_t size, size_t *off, const char *name,
		       const char *value)
{
	return jfield(buf, size, off, name, value, strlen(value));
}

/* The next key=value of an audit line's fields at *p: the key (up to 31
 * characters) into key, the value's text (quotes taken off, \" and \\
 * undone, \xNN kept) into value.  False at the end, or where the text is
 * not key=value (what follows is then only in MESSAGE). */
static bool next_field(const char **p, char *key, size_t key_size, char *value,
		       size_t value_size)
{
	const char *s = *p;
	while (*s == ' ')
		s++;
	size_t k = 0;
	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	       (*s >= '0' && *s <= '9') || *s == '_') {
		if (k + 1 >= key_size)
			return false;
		char c = *s++;
		key[k++] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
	}
	key[k] = '\0';
	if (k == 0 || *s++ != '=')
		return false;
	size_t v = 0;
	if (*s == '"') {
		for (s++; *s != '"'; s++) {
			if (*s == '\0')
				return false;
			if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
				s++;
			if (v + 1 < value_size)
				value[v++] = *s;
		}
		s++;
	} else {
		for (; *s != ' ' && *s != '\0'; s++)
			if (v + 1 < value_size)
				value[v++] = *s;
	}
	value[v] = '\0';
	*p = s;
	return true;
}

size_t log_audit_journal_fields(char *buf, size_t size, const char *message,
				const struct audit_peer *peer,
				const char *event, const char *fields,
				bool authpriv)
{
	size_t off = 0;
	char num[32];
	bool fit = jfield_str(buf, size, &off, "MESSAGE", message) &&
		   jfield_str(buf, size, &off, "PRIORITY", "5") &&
		   jfield_str(buf, size, &off, "SYSLOG_FACILITY",
			      authpriv ? "10" : "3") &&
		   jfield_str(buf, size, &off, "SYSLOG_IDENTIFIER", log_tag) &&
		   jfield_str(buf, size, &off, "WINRMD_EVENT", event) &&
		   jfield_str(buf, size, &off, "REMOTE_ADDR",
			      LOG_ESC(peer->addr));
	snprintf(num, sizeof(num), "%u", peer->port);
	fit = fit && jfield_str(buf, size, &off, "REMOTE_PORT", num);
	snprintf(num, sizeof(num), "%llu", peer->conn);
	fit = fit && jfield_str(buf, size, &off, "CONN_ID", num);
	/* Every field of the line as WINRMD_KEY; USER (the account: user=,
	 * else mapped=, else the name claimed), METHOD and RESULT too. */
	char key[32], name[48], value[LOG_ESC_SIZE];
	char user[LOG_ESC_SIZE] = "";
	int user_rank = 0; /* 3 user=, 2 mapped=, 1 claimed= */
	const char *p = fields;
	while (fit && next_field(&p, key, sizeof(key), value, sizeof(value))) {
		snprintf(name, sizeof(name), "WINRMD_%s", key);
		fit = jfield_str(buf, size, &off, name, value);
		if (strcmp(key, "METHOD") == 0 || strcmp(key, "RESULT") == 0)
			fit = fit && jfield_str(buf, size, &off, key, value);
		int rank = strcmp(key, "USER") == 0      ? 3
			   : strcmp(key, "MAPPED") == 0  ? 2
			   : strcmp(key, "CLAIMED") == 0 ? 1
							 : 0;
		if (rank > user_rank) {
			user_rank = rank;
			snprintf(user, sizeof(user), "%s", value);
		}
	}
	if (fit && user_rank > 0)
		fit = jfield_str(buf, size, &off, "USER", user);
	return fit ? off : 0;
}

/* Sends one audit event to journald's native socket; false when it cannot
 * (no journald there, a full queue...): the caller writes the line. */
static bool journal_send(const char *message, const struct audit_peer *peer,
			 const char *event, const char *fields, bool authpriv)
{
	char buf[8192];
	size_t len = log_audit_journal_fields(buf, sizeof(buf), message, peer,
					      event, fields, authpriv);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (len == 0 || strlen(journal_socket) >= sizeof(sa.sun_path))
		return false;
	memcpy(sa.sun_path, journal_socket, strlen(journal_socket) + 1);
	/* A socket for each event: a forked child (the command monitor)
	 * that closed its descriptors can never write into a reused one. */
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	ssize_t w = sendto(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL,
			   (const struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return w == (ssize_t)len;
}

void log_audit_event(const struct audit_peer *peer, const char *event,
		     const char *fmt, ...)
{
	char fields[1536];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(fields, sizeof(fields), fmt, ap);
	va_end(ap);
	if (n < 0)
		fields[0] = '\0';
	bool to_syslog = atomic_load(&audit_syslog);
	bool shown = LOG_LVL_NOTICE <= atomic_load(&log_level);
	if (log_journald && (shown || to_syslog)) {
		/* Under journald: one entry with structured fields (with
		 * the authpriv facility when AuditSyslog asks for it, since
		 * syslog(3) would reach the same journal a second time). */
		char message[2048];
		snprintf(message, sizeof(message),
			 "audit: %s remote=%s %s conn=%llu port=%u", event,
			 LOG_ESC(peer->addr), fields, peer->conn, peer->port);
		for (char *c = message; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		if (journal_send(message, peer, event, fields, to_syslog))
			return;
	}
	log_msg(LOG_LVL_NOTICE, "audit", "%s remote=%s %s conn=%llu port=%u",
		event, LOG_ESC(peer->addr), fields, peer->conn, peer->port);
	if (to_syslog) {
		/* the same line; syslog's own escaping folds what is left */
		syslog(LOG_AUTHPRIV | LOG_NOTICE,
		       "audit: %s remote=%s %s conn=%llu port=%u", event,
		       LOG_ESC(peer->addr), fields, peer->conn, peer->port);
	}
}

void log_msg(enum log_level level, const char *func, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, func, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERR, "fatal", fmt, ap);
	va_end(ap);
	exit(1);
}
