#!/usr/bin/python3
"""t0900 - self-test of the authentication lab (lib/lab.py) and of the
python-gssapi client (lib/gssclient.py), without winrmd: the KDC and its
keytab, Kerberos/SPNEGO/NTLM handshakes against an in-process acceptor
(directly and over HTTP through a tiny mock server), the fake users, groups
and PAM under the wrappers, the environments, and a clean teardown."""
import base64
import glob
import hashlib
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time

# Debian's python3 has gssapi, requests_ntlm, ...; a pyenv/venv python3
# first on PATH does not: re-run under /usr/bin/python3.
if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import lab as labmod  # noqa: E402
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402

import gssapi  # noqa: E402
import gssclient  # noqa: E402
from gssclient import GssClient, display_name, flags_int, initiator_context  # noqa: E402

t = Tap()
CHANNEL_BOUND = 0x800          # GSS_C_CHANNEL_BOUND_FLAG


def acceptor_env(lab):
    """The in-process acceptor reads its keytab and NTLM users from the
    environment, as the daemon does under daemon_env().  (A credential
    acquired from a cred store {"keytab": ...} does not work for NTLM with
    gss-ntlmssp 1.2.0: "Not a server credential type", or a crash.)"""
    env = lab.daemon_env()
    for k in ("KRB5_CONFIG", "KRB5_KTNAME", "KRB5RCACHEDIR", "NTLM_USER_FILE",
              "GSS_MECH_CONFIG"):
        if k in env:
            os.environ[k] = env[k]


def handshake(ic, ac):
    """Runs initiator ic against acceptor ac; returns the tokens sent."""
    sent = []
    token = ic.step()
    while True:
        sent.append(token)
        out = ac.step(token)
        if not out:
            break
        token = ic.step(out)
        if not token:
            break
    return sent


def test_kdc(lab):
    t.diag("lab set up in %.3f s (KDC on 127.0.0.1:%d, pid %d)"
           % (lab.setup_time, lab.port, lab.kdc_pid))
    t.ok(lab.setup_time < 2.0, "lab set-up is fast (%.2f s)" % lab.setup_time)
    with open(lab.path("kdc.pid")) as f:
        t.eq(f.read().strip(), str(lab.kdc_pid), "kdc.pid holds the KDC's PID")
    t.eq(labmod._port_sockets(lab.port) - labmod._process_sockets(lab.kdc_pid), set(),
         "only our KDC uses its port")
    for user in ("alice", "bob", "carol", "dave", "erin", "root"):
        cc = lab.kinit(user)
        r = subprocess.run(["klist", "-c", "FILE:" + cc], capture_output=True, text=True,
                           env=lab.tool_env())
        t.contains(r.stdout, "Default principal: %s@WINRMD.TEST" % user,
                   "kinit %s with the right password" % user)
    try:
        lab.kinit("alice", password="wrong", ccache=lab.path("ccache", "wrong.cc"))
        err = None
    except labmod.LabError as e:
        err = str(e)
    t.ok(err and "Password incorrect" in err, "kinit with a wrong password is refused", err)
    r = subprocess.run(["klist", "-k", "-e", lab.keytab], capture_output=True, text=True,
                       env=lab.tool_env())
    want = ["HTTP/localhost", "host/localhost", "HTTP/" + lab.hostname,
            "host/" + lab.hostname, "HTTP/winrm.test.lab"]
    got = sorted({line.split()[1].split("@")[0] for line in r.stdout.splitlines()
                  if line.strip().startswith("1 ")})
    t.eq(got, sorted(set(want)), "the keytab holds every service principal (kvno 1)")
    t.ok(r.stdout.count("aes256-cts") == len(set(want)) and "arcfour" not in r.stdout,
         "keytab keys: aes256 + aes128 only", r.stdout)


