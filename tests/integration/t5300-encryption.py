#!/usr/bin/python3
"""t5300 - message encryption over HTTP (MS-WSMV 2.2.9.1) with the
daemon's defaults (AllowUnencrypted=false): pywinrm NTLM with
message_encryption 'auto' and 'always', Kerberos and SPNEGO(Kerberos)
through the python-gssapi client (wrap_iov, verified byte for byte),
x-multi-encrypted chunks, large messages both ways, and broken bodies:
the answer, the daemon staying up, and the context afterwards."""
import base64
import os
import sys

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import soap  # noqa: E402
import wsmancrypt  # noqa: E402
from gssclient import GssClient  # noqa: E402
from gssshell import CMD, SHELL, create_shell, run as gss_run  # noqa: E402
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import identify_envelope, lab_daemon, pywinrm  # noqa: E402

t = Tap()
KEEP = ["LD_PRELOAD", "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP", "NSS_WRAPPER_HOSTS"]
ID = identify_envelope().encode()


def url(d):
    return "http://localhost:%d/wsman" % d.port


def test_pywinrm(lab, d):
    saved = lab.apply_client_env("alice")
    try:
        import winrm
        for mode in ("auto", "always"):
            r, out = pywinrm(url(d), "ntlm", "WINRMD\\alice", "alicepw", message_encryption=mode)
            t.ok(r == "ok" and "IdentifyResponse" in str(out),
                 "pywinrm ntlm, message_encryption=%s: authenticated Identify" % mode, out)
            s = winrm.Session(url(d), auth=("WINRMD\\alice", "alicepw"), transport="ntlm",
                              message_encryption=mode)
            r = s.run_cmd("echo", ["sealed", mode])
            t.eq((r.status_code, r.std_out), (0, ("sealed %s\n" % mode).encode()),
                 "pywinrm ntlm %s: run_cmd" % mode)
        s = winrm.Session(url(d), auth=("WINRMD\\alice", "alicepw"), transport="ntlm")
        r = s.run_cmd("head -c 5000000 /dev/zero | tr '\\0' y")
        t.ok(r.status_code == 0 and len(r.std_out) == 5000000 and set(r.std_out) == {ord("y")},
             "pywinrm ntlm encrypted: 5 MB of output intact", len(r.std_out))
        # stdin through an encrypted Send (pywinrm 0.3.0 has no API for it)
        p = winrm.protocol.Protocol(url(d), transport="ntlm", username="WINRMD\\alice",
                                    password="alicepw")
        sid = p.open_shell()
        cid = p.run_command(sid, "tr a-z A-Z")
        data = base64.b64encode(b"hello stdin\n").decode()
        p.send_message(soap.envelope(
            SHELL + "/Send", CMD, selectors={"ShellId": sid},
            body='<rsp:Send xmlns:rsp="%s"><rsp:Stream Name="stdin" CommandId="%s" End="true">%s'
                 '</rsp:Stream></rsp:Send>' % (SHELL, cid, data)))
        out, err, code = p.get_command_output(sid, cid)
        t.eq((out, code), (b"HELLO STDIN\n", 0), "encrypted Send: stdin reaches the command")
        p.cleanup_command(sid, cid)
        p.close_shell(sid)
        r, out = pywinrm(url(d), "ntlm", "WINRMD\\alice", "alicepw", message_encryption="never")
        t.ok(r == "WinRMError" and "Unencrypted" in str(out),
             "pywinrm ntlm message_encryption=never: refused (AllowUnencrypted=false)", out)
    finally:
        lab.restore_env(saved)


def test_kerberos(lab, d):
    for mech, scheme in (("krb5", "Negotiate"), ("spnego", "Negotiate"), ("krb5", "Kerberos")):
        what = "%s under %s" % (mech, scheme)
        c = GssClient(url(d), lab, "alice", scheme=scheme, mech=mech)
        try:
            st, _, _ = c.handshake(b"")
            t.eq(st, 200, "%s: empty-body handshake" % what)
            sess = wsmancrypt.EncryptedSession(c)
            st, h, body = sess.post(ID)
            t.ok(st == 200 and b"IdentifyResponse" in body,
                 "%s: encrypted Identify, response verified byte for byte" % what)
            proto = wsmancrypt.protocol_for_scheme(scheme)
            t.contains(h.get("content-type", ""), 'protocol="%s"' % proto,
                       "%s: the response mirrors the protocol string" % what)
            st, sid = create_shell(sess)
            t.ok(st == 200 and sid, "%s: encrypted shell Create" % what)
            st, out, code = gss_run(sess, sid, "printf %s seal", streams="stdout")
            t.eq((st, out, code), (200, b"seal", 0), "%s: encrypted Command + Receive" % what)
        finally:
            c.close()


