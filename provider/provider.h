/*
 * provider.h - what a class file of winrmd-wmi (one under provider/classes/)
 * sees: the request it answers, the instance writer, and small readers
 * of the host's files (sys.c).
 *
 * winrmd-wmi runs as the caller (started by the helper like a shell
 * command: PAM session, initgroups, setgid, setuid), so every read and
 * every method here is decided by Linux's own permissions: what the
 * caller cannot read is written as null, never an error, and a method
 * the kernel or systemd refuses returns Windows' "access denied" code.
 *
 * A class file defines `const struct provider_class provider_<Class>`
 * (the names come from lib/wmi/classes.h) with an enumerate function
 * and, if the class has methods, an invoke function.  Collectors write
 * values by property index: an enum made from the class's WMI_PROPS list
 * (PROVIDER_PROP_ENUM) gives each property a P_<Name> constant.
 */
#ifndef WINRMD_PROVIDER_H
#define WINRMD_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/util.h"
#include "lib/wmi/classes.h"
#include "lib/wmi/schema.h"
#include "lib/wmi/wire.h"

/* enum { P_Caption, P_CommandLine, ... } for one class */
#define PROVIDER_PROP_INDEX(n, t, f) P_##n,
#define PROVIDER_PROP_ENUM(cls)                                                \
	enum { WMI_PROPS_##cls(PROVIDER_PROP_INDEX) P__COUNT }

/* The instance writer of one INSTANCES reply (out.c). */
struct prov_out {
	const struct wmi_class *cls;
	const struct wmi_request *req;
	struct buf *b;
	size_t frame, count_pos, nvals_pos;
	uint32_t count;
	uint16_t nvals;
	bool in_instance;
	bool keys_only;
	const bool *wanted; /* cls->n_props flags, NULL = all */
};

/* Whether the request needs property prop (keys always): collectors skip
 * what is expensive and not wanted. */
bool out_wants(const struct prov_out *o, int prop);
void out_begin(struct prov_out *o);
void out_end(struct prov_out *o);
/* Values (ignored when the property is not wanted; a number out of its
 * type's range, or text that is not valid for the type, is written null
 * rather than breaking the reply). */
void out_str(struct prov_out *o, int prop, const char *s);
void out_strn(struct prov_out *o, int prop, const char *s, size_t len);
void out_uint(struct prov_out *o, int prop, uint64_t v);
void out_sint(struct prov_out *o, int prop, int64_t v);
void out_bool(struct prov_out *o, int prop, bool v);
/* sec.usec UTC, rendered at the host's local UTC offset of that time */
void out_time(struct prov_out *o, int prop, int64_t sec, long usec);
void out_str_array(struct prov_out *o, int prop, const char *const *v,
		   size_t n);

/* The value of a key hint (case-insensitive name), or NULL. */
const char *prov_hint(const struct wmi_request *req, const char *name);
/* The value of a method's input parameter: NULL when absent, and
 * *null_r set when given as nil. */
const char *prov_param(const struct wmi_request *req, const char *name,
		       bool *null_r);

/* A method's answer (the invoke functions fill it; main.c sends it). */
struct prov_result {
	uint32_t return_value;
	struct wmi_pair outs[8]; /* name borrowed, value owned (NULL = nil) */
	size_t n_outs;
	/* instead of a result: an error reply (enum wmi_error), message
	 * owned */
	uint32_t error;
	char *message;
};
void result_out(struct prov_result *r, const char *name, const char *value);
void result_outf(struct prov_result *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void result_error(struct prov_result *r, enum wmi_error e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct provider_class {
	/* Writes every instance (hints may narrow the work; the listener
	 * checks keys and filters again).  Returns 0, or an enum wmi_error
	 * with *message (owned) to answer instead. */
	int (*enumerate)(struct prov_out *o, char **message);
	/* A method; NULL when the class has none. */
	void (*invoke)(const struct wmi_request *req, struct prov_result *r);
};

/* ---- sys.c: the host's facts, read as the caller ---- */

/* Reads a whole small file (at most max bytes; a larger one is cut)
 * into out; -1 with errno when it cannot be opened or read. */
int sys_read_file(const char *path, size_t max, struct buf *out);
/* The first line of a file, without its newline (NULL when unreadable;
 * caller frees). */
char *sys_read_line(const char *path);
/* os-release's value of key (/etc/os-release, then /usr/lib/os-release);
 * NULL when absent (caller frees). */
char *sys_os_release(const char *key);
/* /proc/meminfo's value of key in kB; -1 when absent. */
int64_t sys_meminfo_kb(const char *key);
/* Several at once, one read: keys[i] -> kb[i] (-1 when absent). */
void sys_meminfo(const char *const *keys, int64_t *kb, size_t n);
/* The short host name (static storage). */
const char *sys_hostname(void);
/* The DNS domain of the host ("" when it has none; static storage). */
const char *sys_dns_domain(void);
/* Boot time (UTC seconds) from /proc/stat's btime; 0 when unknown. */
int64_t sys_boot_time(void);
/* clock ticks per second */
long sys_clk_tck(void);
/* The source device of the file system mounted at path ("" if none;
 * caller frees). */
char *sys_mount_source(const char *path);
/* OS Name: "PRETTY_NAME|/|root device" (caller frees); pretty and root
 * may be given when known (NULL: read). */
char *sys_os_name(const char *pretty, const char *root);

#endif
