/*
 * dispatch.c - the routing table of WS-Management requests.
 *
 * Must not: check identities (request.c does, from the flags) or parse
 * anything.  Entry point: dispatch_find.
 */
#include "autoconfig.h"

#include "listener/dispatch.h"

#include <string.h>
#include <strings.h>

#include "lib/wmi/schema.h"
#include "lib/wsman/ns.h"
#include "listener/resources/resources.h"

static const struct dispatch_entry table[] = {
	{ NULL, NULL, res_identify, DISPATCH_ANONYMOUS, "Identify" },
	/* Windows Remote Shell */
	{ ACTION_CREATE, RESOURCE_SHELL_CMD, res_shell_create, 0,
	  "Shell.Create" },
	{ ACTION_SHELL_COMMAND, RESOURCE_SHELL_CMD, res_shell_command, 0,
	  "Shell.Command" },
	{ ACTION_SHELL_SEND, RESOURCE_SHELL_CMD, res_shell_send, 0,
	  "Shell.Send" },
	{ ACTION_SHELL_RECEIVE, RESOURCE_SHELL_CMD, res_shell_receive, 0,
	  "Shell.Receive" },
	{ ACTION_SHELL_SIGNAL, RESOURCE_SHELL_CMD, res_shell_signal, 0,
	  "Shell.Signal" },
	{ ACTION_DELETE, RESOURCE_SHELL_CMD, res_shell_delete, 0,
	  "Shell.Delete" },
	{ ACTION_GET, RESOURCE_SHELL_CMD, res_shell_get, 0, "Shell.Get" },
	{ ACTION_ENUMERATE, RESOURCE_SHELL_CMD, res_shell_enumerate, 0,
	  "Shell.Enumerate" },
	{ ACTION_PULL, RESOURCE_SHELL_CMD, res_enum_pull, 0, "Shell.Pull" },
	{ ACTION_RELEASE, RESOURCE_SHELL_CMD, res_enum_release, 0,
	  "Shell.Release" },
	{ ACTION_GET, NS_SHELL, res_shell_get, 0, "Shell.Get" },
	{ ACTION_DELETE, NS_SHELL, res_shell_delete, 0, "Shell.Delete" },
	/* every shell type's shells: Windows 7+ enumerates them on the
	 * shell resource itself (MS-WSMV <114>; pypsrp, PowerShell) */
	{ ACTION_ENUMERATE, NS_SHELL, res_shell_enumerate, 0,
	  "Shell.Enumerate" },
	{ ACTION_PULL, NS_SHELL, res_enum_pull, 0, "Shell.Pull" },
	{ ACTION_RELEASE, NS_SHELL, res_enum_release, 0, "Shell.Release" },
	/* WMI: every class of every namespace below .../wsman/1/wmi/ (the
	 * handlers resolve the class; methods are custom actions) */
	{ ACTION_GET, WMI_URI_BASE "/", res_wmi_get, DISPATCH_PREFIX,
	  "Wmi.Get" },
	{ ACTION_ENUMERATE, WMI_URI_BASE "/", res_wmi_enumerate,
	  DISPATCH_PREFIX, "Wmi.Enumerate" },
	{ ACTION_PULL, WMI_URI_BASE "/", res_enum_pull, DISPATCH_PREFIX,
	  "Wmi.Pull" },
	{ ACTION_RELEASE, WMI_URI_BASE "/", res_enum_release, DISPATCH_PREFIX,
	  "Wmi.Release" },
	{ NULL, WMI_URI_BASE "/", res_wmi_invoke,
	  DISPATCH_PREFIX | DISPATCH_ANY_ACTION, "Wmi.Invoke" },
	/* winrm/config: administrators only, the whole tree as its parts
	 * (Windows answers a non-administrator's Get with Access denied,
	 * WSManFault code 5; the Ruby winrm gem falls back to its default
	 * message size on it) */
	{ ACTION_GET, NS_CONFIG, res_config_get, DISPATCH_ADMIN, "Config.Get" },
	{ ACTION_PUT, NS_CONFIG, res_config_put, DISPATCH_ADMIN, "Config.Put" },
	{ ACTION_GET, NS_CONFIG "/service", res_config_get, DISPATCH_ADMIN,
	  "Config.Service.Get" },
	{ ACTION_PUT, NS_CONFIG "/service", res_config_put, DISPATCH_ADMIN,
	  "Config.Service.Put" },
	{ ACTION_GET, NS_CONFIG "/service/auth", res_config_get, DISPATCH_ADMIN,
	  "Config.Auth.Get" },
	{ ACTION_PUT, NS_CONFIG "/service/auth", res_config_put, DISPATCH_ADMIN,
	  "Config.Auth.Put" },
	{ ACTION_GET, NS_CONFIG "/winrs", res_config_get, DISPATCH_ADMIN,
	  "Config.Winrs.Get" },
	{ ACTION_PUT, NS_CONFIG "/winrs", res_config_put, DISPATCH_ADMIN,
	  "Config.Winrs.Put" },
	/* winrmd's own groups (no Windows equivalent) */
	{ ACTION_GET, NS_CONFIG "/authorization", res_config_get,
	  DISPATCH_ADMIN, "Config.Authorization.Get" },
	{ ACTION_PUT, NS_CONFIG "/authorization", res_config_put,
	  DISPATCH_ADMIN, "Config.Authorization.Put" },
	{ ACTION_GET, NS_CONFIG "/throttling", res_config_get, DISPATCH_ADMIN,
	  "Config.Throttling.Get" },
	{ ACTION_PUT, NS_CONFIG "/throttling", res_config_put, DISPATCH_ADMIN,
	  "Config.Throttling.Put" },
	{ ACTION_GET, NS_CONFIG "/logging", res_config_get, DISPATCH_ADMIN,
	  "Config.Logging.Get" },
	{ ACTION_PUT, NS_CONFIG "/logging", res_config_put, DISPATCH_ADMIN,
	  "Config.Logging.Put" },
	{ ACTION_GET, NS_CONFIG "/listener", res_listener_get, DISPATCH_ADMIN,
	  "Config.Listener.Get" },
	{ ACTION_ENUMERATE, NS_CONFIG "/listener", res_listener_enumerate,
	  DISPATCH_ADMIN, "Config.Listener.Enumerate" },
	{ ACTION_CREATE, NS_CONFIG "/listener", res_listener_create,
	  DISPATCH_ADMIN, "Config.Listener.Create" },
	{ ACTION_PUT, NS_CONFIG "/listener", res_listener_put, DISPATCH_ADMIN,
	  "Config.Listener.Put" },
	{ ACTION_DELETE, NS_CONFIG "/listener", res_listener_delete,
	  DISPATCH_ADMIN, "Config.Listener.Delete" },
	{ ACTION_PULL, NS_CONFIG "/listener", res_enum_pull, DISPATCH_ADMIN,
	  "Config.Listener.Pull" },
	{ ACTION_RELEASE, NS_CONFIG "/listener", res_enum_release,
	  DISPATCH_ADMIN, "Config.Listener.Release" },
	/* certificate mappings (the table is root's; admins only) */
	{ ACTION_GET, NS_CONFIG "/service/certmapping", res_certmap_get,
	  DISPATCH_ADMIN, "CertMapping.Get" },
	{ ACTION_CREATE, NS_CONFIG "/service/certmapping", res_certmap_create,
	  DISPATCH_ADMIN, "CertMapping.Create" },
	{ ACTION_PUT, NS_CONFIG "/service/certmapping", res_certmap_put,
	  DISPATCH_ADMIN, "CertMapping.Put" },
	{ ACTION_DELETE, NS_CONFIG "/service/certmapping", res_certmap_delete,
	  DISPATCH_ADMIN, "CertMapping.Delete" },
	{ ACTION_ENUMERATE, NS_CONFIG "/service/certmapping",
	  res_certmap_enumerate, DISPATCH_ADMIN, "CertMapping.Enumerate" },
	{ ACTION_PULL, NS_CONFIG "/service/certmapping", res_enum_pull,
	  DISPATCH_ADMIN, "CertMapping.Pull" },
	{ ACTION_RELEASE, NS_CONFIG "/service/certmapping", res_enum_release,
	  DISPATCH_ADMIN, "CertMapping.Release" },
};

