#!/usr/bin/python3
"""t7050 - winrmd's configuration managed as winrm.cmd manages Windows':

* winrmd's own settings: Get and Put of winrm/config/authorization,
  /throttling and /logging (also inside winrm/config) and of the files of
  Service.Auth (Keytab, NtlmUserFile: root's files only), lists written
  "a,b"; applied at once (a new admin group admits its members without a
  restart) and persisted with the administrator's comments;
* listeners: Create, Put and Delete of winrm/config/listener (the file
  edited with its comments, validated, certificate and key checked; the
  answer and the log say that listeners change at a restart, and after
  one the new HTTPS listener serves);
* every operation `winrmctl help config` advertises, on every resource it
  lists, is served (none is refused as unsupported)."""
import base64
import http.client
import os
import re
import ssl
import subprocess
import sys

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import soap  # noqa: E402
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from pki import PKI  # noqa: E402
from winrmd import BUILDDIR, IDENTIFY, WINRMD, free_ports, lab_daemon  # noqa: E402

t = Tap()
CFG = "http://schemas.microsoft.com/wbem/wsman/1/config"
GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
PUT = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put"
CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
DELETE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
ENUM = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"
LNS = CFG + "/listener"
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
    r = subprocess.run([WINRMD, "-t", "-c", d.conf_path], capture_output=True, text=True,
                       env=d.env)
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


def listener_body(**kw):
    return '<cfg:Listener xmlns:cfg="%s">%s</cfg:Listener>' % (
        LNS, "".join("<cfg:%s>%s</cfg:%s>" % (k, v, k) for k, v in kw.items()))


