/*
 * main.c - winrmctl, the winrm.cmd-compatible administration tool of
 * winrmd: get, set, create, delete, enumerate and identify on
 * winrm/config/... over WS-Management, sent to the running daemon's local
 * admin socket (design.md, decision 7) or to a remote -r:URL.
 *
 * Flow: parse the command line (parse.c), resolve the resource and its
 * input, build the envelope (request.c), POST it (transport.c), print the
 * answer or the fault as winrm.cmd does (format.c).  Results go to stdout,
 * errors and faults to stderr.
 *
 * Exit status: 0 success; 1 bad command line, WS-Management fault, refused
 * credentials or unexpected answer; 2 the service could not be reached
 * (not running, permission denied on the socket, network failure).
 *
 * Must not: print credentials, or send them on the local socket.
 *
 * Entry point: main.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "lib/wsman/envelope.h"
#include "winrmctl/format.h"
#include "winrmctl/parse.h"
#include "winrmctl/call.h"
#include "winrmctl/transport.h"
#include "winrmctl/quickconfig.h"
#include "lib/util.h"

#ifdef WINRMD_RUNSTATEDIR
#define DEFAULT_SOCKET WINRMD_RUNSTATEDIR "/admin.sock"
#else
#define DEFAULT_SOCKET "/run/winrmd/admin.sock"
#endif

#define EXIT_FAULT 1
#define EXIT_UNREACHABLE 2

/* Everything one command needs while it runs. */
struct ctx {
	const struct ctl_cmd *cmd;
	struct ctl_transport *transport;
	const char *socket_path; /* local mode */
	char *url;               /* remote mode */
	struct ctl_req_opts req_opts;
};

/*
 * Help.  The topics are winrm.cmd's; the text is winrmctl's own.
 */

static const char help_title[] =
	"winrmctl - winrm-compatible administration of winrmd\n\n";

static const char help_main[] =
	"Usage:\n"
	"  winrmctl OPERATION RESOURCE_URI [-SWITCH:VALUE ...] "
	"[@{KEY=\"VALUE\"[;KEY=\"VALUE\"]}]\n"
	"\n"
	"Operations (help on one: winrmctl OPERATION -?):\n"
	"  g[et]          read a configuration resource\n"
	"  s[et]          change settings of a resource\n"
	"  c[reate]       create a listener or a certificate mapping\n"
	"  d[elete]       delete a listener or a certificate mapping\n"
	"  e[numerate]    list the listeners or certificate mappings\n"
	"  id[entify]     ask the service who it is\n"
	"  quickconfig, qc  set this machine up for WinRM (as root)\n"
	"\n"
	"Topics (winrmctl help TOPIC): config, certmapping, aliases, uris,\n"
	"input, switches, remoting, auth.\n"
	"\n"
	"Without -r, winrmctl talks to the running winrmd on its admin\n"
	"socket (-S PATH, $WINRMD_ADMIN_SOCKET, default " DEFAULT_SOCKET ").\n";

static const char help_get[] =
	"winrmctl get RESOURCE_URI [-SWITCH:VALUE ...]\n"
	"\n"
	"Reads RESOURCE_URI and prints it.\n"
	"\n"
	"Examples:\n"
	"  winrmctl get winrm/config\n"
	"  winrmctl get winrm/config/service/auth -format:pretty\n"
	"  winrmctl get 'winrm/config/listener?Address=*+Transport=HTTP'\n";

static const char help_set[] =
	"winrmctl set RESOURCE_URI [-SWITCH:VALUE ...] "
	"@{KEY=\"VALUE\"[;KEY=\"VALUE\"]}\n"
	"winrmctl set RESOURCE_URI [-SWITCH:VALUE ...] -file:FILE\n"
	"\n"
	"Changes the given settings of RESOURCE_URI and prints the resource\n"
	"as it is afterwards.  Only the keys given are sent.\n"
	"\n"
	"Examples:\n"
	"  winrmctl set winrm/config/service/auth '@{Basic=\"true\"}'\n"
	"  winrmctl set winrm/config '@{MaxEnvelopeSizekb=\"1024\"}'\n"
	"  winrmctl set 'winrm/config/listener?Address=*+Transport=HTTPS' "
	"'@{Enabled=\"false\"}'\n";

