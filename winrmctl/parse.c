/*
 * parse.c - winrmctl's command-line grammar, modelled on winrm.cmd's own
 * parser: positional OPERATION and RESOURCE_URI first, then -switch:value
 * arguments (also /switch:value) and one @{...} input hash; operation and
 * switch shortcuts; quoted values; \" standing for "; the error messages
 * and their order.  See parse.h and winrmctl(1).
 *
 * Deliberate differences, all documented in winrmctl(1): arguments come
 * already split by the shell; a whole argument in single quotes (as
 * PowerShell users write '@{...}') loses them; --options (winrm.cmd
 * silently skips them) are winrmctl's own (--xml, --socket, --help,
 * --version) or an error; -S PATH names the admin socket.
 *
 * Must not: print, read files or the environment, exit.
 *
 * Entry points: ctl_parse_argv, ctl_parse_resource, ctl_parse_hash,
 * ctl_parse_remote, ctl_parse_format, ctl_op_name.
 */
#include "autoconfig.h"

#include "winrmctl/parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define GENERAL_ERROR                                                          \
	"Error: Invalid use of command line. Type \"winrmctl -?\" for help.\n"
#define HASH_SYNTAX_ERROR                                                      \
	"Syntax Error: input must be of the form "                             \
	"{KEY=\"VALUE\"[;KEY=\"VALUE\"]}\n"

/*
 * Operations: name, shortcuts, number of positional arguments after the
 * operation.
 */
static const struct {
	const char *name;
	enum ctl_op op;
	int n_args;
} ops[] = {
	{ "get", CTL_OP_GET, 1 },
	{ "set", CTL_OP_SET, 1 },
	{ "create", CTL_OP_CREATE, 1 },
	{ "delete", CTL_OP_DELETE, 1 },
	{ "enumerate", CTL_OP_ENUMERATE, 1 },
	{ "identify", CTL_OP_IDENTIFY, 0 },
	{ "invoke", CTL_OP_INVOKE, 2 },
	{ "quickconfig", CTL_OP_QUICKCONFIG, 0 },
	{ "configsddl", CTL_OP_CONFIGSDDL, 1 },
	{ "helpmsg", CTL_OP_HELPMSG, 1 },
};

static const struct {
	const char *shortcut;
	const char *name;
} op_shortcuts[] = {
	{ "g", "get" },       { "s", "set" },          { "put", "set" },
	{ "p", "set" },       { "c", "create" },       { "d", "delete" },
	{ "e", "enumerate" }, { "enum", "enumerate" }, { "i", "invoke" },
	{ "id", "identify" }, { "qc", "quickconfig" },
};

/* Where a switch is allowed (winrm.cmd's lists). */
enum {
	SW_ANY = 1 << 0,         /* every operation */
	SW_SESSION = 1 << 1,     /* every operation but quickconfig */
	SW_DATA = 1 << 2,        /* all but identify and quickconfig */
	SW_ENUM = 1 << 3,        /* enumerate only */
	SW_QC = 1 << 4,          /* quickconfig only */
	SW_UNSUPPORTED = 1 << 5, /* known, but winrmctl refuses it */
};

static const struct {
	const char *name;
	unsigned flags;
} switches[] = {
	{ "?", SW_ANY },
	{ "username", SW_SESSION },
	{ "password", SW_SESSION },
	{ "remote", SW_SESSION },
	{ "authentication", SW_SESSION },
	{ "unencrypted", SW_SESSION },
	{ "usessl", SW_SESSION },
	{ "skipcacheck", SW_SESSION },
	{ "skipcncheck", SW_SESSION },
	{ "skiprevocationcheck", SW_SESSION },
	{ "timeout", SW_SESSION },
	{ "encoding", SW_SESSION },
	{ "format", SW_SESSION },
	{ "file", SW_DATA },
	{ "returntype", SW_ENUM },
	{ "certificate", SW_SESSION | SW_UNSUPPORTED },
	{ "proxyusername", SW_SESSION | SW_UNSUPPORTED },
	{ "proxypassword", SW_SESSION | SW_UNSUPPORTED },
	{ "proxyaccess", SW_SESSION | SW_UNSUPPORTED },
	{ "proxyauthentication", SW_SESSION | SW_UNSUPPORTED },
	{ "defaultcreds", SW_SESSION | SW_UNSUPPORTED },
	{ "spnport", SW_SESSION | SW_UNSUPPORTED },
	{ "dialect", SW_ENUM },
	{ "filter", SW_ENUM },
	{ "options", SW_DATA | SW_UNSUPPORTED },
	{ "fragment", SW_DATA | SW_UNSUPPORTED },
	{ "shallow", SW_ENUM | SW_UNSUPPORTED },
	{ "basepropertiesonly", SW_ENUM | SW_UNSUPPORTED },
	{ "associations", SW_ENUM | SW_UNSUPPORTED },
	{ "quiet", SW_QC | SW_UNSUPPORTED },
	{ "transport", SW_QC | SW_UNSUPPORTED },
	{ "force", SW_QC | SW_UNSUPPORTED },
};