static bool uri_matches(const struct dispatch_entry *e, const char *uri)
{
	/* Resource URIs compare case-insensitively: Windows treats them so,
	 * and clients vary the case of the ".../Shell/cmd" style paths. */
	if (uri == NULL)
		return false;
	if (e->flags & DISPATCH_PREFIX) {
		size_t n = strlen(e->resource_uri);
		return strncasecmp(e->resource_uri, uri, n) == 0 &&
		       uri[n] != '\0';
	}
	return strcasecmp(e->resource_uri, uri) == 0;
}

const struct dispatch_entry *dispatch_find(const struct wsman_request *req,
					   enum fault_id *fault_r)
{
	bool resource_known = false;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct dispatch_entry *e = &table[i];
		if (e->action == NULL && !(e->flags & DISPATCH_ANY_ACTION)) {
			if (req->is_identify)
				return e;
			continue;
		}
		if (!uri_matches(e, req->resource_uri))
			continue;
		resource_known = true;
		if (req->action != NULL &&
		    ((e->flags & DISPATCH_ANY_ACTION) ||
		     strcmp(e->action, req->action) == 0))
			return e;
	}
	*fault_r = resource_known ? FAULT_ACTION_NOT_SUPPORTED
				  : FAULT_DESTINATION_UNREACHABLE;
	return NULL;
}