static const char help_create[] =
	"winrmctl create RESOURCE_URI [-SWITCH:VALUE ...] "
	"[@{KEY=\"VALUE\"[;KEY=\"VALUE\"]}]\n"
	"\n"
	"Creates the instance RESOURCE_URI names with its selectors.\n"
	"\n"
	"Examples:\n"
	"  winrmctl create 'winrm/config/listener?Address=*+Transport=HTTPS' "
	"'@{Hostname=\"host.example.com\";CertificateThumbprint=\"XX...\"}'\n"
	"  winrmctl create 'winrm/config/service/certmapping?Issuer=THUMBPRINT"
	"+Subject=*@example.com+URI=*' '@{UserName=\"USER\"}'\n";

static const char help_delete[] =
	"winrmctl delete RESOURCE_URI [-SWITCH:VALUE ...]\n"
	"\n"
	"Deletes the instance RESOURCE_URI names with its selectors.\n"
	"\n"
	"Examples:\n"
	"  winrmctl delete 'winrm/config/listener?Address=IP:192.0.2.1"
	"+Transport=HTTP'\n"
	"  winrmctl delete 'winrm/config/service/certmapping?Issuer=THUMBPRINT"
	"+Subject=*@example.com+URI=*'\n";

static const char help_enumerate[] =
	"winrmctl enumerate RESOURCE_URI [-SWITCH:VALUE ...]\n"
	"\n"
	"Lists every instance of RESOURCE_URI (Enumerate, then Pull until the\n"
	"end of the sequence).\n"
	"\n"
	"Examples:\n"
	"  winrmctl enumerate winrm/config/listener\n"
	"  winrmctl e winrm/config/service/certmapping\n";

static const char help_identify[] =
	"winrmctl identify [-SWITCH:VALUE ...]\n"
	"\n"
	"Sends an Identify request and prints the answer: protocol version,\n"
	"product vendor and version.  With -r and -a:None it is sent\n"
	"unauthenticated (WSMANIDENTIFY: unauthenticated).\n"
	"\n"
	"Examples:\n"
	"  winrmctl id\n"
	"  winrmctl identify -r:https://host.example.com:5986 -a:None\n";

static const char help_config[] =
	"Configuration resources served by winrmd:\n"
	"  winrm/config                          the whole tree "
	"(get, set)\n"
	"  winrm/config/service                  service settings "
	"(get, set)\n"
	"  winrm/config/service/auth             authentication methods "
	"(get, set)\n"
	"  winrm/config/winrs                    remote shell quotas "
	"(get, set)\n"
	"  winrm/config/listener?Address=A+Transport=T\n"
	"                                        listeners (get, set, "
	"create, delete,\n"
	"                                        enumerate)\n"
	"  winrm/config/service/certmapping?Issuer=I+Subject=S+URI=U\n"
	"                                        certificate mappings (get, "
	"set, create,\n"
	"                                        delete, enumerate)\n"
	"winrm/config/client is the WinRM client's configuration: winrmd is a\n"
	"service only and does not serve it.\n"
	"\n"
	"Address is * or IP:ADDRESS; Transport is HTTP or HTTPS.\n"
	"\n"
	"Examples:\n"
	"  winrmctl enumerate winrm/config/listener\n"
	"  winrmctl set winrm/config/service '@{AllowUnencrypted=\"false\"}'\n"
	"  winrmctl set winrm/config/winrs '@{MaxShellsPerUser=\"10\"}'\n";

static const char help_certmapping[] =
	"Certificate mappings (winrm/config/service/certmapping) map client\n"
	"certificates to accounts (Service.Auth.Certificate, an HTTPS\n"
	"listener and ClientCAFile are needed too).  Each entry has three\n"
	"selectors:\n"
	"  Issuer   SHA-1 thumbprint (40 hex digits) of the CA certificate\n"
	"           that signed the client certificate\n"
	"  Subject  matched, without case, against the user principal names\n"
	"           (subjectAltName otherName UPN) and e-mail addresses\n"
	"           (rfc822Name) of the client certificate, never against its\n"
	"           subject DN: an exact name, *@example.com or alice* (one\n"
	"           *, first or last), or * for every certificate of Issuer\n"
	"  URI      the resource URI: *, an exact URI, or a prefix ending in *\n"
	"and the properties UserName (the account, checked with NSS and PAM\n"
	"account management) and Enabled.  There is no Password: winrmd\n"
	"stores none; one given is ignored.  The longest matching Subject\n"
	"wins, then the longest URI; a tie refuses the certificate.\n"
	"\n"
	"Examples:\n"
	"  winrmctl enumerate winrm/config/service/certmapping\n"
	"  winrmctl create 'winrm/config/service/certmapping?Issuer=THUMBPRINT"
	"+Subject=*@example.com+URI=*' '@{UserName=\"USER\"}'\n";