static const struct {
	const char *shortcut;
	const char *name;
} switch_shortcuts[] = {
	{ "a", "authentication" },
	{ "auth", "authentication" },
	{ "pa", "proxyauthentication" },
	{ "proxyauth", "proxyauthentication" },
	{ "pac", "proxyaccess" },
	{ "f", "format" },
	{ "p", "password" },
	{ "pp", "proxypassword" },
	{ "r", "remote" },
	{ "machine", "remote" },
	{ "u", "username" },
	{ "pu", "proxyusername" },
	{ "un", "unencrypted" },
	{ "ssl", "usessl" },
	{ "q", "quiet" },
	{ "c", "certificate" },
};

/* Configuration resources below CTL_WSMAN_URI "/config". */
static const struct {
	const char *suffix;
	const char *root;
	enum ctl_known known;
} known_resources[] = {
	{ "", "Config", CTL_RES_CONFIG },
	{ "/service", "Service", CTL_RES_SERVICE },
	{ "/service/auth", "Auth", CTL_RES_SERVICE_AUTH },
	{ "/service/certmapping", "CertMapping", CTL_RES_CERTMAPPING },
	{ "/listener", "Listener", CTL_RES_LISTENER },
	{ "/winrs", "Winrs", CTL_RES_WINRS },
	/* winrmd's own groups */
	{ "/authorization", "Authorization", CTL_RES_OTHER },
	{ "/throttling", "Throttling", CTL_RES_OTHER },
	{ "/logging", "Logging", CTL_RES_OTHER },
	{ "/client", "Client", CTL_RES_CLIENT },
	{ "/client/auth", "Auth", CTL_RES_CLIENT },
};

static const struct {
	const char *alias;
	const char *uri;
} aliases[] = {
	{ "wmi", "http://schemas.microsoft.com/wbem/wsman/1/wmi" },
	{ "wmicimv2",
	  "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2" },
	{ "cimv2", "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2" },
	{ "winrm", CTL_WSMAN_URI },
	{ "wsman", CTL_WSMAN_URI },
	{ "shell", "http://schemas.microsoft.com/wbem/wsman/1/windows/shell" },
};

/* One named argument as the user gave it. */
struct named {
	char *name;  /* full name, lower case */
	char *value; /* "" when none */
};

/* The command line split as winrm.cmd splits it. */
struct split {
	char **unnamed; /* owned */
	size_t n_unnamed;
	struct named *named;
	size_t n_named;
	/* Index among all (unnamed + named) arguments of the first switch,
	 * -1 if none; and of each argument's "position name". */
	long first_switch;
	char **position; /* borrowed from unnamed/named */
	size_t n_position;
};

static void split_release(struct split *s)
{
	for (size_t i = 0; i < s->n_unnamed; i++)
		free(s->unnamed[i]);
	free(s->unnamed);
	for (size_t i = 0; i < s->n_named; i++) {
		free(s->named[i].name);
		free(s->named[i].value);
	}
	free(s->named);
	free(s->position);
	memset(s, 0, sizeof(*s));
}

static void lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Replaces each \" by " in place (winrm.cmd does so on every value). */
static void unescape_quotes(char *s)
{
	char *w = s;
	for (const char *r = s; *r != '\0'; r++) {
		if (r[0] == '\\' && r[1] == '"')
			r++;
		*w++ = *r;
	}
	*w = '\0';
}

static bool ends_with_char(const char *s, char c)
{
	size_t n = strlen(s);
	return n > 0 && s[n - 1] == c;
}

static const char *switch_full_name(const char *name)
{
	for (size_t i = 0; i < N_ELEMS(switch_shortcuts); i++)
		if (strcmp(switch_shortcuts[i].shortcut, name) == 0)
			return switch_shortcuts[i].name;
	return name;
}

static int switch_index(const char *name)
{
	for (size_t i = 0; i < N_ELEMS(switches); i++)
		if (strcmp(switches[i].name, name) == 0)
			return (int)i;
	return -1;
}

static const char *op_full_name(const char *name)
{
	for (size_t i = 0; i < N_ELEMS(op_shortcuts); i++)
		if (strcmp(op_shortcuts[i].shortcut, name) == 0)
			return op_shortcuts[i].name;
	return name;
}

static const struct named *find_named(const struct split *s, const char *name)
{
	for (size_t i = 0; i < s->n_named; i++)
		if (strcmp(s->named[i].name, name) == 0)
			return &s->named[i];
	return NULL;
}

static void add_position(struct split *s, char *name)
{
	s->position = xrealloc(s->position,
			       (s->n_position + 1) * sizeof(*s->position));
	s->position[s->n_position++] = name;
}