def test_kdc_collision(lab):
    """A second lab whose first port is already the first lab's KDC port.
    The pre-start check is bypassed so that the post-start check (two KDCs
    on one port via SO_REUSEPORT) must catch it and move on."""
    ports = iter([lab.port])
    orig_pick, orig_free = labmod._pick_port, labmod._port_is_free
    labmod._pick_port = lambda: next(ports, None) or orig_pick()
    labmod._port_is_free = lambda port: True
    try:
        lab2 = Lab()
    finally:
        labmod._pick_port, labmod._port_is_free = orig_pick, orig_free
    try:
        t.ok(lab2.port != lab.port, "a KDC port shared with another KDC is refused "
             "(retried on %d)" % lab2.port)
        t.eq(labmod._port_sockets(lab.port) - labmod._process_sockets(lab.kdc_pid), set(),
             "the refused KDC is gone from the first lab's port")
        t.ok(lab2.kinit("bob") and lab.kinit("bob"), "both labs' KDCs answer")
    finally:
        kdc2 = lab2.kdc_pid
        lab2.close()
    t.ok(not os.path.exists("/proc/%d" % kdc2) and lab.kinit("carol"),
         "closing the second lab stops its KDC and leaves the first one running")


def test_gss_direct(lab):
    acceptor_env(lab)
    for mech in ("krb5", "spnego"):
        ic = initiator_context(lab, "alice", mech=mech)
        ac = gssapi.SecurityContext(usage="accept")
        sent = handshake(ic, ac)
        t.ok(ic.complete and ac.complete and display_name(ac.initiator_name) ==
             "alice@WINRMD.TEST" and ac.mech == gssclient.KRB5,
             "%s handshake: acceptor sees alice@WINRMD.TEST over krb5" % mech,
             "peer %r mech %s" % (display_name(ac.initiator_name), ac.mech))
        first = sent[0][:20]
        want = "06092a864886f712010202" if mech == "krb5" else "06062b0601050502"
        t.ok(want in first.hex(), "%s: first token has the %s OID" % (mech, mech), first.hex())
    # Kerberos message protection as MS-WSMV uses it: IOV with a header.
    hdr, enc, pad = gssclient.wrap_iov(ic, b"secret soap")
    back = gssclient.unwrap_iov(ac, hdr, enc)
    hdr2, enc2, _ = gssclient.wrap_iov(ac, b"reply")
    t.ok(len(hdr) == 60 and pad == b"" and enc != b"secret soap" and back == b"secret soap"
         and gssclient.unwrap_iov(ic, hdr2, enc2) == b"reply",
         "krb5 wrap_iov (60-byte header) round-trips both ways")

    # Not alice for SPNEGO(NTLM): she is the first entry of NTLM_USER_FILE,
    # which a client falling back to default credentials would pick.
    for mech, user, domain, want in (("ntlm", "alice", None, "WINRMD\\alice"),
                                     ("spnego-ntlm", "erin", None, "WINRMD\\erin"),
                                     ("ntlm", "bob", lab.local_domain,
                                      lab.local_domain + "\\bob")):
        ic = initiator_context(lab, user, mech=mech, domain=domain)
        ac = gssapi.SecurityContext(usage="accept")
        sent = handshake(ic, ac)
        raw = sent[0].startswith(b"NTLMSSP\0")
        t.ok(ac.complete and display_name(ac.initiator_name) == want and
             ac.mech == gssclient.NTLM and raw == (mech == "ntlm"),
             "%s handshake (%d legs): acceptor sees %s" % (mech, len(sent), want),
             "peer %r mech %s first %r" % (display_name(ac.initiator_name), ac.mech,
                                            sent[0][:12]))
    sealed = ic.wrap(b"ntlm message", True).message
    t.ok(len(sealed) == 16 + len(b"ntlm message") and
         ac.unwrap(sealed).message == b"ntlm message",
         "NTLM wrap (signature || sealed) round-trips to the acceptor")

    ic = initiator_context(lab, "alice", mech="ntlm", password="wrong")
    ac = gssapi.SecurityContext(usage="accept")
    try:
        handshake(ic, ac)
        refused = False
    except gssapi.exceptions.GSSError:
        refused = True
    t.ok(refused, "NTLM with a wrong password is refused by the acceptor")

    # Channel bindings: matching ones set CHANNEL_BOUND, others are refused.
    cb = b"tls-server-end-point:" + b"\x11" * 32
    ic = initiator_context(lab, "alice", mech="krb5", channel_bindings_data=cb)
    ac = gssapi.SecurityContext(usage="accept",
                                channel_bindings=gssclient.channel_bindings(cb))
    handshake(ic, ac)
    t.ok(ac.complete and flags_int(ac.actual_flags) & CHANNEL_BOUND,
         "krb5 with matching channel bindings: acceptor reports CHANNEL_BOUND",
         hex(flags_int(ac.actual_flags)))
    ic = initiator_context(lab, "alice", mech="krb5", channel_bindings_data=cb)
    ac = gssapi.SecurityContext(usage="accept",
                                channel_bindings=gssclient.channel_bindings(b"other"))
    try:
        handshake(ic, ac)
        refused = False
    except gssapi.exceptions.GSSError:
        refused = True
    t.ok(refused, "krb5 with wrong channel bindings is refused")