static const char help_aliases[] =
	"Aliases stand for the start of a resource URI:\n"
	"  winrm    = http://schemas.microsoft.com/wbem/wsman/1\n"
	"  wsman    = http://schemas.microsoft.com/wbem/wsman/1\n"
	"  wmi      = http://schemas.microsoft.com/wbem/wsman/1/wmi\n"
	"  wmicimv2 = http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2\n"
	"  cimv2    = http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2\n"
	"  shell    = http://schemas.microsoft.com/wbem/wsman/1/windows/shell\n"
	"\n"
	"Example: winrm/config/service is\n"
	"  http://schemas.microsoft.com/wbem/wsman/1/config/service\n";

static const char help_uris[] =
	"A resource URI is a full URI or an alias form (winrmctl help "
	"aliases),\n"
	"followed by selectors:\n"
	"  RESOURCE_URI?NAME=VALUE[+NAME=VALUE]...\n"
	"Values are taken as typed (no decoding).  Quote the argument for the\n"
	"shell: ? and * are wildcards there.\n"
	"\n"
	"Example:\n"
	"  winrmctl get 'winrm/config/listener?Address=*+Transport=HTTP'\n";

static const char help_input[] =
	"set and create take their input as\n"
	"  @{KEY=\"VALUE\"[;KEY=\"VALUE\"]...}\n"
	"or as an XML file with -file:FILE (used when @{...} is absent or "
	"empty).\n"
	"KEY is made of letters, digits and _; VALUE is any text without a\n"
	"double quote; $null sends an empty (nil) value; keys are unique.\n"
	"\\\" stands for \", so PowerShell's \"@{Key=\\\"value\\\"}\" works "
	"too.\n"
	"In a POSIX shell quote the whole argument, or the shell removes the\n"
	"double quotes:\n"
	"  winrmctl set winrm/config/service/auth '@{Basic=\"true\"}'\n";

static const char help_switches[] =
	"-f[ormat]:FORMAT   text (default), xml, or pretty (indented XML);\n"
	"                   a leading # is ignored (-format:#pretty).  "
	"--xml is\n"
	"                   -format:pretty.\n"
	"-timeout:MS        OperationTimeout in milliseconds (default 60000)\n"
	"-file:FILE         XML input for set and create\n"
	"-S PATH            winrmd's admin socket (also -S:PATH, "
	"--socket=PATH)\n"
	"-skipCAcheck       do not verify the server certificate's chain\n"
	"-skipCNcheck       do not match the server certificate's name\n"
	"-encoding:VALUE    utf-8 (default) or utf-16, with -remote only\n"
	"-V, --version      print the version\n";

static const char help_remoting[] =
	"winrmctl OPERATION ... -r[emote]:[TRANSPORT://]HOST[:PORT][/PREFIX]\n"
	"                       [-un[encrypted]] [-[use]ssl]\n"
	"\n"
	"Sends the request to a remote WS-Management service instead of the\n"
	"local winrmd.  TRANSPORT is http or https; without it the port is\n"
	"5985 (5986 with -usessl), with it 80 or 443.  PREFIX defaults to\n"
	"wsman.  IPv6 addresses go in brackets.\n"
	"\n"
	"winrmctl cannot encrypt WS-Management messages itself: use https, or\n"
	"-unencrypted where the service allows unencrypted traffic.\n"
	"\n"
	"Examples:\n"
	"  winrmctl get winrm/config -r:https://host.example.com:5986 "
	"-a:Basic -u:admin -p:secret\n"
	"  winrmctl id -r:host.example.com -a:None\n";