def https_identify(port, timeout=10):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=ctx)
    try:
        c.request("POST", "/wsman", body=IDENTIFY, headers={
            "Content-Type": "application/soap+xml;charset=UTF-8",
            "WSMANIDENTIFY": "unauthenticated"})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def test_listeners(lab, d, pki, sport):
    sel = {"Address": "*", "Transport": "HTTPS"}
    before = open(d.conf_path).read()
    for body, code, what in (
        (listener_body(Port=sport), "x:InvalidRepresentation",
         "an HTTPS listener without certificate and key"),
        (listener_body(Port=sport, CertificateThumbprint="A" * 40), "x:InvalidRepresentation",
         "a CertificateThumbprint (no certificate store)"),
        (listener_body(Port=sport, CertificateFile="/nonexistent.pem", KeyFile=pki.server_key),
         "x:InvalidRepresentation", "a certificate file that does not exist"),
        (listener_body(Port=sport, CertificateFile=pki.server, KeyFile=pki.client_alice_key),
         "x:InvalidRepresentation", "a key that does not match the certificate"),
        (listener_body(Port="many", CertificateFile=pki.server, KeyFile=pki.server_key),
         "x:InvalidRepresentation", "a Port that is not a number"),
        (listener_body(Bogus="1"), "w:SchemaValidationError", "an unknown element"),
        (listener_body(Transport="HTTP"), "x:InvalidRepresentation",
         "a Transport in the body that differs from the selector"),
    ):
        st, _, rb = d.post(soap.envelope(CREATE, LNS, body=body, selectors=sel), CAROL)
        f = soap.fault(rb)
        t.ok(st == 500 and f and f[1] == code, "Create with %s: %s" % (what, code), (st, f, rb[-600:]))
    t.eq(open(d.conf_path).read(), before, "refused Creates leave winrmd.conf byte-identical")
    st, _, rb = d.post(soap.envelope(CREATE, LNS, selectors=sel, body=listener_body(
        Port=sport, CertificateFile=pki.server, KeyFile=pki.server_key)), ALICE)
    f = soap.fault(rb)
    t.ok(st == 500 and f and f[1] == "w:AccessDenied", "non-admin Create refused", f)

    mark = len(d.log())
    st, _, rb = d.post(soap.envelope(CREATE, LNS, selectors=sel, body=listener_body(
        Hostname="localhost", Port=sport, CertificateFile=pki.server, KeyFile=pki.server_key)),
        CAROL)
    t.eq(st, 200, "Create winrm/config/listener?Address=*+Transport=HTTPS with Hostname, Port, "
         "CertificateFile and KeyFile")
    t.contains(rb, '<w:Selector Name="Address">*</w:Selector><w:Selector Name="Transport">HTTPS'
               '</w:Selector>', "the answer is the new listener's reference")
    t.contains(rb, "when winrmd restarts", "and says that listeners change at a restart")
    t.ok(d.wait_log(r"listener Address=\* Transport=HTTPS created by carol; listeners are opened "
                    r"and closed when winrmd restarts", start=mark),
         "the log says it too", d.log()[mark:][-2000:])
    conf = open(d.conf_path).read()
    t.contains(conf, "# kept comment", "the administrator's comment is kept")
    t.ok(re.search(r'\{ Address = "\*"; Transport = "HTTPS"; Hostname = "localhost"; Port = %d; '
                   r'CertificateFile = "%s"; KeyFile = "%s"; \}' % (sport, re.escape(pki.server),
                                                                   re.escape(pki.server_key)),
                   conf), "the file has the new listener group after the first", conf)
    r = subprocess.run([WINRMD, "-t", "-c", d.conf_path], capture_output=True, text=True,
                       env=d.env)
    t.ok(r.returncode == 0, "the file is valid", r.stderr)
    st, _, rb = d.post(soap.envelope(GET, LNS, selectors=sel), CAROL)
    t.ok(st == 200 and b"<cfg:Hostname>localhost</cfg:Hostname>" in rb and
         ("<cfg:CertificateFile>%s</cfg:CertificateFile>" % pki.server).encode() in rb,
         "Get shows it, with its Hostname and CertificateFile", rb[-800:])
    st, _, rb = d.post(soap.envelope(CREATE, LNS, selectors=sel, body=listener_body(
        Port=sport, CertificateFile=pki.server, KeyFile=pki.server_key)), CAROL)
    f = soap.fault(rb)
    t.ok(st == 500 and f and f[1] == "w:AlreadyExists", "a second Create: AlreadyExists", f)

    st, _, rb = d.post(soap.envelope(PUT, LNS, selectors=sel, body=listener_body(
        URLPrefix="wsman", Enabled="true", ListeningOn="0.0.0.0", Address="*")), CAROL)
    t.ok(st == 200 and b"<cfg:URLPrefix>wsman</cfg:URLPrefix>" in rb and b"restarts" in rb,
         "Put (a Get's fragment: Address and ListeningOn as shown) answers the listener",
         rb[-600:])
    t.ok(re.search(r'\{ Enabled = true; URLPrefix = "wsman"; Address = "\*"; Transport = "HTTPS";',
                   open(d.conf_path).read()), "the members it lacked inserted in its group",
         open(d.conf_path).read())
    st, _, rb = d.post(soap.envelope(PUT, LNS, selectors={"Address": "IP:192.0.2.9",
                                                          "Transport": "HTTP"},
                                     body=listener_body(Port=1)), CAROL)
    f = soap.fault(rb)
    t.ok(st == 500 and f and f[1] == "w:InvalidSelectors", "Put of a listener that does not exist",
         f)

    # the new listener serves after a restart, and only then
    try:
        https_identify(sport, timeout=3)
        t.ok(False, "the HTTPS listener is not open before the restart")
    except OSError:
        t.ok(True, "the HTTPS listener is not open before the restart")
    t.eq(d.stop(), 0, "stop")
    mark = len(d.log())
    d.start(wait=False)
    t.ok(d.wait_log(r" ready", start=mark, timeout=20), "restarted", d.log()[mark:][-2000:])
    st, body = https_identify(sport)
    t.ok(st == 200 and b"IdentifyResponse" in body,
         "after the restart, the created HTTPS listener answers Identify on port %d" % sport)

    # delete it with winrmctl
    sock = d.tree["Daemon"]["AdminSocket"]
    r = subprocess.run([CTL, "delete", "winrm/config/listener?Address=*+Transport=HTTPS", "-S",
                        sock], capture_output=True, text=True, timeout=30)
    t.ok(r.returncode == 0 and r.stdout == "", "winrmctl delete ...listener?Address=*+Transport=HTTPS",
         r.stdout + r.stderr)
    t.contains(r.stderr, "when winrmd restarts", "winrmctl says when it takes effect")
    t.not_contains(open(d.conf_path).read(), "HTTPS", "the group is gone from the file")
    t.contains(open(d.conf_path).read(), "# kept comment", "the comment is still there")
    st, _, rb = d.post(soap.envelope(GET, LNS, selectors=sel), CAROL)
    f = soap.fault(rb)
    t.ok(f is not None, "Get of the deleted listener: a fault", f)
    st, _, rb = d.post(soap.envelope(DELETE, LNS, selectors={"Address": "IP:127.0.0.1",
                                                             "Transport": "HTTP"}), CAROL)
    f = soap.fault(rb)
    t.ok(st == 500 and f and f[1] == "x:InvalidRepresentation" and
         b"at least one listener must be enabled" in rb,
         "Delete of the last enabled listener refused by the loader's check", (f, rb[-500:]))
    # and create with winrmctl, as the README shows it
    r = subprocess.run([CTL, "create", "winrm/config/listener?Address=*+Transport=HTTPS",
                        '@{Hostname="localhost";Port="%d";CertificateFile="%s";KeyFile="%s"}'
                        % (sport, pki.server, pki.server_key), "-S", sock],
                       capture_output=True, text=True, timeout=30)
    t.ok(r.returncode == 0 and "when winrmd restarts" in r.stderr,
         "winrmctl create winrm/config/listener?Address=*+Transport=HTTPS @{...}",
         r.stdout + r.stderr)
    r = subprocess.run([CTL, "set", "winrm/config/listener?Address=*+Transport=HTTPS",
                        '@{Enabled="false"}', "-S", sock], capture_output=True, text=True,
                       timeout=30)
    t.ok(r.returncode == 0 and "Enabled = false" in r.stdout, "winrmctl set ... @{Enabled=\"false\"}",
         r.stdout + r.stderr)