class MockAcceptor(http.server.BaseHTTPRequestHandler):
    """Stand-in for the daemon's HTTP auth: one acceptor context per TCP
    connection (a handler instance lives as long as its connection)."""
    protocol_version = "HTTP/1.1"
    seen = []           # (scheme, first bytes of the token) per auth leg

    def log_message(self, *a):
        pass

    def _send(self, status, auth=None, body=b""):
        self.send_response(status)
        for a in auth or []:
            self.send_header("WWW-Authenticate", a)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        authz = self.headers.get("Authorization")
        if authz is None:
            peer = getattr(self, "peer", None)
            if peer is None:
                return self._send(401, ["Negotiate", "Kerberos"])
            return self._send(200, body=json.dumps({"peer": peer, "len": len(body)}).encode())
        scheme, b64 = authz.split(None, 1)
        token = base64.b64decode(b64)
        MockAcceptor.seen.append((scheme, token[:8]))
        if getattr(self, "ctx", None) is None or self.ctx.complete:
            self.ctx = gssapi.SecurityContext(usage="accept")
        try:
            out = self.ctx.step(token)
        except gssapi.exceptions.GSSError:
            self.ctx = None
            return self._send(401, ["Negotiate", "Kerberos"])
        auth = ["%s %s" % (scheme, base64.b64encode(out).decode())] if out else []
        if not self.ctx.complete:
            return self._send(401, auth)
        self.peer = display_name(self.ctx.initiator_name)
        self._send(200, auth, json.dumps({"peer": self.peer, "len": len(body)}).encode())


CLIENT_SCRIPT = r'''
import json, os, sys
from lab import Lab
from gssclient import GssClient
assert "NTLM_USER_FILE" not in os.environ and "KRB5_KTNAME" not in os.environ
lab = Lab.attach(sys.argv[1])
for user, mech, dom in (("alice", "spnego", None), ("bob", "ntlm", None),
                        ("carol", "spnego-ntlm", lab.local_domain)):
    with GssClient(sys.argv[2], lab, user, mech=mech, domain=dom) as c:
        st, _, body = c.handshake()
        print(mech, st, json.loads(body)["peer"] if st == 200 else "-")
'''


