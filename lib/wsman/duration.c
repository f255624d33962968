/*
 * duration.c - xs:duration <-> milliseconds for w:OperationTimeout and the
 * shell timeouts.
 *
 * Accepts what real clients send: PT20S (pywinrm), PT60.000S (Windows),
 * P0DT0H0M0S, fractional seconds, and the weeks component Ruby's
 * Iso8601Duration writes (P1W2DT3H, not valid xs:duration).  Years and
 * months have no fixed length; they count as 365 and 30 days, which is
 * plenty for a timeout.  Negative durations are refused.
 *
 * Must not: log, allocate, or accept anything that would overflow int64
 * milliseconds.
 *
 * Entry points: wsman_duration_parse, wsman_duration_format.
 */
#include "autoconfig.h"

#include "lib/wsman/duration.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#define MS_SECOND INT64_C(1000)
#define MS_MINUTE (60 * MS_SECOND)
#define MS_HOUR (60 * MS_MINUTE)
#define MS_DAY (24 * MS_HOUR)

static bool is_xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Designators in the order they must appear.  The date part and the time
 * part each have their own "M"; index() tells them apart by the T seen.
 */
enum unit_rank { R_NONE, R_YEAR, R_MONTH, R_WEEK, R_DAY, R_HOUR, R_MIN, R_SEC };

static enum unit_rank unit_of(char c, bool in_time, int64_t *mult_r)
{
	if (!in_time) {
		switch (c) {
		case 'Y': *mult_r = 365 * MS_DAY; return R_YEAR;
		case 'M': *mult_r = 30 * MS_DAY; return R_MONTH;
		case 'W': *mult_r = 7 * MS_DAY; return R_WEEK;
		case 'D': *mult_r = MS_DAY; return R_DAY;
		default: return R_NONE;
		}
	}
	switch (c) {
	case 'H': *mult_r = MS_HOUR; return R_HOUR;
	case 'M': *mult_r = MS_MINUTE; return R_MIN;
	case 'S': *mult_r = MS_SECOND; return R_SEC;
	default: return R_NONE;
	}
}

int wsman_duration_parse(const char *text, int64_t *ms_r)
{
	if (text == NULL)
		return -1;
	const char *p = text;
	while (is_xml_space(*p))
		p++;
	/* A leading '-' is a valid xs:duration, but never a valid timeout. */
	if (*p++ != 'P')
		return -1;

	int64_t total = 0;
	enum unit_rank last = R_NONE;
	bool in_time = false, any = false;

	while (*p != '\0' && !is_xml_space(*p)) {
		if (*p == 'T') {
			if (in_time)
				return -1;
			in_time = true;
			p++;
			/* "T" must be followed by at least one component. */
			if (!is_digit(*p) && *p != '.')
				return -1;
			continue;
		}

		int64_t n = 0;
		int digits = 0;
		while (is_digit(*p)) {
			int d = *p - '0';
			if (n > (INT64_MAX - d) / 10)
				return -1;
			n = n * 10 + d;
			digits++;
			p++;
		}
		int64_t frac_ms = 0;
		bool has_frac = false;
		if (*p == '.') {
			has_frac = true;
			p++;
			int scale = 100;
			while (is_digit(*p)) {
				/* Milliseconds suffice; truncate. */
				frac_ms += (*p - '0') * scale;
				scale /= 10;
				digits++;
				p++;
			}
		}
		if (digits == 0)
			return -1;

		int64_t mult = 0;
		enum unit_rank rank = unit_of(*p, in_time, &mult);
		if (rank == R_NONE || rank <= last)
			return -1;
		if (has_frac && rank != R_SEC)
			return -1;
		p++;
		last = rank;

		if (n > (INT64_MAX - total) / mult)
			return -1;
		total += n * mult;
		if (frac_ms > INT64_MAX - total)
			return -1;
		total += frac_ms;
		any = true;
	}
	while (is_xml_space(*p))
		p++;
	if (*p != '\0' || !any)
		return -1;
	*ms_r = total;
	return 0;
}

void wsman_duration_format(struct buf *out, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	buf_printf(out, "PT%" PRId64 ".%03" PRId64 "S", ms / 1000, ms % 1000);
}
