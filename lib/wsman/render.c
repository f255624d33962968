/*
 * render.c - response envelopes from fixed templates: XML escaping, the
 * common SOAP header block, and transcoding to UTF-16 for clients that
 * spoke UTF-16 (Windows' own client).
 *
 * Replies are never built as libxml2 trees (design.md, "Performance
 * notes"): the fixed parts are string constants and only the few variable
 * fields go through xml_escape.
 *
 * Must not: log, exit, or depend on libxml2 (fault.c uses this file and
 * must stay libxml2-free).
 *
 * Entry points: xml_escape, xml_escape_n, wsman_response_begin,
 * wsman_response_end, wsman_transcode, wsman_content_type.
 */
#include "autoconfig.h"

#include "lib/wsman/render.h"
#include "lib/wsman/ns.h"

#include <iconv.h>
#include <stdlib.h>
#include <string.h>

/* U+FFFD, written instead of bytes that cannot appear in XML 1.0. */
#define REPLACEMENT "\xEF\xBF\xBD"

/* Bytes that can be copied as they are: printable ASCII except markup. */
static bool plain_byte(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '&' && c != '<' && c != '>' &&
	       c != '"' && c != '\'';
}

static bool cont_byte(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

/*
 * Length of the well-formed UTF-8 sequence at s (s[0] >= 0x80) that XML
 * allows, or 0.  Refuses overlong forms, surrogates, values over U+10FFFF
 * and the non-characters U+FFFE/U+FFFF.
 */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c >= 0xC2 && c <= 0xDF)
		return n >= 2 && cont_byte(s[1]) ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (n < 3 || !cont_byte(s[1]) || !cont_byte(s[2]))
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)
			return 0; /* overlong */
		if (c == 0xED && s[1] > 0x9F)
			return 0; /* surrogate */
		if (c == 0xEF && s[1] == 0xBF && (s[2] == 0xBE || s[2] == 0xBF))
			return 0; /* U+FFFE, U+FFFF */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (n < 4 || !cont_byte(s[1]) || !cont_byte(s[2]) ||
		    !cont_byte(s[3]))
			return 0;
		if (c == 0xF0 && s[1] < 0x90)
			return 0; /* overlong */
		if (c == 0xF4 && s[1] > 0x8F)
			return 0; /* over U+10FFFF */
		return 4;
	}
	return 0;
}

/*
 * The reference written for a byte that markup would misread, or that
 * attribute-value normalisation would turn into a space (tab, CR, LF);
 * NULL for every other byte.
 */
static const char *reference_for(unsigned char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&apos;";
	case '\t': return "&#9;";
	case '\n': return "&#10;";
	case '\r': return "&#13;";
	default: return NULL;
	}
}

void xml_escape_n(struct buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + n;

	if (s == NULL)
		return;
	buf_reserve(out, n);
	while (p < end) {
		const unsigned char *run = p;
		while (p < end && plain_byte(*p))
			p++;
		if (p > run)
			buf_append(out, run, (size_t)(p - run));
		if (p == end)
			break;

		unsigned char c = *p;
		const char *ref = reference_for(c);
		if (ref != NULL) {
			buf_append_str(out, ref);
			p++;
			continue;
		}
		if (c < 0x80) {
			/* Other C0 controls have no XML 1.0 representation. */
			buf_append(out, REPLACEMENT, 3);
			p++;
			continue;
		}
		size_t len = utf8_seq_len(p, (size_t)(end - p));
		if (len == 0) {
			buf_append(out, REPLACEMENT, 3);
			p++;
		} else {
			buf_append(out, p, len);
			p += len;
		}
	}
}

void xml_escape(struct buf *out, const char *s)
{
	if (s != NULL)
		xml_escape_n(out, s, strlen(s));
}

static const char response_head[] = "<s:Envelope xml:lang=\"en-US\""
				    " xmlns:s=\"" NS_SOAP "\""
				    " xmlns:a=\"" NS_ADDRESSING "\""
				    " xmlns:x=\"" NS_TRANSFER "\""
				    " xmlns:w=\"" NS_WSMAN "\""
				    " xmlns:rsp=\"" NS_SHELL "\""
				    " xmlns:p=\"" NS_WSMV "\">"
				    "<s:Header>";

void wsman_response_begin(struct buf *out, const char *action,
			  const char *relates_to)
{
	buf_reserve(out, 1024);
	buf_append(out, response_head, sizeof(response_head) - 1);
	wsman_addressing_headers(out, action, relates_to);
	buf_append_str(out, "</s:Header><s:Body>");
}

void wsman_addressing_headers(struct buf *out, const char *action,
			      const char *relates_to)
{
	char guid[37];

	guid_generate(guid);
	buf_append_str(out, "<a:Action>");
	xml_escape(out, action);
	buf_append_str(out, "</a:Action><a:MessageID>uuid:");
	buf_append(out, guid, 36);
	buf_append_str(out, "</a:MessageID><a:To>" ADDR_ANONYMOUS "</a:To>");
	if (relates_to != NULL) {
		buf_append_str(out, "<a:RelatesTo>");
		xml_escape(out, relates_to);
		buf_append_str(out, "</a:RelatesTo>");
	}
}

void wsman_response_end(struct buf *out)
{
	buf_append_str(out, "</s:Body></s:Envelope>");
}

int wsman_transcode(struct buf *body, enum wsman_charset charset)
{
	const char *to;

	switch (charset) {
	case WSMAN_UTF16LE: to = "UTF-16LE"; break;
	case WSMAN_UTF16BE: to = "UTF-16BE"; break;
	default: return 0;
	}

	iconv_t cd = iconv_open(to, "UTF-8");
	if (cd == (iconv_t)-1)
		return -1;

	/* Every UTF-8 sequence becomes at most twice its length in UTF-16;
	 * +2 for the BOM, +1 for struct buf's terminating NUL. */
	size_t cap = body->len * 2 + 3;
	char *out = xmalloc(cap);
	if (charset == WSMAN_UTF16LE) {
		out[0] = (char)0xFF;
		out[1] = (char)0xFE;
	} else {
		out[0] = (char)0xFE;
		out[1] = (char)0xFF;
	}
	char *in = (char *)body->data;
	size_t in_left = body->len;
	char *op = out + 2;
	size_t out_left = cap - 3;
	int rc = 0;

	if (in_left > 0 &&
	    iconv(cd, &in, &in_left, &op, &out_left) == (size_t)-1)
		rc = -1;
	else if (iconv(cd, NULL, NULL, &op, &out_left) == (size_t)-1)
		rc = -1;
	iconv_close(cd);
	if (rc < 0 || in_left != 0) {
		free(out);
		return -1;
	}

	size_t len = (size_t)(op - out);
	out[len] = '\0';
	free(body->data);
	body->data = (uint8_t *)out;
	body->len = len;
	body->cap = cap;
	return 0;
}

const char *wsman_content_type(enum wsman_charset charset)
{
	if (charset == WSMAN_UTF16LE || charset == WSMAN_UTF16BE)
		return "application/soap+xml;charset=UTF-16";
	return "application/soap+xml;charset=UTF-8";
}
