/*
 * win32_service.c - Win32_Service: the systemd services (units
 * *.service, templates left out), read from systemd over D-Bus (sd-bus)
 * as the caller: the loaded units (ListUnitsByPatterns) and the unit
 * files that are not loaded (ListUnitFilesByPatterns).  Name is the unit
 * name without ".service" (Win32_Service?Name=ssh); DisplayName, Caption
 * and Description the unit's Description; State from ActiveState
 * (active, reloading: Running; activating: Start Pending; deactivating:
 * Stop Pending; otherwise Stopped); Started; Status OK, or Error for a
 * failed unit; StartMode from the unit file state (enabled: Auto;
 * masked: Disabled; otherwise Manual); ProcessId the MainPID; PathName
 * the first ExecStart; StartName the service's User (root when none);
 * AcceptStop CanStop; AcceptPause CanFreeze when systemd can really
 * freeze the unit (cgroup v2 on /sys/fs/cgroup and the unit's cgroup has
 * cgroup.freeze: see has_freezer); ServiceSpecificExitCode
 * ExecMainStatus.
 *
 * Methods, as the caller (systemd and polkit decide; what they refuse
 * is ReturnValue 2, as Windows answers a non-administrator):
 *   StartService (StartUnit; 10 when already running, 14 when masked),
 *   StopService (StopUnit; 5 when not running), PauseService and
 *   ResumeService (FreezeUnit, ThawUnit; 6 when not running, 1 when
 *   systemd cannot), ChangeStartMode(StartMode: Automatic/Auto, Manual,
 *   Disabled; 21 for anything else: enable, disable or mask the unit
 *   file, then Reload).  8 for other failures; the D-Bus error is logged.
 *
 * When systemd cannot be reached, enumerating is an error that says so.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <systemd/sd-bus.h>

#include "provider/provider.h"

PROVIDER_PROP_ENUM(Win32_Service);

#define SD "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT "org.freedesktop.systemd1.Unit"
#define SD_SERVICE "org.freedesktop.systemd1.Service"
#define MAX_SERVICES 65536

struct svc {
	char *name;   /* without .service */
	char *desc;   /* NULL when not loaded */
	char *active; /* ActiveState, NULL when not loaded */
	char *path;   /* unit object path, NULL when not loaded */
	char *file_state;
};

static void svc_free(struct svc *s)
{
	free(s->name);
	free(s->desc);
	free(s->active);
	free(s->path);
	free(s->file_state);
}

/* "ssh.service" -> "ssh"; NULL for templates and other units. */
static char *service_name(const char *unit)
{
	size_t n = strlen(unit);
	if (n <= 8 || strcmp(unit + n - 8, ".service") != 0 ||
	    unit[n - 9] == '@')
		return NULL;
	return xstrndup(unit, n - 8);
}

