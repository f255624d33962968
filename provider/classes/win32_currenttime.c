/*
 * win32_currenttime.c - Win32_LocalTime and Win32_UTCTime (singletons):
 * the host's clock (clock_gettime CLOCK_REALTIME), broken down in the
 * host's time zone (localtime_r, TZ and /etc/localtime) and in UTC.
 * Milliseconds is null, as Windows leaves it.
 */
#include "autoconfig.h"

#include <time.h>

#include "provider/provider.h"

PROVIDER_PROP_ENUM(Win32_CurrentTime);

static void write_time(struct prov_out *o, const struct tm *tm)
{
	out_begin(o);
	out_uint(o, P_Day, (uint64_t)tm->tm_mday);
	out_uint(o, P_DayOfWeek, (uint64_t)tm->tm_wday);
	out_uint(o, P_Hour, (uint64_t)tm->tm_hour);
	out_uint(o, P_Minute, (uint64_t)tm->tm_min);
	out_uint(o, P_Month, (uint64_t)tm->tm_mon + 1);
	out_uint(o, P_Quarter, (uint64_t)tm->tm_mon / 3 + 1);
	out_uint(o, P_Second, (uint64_t)tm->tm_sec);
	/* the week of the month, weeks starting on Sunday */
	int first_wday = ((tm->tm_wday - (tm->tm_mday - 1)) % 7 + 7) % 7;
	out_uint(o, P_WeekInMonth,
		 (uint64_t)((tm->tm_mday - 1 + first_wday) / 7 + 1));
	out_uint(o, P_Year, (uint64_t)tm->tm_year + 1900);
	out_end(o);
}

static int local_time(struct prov_out *o, char **message)
{
	(void)message;
	time_t now = time(NULL);
	struct tm tm;
	if (localtime_r(&now, &tm) == NULL)
		return WMI_E_FAILED;
	write_time(o, &tm);
	return 0;
}

static int utc_time(struct prov_out *o, char **message)
{
	(void)message;
	time_t now = time(NULL);
	struct tm tm;
	if (gmtime_r(&now, &tm) == NULL)
		return WMI_E_FAILED;
	write_time(o, &tm);
	return 0;
}

const struct provider_class provider_Win32_LocalTime = { local_time, NULL };
const struct provider_class provider_Win32_UTCTime = { utc_time, NULL };
