/*
 * units.c - commands as transient systemd units (see units.h), over
 * libsystemd's sd-bus.
 *
 * A command's life on the bus:
 *   1. a match on the unit's PropertiesChanged, then StartTransientUnit
 *      (mode "fail") with the command's properties and its pipes as file
 *      descriptors (type h: the message holds duplicates, which go when
 *      sd-bus has sent it);
 *   2. JobRemoved for the unit (Subscribe()d at start): "done" means
 *      systemd forked the main process (Type=simple: Type=exec would be
 *      better, but systemd 252's (sd-pam) keeps the exec-notification pipe
 *      open and the start never completes); then GetAll of the Service
 *      interface gives MainPID, or the exit status if it already ended;
 *   3. PropertiesChanged with ActiveState inactive or failed: GetAll again
 *      for ExecMainCode and ExecMainStatus, the wait status of the main
 *      process;
 *   4. Unref (the unit was started with AddRef, so that it stays loaded
 *      until its status is read); CollectMode=inactive-or-failed then lets
 *      systemd forget it.
 *
 * Ownership: struct unit is this module's (units.h says until when the
 * caller may use it).  The bus and the loop's watch of its fd are
 * this module's.
 *
 * Must not: block the loop outside units_init and units_shutdown, call
 * sd_bus_process from a bus callback, or start units outside
 * UNITS_PATTERNS.
 */
#include "autoconfig.h"

#include "helper/units.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "helper/loop.h"
#include "lib/log.h"
#include "lib/util.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT "org.freedesktop.systemd1.Unit"
#define SD_SERVICE "org.freedesktop.systemd1.Service"
#define SD_UNIT_PATH "/org/freedesktop/systemd1/unit"

/* How long units_init and units_shutdown wait for units to stop. */
#define STOP_WAIT_MS 10000

struct unit {
	char *name;
	char *path; /* its D-Bus object */
	struct unit_callbacks cb;
	void *arg;
	bool job_done; /* the start job ended "done" */
	bool reported; /* the started callback ran */
	bool end_seen; /* inactive or failed, after the start */
	bool fetching; /* the final GetAll is on its way */
	pid_t main_pid;
	sd_bus_slot *match; /* its PropertiesChanged */
	sd_bus_slot *call;  /* the call of ours in flight */
	struct unit *next;
};

static sd_bus *bus;
static int bus_fd = -1;
static struct timer *bus_timer;
static sd_bus_slot *job_match;
static struct unit *units;

bool units_enabled(void)
{
	return bus != NULL;
}

/* ---- the bus in the helper's loop ---- */

static void bus_process(void);

static void on_bus_fd(void *arg, int fd)
{
	(void)arg;
	(void)fd;
	bus_process();
}

static void on_bus_timer(void *arg)
{
	(void)arg;
	bus_timer = NULL; /* the loop frees it */
	bus_process();
}

/* The poll events and the timeout sd-bus wants now; after every call
 * that may have queued something. */
static void bus_rearm(void)
{
	if (bus == NULL)
		return;
	int ev = sd_bus_get_events(bus);
	if (ev >= 0)
		helper_watch_set_events(bus_fd, (short)ev);
	if (bus_timer != NULL) {
		helper_timer_cancel(bus_timer);
		bus_timer = NULL;
	}
	uint64_t usec = UINT64_MAX;
	if (sd_bus_get_timeout(bus, &usec) >= 0 && usec != UINT64_MAX)
		bus_timer = helper_timer_at((int64_t)(usec / 1000) + 1,
					    on_bus_timer, NULL);
}