static struct svc *find(struct svc *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

static int open_bus(sd_bus **bus, char **message)
{
	int rc = sd_bus_open_system(bus);
	if (rc < 0) {
		*message = xasprintf("systemd is not reachable over D-Bus: %s",
				     strerror(-rc));
		return -1;
	}
	return 0;
}

/* The loaded service units, then the unit files not loaded; pattern
 * "*.service" or one unit's name. */
static int list(sd_bus *bus, const char *pattern, struct svc **out,
		size_t *n_out, char **message)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	struct svc *v = NULL;
	size_t n = 0, cap = 0;
	int rc = sd_bus_call_method(bus, SD, SD_PATH, SD_MANAGER,
				    "ListUnitsByPatterns", &err, &reply, "asas",
				    0, 1, pattern);
	if (rc < 0) {
		*message = xasprintf("systemd: ListUnitsByPatterns: %s",
				     err.message ? err.message : strerror(-rc));
		sd_bus_error_free(&err);
		return -1;
	}
	rc = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
	while (rc >= 0 && n < MAX_SERVICES) {
		const char *unit, *desc, *load, *active, *sub, *following,
			*path, *jtype, *jpath;
		uint32_t jid;
		rc = sd_bus_message_read(reply, "(ssssssouso)", &unit, &desc,
					 &load, &active, &sub, &following,
					 &path, &jid, &jtype, &jpath);
		if (rc <= 0)
			break;
		char *name = service_name(unit);
		if (name == NULL || strcmp(load, "not-found") == 0) {
			free(name);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = (struct svc){ name, xstrdup(desc), xstrdup(active),
				       xstrdup(path), NULL };
	}
	sd_bus_message_unref(reply);
	reply = NULL;
	rc = sd_bus_call_method(bus, SD, SD_PATH, SD_MANAGER,
				"ListUnitFilesByPatterns", &err, &reply, "asas",
				0, 1, pattern);
	if (rc >= 0)
		rc = sd_bus_message_enter_container(reply, 'a', "(ss)");
	while (rc >= 0 && n < MAX_SERVICES) {
		const char *file, *state;
		rc = sd_bus_message_read(reply, "(ss)", &file, &state);
		if (rc <= 0)
			break;
		const char *base = strrchr(file, '/');
		char *name = service_name(base ? base + 1 : file);
		if (name == NULL)
			continue;
		struct svc *s = find(v, n, name);
		if (s != NULL) {
			free(s->file_state);
			s->file_state = xstrdup(state);
			free(name);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = (struct svc){ name, NULL, NULL, NULL, xstrdup(state) };
	}
	sd_bus_error_free(&err);
	sd_bus_message_unref(reply);
	*out = v;
	*n_out = n;
	return 0;
}

static const char *state_of(const char *active)
{
	if (active == NULL)
		return "Stopped";
	if (strcmp(active, "active") == 0 || strcmp(active, "reloading") == 0)
		return "Running";
	if (strcmp(active, "activating") == 0)
		return "Start Pending";
	if (strcmp(active, "deactivating") == 0)
		return "Stop Pending";
	return "Stopped";
}

static const char *start_mode(const char *file_state)
{
	if (file_state == NULL)
		return "Manual";
	if (strncmp(file_state, "enabled", 7) == 0 ||
	    strcmp(file_state, "alias") == 0)
		return "Auto";
	if (strncmp(file_state, "masked", 6) == 0)
		return "Disabled";
	return "Manual";
}

/* The first ExecStart as "path arg...", or NULL. */
static char *exec_start(sd_bus *bus, const char *path)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	char *out = NULL;
	if (sd_bus_get_property(bus, SD, path, SD_SERVICE, "ExecStart", &err,
				&reply, "a(sasbttttuii)") < 0)
		goto done;
	if (sd_bus_message_enter_container(reply, 'a', "(sasbttttuii)") <= 0 ||
	    sd_bus_message_enter_container(reply, 'r', "sasbttttuii") <= 0)
		goto done;
	const char *prog;
	char **argv = NULL;
	if (sd_bus_message_read(reply, "s", &prog) <= 0 ||
	    sd_bus_message_read_strv(reply, &argv) < 0)
		goto done;
	struct buf b = BUF_INIT;
	if (argv != NULL && argv[0] != NULL) {
		buf_append_str(&b, prog);
		for (size_t i = 1; argv[i] != NULL; i++) {
			buf_append_byte(&b, ' ');
			buf_append_str(&b, argv[i]);
		}
	} else {
		buf_append_str(&b, prog);
	}
	out = buf_steal(&b);
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
done:
	sd_bus_error_free(&err);
	sd_bus_message_unref(reply);
	return out;
}

/* Whether FreezeUnit can work for the unit, beyond its CanFreeze (which
 * systemd answers true on hosts where freezing then fails with
 * NotSupported): the unified cgroup hierarchy (cgroup v2) mounted on
 * /sys/fs/cgroup, as systemd requires, and the unit's cgroup
 * (ControlGroup, "" when it has none: not running) with a cgroup.freeze
 * file (the kernel's v2 freezer). */
static bool has_freezer(sd_bus *bus, const char *path, sd_bus_error *err)
{
	struct statfs fs;
	if (statfs("/sys/fs/cgroup", &fs) != 0 ||
	    fs.f_type != CGROUP2_SUPER_MAGIC)
		return false;
	char *cg = NULL;
	bool ok = false;
	if (sd_bus_get_property_string(bus, SD, path, SD_SERVICE,
				       "ControlGroup", err, &cg) >= 0 &&
	    cg != NULL && cg[0] == '/' && strstr(cg, "/..") == NULL) {
		char *file = xasprintf("/sys/fs/cgroup%s/cgroup.freeze",
				       strcmp(cg, "/") == 0 ? "" : cg);
		ok = access(file, F_OK) == 0;
		free(file);
	}
	free(cg);
	sd_bus_error_free(err);
	return ok;
}

static void write_service(struct prov_out *o, sd_bus *bus, const struct svc *s)
{
	const char *state = state_of(s->active);
	out_begin(o);
	out_str(o, P_Caption, s->desc);
	out_uint(o, P_CheckPoint, 0);
	out_str(o, P_CreationClassName, "Win32_Service");
	out_str(o, P_Description, s->desc);
	out_bool(o, P_DesktopInteract, false);
	out_str(o, P_DisplayName, s->desc ? s->desc : s->name);
	out_str(o, P_ErrorControl, "Normal");
	out_uint(o, P_ExitCode, 0);
	out_str(o, P_Name, s->name);
	out_str(o, P_ServiceType, "Own Process");
	out_bool(o, P_Started, strcmp(state, "Running") == 0);
	out_str(o, P_StartMode, start_mode(s->file_state));
	out_str(o, P_State, state);
	out_str(o, P_Status,
		s->active && strcmp(s->active, "failed") == 0 ? "Error" : "OK");
	out_str(o, P_SystemCreationClassName, "Win32_ComputerSystem");
	out_str(o, P_SystemName, sys_hostname());
	out_uint(o, P_TagId, 0);
	out_uint(o, P_WaitHint, 0);
	if (s->path != NULL && !o->keys_only) {
		sd_bus_error err = SD_BUS_ERROR_NULL;
		uint32_t pid = 0;
		int32_t status = 0;
		int can_stop = 0, can_freeze = 0;
		if (sd_bus_get_property_trivial(bus, SD, s->path, SD_SERVICE,
						"MainPID", &err, 'u',
						&pid) >= 0)
			out_uint(o, P_ProcessId, pid);
		sd_bus_error_free(&err);
		if (sd_bus_get_property_trivial(bus, SD, s->path, SD_SERVICE,
						"ExecMainStatus", &err, 'i',
						&status) >= 0 &&
		    status >= 0)
			out_uint(o, P_ServiceSpecificExitCode,
				 (uint64_t)status);
		sd_bus_error_free(&err);
		if (sd_bus_get_property_trivial(bus, SD, s->path, SD_UNIT,
						"CanStop", &err, 'b',
						&can_stop) >= 0)
			out_bool(o, P_AcceptStop, can_stop != 0);
		sd_bus_error_free(&err);
		if (sd_bus_get_property_trivial(bus, SD, s->path, SD_UNIT,
						"CanFreeze", &err, 'b',
						&can_freeze) >= 0)
			out_bool(o, P_AcceptPause,
				 can_freeze != 0 &&
					 has_freezer(bus, s->path, &err));
		sd_bus_error_free(&err);
		if (out_wants(o, P_StartName)) {
			char *user = NULL;
			if (sd_bus_get_property_string(bus, SD, s->path,
						       SD_SERVICE, "User", &err,
						       &user) >= 0)
				out_str(o, P_StartName,
					user && user[0] ? user : "root");
			free(user);
			sd_bus_error_free(&err);
		}
		if (out_wants(o, P_PathName)) {
			char *p = exec_start(bus, s->path);
			out_str(o, P_PathName, p);
			free(p);
		}
	} else {
		out_bool(o, P_AcceptPause, false);
		out_bool(o, P_AcceptStop, false);
		out_uint(o, P_ProcessId, 0);
	}
	out_end(o);
}

static int enumerate(struct prov_out *o, char **message)
{
	sd_bus *bus = NULL;
	if (open_bus(&bus, message) != 0)
		return WMI_E_FAILED;
	const char *hint = prov_hint(o->req, "Name");
	char *pattern = hint != NULL ? xasprintf("%s.service", hint)
				     : xstrdup("*.service");
	struct svc *v = NULL;
	size_t n = 0;
	int rc = list(bus, pattern, &v, &n, message);
	free(pattern);
	if (rc == 0)
		for (size_t i = 0; i < n; i++)
			write_service(o, bus, &v[i]);
	for (size_t i = 0; i < n; i++)
		svc_free(&v[i]);
	free(v);
	sd_bus_flush_close_unref(bus);
	return rc == 0 ? 0 : WMI_E_FAILED;
}

/* ReturnValue of a refused or failed call (the error is logged). */
static uint32_t failure(const char *what, const sd_bus_error *err, int rc)
{
	fprintf(stderr, "winrmd-wmi: Win32_Service: %s: %s\n", what,
		err->message ? err->message : strerror(-rc));
	if (sd_bus_error_has_name(err, SD_BUS_ERROR_ACCESS_DENIED) ||
	    sd_bus_error_has_name(
		    err, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
		return 2;
	/* an older systemd without the method; or, for FreezeUnit, a unit
	 * systemd cannot freeze (no cgroup v2 freezer): "Unit 'x' does not
	 * support freezing." */
	if (sd_bus_error_has_name(err, SD_BUS_ERROR_UNKNOWN_METHOD) ||
	    sd_bus_error_has_name(err, SD_BUS_ERROR_NOT_SUPPORTED))
		return 1;
	if (sd_bus_error_has_name(err, "org.freedesktop.systemd1.UnitMasked"))
		return 14;
	return 8;
}

static uint32_t unit_files(sd_bus *bus, const char *method, const char *unit)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	int rc;
	if (strcmp(method, "DisableUnitFiles") == 0 ||
	    strcmp(method, "UnmaskUnitFiles") == 0)
		rc = sd_bus_call_method(bus, SD, SD_PATH, SD_MANAGER, method,
					&err, NULL, "asb", 1, unit, 0);
	else
		rc = sd_bus_call_method(bus, SD, SD_PATH, SD_MANAGER, method,
					&err, NULL, "asbb", 1, unit, 0, 1);
	uint32_t rv = rc < 0 ? failure(method, &err, rc) : 0;
	sd_bus_error_free(&err);
	return rv;
}

static uint32_t change_start_mode(sd_bus *bus, const char *unit,
				  const char *mode)
{
	uint32_t rv;
	if (mode == NULL)
		return 21;
	if (strcasecmp(mode, "Automatic") == 0 ||
	    strcasecmp(mode, "Auto") == 0) {
		rv = unit_files(bus, "UnmaskUnitFiles", unit);
		if (rv == 0)
			rv = unit_files(bus, "EnableUnitFiles", unit);
	} else if (strcasecmp(mode, "Manual") == 0) {
		rv = unit_files(bus, "UnmaskUnitFiles", unit);
		if (rv == 0)
			rv = unit_files(bus, "DisableUnitFiles", unit);
	} else if (strcasecmp(mode, "Disabled") == 0) {
		rv = unit_files(bus, "MaskUnitFiles", unit);
	} else {
		return 21;
	}
	if (rv == 0) {
		sd_bus_error err = SD_BUS_ERROR_NULL;
		int rc = sd_bus_call_method(bus, SD, SD_PATH, SD_MANAGER,
					    "Reload", &err, NULL, "");
		if (rc < 0)
			rv = failure("Reload", &err, rc);
		sd_bus_error_free(&err);
	}
	return rv;
}

static void invoke(const struct wmi_request *req, struct prov_result *r)
{
	const char *name = prov_hint(req, "Name");
	sd_bus *bus = NULL;
	char *message = NULL;
	if (open_bus(&bus, &message) != 0) {
		result_error(r, WMI_E_FAILED, "%s", message);
		free(message);
		return;
	}
	struct svc *v = NULL;
	size_t n = 0;
	char *unit = xasprintf("%s.service", name ? name : "");
	if (list(bus, unit, &v, &n, &message) != 0) {
		result_error(r, WMI_E_FAILED, "%s", message);
	} else if (n == 0 || name == NULL) {
		result_error(r, WMI_E_NOT_FOUND, "no service %s",
			     name ? name : "");
	} else {
		const char *state = state_of(v[0].active);
		bool running = strcmp(state, "Running") == 0;
		const char *m = req->method;
		const char *call = NULL;
		sd_bus_error err = SD_BUS_ERROR_NULL;
		int rc = 0;
		if (strcmp(m, "StartService") == 0) {
			if (running)
				r->return_value = 10;
			else if (strcmp(start_mode(v[0].file_state),
					"Disabled") == 0)
				r->return_value = 14;
			else
				call = "StartUnit";
		} else if (strcmp(m, "StopService") == 0) {
			if (!running)
				r->return_value = 5;
			else
				call = "StopUnit";
		} else if (strcmp(m, "PauseService") == 0 ||
			   strcmp(m, "ResumeService") == 0) {
			if (!running) {
				r->return_value = 6;
			} else {
				bool pause = m[0] == 'P';
				rc = sd_bus_call_method(bus, SD, SD_PATH,
							SD_MANAGER,
							pause ? "FreezeUnit"
							      : "ThawUnit",
							&err, NULL, "s", unit);
				r->return_value = rc < 0 ? failure(m, &err, rc)
							 : 0;
			}
		} else if (strcmp(m, "ChangeStartMode") == 0) {
			bool null;
			r->return_value = change_start_mode(
				bus, unit, prov_param(req, "StartMode", &null));
		} else {
			result_error(r, WMI_E_NOT_SUPPORTED, "no method %s", m);
		}
		if (call != NULL) {
			rc = sd_bus_call_method(bus, SD, SD_PATH, SD_MANAGER,
						call, &err, NULL, "ss", unit,
						"replace");
			r->return_value = rc < 0 ? failure(call, &err, rc) : 0;
		}
		sd_bus_error_free(&err);
	}
	free(message);
	free(unit);
	for (size_t i = 0; i < n; i++)
		svc_free(&v[i]);
	free(v);
	sd_bus_flush_close_unref(bus);
}

const struct provider_class provider_Win32_Service = { enumerate, invoke };