def help_resources():
    """(resource, [operations]) as `winrmctl help config` lists them."""
    out = subprocess.run([CTL, "help", "config"], capture_output=True, text=True).stdout
    items, cur = [], None
    for line in out.splitlines():
        m = re.match(r"  (winrm/\S+)(.*)", line)
        if m:
            cur = [m.group(1), m.group(2)]
            items.append(cur)
        elif cur is not None and line.startswith("          "):
            cur[1] += " " + line.strip()
        else:
            cur = None
    res = []
    for uri, text in items:
        ops = re.search(r"\(([a-z, ]+)\)\s*$", text.strip())
        res.append((uri, [o.strip() for o in ops.group(1).split(",")] if ops else []))
    return res


def test_help_contract(lab, d, pki, sport):
    """Every operation `winrmctl help config` advertises is served."""
    sock = d.tree["Daemon"]["AdminSocket"]
    issuer = PKI.thumbprint(pki.ca)
    # the instance each resource's operations are tried on, and a setting
    # its set can write (its current value)
    instance = {
        "winrm/config/listener": ("?Address=IP:127.0.0.4+Transport=HTTP", "Enabled", "true",
                                  '@{Port="%d"}' % sport),
        "winrm/config/service/certmapping": (
            "?Issuer=%s+Subject=*@example.com+URI=*" % issuer, "Enabled", "true",
            '@{UserName="alice"}'),
    }
    settings = {"winrm/config": ("MaxTimeoutms", "60000"),
                "winrm/config/service": ("MaxConnections", "300"),
                "winrm/config/service/auth": ("Basic", "true"),
                "winrm/config/winrs": ("MaxShellsPerUser", "2147483647"),
                "winrm/config/authorization": ("LocalAccountTokenFilterPolicy", "0"),
                "winrm/config/throttling": ("MaxDelayms", "0"),
                "winrm/config/logging": ("Level", "debug")}
    resources = help_resources()
    t.ok(len(resources) >= 9, "winrmctl help config lists the resources", resources)
    order = ["create", "get", "set", "enumerate", "delete"]
    for uri, ops in resources:
        base = uri.split("?")[0]
        t.ok(ops, "%s: help names its operations" % base)
        for op in sorted(ops, key=lambda o: order.index(o) if o in order else 9):
            if base in instance:
                sel, key, value, create_input = instance[base]
                args = {"get": ["get", base + sel], "enumerate": ["enumerate", base],
                        "set": ["set", base + sel, '@{%s="%s"}' % (key, value)],
                        "create": ["create", base + sel, create_input],
                        "delete": ["delete", base + sel]}.get(op)
            else:
                key, value = settings.get(base, (None, None))
                args = {"get": ["get", base],
                        "set": ["set", base, '@{%s="%s"}' % (key, value)]}.get(op)
            if args is None:
                t.ok(False, "%s %s: the test knows the operation" % (op, base))
                continue
            r = subprocess.run([CTL] + args + ["-S", sock], capture_output=True, text=True,
                               timeout=30)
            t.ok(r.returncode == 0 and "ActionNotSupported" not in r.stderr,
                 "winrmctl %s %s: served" % (op, base), r.stdout + r.stderr)
    r = subprocess.run([CTL, "identify", "-S", sock], capture_output=True, text=True, timeout=30)
    t.ok(r.returncode == 0, "winrmctl identify: served", r.stderr)


with Lab() as lab:
    d = lab_daemon(lab, BASE)
    with open(d.conf_path, "a") as f:
        f.write("# kept comment: written by the administrator\n")
    with open(lab.path("user.keytab"), "wb") as f:
        f.write(open(lab.keytab, "rb").read())
    os.chown(lab.path("user.keytab"), 20001, 20001)
    pki = PKI()
    sport, cport = free_ports(2)
    try:
        d.start()
        for fn in (test_get, test_put, test_cli):
            t.run(fn, lab, d)
        t.run(test_listeners, lab, d, pki, sport)
        t.run(test_help_contract, lab, d, pki, cport)
        d.check_alive(t, "the configuration tests")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()
        pki.close()
sys.exit(t.done())
