/*
 * test-winrmctl.c - winrmctl's pure parts: the command-line grammar
 * (operations, shortcuts, switches, positional order, help, the errors
 * winrm.cmd prints), resource aliases and selectors, the @{...} hash, the
 * -remote connection string; the output formats against golden text for
 * responses shaped as wsman-protocol.md section 8 describes (whole config,
 * service/auth, a two-item listener enumeration, a certificate mapping,
 * ResourceCreated, Identify, faults); and request envelopes parsed back
 * with libxml2.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "lib/wsman/envelope.h"
#include "lib/wsman/ns.h"
#include "tests/lib/tap.h"
#include "lib/util.h"
#include "winrmctl/format.h"
#include "winrmctl/parse.h"
#include "winrmctl/call.h"

#define MAX_ARGS 12

/*
 * Command lines.
 */

struct argv_case {
	const char *args[MAX_ARGS]; /* without argv[0], NULL-terminated */
	int rc;
	enum ctl_op op;
	const char *resource;
	const char *hash;
	const char *err; /* substring of the error text, rc -1 only */
};

/* clang-format off */
static const struct argv_case argv_cases[] = {
	/* operations and their shortcuts */
	{ { "get", "winrm/config" }, 0, CTL_OP_GET, "winrm/config", NULL,
	  NULL },
	{ { "g", "winrm/config" }, 0, CTL_OP_GET, "winrm/config", NULL,
	  NULL },
	{ { "GET", "winrm/config" }, 0, CTL_OP_GET, "winrm/config", NULL,
	  NULL },
	{ { "set", "winrm/config/service/auth", "@{Basic=\"true\"}" },
	  0, CTL_OP_SET, "winrm/config/service/auth", "{Basic=\"true\"}",
	  NULL },
	{ { "s", "winrm/config/service/auth", "@{Basic=\"true\"}" },
	  0, CTL_OP_SET, "winrm/config/service/auth", "{Basic=\"true\"}",
	  NULL },
	{ { "put", "winrm/config", "@{MaxTimeoutms=\"1000\"}" },
	  0, CTL_OP_SET, "winrm/config", "{MaxTimeoutms=\"1000\"}", NULL },
	{ { "p", "winrm/config", "@{}" }, 0, CTL_OP_SET, "winrm/config", "{}",
	  NULL },
	{ { "create", "winrm/config/listener?Address=*+Transport=HTTP" },
	  0, CTL_OP_CREATE, "winrm/config/listener?Address=*+Transport=HTTP",
	  NULL, NULL },
	{ { "c", "winrm/config/listener?Address=*+Transport=HTTP" },
	  0, CTL_OP_CREATE, "winrm/config/listener?Address=*+Transport=HTTP",
	  NULL, NULL },
	{ { "delete", "winrm/config/listener?Address=*+Transport=HTTP" },
	  0, CTL_OP_DELETE, "winrm/config/listener?Address=*+Transport=HTTP",
	  NULL, NULL },
	{ { "d", "winrm/config/listener?Address=*+Transport=HTTP" },
	  0, CTL_OP_DELETE, "winrm/config/listener?Address=*+Transport=HTTP",
	  NULL, NULL },
	{ { "enumerate", "winrm/config/listener" }, 0, CTL_OP_ENUMERATE,
	  "winrm/config/listener", NULL, NULL },
	{ { "e", "winrm/config/listener" }, 0, CTL_OP_ENUMERATE,
	  "winrm/config/listener", NULL, NULL },
	{ { "enum", "winrm/config/listener" }, 0, CTL_OP_ENUMERATE,
	  "winrm/config/listener", NULL, NULL },
	{ { "identify" }, 0, CTL_OP_IDENTIFY, NULL, NULL, NULL },
	{ { "id" }, 0, CTL_OP_IDENTIFY, NULL, NULL, NULL },
	/* quoting of the @ argument */
	{ { "set", "winrm/config/service/auth", "'@{Basic=\"true\"}'" },
	  0, CTL_OP_SET, "winrm/config/service/auth", "{Basic=\"true\"}",
	  NULL },
	{ { "set", "winrm/config/service/auth", "@{Basic=\\\"true\\\"}" },
	  0, CTL_OP_SET, "winrm/config/service/auth", "{Basic=\"true\"}",
	  NULL },
	{ { "set", "winrm/config/service/auth", "\"@{Basic=\\\"true\\\"}\"" },
	  0, CTL_OP_SET, "winrm/config/service/auth", "{Basic=\"true\"}",
	  NULL },
	{ { "set", "winrm/config/client", "@{TrustedHosts=\"a b\"}" },
	  0, CTL_OP_SET, "winrm/config/client", "{TrustedHosts=\"a b\"}",
	  NULL },
	/* switches after the positional arguments, @ anywhere after them */
	{ { "set", "winrm/config", "-r:host", "@{A=\"1\"}" },
	  0, CTL_OP_SET, "winrm/config", "{A=\"1\"}", NULL },
	{ { "get", "winrm/config", "/r:host", "/u:me", "/p:pw" },
	  0, CTL_OP_GET, "winrm/config", NULL, NULL },
	/* winrmctl's own options may go anywhere */
	{ { "-S", "/tmp/x.sock", "get", "winrm/config" }, 0, CTL_OP_GET,
	  "winrm/config", NULL, NULL },
	{ { "--xml", "e", "winrm/config/listener" }, 0, CTL_OP_ENUMERATE,
	  "winrm/config/listener", NULL, NULL },
	/* errors, worded as winrm.cmd words them */
	{ { "frob", "winrm/config" }, -1, 0, NULL, NULL,
	  "Error: Unknown operation name: 'frob'\n" },
	{ { "-r:host" }, -1, 0, NULL, NULL,
	  "Error: Unknown operation name: ''\n" },
	{ { "get" }, -1, 0, NULL, NULL,
	  "Error: Invalid use of command line. Type \"winrmctl -?\" for "
	  "help.\n" },
	{ { "get", "winrm/config", "extra" }, -1, 0, NULL, NULL,
	  "Invalid use of command line" },
	{ { "identify", "winrm/config" }, -1, 0, NULL, NULL,
	  "Invalid use of command line" },
	{ { "get", "-r:host", "winrm/config" }, -1, 0, NULL, NULL,
	  "Invalid use of command line" },
	{ { "set", "@{A=\"1\"}", "winrm/config" }, -1, 0, NULL, NULL,
	  "Invalid use of command line" },
	{ { "set", "winrm/config", "@{A=\"1\"}", "@{B=\"2\"}" }, -1, 0, NULL,
	  NULL, "Invalid use of command line" },
	{ { "get", "winrm/config", "-bogus:1" }, -1, 0, NULL, NULL,
	  "Error: Unknown switch: bogus\nError: Invalid use of command line" },
	{ { "identify", "-file:x.xml" }, -1, 0, NULL, NULL,
	  "Error: Input was supplied to an operation that does not accept "
	  "input.\n" },
	{ { "get", "winrm/config", "@{A=\"1\"}" }, -1, 0, NULL, NULL,
	  "Input was supplied to an operation that does not accept input" },
	{ { "get", "winrm/config", "-returntype:object" }, -1, 0, NULL, NULL,
	  "Error: Switch not allowed with the given operation: returntype\n" },
	{ { "get", "winrm/config", "-r:a", "-remote:b" }, -1, 0, NULL, NULL,
	  "Error: Option is not unique: remote\n" },
	{ { "get", "winrm/config", "-" }, -1, 0, NULL, NULL,
	  "Error: Missing switch name\n" },
	{ { "get", "winrm/config", "-r:\"host" }, -1, 0, NULL, NULL,
	  "Error: A quoted parameter value must begin and end with quotes: "
	  "r\n" },
	{ { "get", "winrm/config", "-r:host\"" }, -1, 0, NULL, NULL,
	  "must begin and end with quotes" },
	{ { "get", "winrm/config", "-format:html" }, -1, 0, NULL, NULL,
	  "Invalid option for -format: \"html\"\n" },
	{ { "get", "winrm/config", "-un" }, -1, 0, NULL, NULL,
	  "Error: The '-unencrypted' option is only valid when used with the "
	  "'-remote' option\n" },
	{ { "get", "winrm/config", "-encoding:utf-16" }, -1, 0, NULL, NULL,
	  "The '-encoding' option is only valid when used with the '-remote' "
	  "option" },
	{ { "get", "winrm/config", "-r:h", "-encoding:latin1" }, -1, 0, NULL,
	  NULL, "Error: The specified encoding flag is invalid.\n" },
	{ { "get", "winrm/config", "-r:h", "-a:" }, -1, 0, NULL, NULL,
	  "Error: Argument's value is not provided: authentication\n" },
	{ { "get", "winrm/config", "-r:h", "-a:magic" }, -1, 0, NULL, NULL,
	  "Error: The specified '-authentication' flag 'magic' has an invalid "
	  "value.\n" },
	{ { "get", "winrm/config", "-r:h", "-a:basic" }, -1, 0, NULL, NULL,
	  "Error: The '-username' option must be specified for "
	  "'-auth:basic'\n" },
	{ { "get", "winrm/config", "-r:h", "-a:none", "-u:x" }, -1, 0, NULL,
	  NULL, "The '-username' option is not valid for '-auth:none'" },
	{ { "get", "winrm/config", "-r:h", "-a:digest", "-u:x" }, -1, 0, NULL,
	  NULL, "Digest authentication is not supported" },
	{ { "get", "winrm/config", "-r:h", "-timeout:soon" }, -1, 0, NULL,
	  NULL, "Error: Numeric value for -timeout option is expected\n" },
	{ { "get", "winrm/config", "-u:me" }, -1, 0, NULL, NULL,
	  "-username and -password are for -remote" },
	{ { "get", "winrm/config", "-fragment:x" }, -1, 0, NULL, NULL,
	  "winrmctl: the -fragment switch is not supported by winrmctl\n" },
	{ { "invoke", "Restore", "winrm/config" }, 0, CTL_OP_INVOKE,
	  "winrm/config", NULL, NULL },
	{ { "i", "StopService", "wmicimv2/Win32_Service?Name=cron" }, 0,
	  CTL_OP_INVOKE, "wmicimv2/Win32_Service?Name=cron", NULL, NULL },
	{ { "invoke", "Create", "wmicimv2/Win32_Process",
	    "@{CommandLine=\"sleep 1\"}" },
	  0, CTL_OP_INVOKE, "wmicimv2/Win32_Process",
	  "{CommandLine=\"sleep 1\"}", NULL },
	{ { "invoke", "Create" }, -1, 0, NULL, NULL,
	  "Invalid use of command line" },
	{ { "e", "wmicimv2/*", "-filter:select * from Win32_Process" }, 0,
	  CTL_OP_ENUMERATE, "wmicimv2/*", NULL, NULL },
	{ { "e", "wmicimv2/*", "-dialect:wql" }, -1, 0, NULL, NULL,
	  "The '-dialect' option is only valid when used with the "
	  "'-filter' option" },
	{ { "get", "wmicimv2/Win32_Process", "-filter:x" }, -1, 0, NULL,
	  NULL, "Switch not allowed with the given operation: filter" },
	{ { "e", "wmicimv2/Win32_Process", "-returntype:xml" }, -1, 0, NULL,
	  NULL, "Error: -returntype:xml is not a valid option\n" },
	{ { "qc" }, -1, 0, NULL, NULL,
	  "the quickconfig operation is not supported" },
	{ { "get", "winrm/config", "--frob" }, -1, 0, NULL, NULL,
	  "winrmctl: unknown option --frob\n" },
	{ { "get", "winrm/config", "-S" }, -1, 0, NULL, NULL,
	  "-S needs a socket path" },
};
/* clang-format on */

