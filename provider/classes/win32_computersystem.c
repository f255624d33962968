/*
 * win32_computersystem.c - Win32_ComputerSystem: the host name
 * (gethostname) and its DNS domain (as hostname -f finds it), whether the
 * host is joined to a Kerberos realm (a DNS domain and a host keytab,
 * /etc/krb5.keytab), the hardware vendor and model (DMI,
 * /sys/class/dmi/id), processors (/proc/cpuinfo physical ids, online
 * CPUs), memory (/proc/meminfo), the time zone.
 *
 * Name, Caption and DNSHostName are the short host name, as on Windows;
 * Domain is the DNS domain, or WORKGROUP when the host has none.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "lib/wmi/value.h"
#include "provider/provider.h"

PROVIDER_PROP_ENUM(Win32_ComputerSystem);

/* Distinct "physical id" values in /proc/cpuinfo (1 when none). */
static unsigned count_packages(bool *hypervisor)
{
	struct buf b = BUF_INIT;
	unsigned n = 0;
	long seen[256];
	*hypervisor = false;
	if (sys_read_file("/proc/cpuinfo", 8u << 20, &b) == 0) {
		const char *p = (const char *)b.data;
		while (p != NULL && *p) {
			if (strncmp(p, "physical id", 11) == 0) {
				const char *c = strchr(p, ':');
				long id = c ? strtol(c + 1, NULL, 10) : 0;
				bool dup = false;
				for (unsigned i = 0; i < n; i++)
					dup = dup || seen[i] == id;
				if (!dup && n < 256)
					seen[n++] = id;
			} else if (strncmp(p, "flags", 5) == 0) {
				const char *end = strchr(p, '\n');
				size_t len = end ? (size_t)(end - p)
						 : strlen(p);
				if (memmem(p, len, " hypervisor", 11) != NULL)
					*hypervisor = true;
			}
			p = strchr(p, '\n');
			if (p != NULL)
				p++;
		}
	}
	buf_release(&b);
	return n > 0 ? n : 1;
}

static const char *system_type(void)
{
	static struct utsname u;
	if (uname(&u) != 0)
		return NULL;
	if (strcmp(u.machine, "x86_64") == 0)
		return "x64-based PC";
	if (strcmp(u.machine, "aarch64") == 0)
		return "ARM64-based PC";
	if (u.machine[0] == 'i' && strcmp(u.machine + 2, "86") == 0)
		return "X86-based PC";
	return u.machine;
}

static int enumerate(struct prov_out *o, char **message)
{
	(void)message;
	const char *host = sys_hostname();
	const char *hint = prov_hint(o->req, "Name");
	if (hint != NULL && strcasecmp(hint, host) != 0)
		return 0; /* not this computer */
	const char *domain = sys_dns_domain();
	bool joined = domain[0] != '\0' &&
		      access("/etc/krb5.keytab", F_OK) == 0;
	bool hypervisor = false;
	unsigned packages = count_packages(&hypervisor);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int64_t mem = sys_meminfo_kb("MemTotal");
	char *vendor = sys_read_line("/sys/class/dmi/id/sys_vendor");
	char *model = sys_read_line("/sys/class/dmi/id/product_name");
	time_t now = time(NULL);
	struct tm tm;
	bool dst = localtime_r(&now, &tm) != NULL && tm.tm_isdst > 0;

	out_begin(o);
	out_str(o, P_BootupState, "Normal boot");
	out_str(o, P_Caption, host);
	out_str(o, P_CreationClassName, "Win32_ComputerSystem");
	out_sint(o, P_CurrentTimeZone, wmi_local_offset_minutes(now));
	out_bool(o, P_DaylightInEffect, dst);
	out_str(o, P_DNSHostName, host);
	out_str(o, P_Domain, domain[0] != '\0' ? domain : "WORKGROUP");
	/* 2 standalone server, 3 member server */
	out_uint(o, P_DomainRole, joined ? 3 : 2);
	out_bool(o, P_HypervisorPresent, hypervisor);
	out_str(o, P_Manufacturer, vendor);
	out_str(o, P_Model, model);
	out_str(o, P_Name, host);
	if (cpus > 0)
		out_uint(o, P_NumberOfLogicalProcessors, (uint64_t)cpus);
	out_uint(o, P_NumberOfProcessors, packages);
	out_bool(o, P_PartOfDomain, joined);
	out_uint(o, P_PowerState, 0);
	out_str(o, P_Status, "OK");
	out_str(o, P_SystemType, system_type());
	if (mem >= 0)
		out_uint(o, P_TotalPhysicalMemory, (uint64_t)mem * 1024);
	if (!joined)
		out_str(o, P_Workgroup, "WORKGROUP");
	out_end(o);
	free(vendor);
	free(model);
	return 0;
}

const struct provider_class provider_Win32_ComputerSystem = { enumerate, NULL };
