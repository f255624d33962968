#!/usr/bin/python3
"""t4050 - Kerberos principals map to local accounts case-sensitively:
ROOT@WINRMD.TEST is another principal than root@WINRMD.TEST, and its local
name ROOT is no account, so it is refused (it used to log in as root
through the verification's lower-case retry).  NTLM and Basic names still
match without case, as on Windows.  Authorization.KerberosCaseInsensitive
= true admits the lower-case account for realms whose directory ignores
case (shown with the lab user alice, never with root)."""
import base64
import os
import re
import sys

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from gssclient import GssClient  # noqa: E402
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import identify_envelope, lab_daemon  # noqa: E402

t = Tap()
ID = identify_envelope().encode()
CONFIG = {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}},
          "Authorization": {"TrustedDomains": ["WINRMD"]}}
# Upper-case principals of the lab's KDC, with passwords of their own.
PRINCIPALS = {"ROOT": "upper-root-pw", "ALICE": "upper-alice-pw"}


def url_localhost(d):
    return "http://localhost:%d/wsman" % d.port


def kerberos(lab, d, who, mech):
    """HTTP status of a Kerberos login of principal who (upper-case ones
    from PRINCIPALS, else a lab user) with mech "krb5" or "spnego"."""
    cc = lab.kinit(who, password=PRINCIPALS[who]) if who in PRINCIPALS else None
    c = GssClient(url_localhost(d), lab, who, mech=mech, ccache=cc)
    try:
        st, _, _ = c.handshake(ID)
        return st
    finally:
        c.close()


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()}


def audit(d, start, claimed):
    return [ln for ln in d.log()[start:].splitlines()
            if " audit: authentication " in ln and 'claimed="%s"' % claimed in ln]


def test_default(lab):
    d = lab_daemon(lab, CONFIG)
    try:
        d.start()
        for mech in ("krb5", "spnego"):
            start = len(d.log())
            t.eq(kerberos(lab, d, "ROOT", mech), 401,
                 "%s: ROOT@WINRMD.TEST is refused (HTTP 401), not root" % mech)
            lines = audit(d, start, "ROOT@WINRMD.TEST")
            t.ok(len(lines) == 1 and "mapped=ROOT result=failure "
                 'reason="no such account in NSS: ROOT"' in lines[0],
                 "%s: audited as the account ROOT, which does not exist" % mech, lines)
            t.ok(not any("mapped=root" in ln or "result=success" in ln for ln in lines),
                 "%s: ROOT is never mapped to root" % mech, lines)

            start = len(d.log())
            t.eq(kerberos(lab, d, "ALICE", mech), 401,
                 "%s: ALICE@WINRMD.TEST is refused too" % mech)
            t.ok(any("mapped=ALICE result=failure" in ln
                     for ln in audit(d, start, "ALICE@WINRMD.TEST")),
                 "%s: audited as the account ALICE" % mech)
            t.eq(kerberos(lab, d, "alice", mech), 200,
                 "%s: alice@WINRMD.TEST still logs in" % mech)
        t.ok(not re.search(r'claimed="ROOT@WINRMD\.TEST" mapped=root', d.log()),
             "no audit line maps ROOT@WINRMD.TEST to root")

        # Where the directory ignores case, matching still does.
        st, _, _ = d.post(identify_envelope(), basic("ALICE", "alicepw"))
        t.eq(st, 200, "Basic ALICE is the local alice (as Windows)")
        c = GssClient(url_localhost(d), lab, "ALICE", mech="ntlm", domain="WINRMD",
                      password="alicepw")
        try:
            st, _, _ = c.handshake(ID)
        finally:
            c.close()
        t.eq(st, 200, "NTLM WINRMD\\ALICE is the local alice (as Windows)")
        d.check_alive(t, "the case-sensitive Kerberos logins")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()


def test_case_insensitive_realm(lab):
    cfg = dict(CONFIG, Authorization={"TrustedDomains": ["WINRMD"],
                                      "KerberosCaseInsensitive": True})
    d = lab_daemon(lab, cfg)
    try:
        d.start()
        for mech in ("krb5", "spnego"):
            start = len(d.log())
            t.eq(kerberos(lab, d, "ALICE", mech), 200,
                 "KerberosCaseInsensitive: %s ALICE@WINRMD.TEST is admitted" % mech)
            lines = audit(d, start, "ALICE@WINRMD.TEST")
            t.ok(any("mapped=alice uid=20001 result=success" in ln for ln in lines),
                 "KerberosCaseInsensitive: %s: as the lower-case account alice" % mech,
                 lines)
        t.eq(kerberos(lab, d, "alice", "krb5"), 200,
             "KerberosCaseInsensitive: alice@WINRMD.TEST still logs in")
        d.check_alive(t, "the case-insensitive Kerberos logins")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()


with Lab() as lab:
    lab.kadmin(*["addprinc -pw %s %s" % (pw, p) for p, pw in PRINCIPALS.items()])
    t.run(test_default, lab)
    t.run(test_case_insensitive_realm, lab)
sys.exit(t.done())
