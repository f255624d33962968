/*
 * tap.h - a tiny assertion library printing TAP for automake's tap-driver.
 *
 *   int main(void) {
 *       ok(1 + 1 == 2, "addition");
 *       is_int(f(), 3, "f returns 3");
 *       is_str(s, "x", "s is x");
 *       return tap_done();   // prints the plan, returns 0 when all passed
 *   }
 */
#ifndef WINRMD_TAP_H
#define WINRMD_TAP_H

#include <stddef.h>
#include <stdint.h>

int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int tap_is_int(int64_t got, int64_t want, const char *file, int line,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int tap_is_str(const char *got, const char *want, const char *file, int line,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Passes when needle occurs in haystack. */
int tap_contains(const char *haystack, const char *needle, const char *file,
		 int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int tap_done(void);

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...)                                                 \
	tap_is_int((int64_t)(got), (int64_t)(want), __FILE__, __LINE__,        \
		   __VA_ARGS__)
#define is_str(got, want, ...)                                                 \
	tap_is_str(got, want, __FILE__, __LINE__, __VA_ARGS__)
#define contains(hay, needle, ...)                                             \
	tap_contains(hay, needle, __FILE__, __LINE__, __VA_ARGS__)

#endif
