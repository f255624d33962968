/*
 * win32_process.c - Win32_Process: one instance per process the caller
 * can see in /proc (with hidepid, only its own), read as the caller:
 * /proc/<pid>/stat (parent, times, priority, threads, sizes, start
 * time), comm (Name), cmdline (CommandLine, NULs as spaces), exe
 * (ExecutablePath), status (peaks, private memory), io (transfer
 * counts), fd (HandleCount).  What the caller may not read (another
 * user's exe, io, fd) is null, not an error.  With /proc mounted
 * hidepid=1 another user's process is listed with only its keys and
 * constants (everything under /proc/<pid> is denied: Name, CommandLine...
 * null); with hidepid=2 it is not there at all (Get: not found, as a pid
 * that is free).  tests/integration/t8320-wmi-hidepid.py checks both.
 *
 * Methods, all as the caller:
 *   Create(CommandLine, CurrentDirectory) -> ProcessId: as CreateProcess
 *     does on Windows, CommandLine is split into words as Windows splits a
 *     command line (CommandLineToArgvW: blanks separate, double quotes
 *     group, backslashes escape a quote) and its first word is run
 *     directly, searched in PATH, with no shell in between (a shell's
 *     syntax needs "sh -c ...", as cmd's needs "cmd /c ..." on Windows);
 *     so ProcessId is the program's own.  It runs as the caller, in the
 *     provider host's PAM session and environment, detached (a session
 *     of its own, stdin/stdout/stderr on /dev/null), in CurrentDirectory
 *     or the home directory.  ReturnValue 0; 9 path not found (no such
 *     program or CurrentDirectory); 2 access denied (not executable);
 *     21 invalid parameter (no CommandLine); 8 other failures.
 *   Terminate(Reason): SIGKILL (Windows' TerminateProcess ends a process
 *     at once; Linux has no exit code to give it, Reason is ignored).
 *     ReturnValue 0, or 2 access denied when the kernel refuses.
 *   GetOwner() -> User, Domain: the owner of /proc/<pid> (its effective
 *     uid) and the host name.  ReturnValue 0, 2 when the caller may not
 *     see it, 8 when the uid has no name.
 * A Handle that names no process the caller can see: not found (the
 * listener's DestinationUnreachable fault).
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "provider/provider.h"

PROVIDER_PROP_ENUM(Win32_Process);

#define CMDLINE_MAX 32768 /* Windows' command line limit */

/* What the per-host facts cost once per request. */
struct common {
	int64_t btime;
	long tck;
	long page;
	char *os_name;
	struct utsname uts;
};

/* Fields of /proc/<pid>/stat after the command name. */
struct stat_fields {
	char comm[64];
	long ppid, session;
	unsigned long minflt, majflt, utime, stime;
	long priority, nice, threads;
	unsigned long long start;
	unsigned long vsize;
	long rss;
};

static int read_stat(const char *dir, struct stat_fields *s)
{
	char path[64];
	struct buf b = BUF_INIT;
	snprintf(path, sizeof(path), "%s/stat", dir);
	if (sys_read_file(path, 4096, &b) != 0) {
		buf_release(&b);
		return -1;
	}
	const char *text = (const char *)b.data;
	const char *open = strchr(text, '(');
	const char *close = strrchr(text, ')');
	if (open == NULL || close == NULL || close < open) {
		buf_release(&b);
		return -1;
	}
	size_t n = (size_t)(close - open - 1);
	if (n >= sizeof(s->comm))
		n = sizeof(s->comm) - 1;
	memcpy(s->comm, open + 1, n);
	s->comm[n] = '\0';
	char state;
	long pgrp, tty, tpgid;
	unsigned long flags, cminflt, cmajflt;
	long cutime, cstime;
	int got = sscanf(close + 1,
			 " %c %ld %ld %ld %ld %ld %lu %lu %lu %lu %lu %lu %lu "
			 "%ld %ld %ld %ld %ld %*d %llu %lu %ld",
			 &state, &s->ppid, &pgrp, &s->session, &tty, &tpgid,
			 &flags, &s->minflt, &cminflt, &s->majflt, &cmajflt,
			 &s->utime, &s->stime, &cutime, &cstime, &s->priority,
			 &s->nice, &s->threads, &s->start, &s->vsize, &s->rss);
	buf_release(&b);
	return got == 21 ? 0 : -1;
}

