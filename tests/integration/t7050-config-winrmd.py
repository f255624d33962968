#!/usr/bin/python3
"""t7050 - winrmd's own settings over WS-Management, as winrm.cmd manages
Windows': Get and Put of winrm/config/authorization, /throttling and
/logging (also inside winrm/config) and of the files of Service.Auth
(Keytab, NtlmUserFile: root's files only), lists written "a,b"; applied
at once (a new admin group admits its members without a restart) and
persisted with the administrator's comments; the same through winrmctl."""
import base64
import os
import re
import subprocess
import sys

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import soap  # noqa: E402
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import BUILDDIR, WINRMD, lab_daemon  # noqa: E402

t = Tap()
CFG = "http://schemas.microsoft.com/wbem/wsman/1/config"
GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
PUT = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put"
CTL = os.path.join(BUILDDIR, "winrmctl", "winrmctl")
BASE = {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}}}


def basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()}


CAROL = basic("carol", "carolpw")
ALICE = basic("alice", "alicepw")
BOB = basic("bob", "bobpw")


def children(body, path, ns):
    el = soap.parse(body).find(path, {"s": soap.NS["s"], "c": ns})
    return None if el is None else [(c.tag.split("}")[1], c.text or "") for c in el]


def put(d, sub, root, xml, who=CAROL):
    body = '<cfg:%s xmlns:cfg="%s%s">%s</cfg:%s>' % (root, CFG, sub, xml, root)
    return d.post(soap.envelope(PUT, CFG + sub, body=body), who)


def test_get(lab, d):
    st, _, body = d.post(soap.envelope(GET, CFG), CAROL)
    t.eq(st, 200, "Get winrm/config")
    for group in ("Authorization", "Throttling", "Logging"):
        t.contains(body, "<cfg:%s>" % group, "winrm/config shows winrmd's %s group" % group)
    got = children(body, "s:Body/c:Config/c:Authorization", CFG)
    t.eq(got, [("AdminGroups", "sudo,wheel"), ("RemoteUsersGroup", "winrmusers"),
               ("LocalAccountTokenFilterPolicy", "0"), ("TrustedDomains", ""),
               ("KerberosCaseInsensitive", "false"), ("DomainAccountNames", "Short"),
               ("BasicDomainAccounts", "false")],
         "Authorization: every setting, lists as \"a,b\"")
    st, _, body = d.post(soap.envelope(GET, CFG + "/throttling"), CAROL)
    t.eq(children(body, "s:Body/c:Throttling", CFG + "/throttling"),
         [("MaxFailures", "1000"), ("FailureWindow", "300"), ("LockoutTime", "300"),
          ("MaxDelayms", "0")], "Get winrm/config/throttling")
    st, _, body = d.post(soap.envelope(GET, CFG + "/logging"), CAROL)
    t.eq(children(body, "s:Body/c:Logging", CFG + "/logging")[0], ("Level", "debug"),
         "Get winrm/config/logging")
    st, _, body = d.post(soap.envelope(GET, CFG + "/service/auth"), CAROL)
    got = dict(children(body, "s:Body/c:Auth", CFG + "/service/auth"))
    t.eq(got.get("Keytab"), lab.keytab, "Auth shows the Keytab")
    t.ok("NtlmUserFile" in got and "PamService" in got and "ClientCAFile" in got,
         "and NtlmUserFile, PamService, ClientCAFile", got)
    for sub in ("/authorization", "/throttling", "/logging"):
        st, _, body = d.post(soap.envelope(GET, CFG + sub), ALICE)
        f = soap.fault(body)
        t.ok(st == 500 and f and f[1] == "w:AccessDenied",
             "non-admin alice: Get winrm/config%s refused" % sub, (st, f))


