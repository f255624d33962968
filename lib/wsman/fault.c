/*
 * fault.c - the one table of WS-Management faults and their rendering as
 * SOAP 1.2 fault envelopes shaped like Windows' (wsman-protocol.md §5.1).
 *
 * Every entry says where its values come from:
 *   observed   - seen in a real Windows reply (protocol doc §5.2, client
 *                test fixtures, issue reports);
 *   wsmerror.h - the Windows error identifier of that name (decimal value
 *                of the HRESULT), its message text, and where the header's
 *                own comment names one, its code/subcode;
 *   spec       - MS-WSMV / DSP0226 text;
 *   inferred   - our choice of the closest real Windows value.
 * Reason texts are Windows' English message texts (first sentence where
 * the original is long).
 *
 * Must not: depend on libxml2 (templates plus xml_escape only), log, or
 * exit.
 *
 * Entry points: fault_get, fault_name, fault_render.
 */
#include "autoconfig.h"

#include "lib/wsman/render.h"
#include "lib/wsman/fault.h"
#include "lib/wsman/ns.h"

#include <string.h>

#define DETAIL(x) "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/" x

#define A_WSMAN ACTION_FAULT_WSMAN
#define A_ADDR ACTION_FAULT_ADDRESSING
#define A_XFER ACTION_FAULT_TRANSFER
#define A_ENUM ACTION_FAULT_ENUMERATION

#define TXT_INVALID_XML                                                        \
	"The WS-Management service cannot process the request because the "    \
	"XML is invalid."
#define TXT_SCHEMA                                                             \
	"The SOAP XML in the message does not match the corresponding XML "    \
	"schema definition. Change the XML and retry."
#define TXT_QUOTA_PREFIX                                                       \
	"The WS-Management service cannot process the request. "

struct fault_entry {
	struct fault_def def;
	const char *name; /* for logs */
};

#define F(id_, name_, action_, code_, sub_, wsman_, detail_, reason_)          \
	[id_] = { { id_, action_, code_, sub_, wsman_, detail_, reason_,       \
		    500 },                                                     \
		  name_ }

