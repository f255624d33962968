/*
 * win32_networkadapterconfiguration.c - Win32_NetworkAdapterConfiguration:
 * one instance per network interface but the loopback
 * (/sys/class/net), keyed by its interface index (Index, also
 * InterfaceIndex).  Addresses from getifaddrs(3): IPAddress lists the
 * IPv4 then the IPv6 addresses, IPSubnet their masks (dotted for IPv4,
 * the prefix length for IPv6), as Windows does; DefaultIPGateway and
 * GatewayCostMetric from the default routes of /proc/net/route and
 * /proc/net/ipv6_route; DNSServerSearchOrder, DNSDomainSuffixSearchOrder
 * and DNSDomain from /etc/resolv.conf (for every IP-enabled interface);
 * MACAddress and MTU from /sys/class/net/<if>; ServiceName, the driver;
 * DHCPEnabled when a DHCP client keeps a lease for the interface
 * (systemd-networkd's /run/systemd/netif/leases/<index>, dhclient's
 * /var/lib/dhcp/dhclient*.<if>.leases), with DHCPServer from networkd's
 * lease.  IPEnabled: the interface is up and has an address.  Null
 * arrays (no address, no gateway) are left out, as Windows leaves them.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <glob.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "provider/provider.h"

PROVIDER_PROP_ENUM(Win32_NetworkAdapterConfiguration);

#define MAX_ITEMS 64

/* A list of strings (owned). */
struct strs {
	char *v[MAX_ITEMS];
	size_t n;
};

static void strs_add(struct strs *s, char *v)
{
	if (s->n < MAX_ITEMS)
		s->v[s->n++] = v;
	else
		free(v);
}

