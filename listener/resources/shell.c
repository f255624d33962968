/*
 * shell.c - the Windows Remote Shell resource
 * (http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd):
 * Create, Command, Send, Receive, Signal, Delete, Get and Enumerate, as the real
 * clients drive them (wsman-protocol.md §4).  This file reads the request
 * bodies, maps the shell store's answers to faults and writes the
 * responses (rsp:ReceiveResponse included); the shell store (shells.c)
 * keeps the state and the helper runs the processes.  A Command or
 * Receive that waits keeps its struct shell_op in r->shell_wait until the
 * request ends (res_shell_finished).
 *
 * Client quirks accepted here: options and booleans in any case
 * (True/FALSE), Ruby's command wrapped in one pair of double quotes,
 * Go's CDATA (merged by the parser), one or many rsp:Arguments, the
 * signal/Terminate capitalisation, ShellId/ShellID selectors.
 */
#include "autoconfig.h"

#include "listener/resources/resources.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "lib/base64.h"
#include "lib/wsman/envelope.h"
#include "lib/wsman/ns.h"
#include "listener/conn.h"
#include "listener/request.h"
#include "lib/priv/msg.h"
#include "listener/shells.h"
#include "lib/wsman/xmltree.h"

/* Options the shell understands; anything else marked MustComply is
 * refused (w:InvalidOptions), anything else is ignored. */
static const char *const known_options[] = {
	"WINRS_NOPROFILE",
	"WINRS_CODEPAGE",
	"WINRS_CONSOLEMODE_STDIN",
	"WINRS_SKIP_CMD_SHELL",
	"WSMAN_CMDSHELL_OPTION_KEEPALIVE",
	NULL,
};

static enum fault_id check_options(const struct wsman_request *req)
{
	for (size_t i = 0; i < req->n_options; i++) {
		const struct wsman_option *o = &req->options[i];
		bool known = false;
		for (size_t k = 0; known_options[k] != NULL; k++)
			known = known || str_ieq(o->name, known_options[k]);
		if (!known && o->must_comply)
			return FAULT_INVALID_OPTIONS;
	}
	return FAULT_NONE;
}

static bool option_bool(const struct wsman_request *req, const char *name,
			bool dflt)
{
	const struct wsman_option *o = wsman_option(req, name);
	bool v;
	if (o == NULL || str_parse_bool(o->value, &v) != 0)
		return dflt;
	return v;
}

/* ---- libxml2 navigation ---- */

/* Attribute without namespace, any case of the name (ShellId/ShellID). */
static char *attr(const xmlNode *n, const char *name)
{
	for (xmlAttr *a = n ? n->properties : NULL; a != NULL; a = a->next) {
		if (a->ns == NULL &&
		    strcasecmp((const char *)a->name, name) == 0) {
			xmlChar *v = xmlNodeListGetString(a->doc, a->children,
							  1);
			char *out = xstrdup(v ? (const char *)v : "");
			xmlFree(v);
			return out;
		}
	}
	return NULL;
}

static const char *shell_id_of(const struct wsman_request *req)
{
	return wsman_selector(req, "ShellId");
}

/* ---- the shell store ---- */

static struct shell_caller caller_of(const struct request *r)
{
	return (struct shell_caller){
		.uid = r->identity->uid,
		.user = r->identity->user,
		.conn_id = r->conn->id,
		.client_ip = r->conn->remote_addr,
		.client_port = r->conn->remote_port,
	};
}

static void wake_request(void *arg)
{
	request_wake(arg);
}

static bool client_left(void *arg)
{
	return request_peer_gone(arg);
}

static struct shell_waiter waiter_of(struct request *r)
{
	return (struct shell_waiter){ wake_request, client_left, r };
}

/* The op of r's Command or Receive, made on the first call. */
static struct shell_op *op_of(struct request *r)
{
	if (r->shell_wait == NULL) {
		r->shell_wait = shells_op_new();
		r->on_finished = res_shell_finished;
	}
	return r->shell_wait;
}

void res_shell_finished(struct request *r, bool delivered)
{
	shells_op_end(r->shell_wait, delivered);
	r->shell_wait = NULL;
}

