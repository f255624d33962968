/*
 * win32_processor.c - Win32_Processor: one instance per physical
 * package (socket), as Windows counts them, from /proc/cpuinfo (vendor,
 * model name, family/model/stepping, cores, siblings, clock, flags),
 * the maximum clock from cpufreq (/sys/devices/system/cpu/cpuN/cpufreq),
 * cache sizes from /sys/devices/system/cpu/cpuN/cache, and the load from
 * /proc/stat: the busy share of the package's CPUs since the previous
 * request of this provider host (the first one samples 100 ms).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <time.h>

#include "provider/provider.h"

PROVIDER_PROP_ENUM(Win32_Processor);

#define MAX_CPUS 4096

struct cpu {
	int id;    /* "processor" */
	long pkg;  /* "physical id" (0 when absent) */
	long core; /* "core id" */
	char vendor[64];
	char model_name[128];
	long family, model, stepping;
	double mhz;
	long cores; /* "cpu cores" */
	bool lm, vmx, ept;
};

static char *value_of(char *line)
{
	char *c = strchr(line, ':');
	if (c == NULL)
		return NULL;
	c++;
	while (*c == ' ' || *c == '\t')
		c++;
	return c;
}

static bool key_is(const char *line, const char *key)
{
	size_t n = strlen(key);
	return strncmp(line, key, n) == 0 &&
	       (line[n] == ' ' || line[n] == '\t' || line[n] == ':');
}

static size_t read_cpus(struct cpu *cpus)
{
	struct buf b = BUF_INIT;
	size_t n = 0;
	if (sys_read_file("/proc/cpuinfo", 8u << 20, &b) != 0) {
		buf_release(&b);
		return 0;
	}
	struct cpu *c = NULL;
	char *save = NULL;
	for (char *line = strtok_r((char *)b.data, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *v = value_of(line);
		if (v == NULL)
			continue;
		if (key_is(line, "processor")) {
			if (n >= MAX_CPUS)
				break;
			c = &cpus[n++];
			memset(c, 0, sizeof(*c));
			c->id = atoi(v);
			c->core = c->id;
			continue;
		}
		if (c == NULL)
			continue;
		if (key_is(line, "vendor_id") ||
		    key_is(line, "CPU implementer"))
			snprintf(c->vendor, sizeof(c->vendor), "%s", v);
		else if (key_is(line, "model name"))
			snprintf(c->model_name, sizeof(c->model_name), "%s", v);
		else if (key_is(line, "cpu family"))
			c->family = atol(v);
		else if (key_is(line, "model"))
			c->model = atol(v);
		else if (key_is(line, "stepping"))
			c->stepping = atol(v);
		else if (key_is(line, "cpu MHz"))
			c->mhz = strtod(v, NULL);
		else if (key_is(line, "physical id"))
			c->pkg = atol(v);
		else if (key_is(line, "core id"))
			c->core = atol(v);
		else if (key_is(line, "cpu cores"))
			c->cores = atol(v);
		else if (key_is(line, "flags") || key_is(line, "Features")) {
			char *f = xasprintf(" %s ", v);
			c->lm = strstr(f, " lm ") != NULL ||
				strstr(f, " asimd ") != NULL;
			c->vmx = strstr(f, " vmx ") != NULL ||
				 strstr(f, " svm ") != NULL;
			c->ept = strstr(f, " ept ") != NULL ||
				 strstr(f, " npt ") != NULL;
			free(f);
		}
	}
	buf_release(&b);
	return n;
}

/* busy and total jiffies of each cpuN line of /proc/stat */
struct times {
	unsigned long long busy, total;
};

static void read_times(struct times *t, size_t max)
{
	memset(t, 0, max * sizeof(*t));
	struct buf b = BUF_INIT;
	if (sys_read_file("/proc/stat", 1u << 20, &b) != 0) {
		buf_release(&b);
		return;
	}
	char *save = NULL;
	for (char *line = strtok_r((char *)b.data, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned id;
		unsigned long long v[8] = { 0 };
		if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' ||
		    line[3] > '9')
			continue;
		if (sscanf(line + 3,
			   "%u %llu %llu %llu %llu %llu %llu %llu %llu", &id,
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7]) < 5 ||
		    id >= max)
			continue;
		unsigned long long idle = v[3] + v[4];
		unsigned long long total = 0;
		for (int i = 0; i < 8; i++)
			total += v[i];
		t[id].busy = total - idle;
		t[id].total = total;
	}
	buf_release(&b);
}

static struct times prev[MAX_CPUS];
static bool have_prev;

static long cache_kb(int cpu, int level)
{
	long total = -1;
	for (int i = 0; i < 8; i++) {
		char path[128];
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu%d/cache/index%d/level",
			 cpu, i);
		char *lv = sys_read_line(path);
		if (lv == NULL)
			break;
		int l = atoi(lv);
		free(lv);
		if (l != level)
			continue;
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu%d/cache/index%d/size",
			 cpu, i);
		char *sz = sys_read_line(path);
		if (sz != NULL) {
			long k = atol(sz);
			if (strchr(sz, 'M') != NULL)
				k *= 1024;
			total = k;
		}
		free(sz);
	}
	return total;
}

static uint16_t architecture(void)
{
	struct utsname u;
	if (uname(&u) != 0)
		return 0;
	if (strcmp(u.machine, "x86_64") == 0)
		return 9;
	if (strcmp(u.machine, "aarch64") == 0)
		return 12;
	if (strncmp(u.machine, "arm", 3) == 0)
		return 5;
	if (strncmp(u.machine, "ppc", 3) == 0)
		return 3;
	return 0; /* x86 */
}