static void unit_free(struct unit *u)
{
	for (struct unit **pp = &units; *pp != NULL; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	sd_bus_slot_unref(u->match);
	sd_bus_slot_unref(u->call);
	free(u->name);
	free(u->path);
	free(u);
}

/* The connection is gone (systemd's bus restarted): the commands still
 * run, but their ends cannot be learnt; they are reported now, and a
 * later helper stops what is left. */
static void bus_lost(int r)
{
	log_err("lost the system bus (%s): %s", strerror(-r),
		units != NULL ? "the running commands' ends will not be known"
			      : "no command was running");
	while (units != NULL) {
		struct unit *u = units;
		units = u->next;
		u->next = NULL;
		if (!u->reported)
			u->cb.started(u->arg, EIO, "the system bus was lost",
				      0);
		else
			u->cb.ended(u->arg, -1);
		sd_bus_slot_unref(u->match);
		sd_bus_slot_unref(u->call);
		free(u->name);
		free(u->path);
		free(u);
	}
	if (bus_timer != NULL) {
		helper_timer_cancel(bus_timer);
		bus_timer = NULL;
	}
	helper_unwatch_fd(bus_fd);
	bus_fd = -1;
	job_match = sd_bus_slot_unref(job_match);
	bus = sd_bus_flush_close_unref(bus);
}

static void bus_process(void)
{
	if (bus == NULL)
		return;
	for (;;) {
		int r = sd_bus_process(bus, NULL);
		if (r < 0) {
			bus_lost(r);
			return;
		}
		if (r == 0)
			break;
	}
	bus_rearm();
}

/* ---- replies ---- */

/* Logs a failed call that nobody waits for (userdata: what it was, a
 * string this callback frees). */
static int log_reply(sd_bus_message *m, void *userdata, sd_bus_error *unused)
{
	(void)unused;
	char *what = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	if (e != NULL && !sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY))
		log_warn("systemd: %s: %s", what,
			 e->message ? e->message : e->name);
	free(what);
	return 0;
}

/* A call whose answer only matters when it fails; what names it in the
 * log ("StopUnit winrmd-shell-..."). */
static void call_logged(const char *method, const char *path, const char *iface,
			const char *what, const char *types, ...)
{
	sd_bus_message *m = NULL;
	char *label = xstrdup(what);
	int r = sd_bus_message_new_method_call(bus, &m, SD_DEST, path, iface,
					       method);
	if (r >= 0) {
		va_list ap;
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
	}
	if (r >= 0)
		r = sd_bus_call_async(bus, NULL, m, log_reply, label, 0);
	sd_bus_message_unref(m);
	if (r < 0) {
		log_warn("systemd: %s: %s", label, strerror(-r));
		free(label);
	}
	bus_rearm();
}

static void unit_unref_later(struct unit *u)
{
	char *what = xasprintf("Unref %s", u->name);
	call_logged("Unref", u->path, SD_UNIT, what, "");
	free(what);
}

/* The wait status of a main process from ExecMainCode/ExecMainStatus. */
static int wait_status(int32_t code, int32_t status)
{
	switch (code) {
	case 1: return (status & 0xff) << 8;   /* CLD_EXITED */
	case 2: return status & 0x7f;          /* CLD_KILLED */
	case 3: return (status & 0x7f) | 0x80; /* CLD_DUMPED */
	default: return -1;
	}
}

struct exec_main {
	uint32_t main_pid, exec_main_pid;
	int32_t code, status;
};

/* Reads MainPID, ExecMainPID, ExecMainCode, ExecMainStatus from a GetAll
 * answer of the Service interface. */
