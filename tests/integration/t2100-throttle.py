#!/usr/bin/python3
"""t2100 - Throttling.*: failed authentications answered later and later,
then refused per remote address and per account for LockoutTime, without
blocking anyone else.

Timing checks are LOWER bounds only (a failure is never answered before its
delay); what must happen "meanwhile" is checked by ordering, never by an
absolute upper bound that a slow machine could break.  Source addresses
127.0.0.2... are bound with source_address (the listener is on 127.0.0.1;
all of 127/8 is loopback)."""
import base64
import http.client
import os
import re
import sys
import threading
import time

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from gssclient import GssClient  # noqa: E402
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import IDENTIFY, SOAP_CT, identify_envelope, lab_daemon  # noqa: E402

t = Tap()
ID = identify_envelope().encode()
CHALLENGES = 'Negotiate\nKerberos\nBasic realm="WSMAN"'
SLACK = 0.015       # timer and clock granularity; delays are lower bounds only
THROTTLE = {"MaxFailures": 3, "FailureWindow": 60, "LockoutTime": 3, "MaxDelayms": 800}
# The lockout tests that do not wait for the end use a long LockoutTime, so
# that a slow machine cannot see the lock end in the middle.
LONG = dict(THROTTLE, LockoutTime=30)
LOCKED_RE = r"too many failures; refused for another \d+ s"
LOCKED_3S_RE = r"too many failures; refused for another [1-3] s"


def start(lab, throttling):
    d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}},
                         "Authorization": {"TrustedDomains": ["WINRMD"]},
                         "Throttling": throttling})
    d.start()
    return d


def basic(d, user, password, source="127.0.0.1", timeout=30):
    """One Basic request on a new connection from source; returns (status,
    headers, elapsed seconds, log offset before the request)."""
    mark = len(d.log())
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=timeout,
                                   source_address=(source, 0))
    cred = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    t0 = time.monotonic()
    try:
        c.request("POST", "/wsman", body=ID,
                  headers={"Content-Type": SOAP_CT, "Authorization": "Basic " + cred})
        r = c.getresponse()
        r.read()
        elapsed = time.monotonic() - t0
        hdrs = {}
        for k, v in r.getheaders():
            k = k.lower()
            hdrs[k] = hdrs[k] + "\n" + v if k in hdrs else v
        return r.status, hdrs, elapsed, mark
    finally:
        c.close()


def gss(d, lab, user, source, domain="WINRMD", mech="ntlm", password=None):
    """A GSS handshake (NTLM by default) from source; returns (status,
    headers, log offset before)."""
    mark = len(d.log())
    c = GssClient(d.url, lab, user, mech=mech, domain=domain, password=password)
    c.conn.source_address = (source, 0)   # http.client connects lazily
    try:
        st, h, _ = c.handshake(ID)
    finally:
        c.close()
    return st, h, mark


def audit(d, mark, pattern, what):
    found = d.wait_log(pattern, timeout=5, start=mark)
    return t.ok(found, "%s: audit matches /%s/" % (what, pattern), d.log()[mark:][-3000:])


def audit_basic(src, user, reason):
    return (r'audit: authentication remote=%s method=Basic claimed="%s" result=failure '
            r'reason="%s"' % (re.escape(src), re.escape(user), reason))


def expect_401(res, what):
    st, h = res[0], res[1]
    t.eq(st, 401, "%s: HTTP 401" % what)
    t.eq(h.get("www-authenticate"), CHALLENGES, "%s: the challenges again" % what)