/* A -name:value or /name:value argument. */
static int split_named(struct split *s, const char *arg, struct buf *err)
{
	const char *colon = strchr(arg, ':');
	char *name;
	char *value;

	if (colon != NULL) {
		const char *v = colon + 1;
		bool quoted = false;
		name = xstrndup(arg + 1, (size_t)(colon - arg - 1));
		lower(name);
		if (*v == '"') {
			if (!ends_with_char(arg, '"')) {
				buf_printf(err,
					   "Error: A quoted parameter "
					   "value must begin and end with "
					   "quotes: %s\n",
					   name);
				free(name);
				return -1;
			}
			quoted = true;
		} else if (ends_with_char(arg, '"')) {
			buf_printf(err,
				   "Error: A quoted parameter value must "
				   "begin and end with quotes: %s\n",
				   name);
			free(name);
			return -1;
		}
		if (quoted) {
			size_t n = strlen(v);
			value = xstrndup(v + 1, n >= 2 ? n - 2 : 0);
		} else {
			value = xstrdup(v);
		}
	} else {
		name = xstrdup(arg + 1);
		lower(name);
		value = xstrdup("");
	}

	const char *full = switch_full_name(name);
	if (full != name) {
		free(name);
		name = xstrdup(full);
	}
	if (name[0] == '\0') {
		buf_append_str(err, "Error: Missing switch name\n");
		free(name);
		free(value);
		return -1;
	}
	if (find_named(s, name) != NULL) {
		buf_printf(err, "Error: Option is not unique: %s\n", name);
		free(name);
		free(value);
		return -1;
	}
	unescape_quotes(value);
	if (s->n_named == 0)
		s->first_switch = (long)s->n_position;
	s->named = xrealloc(s->named, (s->n_named + 1) * sizeof(*s->named));
	s->named[s->n_named].name = name;
	s->named[s->n_named].value = value;
	s->n_named++;
	add_position(s, name);
	return 0;
}

/* A positional argument: outer quotes and \" as winrm.cmd handles them. */
static void split_unnamed(struct split *s, const char *arg)
{
	size_t n = strlen(arg);
	char *v;

	/* PowerShell users quote '@{...}'; the shell here passes the quotes. */
	if (n >= 2 && arg[0] == '\'' && arg[n - 1] == '\'') {
		arg++;
		n -= 2;
	}
	if (n >= 2 && arg[0] == '"' && arg[n - 1] == '"')
		v = xstrndup(arg + 1, n - 2);
	else
		v = xstrndup(arg, n);
	unescape_quotes(v);

	/* The operation's shortcut is resolved here, as winrm.cmd does. */
	if (s->n_unnamed == 0) {
		char *l = xstrdup(v);
		lower(l);
		const char *full = op_full_name(l);
		if (full != l) {
			free(v);
			v = xstrdup(full);
		}
		free(l);
	}
	s->unnamed = xrealloc(s->unnamed,
			      (s->n_unnamed + 1) * sizeof(*s->unnamed));
	s->unnamed[s->n_unnamed++] = v;
	add_position(s, v);
}

/*
 * Takes winrmctl's own options out of argv (-S PATH, --socket, --xml,
 * --help, --version or -V) and splits the rest.  *help_r is set for --help.
 */
static int split_argv(int argc, char *const argv[], struct split *s,
		      struct ctl_cmd *cmd, bool *help_r, struct buf *err)
{
	s->first_switch = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *path = NULL;

		if (strcmp(a, "-S") == 0 || strcmp(a, "--socket") == 0) {
			if (i + 1 >= argc) {
				buf_printf(err,
					   "winrmctl: %s needs a socket "
					   "path\n",
					   a);
				return -1;
			}
			path = argv[++i];
		} else if (strncmp(a, "-S:", 3) == 0) {
			path = a + 3;
		} else if (strncmp(a, "--socket=", 9) == 0) {
			path = a + 9;
		} else if (strcmp(a, "--xml") == 0) {
			cmd->format = CTL_FMT_PRETTY;
			continue;
		} else if (strcmp(a, "--help") == 0) {
			*help_r = true;
			continue;
		} else if (strcmp(a, "--version") == 0 ||
			   strcmp(a, "-V") == 0) {
			cmd->version = true;
			continue;
		} else if (strncmp(a, "--", 2) == 0 ||
			   strncmp(a, "//", 2) == 0) {
			buf_printf(err, "winrmctl: unknown option %s\n", a);
			return -1;
		}
		if (path != NULL) {
			if (path[0] == '\0') {
				buf_append_str(err, "winrmctl: the socket path "
						    "is empty\n");
				return -1;
			}
			free(cmd->socket_path);
			cmd->socket_path = xstrdup(path);
			continue;
		}
		if (a[0] == '-' || a[0] == '/') {
			if (split_named(s, a, err) < 0)
				return -1;
		} else if (a[0] != '\0') {
			split_unnamed(s, a);
		}
	}
	return 0;
}

/* The "position name" of argument i, lower case ("" past the end). */
static char *position_lower(const struct split *s, size_t i)
{
	char *p = xstrdup(i < s->n_position ? s->position[i] : "");
	lower(p);
	return p;
}

static int set_help(struct ctl_cmd *cmd, const char *topic)
{
	cmd->op = CTL_OP_HELP;
	cmd->help_topic = xstrdup(op_full_name(topic));
	return 0;
}

/* The first unnamed argument that starts with '@', or NULL. */
static const char *at_argument(const struct split *s)
{
	for (size_t i = 1; i < s->n_unnamed; i++)
		if (s->unnamed[i][0] == '@')
			return s->unnamed[i];
	return NULL;
}

/* winrm.cmd's argument checks, in its order. */
static int validate(const struct split *s, struct ctl_cmd *cmd, int op_i,
		    struct buf *err)
{
	bool valid = true;
	size_t expected = (size_t)ops[op_i].n_args + 1;
	size_t count = s->n_unnamed;
	const char *at = at_argument(s);
	unsigned mask;