/* The fault for a store's answer; SHELL_PENDING suspends r (FAULT_NONE
 * with r->handler_pending: request_wake follows). */
static enum fault_id fault_of(struct request *r, enum shell_status st)
{
	switch (st) {
	case SHELL_OK: return FAULT_NONE;
	case SHELL_PENDING: r->handler_pending = true; return FAULT_NONE;
	case SHELL_NOT_ALLOWED: return FAULT_SHELLS_NOT_ALLOWED;
	case SHELL_NOT_FOUND: return FAULT_UNEXPECTED_SELECTORS;
	case SHELL_MAX_SHELLS: return FAULT_QUOTA_MAX_SHELLS;
	case SHELL_MAX_USERS: return FAULT_QUOTA_MAX_USERS;
	case SHELL_MAX_PROCESSES: return FAULT_QUOTA_MAX_PROCESSES;
	case SHELL_OVER_HELPER_LIMIT: return FAULT_QUOTA_REQUEST_LIMIT;
	case SHELL_STDIN_FULL: return FAULT_QUOTA_LIMIT;
	case SHELL_START_FAILED: return FAULT_PROCESS_START;
	case SHELL_TIMED_OUT: return FAULT_TIMED_OUT;
	case SHELL_CLIENT_GONE:
		/* Nobody reads this answer; the connection goes too. */
		r->resp.close = true;
		return FAULT_TIMED_OUT;
	case SHELL_INTERNAL: break;
	}
	return FAULT_INTERNAL_ERROR;
}

/* ---- responses ---- */

static void begin(struct buf *out, const struct wsman_request *req,
		  const char *action)
{
	char *a = xasprintf("%sResponse", action);
	wsman_response_begin(out, a, req->message_id);
	free(a);
}

static void render_shell(struct buf *out, const struct shell_info *i)
{
	buf_append_str(out,
		       "<rsp:Shell xmlns:rsp=\"" NS_SHELL "\"><rsp:ShellId>");
	buf_append_str(out, i->id);
	buf_append_str(out, "</rsp:ShellId><rsp:ResourceUri>" RESOURCE_SHELL_CMD
			    "</rsp:ResourceUri><rsp:Owner>");
	xml_escape(out, i->owner);
	buf_append_str(out, "</rsp:Owner><rsp:ClientIP>");
	xml_escape(out, i->client_ip);
	buf_append_str(out, "</rsp:ClientIP>");
	if (i->n_env > 0) {
		buf_append_str(out, "<rsp:Environment>");
		for (size_t k = 0; k < i->n_env; k++) {
			buf_append_str(out, "<rsp:Variable Name=\"");
			xml_escape(out, i->env[k].name);
			buf_append_str(out, "\">");
			xml_escape(out, i->env[k].value);
			buf_append_str(out, "</rsp:Variable>");
		}
		buf_append_str(out, "</rsp:Environment>");
	}
	if (i->working_directory != NULL) {
		buf_append_str(out, "<rsp:WorkingDirectory>");
		xml_escape(out, i->working_directory);
		buf_append_str(out, "</rsp:WorkingDirectory>");
	}
	buf_append_str(out, "<rsp:IdleTimeOut>");
	wsman_duration_format(out, i->idle_timeout_ms);
	buf_append_str(out, "</rsp:IdleTimeOut><rsp:InputStreams>");
	xml_escape(out, i->input_streams);
	buf_append_str(out, "</rsp:InputStreams><rsp:OutputStreams>");
	xml_escape(out, i->output_streams);
	int64_t rt = i->run_time_ms / 1000, in = i->inactivity_ms / 1000;
	buf_printf(
		out,
		"</rsp:OutputStreams><rsp:ShellRunTime>P%lldDT%lldH%lldM%lldS"
		"</rsp:ShellRunTime><rsp:ShellInactivity>P%lldDT%lldH%lldM%lldS"
		"</rsp:ShellInactivity></rsp:Shell>",
		(long long)(rt / 86400), (long long)(rt / 3600 % 24),
		(long long)(rt / 60 % 60), (long long)(rt % 60),
		(long long)(in / 86400), (long long)(in / 3600 % 24),
		(long long)(in / 60 % 60), (long long)(in % 60));
}