def test_delays(lab):
    """LockoutTime 0: failures are only delayed, doubling from 100 ms up to
    MaxDelayms, and never locked."""
    d = start(lab, dict(THROTTLE, LockoutTime=0))
    try:
        for n in range(1, 7):
            want = min(100 * 2 ** (n - 1), 800) / 1000.0
            res = basic(d, "alice", "wrong%d" % n)
            expect_401(res, "wrong password %d" % n)
            t.ok(res[2] >= want - SLACK, "wrong password %d answered after at least %d ms "
                 "(took %d ms)" % (n, want * 1000, res[2] * 1000))
            audit(d, res[3], audit_basic("127.0.0.1", "alice", "wrong password"),
                  "wrong password %d" % n)
        res = basic(d, "alice", "alicepw")
        t.eq(res[0], 200, "LockoutTime=0: the right password after 6 failures gets in")
        audit(d, res[3], r'method=Basic/Basic claimed="alice" mapped=alice uid=20001 '
              r'result=success', "the right password after 6 failures")
        t.not_contains(d.log(), "too many failures", "LockoutTime=0: nothing was ever locked")
    finally:
        d.cleanup()


def test_lockout(lab):
    """MaxFailures 3 within the window: the right password is refused until
    LockoutTime has passed, then accepted."""
    d = start(lab, THROTTLE)
    try:
        for n in range(1, 4):
            want = min(100 * 2 ** (n - 1), 800) / 1000.0
            res = basic(d, "alice", "bad")
            expect_401(res, "lockout: wrong password %d" % n)
            t.ok(res[2] >= want - SLACK, "lockout: wrong password %d answered after at "
                 "least %d ms (took %d ms)" % (n, want * 1000, res[2] * 1000))
            audit(d, res[3], audit_basic("127.0.0.1", "alice", "wrong password"),
                  "lockout: wrong password %d" % n)
        third_answered = time.monotonic()
        res = basic(d, "alice", "alicepw")
        expect_401(res, "after 3 failures the right password is refused")
        audit(d, res[3], audit_basic("127.0.0.1", "alice", LOCKED_3S_RE),
              "after 3 failures the right password is refused")
        t.not_contains(d.log()[res[3]:], 'claimed="alice" mapped=alice',
                       "the locked attempt was not verified at all")
        res = basic(d, "carol", "carolpw")
        expect_401(res, "the address is locked too: carol's right password refused")
        audit(d, res[3], audit_basic("127.0.0.1", "carol", LOCKED_RE),
              "the address is locked too")
        st, _, _ = d.post(IDENTIFY, {"WSMANIDENTIFY": "unauthenticated"})
        t.eq(st, 200, "anonymous Identify from the locked address still answered")

        # LockoutTime (3 s) counts from the third failure, which the
        # helper saw before it answered.
        time.sleep(max(0.0, third_answered + 3.3 - time.monotonic()))
        res = basic(d, "alice", "alicepw")
        t.eq(res[0], 200, "after LockoutTime the right password is accepted")
        audit(d, res[3], r'authentication remote=127\.0\.0\.1 method=Basic/Basic '
              r'claimed="alice" mapped=alice uid=20001 result=success',
              "after LockoutTime")
        res = basic(d, "alice", "bad")
        expect_401(res, "a failure after the success")
        t.ok(res[2] >= 0.1 - SLACK, "a failure after a success starts again at 100 ms")
        res = basic(d, "alice", "alicepw")
        t.eq(res[0], 200, "the success reset the count: 1 failure does not lock")
        d.check_alive(t, "the lockout")
    finally:
        d.cleanup()