static int read_exec_main(sd_bus_message *m, struct exec_main *out)
{
	memset(out, 0, sizeof(*out));
	int r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key;
		r = sd_bus_message_read(m, "s", &key);
		if (r < 0)
			return r;
		if (strcmp(key, "MainPID") == 0)
			r = sd_bus_message_read(m, "v", "u", &out->main_pid);
		else if (strcmp(key, "ExecMainPID") == 0)
			r = sd_bus_message_read(m, "v", "u",
						&out->exec_main_pid);
		else if (strcmp(key, "ExecMainCode") == 0)
			r = sd_bus_message_read(m, "v", "i", &out->code);
		else if (strcmp(key, "ExecMainStatus") == 0)
			r = sd_bus_message_read(m, "v", "i", &out->status);
		else
			r = sd_bus_message_skip(m, "v");
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/* The command ended: its status to the caller, the unit to systemd. */
static void unit_finish(struct unit *u, int status)
{
	u->cb.ended(u->arg, status);
	unit_unref_later(u);
	unit_free(u);
}

/* The start failed (the unit may exist: it is let go). */
static void unit_fail(struct unit *u, int error, const char *why, bool exists)
{
	u->reported = true;
	u->cb.started(u->arg, error, why, 0);
	if (exists)
		unit_unref_later(u);
	unit_free(u);
}

static int call_getall(struct unit *u, sd_bus_message_handler_t cb)
{
	sd_bus_slot_unref(u->call);
	u->call = NULL;
	int r = sd_bus_call_method_async(bus, &u->call, SD_DEST, u->path,
					 "org.freedesktop.DBus.Properties",
					 "GetAll", cb, u, "s", SD_SERVICE);
	bus_rearm();
	return r;
}

static int on_final_props(sd_bus_message *m, void *userdata,
			  sd_bus_error *unused)
{
	(void)unused;
	struct unit *u = userdata;
	u->call = sd_bus_slot_unref(u->call);
	struct exec_main em;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	if (e != NULL || read_exec_main(m, &em) < 0) {
		log_warn("systemd: no exit status of %s: %s", u->name,
			 e != NULL && e->message ? e->message : "unreadable");
		unit_finish(u, -1);
		return 0;
	}
	unit_finish(u, wait_status(em.code, em.status));
	return 0;
}

static void fetch_end(struct unit *u)
{
	if (u->fetching)
		return;
	u->fetching = true;
	int r = call_getall(u, on_final_props);
	if (r < 0) {
		log_warn("systemd: GetAll %s: %s", u->name, strerror(-r));
		unit_finish(u, -1);
	}
}

static int on_started_props(sd_bus_message *m, void *userdata,
			    sd_bus_error *unused)
{
	(void)unused;
	struct unit *u = userdata;
	u->call = sd_bus_slot_unref(u->call);
	struct exec_main em;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	if (e != NULL || read_exec_main(m, &em) < 0) {
		char *why = xasprintf("systemd: %s",
				      e != NULL && e->message
					      ? e->message
					      : "unreadable unit properties");
		unit_fail(u, EIO, why, true);
		free(why);
		return 0;
	}
	u->main_pid = (pid_t)em.main_pid;
	u->reported = true;
	u->cb.started(u->arg, 0, "",
		      (pid_t)(em.main_pid ? em.main_pid : em.exec_main_pid));
	if (em.main_pid == 0 && em.code != 0) {
		/* Already over (the signal may have come before the job's
		 * end): this answer has the status. */
		unit_finish(u, wait_status(em.code, em.status));
		return 0;
	}
	if (u->end_seen)
		fetch_end(u);
	return 0;
}

static struct unit *find_unit(const char *name)
{
	for (struct unit *u = units; u != NULL; u = u->next)
		if (strcmp(u->name, name) == 0)
			return u;
	return NULL;
}

/* JobRemoved(u id, o job, s unit, s result), for every job: ours are
 * known by the unit's name. */
static int on_job_removed(sd_bus_message *m, void *userdata,
			  sd_bus_error *unused)
{
	(void)userdata;
	(void)unused;
	uint32_t id;
	const char *job, *name, *result;
	if (sd_bus_message_read(m, "uoss", &id, &job, &name, &result) < 0)
		return 0;
	struct unit *u = find_unit(name);
	if (u == NULL || u->job_done || u->reported)
		return 0;
	if (strcmp(result, "done") != 0) {
		char *why = xasprintf("systemd could not start the command "
				      "(job %s)",
				      result);
		unit_fail(u, EIO, why, true);
		free(why);
		return 0;
	}
	u->job_done = true;
	int r = call_getall(u, on_started_props);
	if (r < 0) {
		char *why = xasprintf("systemd: GetAll: %s", strerror(-r));
		unit_fail(u, EIO, why, true);
		free(why);
	}
	return 0;
}

/* PropertiesChanged(s interface, a{sv} changed, as invalidated) of one of
 * our units. */
static int on_props_changed(sd_bus_message *m, void *userdata,
			    sd_bus_error *unused)
{
	(void)unused;
	struct unit *u = userdata;
	const char *iface;
	if (sd_bus_message_read(m, "s", &iface) < 0 ||
	    strcmp(iface, SD_UNIT) != 0)
		return 0;
	if (sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
		return 0;
	const char *state = NULL;
	while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
		const char *key;
		if (sd_bus_message_read(m, "s", &key) < 0)
			return 0;
		int r = strcmp(key, "ActiveState") == 0
				? sd_bus_message_read(m, "v", "s", &state)
				: sd_bus_message_skip(m, "v");
		if (r < 0 || sd_bus_message_exit_container(m) < 0)
			return 0;
	}
	if (state == NULL || !u->job_done ||
	    (strcmp(state, "inactive") != 0 && strcmp(state, "failed") != 0))
		return 0;
	u->end_seen = true;
	if (u->reported)
		fetch_end(u);
	return 0;
}

static int on_start_reply(sd_bus_message *m, void *userdata,
			  sd_bus_error *unused)
{
	(void)unused;
	struct unit *u = userdata;
	u->call = sd_bus_slot_unref(u->call);
	const sd_bus_error *e = sd_bus_message_get_error(m);
	if (e != NULL) {
		char *why = xasprintf("systemd: %s",
				      e->message ? e->message : e->name);
		log_warn("StartTransientUnit %s: %s", u->name, why);
		int err = sd_bus_error_get_errno(e);
		unit_fail(u, err > 0 ? err : EIO, why, false);
		free(why);
	}
	/* else: a job; its JobRemoved tells the rest */
	return 0;
}

/* ---- one command ---- */

#define APPEND(...)                                                            \
	do {                                                                   \
		if (r >= 0)                                                    \
			r = sd_bus_message_append(m, __VA_ARGS__);             \
	} while (0)

/* The argv of ExecStart, every "$" doubled: systemd substitutes
 * $NAME and ${NAME} in a command line with the unit's environment before
 * it execs (systemd.service(5), "Command lines"), which would change the
 * user's command ("${X:-default}", "$HOME" as systemd sees it) before the
 * login shell sees it; "$$" is a literal "$" to systemd, in every version
 * (ExecStartEx's "no-env-expand" needs 243). */
static int append_argv(sd_bus_message *m, const char *const *argv)
{
	int r = sd_bus_message_open_container(m, 'a', "s");
	for (size_t i = 0; argv[i] != NULL && r >= 0; i++) {
		struct buf b = BUF_INIT;
		for (const char *p = argv[i]; *p != '\0'; p++) {
			if (*p == '$')
				buf_append_byte(&b, '$');
			buf_append_byte(&b, (uint8_t)*p);
		}
		char *arg = buf_steal(&b);
		r = sd_bus_message_append(m, "s", arg);
		free(arg);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

static int append_properties(sd_bus_message *m, const struct unit_exec *x)
{
	int r = sd_bus_message_open_container(m, 'a', "(sv)");
	char user[32];
	snprintf(user, sizeof(user), "%u", (unsigned)x->uid);
	/* WorkingDirectory: "-~" is the home, and "/" when it is missing
	 * (the fork path does the same, as login(1)). */
	const char *cwd = x->cwd[0] != '\0' ? x->cwd : "-~";
	APPEND("(sv)", "Description", "s", x->description);
	APPEND("(sv)", "Slice", "s", x->slice);
	APPEND("(sv)", "User", "s", user);
	APPEND("(sv)", "PAMName", "s", x->pam_service);
	APPEND("(sv)", "WorkingDirectory", "s", cwd);
	APPEND("(sv)", "Type", "s", "simple");
	APPEND("(sv)", "CollectMode", "s", "inactive-or-failed");
	APPEND("(sv)", "AddRef", "b", 1);
	/* As the fork path: SIGPIPE kills a writer to a closed pipe. */
	APPEND("(sv)", "IgnoreSIGPIPE", "b", 0);
	APPEND("(sv)", "TimeoutStopUSec", "t",
	       (uint64_t)UNITS_STOP_TIMEOUT_S * 1000000);
	APPEND("(sv)", "StandardInputFileDescriptor", "h", x->fds[0]);
	APPEND("(sv)", "StandardOutputFileDescriptor", "h", x->fds[1]);
	APPEND("(sv)", "StandardErrorFileDescriptor", "h", x->fds[2]);
	if (x->memory_max > 0)
		APPEND("(sv)", "MemoryMax", "t", x->memory_max);
	if (x->runtime_max_us > 0)
		APPEND("(sv)", "RuntimeMaxUSec", "t", x->runtime_max_us);
	/* Environment: as */
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'r', "sv");
	APPEND("s", "Environment");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "as");
	if (r >= 0)
		r = sd_bus_message_append_strv(m, (char **)x->env);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	/* ExecStart: a(sasb), path, argv, ignore failure */
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'r', "sv");
	APPEND("s", "ExecStart");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "a(sasb)");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sasb)");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'r', "sasb");
	APPEND("s", x->path);
	if (r >= 0)
		r = append_argv(m, x->argv);
	APPEND("b", 0);
	for (int i = 0; i < 4 && r >= 0; i++)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_close_container(m); /* a(sv) */
	return r;
}

