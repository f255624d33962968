#!/usr/bin/python3
"""t6000 - HTTPS listeners (libmicrohttpd + GnuTLS): anonymous Identify
with curl and python ssl and the configured certificate served; TLS 1.2
and 1.3 only (1.1/1.0 refused although the client is willing, which a
legacy Service.TlsPriorities proves), TlsPriorities applied, checked by
winrmd -t and on reload; pywinrm basic/ntlm/kerberos running a command
with plaintext bodies inside TLS (AllowUnencrypted=false); curl
--negotiate and curl -u over HTTPS; certificate renewal on SIGHUP (new
connections get the new certificate, keep-alive connections carry on, a
bad key pair is refused and the good certificate stays); certificate and
key errors from winrmd -t and at start; HTTP and HTTPS listeners side by
side, and two HTTPS listeners on one port number with their own
certificates."""
import base64
import hashlib
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import re
import tempfile

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import soap  # noqa: E402
from gssclient import GssClient  # noqa: E402
from lab import Lab  # noqa: E402
from pki import PKI  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import (IDENTIFY, LISTENER_RELOAD_DONE, LISTENER_RELOADED, WINRMD,  # noqa: E402
                    der_of, free_port, free_ports, identify_envelope, lab_daemon,
                    raw_exchange, render_config)

t = Tap()
ID = identify_envelope().encode()
SOAP_CT = "application/soap+xml;charset=UTF-8"
KEEP = ["LD_PRELOAD", "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP", "NSS_WRAPPER_HOSTS"]
DEFAULT_PRIORITIES = "SECURE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-GROUP-ALL:+GROUP-X25519:+GROUP-EC-ALL:+GROUP-DH-ALL:%SERVER_PRECEDENCE"
TLS13_ONLY = "SECURE:-VERS-ALL:+VERS-TLS1.3"
LEGACY = "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0"


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()}


def client_context(cafile=None, version=None):
    """Verifying client context (cafile None: no verification)."""
    if cafile:
        ctx = ssl.create_default_context(cafile=cafile)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if version is not None:
        ctx.minimum_version = version
        ctx.maximum_version = version
    return ctx


def tls_peer(port, host="127.0.0.1", server_hostname="localhost", cafile=None, version=None):
    """(peer certificate DER, TLS version) of one fresh handshake; raises
    ssl.SSLError / OSError when it fails."""
    ctx = client_context(cafile, version)
    with socket.create_connection((host, port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_hostname) as s:
            return s.getpeercert(binary_form=True), s.version()


def tls_try(port, version, cafile=None):
    """The negotiated version, or the exception's class name."""
    try:
        return tls_peer(port, cafile=cafile, version=version)[1]
    except (ssl.SSLError, OSError) as e:
        return type(e).__name__


def https_conn(port, host="localhost", cafile=None, version=None):
    return http.client.HTTPSConnection(host, port, timeout=30,
                                       context=client_context(cafile, version))


def request(conn, body=ID, headers=None):
    h = {"Content-Type": SOAP_CT}
    h.update(headers or {})
    conn.request("POST", "/wsman", body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    return r.status, hdrs, data, r.msg.get_all("WWW-Authenticate") or []


def s_client(port, *args):
    """openssl s_client; returns (exit code, combined output)."""
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-brief"]
                       + list(args), input=b"", capture_output=True, timeout=30)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


def curl(args, env=None):
    r = subprocess.run(["curl", "-sS", "-i", "-H", "Content-Type: " + SOAP_CT] + args,
                       capture_output=True, text=True, env=env, timeout=30)
    return r.returncode, r.stdout, r.stderr


def install(pairs):
    """Atomically writes files: [(source, destination), ...]."""
    for src, dst in pairs:
        tmp = dst + ".new"
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o600 if dst.endswith(".key") else 0o644)
        os.rename(tmp, dst)


def no_sanitizer(d, what):
    t.not_contains(d.log(), "Sanitizer", "%s: no sanitizer report" % what)


