/*
 * win32_operatingsystem.c - Win32_OperatingSystem (singleton): the
 * distribution (os-release), the kernel (uname), memory and swap
 * (/proc/meminfo), processes (/proc), logged-in users (utmp), the boot
 * time (/proc/stat btime), the clock, the machine id; and the methods
 * Reboot and Shutdown through systemd-logind over D-Bus (sd-bus), which
 * with polkit decides whether this account may.  The listener lets only
 * administrators call them.
 *
 * ReturnValue (Win32 error codes, as Windows' OS methods return them):
 * 0 accepted, 5 refused by logind/polkit (ERROR_ACCESS_DENIED), 1062
 * systemd/logind not reachable (ERROR_SERVICE_NOT_ACTIVE), 1115 another
 * shutdown is in progress (ERROR_SHUTDOWN_IN_PROGRESS), 8 other
 * failures.  The D-Bus error text goes to standard error (the daemon's
 * log).
 */
#include "autoconfig.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <utmpx.h>

#include <langinfo.h>
#include <systemd/sd-bus.h>

#include "lib/wmi/value.h"
#include "provider/provider.h"

PROVIDER_PROP_ENUM(Win32_OperatingSystem);

static uint32_t count_processes(void)
{
	DIR *d = opendir("/proc");
	uint32_t n = 0;
	if (d == NULL)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
			n++;
	closedir(d);
	return n;
}

/* Distinct accounts with a login session in utmp (Windows counts user
 * sessions; a user on two terminals is one user here). */
static uint32_t count_users(void)
{
	struct utmpx *u;
	char seen[64][sizeof(u->ut_user) + 1];
	uint32_t n = 0;
	setutxent();
	while ((u = getutxent()) != NULL) {
		if (u->ut_type != USER_PROCESS || u->ut_user[0] == '\0')
			continue;
		char name[sizeof(u->ut_user) + 1];
		memcpy(name, u->ut_user, sizeof(u->ut_user));
		name[sizeof(u->ut_user)] = '\0';
		bool dup = false;
		for (uint32_t i = 0; i < n && i < 64; i++)
			dup = dup || strcmp(seen[i], name) == 0;
		if (dup)
			continue;
		if (n < 64)
			memcpy(seen[n], name, sizeof(name));
		n++;
	}
	endutxent();
	return n;
}

static const char *architecture(const char *machine)
{
	if (strcmp(machine, "x86_64") == 0 || strcmp(machine, "ppc64le") == 0 ||
	    strcmp(machine, "s390x") == 0 || strcmp(machine, "riscv64") == 0)
		return "64-bit";
	if (strcmp(machine, "aarch64") == 0)
		return "ARM 64-bit Processor";
	if (strncmp(machine, "arm", 3) == 0)
		return "ARM Processor";
	return "32-bit";
}

