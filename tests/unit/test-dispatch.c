/*
 * test-dispatch.c - the routing table (listener/dispatch.c): every
 * resource and action it serves finds its entry, resource URIs compare
 * without case, unknown resources and unknown actions get the faults
 * Windows sends, only Identify is anonymous, and winrm/config with its
 * parts and the certificate mappings are for administrators; every URI
 * below .../wsman/1/wmi/ reaches the WMI resource (Get, Enumerate, Pull,
 * Release, and any other action as a method), and the shell resource
 * itself answers Enumerate.
 */
#include "autoconfig.h"

#include <string.h>

#include "lib/wmi/schema.h"
#include "lib/wsman/ns.h"
#include "listener/dispatch.h"
#include "tests/lib/tap.h"

static const struct dispatch_entry *find(const char *action, const char *uri,
					 bool identify, enum fault_id *f)
{
	struct wsman_request req;
	memset(&req, 0, sizeof(req));
	req.action = (char *)action;
	req.resource_uri = (char *)uri;
	req.is_identify = identify;
	*f = FAULT_NONE;
	return dispatch_find(&req, f);
}

static void test_routes(void)
{
	static const struct {
		const char *action, *uri, *name;
		bool admin;
	} routes[] = {
		{ ACTION_CREATE, RESOURCE_SHELL_CMD, "Shell.Create", false },
		{ ACTION_SHELL_COMMAND, RESOURCE_SHELL_CMD, "Shell.Command",
		  false },
		{ ACTION_SHELL_SEND, RESOURCE_SHELL_CMD, "Shell.Send", false },
		{ ACTION_SHELL_RECEIVE, RESOURCE_SHELL_CMD, "Shell.Receive",
		  false },
		{ ACTION_SHELL_SIGNAL, RESOURCE_SHELL_CMD, "Shell.Signal",
		  false },
		{ ACTION_DELETE, RESOURCE_SHELL_CMD, "Shell.Delete", false },
		{ ACTION_ENUMERATE, RESOURCE_SHELL_CMD, "Shell.Enumerate",
		  false },
		{ ACTION_GET, NS_CONFIG, "Config.Get", true },
		{ ACTION_PUT, NS_CONFIG "/service/auth", "Config.Auth.Put",
		  true },
		{ ACTION_GET, NS_CONFIG "/winrs", "Config.Winrs.Get", true },
		{ ACTION_ENUMERATE, NS_CONFIG "/listener",
		  "Config.Listener.Enumerate", true },
		{ ACTION_CREATE, NS_CONFIG "/service/certmapping",
		  "CertMapping.Create", true },
		{ ACTION_PULL, NS_CONFIG "/service/certmapping",
		  "CertMapping.Pull", true },
		{ ACTION_ENUMERATE, NS_SHELL, "Shell.Enumerate", false },
		{ ACTION_PULL, NS_SHELL, "Shell.Pull", false },
		{ ACTION_RELEASE, NS_SHELL, "Shell.Release", false },
		{ ACTION_GET, WMI_URI_CIMV2 "/Win32_Process", "Wmi.Get",
		  false },
		{ ACTION_ENUMERATE, WMI_URI_CIMV2 "/*", "Wmi.Enumerate",
		  false },
		{ ACTION_PULL, WMI_URI_CIMV2 "/Win32_Service", "Wmi.Pull",
		  false },
		{ ACTION_RELEASE, WMI_URI_CIMV2 "/Win32_Service", "Wmi.Release",
		  false },
		{ WMI_URI_CIMV2 "/Win32_Process/Create",
		  WMI_URI_CIMV2 "/Win32_Process", "Wmi.Invoke", false },
		{ WMI_URI_CIMV2 "/Win32_OperatingSystem/Reboot",
		  WMI_URI_CIMV2 "/Win32_OperatingSystem", "Wmi.Invoke", false },
		{ ACTION_PUT, WMI_URI_CIMV2 "/Win32_Process", "Wmi.Invoke",
		  false },
		/* unknown classes and namespaces reach the WMI resource,
		 * which answers as Windows' WMI plug-in */
		{ ACTION_GET, WMI_URI_BASE "/root/default/StdRegProv",
		  "Wmi.Get", false },
	};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		enum fault_id f;
		const struct dispatch_entry *e = find(routes[i].action,
						      routes[i].uri, false, &f);
		ok(e != NULL && strcmp(e->name, routes[i].name) == 0,
		   "%s is routed", routes[i].name);
		ok(e != NULL &&
			   !!(e->flags & DISPATCH_ADMIN) == routes[i].admin,
		   "%s is %sfor administrators", routes[i].name,
		   routes[i].admin ? "" : "not only ");
		ok(e != NULL && !(e->flags & DISPATCH_ANONYMOUS),
		   "%s is not anonymous", routes[i].name);
	}
}