/* ---- Create ---- */

enum fault_id res_shell_create(struct request *r,
			       const struct wsman_request *req, struct buf *out)
{
	enum fault_id f = check_options(req);
	if (f != FAULT_NONE)
		return f;
	const xmlNode *body = req->body;
	if (!xml_is_element(body, NS_SHELL, "Shell"))
		return FAULT_SCHEMA_VALIDATION;
	struct shell_options o = { 0 };
	xmlNode *n;
	n = xml_child(body, NS_SHELL, "InputStreams");
	o.input_streams = n ? xml_trimmed_text(n) : xstrdup("stdin");
	n = xml_child(body, NS_SHELL, "OutputStreams");
	o.output_streams = n ? xml_trimmed_text(n) : xstrdup("stdout stderr");
	if ((n = xml_child(body, NS_SHELL, "WorkingDirectory")) != NULL)
		o.working_directory = xml_trimmed_text(n);
	if ((n = xml_child(body, NS_SHELL, "IdleTimeOut")) != NULL) {
		char *t = xml_trimmed_text(n);
		int64_t ms;
		if (wsman_duration_parse(t, &ms) == 0)
			o.idle_timeout_ms = ms;
		free(t);
	}
	if ((n = xml_child(body, NS_SHELL, "Environment")) != NULL) {
		for (xmlNode *v = n->children; v != NULL; v = v->next) {
			if (!xml_is_element(v, NS_SHELL, "Variable"))
				continue;
			char *name = attr(v, "Name");
			if (name == NULL || name[0] == '\0' ||
			    strchr(name, '=') != NULL) {
				free(name);
				shell_options_release(&o);
				return FAULT_SCHEMA_VALIDATION;
			}
			if (o.n_env >= PRIV_MAX_ENV) {
				/* The helper's bound (msg.h): refused here,
				 * not at the first Command. */
				free(name);
				shell_options_release(&o);
				return FAULT_QUOTA_REQUEST_LIMIT;
			}
			o.env = xrealloc(o.env, sizeof(*o.env) * (o.n_env + 1));
			o.env[o.n_env].name = name;
			o.env[o.n_env].value = xml_trimmed_text(v);
			o.n_env++;
		}
	}
	o.client_shell_id = attr(body, "ShellId");
	o.noprofile = option_bool(req, "WINRS_NOPROFILE", false);
	const struct wsman_option *cp = wsman_option(req, "WINRS_CODEPAGE");
	if (cp != NULL) {
		char *end;
		long v = strtol(cp->value, &end, 10);
		if (*end != '\0' || v <= 0 || v > 65535) {
			shell_options_release(&o);
			return FAULT_INVALID_OPTIONS;
		}
		/* Bytes pass through unchanged whatever the code page: the
		 * POSIX side speaks UTF-8, which is code page 65001. */
		o.codepage = (int)v;
	}

	struct shell_info info;
	struct shell_caller who = caller_of(r);
	f = fault_of(r, shells_create(r->cfg, &who, &o, &info));
	shell_options_release(&o);
	if (f != FAULT_NONE) {
		log_audit_event(CONN_PEER(r->conn), "shell",
				"user=%s action=create result=failure "
				"reason=\"%s\"",
				LOG_ESC(r->identity->user), fault_name(f));
		return f;
	}
	log_audit_event(CONN_PEER(r->conn), "shell",
			"user=%s action=create shell=%s result=success",
			LOG_ESC(r->identity->user), info.id);
	begin(out, req, ACTION_CREATE);
	buf_append_str(out, "<x:ResourceCreated><a:Address>");
	xml_escape(out, req->to ? req->to : ADDR_ANONYMOUS);
	buf_append_str(
		out,
		"</a:Address><a:ReferenceParameters><w:ResourceURI>" RESOURCE_SHELL_CMD
		"</w:ResourceURI><w:SelectorSet>"
		"<w:Selector Name=\"ShellId\">");
	buf_append_str(out, info.id);
	buf_append_str(out,
		       "</w:Selector></w:SelectorSet></a:ReferenceParameters>"
		       "</x:ResourceCreated>");
	render_shell(out, &info);
	wsman_response_end(out);
	shell_info_release(&info);
	return FAULT_NONE;
}