struct unit *unit_start(const struct unit_exec *x,
			const struct unit_callbacks *cb, void *arg,
			char **why_r)
{
	if (bus == NULL) {
		*why_r = xstrdup("the system bus is not connected");
		return NULL;
	}
	struct unit *u = xcalloc(1, sizeof(*u));
	u->name = xstrdup(x->name);
	u->cb = *cb;
	u->arg = arg;
	sd_bus_message *m = NULL;
	int r = sd_bus_path_encode(SD_UNIT_PATH, x->name, &u->path);
	if (r >= 0)
		r = sd_bus_match_signal_async(bus, &u->match, SD_DEST, u->path,
					      "org.freedesktop.DBus.Properties",
					      "PropertiesChanged",
					      on_props_changed, NULL, u);
	if (r >= 0)
		r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH,
						   SD_MANAGER,
						   "StartTransientUnit");
	APPEND("ss", x->name, "fail");
	if (r >= 0)
		r = append_properties(m, x);
	APPEND("a(sa(sv))", 0);
	if (r >= 0)
		r = sd_bus_call_async(bus, &u->call, m, on_start_reply, u, 0);
	/* Until sent, the message holds duplicates of the command's pipe
	 * ends; sd-bus drops them once it wrote it. */
	sd_bus_message_unref(m);
	if (r < 0) {
		*why_r = xasprintf("cannot ask systemd to start %s: %s",
				   x->name, strerror(-r));
		sd_bus_slot_unref(u->match);
		free(u->name);
		free(u->path);
		free(u);
		bus_rearm();
		return NULL;
	}
	u->next = units;
	units = u;
	bus_rearm();
	return u;
}