static void test_lookups(void)
{
	enum fault_id f;
	const struct dispatch_entry *e = find(NULL, NULL, true, &f);
	ok(e != NULL && (e->flags & DISPATCH_ANONYMOUS),
	   "Identify, and only it, is anonymous");
	e = find(ACTION_CREATE,
		 "HTTP://SCHEMAS.MICROSOFT.COM/WBEM/WSMAN/1/WINDOWS/SHELL/CMD",
		 false, &f);
	ok(e != NULL && strcmp(e->name, "Shell.Create") == 0,
	   "resource URIs compare without case");
	e = find(ACTION_GET, "http://example.com/no/such/resource", false, &f);
	ok(e == NULL && f == FAULT_DESTINATION_UNREACHABLE,
	   "an unknown resource: a:DestinationUnreachable");
	e = find(ACTION_PUT, RESOURCE_SHELL_CMD, false, &f);
	ok(e == NULL && f == FAULT_ACTION_NOT_SUPPORTED,
	   "a known resource, an action it lacks: a:ActionNotSupported");
	e = find(ACTION_GET, NULL, false, &f);
	ok(e == NULL && f != FAULT_NONE, "no resource URI: a fault");
	e = find(ACTION_GET, RESOURCE_SHELL_CMD "/extra", false, &f);
	ok(e == NULL && f == FAULT_DESTINATION_UNREACHABLE,
	   "a sub-URI of a resource is not that resource");
	e = find(ACTION_GET,
		 "HTTP://schemas.microsoft.com/WBEM/wsman/1/WMI/root/cimv2/"
		 "win32_process",
		 false, &f);
	ok(e != NULL && strcmp(e->name, "Wmi.Get") == 0,
	   "the WMI prefix compares without case");
	e = find(ACTION_GET, WMI_URI_BASE "/", false, &f);
	ok(e == NULL && f == FAULT_DESTINATION_UNREACHABLE,
	   "the WMI prefix alone is no class");
	e = find(ACTION_GET, WMI_URI_BASE, false, &f);
	ok(e == NULL && f == FAULT_DESTINATION_UNREACHABLE,
	   "nor is the WMI base URI");
	e = find(ACTION_GET, "http://schemas.microsoft.com/wbem/wsman/1/wmix/a",
		 false, &f);
	ok(e == NULL && f == FAULT_DESTINATION_UNREACHABLE,
	   "a URI that merely starts like the WMI one is not WMI");
	e = find(NULL, WMI_URI_CIMV2 "/Win32_Process", false, &f);
	ok(e == NULL && f == FAULT_ACTION_NOT_SUPPORTED,
	   "a WMI URI without an action: a:ActionNotSupported");
	e = find(NULL, NULL, true, &f);
	ok(e != NULL && strcmp(e->name, "Identify") == 0,
	   "Identify still wins over the any-action entry");
}

int main(void)
{
	test_routes();
	test_lookups();
	return tap_done();
}