	if (at != NULL)
		count--;
	if (count != expected)
		valid = false;
	/* Positional arguments first, switches after them. */
	if (s->first_switch >= 0 && (size_t)s->first_switch < expected)
		valid = false;
	/* The resource is positional; an @{...} in its place is misuse. */
	if (expected > 1 && s->n_unnamed > 1 && s->unnamed[1][0] == '@')
		valid = false;

	if ((at != NULL || find_named(s, "file") != NULL) &&
	    cmd->op != CTL_OP_SET && cmd->op != CTL_OP_CREATE &&
	    cmd->op != CTL_OP_INVOKE) {
		buf_append_str(err, "Error: Input was supplied to an operation "
				    "that does not accept input.\n");
		return -1;
	}

	switch (cmd->op) {
	case CTL_OP_QUICKCONFIG: mask = SW_ANY | SW_QC; break;
	case CTL_OP_IDENTIFY: mask = SW_ANY | SW_SESSION; break;
	case CTL_OP_ENUMERATE:
		mask = SW_ANY | SW_SESSION | SW_DATA | SW_ENUM;
		break;
	default: mask = SW_ANY | SW_SESSION | SW_DATA; break;
	}
	for (size_t i = 0; i < s->n_named; i++) {
		int k = switch_index(s->named[i].name);
		if (k < 0) {
			valid = false;
			buf_printf(err, "Error: Unknown switch: %s\n",
				   s->named[i].name);
		} else if ((switches[k].flags & mask) == 0) {
			valid = false;
			buf_printf(err,
				   "Error: Switch not allowed with the "
				   "given operation: %s\n",
				   s->named[i].name);
		}
	}
	if (!valid) {
		buf_append_str(err, GENERAL_ERROR);
		return -1;
	}
	return 0;
}

/* A switch that needs a value (winrm.cmd's ASSERTNAL). */
static const char *need_value(const struct split *s, const char *name,
			      struct buf *err)
{
	const struct named *n = find_named(s, name);
	if (n != NULL && n->value[0] == '\0') {
		buf_printf(err, "Error: Argument's value is not provided: %s\n",
			   name);
		return NULL;
	}
	return n != NULL ? n->value : NULL;
}

static int parse_auth(const struct split *s, struct ctl_cmd *cmd,
		      struct buf *err)
{
	bool have_user = find_named(s, "username") != NULL;
	bool have_pass = find_named(s, "password") != NULL;
	bool have_cert = find_named(s, "certificate") != NULL;
	const char *v;

	if (find_named(s, "authentication") == NULL)
		return 0;
	if ((v = need_value(s, "authentication", err)) == NULL)
		return -1;
	cmd->auth_given = true;
	if (strcasecmp(v, "none") == 0) {
		if (have_cert) {
			buf_append_str(err, "Error: The '-certificate' option "
					    "is not valid for '-auth:none'\n");
			return -1;
		}
		if (have_user || have_pass) {
			buf_printf(err,
				   "Error: The '-%s' option is not valid "
				   "for '-auth:none'\n",
				   have_user ? "username" : "password");
			return -1;
		}
		cmd->auth = CTL_AUTH_NONE;
		return 0;
	}
	if (strcasecmp(v, "basic") == 0 || strcasecmp(v, "digest") == 0 ||
	    strcasecmp(v, "credssp") == 0) {
		char *l = xstrdup(v);
		lower(l);
		if (!have_user) {
			buf_printf(err,
				   "Error: The '-username' option must be "
				   "specified for '-auth:%s'\n",
				   l);
			free(l);
			return -1;
		}
		if (have_cert) {
			buf_printf(err,
				   "Error: The '-certificate' option is "
				   "not valid for '-auth:%s'\n",
				   l);
			free(l);
			return -1;
		}
		free(l);
		if (strcasecmp(v, "basic") != 0) {
			buf_printf(err,
				   "winrmctl: %s authentication is not "
				   "supported by winrmctl\n",
				   strcasecmp(v, "digest") == 0 ? "Digest"
								: "CredSSP");
			return -1;
		}
		cmd->auth = CTL_AUTH_BASIC;
		return 0;
	}
	if (strcasecmp(v, "kerberos") == 0 || strcasecmp(v, "negotiate") == 0) {
		if (have_cert) {
			bool krb = strcasecmp(v, "kerberos") == 0;
			buf_printf(err,
				   "Error: The '-certificate' option is "
				   "not valid for '-auth:%s'\n",
				   krb ? "kerberos" : "negotiate");
			return -1;
		}
		cmd->auth = strcasecmp(v, "kerberos") == 0 ? CTL_AUTH_KERBEROS
							   : CTL_AUTH_NEGOTIATE;
		return 0;
	}
	if (strcasecmp(v, "certificate") == 0) {
		buf_append_str(err, "winrmctl: Certificate authentication is "
				    "not supported by winrmctl\n");
		return -1;
	}
	buf_printf(err,
		   "Error: The specified '-authentication' flag '%s' has "
		   "an invalid value.\n",
		   v);
	return -1;
}

/* -filter and -dialect of enumerate (winrm.cmd: a filter without a
 * dialect is WQL; a dialect without a filter is an error). */