def test_put(lab, d):
    # bob is in no WinRM group; his primary group (the lab gives every
    # user a group of the same name) becomes an administrators' group
    st, _, body = d.post(soap.envelope(GET, CFG + "/service"), BOB)
    f = soap.fault(body)
    t.ok(st == 500 and f and f[1] == "w:AccessDenied",
         "bob (in no WinRM group) is refused before the change", (st, f))
    st, _, body = put(d, "/authorization", "Authorization",
                      "<cfg:AdminGroups>sudo, wheel,bob</cfg:AdminGroups>")
    t.eq(st, 200, "Put winrm/config/authorization AdminGroups=\"sudo, wheel,bob\"")
    t.contains(body, "<cfg:AdminGroups>sudo,wheel,bob</cfg:AdminGroups>",
               "the answer shows the new list")
    conf = open(d.conf_path).read()
    t.ok(re.search(r'AdminGroups\s*=\s*\[ "sudo", "wheel", "bob" \];', conf),
         "persisted as a libconfig array", conf)
    t.contains(conf, "# kept comment", "the administrator's comment is kept")
    st, _, body = d.post(soap.envelope(GET, CFG + "/service"), BOB)
    t.eq(st, 200, "applied at once: bob, member of the new admin group bob, may Get "
         "winrm/config/service")
    # and back again, replacing the array in place
    st, _, body = put(d, "/authorization", "Authorization",
                      "<cfg:AdminGroups>sudo,wheel</cfg:AdminGroups>"
                      "<cfg:TrustedDomains>EXAMPLE=example.com</cfg:TrustedDomains>"
                      "<cfg:DomainAccountNames>qualified</cfg:DomainAccountNames>")
    t.eq(st, 200, "Put AdminGroups, TrustedDomains and DomainAccountNames together")
    conf = open(d.conf_path).read()
    t.ok(re.search(r'AdminGroups\s*=\s*\[ "sudo", "wheel" \];', conf) and
         re.search(r'TrustedDomains = \[ "EXAMPLE=example.com" \];', conf) and
         re.search(r'DomainAccountNames = "Qualified";', conf), "all three persisted", conf)
    t.eq(conf.count("AdminGroups"), 1, "the array was replaced, not added")
    r = subprocess.run([WINRMD, "-t", "-c", d.conf_path], capture_output=True, text=True)
    t.ok(r.returncode == 0, "the rewritten file is valid", r.stderr)

    st, _, body = put(d, "/throttling", "Throttling", "<cfg:MaxFailures>5</cfg:MaxFailures>")
    t.ok(st == 200 and b"<cfg:MaxFailures>5</cfg:MaxFailures>" in body,
         "Put winrm/config/throttling MaxFailures=5")
    st, _, body = put(d, "/logging", "Logging", "<cfg:Level>info</cfg:Level>")
    t.ok(st == 200 and b"<cfg:Level>info</cfg:Level>" in body, "Put winrm/config/logging Level=info")
    mark = len(d.log())
    d.post(soap.envelope(GET, CFG + "/logging"), CAROL)
    t.not_contains(d.log()[mark:], " debug: ", "the new level applies at once (no debug lines)")
    put(d, "/logging", "Logging", "<cfg:Level>debug</cfg:Level>")

    before = open(d.conf_path).read()
    for sub, root, xml, code, what in (
        ("/authorization", "Authorization", "<cfg:AdminGroups>a,,b</cfg:AdminGroups>",
         "x:InvalidRepresentation", "an empty list item"),
        ("/authorization", "Authorization", "<cfg:TrustedDomains>not a domain</cfg:TrustedDomains>",
         "x:InvalidRepresentation", "a bad domain"),
        ("/throttling", "Throttling", "<cfg:MaxFailures>0</cfg:MaxFailures>",
         "x:InvalidRepresentation", "MaxFailures out of range"),
        ("/logging", "Logging", "<cfg:Level>chatty</cfg:Level>", "x:InvalidRepresentation",
         "an unknown level"),
        ("/service/auth", "Auth", "<cfg:PamService>other</cfg:PamService>",
         "x:InvalidRepresentation", "PamService (read-only)"),
        ("/service/auth", "Auth", "<cfg:Keytab>%s</cfg:Keytab>" % lab.path("user.keytab"),
         "w:AccessDenied", "a Keytab that is not root's"),
        ("/service/auth", "Auth", "<cfg:Keytab>relative.keytab</cfg:Keytab>",
         "w:AccessDenied", "a relative Keytab"),
    ):
        st, _, body = put(d, sub, root, xml)
        f = soap.fault(body)
        t.ok(st == 500 and f and f[1] == code, "Put with %s: %s" % (what, code), (st, f))
        if what.startswith("a Keytab that"):
            t.contains(body, "owned by root", "and says why (the fault's message)")
    t.eq(open(d.conf_path).read(), before, "refused Puts leave winrmd.conf byte-identical")

    # a Keytab of root's, mode 0600, in root's directories: accepted
    st, _, body = put(d, "/service/auth", "Auth", "<cfg:Keytab>%s</cfg:Keytab>" % lab.keytab)
    t.eq(st, 200, "Put Keytab naming root's keytab: accepted")


def test_cli(lab, d):
    sock = d.tree["Daemon"]["AdminSocket"]

    def run(*a):
        return subprocess.run([CTL] + list(a) + ["-S", sock], capture_output=True, text=True,
                              timeout=30)
    r = run("get", "winrm/config/authorization")
    t.ok(r.returncode == 0, "winrmctl get winrm/config/authorization", r.stderr)
    t.contains(r.stdout, "Authorization\n    AdminGroups = sudo,wheel", "printed as winrm.cmd prints")
    r = run("set", "winrm/config/authorization", '@{RemoteUsersGroup="winrmusers,wheel"}')
    t.ok(r.returncode == 0, "winrmctl set winrm/config/authorization @{RemoteUsersGroup=...}",
         r.stderr)
    t.contains(r.stdout, "RemoteUsersGroup = winrmusers,wheel", "and shows the new value")
    r = run("set", "winrm/config/throttling", '@{LockoutTime="60"}')
    t.ok(r.returncode == 0 and "LockoutTime = 60" in r.stdout, "winrmctl set winrm/config/throttling",
         r.stdout + r.stderr)
    r = run("get", "winrm/config")
    t.ok(r.returncode == 0 and "Throttling" in r.stdout and "Logging" in r.stdout,
         "winrmctl get winrm/config shows winrmd's groups")


with Lab() as lab:
    d = lab_daemon(lab, BASE)
    with open(d.conf_path, "a") as f:
        f.write("# kept comment: written by the administrator\n")
    with open(lab.path("user.keytab"), "wb") as f:
        f.write(open(lab.keytab, "rb").read())
    os.chown(lab.path("user.keytab"), 20001, 20001)
    try:
        d.start()
        for fn in (test_get, test_put, test_cli):
            t.run(fn, lab, d)
        d.check_alive(t, "the winrmd settings tests")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()
sys.exit(t.done())