/* ---- Command ---- */

enum fault_id res_shell_command(struct request *r,
				const struct wsman_request *req,
				struct buf *out)
{
	enum fault_id f = check_options(req);
	if (f != FAULT_NONE)
		return f;
	const char *shell_id = shell_id_of(req);
	if (shell_id == NULL)
		return FAULT_INSUFFICIENT_SELECTORS;
	const xmlNode *body = req->body;
	if (!xml_is_element(body, NS_SHELL, "CommandLine"))
		return FAULT_SCHEMA_VALIDATION;
	xmlNode *cn = xml_child(body, NS_SHELL, "Command");
	if (cn == NULL)
		return FAULT_SCHEMA_VALIDATION;
	struct shell_command_spec spec = { 0 };
	spec.command = xml_trimmed_text(cn);
	size_t n = strlen(spec.command);
	if (n >= 2 && spec.command[0] == '"' && spec.command[n - 1] == '"' &&
	    memchr(spec.command + 1, '"', n - 2) == NULL) {
		/* Ruby quotes the whole command line; cmd.exe /c strips one
		 * outer pair, and so do we. */
		memmove(spec.command, spec.command + 1, n - 2);
		spec.command[n - 2] = '\0';
	}
	for (xmlNode *a = body->children; a != NULL; a = a->next) {
		if (!xml_is_element(a, NS_SHELL, "Arguments"))
			continue;
		spec.args = xrealloc(spec.args,
				     sizeof(*spec.args) * (spec.n_args + 1));
		xmlChar *t = xmlNodeGetContent(a);
		spec.args[spec.n_args++] = xstrdup(t ? (const char *)t : "");
		xmlFree(t);
	}
	spec.skip_shell = option_bool(req, "WINRS_SKIP_CMD_SHELL", false);
	spec.client_command_id = attr(body, "CommandId");

	char id[SHELL_ID_LEN + 1];
	struct shell_caller who = caller_of(r);
	struct shell_waiter w = waiter_of(r);
	if (spec.command[0] == '\0')
		f = FAULT_SCHEMA_VALIDATION;
	else if (spec.skip_shell && spec.n_args > PRIV_MAX_ARGS)
		f = FAULT_QUOTA_REQUEST_LIMIT; /* the helper's bound (msg.h) */
	else
		f = fault_of(r, shells_command(op_of(r), r->cfg, &who, shell_id,
					       &spec, &w, id));
	free(spec.command);
	for (size_t i = 0; i < spec.n_args; i++)
		free(spec.args[i]);
	free(spec.args);
	free(spec.client_command_id);
	if (f != FAULT_NONE || r->handler_pending)
		return f;
	begin(out, req, ACTION_SHELL_COMMAND);
	buf_printf(out,
		   "<rsp:CommandResponse><rsp:CommandId>%s</rsp:CommandId>"
		   "</rsp:CommandResponse>",
		   id);
	wsman_response_end(out);
	return FAULT_NONE;
}

/* ---- Send ---- */

/* The longest a request may wait: MaxTimeoutms, or less if the client
 * asked for less. */
static int64_t wait_limit_ms(const struct request *r,
			     const struct wsman_request *req)
{
	int64_t timeout = r->cfg->max_timeout_ms;
	if (req->operation_timeout_ms >= 0 &&
	    req->operation_timeout_ms < timeout)
		timeout = req->operation_timeout_ms;
	return timeout;
}

/* Appends the bytes of an rsp:Stream's base64 text to out; 0 or -1.  The
 * text is decoded where it lies in the tree (a Send's stream is 150 KB
 * of it); only text wrapped by a client, with blanks inside, is copied
 * without them first. */