# --- 1, 3, 4, 7: one daemon with an HTTPS and an HTTP listener -------------

def test_identify(lab, pki, d, sport):
    der, ver = tls_peer(sport, cafile=pki.ca)
    t.eq(der, der_of(pki.server_der), "HTTPS listener serves the configured certificate "
         "(verified against the test CA for the name localhost)")
    # (pki.server_sha1 is the SHA-1-signed certificate: the thumbprint file
    # of "server" is server.sha1)
    t.eq(hashlib.sha1(der).hexdigest().upper(), open(pki.path("server.sha1")).read().strip(),
         "same SHA-1 thumbprint as pki.server")
    der2, _ = tls_peer(sport, server_hostname="127.0.0.1", cafile=pki.ca)
    t.eq(der2, der, "also verifies for the address 127.0.0.1 (IP SAN)")
    url = "https://localhost:%d/wsman" % sport
    rc, out, err = curl(["--cacert", pki.ca, "-H", "WSMANIDENTIFY: unauthenticated",
                         "--data-binary", IDENTIFY, url])
    t.ok(rc == 0 and out.startswith("HTTP/1.1 200"), "curl --cacert: anonymous Identify over "
         "HTTPS: 200", out[:400] + err)
    t.contains(out, "<wsmid:ProductVendor>winrmd</wsmid:ProductVendor>", "the Identify answer")
    rc, out, err = curl(["--capath", "/nonexistent", "--cacert", pki.rogue_ca,
                         "-H", "WSMANIDENTIFY: unauthenticated", "--data-binary", IDENTIFY, url])
    t.ok(rc == 60 and "HTTP/1.1" not in out, "curl trusting another CA refuses the "
         "certificate (exit 60)", "%d %s %s" % (rc, out[:200], err))
    c = https_conn(sport, cafile=pki.ca)
    st, h, body, chall = request(c, IDENTIFY.encode(), {"WSMANIDENTIFY": "unauthenticated"})
    t.ok(st == 200 and b"IdentifyResponse" in body, "http.client over verified TLS: Identify 200")
    st, h, body, chall = request(c, ID)
    t.eq(chall, ["Negotiate", "Kerberos", 'Basic realm="WSMAN"'],
         "authenticated request without credentials: 401 offers Negotiate, Kerberos, Basic")
    t.eq(st, 401, "and the status is 401")
    c.close()

    # plaintext HTTP on the HTTPS port, TLS on the HTTP port
    out = raw_exchange(sport, b"POST /wsman HTTP/1.1\r\nHost: x\r\nWSMANIDENTIFY: unauthenticated"
                       b"\r\nContent-Type: " + SOAP_CT.encode() + b"\r\nContent-Length: %d\r\n\r\n"
                       % len(IDENTIFY) + IDENTIFY.encode(), timeout=10)
    t.ok(b"IdentifyResponse" not in out and not out.startswith(b"HTTP/1.1 200"),
         "plain HTTP to the HTTPS port is not answered in the clear", out[:200])
    r = tls_try(d.port, ssl.TLSVersion.TLSv1_2)
    t.ok(r not in ("TLSv1.2", "TLSv1.3"), "a TLS handshake on the HTTP port fails", r)
    d.check_alive(t, "plaintext on the TLS port and TLS on the plain port")


def test_tls_versions(lab, pki, d, sport):
    for ver, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
        t.eq(tls_try(sport, ver, cafile=pki.ca), name, "%s handshake (verified) succeeds" % name)
        c = https_conn(sport, cafile=pki.ca, version=ver)
        st, _, body, _ = request(c, IDENTIFY.encode(), {"WSMANIDENTIFY": "unauthenticated"})
        c.close()
        t.ok(st == 200 and b"IdentifyResponse" in body, "Identify over %s" % name)
    rc, out = s_client(sport, "-tls1_2")
    t.ok(rc == 0 and "Protocol version: TLSv1.2" in out, "openssl s_client -tls1_2 connects", out)
    for flag, name in (("-tls1_1", "TLSv1.1"), ("-tls1", "TLSv1")):
        rc, out = s_client(sport, flag, "-cipher", "DEFAULT@SECLEVEL=0")
        t.ok(rc != 0 and "Protocol version: %s\n" % name not in out,
             "openssl s_client %s (SECLEVEL=0, client willing) is refused" % flag, out)


