/* tap.c - see tap.h. */
#include "tests/lib/tap.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tests_run;
static int tests_failed;

static int report(int cond, const char *file, int line, const char *fmt,
		  va_list ap)
{
	char desc[512];
	vsnprintf(desc, sizeof(desc), fmt, ap);
	/* A description must stay on its TAP line. */
	for (char *p = desc; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r' || *p == '#')
			*p = ' ';
	tests_run++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", tests_run, desc);
	if (!cond) {
		tests_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = report(cond, file, line, fmt, ap);
	va_end(ap);
	return r;
}

int tap_is_int(int64_t got, int64_t want, const char *file, int line,
	       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = report(got == want, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#   got %" PRId64 ", want %" PRId64 "\n", got, want);
	return r;
}

int tap_is_str(const char *got, const char *want, const char *file, int line,
	       const char *fmt, ...)
{
	va_list ap;
	int same = (got == NULL && want == NULL) ||
		   (got != NULL && want != NULL && strcmp(got, want) == 0);
	va_start(ap, fmt);
	int r = report(same, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#   got  \"%s\"\n#   want \"%s\"\n",
		       got ? got : "(null)", want ? want : "(null)");
	return r;
}

int tap_contains(const char *hay, const char *needle, const char *file,
		 int line, const char *fmt, ...)
{
	va_list ap;
	int found = hay != NULL && needle != NULL &&
		    strstr(hay, needle) != NULL;
	va_start(ap, fmt);
	int r = report(found, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#   \"%s\"\n#   does not contain \"%s\"\n",
		       hay ? hay : "(null)", needle ? needle : "(null)");
	return r;
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

int tap_done(void)
{
	printf("1..%d\n", tests_run);
	return tests_failed == 0 ? 0 : 1;
}
