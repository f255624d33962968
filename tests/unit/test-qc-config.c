/*
 * test-qc-config.c - unit tests of winrmctl/qc-config.c, the text side of
 * winrmctl quickconfig: the checksum line (sealed text is "ours", any
 * change makes it "edited", the shipped default is recognised), and
 * listener groups added to the Listeners list of the shipped winrmd.conf
 * ($WINRMD_SRCDIR/conf/winrmd.conf) and of hand-written files: the result
 * loads with the daemon's loader, has the new listener, and the text
 * around the insertion is unchanged; refusals for a list in an included
 * file, a Listeners setting that is not a list, text that does not parse.
 */
#include "autoconfig.h"

#include "lib/config.h"
#include "lib/fileio.h"
#include "lib/util.h"
#include "tests/lib/tap.h"
#include "winrmctl/qc-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *srcdir = ".";

static const struct qc_listener https_l = { TRANSPORT_HTTPS, 5986,
					    "/etc/winrmd/tls/cert.pem",
					    "/etc/winrmd/tls/key.pem" };
static const struct qc_listener http_l = { TRANSPORT_HTTP, 5985, NULL, NULL };

static void test_marker(void)
{
	const char *body = "Service = { MaxTimeoutms = 60000; };\n";
	struct buf sealed = BUF_INIT;

	qc_seal(&sealed, body, strlen(body));
	const char *s = (const char *)sealed.data;
	ok(strncmp(s, QC_MARKER_PREFIX, strlen(QC_MARKER_PREFIX)) == 0,
	   "sealed text starts with the marker");
	is_int(qc_body_offset(s, sealed.len), sealed.len - strlen(body),
	       "the body follows the marker line");
	is_str(s + qc_body_offset(s, sealed.len), body, "body unchanged");
	is_int(qc_classify(s, sealed.len, NULL, 0), QC_OURS,
	       "sealed text is quickconfig's");
	is_int(qc_classify(s, sealed.len, body, strlen(body)), QC_OURS,
	       "ours, whatever the default");

	/* one byte changed in the body */
	char *edited = xstrdup(s);
	edited[sealed.len - 3] = '1';
	is_int(qc_classify(edited, sealed.len, NULL, 0), QC_EDITED,
	       "a changed body makes it edited");
	free(edited);
	/* a line added at the end */
	struct buf more = BUF_INIT;
	buf_append(&more, sealed.data, sealed.len);
	buf_append_str(&more, "# note\n");
	is_int(qc_classify((const char *)more.data, more.len, NULL, 0),
	       QC_EDITED, "an added line makes it edited");
	buf_release(&more);
	/* the checksum itself changed */
	edited = xstrdup(s);
	edited[strlen(QC_MARKER_PREFIX)] ^= 1;
	is_int(qc_classify(edited, sealed.len, NULL, 0), QC_EDITED,
	       "a changed checksum makes it edited");
	free(edited);
	/* a marker cut short */
	const char *cut = QC_MARKER_PREFIX "abc\nService = { };\n";
	is_int(qc_classify(cut, strlen(cut), NULL, 0), QC_EDITED,
	       "a short checksum makes it edited");
	/* the default */
	is_int(qc_classify(body, strlen(body), body, strlen(body)), QC_DEFAULT,
	       "the shipped default is recognised");
	is_int(qc_classify(body, strlen(body) - 1, body, strlen(body)),
	       QC_EDITED, "one byte short of the default is edited");
	is_int(qc_classify(body, strlen(body), NULL, 0), QC_EDITED,
	       "without a default to compare, edited");
	is_int(qc_body_offset(body, strlen(body)), 0, "no marker: offset 0");
	/* sealing a sealed body's body gives the same text */
	struct buf again = BUF_INIT;
	size_t off = qc_body_offset(s, sealed.len);
	qc_seal(&again, s + off, sealed.len - off);
	is_str((const char *)again.data, s, "resealing is stable");
	buf_release(&again);
	buf_release(&sealed);
}

/* Loads text as winrmd would; NULL (and a diagnostic) when it does not. */
static struct winrmd_config *load(const char *text, const char *what)
{
	char *err = NULL;
	struct winrmd_config *cfg = config_load_string(text, what, &err);

	if (cfg == NULL)
		tap_diag("%s: %s", what, err != NULL ? err : "?");
	free(err);
	return cfg;
}

