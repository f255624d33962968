/*
 * log.c - leveled logging for both winrmd binaries.  See log.h.
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
		n = snprintf(
			line, sizeof(line),
			"%04d-%02d-%02d %02d:%02d:%02d.%03ld %s[%d] %s: %s: ",
			tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
			log_tag, (int)getpid(), log_level_name(level), func);
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
