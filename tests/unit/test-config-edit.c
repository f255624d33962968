/*
 * test-config-edit.c - unit tests of the text edits of winrmd.conf
 * (lib/config-edit.c): settings set in place or inserted, listener groups
 * added, changed and removed, in several layouts, with comments, strings
 * that look like settings, and files without a Listeners list; each
 * result compared byte for byte and loaded by the real loader.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "lib/config-edit.h"
#include "lib/config.h"
#include "lib/util.h"
#include "tests/lib/tap.h"

static struct winrmd_config *load(const char *text, const char *what)
{
	char *err = NULL;
	struct winrmd_config *c = config_load_string(text, what, &err);
	if (!ok(c != NULL, "%s: loads", what))
		tap_diag("%s\n---\n%s", err, text);
	free(err);
	return c;
}

/* text edited by one config_edit_set; compared with want (NULL: must
 * fail, and leave the text alone). */
static void set_case(const char *text, const char *path, const char *lit,
		     const char *want, const char *what)
{
	struct buf t = BUF_INIT;
	buf_append_str(&t, text);
	char *err = NULL;
	int rc = config_edit_set(&t, NULL, path, lit, &err);
	if (want == NULL) {
		is_int(rc, -1, "%s: refused", what);
		is_str((const char *)t.data, text, "%s: text unchanged", what);
	} else {
		is_int(rc, 0, "%s: edited (%s)", what, err ? err : "");
		is_str((const char *)t.data, want, "%s: the text", what);
		config_unref(load((const char *)t.data, what));
	}
	free(err);
	buf_release(&t);
}

static void test_set(void)
{
	set_case("Service = {\n\tAuth = {\n\t\tBasic = false; # keep\n\t};\n};"
		 "\n",
		 "Service.Auth.Basic", "true",
		 "Service = {\n\tAuth = {\n\t\tBasic = true; # keep\n\t};\n};"
		 "\n",
		 "a value replaced in place, its comment kept");
	set_case("# Basic = false\nService = { Auth = { Kerberos = true; }; "
		 "};\n",
		 "Service.Auth.Basic", "true",
		 "# Basic = false\nService = { Auth = {\n\tBasic = true; "
		 "Kerberos = true; }; };\n",
		 "a missing setting inserted in its group, not in a comment");
	set_case("Service = {\n  Auth = {\n    Keytab = \"/x/Basic = y\";\n"
		 "  };\n};\n",
		 "Service.Auth.Basic", "true",
		 "Service = {\n  Auth = {\n    Basic = true;\n    Keytab = "
		 "\"/x/Basic = y\";\n  };\n};\n",
		 "a name inside a string is not a setting");
	set_case(
		"Logging = { Level = \"info\"; };\n",
		"Authorization.AdminGroups", "[ \"a\" ]",
		"Logging = { Level = \"info\"; };\nAuthorization = { AdminGroups "
		"= [ \"a\" ]; };\n",
		"a missing group at the end of the file");
	set_case("Authorization = {\n\tAdminGroups = [ \"sudo\", # one\n"
		 "\t\t\"wheel\" ];\n};\n",
		 "Authorization.AdminGroups", "[ \"x\" ]",
		 "Authorization = {\n\tAdminGroups = [ \"x\" ];\n};\n",
		 "an array over two lines replaced whole");
	set_case("Authorization = { RemoteUsersGroup = \"g\"; };\n",
		 "Authorization.RemoteUsersGroup", "[ \"a\", \"b\" ]",
		 "Authorization = { RemoteUsersGroup = [ \"a\", \"b\" ]; };\n",
		 "a string replaced by an array");
	set_case("Service = { Auth = { Basic = false } };\n",
		 "Service.Auth.Basic", "true",
		 "Service = { Auth = { Basic = true } };\n",
		 "a value without its semicolon");
	set_case("Service = { Auth = { Basic = ; }; };\n", "Service.Auth.Basic",
		 "true", NULL, "a file that does not parse");
}

