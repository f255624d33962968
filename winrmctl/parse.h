/*
 * parse.h - the command-line grammar of winrmctl, the winrm.cmd-compatible
 * administration tool of winrmd: operations and their shortcuts, -switch:value
 * arguments, resource aliases and ?Name=value+Name=value selectors, the
 * @{KEY="VALUE";...} input hash and -remote connection strings.
 *
 * Every function here is pure: no I/O, no environment, no exit.  Errors are
 * returned as -1 with the complete text to print on stderr appended to an
 * err buffer (each line ends with "\n"), worded as winrm.cmd words them.
 * Callers own every struct they pass and release it with the matching
 * *_release function (also after a failure).
 */
#ifndef WINRMCTL_PARSE_H
#define WINRMCTL_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

/* Resource namespace of the configuration tree (ns.h has NS_CONFIG). */
#define CTL_WSMAN_URI "http://schemas.microsoft.com/wbem/wsman/1"

enum ctl_op {
	CTL_OP_NONE = 0,
	CTL_OP_HELP,
	CTL_OP_GET,
	CTL_OP_SET,
	CTL_OP_CREATE,
	CTL_OP_DELETE,
	CTL_OP_ENUMERATE,
	CTL_OP_IDENTIFY,
	/* known to winrm.cmd, refused by winrmctl */
	CTL_OP_INVOKE,
	CTL_OP_QUICKCONFIG,
	CTL_OP_CONFIGSDDL,
	CTL_OP_HELPMSG,
};

enum ctl_format { CTL_FMT_TEXT = 0, CTL_FMT_XML, CTL_FMT_PRETTY };

/* -returntype: of enumerate (w:EnumerationMode) */
enum ctl_return { CTL_RET_OBJECT = 0, CTL_RET_EPR, CTL_RET_OBJECT_AND_EPR };

/* Filter dialects (winrm.cmd's -dialect aliases: wql, selector,
 * association). */
#define CTL_DIALECT_WQL "http://schemas.microsoft.com/wbem/wsman/1/WQL"
#define CTL_DIALECT_SELECTOR                                                   \
	"http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter"
#define CTL_DIALECT_ASSOCIATION                                                \
	"http://schemas.dmtf.org/wbem/wsman/1/cimbinding/associationFilter"

enum ctl_auth {
	CTL_AUTH_DEFAULT = 0, /* no -a: Negotiate (Kerberos ticket or NTLM) */
	CTL_AUTH_NONE,
	CTL_AUTH_BASIC,
	CTL_AUTH_NEGOTIATE,
	CTL_AUTH_KERBEROS,
};

/* Which configuration resource a URI names (selects the Put/Create body
 * element and lets main refuse the client configuration locally). */
enum ctl_known {
	CTL_RES_OTHER = 0,
	CTL_RES_CONFIG,
	CTL_RES_SERVICE,
	CTL_RES_SERVICE_AUTH,
	CTL_RES_CERTMAPPING,
	CTL_RES_LISTENER,
	CTL_RES_WINRS,
	CTL_RES_CLIENT, /* winrm/config/client and everything below it */
};

/* A NAME=VALUE pair: a selector, or a key of @{...} (is_null for $null). */
struct ctl_pair {
	char *name;
	char *value; /* "" when is_null */
	bool is_null;
};

struct ctl_resource {
	char *uri;  /* full ResourceURI (canonical when known) */
	char *root; /* Put/Create body element name, NULL if none */
	char *ns;   /* Put/Create body namespace (the URI) */
	enum ctl_known known;
	struct ctl_pair *selectors;
	size_t n_selectors;
};

/*
 * A parsed command line.  Strings are owned (NULL when absent).  Switches
 * that winrm.cmd accepts but winrmctl does not implement are refused by
 * ctl_parse_argv itself.
 */
struct ctl_cmd {
	enum ctl_op op;
	char *op_name;    /* operation as typed, lower case */
	char *resource;   /* RESOURCE_URI argument as typed */
	char *hash;       /* the @ argument without its '@', e.g. {a="b"} */
	char *help_topic; /* for CTL_OP_HELP: topic, "" for the overview */

	char *remote;       /* -r[emote]:, -machine: */
	char *username;     /* -u[sername]: */
	char *password;     /* -p[assword]: (wiped on release) */
	enum ctl_auth auth; /* -a[uthentication]:, -auth: */
	bool auth_given;
	enum ctl_format format; /* -f[ormat]:[#]xml|pretty|text, --xml */
	char *file;             /* -file: */
	int64_t timeout_ms;     /* -timeout:MS, -1 when absent */
	bool utf16;             /* -encoding:utf-16 */
	bool unencrypted;       /* -un[encrypted] */
	bool usessl;            /* -[use]ssl */
	bool skip_ca_check;     /* -skipCAcheck */
	bool skip_cn_check;     /* -skipCNcheck */
	bool skip_revocation;   /* -skipRevocationcheck (no effect) */
	char *socket_path;      /* -S PATH, -S:PATH, --socket[=]PATH */
	bool version;           /* --version */
	/* WMI */
	char *method;  /* invoke: the method (its ACTION argument) */
	char *filter;  /* enumerate -filter: as typed */
	char *dialect; /* enumerate -dialect: the URI (aliases expanded);
			  WQL's when -filter is given without it */
	enum ctl_return return_type; /* enumerate -returntype: */
};

/*
 * Parses argv[1..argc) as winrm.cmd parses its command line (see
 * winrmctl(1)).  Returns 0 and fills *cmd, or -1 with the error text in
 * err.  A help request (no argument, "help", "-?") gives op CTL_OP_HELP.
 */
int ctl_parse_argv(int argc, char *const argv[], struct ctl_cmd *cmd,
		   struct buf *err);
void ctl_cmd_release(struct ctl_cmd *cmd);

/*
 * Resolves a RESOURCE_URI argument: aliases (winrm/, wsman/, wmi/,
 * wmicimv2/, cimv2/, shell/, case-insensitive), known configuration
 * resources canonicalised, ?Name=value+Name=value selectors split (no
 * decoding: a value is taken as typed).  Returns 0, or -1 with err.
 */
int ctl_parse_resource(const char *text, struct ctl_resource *res,
		       struct buf *err);
void ctl_resource_release(struct ctl_resource *res);

/*
 * Parses the text after '@': {KEY="VALUE"[;KEY="VALUE"]...}, with KEY made
 * of letters, digits, '_' and ':', VALUE any text without '"', $null for a
 * nil value, blanks allowed around every token, and {} for no pair.  Keys
 * are unique (case-sensitive).  Returns 0 with *pairs (caller frees with
 * ctl_pairs_free) and *n, or -1 with err.
 */
int ctl_parse_hash(const char *text, struct ctl_pair **pairs, size_t *n,
		   struct buf *err);
void ctl_pairs_free(struct ctl_pair *pairs, size_t n);

/*
 * -remote connection string [TRANSPORT://]HOST[:PORT][/PREFIX] -> URL.
 * Without a transport: http on 5985, or https on 5986 with -usessl; with
 * http:// or https:// the default ports are 80 and 443; PREFIX defaults to
 * "wsman"; IPv6 hosts are bracketed.  Returns 0 with *url_r (caller frees)
 * and *https_r, or -1 with err.
 */
int ctl_parse_remote(const char *text, bool usessl, char **url_r, bool *https_r,
		     struct buf *err);

/* "xml", "pretty", "text" (any case, one leading '#' ignored); -1 if none. */
int ctl_parse_format(const char *text);

/* The operation's name as winrm.cmd spells it ("enumerate"...). */
const char *ctl_op_name(enum ctl_op op);

#endif