static int enumerate(struct prov_out *o, char **message)
{
	(void)message;
	struct cpu *cpus = xcalloc(MAX_CPUS, sizeof(*cpus));
	size_t n = read_cpus(cpus);
	static struct times now[MAX_CPUS];
	if (out_wants(o, P_LoadPercentage)) {
		if (!have_prev) {
			read_times(prev, MAX_CPUS);
			struct timespec ts = { 0, 100 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		read_times(now, MAX_CPUS);
	}
	const char *hint = prov_hint(o->req, "DeviceID");
	uint16_t arch = architecture();
	/* packages in order of first appearance */
	long pkgs[256];
	size_t n_pkgs = 0;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t k = 0; k < n_pkgs; k++)
			seen = seen || pkgs[k] == cpus[i].pkg;
		if (!seen && n_pkgs < 256)
			pkgs[n_pkgs++] = cpus[i].pkg;
	}
	for (size_t k = 0; k < n_pkgs; k++) {
		char device[32];
		snprintf(device, sizeof(device), "CPU%zu", k);
		if (hint != NULL && strcasecmp(hint, device) != 0)
			continue;
		const struct cpu *first = NULL;
		unsigned logical = 0, cores = 0;
		long core_ids[MAX_CPUS > 1024 ? 1024 : MAX_CPUS];
		unsigned long long busy = 0, total = 0;
		for (size_t i = 0; i < n; i++) {
			const struct cpu *c = &cpus[i];
			if (c->pkg != pkgs[k])
				continue;
			if (first == NULL)
				first = c;
			logical++;
			bool dup = false;
			for (unsigned j = 0; j < cores; j++)
				dup = dup || core_ids[j] == c->core;
			if (!dup && cores < 1024)
				core_ids[cores++] = c->core;
			if (c->id >= 0 && c->id < MAX_CPUS) {
				busy += now[c->id].busy - prev[c->id].busy;
				total += now[c->id].total - prev[c->id].total;
			}
		}
		char *caption = NULL;
		if (strcmp(first->vendor, "GenuineIntel") == 0)
			caption = xasprintf("Intel64 Family %ld Model %ld "
					    "Stepping %ld",
					    first->family, first->model,
					    first->stepping);
		else if (strcmp(first->vendor, "AuthenticAMD") == 0)
			caption = xasprintf("AMD64 Family %ld Model %ld "
					    "Stepping %ld",
					    first->family, first->model,
					    first->stepping);
		else if (first->family > 0)
			caption = xasprintf("Family %ld Model %ld Stepping "
					    "%ld",
					    first->family, first->model,
					    first->stepping);
		char path[96];
		snprintf(
			path, sizeof(path),
			"/sys/devices/system/cpu/cpu%d/cpufreq/cpuinfo_max_freq",
			first->id);
		char *maxf = sys_read_line(path);
		long max_mhz = maxf ? atol(maxf) / 1000
				    : (long)(first->mhz + 0.5);
		free(maxf);

		out_begin(o);
		out_uint(o, P_AddressWidth, first->lm ? 64 : 32);
		out_uint(o, P_Architecture, arch);
		out_uint(o, P_Availability, 3); /* running, full power */
		out_str(o, P_Caption, caption);
		out_uint(o, P_CpuStatus, 1); /* enabled */
		out_str(o, P_CreationClassName, "Win32_Processor");
		if (first->mhz > 0)
			out_uint(o, P_CurrentClockSpeed,
				 (uint64_t)(first->mhz + 0.5));
		out_uint(o, P_DataWidth, first->lm ? 64 : 32);
		out_str(o, P_Description, caption);
		out_str(o, P_DeviceID, device);
		long l2 = cache_kb(first->id, 2), l3 = cache_kb(first->id, 3);
		if (l2 >= 0)
			out_uint(o, P_L2CacheSize, (uint64_t)l2);
		if (l3 >= 0)
			out_uint(o, P_L3CacheSize, (uint64_t)l3);
		if (first->family > 0)
			out_uint(o, P_Level, (uint64_t)first->family);
		if (total > 0)
			out_uint(o, P_LoadPercentage,
				 (uint64_t)((busy * 100 + total / 2) / total));
		out_str(o, P_Manufacturer,
			first->vendor[0] ? first->vendor : NULL);
		if (max_mhz > 0)
			out_uint(o, P_MaxClockSpeed, (uint64_t)max_mhz);
		out_str(o, P_Name,
			first->model_name[0] ? first->model_name : NULL);
		out_uint(o, P_NumberOfCores, cores);
		out_uint(o, P_NumberOfLogicalProcessors, logical);
		out_uint(o, P_ProcessorType, 3); /* central processor */
		if (first->family > 0)
			out_uint(o, P_Revision,
				 (uint64_t)((first->model & 0xff) << 8 |
					    (first->stepping & 0xff)));
		out_str(o, P_Role, "CPU");
		out_bool(o, P_SecondLevelAddressTranslationExtensions,
			 first->ept);
		out_str(o, P_Status, "OK");
		out_uint(o, P_StatusInfo, 3); /* enabled */
		out_str(o, P_SystemCreationClassName, "Win32_ComputerSystem");
		out_str(o, P_SystemName, sys_hostname());
		out_bool(o, P_VMMonitorModeExtensions, first->vmx);
		out_end(o);
		free(caption);
	}
	if (out_wants(o, P_LoadPercentage)) {
		memcpy(prev, now, sizeof(prev));
		have_prev = true;
	}
	free(cpus);
	return 0;
}

const struct provider_class provider_Win32_Processor = { enumerate, NULL };