def test_gss_http(lab):
    acceptor_env(lab)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), MockAcceptor)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    url = "http://localhost:%d/wsman" % srv.server_address[1]
    try:
        with GssClient(url, lab, "dave") as c:
            st, _, body = c.handshake()
            t.ok(st == 200 and c.legs == 1 and c.mutual_verified and c.complete,
                 "HTTP Negotiate/SPNEGO: one leg, server token verified (mutual)",
                 "status %s legs %d mutual %s" % (st, c.legs, c.mutual_verified))
            st, _, body = c.post(b"<x/>")
            t.ok(st == 200 and json.loads(body)["peer"] == "dave@WINRMD.TEST"
                 and c.connects == 1,
                 "post() rides the authenticated keep-alive connection", body)
        with GssClient(url, lab, "bob", scheme="Kerberos", mech="krb5") as c:
            st, _, body = c.handshake(b"<x/>")
            t.ok(st == 200 and c.mutual_verified and MockAcceptor.seen[-1][0] == "Kerberos"
                 and json.loads(body)["peer"] == "bob@WINRMD.TEST",
                 "HTTP Kerberos scheme with raw krb5: AP-REP verified", body)
        with GssClient(url, lab, "alice", mech="ntlm") as c:
            st, _, body = c.handshake()
            t.ok(st == 200 and c.legs == 2 and not c.mutual_verified and c.connects == 1
                 and MockAcceptor.seen[-1][1].startswith(b"NTLMSSP\0")
                 and json.loads(body)["peer"] == "WINRMD\\alice",
                 "HTTP Negotiate with raw NTLMSSP: two legs on one connection",
                 "status %s legs %d body %r" % (st, c.legs, body))
        with GssClient(url, lab, "carol", mech="spnego-ntlm") as c:
            st, _, body = c.handshake()
            t.ok(st == 200 and json.loads(body)["peer"] == "WINRMD\\carol",
                 "HTTP Negotiate with SPNEGO(NTLM)", body)
        with GssClient(url, lab, "alice", mech="ntlm", password="bad") as c:
            st, _, _ = c.handshake()
            t.eq(st, 401, "HTTP NTLM with a wrong password ends with 401")
        # Real client libraries in-process after apply_client_env():
        # requests_ntlm (ntlm-auth needs MD4) and requests_kerberos
        # (pykerberos, mutual authentication required, user from KRB5CCNAME).
        import requests
        from requests_kerberos import REQUIRED, HTTPKerberosAuth
        from requests_ntlm import HttpNtlmAuth
        saved = lab.apply_client_env("bob")
        try:
            r = requests.post(url, data=b"", auth=HttpNtlmAuth("WINRMD\\erin", "erinpw"))
            t.ok(r.status_code == 200 and r.json()["peer"] == "WINRMD\\erin",
                 "requests_ntlm in-process (apply_client_env) authenticates",
                 "%s %r" % (r.status_code, r.content))
            r = requests.post(url, data=b"", auth=HTTPKerberosAuth(mutual_authentication=REQUIRED))
            t.ok(r.status_code == 200 and r.json()["peer"] == "bob@WINRMD.TEST",
                 "requests_kerberos in-process uses the user's ccache, mutual auth ok",
                 "%s %r" % (r.status_code, r.content))
        finally:
            lab.restore_env(saved)
        # The same client in a separate process with a pure client
        # environment (no NTLM_USER_FILE, no keytab): gss-ntlmssp as an
        # initiator needs only the password.
        r = lab.run_client(["-c", CLIENT_SCRIPT, lab.dir, url])
        t.eq(r.stdout.split(), ["spnego", "200", "alice@WINRMD.TEST",
                                "ntlm", "200", "WINRMD\\bob",
                                "spnego-ntlm", "200", lab.local_domain + "\\carol"],
             "GssClient in a client-only subprocess (Lab.attach): SPNEGO, NTLM, SPNEGO(NTLM)")
        if r.stderr:
            t.diag(r.stderr)
    finally:
        srv.shutdown()
        srv.server_close()


def test_tls_end_point(lab):
    """tls_server_end_point() picks the certificate's signature hash."""
    out = []
    for md in ("sha384", "sha1"):
        der = lab.path("cert-%s.der" % md)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", lab.path("k.pem"),
                        "-subj", "/CN=localhost", "-days", "1", "-" + md, "-outform", "DER",
                        "-out", der], capture_output=True, check=True)
        with open(der, "rb") as f:
            data = f.read()
        want = hashlib.new("sha384" if md == "sha384" else "sha256", data).digest()
        out.append(gssclient.tls_server_end_point(data) == b"tls-server-end-point:" + want)
    t.ok(all(out), "tls_server_end_point(): the signature hash, SHA-256 for SHA-1", out)


