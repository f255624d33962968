#!/usr/bin/python3
"""t7200 - the winrm/config/service/certmapping resource end to end, over
HTTP (Basic, admin carol) and through winrmctl on the admin socket:
Create (x:ResourceCreated, body variants, Enabled default, Password
accepted and never stored, returned or logged), Get, Put (only what the
body names), Delete, Enumerate with and without optimization, Pull and
Release, the faults (AlreadyExists, DestinationUnreachable, InvalidSelectors
and InsufficientSelectors, SchemaValidationError, InvalidRepresentation,
AccessDenied for non-admins), the file (atomic canonical rewrite, mode
0600, loadable, hand edits read, a broken file answered with InternalError
and never overwritten, a symbolic link not replaced), mappings usable for
an HTTPS certificate login at once, and concurrent Creates."""
import base64
import concurrent.futures
import os
import re
import stat
import subprocess
import sys
import time
import http.client
import ssl
import xml.etree.ElementTree as ET

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import soap  # noqa: E402
from lab import Lab  # noqa: E402
from pki import PKI  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import (BUILDDIR, IDENTIFY, LISTENER_RELOADED, SOAP_CT, WINRMD,  # noqa: E402
                    free_port, lab_daemon)

t = Tap()
CFG = "http://schemas.microsoft.com/wbem/wsman/1/config"
CM = CFG + "/service/certmapping"
NS_CM = CM
XFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
GET, PUT, CREATE, DELETE = (XFER + "/" + a for a in ("Get", "Put", "Create", "Delete"))
ENUMN = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
ENUM, PULL, RELEASE = (ENUMN + "/" + a for a in ("Enumerate", "Pull", "Release"))
MUTUAL = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"
CTL = os.path.join(BUILDDIR, "winrmctl", "winrmctl")
SECRET = "Pa55-t7200-NeverStored"
NSX = dict(soap.NS, cm=NS_CM)


def basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()}


CAROL = basic("carol", "carolpw")
DAVE = basic("dave", "davepw")
ALICE = basic("alice", "alicepw")


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def body(user=None, password=None, enabled=None, elem="CertMapping", ns=NS_CM, extra=""):
    parts = []
    if user is not None:
        parts.append("<cfg:UserName>%s</cfg:UserName>" % esc(user))
    if password is not None:
        parts.append("<cfg:Password>%s</cfg:Password>" % esc(password))
    if enabled is not None:
        parts.append("<cfg:Enabled>%s</cfg:Enabled>" % enabled)
    return '<cfg:%s xmlns:cfg="%s">%s%s</cfg:%s>' % (elem, ns, "".join(parts), extra, elem)


class R:
    """An answer: status, raw body, fault tuple (or None), parsed root."""

    def __init__(self, status, data):
        self.status, self.raw = status, data
        self.fault = soap.fault(data)
        try:
            self.root = ET.fromstring(data)
        except ET.ParseError:
            self.root = None

    def sub(self):
        return self.fault[1] if self.fault else None

    def code(self):
        return self.fault[2] if self.fault else None

    def detail(self):
        return (self.root.findtext("s:Body/s:Fault/s:Detail/w:FaultDetail", namespaces=NSX)
                if self.root is not None else None)

    def message(self):
        return (self.root.findtext("s:Body/s:Fault/s:Detail/f:WSManFault/f:Message", namespaces=NSX)
                if self.root is not None else None)

    def entries(self):
        """Every cm:CertMapping of the answer as a dict (child -> text)."""
        if self.root is None:
            return []
        return [{c.tag.split("}")[1]: c.text for c in e}
                for e in self.root.iter("{%s}CertMapping" % NS_CM)]

    def __repr__(self):
        return "R(%r, %r)" % (self.status, self.raw[:600])


