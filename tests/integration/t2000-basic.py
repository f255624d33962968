#!/usr/bin/python3
"""t2000 - Basic authentication: off by default, refused (and not offered)
over plain HTTP unless AllowUnencrypted, verified by PAM (pam_wrapper) in
the helper, local accounts only, cached per connection, never logged."""
import base64
import os
import socket
import sys

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import soap  # noqa: E402
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import identify_envelope, lab_daemon, pywinrm  # noqa: E402

t = Tap()
HOST = socket.gethostname().split(".")[0]


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()}


def test_default_off(lab):
    d = lab_daemon(lab)
    try:
        d.start()
        st, h, _ = d.post(identify_envelope(), basic("alice", "alicepw"))
        t.eq(st, 401, "Basic is off by default: 401")
        t.not_contains(h.get("www-authenticate", ""), "Basic", "and not offered")
        t.contains(d.log(), 'method=Basic claimed="alice" result=failure '
                   'reason="method disabled"',
                   "refusal audited, with the name claimed (refused before PAM)")
    finally:
        d.cleanup()


def test_http_needs_allow_unencrypted(lab):
    d = lab_daemon(lab, {"Service": {"Auth": {"Basic": True}}})
    try:
        d.start()
        st, h, _ = d.post(identify_envelope(), {})
        t.eq(h.get("www-authenticate"), "Negotiate\nKerberos",
             "enabled, but plain HTTP with AllowUnencrypted=false: the 401 does not offer "
             "Basic (no client is invited to send its password in clear)")
        st, h, _ = d.post(identify_envelope(), basic("alice", "alicepw"))
        t.eq(st, 401, "Basic over HTTP with AllowUnencrypted=false: 401 (as Windows)")
        t.eq(h.get("www-authenticate"), "Negotiate\nKerberos", "and Basic is not offered again")
        t.contains(d.log(), 'method=Basic claimed="alice" result=failure reason="Basic over '
                   'HTTP needs AllowUnencrypted=true"', "reason audited, with the name claimed")
        r, e = pywinrm(d.url, "basic", "alice", "alicepw")
        t.eq(r, "InvalidCredentialsError", "pywinrm basic over HTTP refused as bad credentials")
    finally:
        d.cleanup()


def test_basic(lab):
    d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}}})
    try:
        d.start()
        st, h, body = d.post(identify_envelope(), basic("alice", "alicepw"))
        t.eq(st, 200, "alice (remote users group) with the right password: 200")
        t.contains(body, "http/basic", "authenticated Identify lists the basic profile")
        t.contains(body, "<wsmid:SecurityProfiles>", "and security profiles")
        t.not_contains(body, "OS: 0.0.0", "and the real OS version")

        r, out = pywinrm(d.url, "basic", "alice", "alicepw")
        t.eq(r, "ok", "pywinrm basic (Protocol.send_message) succeeds")
        t.contains(str(out), "IdentifyResponse", "and gets the Identify answer")
        r, _ = pywinrm(d.url, "basic", "alice", "wrong")
        t.eq(r, "InvalidCredentialsError", "pywinrm with a wrong password: InvalidCredentialsError")

        for user, pw, want, what in (
            ("alice", "nope", 401, "wrong password"),
            ("nosuchuser", "x", 401, "unknown account"),
            ("erin", "erinpw", 401, "locked account (PAM account management refuses)"),
            ("bob", "bobpw", 500, "bob is in no allowed group: AccessDenied"),
            ("carol", "carolpw", 200, "carol (sudo) is an administrator"),
            ("dave", "davepw", 200, "dave (wheel) is an administrator"),
            ("root", "rootpw", 200, "root"),
            (HOST + "\\alice", "alicepw", 200, "HOSTNAME\\alice is the local alice"),
            (".\\alice", "alicepw", 200, ".\\alice is the local alice"),
            ("OTHER\\alice", "alicepw", 401, "another domain is refused for Basic"),
            ("alice@WINRMD.TEST", "alicepw", 401, "a UPN is refused for Basic"),
            ("ALICE", "alicepw", 200, "user names match without case, as Windows"),
        ):
            st, h, body = d.post(identify_envelope(), basic(user, pw))
            t.eq(st, want, "Basic %s: HTTP %d" % (what, want))
            if want == 401:
                t.eq(h.get("www-authenticate"), 'Negotiate\nKerberos\nBasic realm="WSMAN"',
                     "Basic %s: challenges again" % what)
                t.eq(body, b"", "Basic %s: empty 401 body" % what)
            if want == 500:
                f = soap.fault(body)
                t.ok(f and f[1] == "w:AccessDenied" and f[2] == "5",
                     "bob: w:AccessDenied with WSManFault code 5", f)
        for bad in ("Basic", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode(),
                    "Basic " + base64.b64encode(b":pw").decode()):
            st, _, _ = d.post(identify_envelope(), {"Authorization": bad})
            t.eq(st, 401, "malformed Basic credentials %r: 401" % bad[:20])

        # PAM runs once per keep-alive connection.
        mark = d.log().count("method=Basic/Basic claimed=\"alice\"")
        c = d.connection()
        ok = all(d.post(identify_envelope(), basic("alice", "alicepw"), conn=c)[0] == 200
                 for _ in range(100))
        t.ok(ok, "100 Basic requests on one connection")
        after = d.log().count("method=Basic/Basic claimed=\"alice\"")
        t.eq(after - mark, 1, "PAM ran once for the 100 requests (one audit line)")
        st, _, _ = d.post(identify_envelope(), basic("alice", "bad"), conn=c)
        t.eq(st, 401, "other credentials on the same connection are verified again")
        st, _, _ = d.post(identify_envelope(), {}, conn=c)
        t.eq(st, 401, "a Basic connection is not authenticated without the header")
        c.close()

        log = d.log()
        t.not_contains(log, "alicepw", "no password in the log")
        t.not_contains(log, base64.b64encode(b"alice:alicepw").decode(), "no Authorization header in the log")
        t.contains(log, "audit: authentication remote=127.0.0.1 method=Basic/Basic claimed=\"carol\" "
                   "mapped=carol", "success audit names address, method, claimed and mapped user")
        t.contains(log, "authorization remote=127.0.0.1 user=bob result=denied", "bob's denial audited")
        t.contains(log, "role=administrator reason=\"member of admin group sudo\"",
                   "carol's administrator role audited with its reason")
        d.check_alive(t, "the Basic tests")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()


def test_schemes(lab):
    d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}}})
    try:
        d.start()
        st, h, _ = d.post(identify_envelope(), {"Authorization": 'Digest username="alice", realm="WSMAN"'})
        t.eq(st, 401, "Digest: 401")
        t.eq(h.get("www-authenticate"), 'Negotiate\nKerberos\nBasic realm="WSMAN"',
             "Digest: the enabled methods, never Digest")
        st, h, _ = d.post(identify_envelope(), {"Authorization": "NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw=="})
        t.eq(st, 401, "bare NTLM scheme: 401 (NTLM travels under Negotiate)")
        t.eq(h.get("connection", "").lower(), "close", "bare NTLM: connection closed, as Windows")
        t.not_contains(h.get("www-authenticate", ""), "NTLM", "NTLM is never advertised")
    finally:
        d.cleanup()


with Lab() as lab:
    for fn in (test_default_off, test_http_needs_allow_unencrypted, test_basic, test_schemes):
        t.run(fn, lab)
sys.exit(t.done())