static void test_shipped(void)
{
	char *path = xasprintf("%s/conf/winrmd.conf", srcdir), *why = NULL;
	struct buf text = BUF_INIT;

	if (file_read_regular(path, 1 << 20, &text, NULL, &why) != 0) {
		ok(0, "read %s: %s", path, why);
		free(why);
		free(path);
		return;
	}
	struct winrmd_config *cfg = load((const char *)text.data, "shipped");
	ok(cfg != NULL, "the shipped winrmd.conf loads");
	if (cfg == NULL)
		goto out;
	struct buf orig = BUF_INIT;
	buf_append(&orig, text.data, text.len);
	char *error = NULL;
	is_int(qc_add_listener(&text, ".", cfg, &https_l, &error), 0,
	       "HTTPS listener added to the shipped file");
	struct winrmd_config *c2 = load((const char *)text.data, "edited");
	ok(c2 != NULL, "the result loads");
	if (c2 != NULL) {
		is_int(c2->n_listeners, 2, "two listeners");
		const struct listener_config *l = &c2->listeners[1];
		is_int(l->transport, TRANSPORT_HTTPS, "the second is HTTPS");
		is_int(l->port, 5986, "on 5986");
		is_str(l->address, "*", "on every address");
		is_str(l->certificate_file, "/etc/winrmd/tls/cert.pem",
		       "its certificate");
		is_str(l->key_file, "/etc/winrmd/tls/key.pem", "its key");
		ok(l->enabled, "enabled");
		is_str(c2->listeners[0].address, "*", "the first is unchanged");
		is_int(c2->listeners[0].transport, TRANSPORT_HTTP,
		       "the first is HTTP");
	}
	/* Only an insertion: the text before and after is the original. */
	size_t pre = 0;
	while (pre < orig.len && orig.data[pre] == text.data[pre])
		pre++;
	size_t post = 0;
	while (post < orig.len &&
	       orig.data[orig.len - 1 - post] == text.data[text.len - 1 - post])
		post++;
	ok(pre + post >= orig.len,
	   "nothing but an insertion (%zu + %zu of %zu)", pre, post, orig.len);
	contains((const char *)text.data + pre,
		 "# added by winrmctl quickconfig",
		 "the inserted group says who added it");
	/* after the HTTP group, before the commented-out example */
	const char *ins = strstr((const char *)text.data, "# added by");
	const char *example = strstr((const char *)text.data,
				     "# An HTTPS listener: add a comma");
	ok(ins != NULL && example != NULL && ins < example,
	   "inserted before the comment that follows the last group");
	config_unref(c2);
	/* and an HTTP one on another port after it: three */
	struct qc_listener other = { TRANSPORT_HTTP, 8085, NULL, NULL };
	c2 = load((const char *)text.data, "edited");
	is_int(qc_add_listener(&text, ".", c2, &other, &error), 0,
	       "a third listener added");
	config_unref(c2);
	c2 = load((const char *)text.data, "edited twice");
	ok(c2 != NULL && c2->n_listeners == 3 && c2->listeners[2].port == 8085,
	   "three listeners, the last on 8085");
	config_unref(c2);
	free(error);
	buf_release(&orig);
	config_unref(cfg);
out:
	buf_release(&text);
	free(path);
}

/* Adds l to text, which must load before and after; returns the
 * configuration after (caller unrefs) or NULL. */
static struct winrmd_config *add_to(const char *text_in,
				    const struct qc_listener *l,
				    struct buf *text, const char *what)
{
	struct winrmd_config *cfg = load(text_in, what);
	char *error = NULL;

	buf_append_str(text, text_in);
	if (cfg == NULL) {
		ok(0, "%s: loads before", what);
		return NULL;
	}
	int r = qc_add_listener(text, ".", cfg, l, &error);
	ok(r == 0, "%s: listener added", what);
	if (r != 0)
		tap_diag("%s", error);
	free(error);
	config_unref(cfg);
	return r == 0 ? load((const char *)text->data, what) : NULL;
}