def test_wrappers(lab):
    r = lab.run_wrapped(["getent", "passwd", "alice"])
    t.eq(r.stdout.split(":")[:4], ["alice", "x", "20001", "20001"],
         "getent passwd alice under daemon_env()")
    r = lab.run_wrapped(["id", "alice"])
    t.contains(r.stdout, "groups=20001(alice),30001(winrmusers)", "id alice shows winrmusers")
    r = lab.run_wrapped(["id", "carol"])
    t.contains(r.stdout, "(sudo)", "id carol shows sudo")
    r = lab.run_wrapped(["id", "dave"])
    t.contains(r.stdout, "(wheel)", "id dave shows wheel")
    r = lab.run_wrapped(["getent", "group", "winrmusers"])
    t.eq(r.stdout.strip().split(":")[3].split(","), ["alice", "erin"],
         "winrmusers members: alice, erin")
    r = lab.run_wrapped(["getent", "passwd", "winrmd", "nobody", "root"])
    t.eq([line.split(":")[2] for line in r.stdout.splitlines()], ["20100", "65534", "0"],
         "winrmd (20100), nobody and root exist")
    r = lab.run_wrapped(["getent", "hosts", "winrm.test.lab"])
    t.contains(r.stdout, "127.0.0.1", "winrm.test.lab resolves to 127.0.0.1")
    t.eq(lab.users["alice"], ("alicepw", 20001, 20001, ["winrmusers"]),
         "lab.users entry for alice")

    res = lab.pam_check("alice", "alicepw")
    t.ok(res.get("auth") == 0 and res.get("acct") == 0,
         "PAM: alice with her password passes auth and account", res)
    res = lab.pam_check("alice", "wrong")
    t.eq(res.get("auth"), 7, "PAM: alice with a wrong password gets PAM_AUTH_ERR")
    res = lab.pam_check("erin", "erinpw")
    t.ok(res.get("auth") == 0 and res.get("acct") == 6,
         "PAM: locked erin passes auth, account management says PAM_PERM_DENIED", res)
    res = lab.pam_check("bob", "bobpw", service="sshd")
    t.ok(res.get("start") != 0, "PAM: a service without a file is refused at pam_start", res)


def test_envs(lab):
    # the plain environment first (the ASan build of the suite sets
    # WINRMD_SANITIZERS for the whole run)
    outer = os.environ.pop("WINRMD_SANITIZERS", None)
    try:
        env = lab.daemon_env()
    finally:
        if outer is not None:
            os.environ["WINRMD_SANITIZERS"] = outer
    need = ["KRB5_CONFIG", "KRB5_KTNAME", "KRB5RCACHEDIR", "NTLM_USER_FILE", "LD_PRELOAD",
            "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP", "NSS_WRAPPER_HOSTS", "PAM_WRAPPER",
            "PAM_WRAPPER_SERVICE_DIR"]
    t.eq([k for k in need if k not in env], [], "daemon_env() has every variable")
    t.ok("GSS_MECH_CONFIG" not in env or not labmod.ntlm_mech_enabled(),
         "GSS_MECH_CONFIG only when the system lacks the NTLM mech")
    old = os.environ.get("WINRMD_SANITIZERS"), os.environ.get("ASAN_OPTIONS")
    os.environ["WINRMD_SANITIZERS"] = "1"
    os.environ["ASAN_OPTIONS"] = "abort_on_error=1"
    try:
        san = lab.daemon_env()
    finally:
        for k, v in zip(("WINRMD_SANITIZERS", "ASAN_OPTIONS"), old):
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    supp = san.get("LSAN_OPTIONS", "").split("suppressions=")[-1]
    t.ok(san.get("ASAN_OPTIONS") == "abort_on_error=1:verify_asan_link_order=0:fast_unwind_on_malloc=0"
         and san.get("UID_WRAPPER_DISABLE_DEEPBIND") == "1"
         and san.get("NSS_WRAPPER_DISABLE_DEEPBIND") == "1"
         and os.path.exists(supp) and "leak:libpam.so" in open(supp).read()
         and "ASAN_OPTIONS" not in env,
         "WINRMD_SANITIZERS=1 adds the ASan-compat settings", san)
    cfg = lab.daemon_config()
    t.ok(cfg["Service"]["Auth"]["Keytab"] == lab.keytab and cfg["Daemon"]["User"] == "winrmd"
         and cfg["Authorization"]["RemoteUsersGroup"] == "winrmusers"
         and cfg["Service"]["Auth"]["NtlmUserFile"] == lab.ntlm_file,
         "daemon_config() fragment")

    # Client side MD4: OpenSSL 3 needs the legacy provider.
    code = "import hashlib; print(hashlib.new('md4', b'').hexdigest())"
    r = lab.run_client(["-c", code], user="alice")
    t.eq(r.stdout.strip(), "31d6cfe0d16ae931b73c59d7e0c089c0",
         "run_client(): MD4 works under client_env()")
    r = subprocess.run([labmod.PYTHON, "-c", code], capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k != "OPENSSL_CONF"})
    t.ok(r.returncode != 0 and "md4" in r.stderr, "without OPENSSL_CONF MD4 is missing "
         "(so the lab's openssl.cnf matters)", r.stdout + r.stderr)
    r = lab.run_client(["-c", "import os; print(os.environ['KRB5CCNAME'])"], user="dave")
    t.eq(r.stdout.strip(), "FILE:" + lab.ccache("dave"), "client_env() uses the user's ccache")
    # In-process: OpenSSL is already initialised here (ssl, hashlib), so
    # OPENSSL_CONF alone would be too late; apply_client_env() also loads
    # the provider explicitly.
    saved = lab.apply_client_env("alice")
    try:
        import hashlib
        md4 = hashlib.new("md4", b"").hexdigest()
        from ntlm_auth.compute_hash import _ntowfv1
        nt = _ntowfv1("alicepw").hex()
    except ValueError as e:
        md4 = nt = str(e)
    finally:
        lab.restore_env(saved)
    t.ok(md4 == "31d6cfe0d16ae931b73c59d7e0c089c0" and len(nt) == 32,
         "apply_client_env(): MD4 (ntlm-auth NT hash) works in-process", md4)