def test_large(lab, d):
    c = GssClient(url(d), lab, "alice", mech="krb5")
    try:
        c.handshake(b"")
        sess = wsmancrypt.EncryptedSession(c)
        big = ID.replace(b"<s:Body>", b"<s:Body>" + b" " * (480 * 1024))
        st, _, body = sess.post(big)
        t.ok(st == 200 and b"IdentifyResponse" in body, "a 480 KiB encrypted request (limit 500 KiB)")
        st, sid = create_shell(sess)
        st, out, code = gss_run(sess, sid, "head -c 300000 /dev/zero | tr '\\\\0' z",
                                streams="stdout")
        t.ok(st == 200 and len(out) == 300000, "300 KB of output in encrypted Receives", len(out or b""))
        chunked = wsmancrypt.EncryptedSession(c, chunked=True)
        body40 = ID.replace(b"<s:Body>", b"<s:Body>" + b" " * 40000)
        st, h, body = chunked.post(body40)
        t.ok(st == 200 and b"IdentifyResponse" in body,
             "multipart/x-multi-encrypted in 16 KiB chunks accepted")
        t.contains(h.get("content-type", ""), "multipart/x-multi-encrypted",
                   "and answered the same way")
    finally:
        c.close()


def test_broken(lab, d):
    # Kerberos: each token stands alone; after a refused body the same
    # connection and context carry on.
    c = GssClient(url(d), lab, "alice", mech="krb5")
    try:
        c.handshake(b"")
        sess = wsmancrypt.EncryptedSession(c)
        for kind in wsmancrypt.BROKEN_KINDS:
            ctype, body = sess.broken(ID, kind)
            st, h, data = sess.post_raw(body, ctype)
            if kind == "crlf-before-close":
                t.eq(st, 200, "Kerberos, %s: tolerated (a stray CRLF is cut safely)" % kind)
                sess.decrypt_response(st, h, data)  # keep the client in step
                continue
            t.eq(st, 400, "Kerberos, %s: HTTP 400" % kind)
            t.eq(data, b"", "Kerberos, %s: no body reaches a handler" % kind)
            st, _, body = sess.post(ID)
            t.ok(st == 200 and b"IdentifyResponse" in body,
                 "Kerberos, after %s: the next good request works on the same context" % kind)
        t.eq(c.connects, 1, "all of it on one connection")
    finally:
        c.close()
    t.contains(d.log(), "decryption remote=127.0.0.1 user=alice result=failure",
               "refused bodies are logged")
    # NTLM: one RC4 stream per direction; a refused body ends the context
    # and the connection, and a new connection works.
    c = GssClient(url(d), lab, "alice", mech="ntlm", domain="WINRMD")
    try:
        c.handshake(b"")
        sess = wsmancrypt.EncryptedSession(c)
        ctype, body = sess.broken(ID, "tampered-ciphertext")
        st, h, _ = sess.post_raw(body, ctype)
        t.eq(st, 400, "NTLM, tampered ciphertext: HTTP 400")
        t.eq(h.get("connection", "").lower(), "close", "NTLM: the connection is closed")
    finally:
        c.close()
    c = GssClient(url(d), lab, "alice", mech="ntlm", domain="WINRMD")
    try:
        c.handshake(b"")
        st, _, body = wsmancrypt.EncryptedSession(c).post(ID)
        t.ok(st == 200 and b"IdentifyResponse" in body, "NTLM: a new connection works afterwards")
    finally:
        c.close()
    # an encrypted body on a Basic connection: nothing to decrypt with
    d.check_alive(t, "broken encrypted bodies")


with Lab() as lab:
    d = lab_daemon(lab, {"Authorization": {"TrustedDomains": ["WINRMD"]},
                         "Winrs": {"KeepEnvironment": KEEP}})
    try:
        d.start()
        for fn in (test_pywinrm, test_kerberos, test_large, test_broken):
            t.run(fn, lab, d)
        d.check_alive(t, "the encryption tests")
        t.eq(d.stop(), 0, "clean stop")
        t.not_contains(d.log(), "Sanitizer", "no sanitizer report")
    finally:
        d.cleanup()
sys.exit(t.done())
