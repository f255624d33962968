#!/usr/bin/python3
"""t6200 - channel binding (RFC 5929 tls-server-end-point) over HTTPS:
for CbtHardeningLevel None, Relaxed and Strict, Kerberos (raw krb5 under
Negotiate and Kerberos, SPNEGO) and NTLM (raw and SPNEGO-wrapped, whose
binding travels in MsvAvChannelBindings) with no, correct and wrong
bindings; pywinrm at Strict; certificates signed with SHA-1 (binding
hashed with SHA-256), SHA-512 and ECDSA-SHA384; plain HTTP at Strict
(nothing to bind to); a level change on SIGHUP; and the binding the
server expects staying that of the certificate it actually serves:
certificate files renewed but not yet reloaded, a refused reload, a
renewal that keeps the file's modification time, a reload that reorders
the listeners, two HTTPS listeners on one port number."""
import hashlib
import json
import os
import shutil
import socket
import ssl
import sys
import tempfile

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import wsmancrypt  # noqa: E402
from gssclient import GssClient, initiator_context, tls_server_end_point  # noqa: E402
from lab import Lab  # noqa: E402
from pki import PKI  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import (LISTENER_RELOAD_DONE, LISTENER_RELOADED, der_of, free_port,  # noqa: E402
                    free_ports, identify_envelope, lab_daemon)

t = Tap()
ID = identify_envelope().encode()
KEEP = ["LD_PRELOAD", "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP", "NSS_WRAPPER_HOSTS"]
PREFIX = b"tls-server-end-point:"
# (mech, scheme, label)
KERBEROS = [("krb5", "Negotiate", "Kerberos (raw krb5, Negotiate)"),
            ("spnego", "Negotiate", "Kerberos (SPNEGO, Negotiate)"),
            ("krb5", "Kerberos", "Kerberos (Kerberos scheme)")]
NTLM = [("ntlm", "Negotiate", "NTLM (raw, Negotiate)"),
        ("spnego-ntlm", "Negotiate", "NTLM (SPNEGO, Negotiate)")]
EXPECT = {  # level -> binding kind -> status
    "None": {"none": 200, "correct": 200, "wrong": 200},
    "Relaxed": {"none": 200, "correct": 200, "wrong": 401},
    "Strict": {"none": 401, "correct": 200, "wrong": 401},
}