static const struct fault_entry fault_table[] = {
	/* Not a fault; fault_get maps it to InternalError. */
	[FAULT_NONE] = { { FAULT_NONE, NULL, NULL, NULL, 0, NULL, NULL, 0 },
			 "None" },

	/* MS-WSMV 3.1.4.1.31.3: SchemaValidationError "for any operation
	 * where the XML is invalid"; code and text: wsmerror.h
	 * ERROR_WSMAN_INVALID_XML (the same text Exchange/IIS WinRM reports
	 * for unparsable requests). */
	F(FAULT_INVALID_XML, "InvalidXml", A_WSMAN, "s:Sender",
	  "w:SchemaValidationError", 2150858819u, NULL, TXT_INVALID_XML),

	/* inferred: SOAP 1.2 forbids a DTD and Windows' parser refuses one
	 * as invalid XML, so the same values as FAULT_INVALID_XML. */
	F(FAULT_DTD_NOT_ALLOWED, "DtdNotAllowed", A_WSMAN, "s:Sender",
	  "w:SchemaValidationError", 2150858819u, NULL, TXT_INVALID_XML),

	/* wsmerror.h ERROR_WSMAN_SOAP_VERSION_MISMATCH, whose comment reads
	 * "wsa, code=VersionMismatch, subcode=": addressing fault action. */
	F(FAULT_SOAP_VERSION_MISMATCH, "SoapVersionMismatch", A_ADDR,
	  "s:VersionMismatch", NULL, 2150858765u, NULL,
	  "The WS-Management service does not support the SOAP version "
	  "specified in the request."),

	/* inferred: a well-formed document without Envelope/Header/Body does
	 * not match the SOAP schema; wsmerror.h
	 * ERROR_WSMAN_SCHEMA_VALIDATION_ERROR (text also seen in a Windows
	 * reply to a malformed Delete, winrm4j PR #10). */
	F(FAULT_NOT_SOAP, "NotSoap", A_WSMAN, "s:Sender",
	  "w:SchemaValidationError", 2150858817u, NULL, TXT_SCHEMA),

	/* observed (shape): pywinrm/pypsrp fixtures of a Windows
	 * MustUnderstand fault use the addressing fault action, code
	 * s:MustUnderstand, no subcode; code/text: wsmerror.h
	 * ERROR_WSMAN_SOAP_FAULT_MUST_UNDERSTAND. */
	F(FAULT_MUST_UNDERSTAND, "MustUnderstand", A_ADDR, "s:MustUnderstand",
	  NULL, 2150858768u, NULL,
	  "The WS-Management service cannot process a SOAP header in the "
	  "request that is marked as mustUnderstand by the client."),

	/* wsmerror.h ERROR_WSMAN_MESSAGE_INFORMATION_HEADER_REQUIRED
	 * ("wsa, code=Sender, subcode=MessageInformationHeaderRequired"). */
	F(FAULT_HEADER_REQUIRED, "MessageInformationHeaderRequired", A_ADDR,
	  "s:Sender", "a:MessageInformationHeaderRequired", 2150858769u, NULL,
	  "The WS-Management service cannot process the request. The request "
	  "does not have all the expected SOAP headers."),

	/* observed: OperationTimeout PT-1S -> InvalidMessageInformationHeader,
	 * 2150858767 (protocol doc §2.2); text: wsmerror.h. */
	F(FAULT_INVALID_HEADER, "InvalidMessageInformationHeader", A_ADDR,
	  "s:Sender", "a:InvalidMessageInformationHeader", 2150858767u, NULL,
	  "The WS-Management service cannot process the request. The request "
	  "contains one or more invalid SOAP headers."),

	/* observed: Windows reply quoted in OMI tests (protocol doc §5.2):
	 * DestinationUnreachable + ERROR_WSMAN_RESOURCE_NOT_FOUND. */
	F(FAULT_DESTINATION_UNREACHABLE, "DestinationUnreachable", A_ADDR,
	  "s:Sender", "a:DestinationUnreachable", 2150858752u,
	  DETAIL("InvalidResourceURI"),
	  "The WS-Management service cannot process the request. The service "
	  "cannot find the resource identified by the resource URI and "
	  "selectors."),

	/* wsmerror.h ERROR_WSMAN_ACTION_NOT_SUPPORTED ("wsa, code=Sender"). */
	F(FAULT_ACTION_NOT_SUPPORTED, "ActionNotSupported", A_ADDR, "s:Sender",
	  "a:ActionNotSupported", 2150858771u, NULL,
	  "The WS-Management service does not support the action specified "
	  "in the request."),

	/* wsmerror.h ERROR_WSMAN_ACTION_MISMATCH ("wsman, code=Sender"). */
	F(FAULT_ACTION_MISMATCH, "ActionMismatch", A_WSMAN, "s:Sender",
	  "w:ActionMismatch", 2150858801u, NULL,
	  "The WS-Management service cannot process the request because the "
	  "WS-Addressing Action URI in the request is not compatible with "
	  "the resource."),

	/* inferred: wsmerror.h ERROR_WSMAN_ENCODING_LIMIT ("wsman,
	 * code=Sender, subcode=EncodingLimit"); detail DSP0226. */
	F(FAULT_ENCODING_LIMIT_REQUEST, "EncodingLimit", A_WSMAN, "s:Sender",
	  "w:EncodingLimit", 2150858805u, DETAIL("ServiceEnvelopeLimit"),
	  "The WS-Management service cannot process the request because the "
	  "encoding of the request exceeds an internal encoding limit."),

	/* spec: DSP0226 §6.2 (EncodingLimit/MinimumEnvelopeLimit); code and
	 * text wsmerror.h ERROR_WSMAN_MIN_ENVELOPE_SIZE (inferred). */
	F(FAULT_ENCODING_LIMIT_MIN_ENVELOPE, "MinimumEnvelopeLimit", A_WSMAN,
	  "s:Sender", "w:EncodingLimit", 2150858878u,
	  DETAIL("MinimumEnvelopeLimit"),
	  "The WS-Management service cannot process the request because the "
	  "envelope size in the request is too small."),

	/* wsmerror.h ERROR_WSMAN_MAX_ENVELOPE_SIZE_EXCEEDED; subcode and
	 * detail DSP0226 (inferred). */
	F(FAULT_ENCODING_LIMIT_RESPONSE, "MaxEnvelopeSize", A_WSMAN, "s:Sender",
	  "w:EncodingLimit", 2150858824u, DETAIL("MaxEnvelopeSize"),
	  "The response that the WS-Management service computed exceeds the "
	  "maximum envelope size in the request."),

	/* openwec notes (Locale with mustUnderstand -> UnsupportedFeature);
	 * generic code wsmerror.h ERROR_WSMAN_UNSUPPORTED_FEATURE.  Windows
	 * may use ERROR_WSMAN_MUSTUNDERSTAND_ON_LOCALE_UNSUPPORTED
	 * (2150858887) for the Locale case: unconfirmed. */
	F(FAULT_UNSUPPORTED_FEATURE, "UnsupportedFeature", A_WSMAN, "s:Sender",
	  "w:UnsupportedFeature", 2150858818u, NULL,
	  "The WS-Management service does not support the specified "
	  "feature."),

	/* inferred: DSP0226 EncodingLimit/CharacterSet; code and text
	 * wsmerror.h ERROR_WSMAN_CHARACTER_SET.  (wsmerror.h also has
	 * ERROR_WSMAN_UNSUPPORTED_ENCODING with a non-DSP0226 subcode.) */
	F(FAULT_UNSUPPORTED_CHARSET, "CharacterSet", A_WSMAN, "s:Sender",
	  "w:EncodingLimit", 2150858828u, DETAIL("CharacterSet"),
	  "The WS-Management service does not support the character set used "
	  "in the request. Change the request to use UTF-8 or UTF-16."),

	/* wsmerror.h ERROR_WSMAN_SCHEMA_VALIDATION_ERROR; observed in
	 * pywinrm's fixture of a Windows fault (Code 2150858817). */
	F(FAULT_SCHEMA_VALIDATION, "SchemaValidationError", A_WSMAN, "s:Sender",
	  "w:SchemaValidationError", 2150858817u, NULL, TXT_SCHEMA),

	/* wsmerror.h ERROR_WSMAN_INVALID_OPTIONS ("wsman, code=Sender,
	 * subcode=InvalidOptions"); generic because the parser also uses it
	 * for malformed and too many options.  A handler refusing a
	 * MustComply option passes the option name as message. */
	F(FAULT_INVALID_OPTIONS, "InvalidOptions", A_WSMAN, "s:Sender",
	  "w:InvalidOptions", 2150858809u, NULL,
	  "The WS-Management service cannot process the request because one "
	  "or more options are not valid."),

	/* observed: Receive without CommandId -> InvalidParameter, Code 87,
	 * detail InvalidValue (protocol doc §4.5; masterzen/winrm #80). */
	F(FAULT_INVALID_PARAMETER, "InvalidParameter", A_WSMAN, "s:Sender",
	  "w:InvalidParameter", 87u, DETAIL("InvalidValue"),
	  "The parameter is incorrect."),

	/* spec/wsmerror.h ERROR_WSMAN_INVALID_SELECTORS ("wsman,
	 * code=Sender, subcode=InvalidSelectors"). */
	F(FAULT_INVALID_SELECTORS, "InvalidSelectors", A_WSMAN, "s:Sender",
	  "w:InvalidSelectors", 2150858813u, NULL,
	  "The WS-Management service cannot process the request because the "
	  "selectors for the resource are not valid."),

	/* spec: DSP0226 InsufficientSelectors detail; wsmerror.h
	 * ERROR_WSMAN_INSUFFCIENT_SELECTORS (sic). */
	F(FAULT_INSUFFICIENT_SELECTORS, "InsufficientSelectors", A_WSMAN,
	  "s:Sender", "w:InvalidSelectors", 2150858842u,
	  DETAIL("InsufficientSelectors"),
	  "The WS-Management service cannot process the request because the "
	  "request did not contain all required selectors."),

	/* observed: unknown ShellId/CommandId (protocol doc §4.5). */
	F(FAULT_UNEXPECTED_SELECTORS, "UnexpectedSelectors", A_WSMAN,
	  "s:Sender", "w:InvalidSelectors", 2150858843u,
	  DETAIL("UnexpectedSelectors"),
	  "The WS-Management service cannot process the request because the "
	  "request contained invalid selectors for the resource."),

	/* wsmerror.h ERROR_WSMAN_INVALID_REPRESENTATION ("wxf, code=Sender,
	 * subcode=InvalidRepresentation"): transfer fault action. */
	F(FAULT_INVALID_REPRESENTATION, "InvalidRepresentation", A_XFER,
	  "s:Sender", "x:InvalidRepresentation", 2150858773u, NULL,
	  "The WS-Management service cannot identify the format of the object "
	  "passed to a Put or Create method."),

	/* wsmerror.h ERROR_WSMAN_ALREADY_EXISTS ("wsman, code=Sender"). */
	F(FAULT_ALREADY_EXISTS, "AlreadyExists", A_WSMAN, "s:Sender",
	  "w:AlreadyExists", 2150858803u, NULL,
	  "The WS-Management service cannot create the resource because it "
	  "already exists."),

	/* observed: Receive timeout.  The Go client looks for the word
	 * "OperationTimeout" in the text; pywinrm/Ruby for the code. */
	F(FAULT_TIMED_OUT, "TimedOut", A_WSMAN, "s:Receiver", "w:TimedOut",
	  2150858793u, NULL,
	  "The WS-Management service cannot complete the operation within "
	  "the time specified in OperationTimeout."),

	/* wsmerror.h ERROR_WSMAN_QUOTA_LIMIT ("wsman, code=Sender,
	 * subcode=QuotaLimit"). */
	F(FAULT_QUOTA_LIMIT, "QuotaLimit", A_WSMAN, "s:Sender", "w:QuotaLimit",
	  2150858815u, NULL,
	  "The WS-Management service is busy servicing other requests. Retry "
	  "later."),

	/* winrmd's own bounds on what one request may carry (they protect
	 * the privileged helper); the code of ERROR_WSMAN_QUOTA_LIMIT. */
	F(FAULT_QUOTA_REQUEST_LIMIT, "QuotaRequestLimit", A_WSMAN, "s:Sender",
	  "w:QuotaLimit", 2150858815u, NULL,
	  TXT_QUOTA_PREFIX
	  "The request has more elements than this service "
	  "accepts: at most 1024 environment variables in a shell, 1024 "
	  "arguments in a command, and 64 settings in one change."),

	/* spec: WSMV 3.1.4.5.2.1 (QuotaLimit); wsmerror.h
	 * ERROR_WSMAN_QUOTA_MAX_SHELLS. */
	F(FAULT_QUOTA_MAX_SHELLS, "QuotaMaxShells", A_WSMAN, "s:Sender",
	  "w:QuotaLimit", 2150859173u, NULL,
	  TXT_QUOTA_PREFIX "The maximum number of concurrent shells for this "
			   "user has been exceeded."),

	/* spec: WSMV 3.1.4.5.2.1; wsmerror.h
	 * ERROR_WSMAN_QUOTA_MAX_SHELLUSERS. */
	F(FAULT_QUOTA_MAX_USERS, "QuotaMaxShellUsers", A_WSMAN, "s:Sender",
	  "w:QuotaLimit", 2150859179u, NULL,
	  TXT_QUOTA_PREFIX "The maximum number of users executing shell "
			   "operations has been exceeded."),

	/* wsmerror.h ERROR_WSMAN_QUOTA_MAX_OPERATIONS (also seen as
	 * error_Code in a Windows MSFT_WmiError fixture). */
	F(FAULT_QUOTA_MAX_OPERATIONS, "QuotaMaxOperations", A_WSMAN, "s:Sender",
	  "w:QuotaLimit", 2150859174u, NULL,
	  TXT_QUOTA_PREFIX "The maximum number of concurrent operations for "
			   "this user has been exceeded."),

	/* inferred: wsmerror.h has no per-shell process quota; Windows
	 * enforces MaxProcessesPerShell with a job object, whose limit makes
	 * process creation fail with ERROR_NOT_ENOUGH_QUOTA (1816), here as
	 * HRESULT 0x80070718. */
	F(FAULT_QUOTA_MAX_PROCESSES, "QuotaMaxProcesses", A_WSMAN, "s:Sender",
	  "w:QuotaLimit", 2147944216u, NULL,
	  "Not enough quota is available to process this command."),

	/* spec: WSMV 2.2.4.42 (InternalError); wsmerror.h
	 * ERROR_WSMAN_REMOTESHELLS_NOT_ALLOWED (code unconfirmed). */
	F(FAULT_SHELLS_NOT_ALLOWED, "RemoteShellsNotAllowed", A_WSMAN,
	  "s:Receiver", "w:InternalError", 2150859180u, NULL,
	  TXT_QUOTA_PREFIX "The service is configured to not accept any "
			   "remote shell requests."),

	/* observed: SKIP_CMD_SHELL with an unqualified program ->
	 * InternalError, 2147942402 (protocol doc §4.3). */
	F(FAULT_PROCESS_START, "ProcessStart", A_WSMAN, "s:Receiver",
	  "w:InternalError", 2147942402u, NULL,
	  "The system cannot find the file specified."),

	/* observed code 5 with HTTP 500 (pywinrm/ansible reports); subcode
	 * AccessDenied per DSP0226 (unconfirmed: one report shows
	 * InternalError + 2147942405). */
	F(FAULT_ACCESS_DENIED, "AccessDenied", A_WSMAN, "s:Sender",
	  "w:AccessDenied", 5u, NULL, "Access is denied."),

	/* inferred: HTTP 500 observed (pywinrm #129, #208), body unknown;
	 * AccessDenied + ERROR_ACCESS_DENIED, wording after wsmerror.h
	 * ERROR_WSMAN_CLIENT_UNENCRYPTED_DISABLED ("Unencrypted traffic is
	 * currently disabled", a phrase tools match in 500 bodies). */
	F(FAULT_UNENCRYPTED_REFUSED, "UnencryptedRefused", A_WSMAN, "s:Sender",
	  "w:AccessDenied", 5u, NULL,
	  "The WinRM service cannot process the request. Unencrypted traffic "
	  "is currently disabled in the service configuration."),

	/* inferred: Windows' service has no Digest at all (MS-WSMV 2.2.4.34
	 * ServiceAuthType); nearest real value is UnsupportedFeature with
	 * wsmerror.h ERROR_WSMAN_UNSUPPORTED_FEATURE. */
	F(FAULT_DIGEST_NOT_SUPPORTED, "DigestNotSupported", A_WSMAN, "s:Sender",
	  "w:UnsupportedFeature", 2150858818u, NULL,
	  "The WS-Management service does not support Digest "
	  "authentication."),

	/* wsmerror.h ERROR_WSMAN_ENUMERATE_INVALID_ENUMERATION_CONTEXT ("wsen,
	 * code=Receiver, subcode=InvalidEnumerationContext"): enumeration
	 * fault action (openwsman agrees). */
	F(FAULT_INVALID_ENUMERATION_CONTEXT, "InvalidEnumerationContext",
	  A_ENUM, "s:Receiver", "n:InvalidEnumerationContext", 2150858779u,
	  NULL,
	  "The WS-Enumeration context in the enumeration is not valid. "
	  "Enumeration may have been completed or canceled."),

	/* spec: WSMV 3.1.4.8.2 (a filter on the shell resource); wsmerror.h
	 * ERROR_WSMAN_ENUMERATE_FILTERING_NOT_SUPPORTED ("wsen, code=Sender,
	 * subcode=FilteringNotSupported"). */
	F(FAULT_FILTERING_NOT_SUPPORTED, "FilteringNotSupported", A_ENUM,
	  "s:Sender", "n:FilteringNotSupported", 2150858776u, NULL,
	  "The data source does not support filtering. Remove the filter "
	  "from the request and try the request again."),

	/* observed: Windows 2008/2008R2 reply to a WQL query on an unknown
	 * class (WinRb soap_fault_v1/v2 fixtures); wsmerror.h
	 * ERROR_WSMAN_ENUMERATE_CANNOT_PROCESS_FILTER.  Also used (inferred)
	 * for a malformed query and an unknown property. */
	F(FAULT_CANNOT_PROCESS_FILTER, "CannotProcessFilter", A_ENUM,
	  "s:Sender", "n:CannotProcessFilter", 2150858778u, NULL,
	  "The data source could not process the filter. The filter might be "
	  "missing or it might be invalid. Change the filter and try the "
	  "request again."),

	/* wsmerror.h ERROR_WSMAN_ENUMERATE_FILTER_DIALECT_REQUESTED_UNAVAILABLE
	 * ("wsen, code=Sender, subcode=FilterDialectRequestedUnavailable");
	 * text inferred. */
	F(FAULT_FILTER_DIALECT_UNAVAILABLE, "FilterDialectRequestedUnavailable",
	  A_ENUM, "s:Sender", "n:FilterDialectRequestedUnavailable",
	  2150858777u, NULL,
	  "The filter dialect (the type of filter, such as WQL or selector "
	  "filter) requested is not supported by the data source. Change the "
	  "dialect and try the request again."),

	/* spec: MS-WSMV 3.1.4.1.17 (UnsupportedFeature, detail
	 * EnumerationMode); wsmerror.h ERROR_WSMAN_ENUMERATION_MODE_UNSUPPORTED. */
	F(FAULT_ENUMERATION_MODE_UNSUPPORTED, "EnumerationModeUnsupported",
	  A_WSMAN, "s:Sender", "w:UnsupportedFeature", 2150858886u,
	  DETAIL("EnumerationMode"),
	  "The WS-Management service does not support the specified "
	  "enumeration mode."),

	/* wsmerror.h ERROR_WSMAN_ENUMERATE_WMI_INVALID_KEY; subcode inferred
	 * (w:InvalidSelectors, as the other selector faults). */
	F(FAULT_ENUMERATE_WITH_KEYS, "EnumerateWithKeys", A_WSMAN, "s:Sender",
	  "w:InvalidSelectors", 2150859016u, NULL,
	  "The WS-Management service cannot process the request. The resource "
	  "URI for an Enumerate operation must not contain keys."),

	/* spec: DSP0226 InternalError (Receiver); inferred code
	 * ERROR_INTERNAL_ERROR (1359) as HRESULT 0x8007054F, its text. */
	F(FAULT_INTERNAL_ERROR, "InternalError", A_WSMAN, "s:Receiver",
	  "w:InternalError", 2147943759u, NULL, "An internal error occurred."),
};