static int decode_stream(const xmlNode *stream, struct buf *out)
{
	size_t len;
	const char *view = xml_trimmed_text_view(stream, &len);
	if (view != NULL && base64_decode(out, view, len) == 0)
		return 0;
	char *text = xml_trimmed_text(stream);
	size_t k = 0;
	for (size_t i = 0; text[i] != '\0'; i++)
		if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' &&
		    text[i] != '\t')
			text[k++] = text[i];
	int rc = base64_decode(out, text, k);
	free(text);
	return rc;
}

enum fault_id res_shell_send(struct request *r, const struct wsman_request *req,
			     struct buf *out)
{
	const char *shell_id = shell_id_of(req);
	if (shell_id == NULL)
		return FAULT_INSUFFICIENT_SELECTORS;
	const xmlNode *body = req->body;
	if (!xml_is_element(body, NS_SHELL, "Send"))
		return FAULT_SCHEMA_VALIDATION;
	struct shell_caller who = caller_of(r);
	/* Resumed after waiting for the command to read: the input was
	 * queued by the first call. */
	bool resumed = r->shell_wait != NULL;
	char *last_cmd = NULL; /* owned */
	for (xmlNode *s = body->children; s != NULL && !resumed; s = s->next) {
		if (!xml_is_element(s, NS_SHELL, "Stream"))
			continue;
		char *name = attr(s, "Name");
		char *cmd = attr(s, "CommandId");
		char *end_s = attr(s, "End");
		bool end = false;
		enum fault_id f = FAULT_NONE;
		if (end_s != NULL && str_parse_bool(end_s, &end) != 0)
			f = FAULT_SCHEMA_VALIDATION;
		struct buf bytes = BUF_INIT;
		if (f == FAULT_NONE &&
		    (name == NULL || !str_ieq(name, "stdin")))
			f = FAULT_INVALID_PARAMETER;
		else if (f == FAULT_NONE && cmd == NULL)
			f = FAULT_INVALID_PARAMETER;
		else if (f == FAULT_NONE && decode_stream(s, &bytes) != 0)
			f = FAULT_SCHEMA_VALIDATION;
		if (f == FAULT_NONE)
			f = fault_of(r, shells_send(&who, shell_id, cmd, &bytes,
						    end));
		buf_release_secret(&bytes);
		free(name);
		free(end_s);
		if (f != FAULT_NONE) {
			free(cmd);
			free(last_cmd);
			return f;
		}
		free(last_cmd);
		last_cmd = cmd;
	}
	if (resumed || last_cmd != NULL) {
		/* Answer once the command has read most of its input. */
		struct shell_waiter w = waiter_of(r);
		enum shell_status st = shells_send_wait(op_of(r), &who,
							shell_id, last_cmd,
							wait_limit_ms(r, req),
							&w);
		free(last_cmd);
		if (st != SHELL_OK)
			return fault_of(r, st);
	}
	begin(out, req, ACTION_SHELL_SEND);
	buf_append_str(out, "<rsp:SendResponse/>");
	wsman_response_end(out);
	return FAULT_NONE;
}

/* ---- Receive ---- */

/* One rsp:Stream element; b64 is its base64 text (NULL: empty). */
static void render_stream(struct buf *out, const char *name, const char *cmd_id,
			  const char *b64, size_t b64_len, bool end)
{
	buf_printf(out, "<rsp:Stream Name=\"%s\" CommandId=\"%s\"%s>", name,
		   cmd_id, end ? " End=\"true\"" : "");
	buf_append(out, b64, b64_len);
	buf_append_str(out, "</rsp:Stream>");
}

/* The rsp:ReceiveResponse body: the output in arrival order, then the
 * command's state (end-of-stream markers and the exit code once done). */