static void test_argv_table(void)
{
	for (size_t i = 0; i < sizeof(argv_cases) / sizeof(argv_cases[0]);
	     i++) {
		const struct argv_case *c = &argv_cases[i];
		char *argv[MAX_ARGS + 1];
		int argc = 1;
		struct ctl_cmd cmd;
		struct buf err = BUF_INIT;
		char desc[200];

		argv[0] = (char *)"winrmctl";
		for (int k = 0; k < MAX_ARGS && c->args[k] != NULL; k++)
			argv[argc++] = (char *)c->args[k];
		argv[argc] = NULL;
		snprintf(desc, sizeof(desc), "argv %zu (%s %s %s)", i,
			 c->args[0], c->args[1] ? c->args[1] : "",
			 c->args[1] && c->args[2] ? c->args[2] : "");

		int rc = ctl_parse_argv(argc, argv, &cmd, &err);
		is_int(rc, c->rc, "%s: result", desc);
		if (c->rc == 0) {
			is_int(cmd.op, c->op, "%s: operation", desc);
			is_str(cmd.resource, c->resource, "%s: resource", desc);
			is_str(cmd.hash, c->hash, "%s: input hash", desc);
			is_int(err.len, 0, "%s: no error text", desc);
		} else {
			contains(err.data ? (char *)err.data : "", c->err,
				 "%s: error text", desc);
		}
		ctl_cmd_release(&cmd);
		buf_release(&err);
	}
}

/* Parses a space-separated command line (no quoting needed here). */
static int parse_line(const char *line, struct ctl_cmd *cmd, struct buf *err)
{
	char *copy = xstrdup(line);
	char *argv[32];
	int argc = 0;

	argv[argc++] = (char *)"winrmctl";
	for (char *tok = strtok(copy, " "); tok != NULL && argc < 31;
	     tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc] = NULL;
	int rc = ctl_parse_argv(argc, argv, cmd, err);
	free(copy);
	return rc;
}

static void test_argv_switches(void)
{
	struct ctl_cmd cmd;
	struct buf err = BUF_INIT;

	is_int(parse_line("get winrm/config -r:https://h:5986 -u:DOM\\me "
			  "-p:pw -a:Basic -skipCAcheck -skipCNcheck "
			  "-timeout:5000 -format:#pretty -encoding:UTF-16",
			  &cmd, &err),
	       0, "every session switch at once");
	is_str(cmd.remote, "https://h:5986", "-r value");
	is_str(cmd.username, "DOM\\me", "-u value (backslash kept)");
	is_str(cmd.password, "pw", "-p value");
	is_int(cmd.auth, CTL_AUTH_BASIC, "-a:Basic (any case)");
	ok(cmd.skip_ca_check && cmd.skip_cn_check,
	   "-skipCAcheck, -skipCNcheck");
	is_int(cmd.timeout_ms, 5000, "-timeout");
	is_int(cmd.format, CTL_FMT_PRETTY, "-format:#pretty ignores the #");
	ok(cmd.utf16, "-encoding:UTF-16");
	ctl_cmd_release(&cmd);

	is_int(parse_line("id -remote:h -authentication:none -unencrypted "
			  "-usessl -f:xml",
			  &cmd, &err),
	       0, "long switch names");
	is_int(cmd.auth, CTL_AUTH_NONE, "-authentication:none");
	ok(cmd.unencrypted && cmd.usessl, "-unencrypted -usessl");
	is_int(cmd.format, CTL_FMT_XML, "-f:xml");
	ctl_cmd_release(&cmd);

	is_int(parse_line("get winrm/config -machine:h -auth:Kerberos -un "
			  "-ssl",
			  &cmd, &err),
	       0,
	       "shortcuts -machine -auth "
	       "-un -ssl");
	is_str(cmd.remote, "h", "-machine is -remote");
	is_int(cmd.auth, CTL_AUTH_KERBEROS, "-auth:Kerberos");
	ok(cmd.unencrypted && cmd.usessl, "-un -ssl");
	ctl_cmd_release(&cmd);

	char *quoted[] = { (char *)"winrmctl", (char *)"get",
			   (char *)"winrm/config", (char *)"-r:\"my host\"",
			   NULL };
	is_int(ctl_parse_argv(4, quoted, &cmd, &err), 0, "quoted switch value");
	is_str(cmd.remote, "my host", "quotes of a switch value removed");
	ctl_cmd_release(&cmd);

	is_int(parse_line("get winrm/config -S:/a.sock --socket=/b.sock", &cmd,
			  &err),
	       0, "-S: and --socket=");
	is_str(cmd.socket_path, "/b.sock", "the last socket option wins");
	ctl_cmd_release(&cmd);

	is_int(parse_line("set winrm/config -file:in.xml", &cmd, &err), 0,
	       "-file with set");
	is_str(cmd.file, "in.xml", "-file value");
	is_str(cmd.hash, NULL, "no hash");
	ctl_cmd_release(&cmd);

	is_int(parse_line("e wmicimv2/* -filter:select -dialect:SELECTOR "
			  "-returntype:EPR",
			  &cmd, &err),
	       0, "-filter, -dialect and -returntype accepted");
	is_str(cmd.filter, "select", "  the filter as typed");
	is_str(cmd.dialect, CTL_DIALECT_SELECTOR,
	       "  the dialect alias expanded");
	is_int(cmd.return_type, CTL_RET_EPR, "  EnumerateEPR");
	ctl_cmd_release(&cmd);
	buf_reset(&err);
	is_int(parse_line("e wmicimv2/* -filter:x", &cmd, &err), 0,
	       "-filter alone");
	is_str(cmd.dialect, CTL_DIALECT_WQL,
	       "  is WQL, as winrm.cmd's default");
	ctl_cmd_release(&cmd);
	buf_reset(&err);
	is_int(parse_line("invoke GetOwner wmicimv2/Win32_Process?Handle=1",
			  &cmd, &err),
	       0, "invoke parses");
	is_str(cmd.method, "GetOwner", "  its method");
	is_str(cmd.resource, "wmicimv2/Win32_Process?Handle=1",
	       "  its resource");
	ctl_cmd_release(&cmd);
	buf_reset(&err);
	is_int(parse_line("e winrm/config/listener -returntype:Object", &cmd,
			  &err),
	       0, "-returntype:Object accepted");
	ctl_cmd_release(&cmd);
	is_int(parse_line("get winrm/config", &cmd, &err), 0, "defaults");
	is_int(cmd.timeout_ms, -1, "no -timeout");
	is_int(cmd.format, CTL_FMT_TEXT, "text by default");
	is_int(cmd.auth, CTL_AUTH_DEFAULT, "default authentication");
	ctl_cmd_release(&cmd);
	is_int(parse_line("--version", &cmd, &err), 0, "--version");
	ok(cmd.version, "--version flag");
	ctl_cmd_release(&cmd);
	is_int(err.len, 0, "no error text for good command lines");
	buf_release(&err);
}