static const char help_auth[] =
	"winrmctl OPERATION -remote:VALUE [-a[uthentication]:VALUE]\n"
	"                   [-u[sername]:USERNAME] [-p[assword]:PASSWORD]\n"
	"\n"
	"-a: None, Basic, Negotiate (the default) or Kerberos.\n"
	"    Negotiate: Kerberos with the ticket kinit got (SPNEGO), or,\n"
	"    with -u and -p, NTLM (needs the gss-ntlmssp package).\n"
	"    Kerberos: the Kerberos scheme, with the ticket kinit got or\n"
	"    one asked for with -u and -p.  The service principal is\n"
	"    HTTP/HOST, HOST as written in -r (use the name the KDC knows).\n"
	"    Basic sends the password itself: over HTTPS only, unless the\n"
	"    service allows unencrypted traffic.\n"
	"-u: user name on the remote machine: DOMAIN\\USER or USER@DOMAIN\n"
	"    for a domain account, USER (or HOST\\USER) for a local one.\n"
	"-p: password; asked on the terminal when -u is given without it.\n"
	"\n"
	"A refusal (HTTP 401) says which it was: Basic over HTTP where the\n"
	"service does not allow it, no Kerberos ticket on this side, a\n"
	"method the service does not offer, or credentials it rejected.\n"
	"\n"
	"On this machine no credentials are used: winrmd identifies the\n"
	"calling user on its admin socket.\n";

static const struct {
	const char *topic;
	const char *text;
} help_topics[] = {
	{ "get", help_get },
	{ "set", help_set },
	{ "create", help_create },
	{ "delete", help_delete },
	{ "enumerate", help_enumerate },
	{ "identify", help_identify },
	{ "quickconfig", quickconfig_help },
	{ "qc", quickconfig_help },
	{ "config", help_config },
	{ "certmapping", help_certmapping },
	{ "aliases", help_aliases },
	{ "alias", help_aliases },
	{ "uris", help_uris },
	{ "input", help_input },
	{ "@{}", help_input },
	{ "file", help_input },
	{ "switches", help_switches },
	{ "format", help_switches },
	{ "timeout", help_switches },
	{ "remoting", help_remoting },
	{ "remote", help_remoting },
	{ "unencrypted", help_remoting },
	{ "usessl", help_remoting },
	{ "auth", help_auth },
	{ "authentication", help_auth },
	{ "username", help_auth },
	{ "password", help_auth },
};

/* Prints the help on topic (NULL or "": the overview); an unknown topic
 * is an error (exit status 1). */
static int print_help(const char *topic)
{
	const char *text = topic == NULL || topic[0] == '\0' ? help_main : NULL;

	for (size_t i = 0; i < sizeof(help_topics) / sizeof(help_topics[0]);
	     i++)
		if (topic != NULL && strcmp(topic, help_topics[i].topic) == 0)
			text = help_topics[i].text;
	if (text == NULL) {
		fprintf(stderr,
			"winrmctl: no help on \"%s\"; operations: get, set, "
			"create, delete, enumerate, identify; topics: config, "
			"certmapping, aliases, uris, input, switches, "
			"remoting, auth (winrmctl help)\n",
			topic);
		return EXIT_FAULT;
	}
	fputs(help_title, stdout);
	fputs(text, stdout);
	return 0;
}

/*
 * Input of set and create.
 */

static int read_file(const char *path, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char chunk[8192];

	if (fd < 0) {
		fprintf(stderr, "Error: File does not exist: '%s' (%s)\n", path,
			strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		fprintf(stderr, "Error: '%s' is not a regular file\n", path);
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "Error: cannot read '%s': %s\n", path,
				strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > CTL_MAX_ENVELOPE * 8u) {
			fprintf(stderr, "Error: '%s' is too large\n", path);
			close(fd);
			return -1;
		}
		buf_append(out, chunk, (size_t)n);
	}
	close(fd);
	return 0;
}

/* Builds the Put/Create body into body.  Returns 0 or an exit status. */
static int build_body(const struct ctl_cmd *cmd, const struct ctl_resource *res,
		      struct buf *body)
{
	struct ctl_pair *pairs = NULL;
	size_t n = 0;
	struct buf err = BUF_INIT;
	int rc = 0;

	if (cmd->hash != NULL &&
	    ctl_parse_hash(cmd->hash, &pairs, &n, &err) < 0) {
		rc = EXIT_FAULT;
		goto out;
	}
	if (n == 0 && cmd->file != NULL) {
		struct buf data = BUF_INIT;
		if (read_file(cmd->file, &data) < 0 ||
		    ctl_input_from_file(body, (const char *)data.data, data.len,
					cmd->file, &err) < 0)
			rc = EXIT_FAULT;
		buf_release_secret(&data);
		goto out;
	}
	if (n == 0 && cmd->op == CTL_OP_SET) {
		buf_append_str(&err, "Error: No input provided through "
				     "\"@{...}\" or \"-file:\" commandline "
				     "parameters.\n");
		rc = EXIT_FAULT;
		goto out;
	}
	if (ctl_build_input(body, res, pairs, n, &err) < 0)
		rc = EXIT_FAULT;
out:
	if (err.len > 0)
		fputs((const char *)err.data, stderr);
	buf_release(&err);
	for (size_t i = 0; i < n; i++)
		free_secret(pairs[i].value, strlen(pairs[i].value));
	for (size_t i = 0; i < n; i++)
		pairs[i].value = NULL;
	ctl_pairs_free(pairs, n);
	return rc;
}