def served_der(port, host="127.0.0.1"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            return s.getpeercert(binary_form=True)


def attempt(lab, url, mech="krb5", scheme="Negotiate", binding="correct", other_der=None,
            user="alice"):
    """One handshake on a fresh connection.  binding: "none", "correct"
    (from the certificate this very connection received), "wrong" (the
    binding of other_der, as a client facing another certificate would
    compute), or bytes.  Returns (status, body, the application data sent)."""
    c = GssClient(url, lab, user, scheme=scheme, mech=mech, domain="WINRMD")
    try:
        if binding == "none":
            data = None
        elif binding == "correct":
            data = tls_server_end_point(c.peer_cert_der())
        elif binding == "wrong":
            data = tls_server_end_point(other_der)
        else:
            data = binding
        if data is not None:
            # a context with bindings for the connection already opened
            c.ctx = initiator_context(lab, user, mech=mech, domain="WINRMD",
                                      channel_bindings_data=data)
        st, _, body = c.handshake(ID)
        return st, body, data
    finally:
        c.close()


CURRENT = {"daemon": None}     # the daemon under test, for diagnostics


def check(lab, url, mech, scheme, binding, want, what, other_der=None):
    d = CURRENT["daemon"]
    off = len(d.log()) if d else 0
    st, body, _ = attempt(lab, url, mech, scheme, binding, other_der)
    audit = "\n".join(x for x in (d.log()[off:] if d else "").splitlines()
                      if "audit: authentication" in x)
    diag = "status %s %r\n%s" % (st, body[:300], audit)
    if want == 200:
        return t.ok(st == 200 and b"IdentifyResponse" in body, "%s: 200" % what, diag)
    return t.ok(st == 401 and b"IdentifyResponse" not in body, "%s: 401" % what, diag)


def https_daemon(lab, pki, level, extra_listeners=(), cert=None, key=None):
    sport, hport = free_ports(2)
    cfg = {"Listeners": [{"Address": "127.0.0.1", "Port": sport, "Transport": "HTTPS",
                          "CertificateFile": cert or pki.server,
                          "KeyFile": key or pki.server_key},
                         {"Address": "127.0.0.1", "Port": hport, "Transport": "HTTP"}]
           + list(extra_listeners),
           "Authorization": {"TrustedDomains": ["WINRMD"]},
           "Winrs": {"KeepEnvironment": KEEP}}
    if level is not None:
        cfg["Service"] = {"Auth": {"CbtHardeningLevel": level}}
    d = lab_daemon(lab, cfg, port=hport)
    CURRENT["daemon"] = d
    return d, sport


def finish(d, what):
    d.check_alive(t, what)
    t.eq(d.stop(), 0, "%s: clean stop" % what)
    t.not_contains(d.log(), "Sanitizer", "%s: no sanitizer report" % what)


# --- the matrix ------------------------------------------------------------

def test_level(lab, pki, level):
    d, sport = https_daemon(lab, pki, None if level == "Relaxed" else level)
    url = "https://localhost:%d/wsman" % sport
    other = der_of(pki.server_ec_der)
    try:
        d.start()
        lvl = level + (" (default)" if level == "Relaxed" else "")
        for mech, scheme, label in KERBEROS + NTLM:
            for binding in ("none", "correct", "wrong"):
                check(lab, url, mech, scheme, binding, EXPECT[level][binding],
                      "%s, %s, %s bindings" % (lvl, label, binding), other)
        if level == "Strict":
            t.contains(d.log(), 'claimed="alice@WINRMD.TEST" mapped=alice result=failure reason="no channel '
                       'binding, and CbtHardeningLevel is Strict"',
                       "Strict: a Kerberos login without bindings is audited with the reason")
            # (the claimed name is logged escaped: the backslash doubled)
            t.contains(d.log(), 'claimed="WINRMD\\\\alice" mapped=alice result=failure reason="no channel '
                       'binding, and CbtHardeningLevel is Strict"',
                       "Strict: an NTLM login without bindings is audited with the reason")
        if level == "Relaxed":
            der = served_der(sport)
            for data, what in (
                (PREFIX + b"\0" * 32, "an all-zero hash"),
                (PREFIX + hashlib.sha1(der).digest(), "a SHA-1 hash of a SHA-256 certificate"),
                (b"tls-unique:" + hashlib.sha256(der).digest(), "the right hash, another prefix"),
                (hashlib.sha256(der).digest(), "the right hash without the prefix"),
            ):
                for mech, scheme, label in (KERBEROS[0], NTLM[0]):
                    check(lab, url, mech, scheme, data, 401,
                          "Relaxed, %s, wrong bindings: %s" % (label, what))
            test_level_change(lab, d, url)
        finish(d, "CbtHardeningLevel=%s daemon" % level)
    finally:
        d.cleanup()


def test_level_change(lab, d, url):
    d.tree.setdefault("Service", {}).setdefault("Auth", {})["CbtHardeningLevel"] = "Strict"
    d.write_config()
    off = len(d.log())
    d.reload()
    t.ok(d.wait_log(LISTENER_RELOADED, start=off), "SIGHUP to Strict: reloaded",
         d.log()[off:])
    check(lab, url, "krb5", "Negotiate", "none", 401,
          "after SIGHUP to Strict, Kerberos without bindings")
    check(lab, url, "ntlm", "Negotiate", "none", 401,
          "after SIGHUP to Strict, NTLM without bindings")
    check(lab, url, "krb5", "Negotiate", "correct", 200,
          "after SIGHUP to Strict, Kerberos with correct bindings")


# --- certificate hash variants, HTTP, pywinrm (one Strict daemon) ------------

PYWINRM = r'''
import json, sys, winrm
try:
    import kerberos
    krb_cbt = hasattr(kerberos, "channelBindings")
except ImportError:
    krb_cbt = False
ca, jobs = sys.argv[1], json.loads(sys.argv[2])
out = {"krb_cbt": krb_cbt}
for name, url, transport, user, password, kw in jobs:
    try:
        s = winrm.Session(url, auth=(user, password), transport=transport,
                          server_cert_validation="validate", ca_trust_path=ca, **kw)
        r = s.run_cmd("id", ["-un"])
        out[name] = [r.status_code, r.std_out.decode()]
    except Exception as e:
        out[name] = [type(e).__name__, str(e)[:300]]
print(json.dumps(out))
'''


def test_strict_extras(lab, pki):
    variants = [("server_sha1", "sha256", "RSA/SHA-1 (binding hashed with SHA-256)"),
                ("server_sha512", "sha512", "RSA/SHA-512"),
                ("server_ec", "sha384", "ECDSA/SHA-384")]
    vports = free_ports(len(variants))
    extra = [{"Address": "127.0.0.1", "Port": p, "Transport": "HTTPS",
              "CertificateFile": getattr(pki, name), "KeyFile": getattr(pki, name + "_key")}
             for (name, _, _), p in zip(variants, vports)]
    d, sport = https_daemon(lab, pki, "Strict", extra)
    try:
        d.start()
        for (name, algo, what), port in zip(variants, vports):
            url = "https://localhost:%d/wsman" % port
            der = der_of(getattr(pki, name + "_der"))
            t.eq(served_der(port), der, "%s listener serves %s" % (what, name))
            data = tls_server_end_point(der)
            t.eq(data, PREFIX + hashlib.new(algo, der).digest(),
                 "%s: the test computes the binding with %s" % (what, algo))
            for mech, scheme, label in (KERBEROS[0], NTLM[0]):
                check(lab, url, mech, scheme, "correct", 200,
                      "Strict, %s certificate, %s, correct bindings" % (what, label))
            wrong_algo = "sha1" if algo == "sha256" else "sha256"
            check(lab, url, "krb5", "Negotiate", PREFIX + hashlib.new(wrong_algo, der).digest(),
                  401, "Strict, %s certificate, Kerberos, binding hashed with %s instead"
                  % (what, wrong_algo))

        # plain HTTP: no TLS, nothing to bind; message encryption as usual
        http_ = "http://localhost:%d/wsman" % d.port
        for mech, scheme, label in KERBEROS + NTLM:
            for binding in (None, PREFIX + b"\1" * 32):
                c = GssClient(http_, lab, "alice", scheme=scheme, mech=mech, domain="WINRMD",
                              channel_bindings=binding)
                try:
                    st, _, _ = c.handshake(b"")
                    st2, _, body = (wsmancrypt.EncryptedSession(c).post(ID) if st == 200
                                    else (st, None, b""))
                finally:
                    c.close()
                t.ok(st == 200 and st2 == 200 and b"IdentifyResponse" in body,
                     "Strict, plain HTTP, %s, %s: handshake and encrypted Identify 200"
                     % (label, "no bindings" if binding is None else "arbitrary bindings"),
                     (st, st2))

        # pywinrm: requests_ntlm sends the binding; python3-kerberos
        # (pykerberos) only when it has channelBindings (Debian 12's 1.1.14
        # has not: requests_kerberos then sends none)
        https = "https://localhost:%d/wsman" % sport
        jobs = [("ntlm", https, "ntlm", "WINRMD\\alice", "alicepw", {}),
                ("ntlm-nocbt", https, "ntlm", "WINRMD\\alice", "alicepw", {"send_cbt": False}),
                ("kerberos", https, "kerberos", None, None, {}),
                ("ntlm-http", http_, "ntlm", "WINRMD\\alice", "alicepw", {})]
        r = lab.run_client(["-c", PYWINRM, pki.ca, json.dumps(jobs)], user="alice")
        try:
            res = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            res = {}
        t.ok(res, "pywinrm client script ran", r.stdout + r.stderr[-2000:])
        t.eq(res.get("ntlm"), [0, "alice\n"],
             "Strict: pywinrm ntlm over HTTPS (requests_ntlm sends CBT) runs id -un as alice")
        t.eq(res.get("ntlm-nocbt", [None])[0], "InvalidCredentialsError",
             "Strict: pywinrm ntlm with send_cbt=False is refused")
        if res.get("krb_cbt"):
            t.eq(res.get("kerberos"), [0, "alice\n"],
                 "Strict: pywinrm kerberos over HTTPS (pykerberos with channelBindings) works")
        else:
            t.eq(res.get("kerberos", [None])[0], "InvalidCredentialsError",
                 "Strict: pywinrm kerberos over HTTPS is refused: this pykerberos has no "
                 "channelBindings, so requests_kerberos sends no CBT")
        t.eq(res.get("ntlm-http"), [0, "alice\n"],
             "Strict: pywinrm ntlm over plain HTTP (encrypted, no TLS to bind) works")
        finish(d, "Strict daemon with certificate variants")
    finally:
        d.cleanup()


# --- the binding follows the certificate actually served ---------------------

def install(pairs, mtime_ns=None):
    for src, dst in pairs:
        tmp = dst + ".new"
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o600 if dst.endswith(".key") else 0o644)
        if mtime_ns is not None and not dst.endswith(".key"):
            os.utime(tmp, ns=(mtime_ns, mtime_ns))
        os.rename(tmp, dst)