static void test_shapes(void)
{
	struct buf t = BUF_INIT;
	struct winrmd_config *c;

	/* No Listeners setting: the default HTTP listener is kept. */
	c = add_to("Service = { MaxTimeoutms = 60000; };\n", &https_l, &t,
		   "no list");
	ok(c != NULL && c->n_listeners == 2 &&
		   c->listeners[0].transport == TRANSPORT_HTTP &&
		   c->listeners[0].port == 5985 &&
		   c->listeners[1].transport == TRANSPORT_HTTPS,
	   "no list: the default HTTP listener and the HTTPS one");
	ok(strncmp((const char *)t.data, "Service = { MaxTimeoutms = 60000; };",
		   36) == 0,
	   "no list: the file's text comes first, unchanged");
	config_unref(c);
	buf_release(&t);

	/* No newline at the end of the file. */
	c = add_to("Logging = { Level = \"info\"; };", &https_l, &t,
		   "no final newline");
	ok(c != NULL && c->n_listeners == 2, "no final newline: two");
	config_unref(c);
	buf_release(&t);

	/* A list on one line, ':' instead of '='. */
	c = add_to("Listeners : ( { Transport = \"HTTPS\"; CertificateFile = "
		   "\"/c\"; KeyFile = \"/k\"; } );\n",
		   &http_l, &t, "one line");
	ok(c != NULL && c->n_listeners == 2 &&
		   c->listeners[1].transport == TRANSPORT_HTTP,
	   "one line: HTTP added second");
	contains((const char *)t.data, "KeyFile = \"/k\"; },\n\t{",
		 "one line: a comma after the last group");
	config_unref(c);
	buf_release(&t);

	/* Strings and comments that look like the setting come first. */
	c = add_to("# Listeners = (\n/* Listeners = ( */\n"
		   "Daemon = { User = \"Listeners = (\"; };\n"
		   "Listeners = (\n\t{ Port = 6000; } # (a comment)\n"
		   "\t// another ) comment with a \" quote\n);\n",
		   &https_l, &t, "decoys");
	ok(c != NULL && c->n_listeners == 2 && c->listeners[0].port == 6000 &&
		   c->listeners[1].port == 5986,
	   "decoys: the real list got the listener");
	contains((const char *)t.data, "{ Port = 6000; },\n\t{",
		 "decoys: right after the last group");
	config_unref(c);
	buf_release(&t);

	/* HTTP on another port, to a file without a list. */
	struct qc_listener other = { TRANSPORT_HTTP, 8085, NULL, NULL };
	c = add_to("Service = { MaxTimeoutms = 60000; };\n", &other, &t,
		   "another port");
	ok(c != NULL && c->n_listeners == 2 && c->listeners[1].port == 8085,
	   "another port: beside the default HTTP listener");
	config_unref(c);
	buf_release(&t);
}

static void test_refusals(void)
{
	struct buf t = BUF_INIT;
	char *error = NULL;
	struct winrmd_config *def = config_new_defaults();

	buf_append_str(&t, "Listeners = 5;\n");
	is_int(qc_add_listener(&t, ".", def, &https_l, &error), -1,
	       "Listeners that is not a list is refused");
	contains(error, "not a list", "... saying so");
	free(error);
	error = NULL;
	buf_release(&t);

	buf_append_str(&t, "Listeners = ( { Port = 1; } \n");
	is_int(qc_add_listener(&t, ".", def, &https_l, &error), -1,
	       "text that does not parse is refused");
	contains(error, "does not parse", "... saying so");
	free(error);
	error = NULL;
	buf_release(&t);

	/* The list in an included file. */
	char dir[] = "/tmp/winrmd-test-qc-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		config_unref(def);
		return;
	}
	char *inc = xasprintf("%s/listeners.conf", dir);
	FILE *f = fopen(inc, "w");
	if (f != NULL) {
		fputs("Listeners = ( { Port = 5985; } );\n", f);
		fclose(f);
	}
	buf_append_str(&t, "@include \"listeners.conf\"\n");
	is_int(qc_add_listener(&t, dir, def, &https_l, &error), -1,
	       "a list in an included file is refused");
	contains(error, "included file", "... naming the file");
	free(error);
	buf_release(&t);
	unlink(inc);
	free(inc);
	rmdir(dir);
	config_unref(def);
}

static void test_names(void)
{
	char *n = qc_listener_name(TRANSPORT_HTTP, "*", 5985);
	is_str(n, "HTTP://*", "default HTTP port not shown");
	free(n);
	n = qc_listener_name(TRANSPORT_HTTPS, "*", 5987);
	is_str(n, "HTTPS://*:5987", "other port shown");
	free(n);
}

int main(void)
{
	const char *s = getenv("WINRMD_SRCDIR");
	if (s != NULL && s[0] != '\0')
		srcdir = s;
	test_marker();
	test_shipped();
	test_shapes();
	test_refusals();
	test_names();
	return tap_done();
}
