/*
 * fault.h - the one table of WS-Management faults winrmd can send, and
 * their rendering as SOAP 1.2 fault envelopes shaped like Windows' own.
 *
 * Handlers and the request gate return an enum fault_id; nothing else ever
 * builds fault XML.  Every fault goes out as HTTP 500 (Windows sends 500 for
 * every SOAP fault) with Content-Type application/soap+xml;charset=UTF-8.
 */
#ifndef WINRMD_FAULT_H
#define WINRMD_FAULT_H

#include <stdint.h>

#include "lib/util.h"

enum fault_id {
	FAULT_NONE = 0,
	/* envelope and addressing */
	FAULT_INVALID_XML,           /* body is not well-formed XML */
	FAULT_DTD_NOT_ALLOWED,       /* DOCTYPE / entity declarations */
	FAULT_SOAP_VERSION_MISMATCH, /* Envelope not in the SOAP 1.2 namespace */
	FAULT_NOT_SOAP,        /* well-formed but no Envelope/Header/Body */
	FAULT_MUST_UNDERSTAND, /* unknown header with s:mustUnderstand=true */
	FAULT_HEADER_REQUIRED, /* a:Action / a:MessageID / a:ReplyTo missing */
	FAULT_INVALID_HEADER,  /* a header has an invalid value (PT-1S...) */
	FAULT_DESTINATION_UNREACHABLE, /* unknown ResourceURI */
	FAULT_ACTION_NOT_SUPPORTED,    /* unknown action */
	FAULT_ACTION_MISMATCH,         /* action not valid for this resource */
	FAULT_ENCODING_LIMIT_REQUEST,  /* request body over MaxEnvelopeSizekb */
	FAULT_ENCODING_LIMIT_MIN_ENVELOPE, /* w:MaxEnvelopeSize below 8192 */
	FAULT_ENCODING_LIMIT_RESPONSE, /* response would exceed w:MaxEnvelopeSize */
	FAULT_UNSUPPORTED_FEATURE, /* e.g. Locale with mustUnderstand=true */
	FAULT_UNSUPPORTED_CHARSET, /* charset other than UTF-8/UTF-16 */
	/* operation and resource */
	FAULT_SCHEMA_VALIDATION,      /* body does not match the schema */
	FAULT_INVALID_OPTIONS,        /* unknown option with MustComply=true */
	FAULT_INVALID_PARAMETER,      /* e.g. Receive without CommandId */
	FAULT_INVALID_SELECTORS,      /* selectors malformed */
	FAULT_INSUFFICIENT_SELECTORS, /* required selector missing */
	FAULT_UNEXPECTED_SELECTORS,   /* unknown ShellId/CommandId */
	FAULT_INVALID_REPRESENTATION, /* Put/Create body invalid */
	FAULT_ALREADY_EXISTS,         /* Create of an existing object */
	FAULT_TIMED_OUT,   /* Receive: nothing before OperationTimeout */
	FAULT_QUOTA_LIMIT, /* generic quota */
	FAULT_QUOTA_REQUEST_LIMIT,  /* a count over winrmd's bounds (1,024
					   variables or arguments, 64 settings) */
	FAULT_QUOTA_MAX_SHELLS,     /* MaxShellsPerUser */
	FAULT_QUOTA_MAX_USERS,      /* MaxConcurrentUsers */
	FAULT_QUOTA_MAX_OPERATIONS, /* MaxConcurrentOperationsPerUser */
	FAULT_QUOTA_MAX_PROCESSES,  /* MaxProcessesPerShell */
	FAULT_SHELLS_NOT_ALLOWED,   /* Winrs.AllowRemoteShellAccess=false */
	FAULT_PROCESS_START,        /* the command could not be started */
	FAULT_ACCESS_DENIED,        /* authenticated but not authorized */
	FAULT_UNENCRYPTED_REFUSED, /* plaintext over HTTP, AllowUnencrypted=false */
	FAULT_DIGEST_NOT_SUPPORTED, /* config Put tries to enable Digest */
	FAULT_INVALID_ENUMERATION_CONTEXT,
	FAULT_FILTERING_NOT_SUPPORTED, /* Enumerate with a filter (shells) */
	/* WMI (docs/wsman-wmi.md) */
	FAULT_CANNOT_PROCESS_FILTER,      /* bad WQL, unknown class/property */
	FAULT_FILTER_DIALECT_UNAVAILABLE, /* a dialect winrmd does not have */
	FAULT_ENUMERATION_MODE_UNSUPPORTED, /* w:EnumerationMode unknown */
	FAULT_ENUMERATE_WITH_KEYS,          /* Enumerate of a class with keys */
	FAULT_INTERNAL_ERROR,               /* unexpected server error */
	FAULT_COUNT
};

struct fault_def {
	enum fault_id id;
	const char *action; /* fault action URI */
	const char
		*code; /* "s:Sender" / "s:Receiver" / "s:MustUnderstand"... */
	const char *subcode; /* QName such as "w:TimedOut", or NULL */
	uint32_t wsman_code; /* f:WSManFault Code (decimal on the wire) */
	const char *detail;  /* w:FaultDetail URI, or NULL */
	const char *reason;  /* English reason / f:Message text */
	int http_status;     /* 500 for every SOAP fault */
};

/* Table lookup; never NULL for a valid id (FAULT_INTERNAL_ERROR otherwise). */
const struct fault_def *fault_get(enum fault_id id);
const char *fault_name(
	enum fault_id id); /* "FAULT_TIMED_OUT" -> "TimedOut" style, for logs */

/*
 * Appends a complete fault envelope to out.
 * relates_to: the request's a:MessageID verbatim, or NULL (then no
 * RelatesTo element is written).  machine: host name for the Machine
 * attribute.  message: extra text appended to the reason in f:Message, or
 * NULL.  All variable text is XML-escaped.
 */
void fault_render(struct buf *out, enum fault_id id, const char *relates_to,
		  const char *machine, const char *message);

/*
 * The same, with the WMI plug-in's detail (observed from Windows):
 * f:Message holds an f:ProviderFault provider="WMI Provider" wrapping an
 * inner f:WSManFault with the same code whose f:Message is message (or
 * the reason when message is NULL).
 */
void fault_render_provider(struct buf *out, enum fault_id id,
			   const char *relates_to, const char *machine,
			   const char *message);

#endif