def test_cleanup():
    before = set(glob.glob("/tmp/pam.?"))
    lab = Lab()
    kdc = lab.kdc_pid
    d = lab.dir
    # A wrapped process that is killed leaves its /tmp/pam.? directory.
    p = subprocess.Popen(["sleep", "30"], env=lab.daemon_full_env())
    deadline = time.time() + 5
    while time.time() < deadline and not (set(glob.glob("/tmp/pam.?")) - before):
        time.sleep(0.01)
    left = set(glob.glob("/tmp/pam.?")) - before
    p.send_signal(signal.SIGKILL)
    p.wait()
    t.ok(left, "a killed wrapped process leaves a /tmp/pam.? directory", sorted(left))
    lab.close()
    t.ok(not os.path.exists("/proc/%d" % kdc), "close() stopped the KDC (pid %d)" % kdc)
    t.ok(not os.path.exists(d), "close() removed the lab directory")
    t.eq([p for p in sorted(set(glob.glob("/tmp/pam.?")) - before)
          if labmod._pam_dir_owner_gone(p)], [],
         "close() removed the stale /tmp/pam.? directories left during the lab's life")


def main():
    t0 = time.time()
    pam_before = set(glob.glob("/tmp/pam.?"))
    with Lab() as lab:
        t.run(test_kdc, lab)
        t.run(test_kdc_collision, lab)
        t.run(test_gss_direct, lab)
        t.run(test_gss_http, lab)
        t.run(test_tls_end_point, lab)
        t.run(test_wrappers, lab)
        t.run(test_envs, lab)
        kdc = lab.kdc_pid
    t.ok(not os.path.exists("/proc/%d" % kdc), "the lab's KDC is gone after the with block")
    t.run(test_cleanup)
    # Other tests may run at the same time (make -j): only directories
    # whose owner is gone and that this test created must be gone.
    left = [p for p in sorted(set(glob.glob("/tmp/pam.?")) - pam_before)
            if labmod._pam_dir_owner_gone(p)]
    t.eq(left, [], "no new stale /tmp/pam.? directories after the whole test")
    t.diag("t0900 ran in %.2f s" % (time.time() - t0))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
