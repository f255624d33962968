/*
 * closefds.h - closing every inherited descriptor but a chosen few, in a
 * freshly forked child of the helper (a command's monitor, the user's
 * process, a verification child), so that no child holds another one's
 * pipes or the helper's own sockets.
 */
#ifndef WINRMD_PRIV_CLOSEFDS_H
#define WINRMD_PRIV_CLOSEFDS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Closes every descriptor from 3 up except the n in keep (any order;
 * negative entries and 0..2 are ignored): close_range(2) over the gaps,
 * or, where the kernel has none (ENOSYS, EINVAL), closefds_except_scan.
 * Returns 0, or -1 when some descriptor could not be closed for sure.
 * Async-signal-safe apart from the fallback's opendir; for children only.
 */
int closefds_except(const int *keep, size_t n);

/* The fallback: closes what /proc/self/fd lists (or, without /proc,
 * every number up to the descriptor limit).  Exposed for the tests. */
int closefds_except_scan(const int *keep, size_t n);

#endif