/*
 * Talking to the service.
 */

static void print_buf(FILE *f, const struct buf *b)
{
	if (b->len > 0 && fwrite(b->data, 1, b->len, f) != b->len)
		exit(EXIT_FAULT);
}

static int report_transport(const struct ctx *x, enum ctl_xfer xfer,
			    const char *why)
{
	struct buf out = BUF_INIT;

	if (x->url == NULL) {
		if (xfer == CTL_XFER_NO_SOCKET)
			fprintf(stderr,
				"winrmctl: cannot reach winrmd at %s: "
				"%s (winrmd listens on Daemon.AdminSocket "
				"while it runs; -S and $WINRMD_ADMIN_SOCKET "
				"choose the path, default " DEFAULT_SOCKET
				")\n",
				x->socket_path, why);
		else if (xfer == CTL_XFER_NOT_RUNNING)
			fprintf(stderr,
				"winrmctl: cannot reach winrmd at %s: "
				"%s (start it with: systemctl start "
				"winrmd)\n",
				x->socket_path, why);
		else if (xfer == CTL_XFER_DENIED)
			fprintf(stderr,
				"winrmctl: cannot reach winrmd at %s: "
				"%s (the admin socket is for root and the "
				"members of Authorization.AdminGroups)\n",
				x->socket_path, why);
		else if (xfer == CTL_XFER_TIMEOUT)
			fprintf(stderr,
				"winrmctl: winrmd at %s did not answer "
				"in time: %s\n",
				x->socket_path, why);
		else
			fprintf(stderr,
				"winrmctl: cannot reach winrmd at %s: "
				"%s\n",
				x->socket_path, why);
		return EXIT_UNREACHABLE;
	}
	char *msg;
	uint32_t code = CTL_ERR_CANNOT_CONNECT;
	switch (xfer) {
	case CTL_XFER_TIMEOUT:
		code = CTL_ERR_TIMEOUT;
		msg = xasprintf("The WinRM client cannot complete the "
				"operation within the time specified (%s: "
				"%s).",
				x->url, why);
		break;
	case CTL_XFER_TLS:
		msg = xasprintf("The TLS connection to %s failed: %s.  For a "
				"test certificate see -skipCAcheck and "
				"-skipCNcheck.",
				x->url, why);
		break;
	default:
		msg = xasprintf("The client cannot connect to the destination "
				"specified in the request (%s: %s).  Verify "
				"that the service on the destination is "
				"running and is accepting requests.",
				x->url, why);
		break;
	}
	ctl_format_client_error(&out, code, msg, x->cmd->format);
	print_buf(stderr, &out);
	buf_release(&out);
	free(msg);
	return EXIT_UNREACHABLE;
}