static int parse_filter(const struct split *s, struct ctl_cmd *cmd,
			struct buf *err)
{
	static const struct {
		const char *alias, *uri;
	} dialects[] = {
		{ "wql", CTL_DIALECT_WQL },
		{ "selector", CTL_DIALECT_SELECTOR },
		{ "association", CTL_DIALECT_ASSOCIATION },
	};
	const char *filter = NULL, *dialect = NULL;
	if (find_named(s, "filter") != NULL &&
	    (filter = need_value(s, "filter", err)) == NULL)
		return -1;
	if (find_named(s, "dialect") != NULL &&
	    (dialect = need_value(s, "dialect", err)) == NULL)
		return -1;
	if (dialect != NULL && filter == NULL) {
		buf_append_str(err, "Error: The '-dialect' option is only "
				    "valid when used with the '-filter' "
				    "option\n");
		return -1;
	}
	if (filter == NULL)
		return 0;
	cmd->filter = xstrdup(filter);
	const char *uri = dialect != NULL ? dialect : CTL_DIALECT_WQL;
	for (size_t i = 0; i < N_ELEMS(dialects); i++)
		if (strcasecmp(uri, dialects[i].alias) == 0)
			uri = dialects[i].uri;
	cmd->dialect = xstrdup(uri);
	return 0;
}

/* winrm.cmd's session checks (its CreateSession), in its order. */
static int parse_session(const struct split *s, struct ctl_cmd *cmd,
			 struct buf *err)
{
	const struct named *n;
	const char *v;
	bool remote = find_named(s, "remote") != NULL;

	if ((n = find_named(s, "format")) != NULL) {
		int f = ctl_parse_format(n->value);
		if (f < 0) {
			buf_printf(err, "Invalid option for -format: \"%s\"\n",
				   n->value);
			return -1;
		}
		cmd->format = (enum ctl_format)f;
	}
	if (find_named(s, "encoding") != NULL) {
		if ((v = need_value(s, "encoding", err)) == NULL)
			return -1;
		if (!remote) {
			buf_append_str(err, "Error: The '-encoding' option is "
					    "only valid when used with the "
					    "'-remote' option\n");
			return -1;
		}
		if (strcasecmp(v, "utf-16") == 0) {
			cmd->utf16 = true;
		} else if (strcasecmp(v, "utf-8") != 0) {
			buf_append_str(err, "Error: The specified encoding "
					    "flag is invalid.\n");
			return -1;
		}
	}
	if (find_named(s, "unencrypted") != NULL) {
		if (!remote) {
			buf_append_str(err, "Error: The '-unencrypted' option "
					    "is only valid when used with the "
					    "'-remote' option\n");
			return -1;
		}
		cmd->unencrypted = true;
	}
	if (find_named(s, "usessl") != NULL) {
		if (!remote) {
			buf_append_str(err, "Error: The '-usessl' option is "
					    "only valid when used with the "
					    "'-remote' option\n");
			return -1;
		}
		cmd->usessl = true;
	}
	if (parse_auth(s, cmd, err) < 0)
		return -1;
	if ((n = find_named(s, "username")) != NULL) {
		if (find_named(s, "certificate") != NULL) {
			buf_append_str(err, "Error: The '-certificate' option "
					    "cannot be used together with "
					    "'-username'\n");
			return -1;
		}
		cmd->username = xstrdup(n->value);
		if ((n = find_named(s, "password")) != NULL)
			cmd->password = xstrdup(n->value);
	} else if (find_named(s, "password") != NULL) {
		buf_append_str(err,
			       "Error: The '-password' option is only "
			       "valid when used with the '-username' option\n");
		return -1;
	}
	cmd->skip_ca_check = find_named(s, "skipcacheck") != NULL;
	cmd->skip_cn_check = find_named(s, "skipcncheck") != NULL;
	cmd->skip_revocation = find_named(s, "skiprevocationcheck") != NULL;
	if (find_named(s, "timeout") != NULL) {
		if ((v = need_value(s, "timeout", err)) == NULL)
			return -1;
		char *end;
		errno = 0;
		unsigned long long t = strtoull(v, &end, 10);
		if (!isdigit((unsigned char)v[0]) || *end != '\0' ||
		    errno != 0 || t > 4294967295ULL) {
			buf_append_str(err, "Error: Numeric value for -timeout "
					    "option is expected\n");
			return -1;
		}
		cmd->timeout_ms = (int64_t)t;
	}
	if (remote) {
		if ((v = need_value(s, "remote", err)) == NULL)
			return -1;
		cmd->remote = xstrdup(v);
	} else if (cmd->username != NULL) {
		buf_append_str(err, "winrmctl: -username and -password are for "
				    "-remote: on this machine winrmd knows the "
				    "calling user from the admin socket\n");
		return -1;
	}
	if ((n = find_named(s, "returntype")) != NULL &&
	    strcasecmp(n->value, "object") != 0) {
		if (strcasecmp(n->value, "epr") == 0) {
			cmd->return_type = CTL_RET_EPR;
		} else if (strcasecmp(n->value, "objectandepr") == 0) {
			cmd->return_type = CTL_RET_OBJECT_AND_EPR;
		} else {
			buf_printf(err,
				   "Error: -returntype:%s is not a valid "
				   "option\n",
				   n->value);
			return -1;
		}
	}
	if (parse_filter(s, cmd, err) < 0)
		return -1;
	if ((n = find_named(s, "file")) != NULL) {
		if (n->value[0] == '\0') {
			buf_append_str(err, "Error: Argument's value is not "
					    "provided: file\n");
			return -1;
		}
		cmd->file = xstrdup(n->value);
	}
	for (size_t i = 0; i < s->n_named; i++) {
		int k = switch_index(s->named[i].name);
		if (k >= 0 && (switches[k].flags & SW_UNSUPPORTED)) {
			buf_printf(err,
				   "winrmctl: the -%s switch is not "
				   "supported by winrmctl\n",
				   switches[k].name);
			return -1;
		}
	}
	return 0;
}