/* Windows' base priority (0-31, normal 8) for a nice value or a
 * real-time priority (stat's priority field below 0 for those). */
static unsigned win_priority(const struct stat_fields *s)
{
	if (s->priority < 0)
		return 24; /* realtime class */
	long p = 8 - (s->nice * 7) / 20;
	return (unsigned)(p < 1 ? 1 : p > 15 ? 15 : p);
}

/* "Key:   123 kB" of a status file, in kB; -1 when absent. */
static long status_kb(const char *status, const char *key)
{
	const char *p = strstr(status, key);
	if (p == NULL || (p != status && p[-1] != '\n'))
		return -1;
	return strtol(p + strlen(key), NULL, 10);
}

static unsigned long long io_value(const char *io, const char *key)
{
	const char *p = strstr(io, key);
	return p != NULL ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static long count_fds(const char *dir)
{
	char path[64];
	snprintf(path, sizeof(path), "%s/fd", dir);
	DIR *d = opendir(path);
	if (d == NULL)
		return -1;
	long n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void write_process(struct prov_out *o, const struct common *c, long pid)
{
	char dir[32];
	snprintf(dir, sizeof(dir), "/proc/%ld", pid);
	struct stat_fields s;
	bool have_stat = read_stat(dir, &s) == 0;
	struct stat pst;
	/* stat, not access(F_OK): under hidepid=1 (noaccess) another
	 * user's /proc/<pid> is listed and stat()able, but access() on it
	 * fails (EPERM); the process is there, its unreadable properties
	 * null */
	if (!have_stat && stat(dir, &pst) != 0)
		return; /* gone meanwhile, or invisible (hidepid=2) */
	char handle[24];
	snprintf(handle, sizeof(handle), "%ld", pid);

	out_begin(o);
	out_str(o, P_Handle, handle);
	out_uint(o, P_ProcessId, (uint64_t)pid);
	if (o->keys_only) {
		out_end(o);
		return;
	}
	out_str(o, P_CreationClassName, "Win32_Process");
	out_str(o, P_CSCreationClassName, "Win32_ComputerSystem");
	out_str(o, P_CSName, sys_hostname());
	out_str(o, P_OSCreationClassName, "Win32_OperatingSystem");
	out_str(o, P_OSName, c->os_name);
	out_str(o, P_WindowsVersion, c->uts.release);
	if (have_stat) {
		out_str(o, P_Caption, s.comm);
		out_str(o, P_Description, s.comm);
		out_str(o, P_Name, s.comm);
		out_uint(o, P_ParentProcessId, (uint64_t)s.ppid);
		out_uint(o, P_SessionId, (uint64_t)s.session);
		out_uint(o, P_ThreadCount, (uint64_t)s.threads);
		out_uint(o, P_Priority, win_priority(&s));
		/* 100-ns units, as FILETIME durations */
		out_uint(o, P_KernelModeTime,
			 (uint64_t)s.stime * (10000000 / (uint64_t)c->tck));
		out_uint(o, P_UserModeTime,
			 (uint64_t)s.utime * (10000000 / (uint64_t)c->tck));
		unsigned long long faults = s.minflt + s.majflt;
		out_uint(o, P_PageFaults,
			 faults > UINT32_MAX ? UINT32_MAX : faults);
		out_uint(o, P_VirtualSize, s.vsize);
		out_uint(o, P_WorkingSetSize,
			 (uint64_t)(s.rss < 0 ? 0 : s.rss) * (uint64_t)c->page);
		if (c->btime > 0) {
			long long t = (long long)(s.start % (unsigned)c->tck);
			out_time(o, P_CreationDate,
				 c->btime +
					 (int64_t)(s.start / (unsigned)c->tck),
				 (long)(t * 1000000 / c->tck));
		}
	}
	if (out_wants(o, P_CommandLine)) {
		char path[48];
		struct buf b = BUF_INIT;
		snprintf(path, sizeof(path), "%s/cmdline", dir);
		if (sys_read_file(path, CMDLINE_MAX, &b) == 0 && b.len > 0) {
			while (b.len > 0 && b.data[b.len - 1] == '\0')
				b.len--;
			for (size_t i = 0; i < b.len; i++)
				if (b.data[i] == '\0')
					b.data[i] = ' ';
			out_strn(o, P_CommandLine, (const char *)b.data, b.len);
		}
		buf_release(&b);
	}
	if (out_wants(o, P_ExecutablePath)) {
		char path[48], exe[PATH_MAX];
		snprintf(path, sizeof(path), "%s/exe", dir);
		ssize_t n = readlink(path, exe, sizeof(exe) - 1);
		if (n > 0)
			out_strn(o, P_ExecutablePath, exe, (size_t)n);
	}
	if (out_wants(o, P_PeakVirtualSize) ||
	    out_wants(o, P_PeakWorkingSetSize) ||
	    out_wants(o, P_PrivatePageCount)) {
		char path[48];
		struct buf b = BUF_INIT;
		snprintf(path, sizeof(path), "%s/status", dir);
		if (sys_read_file(path, 16384, &b) == 0) {
			const char *st = (const char *)b.data;
			long peak = status_kb(st, "VmPeak:");
			long hwm = status_kb(st, "VmHWM:");
			long anon = status_kb(st, "RssAnon:");
			if (peak >= 0)
				out_uint(o, P_PeakVirtualSize,
					 (uint64_t)peak * 1024);
			if (hwm >= 0)
				out_uint(o, P_PeakWorkingSetSize,
					 (uint64_t)hwm);
			if (anon >= 0)
				out_uint(o, P_PrivatePageCount,
					 (uint64_t)anon * 1024);
		}
		buf_release(&b);
	}
	if (out_wants(o, P_ReadTransferCount) ||
	    out_wants(o, P_WriteTransferCount) ||
	    out_wants(o, P_ReadOperationCount) ||
	    out_wants(o, P_WriteOperationCount)) {
		char path[48];
		struct buf b = BUF_INIT;
		snprintf(path, sizeof(path), "%s/io", dir);
		if (sys_read_file(path, 4096, &b) == 0 && b.len > 0) {
			const char *io = (const char *)b.data;
			out_uint(o, P_ReadOperationCount,
				 io_value(io, "syscr: "));
			out_uint(o, P_ReadTransferCount,
				 io_value(io, "rchar: "));
			out_uint(o, P_WriteOperationCount,
				 io_value(io, "syscw: "));
			out_uint(o, P_WriteTransferCount,
				 io_value(io, "wchar: "));
		}
		buf_release(&b);
	}
	if (out_wants(o, P_HandleCount)) {
		long fds = count_fds(dir);
		if (fds >= 0)
			out_uint(o, P_HandleCount, (uint64_t)fds);
	}
	out_end(o);
}

/* A pid from a Handle or ProcessId hint: decimal, no sign, no leading
 * zero; -1 when the text is not one. */
static long pid_of(const char *s)
{
	if (s == NULL || s[0] < '1' || s[0] > '9' || strlen(s) > 10)
		return -1;
	char *end;
	long v = strtol(s, &end, 10);
	return *end == '\0' && v > 0 && v <= INT_MAX ? v : -1;
}

static int enumerate(struct prov_out *o, char **message)
{
	struct common c;
	c.btime = sys_boot_time();
	c.tck = sys_clk_tck();
	c.page = sysconf(_SC_PAGESIZE);
	if (c.page <= 0)
		c.page = 4096;
	c.os_name = out_wants(o, P_OSName) ? sys_os_name(NULL, NULL) : NULL;
	if (uname(&c.uts) != 0)
		memset(&c.uts, 0, sizeof(c.uts));
	const char *h = prov_hint(o->req, "Handle");
	if (h == NULL)
		h = prov_hint(o->req, "ProcessId");
	if (h != NULL) {
		/* one process: the listener checks it is the one asked for */
		long pid = pid_of(h);
		if (pid > 0)
			write_process(o, &c, pid);
		free(c.os_name);
		return 0;
	}
	DIR *d = opendir("/proc");
	if (d == NULL) {
		free(c.os_name);
		*message = xasprintf("cannot list /proc: %s", strerror(errno));
		return WMI_E_FAILED;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		long pid = pid_of(e->d_name);
		if (pid > 0)
			write_process(o, &c, pid);
	}
	closedir(d);
	free(c.os_name);
	return 0;
}

/* ---- methods ---- */

/* Splits a command line as Windows' CommandLineToArgvW does: blanks
 * separate words outside double quotes; 2n backslashes and a quote are
 * n backslashes and a quote that opens or closes; 2n+1 backslashes and a
 * quote are n backslashes and a quote; "" inside quotes is a quote;
 * other backslashes are themselves.  Returns a NULL-terminated argv
 * (caller frees with free_argv) with at least one word, or NULL. */
static char **split_command_line(const char *s)
{
	char **argv = NULL;
	size_t argc = 0;
	struct buf w = BUF_INIT;
	bool in_word = false, quoted = false;
	for (const char *p = s;; p++) {
		if (*p == '\0' || (!quoted && (*p == ' ' || *p == '\t'))) {
			if (in_word) {
				argv = xrealloc(argv,
						(argc + 2) * sizeof(*argv));
				argv[argc++] = buf_steal(&w);
				argv[argc] = NULL;
				in_word = false;
			}
			if (*p == '\0')
				break;
			continue;
		}
		in_word = true;
		if (*p == '\\') {
			size_t n = 0;
			while (p[n] == '\\')
				n++;
			if (p[n] == '"') {
				for (size_t i = 0; i < n / 2; i++)
					buf_append_byte(&w, '\\');
				if (n % 2 == 1)
					buf_append_byte(&w, '"');
				else
					quoted = !quoted;
				p += n;
			} else {
				for (size_t i = 0; i < n; i++)
					buf_append_byte(&w, '\\');
				p += n - 1;
			}
			continue;
		}
		if (*p == '"') {
			if (quoted && p[1] == '"') {
				buf_append_byte(&w, '"');
				p++;
			} else {
				quoted = !quoted;
			}
			continue;
		}
		buf_append_byte(&w, (uint8_t)*p);
	}
	buf_release(&w);
	return argv;
}

static void free_argv(char **argv)
{
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* Runs argv detached in dir; returns its pid, or -1 with *err_r (errno
 * of the failure: of the exec when the program could not be run). */
static pid_t spawn_detached(char **argv, const char *dir, int *err_r)
{
	int report[2];
	*err_r = 0;
	if (pipe2(report, O_CLOEXEC) != 0) {
		*err_r = errno;
		return -1;
	}
	pid_t mid = fork();
	if (mid < 0) {
		*err_r = errno;
		close(report[0]);
		close(report[1]);
		return -1;
	}
	if (mid == 0) {
		/* the middle process: the program in a grandchild that init
		 * adopts, leading a session of its own; this one ends at
		 * once */
		close(report[0]);
		pid_t pid = fork();
		if (pid == 0) {
			setsid();
			int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (null_fd < 0 || dup2(null_fd, 0) < 0 ||
			    dup2(null_fd, 1) < 0 || dup2(null_fd, 2) < 0)
				_exit(127);
			if (chdir(dir) != 0 && chdir("/") != 0)
				_exit(127);
			signal(SIGPIPE, SIG_DFL);
			execvp(argv[0], argv);
			int32_t err = errno;
			(void)!write(report[1], &err, sizeof(err));
			_exit(127);
		}
		int32_t p = pid > 0 ? (int32_t)pid : -1;
		(void)!write(report[1], &p, sizeof(p));
		_exit(0);
	}
	close(report[1]);
	int32_t pid = -1, err = 0;
	ssize_t n;
	do {
		n = read(report[0], &pid, sizeof(pid));
	} while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(pid) && pid > 0) {
		/* an exec error follows the pid; EOF means it started */
		do {
			n = read(report[0], &err, sizeof(err));
		} while (n < 0 && errno == EINTR);
		if (n != (ssize_t)sizeof(err))
			err = 0;
	}
	close(report[0]);
	while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
		;
	if (pid <= 0 || err != 0) {
		*err_r = err != 0 ? err : EAGAIN;
		return -1;
	}
	return pid;
}

static void create(const struct wmi_request *req, struct prov_result *r)
{
	bool null;
	const char *cmd = prov_param(req, "CommandLine", &null);
	const char *cwd = prov_param(req, "CurrentDirectory", &null);
	char **argv = cmd != NULL ? split_command_line(cmd) : NULL;
	if (argv == NULL) {
		r->return_value = 21;
		return;
	}
	struct passwd *pw = getpwuid(getuid());
	const char *home = pw != NULL && pw->pw_dir[0] ? pw->pw_dir : "/";
	const char *dir = cwd != NULL && cwd[0] != '\0' ? cwd : home;
	struct stat st;
	if (cwd != NULL && cwd[0] != '\0' &&
	    (stat(cwd, &st) != 0 || !S_ISDIR(st.st_mode))) {
		r->return_value = 9;
		free_argv(argv);
		return;
	}
	int err;
	pid_t pid = spawn_detached(argv, dir, &err);
	if (pid < 0) {
		fprintf(stderr, "winrmd-wmi: Win32_Process.Create of %s: %s\n",
			argv[0], strerror(err));
		r->return_value = err == ENOENT || err == ENOTDIR ? 9
				  : err == EACCES || err == EPERM ? 2
								  : 8;
	} else {
		r->return_value = 0;
		result_outf(r, "ProcessId", "%d", (int)pid);
	}
	free_argv(argv);
}

static void invoke(const struct wmi_request *req, struct prov_result *r)
{
	if (strcmp(req->method, "Create") == 0) {
		create(req, r);
		return;
	}
	const char *h = prov_hint(req, "Handle");
	long pid = pid_of(h);
	char dir[32];
	snprintf(dir, sizeof(dir), "/proc/%ld", pid);
	struct stat st;
	if (pid <= 0 || stat(dir, &st) != 0) {
		result_error(r, WMI_E_NOT_FOUND, "no process %s",
			     h ? h : "(no Handle)");
		return;
	}
	if (strcmp(req->method, "Terminate") == 0) {
		if (kill((pid_t)pid, SIGKILL) == 0) {
			r->return_value = 0;
		} else if (errno == ESRCH) {
			result_error(r, WMI_E_NOT_FOUND, "no process %ld", pid);
		} else {
			r->return_value = 2; /* access denied */
		}
	} else if (strcmp(req->method, "GetOwner") == 0) {
		struct passwd *pw = getpwuid(st.st_uid);
		if (pw == NULL) {
			r->return_value = 8;
			return;
		}
		r->return_value = 0;
		result_out(r, "Domain", sys_hostname());
		result_out(r, "User", pw->pw_name);
	} else {
		result_error(r, WMI_E_NOT_SUPPORTED, "no method %s",
			     req->method);
	}
}

const struct provider_class provider_Win32_Process = { enumerate, invoke };