/* ---- signals ---- */

struct kill_req {
	pid_t pgid;
	int sig;
};

/* GetUnitProcesses: a(sus) cgroup, pid, command line. */
static int on_procs(sd_bus_message *m, void *userdata, sd_bus_error *unused)
{
	(void)unused;
	struct kill_req *k = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	if (e != NULL) {
		log_debug("systemd: GetUnitProcesses: %s",
			  e->message ? e->message : e->name);
		free(k);
		return 0;
	}
	if (sd_bus_message_enter_container(m, 'a', "(sus)") < 0) {
		free(k);
		return 0;
	}
	const char *cg, *cmdline;
	uint32_t pid;
	int sent = 0;
	while (sd_bus_message_read(m, "(sus)", &cg, &pid, &cmdline) > 0) {
		/* (sd-pam) holds the PAM session: SIGINT would kill it
		 * before it closed the session.  Its command line is
		 * "(sd-pam)", cut to "(sd-pa" where systemd could not
		 * enlarge its argv area, and quoted by systemd here. */
		const char *cl = cmdline + (cmdline[0] == '"');
		if (strncmp(cl, "(sd-pa", 6) == 0)
			continue;
		if (pid > 1 && getpgid((pid_t)pid) == k->pgid &&
		    kill((pid_t)pid, k->sig) == 0)
			sent++;
	}
	log_debug("signal %d sent to %d processes of group %d", k->sig, sent,
		  (int)k->pgid);
	free(k);
	return 0;
}

void unit_signal(struct unit *u, int sig)
{
	if (bus == NULL)
		return;
	char *what = xasprintf("%s %s",
			       sig == SIGTERM ? "StopUnit" : "KillUnit",
			       u->name);
	if (sig == SIGTERM) {
		call_logged("StopUnit", SD_PATH, SD_MANAGER, what, "ss",
			    u->name, "replace");
	} else if (sig == SIGKILL) {
		call_logged("KillUnit", SD_PATH, SD_MANAGER, what, "ssi",
			    u->name, "all", (int32_t)SIGKILL);
	} else if (u->main_pid > 0) {
		/* systemd made the main process a session and process group
		 * leader (setsid); (sd-pam) shares its group. */
		struct kill_req *k = xmalloc(sizeof(*k));
		k->pgid = u->main_pid;
		k->sig = sig;
		int r = sd_bus_call_method_async(bus, NULL, SD_DEST, SD_PATH,
						 SD_MANAGER, "GetUnitProcesses",
						 on_procs, k, "s", u->name);
		if (r < 0) {
			log_warn("systemd: GetUnitProcesses %s: %s", u->name,
				 strerror(-r));
			free(k);
		}
		bus_rearm();
	}
	free(what);
}

