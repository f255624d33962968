/*
 * value.c - text forms of WMI values (value.h): validation, datetime
 * parsing and formatting.
 *
 * Must not: allocate (other than into the caller's buffer), log, or
 * depend on the locale (strtod is avoided for validation).
 */
#include "autoconfig.h"

#include "lib/wmi/value.h"

#include <stdio.h>
#include <string.h>

bool wmi_type_is_unsigned(enum wmi_type t)
{
	return t == WMI_UINT8 || t == WMI_UINT16 || t == WMI_UINT32 ||
	       t == WMI_UINT64;
}

bool wmi_type_is_signed(enum wmi_type t)
{
	return t == WMI_SINT8 || t == WMI_SINT16 || t == WMI_SINT32 ||
	       t == WMI_SINT64;
}

bool wmi_type_is_number(enum wmi_type t)
{
	return wmi_type_is_unsigned(t) || wmi_type_is_signed(t) ||
	       t == WMI_REAL32 || t == WMI_REAL64;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decimal digits without leading zeros, at most the magnitude max. */
static bool decimal_within(const char *s, size_t len, uint64_t max)
{
	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	return v <= max;
}

static uint64_t unsigned_max(enum wmi_type t)
{
	switch (t) {
	case WMI_UINT8: return UINT8_MAX;
	case WMI_UINT16: return UINT16_MAX;
	case WMI_UINT32: return UINT32_MAX;
	default: return UINT64_MAX;
	}
}

static uint64_t signed_max(enum wmi_type t, bool negative)
{
	uint64_t m;
	switch (t) {
	case WMI_SINT8: m = INT8_MAX; break;
	case WMI_SINT16: m = INT16_MAX; break;
	case WMI_SINT32: m = INT32_MAX; break;
	default: m = INT64_MAX; break;
	}
	return negative ? m + 1 : m;
}

static bool real_valid(const char *s, size_t len)
{
	size_t i = 0, digits = 0;
	if (i < len && s[i] == '-')
		i++;
	while (i < len && is_digit(s[i]))
		i++, digits++;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && is_digit(s[i]))
			i++, digits++;
	}
	if (digits == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t e = 0;
		while (i < len && is_digit(s[i]))
			i++, e++;
		if (e == 0 || e > 3)
			return false;
	}
	return i == len && len <= 64;
}

/* n digits at s as a number, or -1. */
static long digits_at(const char *s, size_t n)
{
	long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool date_ok(long y, long mo, long d, long h, long mi, long s)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60)
		return false;
	int max = mdays[mo - 1] + (mo == 2 && leap(y));
	return d <= max;
}

/* The cim:Datetime form; -1 when s is not exactly that. */
static int parse_cim(const char *s, size_t len, int64_t *usec_r)
{
	if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	long y = digits_at(s, 4), mo = digits_at(s + 5, 2),
	     d = digits_at(s + 8, 2), h = digits_at(s + 11, 2),
	     mi = digits_at(s + 14, 2), sec = digits_at(s + 17, 2);
	if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0 ||
	    !date_ok(y, mo, d, h, mi, sec))
		return -1;
	size_t i = 19;
	long usec = 0;
	if (s[i] == '.') {
		i++;
		size_t n = 0;
		while (i + n < len && is_digit(s[i + n]))
			n++;
		/* 1 to 6 digits, trailing zeros stripped (Windows' form) */
		if (n == 0 || n > 6 || s[i + n - 1] == '0')
			return -1;
		usec = digits_at(s + i, n);
		for (size_t k = n; k < 6; k++)
			usec *= 10;
		i += n;
	}
	long off = 0;
	if (i + 1 == len && s[i] == 'Z') {
		off = 0;
	} else if (i + 6 == len && (s[i] == '+' || s[i] == '-') &&
		   s[i + 3] == ':') {
		long oh = digits_at(s + i + 1, 2), om = digits_at(s + i + 4, 2);
		if (oh < 0 || om < 0 || oh > 23 || om > 59 ||
		    (oh == 0 && om == 0))
			return -1; /* +00:00 is written Z */
		off = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
	} else {
		return -1;
	}
	int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - off * 60;
	*usec_r = secs * 1000000 + usec;
	return 0;
}