def tls_daemon(lab, pki, priorities):
    sport, hport = free_ports(2)
    d = lab_daemon(lab, {
        "Listeners": [{"Address": "127.0.0.1", "Port": sport, "Transport": "HTTPS",
                       "CertificateFile": pki.server, "KeyFile": pki.server_key},
                      {"Address": "127.0.0.1", "Port": hport, "Transport": "HTTP"}],
        "Service": {"TlsPriorities": priorities}}, port=hport)
    return d, sport


def test_priorities(lab, pki):
    d, sport = tls_daemon(lab, pki, TLS13_ONLY)
    try:
        d.start()
        t.eq(tls_try(sport, ssl.TLSVersion.TLSv1_3), "TLSv1.3",
             "TlsPriorities TLS 1.3 only: TLS 1.3 handshake succeeds")
        r = tls_try(sport, ssl.TLSVersion.TLSv1_2)
        t.ok(r not in ("TLSv1.2", "TLSv1.3"), "TlsPriorities TLS 1.3 only: TLS 1.2 refused", r)

        # SIGHUP with the default priorities again
        d.tree["Service"]["TlsPriorities"] = DEFAULT_PRIORITIES
        d.write_config()
        off = len(d.log())
        d.reload()
        t.ok(d.wait_log(LISTENER_RELOAD_DONE, start=off),
             "reload with other TlsPriorities finishes", d.log()[off:])
        r = tls_try(sport, ssl.TLSVersion.TLSv1_2)
        warned = re.search(r"(warning|err): .*(TlsPriorities.*restart|restart.*TlsPriorities)",
                           d.log()[off:])
        t.ok(r == "TLSv1.2" or warned,
             "a TlsPriorities change on SIGHUP is applied to new connections, or the log "
             "says it needs a restart", "TLS 1.2 after reload: %s\nlog:\n%s" % (r, d.log()[off:]))

        # SIGHUP with an invalid priority string
        d.tree["Service"]["TlsPriorities"] = "BOGUS:+NOTHING"
        d.write_config()
        off = len(d.log())
        d.reload()
        d.wait_log(LISTENER_RELOAD_DONE, start=off)
        t.ok(re.search(r"(err|warning): .*TlsPriorities", d.log()[off:])
             and not re.search(LISTENER_RELOADED, d.log()[off:]),
             "reload with an invalid TlsPriorities is refused with a message naming the setting",
             d.log()[off:])
        t.ok(tls_try(sport, ssl.TLSVersion.TLSv1_3) == "TLSv1.3",
             "the listener still serves TLS after the bad reload")
        d.check_alive(t, "TlsPriorities reloads")
        t.eq(d.stop(), 0, "clean stop")
        no_sanitizer(d, "TlsPriorities daemon")
    finally:
        d.cleanup()

    # With priorities that allow TLS 1.1 the handshake still fails: the
    # helper, which alone holds the key, makes TLS 1.2 and 1.3 signatures
    # only (the listener says so); TLS 1.2 works there.
    d, sport = tls_daemon(lab, pki, LEGACY)
    try:
        d.start()
        rc, out = s_client(sport, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
        t.ok(rc != 0 and "Protocol version: TLSv1.1" not in out,
             "TlsPriorities allowing TLS 1.1: s_client -tls1_1 still fails", out)
        t.ok(d.wait_log(r"TLS 1\.0 and 1\.1 are not supported"),
             "and the log says why", d.log()[-2000:])
        rc, out = s_client(sport, "-tls1_2")
        t.ok(rc == 0 and "Protocol version: TLSv1.2" in out,
             "control: the same listener serves TLS 1.2", out)
        t.eq(d.stop(), 0, "clean stop (legacy priorities)")
    finally:
        d.cleanup()

    # invalid priority string: a configuration error
    d, sport = tls_daemon(lab, pki, "BOGUS:+NOTHING")
    try:
        lines = open(d.conf_path).read().splitlines()
        line = next(i + 1 for i, x in enumerate(lines) if "TlsPriorities" in x)
        r = subprocess.run([WINRMD, "-t", "-c", d.conf_path], capture_output=True, text=True,
                           env=d.env, timeout=30)
        t.eq(r.returncode, 1, "winrmd -t with an invalid TlsPriorities exits 1")
        t.contains(r.stderr + r.stdout, "%s:%d: Service.TlsPriorities:" % (d.conf_path, line),
                   "and prints FILE:LINE: Service.TlsPriorities: ...")
        d.start(wait=False)
        try:
            rc = d.proc.wait(30)
        except subprocess.TimeoutExpired:
            rc = "running"
        t.ok(rc not in (0, "running") and " ready" not in d.log(),
             "the daemon refuses to start with an invalid TlsPriorities", d.log()[-1500:])
        t.contains(d.log(), "Service.TlsPriorities",
                   "and its message names the setting Service.TlsPriorities")
    finally:
        d.cleanup()


PYWINRM = r'''
import json, sys, winrm
url, ca, jobs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
out = {}
for name, url, transport, user, password, kw in jobs:
    try:
        s = winrm.Session(url, auth=(user, password), transport=transport,
                          server_cert_validation="validate", ca_trust_path=ca, **kw)
        r = s.run_cmd("id", ["-un"])
        out[name] = [r.status_code, r.std_out.decode(), r.std_err.decode()]
    except Exception as e:
        out[name] = [type(e).__name__, str(e)[:300], ""]
print(json.dumps(out))
'''


def test_pywinrm(lab, pki, d, sport):
    https = "https://localhost:%d/wsman" % sport
    http_ = "http://localhost:%d/wsman" % d.port
    jobs = [
        ("basic", https, "basic", "alice", "alicepw", {}),
        ("ntlm", https, "ntlm", "WINRMD\\alice", "alicepw", {}),
        ("kerberos", https, "kerberos", None, None, {}),
        ("ntlm-sealed", https, "ntlm", "WINRMD\\alice", "alicepw",
         {"message_encryption": "always"}),
        ("ntlm-nocbt", https, "ntlm", "WINRMD\\alice", "alicepw", {"send_cbt": False}),
        ("basic-http", http_, "basic", "alice", "alicepw", {}),
    ]
    env = {"REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": ""}
    r = lab.run_client(["-c", PYWINRM, https, pki.ca, json.dumps(jobs)], user="alice", env=env)
    try:
        res = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        res = {}
    t.ok(res, "pywinrm client script ran", r.stdout + r.stderr[-2000:])
    for name, what in (("basic", "Basic"), ("ntlm", "NTLM (plaintext body inside TLS)"),
                       ("kerberos", "Kerberos (plaintext body inside TLS)"),
                       ("ntlm-sealed", "NTLM with message_encryption=always inside TLS"),
                       ("ntlm-nocbt", "NTLM with send_cbt=False (default CbtHardeningLevel)")):
        t.eq(res.get(name, [None])[:2], [0, "alice\n"],
             "pywinrm %s over HTTPS: run_cmd('id -un') exit 0, output alice" % what)
    t.eq(res.get("basic-http", [None])[0], "InvalidCredentialsError",
         "pywinrm basic over plain HTTP with AllowUnencrypted=false: refused")
    st, _, _ = d.post(ID, basic("alice", "alicepw"))
    t.eq(st, 401, "Basic over the HTTP listener (AllowUnencrypted=false): 401")
    t.contains(d.log(), "Basic over HTTP needs AllowUnencrypted=true", "reason audited")

    # a plaintext body after a Kerberos handshake: fine over HTTPS, not over HTTP
    c = GssClient(https, lab, "alice", mech="krb5")
    try:
        st, _, _ = c.handshake(b"")
        st, _, body = c.post(ID)
        t.ok(st == 200 and b"IdentifyResponse" in body,
             "Kerberos over HTTPS: plaintext Identify accepted (AllowUnencrypted=false)",
             (st, body[:300]))
    finally:
        c.close()
    c = GssClient(http_, lab, "alice", mech="krb5")
    try:
        c.handshake(b"")
        st, _, body = c.post(ID)
        f = soap.fault(body)
        t.ok(st == 500 and f and "Unencrypted" in f[3],
             "the same plaintext body over the HTTP listener: Unencrypted fault", (st, f))
    finally:
        c.close()


def test_curl(lab, pki, d, sport):
    url = "https://localhost:%d/wsman" % sport
    env = lab.client_full_env("alice")
    rc, out, err = curl(["--cacert", pki.ca, "--negotiate", "-u", ":", "--data-binary",
                         ID.decode(), url], env=env)
    t.contains(out, "HTTP/1.1 200", "curl --negotiate over HTTPS as alice: 200")
    t.contains(out, "WWW-Authenticate: Negotiate ", "with the final token")
    t.contains(out, "https/spnego-kerberos", "authenticated Identify lists https/spnego-kerberos")
    rc, out, err = curl(["--cacert", pki.ca, "-u", "alice:alicepw", "--data-binary",
                         ID.decode(), url], env=env)
    t.contains(out, "HTTP/1.1 200", "curl -u alice:alicepw (Basic) over HTTPS: 200")
    t.contains(out, "https/basic", "authenticated Identify lists https/basic")
    rc, out, err = curl(["--cacert", pki.ca, "-u", "alice:wrong", "--data-binary",
                         ID.decode(), url], env=env)
    t.ok("HTTP/1.1 401" in out and "HTTP/1.1 200" not in out,
         "curl -u with a wrong password over HTTPS: 401", out[:300])


def test_side_by_side(lab, pki, d, sport):
    st, _, body = d.post(IDENTIFY, {"WSMANIDENTIFY": "unauthenticated"})
    c = https_conn(sport, cafile=pki.ca)
    st2, _, body2, _ = request(c, IDENTIFY.encode(), {"WSMANIDENTIFY": "unauthenticated"})
    c.close()
    t.ok(st == 200 and st2 == 200 and b"IdentifyResponse" in body and b"IdentifyResponse" in body2,
         "one daemon: HTTP and HTTPS listeners both answer")
    t.contains(d.log(), "listening on https://127.0.0.1:%d/wsman" % sport, "HTTPS listener logged")
    t.contains(d.log(), "listening on http://127.0.0.1:%d/wsman" % d.port, "HTTP listener logged")
    # Basic is enabled and AllowUnencrypted is false: offered over HTTPS
    # only, so that no client sends its password in clear to be refused.
    st, h, _ = d.post(ID)
    t.eq((st, h.get("www-authenticate")), (401, "Negotiate\nKerberos"),
         "the HTTP listener's 401 does not offer Basic (AllowUnencrypted=false)")
    c = https_conn(sport, cafile=pki.ca)
    st, _, _, chall = request(c, ID)
    c.close()
    t.eq((st, chall), (401, ["Negotiate", "Kerberos", 'Basic realm="WSMAN"']),
         "while the HTTPS listener's 401 of the same daemon does")


def test_same_port(lab, pki):
    """Two HTTPS listeners on one port number, on different addresses,
    each with its own certificate (Windows allows one listener per
    address)."""
    port, hport = free_ports(2, also=("127.0.0.2",))
    d = lab_daemon(lab, {"Listeners": [
        {"Address": "127.0.0.1", "Port": port, "Transport": "HTTPS",
         "CertificateFile": pki.server, "KeyFile": pki.server_key},
        {"Address": "127.0.0.2", "Port": port, "Transport": "HTTPS",
         "CertificateFile": pki.server_ec, "KeyFile": pki.server_ec_key},
        {"Address": "127.0.0.1", "Port": hport, "Transport": "HTTP"}]}, port=hport)
    try:
        d.start()
        got1, _ = tls_peer(port, host="127.0.0.1")
        got2, _ = tls_peer(port, host="127.0.0.2")
        names = {der_of(pki.server_der): "server", der_of(pki.server_ec_der): "server_ec"}
        t.eq(names.get(got1), "server", "127.0.0.1:%d serves its own certificate (server)" % port)
        t.eq(names.get(got2), "server_ec", "127.0.0.2:%d serves its own certificate (server_ec)"
             % port)
        d.check_alive(t, "two HTTPS listeners on one port")
        t.eq(d.stop(), 0, "clean stop")
        no_sanitizer(d, "same-port daemon")
    finally:
        d.cleanup()


# --- 5: certificate renewal on SIGHUP --------------------------------------

def test_renewal(lab, pki):
    certdir = tempfile.mkdtemp(prefix="winrmd-t6000-")
    cert, key = os.path.join(certdir, "cert.pem"), os.path.join(certdir, "cert.key")
    install([(pki.server, cert), (pki.server_key, key)])
    sport, hport = free_ports(2)
    d = lab_daemon(lab, {"Listeners": [
        {"Address": "127.0.0.1", "Port": sport, "Transport": "HTTPS",
         "CertificateFile": cert, "KeyFile": key},
        {"Address": "127.0.0.1", "Port": hport, "Transport": "HTTP"}],
        "Service": {"Auth": {"Basic": True}}}, port=hport)
    old_der, ec_der = der_of(pki.server_der), der_of(pki.server_ec_der)
    try:
        d.start()
        t.eq(tls_peer(sport, cafile=pki.ca)[0], old_der, "renewal: starts with pki.server")
        kc = https_conn(sport, cafile=pki.ca)
        st, _, _, _ = request(kc, ID, basic("alice", "alicepw"))
        sock = kc.sock
        t.eq(st, 200, "a keep-alive connection authenticates (Basic)")

        install([(pki.server_ec, cert), (pki.server_ec_key, key)])
        t.eq(tls_peer(sport)[0], old_der, "new files without SIGHUP: still the old certificate")
        off = len(d.log())
        d.reload()
        t.ok(d.wait_log(LISTENER_RELOADED, start=off), "SIGHUP: configuration reloaded",
             d.log()[off:])
        t.contains(d.log()[off:], "https://127.0.0.1:%d/wsman: certificate reloaded" % sport,
                   "the listener logs its certificate reload")
        t.eq(tls_peer(sport, cafile=pki.ec_ca)[0], ec_der,
             "a new connection gets the renewed certificate (server_ec, verified by its CA)")
        st, _, body, _ = request(kc, ID, basic("alice", "alicepw"))
        t.ok(st == 200 and b"IdentifyResponse" in body and kc.sock is sock,
             "the keep-alive connection opened before the renewal still works, same socket",
             (st, body[:200]))
        t.eq(kc.sock.getpeercert(binary_form=True) if kc.sock else None, old_der,
             "(on its old TLS session with the old certificate)")

        # a key that does not match the certificate
        install([(pki.server_key, key)])
        off = len(d.log())
        d.reload()
        t.ok(d.wait_log(LISTENER_RELOAD_DONE, start=off),
             "SIGHUP with a mismatched key pair is handled", d.log()[off:])
        log = d.log()[off:]
        t.ok("reload refused" in log and "configuration reloaded" not in log,
             "the reload is refused", log)
        t.ok("%s:" % d.conf_path in log and ": Listeners.[0]." in log and "does not match" in log,
             "the log names FILE:LINE: Listeners.[0]... and says the key does not match", log)
        t.eq(tls_peer(sport, cafile=pki.ec_ca)[0], ec_der,
             "new connections still get the previous good certificate")
        st, _, _, _ = request(kc, ID, basic("alice", "alicepw"))
        t.ok(st == 200 and kc.sock is sock, "the keep-alive connection still works")

        # the good pair again
        install([(pki.server, cert), (pki.server_key, key)])
        off = len(d.log())
        d.reload()
        t.ok(d.wait_log(LISTENER_RELOADED, start=off), "SIGHUP with a good pair again: "
             "reloaded", d.log()[off:])
        t.eq(tls_peer(sport, cafile=pki.ca)[0], old_der, "and the certificate is served")
        kc.close()
        d.check_alive(t, "certificate reloads")
        t.eq(d.stop(), 0, "clean stop")
        no_sanitizer(d, "renewal daemon")
    finally:
        d.cleanup()
        shutil.rmtree(certdir, ignore_errors=True)


# --- 6: certificate and key errors -------------------------------------------

def listener_text(port, transport, cert=None, key=None):
    """A Listeners list with one setting per line.  Returns (text, line of
    CertificateFile, line of KeyFile) counting from 1."""
    lines = ["Listeners = (", "  {", '    Address = "127.0.0.1";', "    Port = %d;" % port,
             '    Transport = "%s";' % transport]
    cline = kline = None
    if cert is not None:
        lines.append('    CertificateFile = "%s";' % cert)
        cline = len(lines)
    if key is not None:
        lines.append('    KeyFile = "%s";' % key)
        kline = len(lines)
    lines += ["  }", ");"]
    return "\n".join(lines) + "\n", cline, kline


def test_config_errors(lab, pki):
    work = tempfile.mkdtemp(prefix="winrmd-t6000-")
    garbage = os.path.join(work, "garbage.pem")
    with open(garbage, "w") as f:
        f.write("this is not PEM\n")
    keydir = os.path.join(work, "key.d")
    os.mkdir(keydir)
    big = os.path.join(work, "big.pem")
    with open(big, "w") as f:
        f.write(open(pki.server).read())
        f.write(("x" * 63 + "\n") * 17000)          # > 1 MiB
    missing = os.path.join(work, "missing.pem")
    port = free_port()
    d = lab_daemon(lab, port=port)
    rest = dict(d.tree)
    rest.pop("Listeners")
    tail = render_config(rest) + "\n"

    def check(cert, key, transport="HTTPS"):
        text, cline, kline = listener_text(port, transport, cert, key)
        d.write_config(text + tail)
        r = subprocess.run([WINRMD, "-t", "-c", d.conf_path], capture_output=True, text=True,
                           env=d.env, timeout=30)
        return r.returncode, r.stdout + r.stderr, cline, kline

    try:
        cases = [
            ("a missing certificate file", missing, pki.server_key, "Certificate", "No such file"),
            ("a missing key file", pki.server, missing, "Key", "No such file"),
            ("a key path that is a directory", pki.server, keydir, "Key", "not a regular file"),
            ("a key file that is not PEM", pki.server, garbage, "Key", "not PEM"),
            ("a certificate file that is not PEM", garbage, pki.server_key, "Certificate",
             "not PEM"),
            ("a key file as the certificate", pki.server_key, pki.server_key, "Certificate",
             "no CERTIFICATE"),
            ("a certificate larger than 1 MiB", big, pki.server_key, "Certificate", "larger than"),
            ("a key that does not match the certificate", pki.server, pki.server_ec_key, "",
             "does not match"),
            ("an encrypted key", pki.server_encrypted, pki.server_encrypted_key, "Key",
             "encrypted"),
        ]
        exact = {}
        for what, cert, key, which, needle in cases:
            rc, out, cline, kline = check(cert, key)
            ok = (rc == 1 and "%s:" % d.conf_path in out and ": Listeners.[0]." in out
                  and needle in out and (which == "" or which.lower() in out.lower()))
            t.ok(ok, "winrmd -t, %s: exit 1, FILE:LINE: Listeners.[0]...: %r" % (what, needle),
                 "exit %s\n%s" % (rc, out))
            exact[what] = (out, cline, kline)
        # the message points at the setting, as for every other setting
        out, cline, kline = exact["a missing certificate file"]
        t.contains(out, "%s:%d: Listeners.[0].CertificateFile: " % (d.conf_path, cline),
                   "a certificate problem is reported at the CertificateFile line")
        out, cline, kline = exact["a missing key file"]
        t.contains(out, "%s:%d: Listeners.[0].KeyFile: " % (d.conf_path, kline),
                   "a key problem is reported as Listeners.[0].KeyFile at its line")

        rc, out, cline, kline = check(pki.server, pki.server_key, transport="HTTP")
        t.ok(rc == 1 and "%s:%d: Listeners.[0].CertificateFile:" % (d.conf_path, cline) in out
             and "%s:%d: Listeners.[0].KeyFile:" % (d.conf_path, kline) in out,
             "an HTTP listener with CertificateFile/KeyFile is an error", out)
        rc, out, _, _ = check(None, None)
        t.ok(rc == 1 and "Listeners.[0].CertificateFile: required" in out
             and "Listeners.[0].KeyFile: required" in out,
             "an HTTPS listener without CertificateFile/KeyFile is an error", out)
        rc, out, _, _ = check(pki.server, pki.server_key)
        t.eq(rc, 0, "the good pair passes winrmd -t")
        rc, out, _, _ = check(pki.client_expired, pki.client_expired_key)
        t.contains(out, "expired", "winrmd -t warns about an expired certificate")

        for what, cert, key, needle in (
            ("a missing certificate", missing, pki.server_key, "No such file"),
            ("a mismatched key", pki.server, pki.server_ec_key, "does not match"),
            ("an encrypted key", pki.server_encrypted, pki.server_encrypted_key, "encrypted"),
        ):
            text, _, _ = listener_text(port, "HTTPS", cert, key)
            d.write_config(text + tail)
            off = len(d.log())
            d.start(wait=False)
            try:
                rc = d.proc.wait(30)
            except subprocess.TimeoutExpired:
                rc = "running"
                d.stop()
            log = d.log()[off:]
            t.ok(rc not in (0, "running") and " ready" not in log and needle in log
                 and "Listeners.[0]." in log,
                 "the daemon refuses to start with %s and says why" % what,
                 "exit %s\n%s" % (rc, log[-1500:]))
            d.logf.close()
    finally:
        d.cleanup()
        shutil.rmtree(work, ignore_errors=True)


def main():
    pki = PKI()
    try:
        with Lab() as lab:
            sport, hport = free_ports(2)
            d = lab_daemon(lab, {
                "Listeners": [{"Address": "127.0.0.1", "Port": sport, "Transport": "HTTPS",
                               "CertificateFile": pki.server, "KeyFile": pki.server_key},
                              {"Address": "127.0.0.1", "Port": hport, "Transport": "HTTP"}],
                "Service": {"Auth": {"Basic": True}},
                "Authorization": {"TrustedDomains": ["WINRMD"]},
                "Winrs": {"KeepEnvironment": KEEP}}, port=hport)
            try:
                d.start()
                for fn in (test_identify, test_tls_versions, test_pywinrm, test_curl,
                           test_side_by_side):
                    t.run(fn, lab, pki, d, sport)
                d.check_alive(t, "the HTTPS tests")
                t.eq(d.stop(), 0, "clean stop")
                no_sanitizer(d, "main daemon")
            finally:
                d.cleanup()
            for fn in (test_priorities, test_renewal, test_config_errors, test_same_port):
                t.run(fn, lab, pki)
    finally:
        pki.close()


main()
sys.exit(t.done())