static int report_denied(const struct ctx *x,
			 const struct ctl_http_reply *reply)
{
	struct buf out = BUF_INIT;
	long status = reply->status;
	const char *offered = reply->offered[0] != '\0' ? reply->offered
							: "nothing";

	ctl_format_client_error(&out, CTL_ERR_ACCESS_DENIED,
				"Access is denied.", x->cmd->format);
	print_buf(stderr, &out);
	buf_release(&out);
	if (x->url == NULL) {
		fprintf(stderr,
			"winrmctl: winrmd refused this user on its "
			"admin socket (HTTP %ld): run winrmctl as root or as "
			"a member of Authorization.AdminGroups\n",
			status);
		return EXIT_FAULT;
	}
	switch (status == 401 ? reply->denial : CTL_DENIAL_NONE) {
	case CTL_DENIAL_BASIC_HTTP:
		fprintf(stderr,
			"winrmctl: %s does not accept Basic over plain HTTP "
			"(its AllowUnencrypted is false; it offers: %s): use "
			"HTTPS (https:// or -usessl), or -a:Negotiate or "
			"-a:Kerberos (HTTP 401)\n",
			x->url, offered);
		break;
	case CTL_DENIAL_NO_TICKET:
		fprintf(stderr,
			"winrmctl: no Kerberos ticket to authenticate to %s "
			"with (%s): run kinit first, or give -u and -p for "
			"NTLM\n",
			x->url, reply->detail);
		break;
	case CTL_DENIAL_CLIENT:
		fprintf(stderr, "winrmctl: cannot authenticate to %s: %s\n",
			x->url, reply->detail);
		break;
	case CTL_DENIAL_NOT_OFFERED:
		fprintf(stderr,
			"winrmctl: %s does not offer this authentication "
			"method (it offers: %s; see -a) (HTTP 401)\n",
			x->url, offered);
		break;
	case CTL_DENIAL_NEEDS_AUTH:
		fprintf(stderr,
			"winrmctl: %s requires authentication (it offers: %s; "
			"see -a, -u and -p) (HTTP 401)\n",
			x->url, offered);
		break;
	case CTL_DENIAL_CREDENTIALS:
		fprintf(stderr,
			"winrmctl: %s rejected the credentials: a wrong user "
			"name or password, a ticket it cannot use, or an "
			"account it refuses (its audit log says which) (HTTP "
			"401)\n",
			x->url);
		break;
	default:
		fprintf(stderr,
			"winrmctl: %s refused the request (HTTP "
			"%ld)\n",
			x->url, status);
		break;
	}
	return EXIT_FAULT;
}

/*
 * POSTs req and parses the answer into r.  Returns 0 when r holds a
 * successful response (r->body may be NULL for an empty one), or the exit
 * status after printing what went wrong.
 */
static int exchange(struct ctx *x, struct buf *req, struct ctl_response *r)
{
	struct ctl_http_reply reply;
	struct buf why = BUF_INIT;
	enum ctl_xfer xfer;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (x->cmd->utf16 && wsman_transcode(req, WSMAN_UTF16LE) < 0) {
		fputs("winrmctl: the request is not valid UTF-8\n", stderr);
		return EXIT_FAULT;
	}
	xfer = ctl_transport_post(x->transport, req, &reply, &why);
	if (xfer != CTL_XFER_OK) {
		rc = report_transport(x, xfer, (const char *)why.data);
		buf_release(&why);
		return rc;
	}
	buf_release(&why);

	if (reply.status == 401 || reply.status == 403) {
		rc = report_denied(x, &reply);
	} else if (reply.body.len == 0 && reply.status == 200) {
		rc = 0;
	} else if (ctl_response_parse(reply.body.data, reply.body.len, r) < 0) {
		fprintf(stderr, "winrmctl: %s answered HTTP %ld %s\n",
			x->url != NULL ? x->url : x->socket_path, reply.status,
			reply.status == 200 ? "with a body that is not a SOAP "
					      "envelope"
					    : "without a WS-Management fault");
		rc = EXIT_FAULT;
	} else if (r->is_fault) {
		struct buf out = BUF_INIT;
		ctl_format_fault(&out, r, x->cmd->format);
		print_buf(stderr, &out);
		buf_release(&out);
		rc = EXIT_FAULT;
	} else if (reply.status != 200) {
		fprintf(stderr, "winrmctl: %s answered HTTP %ld\n",
			x->url != NULL ? x->url : x->socket_path, reply.status);
		rc = EXIT_FAULT;
	}
	if (rc != 0)
		ctl_response_release(r);
	buf_release(&reply.body);
	return rc;
}

/* Prints the response's resource (nothing for an empty body). */
static void print_body(const struct ctx *x, const struct ctl_response *r)
{
	struct buf out = BUF_INIT;

	if (r->body == NULL)
		return;
	ctl_format_element(&out, r->body, x->cmd->format);
	print_buf(stdout, &out);
	buf_release(&out);
}