_Static_assert(sizeof(fault_table) / sizeof(fault_table[0]) == FAULT_COUNT,
	       "fault_table must cover every enum fault_id");

static const struct fault_entry *entry_of(enum fault_id id)
{
	if ((unsigned)id >= FAULT_COUNT || id == FAULT_NONE ||
	    fault_table[id].def.action == NULL)
		return &fault_table[FAULT_INTERNAL_ERROR];
	return &fault_table[id];
}

const struct fault_def *fault_get(enum fault_id id)
{
	return &entry_of(id)->def;
}

const char *fault_name(enum fault_id id)
{
	if (id == FAULT_NONE)
		return fault_table[FAULT_NONE].name;
	return entry_of(id)->name;
}

static const char fault_head[] = "<s:Envelope xml:lang=\"en-US\""
				 " xmlns:s=\"" NS_SOAP "\""
				 " xmlns:a=\"" NS_ADDRESSING "\""
				 " xmlns:x=\"" NS_TRANSFER "\""
				 " xmlns:e=\"" NS_EVENTING "\""
				 " xmlns:n=\"" NS_ENUMERATION "\""
				 " xmlns:w=\"" NS_WSMAN "\""
				 " xmlns:p=\"" NS_WSMV "\">"
				 "<s:Header>";

static void render(struct buf *out, enum fault_id id, const char *relates_to,
		   const char *machine, const char *message, bool provider)
{
	const struct fault_def *f = fault_get(id);
	buf_reserve(out, 2048);
	buf_append(out, fault_head, sizeof(fault_head) - 1);
	wsman_addressing_headers(out, f->action, relates_to);
	buf_append_str(out, "</s:Header><s:Body><s:Fault><s:Code><s:Value>");
	buf_append_str(out, f->code);
	buf_append_str(out, "</s:Value>");
	if (f->subcode != NULL) {
		buf_append_str(out, "<s:Subcode><s:Value>");
		buf_append_str(out, f->subcode);
		buf_append_str(out, "</s:Value></s:Subcode>");
	}
	buf_append_str(out, "</s:Code><s:Reason><s:Text xml:lang=\"en-US\">");
	xml_escape(out, f->reason);
	buf_append_str(out, "</s:Text></s:Reason><s:Detail>");
	if (f->detail != NULL) {
		buf_append_str(out, "<w:FaultDetail>");
		buf_append_str(out, f->detail);
		buf_append_str(out, "</w:FaultDetail>");
	}
	buf_printf(out,
		   "<f:WSManFault xmlns:f=\"" NS_WSMANFAULT "\" Code=\"%lu\""
		   " Machine=\"",
		   (unsigned long)f->wsman_code);
	xml_escape(out, machine != NULL ? machine : "localhost");
	buf_append_str(out, "\"><f:Message>");
	if (provider) {
		/* Windows' WMI plug-in: the provider's own fault inside */
		buf_printf(out,
			   "<f:ProviderFault provider=\"WMI Provider\" "
			   "path=\"%%systemroot%%\\system32\\WsmWmiPl.dll\">"
			   "<f:WSManFault xmlns:f=\"" NS_WSMANFAULT
			   "\" Code=\"%lu\" Machine=\"",
			   (unsigned long)f->wsman_code);
		xml_escape(out, machine != NULL ? machine : "localhost");
		buf_append_str(out, "\"><f:Message>");
		xml_escape(out, message != NULL && *message != '\0'
					? message
					: f->reason);
		buf_append_str(out, "</f:Message></f:WSManFault>"
				    "</f:ProviderFault>");
	} else {
		xml_escape(out, f->reason);
		if (message != NULL && *message != '\0') {
			buf_append_byte(out, ' ');
			xml_escape(out, message);
		}
	}
	buf_append_str(out, "</f:Message></f:WSManFault></s:Detail></s:Fault>"
			    "</s:Body></s:Envelope>");
}

void fault_render(struct buf *out, enum fault_id id, const char *relates_to,
		  const char *machine, const char *message)
{
	render(out, id, relates_to, machine, message, false);
}

void fault_render_provider(struct buf *out, enum fault_id id,
			   const char *relates_to, const char *machine,
			   const char *message)
{
	render(out, id, relates_to, machine, message, true);
}