static void render_received(struct buf *out, const struct shell_received *got,
			    bool want_out, bool want_err)
{
	const char *id = got->command_id;
	buf_append_str(out, "<rsp:ReceiveResponse>");
	for (size_t i = 0; i < got->n_output; i++) {
		const struct shell_output *o = &got->output[i];
		render_stream(out,
			      o->stream == SHELL_STDOUT ? "stdout" : "stderr",
			      id, o->b64, o->b64_len, false);
	}
	if (got->done) {
		if (want_out)
			render_stream(out, "stdout", id, NULL, 0, true);
		if (want_err)
			render_stream(out, "stderr", id, NULL, 0, true);
		buf_printf(
			out,
			"<rsp:CommandState CommandId=\"%s\" State=\"" NS_SHELL_STATE
			"/Done\"><rsp:ExitCode>%d</rsp:ExitCode></rsp:CommandState>",
			id, got->exit_code);
	} else {
		buf_printf(
			out,
			"<rsp:CommandState CommandId=\"%s\" State=\"" NS_SHELL_STATE
			"/Running\"></rsp:CommandState>",
			id);
	}
	buf_append_str(out, "</rsp:ReceiveResponse>");
}

enum fault_id res_shell_receive(struct request *r,
				const struct wsman_request *req,
				struct buf *out)
{
	const char *shell_id = shell_id_of(req);
	if (shell_id == NULL)
		return FAULT_INSUFFICIENT_SELECTORS;
	const xmlNode *body = req->body;
	if (!xml_is_element(body, NS_SHELL, "Receive"))
		return FAULT_SCHEMA_VALIDATION;
	xmlNode *ds = xml_child(body, NS_SHELL, "DesiredStream");
	if (ds == NULL)
		return FAULT_SCHEMA_VALIDATION;
	char *cmd = attr(ds, "CommandId");
	if (cmd == NULL)
		return FAULT_INVALID_PARAMETER; /* observed for cmd shells */
	char *streams = xml_trimmed_text(ds);
	bool want_out = false, want_err = false;
	for (char *tok = strtok(streams, " \t\r\n"); tok != NULL;
	     tok = strtok(NULL, " \t\r\n")) {
		want_out = want_out || str_ieq(tok, "stdout");
		want_err = want_err || str_ieq(tok, "stderr");
	}
	free(streams);
	const struct winrmd_config *cfg = r->cfg;
	int64_t timeout = wait_limit_ms(r, req);
	/* The whole response must stay under the client's MaxEnvelopeSize:
	 * budget the raw output for base64 (4/3) and the envelope. */
	int64_t env = (int64_t)cfg->max_envelope_size_kb * 1024;
	if (req->max_envelope_size > 0 && req->max_envelope_size < env)
		env = req->max_envelope_size;
	int64_t payload = (env - 4096) / 4 * 3;
	if (payload < 1024)
		payload = 1024;
	struct shell_caller who = caller_of(r);
	struct shell_waiter w = waiter_of(r);
	struct shell_received got;
	enum shell_status st = shells_receive(op_of(r), &who, shell_id, cmd,
					      want_out, want_err, timeout,
					      (size_t)payload, &w, &got);
	free(cmd);
	if (st != SHELL_OK)
		return fault_of(r, st);
	/* One allocation for the whole answer: the output is most of it, and
	 * growing by doubling would copy it again. */
	size_t text = 0;
	for (size_t i = 0; i < got.n_output; i++)
		text += got.output[i].b64_len + 256;
	buf_reserve(out, text + 4096);
	begin(out, req, ACTION_SHELL_RECEIVE);
	render_received(out, &got, want_out, want_err);
	wsman_response_end(out);
	return FAULT_NONE;
}

/* ---- Signal ---- */

