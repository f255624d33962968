/*
 * operations.h - Service.MaxConcurrentOperationsPerUser: how many
 * WS-Management requests each account has in progress at once (a Receive
 * waiting for output counts until it is answered).  The gate takes a slot
 * before dispatching and gives it back when the request is freed.
 */
#ifndef WINRMD_OPERATIONS_H
#define WINRMD_OPERATIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Takes one of uid's slots; false (nothing taken) when uid already has
 * limit operations in progress. */
bool operations_acquire(uid_t uid, int64_t limit);
/* Gives back a slot taken by operations_acquire. */
void operations_release(uid_t uid);
/* Operations in progress for uid (for logs and tests). */
int64_t operations_count(uid_t uid);

#endif