static int enumerate(struct prov_out *o, char **message)
{
	(void)message;
	struct utsname u;
	if (uname(&u) != 0)
		memset(&u, 0, sizeof(u));
	char *pretty = sys_os_release("PRETTY_NAME");
	char *version_id = sys_os_release("VERSION_ID");
	char *root = sys_mount_source("/");
	char *boot = sys_mount_source("/boot");
	char *name = sys_os_name(pretty, root);
	char *machine_id = sys_read_line("/etc/machine-id");
	if (machine_id == NULL)
		machine_id = sys_read_line("/var/lib/dbus/machine-id");
	static const char *const keys[] = { "MemTotal", "MemAvailable",
					    "SwapTotal", "SwapFree",
					    "MemFree" };
	int64_t kb[5];
	sys_meminfo(keys, kb, 5);
	int64_t mem_total = kb[0], mem_avail = kb[1] >= 0 ? kb[1] : kb[4];
	int64_t swap_total = kb[2], swap_free = kb[3];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);

	out_begin(o);
	out_str(o, P_BootDevice, boot[0] != '\0' ? boot : root);
	out_str(o, P_BuildNumber, version_id);
	out_str(o, P_BuildType, u.version[0] ? u.version : NULL);
	out_str(o, P_Caption, pretty ? pretty : "Linux");
	if (strcmp(nl_langinfo(CODESET), "UTF-8") == 0)
		out_str(o, P_CodeSet, "65001");
	out_str(o, P_CreationClassName, "Win32_OperatingSystem");
	out_str(o, P_CSCreationClassName, "Win32_ComputerSystem");
	out_str(o, P_CSName, sys_hostname());
	out_sint(o, P_CurrentTimeZone, wmi_local_offset_minutes(now.tv_sec));
	out_bool(o, P_Debug, false);
	out_bool(o, P_Distributed, false);
	if (mem_avail >= 0)
		out_uint(o, P_FreePhysicalMemory, (uint64_t)mem_avail);
	if (swap_free >= 0)
		out_uint(o, P_FreeSpaceInPagingFiles, (uint64_t)swap_free);
	if (mem_avail >= 0 && swap_free >= 0)
		out_uint(o, P_FreeVirtualMemory,
			 (uint64_t)(mem_avail + swap_free));
	int64_t btime = sys_boot_time();
	if (btime > 0)
		out_time(o, P_LastBootUpTime, btime, 0);
	/* milliseconds, as Windows renders LocalDateTime */
	out_time(o, P_LocalDateTime, now.tv_sec, now.tv_nsec / 1000000 * 1000);
	char *pid_max = sys_read_line("/proc/sys/kernel/pid_max");
	if (pid_max != NULL)
		out_str(o, P_MaxNumberOfProcesses, pid_max);
	free(pid_max);
	if (strcmp(architecture(u.machine), "32-bit") != 0 &&
	    strcmp(architecture(u.machine), "ARM Processor") != 0)
		out_uint(o, P_MaxProcessMemorySize, 137438953472ull);
	out_str(o, P_Name, name);
	out_uint(o, P_NumberOfProcesses, count_processes());
	out_uint(o, P_NumberOfUsers, count_users());
	out_str(o, P_OSArchitecture, architecture(u.machine));
	out_uint(o, P_OSType, 36); /* CIM_OperatingSystem: LINUX */
	out_bool(o, P_PortableOperatingSystem, false);
	out_bool(o, P_Primary, true);
	out_uint(o, P_ProductType, 3); /* server */
	out_str(o, P_SerialNumber, machine_id);
	out_uint(o, P_ServicePackMajorVersion, 0);
	out_uint(o, P_ServicePackMinorVersion, 0);
	if (swap_total >= 0)
		out_uint(o, P_SizeStoredInPagingFiles, (uint64_t)swap_total);
	out_str(o, P_Status, "OK");
	out_str(o, P_SystemDevice, root);
	out_str(o, P_SystemDrive, "/");
	if (mem_total >= 0 && swap_total >= 0)
		out_uint(o, P_TotalVirtualMemorySize,
			 (uint64_t)(mem_total + swap_total));
	if (mem_total >= 0)
		out_uint(o, P_TotalVisibleMemorySize, (uint64_t)mem_total);
	out_str(o, P_Version, u.release[0] ? u.release : NULL);
	out_end(o);

	free(pretty);
	free(version_id);
	free(root);
	free(boot);
	free(name);
	free(machine_id);
	return 0;
}

/* Asks logind to reboot or power off, without interaction. */
static uint32_t logind(const char *method)
{
	sd_bus *bus = NULL;
	int rc = sd_bus_open_system(&bus);
	if (rc < 0) {
		fprintf(stderr,
			"winrmd-wmi: Win32_OperatingSystem.%s: cannot reach "
			"the system bus: %s\n",
			method, strerror(-rc));
		return 1062;
	}
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	rc = sd_bus_call_method(bus, "org.freedesktop.login1",
				"/org/freedesktop/login1",
				"org.freedesktop.login1.Manager", method, &err,
				&reply, "b", 0);
	uint32_t rv = 0;
	if (rc < 0) {
		fprintf(stderr,
			"winrmd-wmi: Win32_OperatingSystem: logind %s: %s\n",
			method, err.message ? err.message : strerror(-rc));
		if (sd_bus_error_has_name(&err, SD_BUS_ERROR_ACCESS_DENIED) ||
		    sd_bus_error_has_name(
			    &err,
			    SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
			rv = 5;
		else if (sd_bus_error_has_name(&err,
					       SD_BUS_ERROR_SERVICE_UNKNOWN) ||
			 sd_bus_error_has_name(&err, SD_BUS_ERROR_NO_REPLY) ||
			 sd_bus_error_has_name(&err,
					       SD_BUS_ERROR_NAME_HAS_NO_OWNER))
			rv = 1062;
		else if (sd_bus_error_has_name(
				 &err,
				 "org.freedesktop.login1.OperationInProgress"))
			rv = 1115;
		else
			rv = 8;
	}
	sd_bus_error_free(&err);
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
	return rv;
}

static void invoke(const struct wmi_request *req, struct prov_result *r)
{
	if (strcmp(req->method, "Reboot") == 0)
		r->return_value = logind("Reboot");
	else if (strcmp(req->method, "Shutdown") == 0)
		r->return_value = logind("PowerOff");
	else
		result_error(r, WMI_E_NOT_SUPPORTED, "no method %s",
			     req->method);
}

const struct provider_class provider_Win32_OperatingSystem = { enumerate,
							       invoke };