int ctl_parse_argv(int argc, char *const argv[], struct ctl_cmd *cmd,
		   struct buf *err)
{
	struct split s;
	bool help = false;
	int op_i = -1;
	int rc = -1;

	memset(cmd, 0, sizeof(*cmd));
	memset(&s, 0, sizeof(s));
	cmd->timeout_ms = -1;
	if (split_argv(argc, argv, &s, cmd, &help, err) < 0)
		goto out;

	/* Help: no argument, "help" or "-?" first, or "-?" anywhere. */
	char *one = position_lower(&s, 0);
	char *two = position_lower(&s, 1);
	if (cmd->version) {
		rc = 0;
	} else if (help || strcmp(one, "help") == 0 || strcmp(one, "?") == 0 ||
		   one[0] == '\0') {
		rc = set_help(cmd, help && one[0] != '\0' ? one : two);
	} else if (find_named(&s, "?") != NULL) {
		rc = set_help(cmd, one);
	}
	free(one);
	free(two);
	if (rc == 0 || cmd->version)
		goto out;

	if (s.n_unnamed > 0) {
		cmd->op_name = xstrdup(s.unnamed[0]);
		lower(cmd->op_name);
	} else {
		cmd->op_name = xstrdup("");
	}
	for (size_t i = 0; i < N_ELEMS(ops); i++)
		if (strcmp(ops[i].name, cmd->op_name) == 0)
			op_i = (int)i;
	if (op_i < 0) {
		buf_printf(err, "Error: Unknown operation name: '%s'\n",
			   cmd->op_name);
		goto out;
	}
	cmd->op = ops[op_i].op;
	if (validate(&s, cmd, op_i, err) < 0)
		goto out;
	if (parse_session(&s, cmd, err) < 0)
		goto out;
	if (cmd->op == CTL_OP_QUICKCONFIG || cmd->op == CTL_OP_CONFIGSDDL ||
	    cmd->op == CTL_OP_HELPMSG) {
		buf_printf(err,
			   "winrmctl: the %s operation is not supported "
			   "by winrmctl\n",
			   ops[op_i].name);
		goto out;
	}
	if (cmd->op == CTL_OP_INVOKE) {
		/* winrm invoke ACTION RESOURCE_URI [@{...}] */
		cmd->method = xstrdup(s.unnamed[1]);
		cmd->resource = xstrdup(s.unnamed[2]);
	} else if (ops[op_i].n_args >= 1) {
		cmd->resource = xstrdup(s.unnamed[1]);
	}
	const char *at = at_argument(&s);
	if (at != NULL)
		cmd->hash = xstrdup(at + 1);
	rc = 0;
out:
	split_release(&s);
	if (rc < 0) {
		ctl_cmd_release(cmd);
		cmd->timeout_ms = -1;
	}
	return rc;
}

void ctl_cmd_release(struct ctl_cmd *cmd)
{
	free(cmd->op_name);
	free(cmd->resource);
	free(cmd->hash);
	free(cmd->help_topic);
	free(cmd->remote);
	free(cmd->username);
	if (cmd->password != NULL)
		free_secret(cmd->password, strlen(cmd->password));
	free(cmd->file);
	free(cmd->socket_path);
	free(cmd->method);
	free(cmd->filter);
	free(cmd->dialect);
	memset(cmd, 0, sizeof(*cmd));
}

int ctl_parse_format(const char *text)
{
	if (text[0] == '#')
		text++;
	if (strcasecmp(text, "xml") == 0)
		return CTL_FMT_XML;
	if (strcasecmp(text, "pretty") == 0)
		return CTL_FMT_PRETTY;
	if (strcasecmp(text, "text") == 0)
		return CTL_FMT_TEXT;
	return -1;
}

const char *ctl_op_name(enum ctl_op op)
{
	for (size_t i = 0; i < N_ELEMS(ops); i++)
		if (ops[i].op == op)
			return ops[i].name;
	return op == CTL_OP_HELP ? "help" : "";
}

/*
 * Resources.
 */

void ctl_pairs_free(struct ctl_pair *pairs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(pairs[i].name);
		free(pairs[i].value);
	}
	free(pairs);
}

void ctl_resource_release(struct ctl_resource *res)
{
	free(res->uri);
	free(res->root);
	free(res->ns);
	ctl_pairs_free(res->selectors, res->n_selectors);
	memset(res, 0, sizeof(*res));
}

static void add_pair(struct ctl_pair **pairs, size_t *n, const char *name,
		     size_t name_len, const char *value, size_t value_len,
		     bool is_null)
{
	*pairs = xrealloc(*pairs, (*n + 1) * sizeof(**pairs));
	(*pairs)[*n].name = xstrndup(name, name_len);
	(*pairs)[*n].value = xstrndup(value, value_len);
	(*pairs)[*n].is_null = is_null;
	(*n)++;
}

