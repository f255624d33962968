/*
 * duration.h - xs:duration values of WS-Management headers (duration.c).
 */
#ifndef WINRMD_WSMAN_DURATION_H
#define WINRMD_WSMAN_DURATION_H

#include <stdint.h>

#include "lib/util.h"

/*
 * xs:duration -> milliseconds.  Accepts PT20S, PT60.000S, PT1M30S,
 * P0DT0H0M0S, P1W..., fractional seconds.  Returns 0, or -1 for invalid or
 * negative durations and for values over ~292 million years.
 */
int wsman_duration_parse(const char *text, int64_t *ms_r);
/* Formats ms as Windows does for timeouts: "PT7200.000S". */
void wsman_duration_format(struct buf *out, int64_t ms);

#endif