static void test_argv_help(void)
{
	static const struct {
		const char *line;
		const char *topic;
	} cases[] = {
		{ "", "" },
		{ "help", "" },
		{ "help config", "config" },
		{ "help s", "set" },
		{ "HELP Aliases", "aliases" },
		{ "-?", "" },
		{ "/?", "" },
		{ "get -?", "get" },
		{ "e -?", "enumerate" },
		{ "-? set", "set" },
		{ "set winrm/config -?", "set" },
		{ "get --help", "get" },
		{ "--help", "" },
		{ "frob -? -bogus", "frob" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ctl_cmd cmd;
		struct buf err = BUF_INIT;
		int rc = parse_line(cases[i].line, &cmd, &err);
		is_int(rc, 0, "help \"%s\": accepted", cases[i].line);
		is_int(cmd.op, CTL_OP_HELP, "help \"%s\": is help",
		       cases[i].line);
		is_str(cmd.help_topic, cases[i].topic, "help \"%s\": topic",
		       cases[i].line);
		ctl_cmd_release(&cmd);
		buf_release(&err);
	}
}

/*
 * Resources.
 */

#define CFG CTL_WSMAN_URI "/config"

/* clang-format off */
static const struct {
	const char *text;
	int rc;
	const char *uri;
	const char *root;
	enum ctl_known known;
	const char *sel; /* "Name=value;Name=value" */
	const char *err;
} resource_cases[] = {
	{ "winrm/config", 0, CFG, "Config", CTL_RES_CONFIG, "", NULL },
	{ "WinRM/Config", 0, CFG, "Config", CTL_RES_CONFIG, "", NULL },
	{ "wsman/config", 0, CFG, "Config", CTL_RES_CONFIG, "", NULL },
	{ CFG, 0, CFG, "Config", CTL_RES_CONFIG, "", NULL },
	{ "winrm/config/service", 0, CFG "/service", "Service",
	  CTL_RES_SERVICE, "", NULL },
	{ "winrm/config/Service/Auth", 0, CFG "/service/auth", "Auth",
	  CTL_RES_SERVICE_AUTH, "", NULL },
	{ "winrm/config/winrs", 0, CFG "/winrs", "Winrs", CTL_RES_WINRS, "",
	  NULL },
	{ "winrm/config/client", 0, CFG "/client", "Client", CTL_RES_CLIENT,
	  "", NULL },
	{ "winrm/config/client/auth", 0, CFG "/client/auth", "Auth",
	  CTL_RES_CLIENT, "", NULL },
	{ "winrm/config/client/DefaultPorts", 0, CFG "/client/DefaultPorts",
	  "DefaultPorts", CTL_RES_CLIENT, "", NULL },
	{ "winrm/config/Listener?Address=*+Transport=HTTP", 0, CFG "/listener",
	  "Listener", CTL_RES_LISTENER, "Address=*;Transport=HTTP", NULL },
	{ "winrm/config/listener?Address=IP:3ffe:8311:ffff:f2c1::5e61"
	  "+Transport=HTTPS", 0, CFG "/listener", "Listener",
	  CTL_RES_LISTENER, "Address=IP:3ffe:8311:ffff:f2c1::5e61;"
	  "Transport=HTTPS", NULL },
	{ "winrm/config/service/certmapping?Issuer=1212131238d84023982e381f"
	  "20391a2935301923+Subject=*.example.com+URI=wmicimv2/*", 0,
	  CFG "/service/certmapping", "CertMapping", CTL_RES_CERTMAPPING,
	  "Issuer=1212131238d84023982e381f20391a2935301923;"
	  "Subject=*.example.com;URI=wmicimv2/*", NULL },
	{ "winrm/config/service/CertMapping?Issuer=AB+Subject=a=b+URI=*", 0,
	  CFG "/service/certmapping", "CertMapping", CTL_RES_CERTMAPPING,
	  "Issuer=AB;Subject=a=b;URI=*", NULL },
	{ "winrm/config/listener?Address=*+Hostname=", 0, CFG "/listener",
	  "Listener", CTL_RES_LISTENER, "Address=*;Hostname=", NULL },
	{ "wmicimv2/Win32_Service?Name=spooler", 0,
	  "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/"
	  "Win32_Service", "Win32_Service", CTL_RES_OTHER, "Name=spooler",
	  NULL },
	{ "shell/cmd", 0, NS_SHELL "/cmd", "cmd", CTL_RES_OTHER, "", NULL },
	{ "cimv2/CIM_Foo", 0, "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/"
	  "2/CIM_Foo", "CIM_Foo", CTL_RES_OTHER, "", NULL },
	{ "wmi/root/x", 0, "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/"
	  "x", "x", CTL_RES_OTHER, "", NULL },
	{ "http://example.com/res/Thing", 0, "http://example.com/res/Thing",
	  "Thing", CTL_RES_OTHER, "", NULL },
	{ "winrm/config/service/defaultports", 0, CFG "/service/defaultports",
	  "defaultports", CTL_RES_OTHER, "", NULL },
	{ "", -1, NULL, NULL, 0, NULL, "Error: URI is 0 length\n" },
	{ "?A=1", -1, NULL, NULL, 0, NULL, "URI is 0 length" },
	{ "winrm/config/listener?Address", -1, NULL, NULL, 0, NULL,
	  "Error: Unable to create ResourceLocator object.\n"
	  "winrmctl: invalid selector \"Address\"" },
	{ "winrm/config/listener?=x", -1, NULL, NULL, 0, NULL,
	  "invalid selector \"=x\"" },
	{ "winrm/config/listener?Address=*+", -1, NULL, NULL, 0, NULL,
	  "invalid selector \"\"" },
	{ "winrm/config/listener?Address=*+address=IP:1.2.3.4", -1, NULL, NULL,
	  0, NULL, "selector \"address\" given twice" },
	{ "winrm/con fig", -1, NULL, NULL, 0, NULL, "contains a blank" },
};
/* clang-format on */

static void test_resources(void)
{
	for (size_t i = 0;
	     i < sizeof(resource_cases) / sizeof(resource_cases[0]); i++) {
		struct ctl_resource res;
		struct buf err = BUF_INIT;
		struct buf sel = BUF_INIT;
		const char *t = resource_cases[i].text;
		int rc = ctl_parse_resource(t, &res, &err);

		is_int(rc, resource_cases[i].rc, "resource \"%s\": result", t);
		if (rc == 0) {
			is_str(res.uri, resource_cases[i].uri,
			       "resource \"%s\": URI", t);
			is_str(res.root, resource_cases[i].root,
			       "resource \"%s\": body element", t);
			is_str(res.ns, res.uri,
			       "resource \"%s\": namespace is the URI", t);
			is_int(res.known, resource_cases[i].known,
			       "resource \"%s\": kind", t);
			for (size_t k = 0; k < res.n_selectors; k++)
				buf_printf(&sel, "%s%s=%s", k ? ";" : "",
					   res.selectors[k].name,
					   res.selectors[k].value);
			is_str(sel.data ? (char *)sel.data : "",
			       resource_cases[i].sel,
			       "resource \"%s\": selectors", t);
		} else {
			contains(err.data ? (char *)err.data : "",
				 resource_cases[i].err,
				 "resource \"%s\": error", t);
		}
		ctl_resource_release(&res);
		buf_release(&err);
		buf_release(&sel);
	}
}

/*
 * The @{...} hash.
 */

#define SYNTAX                                                                 \
	"Syntax Error: input must be of the form "                             \
	"{KEY=\"VALUE\"[;KEY=\"VALUE\"]}\n"

/* clang-format off */
static const struct {
	const char *text;
	int rc;
	const char *pairs; /* "k=v;k2=<nil>" */
	const char *err;
} hash_cases[] = {
	{ "{}", 0, "", NULL },
	{ "{Basic=\"true\"}", 0, "Basic=true", NULL },
	{ "{a=\"1\";b=\"2\"}", 0, "a=1;b=2", NULL },
	{ "{ a = \"1\" ; b=\"2\" }", 0, "a=1;b=2", NULL },
	{ "{\ta=\"1\"\n}", 0, "a=1", NULL },
	{ "{TrustedHosts=\"a b, c\"}", 0, "TrustedHosts=a b, c", NULL },
	{ "{v=\"x;y=z}\"}", 0, "v=x;y=z}", NULL },
	{ "{v=\"\"}", 0, "v=", NULL },
	{ "{v=\"<&>'\"}", 0, "v=<&>'", NULL },
	{ "{key1=$null;key2=\"value2\"}", 0, "key1=<nil>;key2=value2", NULL },
	{ "{k=$NULL}", 0, "k=<nil>", NULL },
	{ "{p:Key_1=\"x\"}", 0, "p:Key_1=x", NULL },
	{ "{a=\"1\";A=\"2\"}", 0, "a=1;A=2", NULL },
	{ "", -1, NULL, SYNTAX },
	{ "{", -1, NULL, SYNTAX },
	{ "x}", -1, NULL, SYNTAX },
	{ "{ }", -1, NULL, SYNTAX },
	{ "Basic=\"true\"", -1, NULL, SYNTAX },
	{ "{Basic=\"true\"", -1, NULL, SYNTAX },
	{ "{Basic=true}", -1, NULL,
	  SYNTAX "winrmctl: hint: the shell removed the double quotes" },
	{ "{Basic='true'}", -1, NULL, SYNTAX },
	{ "{Basic=\"true}", -1, NULL, SYNTAX },
	{ "{a=\"1\";}", -1, NULL, SYNTAX },
	{ "{;a=\"1\"}", -1, NULL, SYNTAX },
	{ "{a=\"1\";;b=\"2\"}", -1, NULL, SYNTAX },
	{ "{a=\"1\" b=\"2\"}", -1, NULL, SYNTAX },
	{ "{a=\"1\"b=\"2\";}", -1, NULL, SYNTAX },
	{ "{a-b=\"1\"}", -1, NULL, SYNTAX },
	{ "{=\"1\"}", -1, NULL, SYNTAX },
	{ "{a=$nullx}", -1, NULL, SYNTAX },
	{ "{a=\"x\"y\"}", -1, NULL, SYNTAX },
	{ "{a=\"1\";a=\"2\"}", -1, NULL,
	  "Error: Multiple matching parameter names not allowed in @{...}: "
	  "a\n" },
};
/* clang-format on */

static void test_hash(void)
{
	for (size_t i = 0; i < sizeof(hash_cases) / sizeof(hash_cases[0]);
	     i++) {
		struct ctl_pair *pairs;
		size_t n;
		struct buf err = BUF_INIT;
		struct buf got = BUF_INIT;
		const char *t = hash_cases[i].text;
		int rc = ctl_parse_hash(t, &pairs, &n, &err);

		is_int(rc, hash_cases[i].rc, "hash '%s': result", t);
		if (rc == 0) {
			for (size_t k = 0; k < n; k++)
				buf_printf(&got, "%s%s=%s", k ? ";" : "",
					   pairs[k].name,
					   pairs[k].is_null ? "<nil>"
							    : pairs[k].value);
			is_str(got.data ? (char *)got.data : "",
			       hash_cases[i].pairs, "hash '%s': pairs", t);
		} else {
			ok(pairs == NULL && n == 0,
			   "hash '%s': nothing returned", t);
			if (strncmp(hash_cases[i].err, "Syntax", 6) == 0 &&
			    strstr(hash_cases[i].err, "hint") == NULL)
				is_str((char *)err.data, hash_cases[i].err,
				       "hash '%s': exactly the syntax error",
				       t);
			else
				contains((char *)err.data, hash_cases[i].err,
					 "hash '%s': error", t);
		}
		ctl_pairs_free(pairs, n);
		buf_release(&err);
		buf_release(&got);
	}
}

/*
 * -remote.
 */

static void test_remote(void)
{
	static const struct {
		const char *text;
		bool usessl;
		const char *url;
	} cases[] = {
		{ "host", false, "http://host:5985/wsman" },
		{ "host", true, "https://host:5986/wsman" },
		{ "host.example.com:8080", false,
		  "http://host.example.com:8080/wsman" },
		{ "http://host", false, "http://host:80/wsman" },
		{ "https://host", false, "https://host:443/wsman" },
		{ "HTTPS://host:5986/wsman", false, "https://host:5986/wsman" },
		{ "https://[1:2:3::8]:444/path", false,
		  "https://[1:2:3::8]:444/path" },
		{ "[1:2:3::8]", false, "http://[1:2:3::8]:5985/wsman" },
		{ "192.0.2.1/custom", false, "http://192.0.2.1:5985/custom" },
		{ "", false, NULL },
		{ "ftp://host", false, NULL },
		{ "https://host", true, NULL },
		{ "host:0", false, NULL },
		{ "host:99999", false, NULL },
		{ "host:", false, NULL },
		{ "ho st", false, NULL },
		{ "user@host", false, NULL },
		{ "[]", false, NULL },
		{ "[1:2", false, NULL },
		{ "host/a?b", false, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf err = BUF_INIT;
		char *url = NULL;
		bool https = false;
		int rc = ctl_parse_remote(cases[i].text, cases[i].usessl, &url,
					  &https, &err);
		if (cases[i].url != NULL) {
			is_int(rc, 0, "remote '%s': accepted", cases[i].text);
			is_str(url, cases[i].url, "remote '%s': URL",
			       cases[i].text);
			is_int(https, strncmp(cases[i].url, "https", 5) == 0,
			       "remote '%s': TLS", cases[i].text);
		} else {
			is_int(rc, -1, "remote '%s': refused", cases[i].text);
			ok(err.len > 0 && url == NULL,
			   "remote '%s': error text", cases[i].text);
		}
		free(url);
		buf_release(&err);
	}
}

/*
 * Output formats.
 */

#define ENV_OPEN                                                               \
	"<s:Envelope xml:lang=\"en-US\" xmlns:s=\"" NS_SOAP "\""               \
	" xmlns:a=\"" NS_ADDRESSING "\" xmlns:x=\"" NS_TRANSFER "\""           \
	" xmlns:n=\"" NS_ENUMERATION "\" xmlns:w=\"" NS_WSMAN "\">"            \
	"<s:Header><a:Action>act</a:Action>"                                   \
	"<a:MessageID>uuid:1</a:MessageID></s:Header><s:Body>"
#define ENV_CLOSE "</s:Body></s:Envelope>"

static const char config_xml[] = ENV_OPEN
	"<cfg:Config xmlns:cfg=\"" NS_CONFIG "\">\n"
	"  <cfg:MaxEnvelopeSizekb>500</cfg:MaxEnvelopeSizekb>\n"
	"  <cfg:MaxTimeoutms>60000</cfg:MaxTimeoutms>\n"
	"  <cfg:MaxBatchItems>32000</cfg:MaxBatchItems>\n"
	"  <cfg:MaxProviderRequests>4294967295</cfg:MaxProviderRequests>\n"
	"  <cfg:Service>\n"
	"    <cfg:RootSDDL>O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;IU)"
	"S:P(AU;FA;GA;;;WD)"
	"(AU;SA;GXGW;;;WD)</cfg:RootSDDL>\n"
	"    <cfg:MaxConcurrentOperations>4294967295"
	"</cfg:MaxConcurrentOperations>\n"
	"    <cfg:MaxConcurrentOperationsPerUser>1500"
	"</cfg:MaxConcurrentOperationsPerUser>\n"
	"    <cfg:EnumerationTimeoutms>240000</cfg:EnumerationTimeoutms>\n"
	"    <cfg:MaxConnections>300</cfg:MaxConnections>\n"
	"    <cfg:MaxPacketRetrievalTimeSeconds>120"
	"</cfg:MaxPacketRetrievalTimeSeconds>\n"
	"    <cfg:AllowUnencrypted>false</cfg:AllowUnencrypted>\n"
	"    <cfg:Auth>\n"
	"      <cfg:Basic>false</cfg:Basic>\n"
	"      <cfg:Kerberos>true</cfg:Kerberos>\n"
	"      <cfg:Negotiate>true</cfg:Negotiate>\n"
	"      <cfg:Certificate>false</cfg:Certificate>\n"
	"      <cfg:CredSSP>false</cfg:CredSSP>\n"
	"      <cfg:CbtHardeningLevel>Relaxed</cfg:CbtHardeningLevel>\n"
	"    </cfg:Auth>\n"
	"    <cfg:DefaultPorts><cfg:HTTP>5985</cfg:HTTP>"
	"<cfg:HTTPS>5986</cfg:HTTPS></cfg:DefaultPorts>\n"
	"    <cfg:IPv4Filter>*</cfg:IPv4Filter>\n"
	"    <cfg:IPv6Filter>*</cfg:IPv6Filter>\n"
	"    <cfg:EnableCompatibilityHttpListener>false"
	"</cfg:EnableCompatibilityHttpListener>\n"
	"    <cfg:EnableCompatibilityHttpsListener>false"
	"</cfg:EnableCompatibilityHttpsListener>\n"
	"    <cfg:CertificateThumbprint/>\n"
	"    <cfg:AllowRemoteAccess Source=\"GPO\">true"
	"</cfg:AllowRemoteAccess>\n"
	"  </cfg:Service>\n"
	"  <cfg:Winrs>\n"
	"    <cfg:AllowRemoteShellAccess>true</cfg:AllowRemoteShellAccess>\n"
	"    <cfg:IdleTimeout>7200000</cfg:IdleTimeout>\n"
	"    <cfg:MaxConcurrentUsers>2147483647</cfg:MaxConcurrentUsers>\n"
	"    <cfg:MaxShellRunTime>2147483647</cfg:MaxShellRunTime>\n"
	"    <cfg:MaxProcessesPerShell>2147483647</cfg:MaxProcessesPerShell>\n"
	"    <cfg:MaxMemoryPerShellMB>2147483647</cfg:MaxMemoryPerShellMB>\n"
	"    <cfg:MaxShellsPerUser>2147483647</cfg:MaxShellsPerUser>\n"
	"  </cfg:Winrs>\n"
	"</cfg:Config>" ENV_CLOSE;

static const char config_text[] =
	"Config\n"
	"    MaxEnvelopeSizekb = 500\n"
	"    MaxTimeoutms = 60000\n"
	"    MaxBatchItems = 32000\n"
	"    MaxProviderRequests = 4294967295\n"
	"    Service\n"
	"        RootSDDL = O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;IU)"
	"S:P(AU;FA;GA;;;WD)"
	"(AU;SA;GXGW;;;WD)\n"
	"        MaxConcurrentOperations = 4294967295\n"
	"        MaxConcurrentOperationsPerUser = 1500\n"
	"        EnumerationTimeoutms = 240000\n"
	"        MaxConnections = 300\n"
	"        MaxPacketRetrievalTimeSeconds = 120\n"
	"        AllowUnencrypted = false\n"
	"        Auth\n"
	"            Basic = false\n"
	"            Kerberos = true\n"
	"            Negotiate = true\n"
	"            Certificate = false\n"
	"            CredSSP = false\n"
	"            CbtHardeningLevel = Relaxed\n"
	"        DefaultPorts\n"
	"            HTTP = 5985\n"
	"            HTTPS = 5986\n"
	"        IPv4Filter = *\n"
	"        IPv6Filter = *\n"
	"        EnableCompatibilityHttpListener = false\n"
	"        EnableCompatibilityHttpsListener = false\n"
	"        CertificateThumbprint\n"
	"        AllowRemoteAccess = true [Source=\"GPO\"]\n"
	"    Winrs\n"
	"        AllowRemoteShellAccess = true\n"
	"        IdleTimeout = 7200000\n"
	"        MaxConcurrentUsers = 2147483647\n"
	"        MaxShellRunTime = 2147483647\n"
	"        MaxProcessesPerShell = 2147483647\n"
	"        MaxMemoryPerShellMB = 2147483647\n"
	"        MaxShellsPerUser = 2147483647\n"
	"\n";

static const char auth_xml[] = ENV_OPEN
	"<cfg:Auth xmlns:cfg=\"" NS_CONFIG "/service/auth\">"
	"<cfg:Basic>true</cfg:Basic><cfg:Kerberos>true</cfg:Kerberos>"
	"<cfg:Negotiate>true</cfg:Negotiate>"
	"<cfg:Certificate>false</cfg:Certificate>"
	"<cfg:CredSSP>false</cfg:CredSSP>"
	"<cfg:CbtHardeningLevel>Relaxed</cfg:CbtHardeningLevel>"
	"</cfg:Auth>" ENV_CLOSE;

static const char auth_text[] = "Auth\n"
				"    Basic = true\n"
				"    Kerberos = true\n"
				"    Negotiate = true\n"
				"    Certificate = false\n"
				"    CredSSP = false\n"
				"    CbtHardeningLevel = Relaxed\n"
				"\n";

#define LISTENER(addr, transport, port, host, thumb, on)                       \
	"<cfg:Listener xmlns:cfg=\"" NS_CONFIG "/listener\">"                  \
	"<cfg:Address>" addr "</cfg:Address>"                                  \
	"<cfg:Transport>" transport "</cfg:Transport>"                         \
	"<cfg:Port>" port "</cfg:Port>" host "<cfg:Enabled>true</cfg:Enabled>" \
	"<cfg:URLPrefix>wsman</cfg:URLPrefix>" thumb on "</cfg:Listener>"

static const char listeners_xml[] = ENV_OPEN
	"<n:EnumerateResponse><n:EnumerationContext></n:EnumerationContext>"
	"<w:Items>" LISTENER("*", "HTTP", "5985",
			     "<cfg:Hostname></cfg:Hostname>",
			     "<cfg:CertificateThumbprint/>",
			     "<cfg:ListeningOn>127.0.0.1</cfg:ListeningOn>"
			     "<cfg:ListeningOn>192.0.2.10</cfg:ListeningOn>"
			     "<cfg:ListeningOn>::1</cfg:ListeningOn>")
		LISTENER(
			"*", "HTTPS", "5986",
			"<cfg:Hostname>host.example.com</cfg:Hostname>",
			"<cfg:CertificateThumbprint>5C36B638BC31F505EF7F693D9A60C0155"
			"1DD486F</cfg:CertificateThumbprint>",
			"<cfg:ListeningOn>127.0.0.1</cfg:ListeningOn>") "</w:Items><w:EndOfSequence/></n:EnumerateResponse>" ENV_CLOSE;

static const char listeners_text[] =
	"Listener\n"
	"    Address = *\n"
	"    Transport = HTTP\n"
	"    Port = 5985\n"
	"    Hostname\n"
	"    Enabled = true\n"
	"    URLPrefix = wsman\n"
	"    CertificateThumbprint\n"
	"    ListeningOn = 127.0.0.1, 192.0.2.10, ::1\n"
	"\n"
	"Listener\n"
	"    Address = *\n"
	"    Transport = HTTPS\n"
	"    Port = 5986\n"
	"    Hostname = host.example.com\n"
	"    Enabled = true\n"
	"    URLPrefix = wsman\n"
	"    CertificateThumbprint = 5C36B638BC31F505EF7F693D9A60C01551DD486F\n"
	"    ListeningOn = 127.0.0.1\n"
	"\n";

static const char certmapping_xml[] = ENV_OPEN
	"<cfg:CertMapping xmlns:cfg=\"" NS_CONFIG "/service/certmapping\">"
	"<cfg:Issuer>1212131238D84023982E381F20391A2935301923</cfg:Issuer>"
	"<cfg:Subject>*.example.com</cfg:Subject>"
	"<cfg:URI>*</cfg:URI>"
	"<cfg:UserName>mapped &amp; user</cfg:UserName>"
	"<cfg:Enabled>true</cfg:Enabled>"
	"</cfg:CertMapping>" ENV_CLOSE;

static const char certmapping_text[] =
	"CertMapping\n"
	"    Issuer = 1212131238D84023982E381F20391A2935301923\n"
	"    Subject = *.example.com\n"
	"    URI = *\n"
	"    UserName = mapped & user\n"
	"    Enabled = true\n"
	"\n";

static const char created_xml[] = ENV_OPEN
	"<x:ResourceCreated>"
	"<a:Address>" ADDR_ANONYMOUS "</a:Address>"
	"<a:ReferenceParameters>"
	"<w:ResourceURI>" NS_CONFIG "/listener</w:ResourceURI>"
	"<w:SelectorSet><w:Selector Name=\"Address\">*</w:Selector>"
	"<w:Selector Name=\"Transport\">HTTPS</w:Selector></w:SelectorSet>"
	"</a:ReferenceParameters></x:ResourceCreated>" ENV_CLOSE;

static const char created_text[] =
	"ResourceCreated\n"
	"    Address = " ADDR_ANONYMOUS "\n"
	"    ReferenceParameters\n"
	"        ResourceURI = " NS_CONFIG "/listener\n"
	"        SelectorSet\n"
	"            Selector: Address = *, Transport = HTTPS\n"
	"\n";

static const char identify_xml[] =
	"<s:Envelope xmlns:s=\"" NS_SOAP "\"><s:Header/><s:Body>"
	"<wsmid:IdentifyResponse xmlns:wsmid=\"" NS_IDENTITY "\">"
	"<wsmid:ProtocolVersion>" NS_WSMAN "</wsmid:ProtocolVersion>"
	"<wsmid:ProductVendor>Microsoft Corporation</wsmid:ProductVendor>"
	"<wsmid:ProductVersion>OS: 0.0.0 SP: 0.0 Stack: 3.0"
	"</wsmid:ProductVersion>"
	"<wsmid:SecurityProfiles>"
	"<wsmid:SecurityProfileName>" SECPROFILE_PREFIX "http/basic"
	"</wsmid:SecurityProfileName>"
	"<wsmid:SecurityProfileName>" SECPROFILE_PREFIX "http/spnego-kerberos"
	"</wsmid:SecurityProfileName>"
	"</wsmid:SecurityProfiles></wsmid:IdentifyResponse>" ENV_CLOSE;

static const char identify_text[] =
	"IdentifyResponse\n"
	"    ProtocolVersion = " NS_WSMAN "\n"
	"    ProductVendor = Microsoft Corporation\n"
	"    ProductVersion = OS: 0.0.0 SP: 0.0 Stack: 3.0\n"
	"    SecurityProfiles\n"
	"        SecurityProfileName = " SECPROFILE_PREFIX
	"http/basic, " SECPROFILE_PREFIX "http/spnego-kerberos\n"
	"\n";

#define FAULT_MSG                                                              \
	"The WS-Management service cannot process the request because the "    \
	"XML is invalid. "

static const char fault_xml[] = ENV_OPEN
	"<s:Fault><s:Code><s:Value>s:Sender</s:Value>"
	"<s:Subcode><s:Value>w:SchemaValidationError</s:Value></s:Subcode>"
	"</s:Code><s:Reason><s:Text xml:lang=\"en-US\">" FAULT_MSG
	"</s:Text></s:Reason><s:Detail>"
	"<f:WSManFault xmlns:f=\"" NS_WSMANFAULT "\" Code=\"2150858817\""
	" Machine=\"host\"><f:Message>" FAULT_MSG "</f:Message></f:WSManFault>"
	"</s:Detail></s:Fault>" ENV_CLOSE;

static const char fault_text[] =
	"WSManFault\n"
	"    Message = The WS-Management service cannot process the request "
	"because the XML is invalid.\n"
	"\n"
	"Error number:  -2144108479 0x80338041\n"
	"The WS-Management service cannot process the request because the XML "
	"is invalid.\n";

static const char provider_fault_xml[] = ENV_OPEN
	"<s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code>"
	"<s:Reason><s:Text>outer</s:Text></s:Reason><s:Detail>"
	"<f:WSManFault xmlns:f=\"" NS_WSMANFAULT "\" Code=\"2150859113\""
	" Machine=\"m\"><f:Message><f:ProviderFault provider=\"p\">"
	"<f:WSManFault Code=\"2150859113\" Machine=\"m\"><f:Message>"
	"Inner  problem\n text.</f:Message></f:WSManFault>"
	"</f:ProviderFault></f:Message></f:WSManFault>"
	"</s:Detail></s:Fault>" ENV_CLOSE;

static const char provider_fault_text[] =
	"WSManFault\n"
	"    Message\n"
	"        ProviderFault\n"
	"            WSManFault\n"
	"                Message = Inner  problem\n text.\n"
	"\n"
	"Error number:  -2144108183 0x80338169\n"
	"Inner problem text.\n";

static const char plain_fault_xml[] = ENV_OPEN
	"<s:Fault><s:Code><s:Value>s:Sender</s:Value></s:Code>"
	"<s:Reason><s:Text>Bad\n thing</s:Text></s:Reason></s:Fault>" ENV_CLOSE;

static const char plain_fault_text[] = "WSManFault\n"
				       "    Message = Bad thing\n"
				       "\n"
				       "Error number:  -2147467259 0x80004005\n"
				       "Bad thing\n";

static char *format_body(const char *xml, enum ctl_format fmt)
{
	struct ctl_response r;
	struct buf out = BUF_INIT;

	if (ctl_response_parse(xml, strlen(xml), &r) < 0)
		return xstrdup("(unparsable)");
	if (r.is_fault)
		ctl_format_fault(&out, &r, fmt);
	else if (r.body != NULL)
		ctl_format_element(&out, r.body, fmt);
	ctl_response_release(&r);
	return buf_steal(&out);
}

static char *format_enum(const char *xml, enum ctl_format fmt, char **ctx,
			 bool *end)
{
	struct ctl_response r;
	struct ctl_enum_page page;
	struct buf out = BUF_INIT;

	if (ctl_response_parse(xml, strlen(xml), &r) < 0)
		return xstrdup("(unparsable)");
	if (ctl_enum_page(&r, &page) < 0) {
		ctl_response_release(&r);
		return xstrdup("(not an enumeration)");
	}
	for (size_t i = 0; i < page.n_items; i++)
		ctl_format_element(&out, page.items[i], fmt);
	*ctx = page.context != NULL ? xstrdup(page.context) : NULL;
	*end = page.end;
	ctl_enum_page_release(&page);
	ctl_response_release(&r);
	return buf_steal(&out);
}

static void golden(const char *xml, const char *want, const char *what)
{
	char *got = format_body(xml, CTL_FMT_TEXT);
	is_str(got, want, "golden text: %s", what);
	if (strcmp(got, want) != 0)
		tap_diag("got:\n%s", got);
	free(got);
}

static void test_format_golden(void)
{
	golden(config_xml, config_text, "winrm/config");
	golden(auth_xml, auth_text, "winrm/config/service/auth");
	golden(certmapping_xml, certmapping_text, "certmapping");
	golden(created_xml, created_text, "ResourceCreated");
	golden(identify_xml, identify_text, "Identify");
	golden(fault_xml, fault_text, "fault");
	golden(provider_fault_xml, provider_fault_text, "nested fault");
	golden(plain_fault_xml, plain_fault_text, "fault without WSManFault");

	char *ctx = NULL;
	bool end = false;
	char *got = format_enum(listeners_xml, CTL_FMT_TEXT, &ctx, &end);
	is_str(got, listeners_text, "golden text: listener enumeration");
	ok(ctx == NULL && end, "empty context with EndOfSequence ends");
	free(got);
	free(ctx);
}

static void test_format_misc(void)
{
	char *ctx = NULL;
	bool end = true;
	char *got;

	/* A page that must be continued with Pull. */
	got = format_enum(
		ENV_OPEN
		"<n:PullResponse><n:EnumerationContext>"
		"uuid:CTX-1</n:EnumerationContext><n:Items>"
		"<cfg:CertMapping xmlns:cfg=\"" NS_CONFIG
		"/service/certmapping\"><cfg:URI>*</cfg:URI>"
		"</cfg:CertMapping></n:Items></n:PullResponse>" ENV_CLOSE,
		CTL_FMT_TEXT, &ctx, &end);
	is_str(got, "CertMapping\n    URI = *\n\n", "Pull items in n:Items");
	is_str(ctx, "uuid:CTX-1", "context kept for the next Pull");
	ok(!end, "no EndOfSequence: not the end");
	free(got);
	free(ctx);

	got = format_enum(
		ENV_OPEN
		"<n:EnumerateResponse><n:EnumerationContext>"
		"c</n:EnumerationContext></n:EnumerateResponse>" ENV_CLOSE,
		CTL_FMT_TEXT, &ctx, &end);
	is_str(got, "", "no items yet");
	ok(!end && ctx != NULL, "context alone: pull");
	free(got);
	free(ctx);

	got = format_enum(auth_xml, CTL_FMT_TEXT, &ctx, &end);
	is_str(got, "(not an enumeration)", "a Get answer is no page");
	free(got);

	/* XML formats. */
	got = format_body(auth_xml, CTL_FMT_XML);
	is_str(got,
	       "<cfg:Auth xmlns:cfg=\"" NS_CONFIG "/service/auth\">"
	       "<cfg:Basic>true</cfg:Basic><cfg:Kerberos>true"
	       "</cfg:Kerberos><cfg:Negotiate>true</cfg:Negotiate>"
	       "<cfg:Certificate>false</cfg:Certificate><cfg:CredSSP>"
	       "false</cfg:CredSSP><cfg:CbtHardeningLevel>Relaxed"
	       "</cfg:CbtHardeningLevel></cfg:Auth>\n",
	       "-format:xml: the resource element as received");
	free(got);
	got = format_body(created_xml, CTL_FMT_PRETTY);
	contains(got, "<x:ResourceCreated xmlns:x=\"" NS_TRANSFER "\"",
		 "-format:pretty: prefixes declared on the element");
	contains(got, "\n  <a:ReferenceParameters",
		 "-format:pretty: children indented");
	contains(got, "<w:Selector Name=\"Transport\">HTTPS</w:Selector>",
		 "-format:pretty: attributes kept");
	free(got);
	got = format_body(config_xml, CTL_FMT_PRETTY);
	contains(got,
		 "<cfg:Config xmlns:cfg=\"" NS_CONFIG "\">\n"
		 "  <cfg:MaxEnvelopeSizekb>500</cfg:MaxEnvelopeSizekb>",
		 "-format:pretty: whole config");
	free(got);
	got = format_body(fault_xml, CTL_FMT_XML);
	contains(got,
		 "<f:WSManFault xmlns:f=\"" NS_WSMANFAULT "\" Code="
		 "\"2150858817\" Machine=\"host\">",
		 "-format:xml fault: the WSManFault XML");
	contains(got,
		 "</f:WSManFault>\nError number:  -2144108479 "
		 "0x80338041\n",
		 "-format:xml fault: error number");
	free(got);

	/* Corner cases of the text tree. */
	got = format_body(ENV_OPEN
			  "<p:R xmlns:p=\"urn:x\">"
			  "<p:A xsi:nil=\"true\" xmlns:xsi=\"" NS_XSI "\"/>"
			  "<p:B>  padded  </p:B><p:C>1</p:C><p:D>x</p:D>"
			  "<p:C>2</p:C><p:G Source=\"GPO\"><p:H>h</p:H></p:G>"
			  "<p:E/><p:E>e</p:E></p:R>" ENV_CLOSE,
			  CTL_FMT_TEXT);
	is_str(got,
	       "R\n    A = null\n    B = padded\n    C = 1\n    D = x\n"
	       "    C = 2\n    G [Source=\"GPO\"]\n        H = h\n"
	       "    E = , e\n\n",
	       "nil, trimming, only adjacent repeats joined, group Source");
	free(got);
	got = format_body(ENV_OPEN "<p:R xmlns:p=\"urn:x\" a=\"\xC3\xA9\">"
				   "\xC3\xA9t\xC3\xA9</p:R>" ENV_CLOSE,
			  CTL_FMT_XML);
	is_str(got,
	       "<p:R xmlns:p=\"urn:x\" a=\"\xC3\xA9\">\xC3\xA9t\xC3\xA9"
	       "</p:R>\n",
	       "-format:xml keeps UTF-8 as is");
	free(got);
	got = format_body(ENV_OPEN
			  "<p:R xmlns:p=\"urn:x\">\xC3\xA9</p:R>" ENV_CLOSE,
			  CTL_FMT_TEXT);
	is_str(got, "R = \xC3\xA9\n\n", "text keeps UTF-8 as is");
	free(got);
	got = format_body(ENV_OPEN ENV_CLOSE, CTL_FMT_TEXT);
	is_str(got, "", "empty body prints nothing");
	free(got);

	struct ctl_response r;
	ok(ctl_response_parse("<x/>", 4, &r) < 0, "not an envelope: refused");
	ctl_response_release(&r);
	ok(ctl_response_parse("junk", 4, &r) < 0, "not XML: refused");
	ctl_response_release(&r);
	static const char dtd[] = "<!DOCTYPE s:Envelope [<!ENTITY e \"x\">]>"
				  "<s:Envelope xmlns:s=\"" NS_SOAP
				  "\"><s:Body/></s:Envelope>";
	ok(ctl_response_parse(dtd, strlen(dtd), &r) < 0, "DTD: refused");
	ctl_response_release(&r);
	ok(ctl_response_parse("", 0, &r) < 0, "empty: refused");
	ctl_response_release(&r);

	/* UTF-16 answer with a BOM. */
	struct buf u = BUF_INIT;
	buf_append_str(&u, auth_xml);
	is_int(wsman_transcode(&u, WSMAN_UTF16LE), 0, "transcode to UTF-16");
	is_int(ctl_response_parse(u.data, u.len, &r), 0,
	       "UTF-16 answer parsed");
	struct buf out = BUF_INIT;
	if (r.body != NULL)
		ctl_format_element(&out, r.body, CTL_FMT_TEXT);
	is_str(out.data ? (char *)out.data : "", auth_text,
	       "UTF-16 answer printed");
	buf_release(&out);
	ctl_response_release(&r);
	buf_release(&u);

	out = (struct buf)BUF_INIT;
	ctl_format_client_error(&out, CTL_ERR_ACCESS_DENIED,
				"Access is denied.", CTL_FMT_TEXT);
	is_str((char *)out.data,
	       "WSManFault\n    Message = Access is denied.\n\n"
	       "Error number:  -2147024891 0x80070005\nAccess is denied.\n",
	       "client error shape (Access is denied)");
	buf_release(&out);
	ctl_format_client_error(&out, CTL_ERR_CANNOT_CONNECT, "a<b",
				CTL_FMT_XML);
	contains((char *)out.data,
		 "Code=\"2150858770\"><f:Message>a&lt;b"
		 "</f:Message>",
		 "client error as XML, escaped");
	buf_release(&out);
}

/*
 * Request envelopes.
 */

static xmlDoc *parse_back(const struct buf *b)
{
	return xmlReadMemory((const char *)b->data, (int)b->len, NULL, NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR |
				     XML_PARSE_NOWARNING);
}

/* Text of the first node matching expr (caller frees), or NULL. */
static char *xp(xmlDoc *doc, const char *expr)
{
	xmlXPathContext *ctx = xmlXPathNewContext(doc);
	xmlXPathRegisterNs(ctx, BAD_CAST "s", BAD_CAST NS_SOAP);
	xmlXPathRegisterNs(ctx, BAD_CAST "a", BAD_CAST NS_ADDRESSING);
	xmlXPathRegisterNs(ctx, BAD_CAST "w", BAD_CAST NS_WSMAN);
	xmlXPathRegisterNs(ctx, BAD_CAST "n", BAD_CAST NS_ENUMERATION);
	xmlXPathRegisterNs(ctx, BAD_CAST "wsmid", BAD_CAST NS_IDENTITY);
	xmlXPathRegisterNs(ctx, BAD_CAST "xsi", BAD_CAST NS_XSI);
	xmlXPathRegisterNs(ctx, BAD_CAST "auth",
			   BAD_CAST NS_CONFIG "/service/auth");
	xmlXPathRegisterNs(ctx, BAD_CAST "cm",
			   BAD_CAST NS_CONFIG "/service/certmapping");
	xmlXPathRegisterNs(ctx, BAD_CAST "cfg", BAD_CAST NS_CONFIG);
	xmlXPathObject *o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	char *r = NULL;
	if (o != NULL && o->type == XPATH_NODESET && o->nodesetval != NULL &&
	    o->nodesetval->nodeNr > 0) {
		xmlChar *c = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
		r = xstrdup(c ? (const char *)c : "");
		xmlFree(c);
	} else if (o != NULL && o->type == XPATH_NUMBER) {
		r = xasprintf("%g", o->floatval);
	}
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	return r;
}

static void check_xp(xmlDoc *doc, const char *expr, const char *want,
		     const char *what)
{
	char *got = doc != NULL ? xp(doc, expr) : NULL;
	is_str(got, want, "%s: %s", what, expr);
	free(got);
}

#define H "/s:Envelope/s:Header/"

static void test_request_get(void)
{
	struct ctl_resource res;
	struct buf err = BUF_INIT;
	struct buf b = BUF_INIT;
	struct ctl_req_opts o = { .to = "http://localhost/wsman",
				  .timeout_ms = 60000,
				  .max_envelope = 512000 };

	ctl_parse_resource("winrm/config/listener?Address=*+Transport=HTTP",
			   &res, &err);
	ctl_build_request(&b, CTL_ACT_GET, &res, NULL, NULL, &o);
	xmlDoc *doc = parse_back(&b);
	ok(doc != NULL, "Get envelope is well-formed");
	check_xp(doc, H "a:To", "http://localhost/wsman", "Get");
	check_xp(doc, H "w:ResourceURI", NS_CONFIG "/listener", "Get");
	check_xp(doc, H "w:ResourceURI/@s:mustUnderstand", "true", "Get");
	check_xp(doc, H "a:ReplyTo/a:Address", ADDR_ANONYMOUS, "Get");
	check_xp(doc, H "a:Action", ACTION_GET, "Get");
	check_xp(doc, H "w:MaxEnvelopeSize", "512000", "Get");
	check_xp(doc, H "w:OperationTimeout", "PT60.000S", "Get");
	check_xp(doc, H "w:Locale/@xml:lang", "en-US", "Get");
	check_xp(doc, "count(" H "w:SelectorSet/w:Selector)", "2", "Get");
	check_xp(doc, H "w:SelectorSet/w:Selector[@Name='Address']", "*",
		 "Get");
	check_xp(doc, H "w:SelectorSet/w:Selector[@Name='Transport']", "HTTP",
		 "Get");
	check_xp(doc, "count(/s:Envelope/s:Body/*)", "0", "Get");
	char *mid = doc != NULL ? xp(doc, H "a:MessageID") : NULL;
	ok(mid != NULL && strlen(mid) == 41 && strncmp(mid, "uuid:", 5) == 0,
	   "Get: MessageID is uuid:GUID");

	struct buf b2 = BUF_INIT;
	ctl_build_request(&b2, CTL_ACT_GET, &res, NULL, NULL, &o);
	xmlDoc *doc2 = parse_back(&b2);
	char *mid2 = doc2 != NULL ? xp(doc2, H "a:MessageID") : NULL;
	ok(mid != NULL && mid2 != NULL && strcmp(mid, mid2) != 0,
	   "each request has its own MessageID");
	free(mid);
	free(mid2);
	xmlFreeDoc(doc2);
	buf_release(&b2);
	xmlFreeDoc(doc);
	buf_release(&b);
	ctl_resource_release(&res);

	/* Escaping of every variable field. */
	ctl_parse_resource("http://x/<r>?A=<&>\"'", &res, &err);
	o.to = "http://h/?a=1&b=2";
	o.timeout_ms = 1500;
	ctl_build_request(&b, CTL_ACT_DELETE, &res, NULL, NULL, &o);
	doc = parse_back(&b);
	ok(doc != NULL, "Delete envelope with markup in values is well-formed");
	check_xp(doc, H "a:Action", ACTION_DELETE, "Delete");
	check_xp(doc, H "a:To", "http://h/?a=1&b=2", "Delete");
	check_xp(doc, H "w:ResourceURI", "http://x/<r>", "Delete");
	check_xp(doc, H "w:SelectorSet/w:Selector[@Name='A']", "<&>\"'",
		 "Delete");
	check_xp(doc, H "w:OperationTimeout", "PT1.500S", "Delete");
	xmlFreeDoc(doc);
	buf_release(&b);
	ctl_resource_release(&res);
	buf_release(&err);
}

static void test_request_put_create(void)
{
	struct ctl_resource res;
	struct ctl_pair *pairs;
	size_t n;
	struct buf err = BUF_INIT;
	struct buf body = BUF_INIT;
	struct buf b = BUF_INIT;
	struct ctl_req_opts o = { .to = "http://localhost/wsman",
				  .timeout_ms = 60000,
				  .max_envelope = 512000 };

	ctl_parse_resource("winrm/config/service/auth", &res, &err);
	ctl_parse_hash("{Basic=\"true\";CbtHardeningLevel=\"<Strict>\"}",
		       &pairs, &n, &err);
	is_int(ctl_build_input(&body, &res, pairs, n, &err), 0,
	       "Put body built");
	is_str((char *)body.data,
	       "<p:Auth xmlns:p=\"" NS_CONFIG "/service/auth\">"
	       "<p:Basic>true</p:Basic><p:CbtHardeningLevel>&lt;Strict&gt;"
	       "</p:CbtHardeningLevel></p:Auth>",
	       "Put body: partial, in the resource's namespace, escaped");
	ctl_build_request(&b, CTL_ACT_PUT, &res, (char *)body.data, NULL, &o);
	xmlDoc *doc = parse_back(&b);
	ok(doc != NULL, "Put envelope is well-formed");
	check_xp(doc, H "a:Action", ACTION_PUT, "Put");
	check_xp(doc, H "w:ResourceURI", NS_CONFIG "/service/auth", "Put");
	check_xp(doc, "count(" H "w:SelectorSet)", "0", "Put");
	check_xp(doc, "/s:Envelope/s:Body/auth:Auth/auth:Basic", "true", "Put");
	check_xp(doc, "/s:Envelope/s:Body/auth:Auth/auth:CbtHardeningLevel",
		 "<Strict>", "Put");
	check_xp(doc, "count(/s:Envelope/s:Body/auth:Auth/*)", "2", "Put");
	xmlFreeDoc(doc);
	buf_release(&b);
	buf_release(&body);
	ctl_pairs_free(pairs, n);
	ctl_resource_release(&res);

	ctl_parse_resource("winrm/config/service/certmapping?Issuer=12AB"
			   "+Subject=*.example.com+URI=*",
			   &res, &err);
	ctl_parse_hash("{UserName=\"x\";Password=\"p&w\";Enabled=$null}",
		       &pairs, &n, &err);
	is_int(ctl_build_input(&body, &res, pairs, n, &err), 0,
	       "Create body built");
	ctl_build_request(&b, CTL_ACT_CREATE, &res, (char *)body.data, NULL,
			  &o);
	doc = parse_back(&b);
	ok(doc != NULL, "Create envelope is well-formed");
	check_xp(doc, H "a:Action", ACTION_CREATE, "Create");
	check_xp(doc, H "w:SelectorSet/w:Selector[@Name='Issuer']", "12AB",
		 "Create");
	check_xp(doc, H "w:SelectorSet/w:Selector[@Name='Subject']",
		 "*.example.com", "Create");
	check_xp(doc, H "w:SelectorSet/w:Selector[@Name='URI']", "*", "Create");
	check_xp(doc, "/s:Envelope/s:Body/cm:CertMapping/cm:UserName", "x",
		 "Create");
	check_xp(doc, "/s:Envelope/s:Body/cm:CertMapping/cm:Password", "p&w",
		 "Create");
	check_xp(doc, "/s:Envelope/s:Body/cm:CertMapping/cm:Enabled/@xsi:nil",
		 "true", "Create");
	xmlFreeDoc(doc);
	buf_release(&b);
	buf_release(&body);
	ctl_pairs_free(pairs, n);

	/* An empty Create body still names the resource's element. */
	is_int(ctl_build_input(&body, &res, NULL, 0, &err), 0, "empty Create");
	is_str((char *)body.data,
	       "<p:CertMapping xmlns:p=\"" NS_CONFIG
	       "/service/certmapping\"></p:CertMapping>",
	       "empty Create body");
	buf_release(&body);
	ctl_resource_release(&res);

	/* Whole config: Config element in the config namespace. */
	ctl_parse_resource("winrm/config", &res, &err);
	ctl_parse_hash("{MaxEnvelopeSizekb=\"1000\"}", &pairs, &n, &err);
	ctl_build_input(&body, &res, pairs, n, &err);
	is_str((char *)body.data,
	       "<p:Config xmlns:p=\"" NS_CONFIG "\">"
	       "<p:MaxEnvelopeSizekb>1000"
	       "</p:MaxEnvelopeSizekb></p:Config>",
	       "winrm/config Put body");
	buf_release(&body);
	ctl_pairs_free(pairs, n);

	/* Keys that cannot be element names. */
	ctl_parse_hash("{1abc=\"x\"}", &pairs, &n, &err);
	buf_reset(&err);
	is_int(ctl_build_input(&body, &res, pairs, n, &err), -1,
	       "key starting with a digit refused");
	contains((char *)err.data, "not a valid XML element name: 1abc",
		 "error names the key");
	ctl_pairs_free(pairs, n);
	ctl_parse_hash("{p:x=\"x\"}", &pairs, &n, &err);
	buf_reset(&err);
	is_int(ctl_build_input(&body, &res, pairs, n, &err), -1,
	       "key with a colon refused");
	ctl_pairs_free(pairs, n);
	buf_release(&body);
	ctl_resource_release(&res);
	buf_release(&err);
}

static void test_request_enumerate(void)
{
	struct ctl_resource res;
	struct buf err = BUF_INIT;
	struct buf b = BUF_INIT;
	struct ctl_req_opts o = { .to = "http://localhost/wsman",
				  .timeout_ms = 60000,
				  .max_envelope = 512000 };

	ctl_parse_resource("winrm/config/listener", &res, &err);
	ctl_build_request(&b, CTL_ACT_ENUMERATE, &res, NULL, NULL, &o);
	xmlDoc *doc = parse_back(&b);
	ok(doc != NULL, "Enumerate envelope is well-formed");
	check_xp(doc, H "a:Action", ACTION_ENUMERATE, "Enumerate");
	check_xp(doc,
		 "count(/s:Envelope/s:Body/n:Enumerate/"
		 "w:OptimizeEnumeration)",
		 "1", "Enumerate");
	check_xp(doc, "/s:Envelope/s:Body/n:Enumerate/w:MaxElements", "32000",
		 "Enumerate");
	xmlFreeDoc(doc);
	buf_release(&b);

	ctl_build_request(&b, CTL_ACT_PULL, &res, NULL, "uuid:C<1>", &o);
	doc = parse_back(&b);
	ok(doc != NULL, "Pull envelope is well-formed");
	check_xp(doc, H "a:Action", ACTION_PULL, "Pull");
	check_xp(doc, "/s:Envelope/s:Body/n:Pull/n:EnumerationContext",
		 "uuid:C<1>", "Pull");
	check_xp(doc, "/s:Envelope/s:Body/n:Pull/n:MaxElements", "32000",
		 "Pull");
	xmlFreeDoc(doc);
	buf_release(&b);
	ctl_resource_release(&res);

	/* WMI: a WQL filter (escaped), EnumerateEPR, a selector filter */
	ctl_parse_resource("wmicimv2/*", &res, &err);
	struct buf f = BUF_INIT;
	ok(ctl_build_filter(&f, CTL_DIALECT_WQL,
			    "select * from Win32_Process where ProcessId < 10",
			    &err) == 0,
	   "WQL filter built");
	o.filter_xml = (const char *)f.data;
	o.mode = CTL_RET_EPR;
	ctl_build_request(&b, CTL_ACT_ENUMERATE, &res, NULL, NULL, &o);
	doc = parse_back(&b);
	ok(doc != NULL, "Enumerate with a filter is well-formed");
	check_xp(doc, "/s:Envelope/s:Body/n:Enumerate/w:Filter",
		 "select * from Win32_Process where ProcessId < 10",
		 "WQL filter");
	check_xp(doc, "/s:Envelope/s:Body/n:Enumerate/w:Filter/@Dialect",
		 CTL_DIALECT_WQL, "WQL filter");
	check_xp(doc, "/s:Envelope/s:Body/n:Enumerate/w:EnumerationMode",
		 "EnumerateEPR", "WQL filter");
	xmlFreeDoc(doc);
	buf_release(&b);
	buf_release(&f);
	ctl_resource_release(&res);
	ok(ctl_build_filter(&f, CTL_DIALECT_SELECTOR,
			    "@{State=\"Running\";StartMode=\"Auto\"}",
			    &err) == 0 &&
		   strcmp((const char *)f.data,
			  "<w:Filter Dialect=\"" CTL_DIALECT_SELECTOR "\">"
			  "<w:SelectorSet><w:Selector Name=\"State\">Running"
			  "</w:Selector><w:Selector Name=\"StartMode\">Auto"
			  "</w:Selector></w:SelectorSet></w:Filter>") == 0,
	   "a selector filter becomes a w:SelectorSet");
	buf_release(&f);
	ok(ctl_build_filter(&f, CTL_DIALECT_SELECTOR, "State=Running", &err) <
		   0,
	   "a selector filter that is no hash is refused");
	buf_release(&f);
	buf_reset(&err);
	o.filter_xml = NULL;
	o.mode = CTL_RET_OBJECT;

	/* invoke: action <resource URI>/<method>, <p:M_INPUT> body */
	ctl_parse_resource("wmicimv2/Win32_Process?Handle=42", &res, &err);
	free(res.root);
	res.root = xstrdup("Terminate_INPUT");
	struct ctl_pair pair = { (char *)"Reason", (char *)"7", false };
	struct buf in = BUF_INIT;
	ok(ctl_build_input(&in, &res, &pair, 1, &err) == 0, "invoke input");
	o.method = "Terminate";
	ctl_build_request(&b, CTL_ACT_INVOKE, &res, (const char *)in.data, NULL,
			  &o);
	doc = parse_back(&b);
	ok(doc != NULL, "Invoke envelope is well-formed");
	check_xp(doc, H "a:Action",
		 "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/"
		 "Win32_Process/Terminate",
		 "Invoke");
	check_xp(doc,
		 "count(/s:Envelope/s:Body/*[local-name()='Terminate_INPUT'])",
		 "1", "Invoke");
	check_xp(doc, "/s:Envelope/s:Body/*/*", "7", "Invoke");
	check_xp(doc, H "w:SelectorSet/w:Selector[@Name='Handle']", "42",
		 "Invoke");
	xmlFreeDoc(doc);
	buf_release(&b);
	buf_release(&in);
	ctl_resource_release(&res);
	o.method = NULL;

	ctl_build_identify(&b);
	doc = parse_back(&b);
	ok(doc != NULL, "Identify envelope is well-formed");
	check_xp(doc, "count(/s:Envelope/s:Header/*)", "0", "Identify");
	check_xp(doc, "count(/s:Envelope/s:Body/wsmid:Identify)", "1",
		 "Identify");
	xmlFreeDoc(doc);
	buf_release(&b);
	buf_release(&err);
}

static void test_input_file(void)
{
	struct buf out = BUF_INIT;
	struct buf err = BUF_INIT;
	static const char good[] =
		"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<p:Auth xmlns:p=\"urn:a\"><p:Basic>true</p:Basic></p:Auth>\n";

	is_int(ctl_input_from_file(&out, good, strlen(good), "in.xml", &err), 0,
	       "-file: accepted");
	is_str((char *)out.data,
	       "<p:Auth xmlns:p=\"urn:a\"><p:Basic>true</p:Basic></p:Auth>",
	       "-file: BOM, declaration and blanks dropped");
	buf_release(&out);
	static const char *const bad[] = {
		"",
		"   ",
		"<a>",
		"<a/><b/>",
		"text",
		"<?xml version=\"1.0\"",
		"<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&err);
		is_int(ctl_input_from_file(&out, bad[i], strlen(bad[i]),
					   "in.xml", &err),
		       -1, "-file: refused '%s'", bad[i]);
		contains((char *)err.data, "Error: Unable to parse XML: in.xml",
			 "-file: error names the file");
		is_int(out.len, 0, "-file: nothing appended");
	}
	buf_release(&out);
	buf_release(&err);
}

int main(void)
{
	xmlInitParser();
	test_argv_table();
	test_argv_switches();
	test_argv_help();
	test_resources();
	test_hash();
	test_remote();
	test_format_golden();
	test_format_misc();
	test_request_get();
	test_request_put_create();
	test_request_enumerate();
	test_input_file();
	xmlCleanupParser();
	return tap_done();
}