static int run_enumerate(struct ctx *x, const struct ctl_resource *res)
{
	struct buf req = BUF_INIT;
	struct ctl_response r;
	int rc;
	bool xml = x->cmd->format != CTL_FMT_TEXT;

	ctl_build_request(&req, CTL_ACT_ENUMERATE, res, NULL, NULL,
			  &x->req_opts);
	rc = exchange(x, &req, &r);
	buf_release(&req);
	if (rc != 0)
		return rc;
	if (xml)
		fputs(CTL_RESULTS_OPEN, stdout);
	/* Bounded: a service that never ends the sequence is cut off. */
	for (unsigned pulls = 0;; pulls++) {
		struct ctl_enum_page page;
		if (r.body == NULL || ctl_enum_page(&r, &page) < 0) {
			ctl_response_release(&r);
			fputs("winrmctl: the answer is not an enumeration "
			      "response\n",
			      stderr);
			rc = EXIT_FAULT;
			break;
		}
		for (size_t i = 0; i < page.n_items; i++) {
			struct buf out = BUF_INIT;
			ctl_format_element(&out, page.items[i], x->cmd->format);
			print_buf(stdout, &out);
			buf_release(&out);
		}
		fflush(stdout);
		ctl_response_release(&r);
		if (page.end || pulls >= 100000) {
			ctl_enum_page_release(&page);
			break;
		}
		ctl_build_request(&req, CTL_ACT_PULL, res, NULL, page.context,
				  &x->req_opts);
		ctl_enum_page_release(&page);
		rc = exchange(x, &req, &r);
		buf_release(&req);
		if (rc != 0)
			break;
	}
	if (xml)
		fputs(CTL_RESULTS_CLOSE, stdout);
	return rc;
}

static int run_resource_op(struct ctx *x)
{
	const struct ctl_cmd *cmd = x->cmd;
	struct ctl_resource res;
	struct buf err = BUF_INIT;
	struct buf body = BUF_INIT;
	struct buf req = BUF_INIT;
	struct ctl_response r;
	enum ctl_action act;
	int rc;

	if (ctl_parse_resource(cmd->resource, &res, &err) < 0) {
		fputs((const char *)err.data, stderr);
		buf_release(&err);
		return EXIT_FAULT;
	}
	if (x->url == NULL && res.known == CTL_RES_CLIENT) {
		fprintf(stderr,
			"winrmctl: %s is the configuration of the "
			"WinRM client; winrmd is a WinRM service and has no "
			"client configuration (see winrm/config/service)\n",
			cmd->resource);
		ctl_resource_release(&res);
		return EXIT_FAULT;
	}
	if (cmd->op == CTL_OP_ENUMERATE) {
		rc = run_enumerate(x, &res);
		ctl_resource_release(&res);
		return rc;
	}
	if (cmd->op == CTL_OP_SET || cmd->op == CTL_OP_CREATE) {
		rc = build_body(cmd, &res, &body);
		if (rc != 0) {
			buf_release_secret(&body);
			ctl_resource_release(&res);
			return rc;
		}
	}
	switch (cmd->op) {
	case CTL_OP_SET: act = CTL_ACT_PUT; break;
	case CTL_OP_CREATE: act = CTL_ACT_CREATE; break;
	case CTL_OP_DELETE: act = CTL_ACT_DELETE; break;
	default: act = CTL_ACT_GET; break;
	}
	ctl_build_request(&req, act, &res, (const char *)body.data, NULL,
			  &x->req_opts);
	buf_release_secret(&body);
	rc = exchange(x, &req, &r);
	buf_release_secret(&req);
	if (rc == 0) {
		/* winrm.cmd prints nothing for a successful delete. */
		if (cmd->op != CTL_OP_DELETE)
			print_body(x, &r);
		ctl_response_release(&r);
	}
	ctl_resource_release(&res);
	return rc;
}

static int run_identify(struct ctx *x)
{
	struct buf req = BUF_INIT;
	struct ctl_response r;
	int rc;

	ctl_build_identify(&req);
	rc = exchange(x, &req, &r);
	buf_release(&req);
	if (rc == 0) {
		print_body(x, &r);
		ctl_response_release(&r);
	}
	return rc;
}

/* Asks for a password on the terminal, without echo (caller frees). */
static char *ask_password(const char *user, const char *url)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	struct termios old;
	struct termios quiet;
	struct buf pw = BUF_INIT;
	bool restore = false;

	if (fd < 0)
		return NULL;
	dprintf(fd, "Password for %s at %s: ", user, url);
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n' || c == '\r' || pw.len > 1024)
			break;
		buf_append_byte(&pw, (uint8_t)c);
	}
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	dprintf(fd, "\n");
	close(fd);
	return buf_steal(&pw);
}