enum fault_id res_shell_signal(struct request *r,
			       const struct wsman_request *req, struct buf *out)
{
	const char *shell_id = shell_id_of(req);
	if (shell_id == NULL)
		return FAULT_INSUFFICIENT_SELECTORS;
	const xmlNode *body = req->body;
	if (!xml_is_element(body, NS_SHELL, "Signal"))
		return FAULT_SCHEMA_VALIDATION;
	xmlNode *cn = xml_child(body, NS_SHELL, "Code");
	char *code = cn ? xml_trimmed_text(cn) : NULL;
	char *cmd = attr(body, "CommandId");
	enum fault_id f;
	const char *word = code ? strrchr(code, '/') : NULL;
	word = word ? word + 1 : "";
	enum shell_signal sig;
	if (str_ieq(word, "terminate")) {
		sig = SHELL_SIGNAL_TERMINATE;
		f = FAULT_NONE;
	} else if (str_ieq(word, "ctrl_c")) {
		sig = SHELL_SIGNAL_CTRL_C;
		f = FAULT_NONE;
	} else if (str_ieq(word, "ctrl_break")) {
		sig = SHELL_SIGNAL_CTRL_BREAK;
		f = FAULT_NONE;
	} else {
		sig = SHELL_SIGNAL_TERMINATE;
		f = FAULT_INVALID_PARAMETER;
	}
	if (f == FAULT_NONE && cmd == NULL)
		f = FAULT_INVALID_PARAMETER;
	struct shell_caller who = caller_of(r);
	if (f == FAULT_NONE)
		f = fault_of(r, shells_signal(&who, shell_id, cmd, sig));
	free(code);
	free(cmd);
	if (f != FAULT_NONE)
		return f;
	begin(out, req, ACTION_SHELL_SIGNAL);
	buf_append_str(out, "<rsp:SignalResponse/>");
	wsman_response_end(out);
	return FAULT_NONE;
}

/* ---- Delete and Get ---- */

enum fault_id res_shell_delete(struct request *r,
			       const struct wsman_request *req, struct buf *out)
{
	const char *shell_id = shell_id_of(req);
	if (shell_id == NULL)
		return FAULT_INSUFFICIENT_SELECTORS;
	struct shell_caller who = caller_of(r);
	enum fault_id f = fault_of(r, shells_delete(&who, shell_id));
	log_audit_event(CONN_PEER(r->conn), "shell",
			"user=%s action=delete shell=%s result=%s%s%s%s",
			LOG_ESC(r->identity->user), LOG_ESC(shell_id),
			f == FAULT_NONE ? "success" : "failure",
			f == FAULT_NONE ? "" : " reason=\"",
			f == FAULT_NONE ? "" : fault_name(f),
			f == FAULT_NONE ? "" : "\"");
	if (f != FAULT_NONE)
		return f;
	begin(out, req, ACTION_DELETE);
	wsman_response_end(out);
	return FAULT_NONE;
}

enum fault_id res_shell_get(struct request *r, const struct wsman_request *req,
			    struct buf *out)
{
	const char *shell_id = shell_id_of(req);
	if (shell_id == NULL)
		return FAULT_INSUFFICIENT_SELECTORS;
	struct shell_info info;
	struct shell_caller who = caller_of(r);
	enum fault_id f = fault_of(r, shells_get(&who, shell_id, &info));
	if (f != FAULT_NONE)
		return f;
	begin(out, req, ACTION_GET);
	render_shell(out, &info);
	wsman_response_end(out);
	shell_info_release(&info);
	return FAULT_NONE;
}

/* ---- Enumerate (MS-WSMV 3.1.4.8.2): the caller's shells as rsp:Shell
 * items; Pull and Release go through the shared enumeration contexts. ---- */

enum fault_id res_shell_enumerate(struct request *r,
				  const struct wsman_request *req,
				  struct buf *out)
{
	const xmlNode *body = req->body;
	if (!xml_is_element(body, NS_ENUMERATION, "Enumerate"))
		return FAULT_SCHEMA_VALIDATION;
	/* Windows refuses both filter forms on the cmd shell resource. */
	if (xml_child(body, NS_WSMAN, "Filter") != NULL ||
	    xml_child(body, NS_ENUMERATION, "Filter") != NULL)
		return FAULT_FILTERING_NOT_SUPPORTED;
	/* A ShellId selector asks for the commands of one shell, which is
	 * not offered: say so rather than list the shells instead. */
	if (req->n_selectors > 0)
		return FAULT_INVALID_SELECTORS;
	struct shell_info *infos;
	struct shell_caller who = caller_of(r);
	size_t n = shells_list(&who, &infos);
	struct buf items = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		render_shell(&items, &infos[i]);
		shell_info_release(&infos[i]);
	}
	free(infos);
	return res_enum_answer(r, req, &items, out);
}