/* Alias expansion: "winrm/config" -> CTL_WSMAN_URI "/config". */
static char *expand_alias(const char *path, size_t len)
{
	const char *slash = memchr(path, '/', len);
	size_t head = slash != NULL ? (size_t)(slash - path) : len;

	for (size_t i = 0; i < N_ELEMS(aliases); i++) {
		if (strlen(aliases[i].alias) == head &&
		    strncasecmp(aliases[i].alias, path, head) == 0) {
			struct buf b = BUF_INIT;
			buf_append_str(&b, aliases[i].uri);
			buf_append(&b, path + head, len - head);
			return buf_steal(&b);
		}
	}
	return xstrndup(path, len);
}

/* winrm.cmd's root element for an unknown resource: the URI's last token
 * ([a-z_][-a-z0-9._]* at its end, any case). */
static char *last_token(const char *uri)
{
	size_t n = strlen(uri);
	size_t start = n;

	while (start > 0) {
		unsigned char c = (unsigned char)uri[start - 1];
		if (!isalnum(c) && c != '_' && c != '-' && c != '.')
			break;
		start--;
	}
	/* The token must start with a letter or '_'. */
	while (start < n && !isalpha((unsigned char)uri[start]) &&
	       uri[start] != '_')
		start++;
	return start < n ? xstrdup(uri + start) : NULL;
}

static int parse_selectors(const char *q, struct ctl_resource *res,
			   const char *text, struct buf *err)
{
	for (;;) {
		const char *plus = strchr(q, '+');
		size_t len = plus != NULL ? (size_t)(plus - q) : strlen(q);
		const char *eq = memchr(q, '=', len);

		if (eq == NULL || eq == q) {
			buf_append_str(err, "Error: Unable to create "
					    "ResourceLocator object.\n");
			buf_printf(err,
				   "winrmctl: invalid selector \"%.*s\" "
				   "in \"%s\": expected "
				   "NAME=VALUE[+NAME=VALUE]\n",
				   (int)len, q, text);
			return -1;
		}
		size_t name_len = (size_t)(eq - q);
		for (size_t i = 0; i < res->n_selectors; i++) {
			if (strlen(res->selectors[i].name) == name_len &&
			    strncasecmp(res->selectors[i].name, q, name_len) ==
				    0) {
				buf_append_str(err,
					       "Error: Unable to create "
					       "ResourceLocator object.\n");
				buf_printf(err,
					   "winrmctl: selector \"%.*s\" "
					   "given twice in \"%s\"\n",
					   (int)name_len, q, text);
				return -1;
			}
		}
		add_pair(&res->selectors, &res->n_selectors, q, name_len,
			 eq + 1, len - name_len - 1, false);
		if (plus == NULL)
			return 0;
		q = plus + 1;
	}
}

int ctl_parse_resource(const char *text, struct ctl_resource *res,
		       struct buf *err)
{
	const char *qm = strchr(text, '?');
	size_t path_len = qm != NULL ? (size_t)(qm - text) : strlen(text);

	memset(res, 0, sizeof(*res));
	if (path_len == 0) {
		buf_append_str(err, "Error: URI is 0 length\n");
		return -1;
	}
	for (size_t i = 0; i < path_len; i++) {
		if (isspace((unsigned char)text[i]) ||
		    (unsigned char)text[i] < 0x20) {
			buf_append_str(err, "Error: Unable to create "
					    "ResourceLocator object.\n");
			buf_printf(err,
				   "winrmctl: the resource URI \"%s\" "
				   "contains a blank\n",
				   text);
			return -1;
		}
	}
	res->uri = expand_alias(text, path_len);

	/* Known configuration resources: canonical URI and body element. */
	const char *cfg = CTL_WSMAN_URI "/config";
	size_t cfg_len = strlen(cfg);
	if (strncasecmp(res->uri, cfg, cfg_len) == 0) {
		const char *rest = res->uri + cfg_len;
		for (size_t i = 0; i < N_ELEMS(known_resources); i++) {
			if (strcasecmp(rest, known_resources[i].suffix) == 0) {
				const char *sfx = known_resources[i].suffix;
				char *canon = xasprintf("%s%s", cfg, sfx);
				free(res->uri);
				res->uri = canon;
				res->root = xstrdup(known_resources[i].root);
				res->known = known_resources[i].known;
				break;
			}
		}
		/* res->uri may have been replaced (rest pointed into it) */
		rest = res->uri + cfg_len;
		if (res->known == CTL_RES_OTHER &&
		    str_istarts_with(rest, "/client/"))
			res->known = CTL_RES_CLIENT;
	}
	if (res->root == NULL)
		res->root = last_token(res->uri);
	res->ns = xstrdup(res->uri);

	if (qm != NULL && parse_selectors(qm + 1, res, text, err) < 0) {
		ctl_resource_release(res);
		return -1;
	}
	return 0;
}

/*
 * The @{...} hash.
 */

static bool hash_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static bool hash_key_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == ':';
}

static int hash_error(const char *text, struct buf *err)
{
	buf_append_str(err, HASH_SYNTAX_ERROR);
	/* The shell ate the double quotes of @{Key="value"}. */
	if (strpbrk(text, "\"'$") == NULL && strchr(text, '=') != NULL)
		buf_append_str(err, "winrmctl: hint: the shell removed the "
				    "double quotes; quote the whole argument, "
				    "e.g. '@{Basic=\"true\"}'\n");
	return -1;
}