static void strs_free(struct strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

static void resolv_conf(struct strs *servers, struct strs *search,
			char **domain)
{
	struct buf b = BUF_INIT;
	*domain = NULL;
	if (sys_read_file("/etc/resolv.conf", 65536, &b) != 0) {
		buf_release(&b);
		return;
	}
	char *save = NULL;
	for (char *line = strtok_r((char *)b.data, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *s2 = NULL;
		char *key = strtok_r(line, " \t", &s2);
		if (key == NULL || key[0] == '#' || key[0] == ';')
			continue;
		if (strcmp(key, "nameserver") == 0) {
			char *v = strtok_r(NULL, " \t", &s2);
			if (v != NULL)
				strs_add(servers, xstrdup(v));
		} else if (strcmp(key, "search") == 0) {
			strs_free(search);
			for (char *v = strtok_r(NULL, " \t", &s2); v != NULL;
			     v = strtok_r(NULL, " \t", &s2))
				strs_add(search, xstrdup(v));
		} else if (strcmp(key, "domain") == 0) {
			char *v = strtok_r(NULL, " \t", &s2);
			if (v != NULL) {
				free(*domain);
				*domain = xstrdup(v);
			}
		}
	}
	if (*domain == NULL && search->n > 0)
		*domain = xstrdup(search->v[0]);
	buf_release(&b);
}

/* The default gateways of interface name, with their metrics. */
static void gateways(const char *name, struct strs *gw, struct strs *metric)
{
	struct buf b = BUF_INIT;
	if (sys_read_file("/proc/net/route", 1u << 20, &b) == 0) {
		char *save = NULL;
		for (char *line = strtok_r((char *)b.data, "\n", &save);
		     line != NULL; line = strtok_r(NULL, "\n", &save)) {
			char ifn[IF_NAMESIZE + 1];
			unsigned dest, gate, flags, refcnt, use, met, mask;
			if (sscanf(line, "%16s %x %x %x %u %u %u %x", ifn,
				   &dest, &gate, &flags, &refcnt, &use, &met,
				   &mask) != 8 ||
			    strcmp(ifn, name) != 0 || dest != 0 || mask != 0 ||
			    gate == 0)
				continue;
			char text[INET_ADDRSTRLEN];
			struct in_addr a = { .s_addr = gate };
			inet_ntop(AF_INET, &a, text, sizeof(text));
			strs_add(gw, xstrdup(text));
			strs_add(metric,
				 xasprintf("%u", met > 65535 ? 65535 : met));
		}
	}
	buf_reset(&b);
	if (sys_read_file("/proc/net/ipv6_route", 1u << 20, &b) == 0) {
		char *save = NULL;
		for (char *line = strtok_r((char *)b.data, "\n", &save);
		     line != NULL; line = strtok_r(NULL, "\n", &save)) {
			char dest[33], src[33], next[33], ifn[IF_NAMESIZE + 1];
			unsigned dlen, slen, met, refcnt, use, flags;
			if (sscanf(line,
				   "%32s %x %32s %x %32s %x %x %x %x %16s",
				   dest, &dlen, src, &slen, next, &met, &refcnt,
				   &use, &flags, ifn) != 10 ||
			    strcmp(ifn, name) != 0 || dlen != 0 ||
			    strspn(next, "0") == 32)
				continue;
			struct in6_addr a;
			for (int i = 0; i < 16; i++) {
				unsigned byte;
				sscanf(next + 2 * i, "%2x", &byte);
				a.s6_addr[i] = (uint8_t)byte;
			}
			char text[INET6_ADDRSTRLEN];
			inet_ntop(AF_INET6, &a, text, sizeof(text));
			strs_add(gw, xstrdup(text));
			strs_add(metric,
				 xasprintf("%u", met > 65535 ? 65535 : met));
		}
	}
	buf_release(&b);
}

/* Whether a DHCP client keeps a lease for the interface; its server. */
static bool dhcp_lease(const char *name, unsigned index, char **server)
{
	*server = NULL;
	char path[320];
	snprintf(path, sizeof(path), "/run/systemd/netif/leases/%u", index);
	struct buf b = BUF_INIT;
	if (sys_read_file(path, 65536, &b) == 0) {
		const char *p = strstr((const char *)b.data,
				       "\nSERVER_ADDRESS=");
		if (p != NULL) {
			p += strlen("\nSERVER_ADDRESS=");
			*server = xstrndup(p, strcspn(p, "\n"));
		}
		buf_release(&b);
		return true;
	}
	buf_release(&b);
	char *pattern = xasprintf("/var/lib/dhcp/dhclient*%s.lease*", name);
	glob_t g;
	bool found = glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc > 0;
	if (found)
		globfree(&g);
	free(pattern);
	return found;
}

static void write_interface(struct prov_out *o, const char *name,
			    unsigned index, const struct ifaddrs *all,
			    const struct strs *dns, const struct strs *search,
			    const char *domain)
{
	char path[320];
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", name);
	char *mac = sys_read_line(path);
	snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", name);
	char *mtu = sys_read_line(path);
	snprintf(path, sizeof(path), "/sys/class/net/%s/device/driver", name);
	char driver[256];
	ssize_t dn = readlink(path, driver, sizeof(driver) - 1);
	const char *service = NULL;
	if (dn > 0) {
		driver[dn] = '\0';
		const char *slash = strrchr(driver, '/');
		service = slash ? slash + 1 : driver;
	}
	struct strs v4 = { 0 }, v6 = { 0 }, m4 = { 0 }, m6 = { 0 };
	bool up = false;
	for (const struct ifaddrs *a = all; a != NULL; a = a->ifa_next) {
		if (strcmp(a->ifa_name, name) != 0)
			continue;
		up = up || (a->ifa_flags & IFF_UP);
		if (a->ifa_addr == NULL)
			continue;
		char text[INET6_ADDRSTRLEN];
		if (a->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *s = (const void *)a->ifa_addr;
			inet_ntop(AF_INET, &s->sin_addr, text, sizeof(text));
			strs_add(&v4, xstrdup(text));
			const struct sockaddr_in *m = (const void *)
							      a->ifa_netmask;
			if (m != NULL) {
				inet_ntop(AF_INET, &m->sin_addr, text,
					  sizeof(text));
				strs_add(&m4, xstrdup(text));
			} else {
				strs_add(&m4, xstrdup("255.255.255.255"));
			}
		} else if (a->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *s = (const void *)
							       a->ifa_addr;
			inet_ntop(AF_INET6, &s->sin6_addr, text, sizeof(text));
			strs_add(&v6, xstrdup(text));
			const struct sockaddr_in6 *m = (const void *)
							       a->ifa_netmask;
			unsigned bits = 0;
			for (int i = 0; m != NULL && i < 16; i++)
				bits += (unsigned)__builtin_popcount(
					m->sin6_addr.s6_addr[i]);
			strs_add(&m6, xasprintf("%u", bits));
		}
	}
	/* IPv4 first, then IPv6, as Windows lists them */
	const char *addr[2 * MAX_ITEMS], *mask[2 * MAX_ITEMS];
	size_t n = 0;
	for (size_t i = 0; i < v4.n; i++, n++) {
		addr[n] = v4.v[i];
		mask[n] = m4.v[i];
	}
	for (size_t i = 0; i < v6.n; i++, n++) {
		addr[n] = v6.v[i];
		mask[n] = m6.v[i];
	}
	bool enabled = up && n > 0;
	struct strs gw = { 0 }, metric = { 0 };
	gateways(name, &gw, &metric);
	char *server = NULL;
	bool dhcp = dhcp_lease(name, index, &server);
	char *caption = xasprintf("[%08u] %s", index, name);
	for (char *p = mac; p != NULL && *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');

	out_begin(o);
	out_str(o, P_Caption, caption);
	out_str(o, P_DatabasePath, "/etc");
	if (enabled) {
		out_str_array(o, P_DefaultIPGateway, (const char *const *)gw.v,
			      gw.n);
		out_str(o, P_DNSDomain, domain);
		out_str_array(o, P_DNSDomainSuffixSearchOrder,
			      (const char *const *)search->v, search->n);
		out_str(o, P_DNSHostName, sys_hostname());
		out_str_array(o, P_DNSServerSearchOrder,
			      (const char *const *)dns->v, dns->n);
		out_str_array(o, P_GatewayCostMetric,
			      (const char *const *)metric.v, metric.n);
		out_str_array(o, P_IPAddress, addr, n);
		out_str_array(o, P_IPSubnet, mask, n);
	}
	out_str(o, P_Description, name);
	out_bool(o, P_DHCPEnabled, dhcp);
	if (dhcp)
		out_str(o, P_DHCPServer, server);
	out_uint(o, P_Index, index);
	out_uint(o, P_InterfaceIndex, index);
	out_bool(o, P_IPEnabled, enabled);
	if (mac != NULL && strcmp(mac, "00:00:00:00:00:00") != 0)
		out_str(o, P_MACAddress, mac);
	out_str(o, P_MTU, mtu);
	out_str(o, P_ServiceName, service);
	out_str(o, P_SettingID, name);
	out_end(o);

	free(caption);
	free(server);
	free(mac);
	free(mtu);
	strs_free(&v4);
	strs_free(&v6);
	strs_free(&m4);
	strs_free(&m6);
	strs_free(&gw);
	strs_free(&metric);
}

static int enumerate(struct prov_out *o, char **message)
{
	struct ifaddrs *all = NULL;
	if (getifaddrs(&all) != 0)
		all = NULL;
	struct strs dns = { 0 }, search = { 0 };
	char *domain = NULL;
	resolv_conf(&dns, &search, &domain);
	const char *hint = prov_hint(o->req, "Index");
	DIR *d = opendir("/sys/class/net");
	if (d == NULL) {
		freeifaddrs(all);
		strs_free(&dns);
		strs_free(&search);
		free(domain);
		*message = xstrdup("cannot list /sys/class/net");
		return WMI_E_FAILED;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		unsigned index = if_nametoindex(e->d_name);
		if (index == 0)
			continue;
		char path[320];
		snprintf(path, sizeof(path), "/sys/class/net/%s/flags",
			 e->d_name);
		char *flags = sys_read_line(path);
		bool loopback = flags != NULL &&
				(strtoul(flags, NULL, 0) & IFF_LOOPBACK);
		free(flags);
		if (loopback)
			continue;
		char idx[16];
		snprintf(idx, sizeof(idx), "%u", index);
		if (hint != NULL && strcmp(hint, idx) != 0)
			continue;
		write_interface(o, e->d_name, index, all, &dns, &search,
				domain);
	}
	closedir(d);
	if (all != NULL)
		freeifaddrs(all);
	strs_free(&dns);
	strs_free(&search);
	free(domain);
	return 0;
}

const struct provider_class provider_Win32_NetworkAdapterConfiguration = {
	enumerate, NULL
};