/* Remote settings; returns 0 or an exit status. */
static int setup_remote(struct ctx *x, struct ctl_transport_opts *o,
			char **password_r)
{
	const struct ctl_cmd *cmd = x->cmd;
	struct buf err = BUF_INIT;
	bool https;

	if (ctl_parse_remote(cmd->remote, cmd->usessl, &x->url, &https, &err) <
	    0) {
		fputs((const char *)err.data, stderr);
		buf_release(&err);
		return EXIT_FAULT;
	}
	o->url = x->url;
	o->auth = cmd->auth;
	o->username = cmd->username;
	o->password = cmd->password;
	if (cmd->auth == CTL_AUTH_NONE && cmd->op != CTL_OP_IDENTIFY &&
	    !https && !cmd->unencrypted) {
		/* Nothing to encrypt with: Windows insists likewise. */
		fputs("winrmctl: -a:None over HTTP needs -unencrypted\n",
		      stderr);
		return EXIT_FAULT;
	}
	if (cmd->auth != CTL_AUTH_NONE && !https && !cmd->unencrypted) {
		fputs("winrmctl: winrmctl cannot encrypt WS-Management "
		      "messages over HTTP: use an https:// URL (or -usessl), "
		      "or -unencrypted if the service allows unencrypted "
		      "traffic (AllowUnencrypted)\n",
		      stderr);
		return EXIT_FAULT;
	}
	o->anonymous_identify = cmd->op == CTL_OP_IDENTIFY &&
				cmd->auth == CTL_AUTH_NONE;
	if (cmd->username != NULL && cmd->password == NULL &&
	    cmd->auth != CTL_AUTH_KERBEROS) {
		*password_r = ask_password(cmd->username, x->url);
		if (*password_r == NULL) {
			fputs("winrmctl: -username without -password and no "
			      "terminal to ask for the password on\n",
			      stderr);
			return EXIT_FAULT;
		}
		o->password = *password_r;
	}
	return 0;
}

static int run(const struct ctl_cmd *cmd)
{
	struct ctx x;
	struct ctl_transport_opts o;
	char *asked_password = NULL;
	int rc;

	memset(&x, 0, sizeof(x));
	memset(&o, 0, sizeof(o));
	x.cmd = cmd;
	if (cmd->remote != NULL) {
		rc = setup_remote(&x, &o, &asked_password);
		if (rc != 0)
			goto out;
	} else {
		const char *env = getenv("WINRMD_ADMIN_SOCKET");
		if (cmd->socket_path != NULL)
			x.socket_path = cmd->socket_path;
		else if (env != NULL && env[0] != '\0')
			x.socket_path = env;
		else
			x.socket_path = DEFAULT_SOCKET;
		o.socket_path = x.socket_path;
	}
	x.req_opts.to = x.url != NULL ? x.url : "http://localhost/wsman";
	x.req_opts.timeout_ms = cmd->timeout_ms >= 0 ? cmd->timeout_ms
						     : CTL_DEFAULT_TIMEOUT_MS;
	x.req_opts.max_envelope = CTL_MAX_ENVELOPE;
	o.skip_ca_check = cmd->skip_ca_check;
	o.skip_cn_check = cmd->skip_cn_check;
	o.utf16 = cmd->utf16;
	/* The service may use all of OperationTimeout, then answer. */
	o.timeout_ms = (long)x.req_opts.timeout_ms + 30000;
	x.transport = ctl_transport_new(&o);

	if (cmd->op == CTL_OP_IDENTIFY)
		rc = run_identify(&x);
	else
		rc = run_resource_op(&x);
	ctl_transport_free(x.transport);
out:
	if (asked_password != NULL)
		free_secret(asked_password, strlen(asked_password));
	free(x.url);
	return rc;
}

int main(int argc, char *argv[])
{
	struct ctl_cmd cmd;
	struct buf err = BUF_INIT;
	int rc;

	/* quickconfig works on this machine, not over WS-Management: it has
	 * its own switches (quickconfig.c). */
	if (quickconfig_wanted(argc, argv))
		return quickconfig_main(argc, argv);
	if (ctl_parse_argv(argc, argv, &cmd, &err) < 0) {
		fputs((const char *)err.data, stderr);
		buf_release(&err);
		return EXIT_FAULT;
	}
	buf_release(&err);
	if (cmd.version) {
		printf("winrmctl %s\n", PACKAGE_VERSION);
		rc = 0;
	} else if (cmd.op == CTL_OP_HELP) {
		rc = print_help(cmd.help_topic);
	} else {
		xmlInitParser();
		rc = run(&cmd);
		xmlCleanupParser();
	}
	ctl_cmd_release(&cmd);
	if (fflush(stdout) != 0 && rc == 0)
		rc = EXIT_FAULT;
	return rc;
}