int ctl_parse_hash(const char *text, struct ctl_pair **pairs, size_t *n,
		   struct buf *err)
{
	size_t len = strlen(text);
	const char *p;
	const char *end;

	*pairs = NULL;
	*n = 0;
	if (len <= 2) {
		if (strcmp(text, "{}") == 0)
			return 0;
		return hash_error(text, err);
	}
	if (text[0] != '{' || text[len - 1] != '}')
		return hash_error(text, err);
	p = text + 1;
	end = text + len - 1;
	for (;;) {
		const char *key;
		const char *val;
		size_t key_len;
		size_t val_len;
		bool is_null = false;

		while (p < end && hash_space(*p))
			p++;
		key = p;
		while (p < end && hash_key_char(*p))
			p++;
		key_len = (size_t)(p - key);
		if (key_len == 0)
			goto bad;
		while (p < end && hash_space(*p))
			p++;
		if (p == end || *p != '=')
			goto bad;
		p++;
		while (p < end && hash_space(*p))
			p++;
		if (end - p >= 5 && strncasecmp(p, "$null", 5) == 0) {
			val = p;
			val_len = 0;
			is_null = true;
			p += 5;
		} else if (p < end && *p == '"') {
			val = ++p;
			while (p < end && *p != '"')
				p++;
			if (p == end)
				goto bad;
			val_len = (size_t)(p - val);
			p++;
		} else {
			goto bad;
		}
		while (p < end && hash_space(*p))
			p++;

		for (size_t i = 0; i < *n; i++) {
			if (strlen((*pairs)[i].name) == key_len &&
			    strncmp((*pairs)[i].name, key, key_len) == 0) {
				buf_printf(err,
					   "Error: Multiple matching "
					   "parameter names not allowed in "
					   "@{...}: %.*s\n",
					   (int)key_len, key);
				ctl_pairs_free(*pairs, *n);
				*pairs = NULL;
				*n = 0;
				return -1;
			}
		}
		add_pair(pairs, n, key, key_len, val, val_len, is_null);
		if (p == end)
			return 0;
		if (*p != ';')
			goto bad;
		p++;
	}
bad:
	ctl_pairs_free(*pairs, *n);
	*pairs = NULL;
	*n = 0;
	return hash_error(text, err);
}

/*
 * -remote.
 */

int ctl_parse_remote(const char *text, bool usessl, char **url_r, bool *https_r,
		     struct buf *err)
{
	const char *p = text;
	const char *scheme = NULL;
	char *host = NULL;
	unsigned long port = 0;
	const char *prefix = "wsman";
	bool https = usessl;

	*url_r = NULL;
	if (str_istarts_with(p, "http://")) {
		scheme = "http";
		p += 7;
	} else if (str_istarts_with(p, "https://")) {
		scheme = "https";
		p += 8;
	} else if (strstr(p, "://") != NULL) {
		buf_printf(err,
			   "Error: the transport of \"%s\" must be "
			   "HTTP or HTTPS\n",
			   text);
		return -1;
	}
	if (scheme != NULL) {
		if (usessl) {
			buf_append_str(err, "Error: The transport in the "
					    "remote option should not be "
					    "specified with -usessl\n");
			return -1;
		}
		https = strcmp(scheme, "https") == 0;
	}

	/* HOST: [v6] or up to ':' or '/'. */
	const char *h = p;
	if (*p == '[') {
		const char *close = strchr(p, ']');
		if (close == NULL || close == p + 1)
			goto bad;
		for (const char *c = p + 1; c < close; c++)
			if (!isxdigit((unsigned char)*c) && *c != ':' &&
			    *c != '.' && *c != '%')
				goto bad;
		p = close + 1;
	} else {
		while (*p != '\0' && *p != ':' && *p != '/')
			p++;
		if (p == h)
			goto bad;
		for (const char *c = h; c < p; c++)
			if (!isalnum((unsigned char)*c) && *c != '.' &&
			    *c != '-' && *c != '_')
				goto bad;
	}
	host = xstrndup(h, (size_t)(p - h));
	if (*p == ':') {
		char *end;
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		errno = 0;
		port = strtoul(p, &end, 10);
		if (errno != 0 || port == 0 || port > 65535)
			goto bad;
		p = end;
	}
	if (*p == '/') {
		p++;
		prefix = p;
		for (const char *c = p; *c != '\0'; c++)
			if ((unsigned char)*c <= 0x20 || *c == '?' ||
			    *c == '#' || *c == '%' || *c == '\\')
				goto bad;
	} else if (*p != '\0') {
		goto bad;
	}
	if (port == 0) {
		if (scheme != NULL)
			port = https ? 443 : 80;
		else
			port = https ? 5986 : 5985;
	}
	*url_r = xasprintf("%s://%s:%lu/%s", https ? "https" : "http", host,
			   port, prefix);
	*https_r = https;
	free(host);
	return 0;
bad:
	free(host);
	buf_printf(err,
		   "Error: \"%s\" is not a valid -remote value: expected "
		   "[TRANSPORT://]HOST[:PORT][/PREFIX]\n",
		   text);
	return -1;
}