def test_not_blocking(lab):
    """A delayed answer is a timer in the helper, not a sleep: other
    clients, authenticated ones included, are answered meanwhile."""
    d = start(lab, dict(THROTTLE, MaxFailures=100, LockoutTime=0, MaxDelayms=3000))
    try:
        # 5 failures for bob (from 5 addresses): the 6th failure for bob
        # is delayed by 3000 ms (100 * 2^5 capped).  One after the other:
        # the lab's pam_wrapper races its /tmp/pam.? directories when
        # several processes start PAM at once (see t4000).
        for i in range(5):
            basic(d, "bob", "x", "127.0.0.%d" % (20 + i))
        t.eq(d.log().count('claimed="bob" result=failure reason="wrong password"'), 5,
             "5 failures for bob recorded")

        done = {}
        mark = len(d.log())

        def slow():
            res = basic(d, "bob", "x", "127.0.0.30")
            done["slow"] = (time.monotonic(), res)
        th = threading.Thread(target=slow)
        th.start()
        # wait until the helper has refused it and started the delay
        refused = d.wait_log(r'remote=127\.0\.0\.30 method=Basic claimed="bob" '
                             r'result=failure reason="wrong password"', timeout=10, start=mark)
        t.ok(refused, "the 6th failure was refused and is being delayed")
        st, _, _ = d.post(IDENTIFY, {"WSMANIDENTIFY": "unauthenticated"})
        done["identify"] = time.monotonic()
        t.eq(st, 200, "meanwhile: anonymous Identify on another connection: 200")
        res = basic(d, "alice", "alicepw", "127.0.0.31")
        done["alice"] = time.monotonic()
        t.eq(res[0], 200, "meanwhile: alice (Basic, PAM in the helper) on another "
             "connection: 200")
        st, _, _ = gss(d, lab, "carol", "127.0.0.32", mech="krb5")
        done["carol"] = time.monotonic()
        t.eq(st, 200, "meanwhile: carol (Kerberos, GSSAPI in the helper): 200")
        th.join(30)
        t.ok("slow" in done, "the delayed failure was answered")
        if "slow" in done:
            slow_done, res = done["slow"]
            expect_401(res, "the delayed failure")
            t.ok(res[2] >= 3.0 - SLACK, "the 6th failure took at least MaxDelayms=3000 ms "
                 "(took %d ms)" % (res[2] * 1000))
            for k in ("identify", "alice", "carol"):
                t.ok(done[k] < slow_done, "%s was answered before the delayed failure" % k)
    finally:
        d.cleanup()


def test_per_account(lab):
    """3 failures for dave from three addresses lock dave everywhere (no
    address has 3), while others from those addresses still get in."""
    d = start(lab, LONG)
    try:
        for n, src in enumerate(("127.0.0.2", "127.0.0.3", "127.0.0.4"), 1):
            want = min(100 * 2 ** (n - 1), 800) / 1000.0
            res = basic(d, "dave", "nope", src)
            expect_401(res, "dave wrong password from %s" % src)
            t.ok(res[2] >= want - SLACK, "dave failure %d (first from %s) answered after "
                 "at least %d ms: the account's count" % (n, src, want * 1000))
            audit(d, res[3], audit_basic(src, "dave", "wrong password"),
                  "dave wrong password from %s" % src)
        res = basic(d, "dave", "davepw", "127.0.0.7")
        expect_401(res, "dave's right password from a fourth address (127.0.0.7)")
        audit(d, res[3], audit_basic("127.0.0.7", "dave", LOCKED_RE),
              "dave locked from a fourth address")
        res = basic(d, "DAVE", "davepw", "127.0.0.7")
        expect_401(res, "dave locked under another spelling (DAVE) too")
        res = basic(d, "alice", "alicepw", "127.0.0.7")
        t.eq(res[0], 200, "alice from the fourth address still gets in")
        res = basic(d, "alice", "alicepw", "127.0.0.4")
        t.eq(res[0], 200, "alice from an address dave failed from (1 failure) gets in")

        # The account lock holds for every method, as a locked account on
        # Windows cannot log on at all.
        st, h, mark = gss(d, lab, "dave", "127.0.0.8")
        expect_401((st, h), "locked dave as WINRMD\\dave over NTLM (right password)")
        audit(d, mark, r'remote=127\.0\.0\.8 method=Negotiate claimed="[^"]*" result=failure '
              r'reason="' + LOCKED_RE, "locked dave over NTLM")
        st, h, mark = gss(d, lab, "dave", "127.0.0.9", mech="krb5")
        expect_401((st, h), "locked dave over Kerberos")
    finally:
        d.cleanup()