def reload(d, pattern=None):
    pattern = pattern or LISTENER_RELOADED
    off = len(d.log())
    d.reload()
    ok = d.wait_log(pattern, start=off)
    return ok, d.log()[off:]


def test_served_certificate(lab, pki):
    certdir = tempfile.mkdtemp(prefix="winrmd-t6200-")
    cert, key = os.path.join(certdir, "cert.pem"), os.path.join(certdir, "cert.key")
    install([(pki.server, cert), (pki.server_key, key)])
    d, sport = https_daemon(lab, pki, None, cert=cert, key=key)
    url = "https://localhost:%d/wsman" % sport
    rsa, ec = der_of(pki.server_der), der_of(pki.server_ec_der)
    try:
        d.start()
        check(lab, url, "krb5", "Negotiate", "correct", 200, "renewal: Kerberos, correct bindings")

        # 1. files renewed, no SIGHUP yet: the old certificate is served
        install([(pki.server_ec, cert), (pki.server_ec_key, key)])
        t.eq(served_der(sport), rsa, "renewed files before SIGHUP: old certificate still served")
        for mech, scheme, label in (KERBEROS[0], NTLM[0]):
            check(lab, url, mech, scheme, "correct", 200,
                  "renewed files before SIGHUP: %s with the binding of the served certificate"
                  % label)

        # 2. SIGHUP: the new certificate, and its binding
        ok, log = reload(d)
        t.ok(ok, "SIGHUP: reloaded", log)
        t.eq(served_der(sport), ec, "after SIGHUP the renewed certificate is served")
        for mech, scheme, label in (KERBEROS[0], NTLM[0]):
            check(lab, url, mech, scheme, "correct", 200,
                  "after SIGHUP: %s, binding of the renewed certificate" % label)
        check(lab, url, "krb5", "Negotiate", "wrong", 401,
              "after SIGHUP: Kerberos with the binding of the old certificate", other_der=rsa)

        # 3. a refused reload (the new certificate file with a key that does
        # not match it): the previous certificate stays served
        install([(pki.server, cert)])
        ok, log = reload(d, LISTENER_RELOAD_DONE)
        t.ok(ok and "reload refused" in log, "SIGHUP with a mismatched pair is refused", log)
        t.eq(served_der(sport), ec, "refused reload: the previous certificate stays served")
        for mech, scheme, label in (KERBEROS[0], NTLM[0]):
            check(lab, url, mech, scheme, "correct", 200,
                  "refused reload: %s with the binding of the served certificate" % label)

        # 4. a good pair again
        install([(pki.server, cert), (pki.server_key, key)])
        ok, log = reload(d)
        t.ok(ok, "SIGHUP with a good pair: reloaded", log)
        t.eq(served_der(sport), rsa, "the RSA certificate is served again")
        check(lab, url, "krb5", "Negotiate", "correct", 200,
              "good pair again: Kerberos, correct bindings")

        # 5. a renewal whose certificate file keeps the old modification
        # time (cp -p, rsync -t, tar, coarse timestamps)
        mtime = os.stat(cert).st_mtime_ns
        install([(pki.server_ec, cert), (pki.server_ec_key, key)], mtime_ns=mtime)
        ok, log = reload(d)
        t.ok(ok and os.stat(cert).st_mtime_ns == mtime,
             "renewal keeping the file's mtime: reloaded", log)
        t.eq(served_der(sport), ec, "the renewed certificate is served")
        check(lab, url, "krb5", "Negotiate", "correct", 200,
              "renewal keeping the mtime: Kerberos with the binding of the served certificate")

        # 6. a reload that inserts a listener before the HTTPS one: listener
        # changes need a restart, the running listeners stay as they are
        hport2 = free_ports(1)[0]
        d.tree["Listeners"].insert(0, {"Address": "127.0.0.1", "Port": hport2,
                                       "Transport": "HTTP"})
        d.write_config()
        ok, log = reload(d)
        t.ok(ok and "take effect only after a restart" in log,
             "SIGHUP with a listener inserted first: reloaded, restart needed for listeners", log)
        check(lab, url, "krb5", "Negotiate", "none", 200,
              "running HTTPS listener after that reload: Kerberos without bindings (Relaxed)")
        check(lab, url, "krb5", "Negotiate", "correct", 200,
              "running HTTPS listener after that reload: Kerberos with correct bindings")
        finish(d, "renewal daemon")
    finally:
        d.cleanup()
        shutil.rmtree(certdir, ignore_errors=True)