class Env:
    def __init__(self, lab, pki):
        self.lab, self.pki = lab, pki
        self.CA = pki.thumbprint(pki.ca)
        self.INTER = pki.thumbprint(pki.intermediate)
        cfg = {"Service": {"AllowUnencrypted": True,
                           "Auth": {"Basic": True, "Certificate": True, "ClientCAFile": pki.ca}}}
        d = lab_daemon(lab, cfg)
        self.https_port = free_port()
        d.tree["Listeners"].append({"Address": "127.0.0.1", "Port": self.https_port, "Transport": "HTTPS",
                                    "CertificateFile": pki.server, "KeyFile": pki.server_key})
        d.write_config()
        self.d = d
        self.path = d.tree["Daemon"]["CertMappingFile"]
        self.sock = d.tree["Daemon"]["AdminSocket"]

    def sel(self, subject="alice@WINRMD.TEST", uri="*", issuer=None):
        s = {}
        if issuer is not False:
            s["Issuer"] = issuer or self.CA
        if subject is not None:
            s["Subject"] = subject
        if uri is not None:
            s["URI"] = uri
        return {k: esc(v) for k, v in s.items()}

    def call(self, action, selectors=None, body_xml="", who=CAROL, uri=CM, conn=None):
        st, _, data = self.d.post(soap.envelope(action, uri, body=body_xml, selectors=selectors),
                                  who, conn=conn)
        return R(st, data)

    def create(self, subject="alice@WINRMD.TEST", user="alice", uri="*", issuer=None, **kw):
        return self.call(CREATE, self.sel(subject, uri, issuer), body(user, **kw))

    def get(self, subject="alice@WINRMD.TEST", uri="*", issuer=None, who=CAROL):
        return self.call(GET, self.sel(subject, uri, issuer), who=who)

    def delete(self, subject="alice@WINRMD.TEST", uri="*", issuer=None, who=CAROL):
        return self.call(DELETE, self.sel(subject, uri, issuer), who=who)

    def put(self, subject="alice@WINRMD.TEST", uri="*", issuer=None, who=CAROL, **kw):
        return self.call(PUT, self.sel(subject, uri, issuer), body(**kw), who=who)

    def enumerate(self, optimize=True, who=CAROL):
        opt = "<w:OptimizeEnumeration/><w:MaxElements>32000</w:MaxElements>" if optimize else ""
        return self.call(ENUM, None, '<n:Enumerate xmlns:n="%s">%s</n:Enumerate>' % (ENUMN, opt), who=who)

    def file(self):
        try:
            with open(self.path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def check_file(self, what):
        r = subprocess.run([WINRMD, "-t", "-c", self.d.conf_path], capture_output=True, text=True,
                           timeout=30, env=self.d.env)
        t.ok(r.returncode == 0, "%s: winrmd -t accepts the written certmapping.conf" % what,
             r.stdout + r.stderr)

    def login(self, name, body_xml=IDENTIFY):
        ctx = ssl.create_default_context(cafile=self.pki.ca)
        ctx.load_cert_chain(getattr(self.pki, name), getattr(self.pki, name + "_key"))
        c = http.client.HTTPSConnection("127.0.0.1", self.https_port, timeout=30, context=ctx)
        try:
            c.request("POST", "/wsman", body=body_xml.encode(),
                      headers={"Content-Type": SOAP_CT, "Authorization": MUTUAL})
            r = c.getresponse()
            return R(r.status, r.read())
        finally:
            c.close()

    def ctl(self, *args, prefix=(), env=None):
        e = dict(os.environ)
        e.pop("WINRMD_ADMIN_SOCKET", None)
        e.update(env or {})
        r = subprocess.run(list(prefix) + [CTL] + list(args) + ["-S", self.sock], capture_output=True,
                           text=True, timeout=30, env=e)
        return r.returncode, r.stdout, r.stderr


def is_fault(r, sub, code=None, status=500):
    return r.status == status and r.sub() == sub and (code is None or r.code() == str(code))


# ---------------------------------------------------------------------------

def test_create(env):
    r = env.enumerate()
    t.ok(r.status == 200 and r.entries() == [] and r.root is not None
         and r.root.find(".//w:EndOfSequence", NSX) is not None,
         "Enumerate with no mapping file: 200, no items, EndOfSequence", r)
    t.eq(env.file(), None, "reading does not create the file")

    r = env.create(password=SECRET, issuer=env.CA.lower())
    t.eq(r.status, 200, "Create alice@WINRMD.TEST (Issuer in lower case, with a Password)")
    action = r.root.findtext("s:Header/a:Action", namespaces=NSX) if r.root is not None else None
    t.eq(action, XFER + "/CreateResponse", "the answer is a CreateResponse")
    rc = r.root.find("s:Body/x:ResourceCreated", NSX) if r.root is not None else None
    t.ok(rc is not None, "with x:ResourceCreated", r)
    if rc is not None:
        t.eq(rc.findtext("a:ReferenceParameters/w:ResourceURI", namespaces=NSX), CM,
             "ResourceCreated names the certmapping ResourceURI")
        sels = {s.get("Name"): s.text for s in rc.iterfind("a:ReferenceParameters/w:SelectorSet/w:Selector", NSX)}
        t.eq(sels, {"Issuer": env.CA, "Subject": "alice@WINRMD.TEST", "URI": "*"},
             "and the selectors Issuer (upper case), Subject, URI")
    t.not_contains(r.raw, SECRET, "the CreateResponse does not echo the Password")

    st = os.stat(env.path)
    t.eq(stat.S_IMODE(st.st_mode), 0o600, "certmapping.conf is mode 0600")
    t.eq((st.st_uid, st.st_gid), (0, 0), "and root's")
    text = env.file() or b""
    t.not_contains(text, SECRET, "the Password is not in the file")
    t.not_contains(text.lower(), b"password", "no Password key at all in the file")
    t.ok(re.search(rb'UserName\s*=\s*"alice";', text) and env.CA.encode() in text,
         "the file holds UserName alice and the upper-case Issuer", text)
    env.check_file("after Create")
    t.not_contains(env.d.log(), SECRET, "the Password is not in the daemon's (debug) log")
    t.ok(re.search(r'certificate mapping URI="\*" Subject="alice@WINRMD.TEST" Issuer=\w+ created by carol',
                   env.d.log()), "the helper logs who created which mapping", env.d.log()[-1500:])

    before = env.file()
    r = env.create(password=SECRET)
    t.ok(is_fault(r, "w:AlreadyExists", 2150858803), "a second Create of the same key: w:AlreadyExists", r)
    r = env.create(subject="ALICE@winrmd.test", issuer=env.CA.lower())
    t.ok(is_fault(r, "w:AlreadyExists"), "a key differing only in case: w:AlreadyExists", r)
    t.eq(env.file(), before, "refused Creates leave the file byte-identical")

    # body variants: element and namespace spelled as Windows' clients do
    r = env.call(CREATE, env.sel("v1@example.net"), body("alice", elem="certmapping", ns=NS_CM.lower()))
    t.eq(r.status, 200, "Create with a lower-case certmapping element and namespace")
    r = env.call(CREATE, env.sel("v2@example.net"), body("alice", ns=NS_CM + ".xsd"))
    t.eq(r.status, 200, "Create with the namespace ending in .xsd")
    r = env.get("v2@example.net")
    t.eq([e.get("Enabled") for e in r.entries()], ["true"], "Enabled defaults to true")
    r = env.create("v3@example.net", enabled="false")
    t.eq([e.get("Enabled") for e in env.get("v3@example.net").entries()], ["false"],
         "Create with Enabled=false is stored disabled")
    r = env.call(CREATE, env.sel("v4@example.net"),
                 body("alice", extra="<cfg:URI>*</cfg:URI><cfg:Subject>v4@example.net</cfg:Subject>"
                                     "<cfg:Issuer>%s</cfg:Issuer>" % env.CA))
    t.eq(r.status, 200, "Create whose body repeats the selectors (as Get returns them)")

    before = env.file()
    for sel, b, sub, what in (
        (env.sel("x1@example.net"), body(password="p"), "x:InvalidRepresentation", "without UserName"),
        (env.sel("x1@example.net"), body("bad user"), "x:InvalidRepresentation", "an invalid UserName"),
        (env.sel("x1@example.net"), body("-rf"), "x:InvalidRepresentation", "a UserName starting with -"),
        (env.sel("x1@example.net"), body("alice", enabled="maybe"), "x:InvalidRepresentation",
         "Enabled=maybe"),
        (env.sel("x1@example.net"), body("alice", extra="<cfg:Bogus>1</cfg:Bogus>"),
         "w:SchemaValidationError", "an unknown element"),
        (env.sel("x1@example.net"), body("alice", extra='<o:UserName xmlns:o="urn:other">x</o:UserName>'),
         "w:SchemaValidationError", "an element of another namespace"),
        (env.sel("x1@example.net"), body("alice", elem="Listener"), "w:SchemaValidationError",
         "a Listener body"),
        (env.sel("x1@example.net"), '<cfg:CertMapping xmlns:cfg="urn:wrong"><cfg:UserName>alice'
         '</cfg:UserName></cfg:CertMapping>', "w:SchemaValidationError", "a foreign namespace"),
        (env.sel("x1@example.net"), "", "w:SchemaValidationError", "an empty body"),
        (env.sel("x1@example.net"), body("alice", extra="<cfg:Subject>other@example.net</cfg:Subject>"),
         "x:InvalidRepresentation", "a body Subject differing from the selector"),
        (env.sel("x1@example.net", issuer=False), body("alice"), "w:InvalidSelectors",
         "no Issuer selector"),
        (env.sel("x1@example.net", issuer="XYZ"), body("alice"), "w:InvalidSelectors",
         "a malformed Issuer"),
        (env.sel("x1@example.net", issuer=env.CA + "00"), body("alice"), "w:InvalidSelectors",
         "a 42-digit Issuer"),
        (env.sel("x1@example.net", uri="http://a*b"), body("alice"), "w:InvalidSelectors",
         "a URI with a * inside"),
        (env.sel("a*b@example.net"), body("alice"), "w:InvalidSelectors", "a Subject with a * inside"),
        (env.sel("**"), body("alice"), "w:InvalidSelectors", "a Subject of two *"),
    ):
        r = env.call(CREATE, sel, b)
        t.ok(is_fault(r, sub), "Create with %s: %s" % (what, sub), r)
    t.eq(env.file(), before, "and none of them changed the file")
    r = env.call(CREATE, env.sel("x1@example.net", issuer=False), body("alice"))
    t.ok(r.detail() and r.detail().endswith("/InsufficientSelectors") and r.code() == "2150858842",
         "a missing selector: FaultDetail InsufficientSelectors, code 2150858842", r)
    r = env.call(CREATE, env.sel("x1@example.net", issuer="XYZ"), body("alice"))
    t.ok(r.code() == "2150858813" and "Issuer" in (r.message() or ""),
         "a malformed Issuer: code 2150858813, the message names Issuer", r)

    # awkward subjects round-trip through the file and the XML
    for subj in ("o'brien&co<x>@example.net", 'q"uo\\te@example.net', "jörg@例え.jp"):
        r = env.create(subj)
        t.eq(r.status, 200, "Create with Subject %r" % subj)
        r = env.get(subj)
        t.eq([e.get("Subject") for e in r.entries()], [subj], "Get returns Subject %r unchanged" % subj)
    # limits: Subject 1024 bytes, URI 2048, UserName 64; no control characters
    long_subject = "s" * 1012 + "@example.net"
    long_uri = "http://x/" + "u" * 2038 + "*"
    for what, fn, ok in (
        ("Subject of 1024 bytes", lambda: env.create(long_subject), True),
        ("Subject of 1025 bytes", lambda: env.create("s" + long_subject), False),
        ("URI of 2048 bytes", lambda: env.create("u@example.net", uri=long_uri), True),
        ("URI of 2049 bytes", lambda: env.create("u@example.net", uri="u" + long_uri), False),
        ("Subject with a tab", lambda: env.create("a\tb@example.net"), False),
    ):
        r = fn()
        t.ok(r.status == 200 if ok else is_fault(r, "w:InvalidSelectors"),
             "Create with a %s: %s" % (what, "accepted" if ok else "w:InvalidSelectors"), r)
    for user, ok in (("u" * 64, True), ("u" * 65, False), ("12345", False)):
        r = env.create("user%d@example.net" % len(user), user=user)
        t.ok(r.status == 200 if ok else is_fault(r, "x:InvalidRepresentation"),
             "Create with a UserName of %d characters%s: %s" % (
                 len(user), " (all digits)" if user.isdigit() else "",
                 "accepted" if ok else "x:InvalidRepresentation"), r)
    env.check_file("after awkward subjects and long values")
    for subj, uri in ((long_subject, "*"), ("u@example.net", long_uri), ("user64@example.net", "*")):
        t.eq(env.delete(subj, uri=uri).status, 200, "Delete the %d-byte entry" % (len(subj) + len(uri)))
    r = env.enumerate()
    t.ok(r.status == 200 and r.root is not None, "Enumerate with awkward subjects is well-formed XML", r)


def test_get_put_delete(env):
    r = env.get()
    t.eq(r.status, 200, "Get alice@WINRMD.TEST")
    t.eq(r.entries(), [{"Enabled": "true", "Issuer": env.CA, "Subject": "alice@WINRMD.TEST",
                        "URI": "*", "UserName": "alice"}],
         "Get answers Enabled, Issuer, Subject, URI, UserName (and no Password)")
    t.not_contains(r.raw, "Password", "no Password element in the Get answer")
    r = env.get(issuer=env.CA.lower())
    t.eq(r.status, 200, "Get with a lower-case Issuer selector finds it")
    r = env.get("nobody@example.net")
    t.ok(is_fault(r, "a:DestinationUnreachable", 2150858752), "Get of a missing entry: a:DestinationUnreachable", r)
    r = env.call(GET, env.sel(uri=None))
    t.ok(is_fault(r, "w:InvalidSelectors") and (r.detail() or "").endswith("InsufficientSelectors"),
         "Get without URI selector: InvalidSelectors/InsufficientSelectors", r)
    r = env.call(GET, None)
    t.ok(is_fault(r, "w:InvalidSelectors") and (r.detail() or "").endswith("InsufficientSelectors"),
         "Get without any selector: InvalidSelectors/InsufficientSelectors", r)
    r = env.get(issuer="G" * 40)
    t.ok(is_fault(r, "w:InvalidSelectors", 2150858813), "Get with a non-hex Issuer: InvalidSelectors", r)

    r = env.put(enabled="false")
    t.eq(r.status, 200, "Put Enabled=false only")
    t.eq([(e.get("Enabled"), e.get("UserName")) for e in r.entries()], [("false", "alice")],
         "the answer is the entry: Enabled false, UserName unchanged")
    t.ok(re.search(rb'Subject = "alice@WINRMD.TEST";\s*Issuer = "\w+";\s*UserName = "alice";\s*Enabled = false;',
                   env.file() or b""), "persisted", env.file())
    r = env.put(user="carol")
    t.eq([(e.get("Enabled"), e.get("UserName")) for e in r.entries()], [("false", "carol")],
         "Put UserName=carol only: Enabled stays false")
    r = env.put(password=SECRET)
    t.eq((r.status, [(e.get("Enabled"), e.get("UserName")) for e in r.entries()]),
         (200, [("false", "carol")]), "Put with only a Password changes nothing")
    t.not_contains(env.file(), SECRET, "and the Password is not stored")
    r = env.put(user="alice", enabled="true", password=SECRET)
    t.eq([(e.get("Enabled"), e.get("UserName")) for e in r.entries()], [("true", "alice")],
         "Put UserName and Enabled together")
    before = env.file()
    for kw, sub, what in (({"enabled": "yes"}, "x:InvalidRepresentation", "Enabled=yes"),
                          ({"user": "a/b"}, "x:InvalidRepresentation", "UserName a/b"),
                          ({"user": "alice", "extra": "<cfg:Bogus/>"}, "w:SchemaValidationError",
                           "an unknown element")):
        r = env.put(**kw)
        t.ok(is_fault(r, sub), "Put with %s: %s" % (what, sub), r)
    r = env.put("nobody@example.net", user="alice")
    t.ok(is_fault(r, "a:DestinationUnreachable"), "Put of a missing entry: a:DestinationUnreachable", r)
    r = env.call(PUT, env.sel(subject=None), body("alice"))
    t.ok(is_fault(r, "w:InvalidSelectors") and (r.detail() or "").endswith("InsufficientSelectors"),
         "Put without Subject selector: InsufficientSelectors", r)
    t.eq(env.file(), before, "refused Puts leave the file byte-identical")

    env.create("del@example.net")
    r = env.delete("del@example.net")
    t.eq(r.status, 200, "Delete del@example.net")
    t.ok(r.root is not None and r.root.findtext("s:Header/a:Action", namespaces=NSX) == XFER + "/DeleteResponse",
         "a DeleteResponse", r)
    t.ok(is_fault(env.get("del@example.net"), "a:DestinationUnreachable"), "Get after Delete: DestinationUnreachable")
    t.not_contains(env.file(), "del@example.net", "gone from the file")
    r = env.delete("del@example.net")
    t.ok(is_fault(r, "a:DestinationUnreachable"), "Delete of a missing entry: DestinationUnreachable", r)
    r = env.call(DELETE, env.sel(issuer=False))
    t.ok(is_fault(r, "w:InvalidSelectors") and (r.detail() or "").endswith("InsufficientSelectors"),
         "Delete without Issuer: InsufficientSelectors", r)
    r = env.delete(issuer="12345")
    t.ok(is_fault(r, "w:InvalidSelectors", 2150858813), "Delete with a malformed Issuer: InvalidSelectors", r)
    env.check_file("after Put and Delete")


def test_enumerate(env):
    n = len(re.findall(rb"\{", env.file() or b""))
    r = env.enumerate()
    t.ok(r.status == 200 and len(r.entries()) == n and n > 0,
         "optimized Enumerate returns every entry of the file (%d)" % n, r)
    t.ok(r.root is not None and r.root.find(".//w:EndOfSequence", NSX) is not None, "and EndOfSequence")
    t.ok(all(set(e) == {"Enabled", "Issuer", "Subject", "URI", "UserName"} for e in r.entries()),
         "each item has exactly Enabled, Issuer, Subject, URI, UserName", r.entries()[:3])
    t.not_contains(r.raw, "Password", "no Password in the enumeration")
    r = env.enumerate(optimize=False)
    ctx = r.root.findtext(".//n:EnumerationContext", namespaces=NSX) if r.root is not None else None
    t.ok(r.status == 200 and ctx, "Enumerate without optimization gives a context", r)
    pull = '<n:Pull xmlns:n="%s"><n:EnumerationContext>%s</n:EnumerationContext></n:Pull>' % (ENUMN, ctx)
    r = env.call(PULL, None, pull)
    t.ok(r.status == 200 and len(r.entries()) == n and r.root.find(".//n:EndOfSequence", NSX) is not None,
         "Pull returns the %d entries and EndOfSequence" % n, r)
    r = env.call(PULL, None, pull)
    t.ok(is_fault(r, "n:InvalidEnumerationContext"), "a used context is gone", r)
    r = env.enumerate(optimize=False)
    ctx = r.root.findtext(".//n:EnumerationContext", namespaces=NSX) if r.root is not None else None
    rel = '<n:Release xmlns:n="%s"><n:EnumerationContext>%s</n:EnumerationContext></n:Release>' % (ENUMN, ctx)
    r = env.call(RELEASE, None, rel)
    t.eq(r.status, 200, "Release of a context")
    r = env.call(PULL, None, rel.replace("Release", "Pull"))
    t.ok(is_fault(r, "n:InvalidEnumerationContext"), "Pull after Release: InvalidEnumerationContext", r)
    # a certmapping context is not pulled on the listener resource, nor by another admin
    r = env.enumerate(optimize=False)
    ctx = r.root.findtext(".//n:EnumerationContext", namespaces=NSX) if r.root is not None else None
    pull = '<n:Pull xmlns:n="%s"><n:EnumerationContext>%s</n:EnumerationContext></n:Pull>' % (ENUMN, ctx)
    r = env.call(PULL, None, pull, uri=CFG + "/listener")
    t.ok(is_fault(r, "n:InvalidEnumerationContext"), "the context cannot be pulled on winrm/config/listener", r)
    r = env.call(PULL, None, pull, who=DAVE)
    t.ok(is_fault(r, "n:InvalidEnumerationContext"), "nor by another administrator (dave)", r)
    r = env.call(PULL, None, pull)
    t.eq(r.status, 200, "its owner still pulls it")


def test_access(env):
    before = env.file()
    for what, fn in (("Get", lambda who: env.get(who=who)),
                     ("Enumerate", lambda who: env.enumerate(who=who)),
                     ("Create", lambda who: env.call(CREATE, env.sel("evil@example.net"), body("alice"), who=who)),
                     ("Put", lambda who: env.put(user="bob", who=who)),
                     ("Delete", lambda who: env.delete(who=who))):
        r = fn(ALICE)
        t.ok(is_fault(r, "w:AccessDenied", 5), "non-admin alice: %s is w:AccessDenied" % what, r)
    t.eq(env.file(), before, "and the file is unchanged")
    r = env.get(who=DAVE)
    t.eq(r.status, 200, "dave (wheel, an admin) may Get")
    st, _, _ = env.d.post(soap.envelope(GET, CM, selectors=env.sel()), {})
    t.eq(st, 401, "no credentials: 401")


def test_file(env):
    d = env.d
    # a hand edit with a comment, world-readable: read at once; a write
    # makes it canonical and 0600
    text = (env.file() or b"").decode()
    hand = text.replace("CertMapping = (", "# administrator's note\nCertMapping = (\n"
                        '  { URI = "*"; Subject = "hand@example.net"; Issuer = "%s"; UserName = "dave"; },'
                        % env.CA, 1)
    with open(env.path, "w") as f:
        f.write(hand)
    os.chmod(env.path, 0o644)
    r = env.get("hand@example.net")
    t.eq([e.get("UserName") for e in r.entries()], ["dave"], "a hand-added entry is read at once")
    r = env.create("after-hand@example.net")
    t.eq(r.status, 200, "Create after the hand edit")
    new = (env.file() or b"").decode()
    t.ok("hand@example.net" in new and "after-hand@example.net" in new, "the hand entry is kept", new)
    t.not_contains(new, "administrator's note", "comments are not kept (canonical format)")
    t.eq(stat.S_IMODE(os.stat(env.path).st_mode), 0o600, "the rewritten file is mode 0600 again")
    r = env.enumerate()
    t.eq(len(r.entries()), new.count("{"), "Enumerate agrees with the file")
    env.check_file("after a hand edit and a Create")
    tmps = [n for n in os.listdir(os.path.dirname(env.path)) if "certmapping.conf." in n]
    t.eq(tmps, [], "no temporary files left beside certmapping.conf")
    # the main configuration still reloads
    start = len(d.log())
    d.reload()
    t.ok(d.wait_log(LISTENER_RELOADED, start=start), "SIGHUP reload with the written table",
         d.log()[start:])
    d.check_alive(t, "the reload")

    # a broken file is answered with a fault and never overwritten
    good = env.file()
    broken = good.replace(b"\tUserName = ", b"\tUserNam = ", 1)
    t.ok(broken != good, "(a key misspelt by hand)")
    with open(env.path, "wb") as f:
        f.write(broken)
    mtime = os.stat(env.path).st_mtime_ns
    for what, fn in (("Get", lambda: env.get()),
                     ("Enumerate", lambda: env.enumerate()),
                     ("Create", lambda: env.create("new@example.net")),
                     ("Put", lambda: env.put(user="carol")),
                     ("Delete", lambda: env.delete())):
        r = fn()
        t.ok(is_fault(r, "w:InternalError"), "broken file: %s answers w:InternalError" % what, r)
        t.ok(re.search(re.escape(env.path) + r":\d+: CertMapping\.\[\d+\]\.UserNam", r.message() or ""),
             "broken file: the %s fault names FILE:LINE: CertMapping.[i].UserNam" % what, r.message())
    t.eq(env.file(), broken, "the broken file is not overwritten")
    t.eq(os.stat(env.path).st_mtime_ns, mtime, "nor touched")
    with open(env.path, "wb") as f:
        f.write(good)
    r = env.get()
    t.eq(r.status, 200, "repaired: Get works again")

    # a symbolic link is not replaced by a write
    target = env.path + ".target"
    os.rename(env.path, target)
    os.symlink(target, env.path)
    try:
        r = env.create("link@example.net")
        t.ok(r.status == 500 and r.sub() == "w:InternalError", "certmapping.conf a symbolic link: Create refused", r)
        t.ok(os.path.islink(env.path), "the link is still a link")
        with open(target, "rb") as f:
            t.eq(f.read(), good, "and its target unchanged")
    finally:
        os.unlink(env.path)
        os.rename(target, env.path)


def test_login(env):
    r = env.login("client_alice")
    t.eq(r.status, 200, "client_alice logs in with the mapping created over WS-Management")
    env.put(enabled="false")
    r = env.login("client_alice")
    t.eq(r.status, 401, "after Put Enabled=false: 401 at once")
    env.put(enabled="true", user="bob")
    r = env.login("client_alice")
    t.ok(is_fault(r, "w:AccessDenied"), "after Put UserName=bob: AccessDenied at once", r)
    env.put(user="alice")
    r = env.delete()
    r = env.login("client_alice")
    t.eq(r.status, 401, "after Delete: 401 at once")
    r = env.create(user="alice")
    t.eq(r.status, 200, "Create it again")
    r = env.login("client_alice")
    t.eq(r.status, 200, "and client_alice logs in again")
    # carol by certificate (client_both) manages mappings too
    env.create("carol@example.net", user="carol")
    ctx = ssl.create_default_context(cafile=env.pki.ca)
    ctx.load_cert_chain(env.pki.client_both, env.pki.client_both_key)
    c = http.client.HTTPSConnection("127.0.0.1", env.https_port, timeout=30, context=ctx)
    try:
        c.request("POST", "/wsman", body=soap.envelope(CREATE, CM, body=body("dave"),
                                                       selectors=env.sel("dave@WINRMD.TEST", issuer=env.INTER)).encode(),
                  headers={"Content-Type": SOAP_CT, "Authorization": MUTUAL})
        resp = c.getresponse()
        r = R(resp.status, resp.read())
    finally:
        c.close()
    t.eq(r.status, 200, "carol, logged in by certificate, creates a mapping for dave's intermediate")
    # a hand edit that breaks the file right after a Create: the
    # running table (the one just written) must stay in use
    start = len(env.d.log())
    with open(env.path, "ab") as f:
        f.write(b"\nbroken = ;\n")
    r = env.login("client_alice")
    t.ok(r.status == 200, "file broken by hand after a Create: the table in use still maps alice",
         (r, env.d.log()[start:][-1500:]))
    t.ok(env.d.wait_log("certificate mappings not reloaded, the previous ones stay in use", start=start,
                        timeout=3),
         "and the broken file is logged as not reloaded", env.d.log()[start:][-1500:])
    with open(env.path, "rb") as f:
        text = f.read()
    with open(env.path, "wb") as f:
        f.write(text.replace(b"\nbroken = ;\n", b""))
    env.check_file("repaired")


def test_concurrent(env):
    """Concurrent changes on ten connections authenticated beforehand,
    one at a time, with Kerberos (Negotiate keeps the connection
    authenticated): the concurrency is in the certmapping requests, not in
    PAM, which under pam_wrapper (the lab's PAM) races its /tmp/pam.?
    directories when many processes start at once (see t5100)."""
    from gssclient import GssClient
    subjects = ["conc%02d@example.net" % i for i in range(10)]
    clients = []
    enum = soap.envelope(ENUM, CM, body='<n:Enumerate xmlns:n="%s"><w:OptimizeEnumeration/></n:Enumerate>' % ENUMN)
    for _ in range(10):
        c = GssClient(env.d.url, env.lab, "carol")
        clients.append(c)
        st, _, _ = c.handshake(enum)
        if st != 200:
            break
    t.eq(len(clients), 10, "10 connections authenticated as carol with Kerberos, one by one")

    def create(pair):
        c, subj = pair
        st, _, data = c.post(soap.envelope(CREATE, CM, body=body("alice", password=SECRET),
                                           selectors=env.sel(subj)))
        return R(st, data)

    def delete(pair):
        c, subj = pair
        st, _, data = c.post(soap.envelope(DELETE, CM, selectors=env.sel(subj)))
        return R(st, data)
    bad = []
    stop = []

    def watch():
        while not stop:
            text = env.file() or b""
            if not text.rstrip().endswith(b");"):
                bad.append(text)
            time.sleep(0.002)

    with concurrent.futures.ThreadPoolExecutor(11) as ex:
        w = ex.submit(watch)
        rs = list(ex.map(create, zip(clients, subjects)))
        stop.append(1)
        w.result()
    t.eq([r.status for r in rs], [200] * 10, "10 concurrent Creates of distinct entries all succeed")
    t.eq(bad, [], "the file is never seen torn")
    r = env.enumerate()
    got = sorted(e["Subject"] for e in r.entries() if e["Subject"].startswith("conc"))
    t.eq(got, subjects, "all 10 are in the table")
    env.check_file("after concurrent Creates")
    t.not_contains(env.file(), SECRET, "no Password in the file after concurrent Creates")
    # concurrent Deletes of the same entries, and a duplicate race
    rs = []
    with concurrent.futures.ThreadPoolExecutor(10) as ex:
        rs = list(ex.map(delete, zip(clients, subjects)))
    t.eq([r.status for r in rs], [200] * 10, "10 concurrent Deletes succeed")
    t.eq([e["Subject"] for e in env.enumerate().entries() if e["Subject"].startswith("conc")], [],
         "and all 10 are gone")
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        rs = list(ex.map(create, [(c, "race@example.net") for c in clients[:8]]))
    t.eq(sorted(r.status for r in rs), [200] + [500] * 7,
         "8 concurrent Creates of one key: one succeeds, 7 AlreadyExists")
    t.ok(all(r.sub() == "w:AlreadyExists" for r in rs if r.status == 500), "the others are w:AlreadyExists")
    t.eq((env.file() or b"").count(b"race@example.net"), 1, "the entry is in the file once")
    env.delete("race@example.net")
    for c in clients:
        c.close()


def test_cli(env):
    base = "winrm/config/service/certmapping?Issuer=%s+Subject=cli@example.net+URI=*" % env.CA
    rc, out, err = env.ctl("create", base, '@{UserName="alice";Password="%s"}' % SECRET)
    t.eq(rc, 0, "winrmctl create certmapping (root on the admin socket)")
    t.not_contains(out + err, SECRET, "winrmctl does not print the Password")
    t.not_contains(env.file(), SECRET, "the Password from winrmctl is not stored")
    rc, out, err = env.ctl("get", base)
    t.ok(rc == 0 and "UserName = alice" in out and "Subject = cli@example.net" in out and "Enabled = true" in out,
         "winrmctl get prints the entry", out + err)
    t.not_contains(out, "Password", "winrmctl get shows no Password")
    rc, out, err = env.ctl("set", base, '@{Enabled="false"}')
    t.ok(rc == 0 and "Enabled = false" in out, "winrmctl set @{Enabled=\"false\"}", out + err)
    t.ok(re.search(rb'Subject = "cli@example.net";[^}]*Enabled = false;', env.file() or b""),
         "persisted", env.file())
    rc, out, err = env.ctl("enumerate", "winrm/config/service/certmapping")
    t.ok(rc == 0 and "cli@example.net" in out and "alice@WINRMD.TEST" in out,
         "winrmctl enumerate lists the mappings", out + err)
    rc, out, err = env.ctl("create", base, '@{UserName="alice"}')
    t.ok(rc != 0 and out + err, "winrmctl create of an existing mapping fails", (rc, out, err))
    rc, out, err = env.ctl("create", base.replace("cli@", "cli2@").replace(env.CA, "NOTHEX"),
                           '@{UserName="alice"}')
    t.ok(rc != 0, "winrmctl create with a malformed Issuer fails", (rc, out, err))
    rc, out, err = env.ctl("delete", base)
    t.eq(rc, 0, "winrmctl delete")
    rc, out, err = env.ctl("get", base)
    t.ok(rc != 0 and out + err, "winrmctl get after delete fails", (rc, out, err))
    t.not_contains(env.file(), "cli@example.net", "gone from the file")
    rc, out, err = env.ctl("enumerate", "winrm/config/service/certmapping",
                           prefix=["setpriv", "--reuid=20002", "--regid=20002", "--clear-groups"],
                           env=env.lab.daemon_env())
    t.ok(rc != 0 and "Access is denied" in out + err, "winrmctl as bob (uid 20002) is refused", out + err)


def test_disk_full_readonly(lab, pki):
    """certmapping.conf on a full, then read-only file system: Create
    answers w:InternalError saying why, the old file stays, no temporary
    file is left."""
    mnt = os.path.join(lab.dir, "t7200-small")
    os.makedirs(mnt, exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt]).returncode != 0:
        t.ok(False, "mount a small tmpfs for the disk-full test")
        return
    env = None
    try:
        env = Env(lab, pki)
        env.path = os.path.join(mnt, "certmapping.conf")
        env.d.tree["Daemon"]["CertMappingFile"] = env.path
        env.d.write_config()
        env.d.start()
        r = env.create()
        t.eq(r.status, 200, "Create on the small file system")
        fd = os.open(os.path.join(mnt, "filler"), os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"x" * 4096) > 0:
                pass
        except OSError:
            pass
        os.close(fd)
        before = env.file()
        r = env.create("full@example.net")
        t.ok(is_fault(r, "w:InternalError"), "disk full: Create answers w:InternalError", r)
        t.contains(r.message() or "", "No space left on device", "and says why")
        t.eq(env.file(), before, "disk full: the old certmapping.conf is intact")
        t.eq([n for n in os.listdir(mnt) if n not in ("certmapping.conf", "filler")], [],
             "disk full: no temporary file left")
        os.unlink(os.path.join(mnt, "filler"))
        subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
        r = env.create("ro@example.net")
        t.ok(is_fault(r, "w:InternalError"), "read-only: Create answers w:InternalError", r)
        t.contains(r.message() or "", "Read-only file system", "and says why")
        t.eq(env.file(), before, "read-only: the old certmapping.conf is intact")
        t.eq(env.get().status, 200, "read-only: Get still works")
        env.d.check_alive(t, "failed certmapping writes")
        t.eq(env.d.stop(), 0, "clean stop (disk full)")
    finally:
        if env is not None:
            env.d.cleanup()
        subprocess.run(["umount", mnt])


with Lab() as lab:
    pki = PKI()
    env = None
    try:
        env = Env(lab, pki)
        env.d.start()
        for fn in (test_create, test_get_put_delete, test_enumerate, test_access, test_file,
                   test_login, test_concurrent, test_cli):
            t.run(fn, env)
        env.d.check_alive(t, "the certmapping tests")
        t.eq(env.d.stop(), 0, "clean stop")
        t.not_contains(env.d.log(), "Sanitizer", "no sanitizer report")
        env.d.cleanup()
        env = None
        t.run(test_disk_full_readonly, lab, pki)
    finally:
        if env is not None:
            env.d.cleanup()
        pki.close()
sys.exit(t.done())
