/*
 * value.h - the text forms of WMI property values: what the provider
 * host writes, what the listener accepts from it and renders, and how
 * filters compare them.
 *
 *   string    any UTF-8 text (invalid bytes are replaced when rendered)
 *   boolean   "true" or "false"
 *   uintN     decimal, no sign, no leading zeros, within the type's range
 *   sintN     decimal with an optional "-", within the type's range
 *   realN     a decimal number ([-]digits[.digits][e[+-]digits])
 *   datetime  the cim:Datetime text Windows renders:
 *             YYYY-MM-DDThh:mm:ss[.f{1,6} without trailing zeros]
 *             then "Z" or +hh:mm / -hh:mm
 *
 * Pure functions: no allocation except into a caller's struct buf, no
 * I/O, no logging.
 */
#ifndef WINRMD_WMI_VALUE_H
#define WINRMD_WMI_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/util.h"
#include "lib/wmi/schema.h"

/* Whether s[0..len) is a valid value of type t in the form above. */
bool wmi_value_valid(enum wmi_type t, const char *s, size_t len);

/* Integer types: the value of s (valid per wmi_value_valid) widened. */
bool wmi_type_is_unsigned(enum wmi_type t);
bool wmi_type_is_signed(enum wmi_type t);
bool wmi_type_is_number(enum wmi_type t); /* integers and reals */

/*
 * Datetimes: parses the cim:Datetime form above, or the DMTF form WQL
 * literals use (yyyymmddHHMMSS.mmmmmmsUUU, UUU minutes from UTC, '*'
 * nowhere), into microseconds since the epoch (UTC).  Returns 0 or -1.
 */
int wmi_datetime_parse(const char *s, int64_t *usec_r);

/* Appends the cim:Datetime text of the instant sec.usec (UTC seconds)
 * as seen at UTC offset tz_minutes ("Z" for 0). */
void wmi_datetime_format(struct buf *out, int64_t sec, long usec,
			 int tz_minutes);

/* The local UTC offset in minutes at time t (tm_gmtoff). */
int wmi_local_offset_minutes(time_t t);

#endif