def test_per_account_spelling(lab):
    """User names match without case (DAVE is dave: the verification finds
    the account under its lower-case spelling), so the failures of every
    spelling count against the one account."""
    d = start(lab, LONG)
    try:
        for n, (user, src) in enumerate((("DAVE", "127.0.0.40"), ("Dave", "127.0.0.41"),
                                         ("dAVE", "127.0.0.42")), 1):
            want = min(100 * 2 ** (n - 1), 800) / 1000.0
            res = basic(d, user, "nope", src)
            expect_401(res, "%s wrong password from %s" % (user, src))
            t.ok(res[2] >= want - SLACK, "failure %d for dave (as %s) answered after at "
                 "least %d ms (took %d ms)" % (n, user, want * 1000, res[2] * 1000))
        res = basic(d, "dave", "davepw", "127.0.0.43")
        expect_401(res, "after failures as DAVE, Dave and dAVE, dave is locked")
        audit(d, res[3], audit_basic("127.0.0.43", "dave", LOCKED_RE),
              "dave locked by the failures of other spellings")
    finally:
        d.cleanup()


def test_per_account_ntlm(lab):
    """Wrong NTLM passwords count against the account too: otherwise
    guessing dave's password over NTLM from many addresses is never
    slowed down beyond each address's own count."""
    d = start(lab, LONG)
    try:
        for src in ("127.0.0.12", "127.0.0.13", "127.0.0.14"):
            st, h, mark = gss(d, lab, "dave", src, password="wrong")
            expect_401((st, h), "WINRMD\\dave wrong NTLM password from %s" % src)
        res = basic(d, "dave", "davepw", "127.0.0.17")
        expect_401(res, "after 3 NTLM failures for dave, dave's right Basic password from a "
                   "fourth address is refused")
        audit(d, res[3], audit_basic("127.0.0.17", "dave", LOCKED_RE),
              "dave locked by NTLM failures")
    finally:
        d.cleanup()


def test_per_address(lab):
    """3 failures from one address, each for another account, lock that
    address for every account; another address is fine."""
    d = start(lab, LONG)
    try:
        for n, user in enumerate(("alice", "bob", "erin"), 1):
            want = min(100 * 2 ** (n - 1), 800) / 1000.0
            res = basic(d, user, "nope", "127.0.0.5")
            expect_401(res, "%s wrong password from 127.0.0.5" % user)
            t.ok(res[2] >= want - SLACK, "failure %d from 127.0.0.5 (first for %s) answered "
                 "after at least %d ms: the address's count" % (n, user, want * 1000))
            audit(d, res[3], audit_basic("127.0.0.5", user, "wrong password"),
                  "%s wrong password from 127.0.0.5" % user)
        for user in ("carol", "alice"):
            res = basic(d, user, user + "pw", "127.0.0.5")
            expect_401(res, "%s's right password from the locked 127.0.0.5" % user)
            audit(d, res[3], audit_basic("127.0.0.5", user, LOCKED_RE),
                  "%s from the locked address" % user)
        st, h, mark = gss(d, lab, "carol", "127.0.0.5", mech="krb5")
        expect_401((st, h), "carol over Kerberos from the locked 127.0.0.5")
        audit(d, mark, r'remote=127\.0\.0\.5 method=Negotiate claimed="" result=failure '
              r'reason="' + LOCKED_RE, "Kerberos from the locked address")
        for user in ("carol", "alice"):
            res = basic(d, user, user + "pw", "127.0.0.6")
            t.eq(res[0], 200, "%s's right password from 127.0.0.6: 200" % user)
        st, _, _ = gss(d, lab, "carol", "127.0.0.6", mech="krb5")
        t.eq(st, 200, "carol over Kerberos from 127.0.0.6: 200")
        d.check_alive(t, "the throttling tests")
        t.eq(d.stop(), 0, "clean stop")
        t.not_contains(d.log(), "Sanitizer", "no sanitizer report")
    finally:
        d.cleanup()


with Lab() as lab:
    for fn in (test_delays, test_lockout, test_not_blocking, test_per_account,
               test_per_account_spelling, test_per_account_ntlm, test_per_address):
        t.run(fn, lab)
sys.exit(t.done())
