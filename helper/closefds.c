/*
 * closefds.c - closing all descriptors but a few (see closefds.h).
 * Must not: allocate on the heap (it runs between fork and exec, or in a
 * monitor that must not disturb the helper's allocator state), or keep a
 * descriptor that the caller did not name.
 */
#include "autoconfig.h"

#include "helper/closefds.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#define KEEP_MAX 32

/* keep's descriptors from 3 up, sorted and without duplicates, into out
 * (at most KEEP_MAX); returns their number or -1 if there are too many. */
static int sorted_keep(const int *keep, size_t n, int *out)
{
	int m = 0;
	for (size_t i = 0; i < n; i++) {
		int fd = keep[i];
		if (fd < 3)
			continue;
		int j = m;
		while (j > 0 && out[j - 1] > fd)
			j--;
		if (j > 0 && out[j - 1] == fd)
			continue;
		if (m == KEEP_MAX)
			return -1;
		for (int k = m; k > j; k--)
			out[k] = out[k - 1];
		out[j] = fd;
		m++;
	}
	return m;
}

static bool kept(int fd, const int *keep, int m)
{
	for (int i = 0; i < m; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

int closefds_except_scan(const int *keep, size_t n)
{
	int k[KEEP_MAX];
	int m = sorted_keep(keep, n, k);
	if (m < 0)
		return -1;
	DIR *d = opendir("/proc/self/fd");
	if (d != NULL) {
		int self = dirfd(d);
		/* Closing while reading the directory is fine: the entries
		 * of /proc/self/fd are produced in ascending order from the
		 * current position. */
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] < '0' || e->d_name[0] > '9')
				continue;
			long fd = strtol(e->d_name, NULL, 10);
			if (fd >= 3 && fd <= INT_MAX && fd != self &&
			    !kept((int)fd, k, m))
				close((int)fd);
		}
		closedir(d);
		return 0;
	}
	long max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 1048576)
		max = 1048576;
	for (long fd = 3; fd < max; fd++)
		if (!kept((int)fd, k, m))
			close((int)fd);
	return 0;
}

int closefds_except(const int *keep, size_t n)
{
#ifdef HAVE_CLOSE_RANGE
	int k[KEEP_MAX];
	int m = sorted_keep(keep, n, k);
	if (m < 0)
		return -1;
	unsigned lo = 3;
	for (int i = 0; i <= m; i++) {
		unsigned hi = i < m ? (unsigned)k[i] : ~0U;
		if (hi > lo && close_range(lo, i < m ? hi - 1 : ~0U, 0) != 0) {
			if (errno == ENOSYS || errno == EINVAL)
				return closefds_except_scan(keep, n);
			return -1;
		}
		if (i < m)
			lo = hi + 1;
	}
	return 0;
#else
	return closefds_except_scan(keep, n);
#endif
}