/* ---- slices ---- */

/* SetUnitProperties at runtime (a drop-in of ours); NULL, 0: not set. */
static void set_properties(const char *name, const char *description,
			   uint64_t tasks_max)
{
	sd_bus_message *m = NULL;
	char *what = xasprintf("SetUnitProperties %s", name);
	int r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH,
					       SD_MANAGER, "SetUnitProperties");
	APPEND("sb", name, 1);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (description != NULL)
		APPEND("(sv)", "Description", "s", description);
	if (tasks_max > 0)
		APPEND("(sv)", "TasksMax", "t", tasks_max);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_call_async(bus, NULL, m, log_reply, what, 0);
	sd_bus_message_unref(m);
	if (r < 0) {
		log_warn("systemd: %s: %s", what, strerror(-r));
		free(what);
	}
	bus_rearm();
}

void units_slice_create(const char *name, const char *description,
			uint64_t memory_max, uint64_t tasks_max)
{
	if (bus == NULL)
		return;
	sd_bus_message *m = NULL;
	char *what = xasprintf("StartTransientUnit %s", name);
	int r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH,
					       SD_MANAGER,
					       "StartTransientUnit");
	APPEND("ss", name, "fail");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sv)");
	APPEND("(sv)", "Description", "s", description);
	/* Referenced by this connection: an empty slice would otherwise be
	 * forgotten, and its limits with it, between two commands. */
	APPEND("(sv)", "AddRef", "b", 1);
	if (memory_max > 0)
		APPEND("(sv)", "MemoryMax", "t", memory_max);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	APPEND("a(sa(sv))", 0);
	if (r >= 0)
		r = sd_bus_call_async(bus, NULL, m, log_reply, what, 0);
	sd_bus_message_unref(m);
	if (r < 0) {
		log_warn("systemd: %s: %s", what, strerror(-r));
		free(what);
	}
	/* Description and TasksMax again, as runtime drop-ins: Debian's
	 * user-.slice.d/10-defaults.conf (Description, TasksMax=33%) applies
	 * to every slice named user-*, over a transient unit's own settings;
	 * only a drop-in of ours comes after it. */
	set_properties(name, description, tasks_max);
}

void units_slice_set_tasks(const char *name, uint64_t tasks_max)
{
	if (bus != NULL)
		set_properties(name, NULL, tasks_max);
}

void units_slice_end(const char *name)
{
	if (bus == NULL)
		return;
	char *what = xasprintf("StopUnit %s", name);
	call_logged("StopUnit", SD_PATH, SD_MANAGER, what, "ss", name,
		    "replace");
	free(what);
	char *path = NULL;
	if (sd_bus_path_encode(SD_UNIT_PATH, name, &path) >= 0) {
		what = xasprintf("Unref %s", name);
		call_logged("Unref", path, SD_UNIT, what, "");
		free(what);
		free(path);
	}
}

/* ---- start and stop ---- */

/* The names of our units in one of the states (NULL: any). */
static char **list_ours(const char *const *states)
{
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_error err = SD_BUS_ERROR_NULL;
	const char *patterns[] = UNITS_PATTERNS;
	char **names = xcalloc(1, sizeof(*names));
	size_t n = 0;
	int r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH,
					       SD_MANAGER,
					       "ListUnitsByPatterns");
	if (r >= 0)
		r = sd_bus_message_append_strv(m, (char **)states);
	if (r >= 0)
		r = sd_bus_message_append_strv(m, (char **)patterns);
	if (r >= 0)
		r = sd_bus_call(bus, m, 0, &err, &reply);
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
	while (r >= 0) {
		const char *name;
		r = sd_bus_message_read(reply, "(ssssssouso)", &name, NULL,
					NULL, NULL, NULL, NULL, NULL, NULL,
					NULL, NULL);
		if (r <= 0)
			break;
		names = xrealloc(names, (n + 2) * sizeof(*names));
		names[n++] = xstrdup(name);
		names[n] = NULL;
	}
	if (r < 0)
		log_warn("systemd: ListUnitsByPatterns: %s",
			 err.message ? err.message : strerror(-r));
	sd_bus_error_free(&err);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	return names;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Stops what an earlier helper left running (killed before it could). */