/* The DMTF form yyyymmddHHMMSS.mmmmmmsUUU (WQL literals). */
static int parse_dmtf(const char *s, size_t len, int64_t *usec_r)
{
	if (len != 25 || s[14] != '.' || (s[21] != '+' && s[21] != '-'))
		return -1;
	long y = digits_at(s, 4), mo = digits_at(s + 4, 2),
	     d = digits_at(s + 6, 2), h = digits_at(s + 8, 2),
	     mi = digits_at(s + 10, 2), sec = digits_at(s + 12, 2),
	     usec = digits_at(s + 15, 6), off = digits_at(s + 22, 3);
	if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0 ||
	    usec < 0 || off < 0 || off > 24 * 60 ||
	    !date_ok(y, mo, d, h, mi, sec))
		return -1;
	if (s[21] == '-')
		off = -off;
	int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - off * 60;
	*usec_r = secs * 1000000 + usec;
	return 0;
}

int wmi_datetime_parse(const char *s, int64_t *usec_r)
{
	size_t len = strlen(s);
	if (parse_cim(s, len, usec_r) == 0)
		return 0;
	return parse_dmtf(s, len, usec_r);
}

bool wmi_value_valid(enum wmi_type t, const char *s, size_t len)
{
	if (memchr(s, '\0', len) != NULL)
		return false;
	switch (t) {
	case WMI_STRING: return true;
	case WMI_BOOLEAN:
		return (len == 4 && memcmp(s, "true", 4) == 0) ||
		       (len == 5 && memcmp(s, "false", 5) == 0);
	case WMI_UINT8:
	case WMI_UINT16:
	case WMI_UINT32:
	case WMI_UINT64: return decimal_within(s, len, unsigned_max(t));
	case WMI_SINT8:
	case WMI_SINT16:
	case WMI_SINT32:
	case WMI_SINT64: {
		bool neg = len > 0 && s[0] == '-';
		if (neg && len > 1 && s[1] == '0')
			return false; /* no "-0" */
		return decimal_within(s + neg, len - neg, signed_max(t, neg));
	}
	case WMI_REAL32:
	case WMI_REAL64: return real_valid(s, len);
	case WMI_DATETIME: {
		int64_t v;
		return len < 64 && parse_cim(s, len, &v) == 0;
	}
	}
	return false;
}

/* y-m-d of a day count from the epoch (H. Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, long *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (long)(yy + (*m <= 2));
}

void wmi_datetime_format(struct buf *out, int64_t sec, long usec,
			 int tz_minutes)
{
	if (usec < 0 || usec > 999999)
		usec = 0;
	int64_t local = sec + (int64_t)tz_minutes * 60;
	int64_t days = local / 86400, rem = local % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	long y;
	int m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 1)
		y = 1; /* not representable: clamp rather than emit garbage */
	if (y > 9999)
		y = 9999;
	buf_printf(out, "%04ld-%02d-%02dT%02d:%02d:%02d", y, m, d,
		   (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
	if (usec > 0) {
		char frac[8];
		snprintf(frac, sizeof(frac), "%06ld", usec);
		size_t n = 6;
		while (n > 0 && frac[n - 1] == '0')
			n--;
		frac[n] = '\0';
		buf_printf(out, ".%s", frac);
	}
	if (tz_minutes == 0) {
		buf_append_byte(out, 'Z');
	} else {
		int a = tz_minutes < 0 ? -tz_minutes : tz_minutes;
		buf_printf(out, "%c%02d:%02d", tz_minutes < 0 ? '-' : '+',
			   a / 60 % 24, a % 60);
	}
}

int wmi_local_offset_minutes(time_t t)
{
	struct tm tm;
	if (localtime_r(&t, &tm) == NULL)
		return 0;
	return (int)(tm.tm_gmtoff / 60);
}
