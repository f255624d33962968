/*
 * sys.c - small readers of the host's facts for the collectors of
 * winrmd-wmi (provider.h): files under /proc, /sys and /etc, the host
 * name and domain, the boot time.  Everything is read as the caller, and
 * what the caller cannot read is reported as absent.
 *
 * Must not: write anywhere, or cache anything that depends on the
 * caller's permissions beyond the life of the process (it runs for one
 * account only).
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "provider/provider.h"

int sys_read_file(const char *path, size_t max, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	char chunk[4096];
	for (;;) {
		size_t room = max - out->len;
		if (room == 0)
			break;
		ssize_t n = read(fd, chunk,
				 room < sizeof(chunk) ? room : sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		buf_append(out, chunk, (size_t)n);
	}
	close(fd);
	if (out->data == NULL)
		buf_append(out, "", 0);
	return 0;
}

char *sys_read_line(const char *path)
{
	struct buf b = BUF_INIT;
	if (sys_read_file(path, 4096, &b) != 0) {
		buf_release(&b);
		return NULL;
	}
	char *s = buf_steal(&b);
	s[strcspn(s, "\n")] = '\0';
	return s;
}

/* The unquoted value of KEY=value in an os-release file. */
static char *os_release_in(const char *path, const char *key)
{
	struct buf b = BUF_INIT;
	if (sys_read_file(path, 65536, &b) != 0) {
		buf_release(&b);
		return NULL;
	}
	char *result = NULL;
	size_t klen = strlen(key);
	char *save = NULL;
	for (char *line = strtok_r((char *)b.data, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, key, klen) != 0 || line[klen] != '=')
			continue;
		char *v = line + klen + 1;
		size_t n = strlen(v);
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') &&
		    v[n - 1] == v[0]) {
			v[n - 1] = '\0';
			v++;
		}
		/* shell escapes: \" \\ \$ \` */
		struct buf o = BUF_INIT;
		for (const char *p = v; *p; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			buf_append_byte(&o, (uint8_t)*p);
		}
		free(result);
		result = buf_steal(&o);
	}
	buf_release(&b);
	return result;
}

char *sys_os_release(const char *key)
{
	char *v = os_release_in("/etc/os-release", key);
	if (v == NULL)
		v = os_release_in("/usr/lib/os-release", key);
	return v;
}

void sys_meminfo(const char *const *keys, int64_t *kb, size_t n)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n; i++)
		kb[i] = -1;
	if (sys_read_file("/proc/meminfo", 65536, &b) == 0) {
		const char *p = (const char *)b.data;
		while (p != NULL && *p) {
			for (size_t i = 0; i < n; i++) {
				size_t klen = strlen(keys[i]);
				if (strncmp(p, keys[i], klen) == 0 &&
				    p[klen] == ':')
					kb[i] = strtoll(p + klen + 1, NULL, 10);
			}
			p = strchr(p, '\n');
			if (p != NULL)
				p++;
		}
	}
	buf_release(&b);
}

int64_t sys_meminfo_kb(const char *key)
{
	struct buf b = BUF_INIT;
	int64_t v = -1;
	if (sys_read_file("/proc/meminfo", 65536, &b) == 0) {
		size_t klen = strlen(key);
		const char *p = (const char *)b.data;
		while (p != NULL && *p) {
			if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
				v = strtoll(p + klen + 1, NULL, 10);
				break;
			}
			p = strchr(p, '\n');
			if (p != NULL)
				p++;
		}
	}
	buf_release(&b);
	return v;
}

const char *sys_hostname(void)
{
	static char name[256];
	if (name[0] == '\0') {
		if (gethostname(name, sizeof(name) - 1) != 0)
			snprintf(name, sizeof(name), "localhost");
		name[strcspn(name, ".")] = '\0';
	}
	return name;
}

const char *sys_dns_domain(void)
{
	static char domain[256];
	static bool done;
	if (done)
		return domain;
	done = true;
	char full[256] = "";
	if (gethostname(full, sizeof(full) - 1) == 0 &&
	    strchr(full, '.') == NULL) {
		/* as hostname -f: the canonical name of the host name */
		struct addrinfo hints = { .ai_flags = AI_CANONNAME };
		struct addrinfo *res = NULL;
		if (getaddrinfo(full, NULL, &hints, &res) == 0 && res &&
		    res->ai_canonname)
			snprintf(full, sizeof(full), "%s", res->ai_canonname);
		if (res != NULL)
			freeaddrinfo(res);
	}
	const char *dot = strchr(full, '.');
	if (dot != NULL && dot[1] != '\0')
		snprintf(domain, sizeof(domain), "%s", dot + 1);
	return domain;
}

int64_t sys_boot_time(void)
{
	struct buf b = BUF_INIT;
	int64_t v = 0;
	if (sys_read_file("/proc/stat", 1 << 20, &b) == 0) {
		const char *p = strstr((const char *)b.data, "\nbtime ");
		if (p != NULL)
			v = strtoll(p + 7, NULL, 10);
	}
	buf_release(&b);
	return v;
}

long sys_clk_tck(void)
{
	static long tck;
	if (tck <= 0) {
		tck = sysconf(_SC_CLK_TCK);
		if (tck <= 0)
			tck = 100;
	}
	return tck;
}

/* Undoes the octal escapes of /proc/self/mounts (\040 for a space). */
static void unescape_mount(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' &&
		    r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 +
				      (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

char *sys_mount_source(const char *path)
{
	struct buf b = BUF_INIT;
	char *found = NULL;
	if (sys_read_file("/proc/self/mounts", 1 << 20, &b) == 0) {
		char *save = NULL;
		for (char *line = strtok_r((char *)b.data, "\n", &save);
		     line != NULL; line = strtok_r(NULL, "\n", &save)) {
			char *src = strtok(line, " ");
			char *dir = strtok(NULL, " ");
			if (src == NULL || dir == NULL)
				continue;
			unescape_mount(dir);
			if (strcmp(dir, path) == 0) {
				/* the last mount on a path is the visible one */
				free(found);
				unescape_mount(src);
				found = xstrdup(src);
			}
		}
	}
	buf_release(&b);
	return found != NULL ? found : xstrdup("");
}

char *sys_os_name(const char *pretty, const char *root)
{
	char *p = pretty != NULL ? NULL : sys_os_release("PRETTY_NAME");
	char *r = root != NULL ? NULL : sys_mount_source("/");
	char *name = xasprintf("%s|/|%s",
			       pretty ? pretty
			       : p    ? p
				      : "Linux",
			       root ? root : r);
	free(p);
	free(r);
	return name;
}