static void stop_leftovers(void)
{
	static const char *const none[] = { NULL };
	static const char *const running[] = { "active", "activating",
					       "deactivating", "reloading",
					       NULL };
	char **left = list_ours(none);
	size_t n = 0;
	for (; left[n] != NULL; n++) {
		sd_bus_error err = SD_BUS_ERROR_NULL;
		int r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER,
					   "StopUnit", &err, NULL, "ss",
					   left[n], "replace");
		if (r < 0)
			log_warn("systemd: StopUnit %s: %s", left[n],
				 err.message ? err.message : strerror(-r));
		sd_bus_error_free(&err);
	}
	if (n > 0)
		log_warn("stopping %zu unit%s left by an earlier winrmd-priv "
			 "(%s%s)",
			 n, n == 1 ? "" : "s", left[0], n > 1 ? "..." : "");
	strv_free(left);
	int64_t deadline = time_mono_ms() + STOP_WAIT_MS;
	while (n > 0 && time_mono_ms() < deadline) {
		char **still = list_ours(running);
		bool empty = still[0] == NULL;
		strv_free(still);
		if (empty)
			break;
		usleep(100000);
	}
}

void units_init(void)
{
	if (sd_booted() <= 0) {
		log_debug("systemd is not PID 1: commands are children of "
			  "winrmd-priv");
		return;
	}
	sd_bus_error err = SD_BUS_ERROR_NULL;
	int r = sd_bus_open_system(&bus);
	if (r >= 0)
		r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER,
				       "Subscribe", &err, NULL, "");
	if (r >= 0)
		r = sd_bus_match_signal(bus, &job_match, SD_DEST, SD_PATH,
					SD_MANAGER, "JobRemoved",
					on_job_removed, NULL);
	if (r < 0) {
		log_warn("systemd is PID 1 but its bus does not answer (%s): "
			 "commands run as children of winrmd-priv, inside "
			 "winrmd.service's sandbox",
			 err.message ? err.message : strerror(-r));
		sd_bus_error_free(&err);
		job_match = sd_bus_slot_unref(job_match);
		bus = sd_bus_flush_close_unref(bus);
		return;
	}
	stop_leftovers();
	bus_fd = sd_bus_get_fd(bus);
	if (helper_watch_fd(bus_fd, on_bus_fd, NULL) != 0)
		fatal("cannot watch the system bus");
	bus_rearm();
	log_info("commands run as transient systemd units in the users' "
		 "slices");
}

void units_shutdown(void)
{
	if (bus == NULL)
		return;
	for (struct unit *u = units; u != NULL; u = u->next)
		unit_signal(u, SIGTERM); /* cancels a start still queued */
	int64_t deadline = time_mono_ms() + STOP_WAIT_MS;
	while (units != NULL && bus != NULL) {
		int64_t left = deadline - time_mono_ms();
		if (left <= 0)
			break;
		int r = sd_bus_wait(bus, (uint64_t)left * 1000);
		if (r < 0 && r != -EINTR) {
			bus_lost(r);
			break;
		}
		bus_process();
	}
	if (bus == NULL)
		return;
	if (units != NULL)
		log_warn("commands still running after %d s: left to systemd",
			 STOP_WAIT_MS / 1000);
	while (units != NULL) {
		struct unit *u = units;
		if (!u->reported)
			u->cb.started(u->arg, EIO, "winrmd-priv is stopping",
				      0);
		else
			u->cb.ended(u->arg, -1);
		unit_free(u);
	}
	sd_bus_flush(bus);
	if (bus_timer != NULL) {
		helper_timer_cancel(bus_timer);
		bus_timer = NULL;
	}
	helper_unwatch_fd(bus_fd);
	bus_fd = -1;
	job_match = sd_bus_slot_unref(job_match);
	bus = sd_bus_flush_close_unref(bus);
}