static char *edit_listeners(const char *text, int op, size_t index,
			    const struct config_edit_member *m, size_t n,
			    const char *what)
{
	struct winrmd_config *cur = load(text, what);
	if (cur == NULL)
		return NULL;
	struct buf t = BUF_INIT;
	buf_append_str(&t, text);
	char *err = NULL;
	int rc = op == 0   ? config_edit_listener_add(&t, NULL, cur, m, n, &err)
		 : op == 1 ? config_edit_listener_set(&t, NULL, cur, index, m,
						      n, &err)
			   : config_edit_listener_delete(&t, NULL, cur, index,
							 &err);
	config_unref(cur);
	if (!ok(rc == 0, "%s: edited", what))
		tap_diag("%s", err ? err : "");
	free(err);
	return buf_steal(&t);
}

static void listener_case(const char *text, int op, size_t index,
			  const struct config_edit_member *m, size_t n,
			  const char *want, const char *what)
{
	char *got = edit_listeners(text, op, index, m, n, what);
	is_str(got, want, "%s: the text", what);
	if (got != NULL && want != NULL && strcmp(got, want) == 0) {
		struct winrmd_config *c = load(got, what);
		config_unref(c);
	}
	free(got);
}

static const struct config_edit_member https[] = {
	{ "Address", "\"*\"" },
	{ "Transport", "\"HTTPS\"" },
	{ "CertificateFile", "\"c\"" },
	{ "KeyFile", "\"k\"" },
};

