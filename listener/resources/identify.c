/*
 * identify.c - wsmid:Identify (DSP0226 §11, MS-WSMV 3.1.4.1.23).
 *
 * Anonymous callers (WSMANIDENTIFY: unauthenticated) get exactly the
 * fields Windows gives them: protocol version, vendor, and the product
 * version "OS: 0.0.0 SP: 0.0 Stack: 3.0"; no security profiles.
 * Authenticated callers also get the real OS version and the security
 * profiles of the methods enabled on their listener's transport.
 */
#include "autoconfig.h"

#include "listener/resources/resources.h"

#include "lib/config.h"
#include "lib/wsman/envelope.h"
#include "lib/wsman/ns.h"
#include "listener/conn.h"
#include "listener/runtime.h"

#define PRODUCT_VENDOR "winrmd"

static struct buf anonymous_body = BUF_INIT;

static void identify_begin(struct buf *out, bool with_lang)
{
	buf_append_str(out, "<s:Envelope ");
	if (with_lang)
		buf_append_str(out, "xml:lang=\"en-US\" ");
	buf_append_str(out, "xmlns:s=\"" NS_SOAP "\"><s:Header/><s:Body>"
			    "<wsmid:IdentifyResponse xmlns:wsmid=\"" NS_IDENTITY
			    "\">"
			    "<wsmid:ProtocolVersion>" NS_WSMAN
			    "</wsmid:ProtocolVersion>"
			    "<wsmid:ProductVendor>" PRODUCT_VENDOR
			    "</wsmid:ProductVendor>"
			    "<wsmid:ProductVersion>");
}

static const char identify_end[] =
	"</wsmid:IdentifyResponse></s:Body></s:Envelope>";

void res_identify_init(void)
{
	buf_reset(&anonymous_body);
	identify_begin(&anonymous_body, false);
	buf_append_str(&anonymous_body, "OS: 0.0.0 SP: 0.0 Stack: 3.0");
	buf_append_str(&anonymous_body, "</wsmid:ProductVersion>");
	buf_append_str(&anonymous_body, identify_end);
}

const struct buf *res_identify_anonymous_body(void)
{
	return &anonymous_body;
}

static void profile(struct buf *out, const char *transport, const char *name)
{
	buf_printf(out,
		   "<wsmid:SecurityProfileName>" SECPROFILE_PREFIX
		   "%s/%s</wsmid:SecurityProfileName>",
		   transport, name);
}

enum fault_id res_identify(struct request *r, const struct wsman_request *req,
			   struct buf *out)
{
	const struct winrmd_config *cfg = r->cfg;
	bool https = r->conn->https;
	const char *t = https ? "https" : "http";
	identify_begin(out, true);
	xml_escape(out, runtime_product_version());
	buf_append_str(out, "</wsmid:ProductVersion><wsmid:SecurityProfiles>");
	if (cfg->auth_basic)
		profile(out, t, "basic");
	if (cfg->auth_negotiate || cfg->auth_kerberos)
		profile(out, t, "spnego-kerberos");
	if (https && cfg->auth_certificate)
		profile(out, t, "mutual");
	buf_append_str(out, "</wsmid:SecurityProfiles>");
	buf_append_str(out, identify_end);
	return FAULT_NONE;
}