def test_same_port(lab, pki):
    port, hport = free_ports(2, also=("127.0.0.2",))
    d = lab_daemon(lab, {"Listeners": [
        {"Address": "127.0.0.1", "Port": port, "Transport": "HTTPS",
         "CertificateFile": pki.server, "KeyFile": pki.server_key},
        {"Address": "127.0.0.2", "Port": port, "Transport": "HTTPS",
         "CertificateFile": pki.server_ec, "KeyFile": pki.server_ec_key},
        {"Address": "127.0.0.1", "Port": hport, "Transport": "HTTP"}],
        "Authorization": {"TrustedDomains": ["WINRMD"]}}, port=hport)
    CURRENT["daemon"] = d
    try:
        d.start()
        for addr in ("127.0.0.1", "127.0.0.2"):
            check(lab, "https://%s:%d/wsman" % (addr, port), "krb5", "Negotiate", "correct", 200,
                  "two HTTPS listeners on port %d: %s, Kerberos with the binding of the "
                  "certificate it serves" % (port, addr))
        finish(d, "same-port daemon")
    finally:
        d.cleanup()


def main():
    pki = PKI()
    try:
        with Lab() as lab:
            for level in ("None", "Relaxed", "Strict"):
                t.run(test_level, lab, pki, level)
            for fn in (test_strict_extras, test_served_certificate, test_same_port):
                t.run(fn, lab, pki)
    finally:
        pki.close()


main()
sys.exit(t.done())
