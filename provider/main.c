/*
 * main.c - winrmd-wmi, the WMI provider host (design.md, decision 11):
 * one process per account, started by winrmd-priv for the listener
 * exactly like a shell command (PAM session, initgroups, setgid, setuid,
 * the account's environment), which reads the Win32 classes' values from
 * Linux as that account and runs their methods as that account.
 *
 * It speaks lib/wmi/wire.h on its standard input and output: one request
 * frame in, one reply frame out, until its input ends (the listener ends
 * a host that has been idle for a while by closing it).  Nothing else is
 * ever written to standard output; diagnostics go to standard error,
 * which the listener logs.
 *
 * Must not: link libxml2 or libmicrohttpd, render XML, or decide who may
 * do what (Linux does: it runs with the caller's credentials only).
 *
 * Entry point: main.
 */
#include "autoconfig.h"

#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/wmi/schema.h"
#include "lib/wmi/wire.h"
#include "provider/classes.h"
#include "provider/provider.h"

#define PROVIDER_ENTRY(cls, f) { #cls, &provider_##cls },
static const struct {
	const char *name;
	const struct provider_class *ops;
} table[] = { WMI_CLASSES(PROVIDER_ENTRY) };

const struct provider_class *provider_find(const struct wmi_class *c)
{
	for (size_t i = 0; c != NULL && i < sizeof(table) / sizeof(table[0]);
	     i++)
		if (strcmp(table[i].name, c->name) == 0)
			return table[i].ops;
	return NULL;
}

static int read_full(int fd, void *p, size_t n)
{
	uint8_t *q = p;
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, q + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return got == 0 && r == 0 ? 1 : -1;
		got += (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const void *p, size_t n)
{
	const uint8_t *q = p;
	while (n > 0) {
		ssize_t w = write(fd, q, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

static void answer_query(const struct wmi_request *req,
			 const struct wmi_class *c,
			 const struct provider_class *ops, struct buf *out)
{
	bool *wanted = NULL;
	if (req->n_wanted > 0) {
		wanted = xcalloc(c->n_props, sizeof(*wanted));
		for (size_t i = 0; i < req->n_wanted; i++)
			if (req->wanted[i] < c->n_props)
				wanted[req->wanted[i]] = true;
	}
	struct prov_out o = {
		.cls = c,
		.req = req,
		.b = out,
		.keys_only = (req->flags & WMI_Q_KEYS_ONLY) != 0,
		.wanted = wanted,
	};
	wmi_wire_begin(out, &o.frame, WMI_W_INSTANCES);
	o.count_pos = out->len;
	wmi_wire_u32(out, 0);
	char *message = NULL;
	int rc = ops->enumerate(&o, &message);
	out_end(&o);
	free(wanted);
	if (rc != 0) {
		out->len = o.frame;
		wmi_wire_error(out, (enum wmi_error)rc,
			       message ? message : "the class failed");
		free(message);
		return;
	}
	free(message);
	uint8_t *cp = out->data + o.count_pos;
	cp[0] = (uint8_t)o.count;
	cp[1] = (uint8_t)(o.count >> 8);
	cp[2] = (uint8_t)(o.count >> 16);
	cp[3] = (uint8_t)(o.count >> 24);
	wmi_wire_end(out, o.frame);
	if (out->len - o.frame - WMI_WIRE_HEADER > WMI_WIRE_MAX_REPLY) {
		out->len = o.frame;
		wmi_wire_error(out, WMI_E_FAILED,
			       "the answer is larger than the limit");
	}
}

static void answer_invoke(const struct wmi_request *req,
			  const struct provider_class *ops, struct buf *out)
{
	struct prov_result r = { 0 };
	if (ops->invoke == NULL)
		result_error(&r, WMI_E_NOT_SUPPORTED, "%s has no methods",
			     req->class_name);
	else
		ops->invoke(req, &r);
	if (r.error != 0) {
		wmi_wire_error(out, (enum wmi_error)r.error,
			       r.message ? r.message : "");
	} else {
		size_t start;
		wmi_wire_begin(out, &start, WMI_W_RESULT);
		wmi_wire_u32(out, r.return_value);
		wmi_wire_u16(out, (uint16_t)r.n_outs);
		for (size_t i = 0; i < r.n_outs; i++) {
			wmi_wire_cstr(out, r.outs[i].name);
			wmi_wire_u8(out, r.outs[i].is_null ? 1 : 0);
			wmi_wire_cstr(out, r.outs[i].value);
		}
		wmi_wire_end(out, start);
	}
	for (size_t i = 0; i < r.n_outs; i++)
		free(r.outs[i].value);
	free(r.message);
}

static void answer(const uint8_t *p, size_t len, struct buf *out)
{
	struct wmi_request req;
	const char *why = NULL;
	if (wmi_wire_decode_request(p, len, &req, &why) != 0) {
		wmi_wire_error(out, WMI_E_PROTOCOL, why);
		wmi_request_release(&req);
		return;
	}
	const struct wmi_class *c = wmi_class_find(req.class_name);
	const struct provider_class *ops = provider_find(c);
	if (ops == NULL)
		wmi_wire_error(out, WMI_E_NOT_SUPPORTED, "unknown class");
	else if (req.type == WMI_W_QUERY)
		answer_query(&req, c, ops, out);
	else
		answer_invoke(&req, ops, out);
	wmi_request_release(&req);
}

int main(int argc, char *argv[])
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "winrmd-wmi: the WMI provider host of winrmd; "
				"started by winrmd-priv, not by hand\n");
		return 2;
	}
	/* Numbers and times are rendered in the C locale; names as the
	 * account's environment says. */
	setlocale(LC_CTYPE, "");
	signal(SIGPIPE, SIG_IGN);
	/* Processes created by Win32_Process.Create are not ours to reap. */
	signal(SIGCHLD, SIG_DFL);
	struct buf in = BUF_INIT, out = BUF_INIT;
	for (;;) {
		uint8_t hdr[WMI_WIRE_HEADER];
		int rc = read_full(0, hdr, sizeof(hdr));
		if (rc != 0)
			return rc > 0 ? 0 : 1;
		uint32_t len = wmi_wire_frame_len(hdr);
		if (len == 0 || len > WMI_WIRE_MAX_REQUEST) {
			fprintf(stderr,
				"winrmd-wmi: request of %u bytes "
				"refused\n",
				len);
			return 1;
		}
		buf_reset(&in);
		buf_reserve(&in, len);
		if (read_full(0, in.data, len) != 0)
			return 1;
		buf_reset(&out);
		answer(in.data, len, &out);
		if (write_full(1, out.data, out.len) != 0)
			return 1;
		if (out.cap > (8u << 20)) {
			/* do not keep a large answer's memory while idle */
			buf_release(&out);
		}
	}
}
