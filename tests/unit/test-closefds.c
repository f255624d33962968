/*
 * test-closefds.c - closefds_except and its /proc/self/fd fallback
 * (helper/closefds.c), each in a forked child: the kept descriptors
 * (in any order, with duplicates, 0..2 and negatives ignored) stay open,
 * every other one from 3 up is closed, stdin/stdout/stderr stay.
 */
#include "autoconfig.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper/closefds.h"
#include "tests/lib/tap.h"

#define NFD 40

static bool is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/*
 * Opens NFD descriptors (pipes, /dev/null, one high dup), forks, closes
 * all but keep in the child with fn, and returns a bit per check the
 * child failed (0: all good).
 */
static int run(int (*fn)(const int *, size_t), const int *which, size_t n)
{
	int fds[NFD + 1];
	for (int i = 0; i < NFD; i += 2)
		if (pipe(fds + i) != 0)
			abort();
	fds[NFD] = dup2(fds[0], 700);
	int keep[8];
	for (size_t i = 0; i < n; i++)
		keep[i] = which[i] < 0      ? which[i]
			  : which[i] == NFD ? fds[NFD]
					    : fds[which[i]];
	pid_t pid = fork();
	if (pid == 0) {
		int bad = 0;
		if (fn(keep, n) != 0)
			bad |= 1;
		for (int i = 0; i <= NFD; i++) {
			bool want = false;
			for (size_t j = 0; j < n; j++)
				want = want || keep[j] == fds[i];
			if (is_open(fds[i]) != want)
				bad |= 2;
		}
		if (!is_open(0) || !is_open(1) || !is_open(2))
			bad |= 4;
		/* nothing else from 3 up either */
		for (int fd = 3; fd < 1024; fd++) {
			bool want = false;
			for (size_t j = 0; j < n; j++)
				want = want || keep[j] == fd;
			if (is_open(fd) && !want)
				bad |= 8;
		}
		_exit(bad);
	}
	for (int i = 0; i <= NFD; i++)
		close(fds[i]);
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

int main(void)
{
	static const struct {
		int which[6];
		size_t n;
		const char *what;
	} cases[] = {
		{ { 0 }, 0, "nothing kept" },
		{ { 5 }, 1, "one kept" },
		{ { 0, 1, 2, 3, 4, 5 }, 6, "six in a row kept" },
		{ { 39, 7, 20, 7, -1, NFD },
		  6,
		  "unsorted, a duplicate, a negative, a high one kept" },
		{ { NFD }, 1, "only the highest kept" },
	};
	struct {
		int (*fn)(const int *, size_t);
		const char *name;
	} fns[] = {
		{ closefds_except, "closefds_except" },
		{ closefds_except_scan, "closefds_except_scan" },
	};
	for (size_t f = 0; f < 2; f++)
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			is_int(run(fns[f].fn, cases[i].which, cases[i].n), 0,
			       "%s: %s", fns[f].name, cases[i].what);
	/* 0..2 in keep are ignored: they always stay. */
	int std[] = { 0, 1, 2 };
	is_int(run(closefds_except, std, 3), 0,
	       "0, 1 and 2 named: the rest is closed");
	return tap_done();
}
