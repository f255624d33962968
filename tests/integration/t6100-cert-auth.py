#!/usr/bin/python3
"""t6100 - client-certificate authentication end to end over HTTPS
(Service.Auth.Certificate, the secprofile/https/mutual header): every
certificate of lib/pki.py with curl and Python's ssl (chain, validity,
clientAuth EKU, the 16384-byte cap, rogue CA, malformed UPNs), the
CertMapping selection (UPN and rfc822 subjects, wildcards, longest Subject
then longest URI wins, ties refused, Enabled, issuer thumbprint, URI
prefixes, including on a keep-alive connection), the mapped account's
PAM and group checks (bob AccessDenied, erin locked), the audit lines,
Certificate disabled, the header over HTTP, pywinrm transport='certificate'
running a command as alice, and the mapping file edited (and broken) while
winrmd runs, at start and under winrmd -t."""
import concurrent.futures
import os
import re
import ssl
import subprocess
import sys
import time
import http.client

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import soap  # noqa: E402
from lab import Lab  # noqa: E402
from pki import PKI  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import IDENTIFY, SOAP_CT, WINRMD, free_port, lab_daemon  # noqa: E402

t = Tap()
MUTUAL = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"
CFG = "http://schemas.microsoft.com/wbem/wsman/1/config"
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
SHELL_PREFIX = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/*"
GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
DELETE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
# pam_wrapper's own errors when PAM processes start at the same moment
PWRAP_RACE = r"PWRAP_ERROR.*(Failed to create pam_wrapper config dir|no modules loaded)"
SHELL_BODY = ('<rsp:Shell xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">'
              "<rsp:InputStreams>stdin</rsp:InputStreams>"
              "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>")
CONFIG_GET = soap.envelope(GET, CFG)
SHELL_CREATE = soap.envelope(CREATE, SHELL, body=SHELL_BODY,
                             options={"WINRS_NOPROFILE": "FALSE", "WINRS_CODEPAGE": "65001"})


class Env:
    """The lab, the PKI, the main daemon (an HTTP listener on d.port and
    an HTTPS listener on self.port) and helpers to talk to it."""

    def __init__(self, lab, pki):
        self.lab, self.pki = lab, pki
        self.CA = pki.thumbprint(pki.ca)
        self.INTER = pki.thumbprint(pki.intermediate)
        self.ROGUE = pki.thumbprint(pki.rogue_ca)
        self.stamp = time.time_ns()
        self.d = None

    # --- daemons ---

    def daemon(self, certificate=True, client_ca=True, https=True, mapping=None):
        cfg = {"Service": {"Auth": {"Certificate": certificate}},
               # the shell's commands need the lab's fake users
               "Winrs": {"KeepEnvironment": ["LD_PRELOAD", "NSS_WRAPPER_PASSWD",
                                             "NSS_WRAPPER_GROUP", "NSS_WRAPPER_HOSTS"]}}
        if client_ca:
            cfg["Service"]["Auth"]["ClientCAFile"] = self.pki.ca
        d = lab_daemon(self.lab, cfg)
        d.https_port = None
        if https:
            d.https_port = free_port()
            d.tree["Listeners"].append({
                "Address": "127.0.0.1", "Port": d.https_port, "Transport": "HTTPS",
                "CertificateFile": self.pki.server, "KeyFile": self.pki.server_key})
            d.write_config()
        d.map_path = d.tree["Daemon"]["CertMappingFile"]
        if mapping is not None:
            self.write_map(d, mapping)
        return d

    def write_map(self, d, entries=None, text=None):
        """Replaces the mapping file atomically; entries are (URI, Subject,
        Issuer, UserName[, Enabled]).  Every write gets an mtime of its
        own (the helper notices changes by mtime)."""
        if text is None:
            groups = []
            for e in entries:
                uri, subject, issuer, user = e[:4]
                en = "" if len(e) < 5 else " Enabled = %s;" % ("true" if e[4] else "false")
                groups.append('  { URI = "%s"; Subject = "%s"; Issuer = "%s"; UserName = "%s";%s }'
                              % (uri, subject, issuer, user, en))
            text = "CertMapping = (\n%s\n);\n" % ",\n".join(groups)
        tmp = d.map_path + ".t6100"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, d.map_path)
        self.stamp += 10_000_000
        os.utime(d.map_path, ns=(self.stamp, self.stamp))

    # --- clients ---

    def context(self, name=None, chain=False):
        ctx = ssl.create_default_context(cafile=self.pki.ca)
        if name is not None:
            cert = self.pki.client_inter_chain if chain else getattr(self.pki, name)
            ctx.load_cert_chain(cert, getattr(self.pki, name + "_key"))
        return ctx

    def connect(self, d, name=None, chain=False):
        return http.client.HTTPSConnection("127.0.0.1", d.https_port, timeout=30,
                                           context=self.context(name, chain))

    def post(self, d, name=None, body=IDENTIFY, mutual=True, chain=False, conn=None,
             headers=None):
        """One request over HTTPS with client certificate NAME (None: no
        certificate); returns (status, headers, body)."""
        own = conn is None
        c = conn or self.connect(d, name, chain)
        h = {"Content-Type": SOAP_CT}
        if mutual:
            h["Authorization"] = MUTUAL
        h.update(headers or {})
        try:
            c.request("POST", "/wsman", body=body.encode(), headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            if own:
                c.close()

    def curl(self, d, name, chain=False, mutual=True):
        cert = self.pki.client_inter_chain if chain else getattr(self.pki, name)
        args = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20",
                "--cacert", self.pki.ca, "--cert", cert, "--key", getattr(self.pki, name + "_key"),
                "-H", "Content-Type: " + SOAP_CT, "--data-binary", IDENTIFY,
                "https://127.0.0.1:%d/wsman" % d.https_port]
        if mutual:
            args[1:1] = ["-H", "Authorization: " + MUTUAL]
        r = subprocess.run(args, capture_output=True, text=True, timeout=30)
        return int(r.stdout or 0) if r.stdout.isdigit() else r.stdout + r.stderr

    def sha1(self, name):
        with open(getattr(self.pki, name + "_sha1")) as f:
            return f.read().strip()


def audit_after(d, start, pattern, timeout=5):
    """The first audit line after log offset start matching the regex
    (None when none comes)."""
    deadline = time.time() + timeout
    while True:
        for line in d.log()[start:].splitlines():
            if "audit:" in line and re.search(pattern, line):
                return line
        if time.time() > deadline:
            return None
        time.sleep(0.05)


def expect(env, d, name, want, what, chain=False, reason=None, mapped=None, body=IDENTIFY,
           claimed=None):
    """One certificate login: the status, and the audit line (failure with
    a reason matching the regex reason, or success mapped to the user)."""
    start = len(d.log())
    try:
        st, _, data = env.post(d, name, body=body, chain=chain)
    except (OSError, ssl.SSLError) as e:
        st, data = repr(e), b""
    ok = st == want
    if want == 200:
        ok = ok and b"Fault" not in data
    t.ok(ok, "%s: HTTP %s" % (what, want), "got %r %r\n%s" % (st, data[:300], d.log()[start:][-2000:]))
    tmo = 5 if ok else 0.5  # (a wrong status: no need to wait long for the line)
    if reason is not None:
        line = audit_after(d, start, r"method=Certificate .*result=failure", tmo)
        t.ok(line and re.search(reason, line),
             "%s: audit line method=Certificate result=failure reason ~ %s" % (what, reason),
             line or d.log()[start:][-2000:])
    if mapped is not None:
        line = audit_after(d, start, r"method=Certificate/Certificate .*result=success", tmo)
        thumb = env.sha1(name)
        good = (line and ("mapped=%s " % mapped) in line and ("thumbprint %s" % thumb) in line)
        if claimed is not None:
            good = good and ('claimed="%s ' % claimed) in line
        t.ok(good, "%s: audit success line mapped=%s with the certificate's thumbprint%s"
             % (what, mapped, (" claimed %s" % claimed) if claimed else ""),
             line or d.log()[start:][-2000:])
    return st, data


# ---------------------------------------------------------------------------

def test_certificates(env, d):
    """Every certificate of the PKI against one table."""
    CA, INTER, ROGUE = env.CA, env.INTER, env.ROGUE
    env.write_map(d, [
        ("*", "alice@WINRMD.TEST", CA, "alice"),
        ("*", "bob@example.net", CA, "carol"),
        ("*", "carol@example.net", CA, "carol"),
        ("*", "dave@WINRMD.TEST", INTER, "dave"),
        ("*", "erin@WINRMD.TEST", CA, "erin", False),
        ("*", "alice@WINRMD.TEST", ROGUE, "alice"),
        ("*", "*@sub.example.net", CA, "alice"),
    ])
    st, data = expect(env, d, "client_alice", 200, "client_alice (UPN alice@WINRMD.TEST)",
                      mapped="alice", claimed="alice@WINRMD.TEST")
    t.contains(data, "IdentifyResponse", "client_alice: the answer is an IdentifyResponse")
    t.eq(env.curl(d, "client_alice"), 200, "client_alice with curl --cert/--key: 200")
    t.eq(env.curl(d, "client_alice", mutual=False), 401,
         "client_alice with curl but without the mutual header: 401")
    expect(env, d, "client_bob", 200, "client_bob (rfc822 bob@example.net) mapped to carol",
           mapped="carol", claimed="bob@example.net")
    expect(env, d, "client_both", 200, "client_both (UPN + rfc822, mapped by its rfc822 name)",
           mapped="carol")
    expect(env, d, "client_inter", 200, "client_inter with its intermediate sent",
           chain=True, mapped="dave")
    t.eq(env.curl(d, "client_inter", chain=True), 200, "client_inter chain with curl: 200")
    expect(env, d, "client_inter", 401, "client_inter without its intermediate",
           reason="unable to get local issuer certificate")
    expect(env, d, "client_max", 200, "client_max (exactly 16384 bytes DER)", mapped="alice")
    t.eq(os.path.getsize(env.pki.client_max_der), 16384, "(client_max is 16384 bytes)")
    t.eq(env.curl(d, "client_max"), 200, "client_max with curl: 200")
    expect(env, d, "client_over", 401, "client_over (16385 bytes DER)",
           reason=r"16385 bytes is larger than the 16384")
    expect(env, d, "client_rogue", 401, "client_rogue (other CA, even with a mapping for it)",
           reason="unable to get local issuer certificate")
    expect(env, d, "client_expired", 401, "client_expired", reason="certificate has expired")
    expect(env, d, "client_future", 401, "client_future", reason="certificate is not yet valid")
    expect(env, d, "client_noeku", 401, "client_noeku (no extendedKeyUsage)",
           reason="no extendedKeyUsage")
    expect(env, d, "client_serverauth", 401, "client_serverauth (EKU serverAuth only)",
           reason="clientAuth")
    expect(env, d, "client_disabled", 401, "client_disabled (erin, mapping Enabled=false)",
           reason="no enabled mapping matches for issuer %s" % CA)
    expect(env, d, "client_wild", 200, "client_wild against Subject *@sub.example.net",
           mapped="alice", claimed="alice@sub.example.net")
    expect(env, d, "client_badupn", 401, "client_badupn (UPN as IA5String)",
           reason="UTF8String")
    # no certificate, the header anyway
    start = len(d.log())
    st, _, _ = env.post(d, None)
    t.eq(st, 401, "no client certificate + mutual header: 401")
    line = audit_after(d, start, "method=Certificate .*result=failure")
    t.ok(line and "no client certificate" in line, "and the audit line says so", line)
    st, h, _ = env.post(d, "client_alice", mutual=False)
    t.eq(st, 401, "client certificate without the mutual header: 401 (the certificate alone is not a login)")
    d.check_alive(t, "every certificate of the PKI")


def test_tls_and_load(env, d):
    env.write_map(d, [("*", "alice@WINRMD.TEST", env.CA, "alice"),
                      ("*", "bob@example.net", env.CA, "carol"),
                      ("*", "dave@WINRMD.TEST", env.INTER, "dave")])
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = env.context("client_alice")
        ctx.minimum_version = ctx.maximum_version = version
        c = http.client.HTTPSConnection("127.0.0.1", d.https_port, timeout=30, context=ctx)
        try:
            st, _, data = env.post(d, conn=c)
        except (OSError, ssl.SSLError) as e:
            st, data = repr(e), b""
        finally:
            c.close()
        t.ok(st == 200 and b"IdentifyResponse" in data, "client_alice over %s: 200" % version.name,
             (st, data[:300]))
    # several logins at once, each mapped to its own account
    jobs = [("client_alice", False, "alice"), ("client_bob", False, "carol"),
            ("client_inter", True, "dave")] * 8
    start = len(d.log())

    def one(job):
        name, chain, _ = job
        return env.post(d, name, chain=chain)[0]
    # 4 at a time: each login runs PAM in a child, and pam_wrapper (the
    # lab's PAM) races its /tmp/pam.? directories when many start at once
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        statuses = list(ex.map(one, jobs))
    bad = [i for i, st in enumerate(statuses) if st != 200]
    if bad and re.search(PWRAP_RACE, d.log()[start:]):
        t.diag("pam_wrapper raced its runtime directories (lab limit, see t5100); "
               "retrying %d login(s) one at a time" % len(bad))
        for i in bad:
            statuses[i] = one(jobs[i])
    t.eq(statuses, [200] * len(jobs), "24 certificate logins, 4 at a time (3 certificates), all succeed")
    time.sleep(0.2)
    lines = [ln for ln in d.log()[start:].splitlines() if "method=Certificate/Certificate" in ln]
    wrong = [ln for ln in lines
             if not any(("claimed=\"%s" % c) in ln and ("mapped=%s " % u) in ln
                        for c, u in (("alice@WINRMD.TEST", "alice"), ("bob@example.net", "carol"),
                                     ("dave@WINRMD.TEST", "dave")))]
    t.ok(len(lines) == len(jobs) and not wrong,
         "each concurrent login mapped to its own account (%d audit lines)" % len(lines),
         "\n".join(wrong[:5] or lines[:5]))
    # a client that sends a long chain (its intermediate 12 times)
    with open(env.pki.client_inter) as f:
        leaf = f.read()
    with open(env.pki.intermediate) as f:
        inter = f.read()
    long_chain = os.path.join(env.pki.dir, "t6100-long-chain.pem")
    with open(long_chain, "w") as f:
        f.write(leaf + inter * 12)
    ctx = env.context()
    ctx.load_cert_chain(long_chain, env.pki.client_inter_key)
    c = http.client.HTTPSConnection("127.0.0.1", d.https_port, timeout=30, context=ctx)
    try:
        st = env.post(d, conn=c)[0]
    except (OSError, ssl.SSLError) as e:
        st = repr(e)
    finally:
        c.close()
    t.ok(st in (200, 401), "client_inter with 12 copies of its intermediate: 200 or 401, no error", st)
    d.check_alive(t, "a 13-certificate chain")


def test_nul_upn(env, d):
    env.write_map(d, [("*", "alice*", env.CA, "alice"),
                      ("*", "*@evil.test", env.CA, "alice")])
    expect(env, d, "client_nulupn", 401, "client_nulupn (alice\\0@evil.test) against alice* and *@evil.test",
           reason="NUL or control character")
    expect(env, d, "client_alice", 200, "(client_alice still matches alice*)", mapped="alice")
    d.check_alive(t, "a UPN with a NUL byte")


def test_selection(env, d):
    CA = env.CA
    env.write_map(d, [("*", "*@sub.example.net", CA, "alice"), ("*", "alice@wild*", CA, "carol")])
    expect(env, d, "client_wild", 200, "*@sub.example.net (17 chars) beats alice@wild* (11)",
           mapped="alice")
    env.write_map(d, [("*", "alice@wild*", CA, "carol"), ("*", "*@example.org", CA, "alice")])
    expect(env, d, "client_wild", 200, "alice@wild* matches rfc822 alice@wild.example.org; "
           "*@example.org does not match a subdomain", mapped="carol")
    env.write_map(d, [("*", "*@example.org", CA, "alice")])
    expect(env, d, "client_wild", 401, "*@example.org alone: no match for alice@wild.example.org",
           reason="no enabled mapping matches")
    env.write_map(d, [("*", "*", CA, "alice")])
    expect(env, d, "client_bob", 200, 'Subject "*" matches every certificate of the issuer',
           mapped="alice")
    expect(env, d, "client_inter", 401, 'Subject "*" of the root does not cover the intermediate\'s '
           "certificates", chain=True, reason="no enabled mapping matches for issuer %s" % env.INTER)
    env.write_map(d, [("*", "ALICE@winrmd.test", CA.lower(), "alice")])
    expect(env, d, "client_alice", 200, "Subject and Issuer compare without regard to case",
           mapped="alice")
    env.write_map(d, [("*", "dave@WINRMD.TEST", CA, "dave")])
    expect(env, d, "client_inter", 401, "Issuer must be the issuing CA (the intermediate), not the root",
           chain=True, reason="no enabled mapping matches for issuer %s" % env.INTER)
    # longest Subject wins, whatever the order in the file
    env.write_map(d, [("*", "*@WINRMD.TEST", CA, "bob"), ("*", "alice@WINRMD.TEST", CA, "alice")])
    expect(env, d, "client_alice", 200, "longest Subject wins (alice@WINRMD.TEST over *@WINRMD.TEST)",
           mapped="alice")
    env.write_map(d, [("*", "alice@WINRMD.TEST", CA, "alice"), ("*", "*@WINRMD.TEST", CA, "bob")])
    expect(env, d, "client_alice", 200, "longest Subject wins (other file order)", mapped="alice")
    # a tie is refused, even when both name the same account
    tie = [("*", "alice@WINRMD*", CA, "alice"), ("*", "*@WINRMD.TEST", CA, "alice")]
    env.write_map(d, tie)
    expect(env, d, "client_alice", 401, "two mappings tie (same Subject and URI length): refused",
           reason="more than one mapping matches")
    env.write_map(d, tie + [("*", "alice@WINRMD.TEST", CA, "alice", False)])
    expect(env, d, "client_alice", 401, "a disabled longer mapping does not break the tie",
           reason="more than one mapping matches")
    env.write_map(d, tie + [("*", "alice@WINRMD.TEST", CA, "alice")])
    expect(env, d, "client_alice", 200, "an enabled longer mapping does", mapped="alice")
    env.write_map(d, [("*", "alice@WINRMD.TEST", CA, "alice"),
                      ("*", "alice@WINRMD.TEST", env.ROGUE, "bob")])
    expect(env, d, "client_alice", 200, "a same-key mapping of another Issuer is no tie", mapped="alice")


def test_uri(env, d):
    CA = env.CA
    env.write_map(d, [(SHELL_PREFIX, "alice@WINRMD.TEST", CA, "alice")])
    expect(env, d, "client_alice", 401, "shell-only mapping: Identify refused",
           reason="no enabled mapping matches for issuer %s and URI " % CA)
    expect(env, d, "client_alice", 401, "shell-only mapping: Get winrm/config refused",
           body=CONFIG_GET, reason="no enabled mapping matches .* URI %s" % re.escape(CFG))
    st, data = expect(env, d, "client_alice", 200, "shell-only mapping: shell Create works",
                      body=SHELL_CREATE, mapped="alice")
    m = re.search(rb"<rsp:ShellId>([^<]+)</rsp:ShellId>", data)
    t.ok(m, "the Create answer has a ShellId", data[:500])

    # a keep-alive connection authenticated for the shell URI
    c = env.connect(d, "client_alice")
    try:
        st, _, data = env.post(d, body=SHELL_CREATE, conn=c)
        t.eq(st, 200, "keep-alive: shell Create with the mutual header")
        sid = re.search(rb"<rsp:ShellId>([^<]+)</rsp:ShellId>", data)
        st, _, data = env.post(d, body=CONFIG_GET, conn=c)
        t.eq(st, 401, "keep-alive: then Get winrm/config with the header: still refused (mapping is per URI)")
        c.close()
        c = env.connect(d, "client_alice")
        env.post(d, body=SHELL_CREATE, conn=c)
        st, _, data = env.post(d, body=CONFIG_GET, conn=c, mutual=False)
        t.ok(st == 401, "keep-alive: Get winrm/config WITHOUT an Authorization header after a "
             "shell login must not inherit the shell-only identity", (st, data[:300]))
        st, _, data = env.post(d, body=IDENTIFY, conn=c, mutual=False)
        t.ok(st == 401, "keep-alive: nor may an Identify without the header", (st, data[:300]))
        if sid:
            env.post(d, body=soap.envelope(DELETE, SHELL, selectors={"ShellId": sid.group(1).decode()}),
                     conn=env.connect(d, "client_alice"))
    finally:
        c.close()

    # longest URI wins among equal Subjects
    env.write_map(d, [("*", "alice@WINRMD.TEST", CA, "bob"), (SHELL_PREFIX, "alice@WINRMD.TEST", CA, "alice")])
    st, data = expect(env, d, "client_alice", 500, "URI * maps to bob: Get winrm/config is AccessDenied",
                      body=CONFIG_GET, mapped="bob")
    f = soap.fault(data)
    t.ok(f and f[1] == "w:AccessDenied", "the fault is w:AccessDenied", f)
    st, data = expect(env, d, "client_alice", 200, "the longer shell URI maps to alice: Create works",
                      body=SHELL_CREATE, mapped="alice")
    sid = re.search(rb"<rsp:ShellId>([^<]+)</rsp:ShellId>", data)
    if sid:
        env.post(d, "client_alice", body=soap.envelope(DELETE, SHELL,
                                                       selectors={"ShellId": sid.group(1).decode()}))


def test_accounts(env, d):
    CA = env.CA
    env.write_map(d, [("*", "alice@WINRMD.TEST", CA, "bob")])
    start = len(d.log())
    st, data = expect(env, d, "client_alice", 500, "mapped to bob (no remote-users group): 500",
                      mapped="bob")
    f = soap.fault(data)
    t.ok(f and f[1] == "w:AccessDenied" and f[2] == "5", "w:AccessDenied, WSManFault code 5", f)
    line = audit_after(d, start, "authorization remote=.* user=bob ")
    t.ok(line and "result=denied" in line, "audit: authorization user=bob result=denied", line)
    env.write_map(d, [("*", "alice@WINRMD.TEST", CA, "erin")])
    expect(env, d, "client_alice", 401, "mapped to erin (PAM account locked): 401",
           reason="account refused by PAM")
    line = audit_after(d, start, 'method=Certificate claimed="[^"]*"( mapped=\\S+)? result=failure')
    t.ok(line and "PAM" in line, "the refusal says PAM refused the account", line)
    t.ok(line and "mapped=erin " in line, "the refusal's audit line names the mapped account (erin)", line)
    env.write_map(d, [("*", "alice@WINRMD.TEST", CA, "nosuchuser")])
    expect(env, d, "client_alice", 401, "mapped to an account that does not exist: 401",
           reason="no such account in NSS: nosuchuser")
    env.write_map(d, [("*", "alice@WINRMD.TEST", CA, "carol")])
    st, data = expect(env, d, "client_alice", 200, "mapped to carol (admin): Get winrm/config/service",
                      body=soap.envelope(GET, CFG + "/service"), mapped="carol")


def test_pywinrm(env, d):
    import winrm
    env.write_map(d, [(SHELL_PREFIX, "alice@WINRMD.TEST", env.CA, "alice")])
    s = winrm.Session("https://127.0.0.1:%d/wsman" % d.https_port, auth=(None, None),
                      transport="certificate", cert_pem=env.pki.client_alice,
                      cert_key_pem=env.pki.client_alice_key, server_cert_validation="validate",
                      ca_trust_path=env.pki.ca)
    try:
        res = s.run_cmd("id -un")
        t.eq((res.status_code, res.std_out), (0, b"alice\n"),
             "pywinrm transport='certificate' (shell-only mapping): id -un is alice")
    except Exception as e:  # noqa: BLE001
        t.ok(False, "pywinrm transport='certificate' run_cmd('id -un')", "%r\n%s" % (e, d.log()[-2000:]))
    s = winrm.Session("https://127.0.0.1:%d/wsman" % d.https_port, auth=(None, None),
                      transport="certificate", cert_pem=env.pki.client_rogue,
                      cert_key_pem=env.pki.client_rogue_key, server_cert_validation="validate",
                      ca_trust_path=env.pki.ca)
    try:
        s.run_cmd("id -un")
        t.ok(False, "pywinrm with client_rogue is refused")
    except Exception as e:  # noqa: BLE001
        t.eq(type(e).__name__, "InvalidCredentialsError", "pywinrm with client_rogue is refused (401)")


def test_live_edits(env, d):
    CA = env.CA
    env.write_map(d, [("*", "alice@WINRMD.TEST", CA, "alice")])
    expect(env, d, "client_alice", 200, "good table in use", mapped="alice")
    start = len(d.log())
    env.write_map(d, text='CertMapping = (\n  { URI = "*"; Subject = "alice@WINRMD.TEST";\n'
                          '    Issuer = "XYZ"; UserName = "bob"; }\n);\n')
    expect(env, d, "client_alice", 200, "a broken edit keeps the previous table (still alice)",
           mapped="alice")
    t.ok(d.wait_log(r"certificate mappings not reloaded, the previous ones stay in use: .*"
                    + re.escape(d.map_path) + r":3: CertMapping\.\[0\]\.Issuer: must be exactly 40",
                    start=start),
         "the broken edit is logged with FILE:LINE: CertMapping.[0].Issuer", d.log()[start:][-2000:])
    expect(env, d, "client_alice", 200, "again: still the previous table", mapped="alice")
    t.eq(len(re.findall("certificate mappings not reloaded", d.log()[start:])), 1,
         "the broken file is logged once, not at every login")
    env.write_map(d, text="CertMapping = ( { URI = \"*\"; ")
    expect(env, d, "client_alice", 200, "a syntax error keeps the previous table too", mapped="alice")
    env.write_map(d, [("*", "alice@WINRMD.TEST", CA, "bob")])
    st, _ = expect(env, d, "client_alice", 500, "the repaired file applies at the next login (bob)",
                   mapped="bob")
    os.unlink(d.map_path)
    expect(env, d, "client_alice", 401, "the file removed: an empty table, nobody maps",
           reason="no enabled mapping matches")
    env.write_map(d, [("*", "alice@WINRMD.TEST", CA, "alice")])
    expect(env, d, "client_alice", 200, "the file back: alice again", mapped="alice")


def test_broken_before_first_login(env):
    """The daemon starts with a good table, which is broken before the
    first certificate login: the good table must still be used."""
    d = env.daemon(mapping=[("*", "alice@WINRMD.TEST", env.CA, "alice")])
    try:
        d.start()
        env.write_map(d, text="CertMapping = ( { URI = \"*\"; Subject = 1; } );\n")
        expect(env, d, "client_alice", 200, "table broken after start, before the first login: "
               "the good table of the start still applies", mapped="alice")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()


def test_broken_at_start(env):
    d = env.daemon(mapping=[])
    try:
        env.write_map(d, text='# hand edit\nCertMapping = (\n  { URI = "*"; Subject = "a@b";\n'
                              '    Issuer = "0123"; UserName = "alice"; Password = "hunter2"; }\n);\n')
        r = subprocess.run([WINRMD, "-t", "-c", d.conf_path], capture_output=True, text=True, timeout=30,
                           env=d.env)
        out = r.stdout + r.stderr
        t.ok(r.returncode != 0, "winrmd -t refuses a broken certmapping.conf", out)
        t.contains(out, "%s:4: CertMapping.[0].Issuer: must be exactly 40 hexadecimal digits" % d.map_path,
                   "winrmd -t names FILE:LINE: CertMapping.[0].Issuer")
        t.contains(out, "%s:4: CertMapping.[0].Password: not supported" % d.map_path,
                   "and a Password key as not supported")
        t.not_contains(out, "hunter2", "without echoing the password")
        d.start(wait=False)
        try:
            rc = d.proc.wait(20)
        except subprocess.TimeoutExpired:
            rc = "still running"
        t.ok(rc not in (0, "still running"), "winrmd refuses to start with it", (rc, d.log()[-2000:]))
        t.contains(d.log(), "CertMapping.[0].Issuer", "and says why")
    finally:
        d.cleanup()


def test_other_daemons(env):
    # Certificate=false: the header is refused on HTTPS, even with a
    # certificate that maps
    d = env.daemon(certificate=False, mapping=[("*", "alice@WINRMD.TEST", env.CA, "alice")])
    try:
        d.start()
        expect(env, d, "client_alice", 401, "Certificate=false: the mutual header is refused",
               reason="method disabled")
        t.eq(d.stop(), 0, "clean stop (Certificate=false)")
    finally:
        d.cleanup()
    # Certificate=true without ClientCAFile: no certificate is requested
    d = env.daemon(client_ca=False, mapping=[("*", "alice@WINRMD.TEST", env.CA, "alice")])
    try:
        d.start()
        expect(env, d, "client_alice", 401, "no ClientCAFile: no certificate requested, 401",
               reason="no client certificate")
        t.eq(d.stop(), 0, "clean stop (no ClientCAFile)")
    finally:
        d.cleanup()


def test_http(env, d):
    start = len(d.log())
    st, _, _ = d.post(IDENTIFY, {"Authorization": MUTUAL})
    t.eq(st, 401, "the mutual header over the HTTP listener: 401")
    line = audit_after(d, start, "method=Certificate .*result=failure")
    t.ok(line and "HTTPS" in line, "audit: client certificates need HTTPS", line)


def test_audit_secrets(env, d):
    log = d.log()
    t.ok(len(re.findall(r"audit: authentication remote=127\.0\.0\.1 method=Certificate", log)) > 20,
         "audit lines with method=Certificate for the logins")
    keys = [n for n in PKI.NAMES if n.startswith("client_")]
    leaked = []
    for n in keys:
        with open(getattr(env.pki, n + "_key")) as f:
            body = [ln for ln in f.read().splitlines() if ln and not ln.startswith("-----")]
        leaked += [n for ln in body if len(ln) > 20 and ln in log]
    t.eq(sorted(set(leaked)), [], "no client private key material in the log")
    t.not_contains(log, "PRIVATE KEY", "no PEM private key in the log")
    t.not_contains(log, "BEGIN CERTIFICATE", "no PEM certificate dumped in the log")


with Lab() as lab:
    pki = PKI()
    try:
        env = Env(lab, pki)
        d = env.daemon(mapping=[])
        try:
            d.start()
            for fn in (test_certificates, test_nul_upn, test_selection, test_uri, test_accounts,
                       test_pywinrm, test_tls_and_load, test_live_edits, test_http, test_audit_secrets):
                t.run(fn, env, d)
            d.check_alive(t, "the certificate tests")
            t.eq(d.stop(), 0, "clean stop")
            t.not_contains(d.log(), "Sanitizer", "no sanitizer report")
        finally:
            d.cleanup()
        t.run(test_broken_before_first_login, env)
        t.run(test_broken_at_start, env)
        t.run(test_other_daemons, env)
    finally:
        pki.close()
sys.exit(t.done())