static void test_listeners(void)
{
	/* one line per listener */
	const char *one = "# top\nListeners = (\n  { Address = \"*\"; "
			  "Transport = \"HTTP\"; }  # the HTTP one\n);\n";
	listener_case(
		one, 0, 0, https, 4,
		"# top\nListeners = (\n  { Address = \"*\"; Transport = "
		"\"HTTP\"; },\n  { Address = \"*\"; Transport = "
		"\"HTTPS\"; CertificateFile = \"c\"; KeyFile = \"k\"; }  # the HTTP "
		"one\n);\n",
		"add after a one-line group, same indentation");

	/* one member per line */
	const char *multi = "Listeners = (\n\t{\n\t\tAddress = \"*\";\n"
			    "\t\tTransport = \"HTTP\";\n\t}\n);\n";
	listener_case(multi, 0, 0, https, 4,
		      "Listeners = (\n\t{\n\t\tAddress = \"*\";\n\t\tTransport "
		      "= \"HTTP\";\n\t},\n\t{\n\t\tAddress = \"*\";\n\t\t"
		      "Transport = \"HTTPS\";\n\t\tCertificateFile = "
		      "\"c\";\n\t\tKeyFile = \"k\";\n\t}\n);\n",
		      "add after a multi-line group, in its layout");

	/* no Listeners list: the default listener is written out first */
	listener_case("Logging = { Level = \"info\"; };", 0, 0, https, 4,
		      "Logging = { Level = \"info\"; };\n\nListeners = (\n\t{ "
		      "Address = \"*\"; Transport = \"HTTP\"; },\n\t{ Address "
		      "= \"*\"; Transport = \"HTTPS\"; CertificateFile = "
		      "\"c\"; KeyFile = \"k\"; }\n);\n",
		      "add to a file without Listeners: the default listener "
		      "stays");

	/* set: replace one member, insert another */
	const struct config_edit_member port[] = { { "Port", "5999" },
						   { "URLPrefix", "\"w\"" } };
	const char *two = "Listeners = (\n  { Address = \"127.0.0.1\"; Port = "
			  "5985; Transport = \"HTTP\"; },\n  { Address = "
			  "\"*\"; Port = 5986; Transport = \"HTTP\"; "
			  "URLPrefix = \"x\"; }\n);\n";
	listener_case(
		two, 1, 1, port, 2,
		"Listeners = (\n  { Address = \"127.0.0.1\"; Port = "
		"5985; Transport = \"HTTP\"; },\n  { Address = \"*\"; "
		"Port = 5999; Transport = \"HTTP\"; URLPrefix = \"w\"; "
		"}\n);\n",
		"set the second group's Port and URLPrefix (it had both)");
	listener_case(two, 1, 0, port, 2,
		      "Listeners = (\n  { URLPrefix = \"w\"; Address = "
		      "\"127.0.0.1\"; Port = 5999; Transport = \"HTTP\"; },\n"
		      "  { Address = \"*\"; Port = 5986; Transport = \"HTTP\"; "
		      "URLPrefix = \"x\"; }\n);\n",
		      "set the first group: Port replaced, URLPrefix inserted");
	listener_case(
		multi, 1, 0, port + 1, 1,
		"Listeners = (\n\t{\n\t\tURLPrefix = \"w\";\n\t\tAddress = "
		"\"*\";\n\t\tTransport = \"HTTP\";\n\t}\n);\n",
		"a member inserted on a line of its own");

	/* delete */
	const char *three = "Listeners = (\n  # first\n  { Address = "
			    "\"127.0.0.1\"; Transport = \"HTTP\"; },\n  { "
			    "Address = \"*\"; Port = 5999; Transport = "
			    "\"HTTP\"; }, # second\n  { Address = \"*\"; "
			    "Port = 6000; Transport = \"HTTP\"; }\n);\n";
	listener_case(three, 2, 1, NULL, 0,
		      "Listeners = (\n  # first\n  { Address = \"127.0.0.1\"; "
		      "Transport = \"HTTP\"; },\n  { Address = \"*\"; "
		      "Port = 6000; Transport = \"HTTP\"; }\n);\n",
		      "delete a middle group: its line and comment go");
	listener_case(three, 2, 2, NULL, 0,
		      "Listeners = (\n  # first\n  { Address = \"127.0.0.1\"; "
		      "Transport = \"HTTP\"; },\n  { Address = \"*\"; Port = "
		      "5999; Transport = \"HTTP\"; }\n);\n",
		      "delete the last group: the comma before it goes");
	listener_case("Listeners = ( { Address = \"*\"; Transport = \"HTTP\"; "
		      "}, { Address = \"*\"; Port = 6000; Transport = "
		      "\"HTTP\"; } );\n",
		      2, 0, NULL, 0,
		      "Listeners = (  { Address = \"*\"; Port = 6000; "
		      "Transport = \"HTTP\"; } );\n",
		      "delete the first group of a one-line list");

	/* the file cannot be edited */
	struct winrmd_config *cur = load(one, "refusals");
	struct buf t = BUF_INIT;
	char *err = NULL;
	buf_append_str(&t, "Listeners = ( { Address = \"*\"; } ");
	ok(config_edit_listener_delete(&t, NULL, cur, 0, &err) == -1 &&
		   err != NULL,
	   "a file that does not parse is not edited");
	free(err);
	err = NULL;
	buf_release(&t);
	buf_append_str(&t, one);
	ok(config_edit_listener_delete(&t, NULL, cur, 3, &err) == -1 &&
		   strstr(err, "no listener 3") != NULL,
	   "no such group");
	is_str((const char *)t.data, one, "and the text is left alone");
	free(err);
	buf_release(&t);
	config_unref(cur);
}

static void test_find(void)
{
	struct winrmd_config *c = load(
		"Listeners = ( { Address = \"*\"; Transport = \"HTTP\"; }, "
		"{ Address = \"IP:::1\"; Transport = \"HTTPS\"; CertificateFile "
		"= \"c\"; KeyFile = \"k\"; }, { Address = \"192.0.2.1\"; "
		"Port = 6000; Transport = \"HTTP\"; } );",
		"find");
	if (c == NULL)
		return;
	is_int(config_listener_find(c, "*", "http"), 0, "* HTTP");
	is_int(config_listener_find(c, "IP:0:0::1", "HTTPS"), 1,
	       "IPv6 compared as addresses");
	is_int(config_listener_find(c, "[::1]", "HTTPS"), 1, "brackets");
	is_int(config_listener_find(c, "ip:192.0.2.1", "HTTP"), 2,
	       "IP: in any case");
	is_int(config_listener_find(c, "*", "HTTPS"), -1, "* HTTPS: none");
	is_int(config_listener_find(c, "IP:bogus", "HTTP"), -1,
	       "not an address: none");
	config_unref(c);
}

int main(void)
{
	test_set();
	test_listeners();
	test_find();
	return tap_done();
}
