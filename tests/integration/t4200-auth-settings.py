#!/usr/bin/python3
"""t4200 - Service.Auth.Kerberos and Service.Auth.Negotiate enforced as
winrmd.conf(5) documents them, under all four combinations: Kerberos =
false refuses Kerberos under both schemes (the helper refuses a Kerberos
context established under Negotiate, whatever the listener did), Negotiate
= false refuses the Negotiate scheme (Kerberos and NTLM inside it) and
leaves the Kerberos scheme alone.  Each combination is tried with curl
--negotiate (SPNEGO), pywinrm kerberos (raw krb5 under Negotiate) and
ntlm (raw NTLMSSP under Negotiate), and python-gssapi clients for
SPNEGO(krb5), SPNEGO(NTLM) and the Kerberos scheme; the 401 offers and the
audit lines are checked.  A connection authenticated before a reload that
disables its method or Kerberos is refused on its next request.  Reloads
that switch Basic on and off under a stream of Basic logins never kill
the helper (a listener request that the helper's newer configuration
forbids is refused, not a protocol violation)."""
import base64
import os
import re
import subprocess
import sys
import threading
import time

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from gssclient import GssClient  # noqa: E402
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import (LISTENER_RELOAD_DONE, LISTENER_RELOADED, identify_envelope,  # noqa: E402
                    lab_daemon, pywinrm)

t = Tap()
ID = identify_envelope().encode()
ALICE_KRB = 'claimed="alice@WINRMD.TEST"'
ALICE_NTLM = 'claimed="WINRMD\\\\alice"'  # the backslash escaped as log_escape writes it
KRB_OFF = "Kerberos is disabled (Service.Auth.Kerberos = false), inside Negotiate too"


def settings(kerberos, negotiate):
    return {"Service": {"AllowUnencrypted": True,
                        "Auth": {"Kerberos": kerberos, "Negotiate": negotiate}},
            "Authorization": {"TrustedDomains": ["WINRMD"]}}


def url_localhost(d):
    return "http://localhost:%d/wsman" % d.port


def onoff(v):
    return "on" if v else "off"


def audit_line(d, start, pattern, timeout=5):
    """The first audit line after offset start that matches the regex (the
    helper writes its lines to the same log, maybe just after the answer)."""
    deadline = time.time() + timeout
    while True:
        for line in d.log()[start:].splitlines():
            if " audit: " in line and re.search(pattern, line):
                return line
        if time.time() >= deadline:
            return None
        time.sleep(0.05)


def gss_login(d, lab, user, scheme, mech):
    c = GssClient(url_localhost(d), lab, user, scheme=scheme, mech=mech, domain="WINRMD")
    try:
        st, _, body = c.handshake(ID)
        return st == 200 and b"IdentifyResponse" in body
    finally:
        c.close()


def curl_login(d, lab):
    r = subprocess.run(["curl", "-s", "-i", "--negotiate", "-u", ":", "-H",
                        "Content-Type: application/soap+xml;charset=UTF-8",
                        "--data-binary", ID.decode(), url_localhost(d)],
                       capture_output=True, text=True, env=lab.client_full_env("alice"),
                       timeout=30)
    return "HTTP/1.1 200" in r.stdout and "IdentifyResponse" in r.stdout


def pywinrm_login(d, lab, transport):
    saved = lab.apply_client_env("alice")
    try:
        if transport == "kerberos":
            r, out = pywinrm(url_localhost(d), "kerberos", message_encryption="never")
        else:
            r, out = pywinrm(url_localhost(d), "ntlm", "WINRMD\\alice", "alicepw",
                             message_encryption="never")
    finally:
        lab.restore_env(saved)
    if r == "ok":
        return True
    if r != "InvalidCredentialsError":
        t.diag("pywinrm %s: %s %s" % (transport, r, out))
    return False


def check(d, what, allowed, login, success, refusal):
    """One login: allowed or refused as expected, and its audit line: the
    success line, or the refusal's (refusal None: the client sends no
    token once the 401 does not offer its scheme, so nothing is audited)."""
    start = len(d.log())
    got = login()
    t.eq(got, allowed, "%s: %s" % (what, "allowed" if allowed else "refused"))
    if allowed:
        line = audit_line(d, start, re.escape(success) + r" .*result=success")
        t.ok(line, "%s: audit %s ... result=success" % (what, success), d.log()[start:][-2000:])
    else:
        if refusal is not None:
            line = audit_line(d, start, refusal)
            t.ok(line, "%s: audit ~ %s" % (what, refusal), d.log()[start:][-2000:])
        time.sleep(0.1)
        t.not_contains(d.log()[start:], "result=success", "%s: no success audited" % what)


def test_combination(lab, kerberos, negotiate):
    name = "Kerberos %s, Negotiate %s" % (onoff(kerberos), onoff(negotiate))
    d = lab_daemon(lab, settings(kerberos, negotiate))
    try:
        d.start()
        st, h, _ = d.post(ID)
        offered = [s for s, on in (("Negotiate", negotiate), ("Kerberos", kerberos)) if on]
        t.eq((st, h.get("www-authenticate", "").split("\n") if offered else
              h.get("www-authenticate")), (401, offered if offered else None),
             "%s: the 401 offers %s" % (name, " and ".join(offered) or "nothing"))

        neg_disabled = r"method=Negotiate result=failure reason=\"method disabled\""
        krb_in_neg = (r"method=Negotiate/Kerberos %s result=failure reason=\"%s\""
                      % (re.escape(ALICE_KRB), re.escape(KRB_OFF)))
        # Kerberos through the Negotiate scheme
        refusal = krb_in_neg if negotiate else neg_disabled
        check(d, "%s: SPNEGO(krb5) under Negotiate (python-gssapi)" % name,
              kerberos and negotiate, lambda: gss_login(d, lab, "alice", "Negotiate", "spnego"),
              "method=Negotiate/Kerberos " + ALICE_KRB, refusal)
        check(d, "%s: raw krb5 under Negotiate (pywinrm kerberos)" % name,
              kerberos and negotiate, lambda: pywinrm_login(d, lab, "kerberos"),
              "method=Negotiate/Kerberos " + ALICE_KRB, refusal)
        check(d, "%s: curl --negotiate (SPNEGO, Kerberos ticket)" % name,
              kerberos and negotiate, lambda: curl_login(d, lab),
              "method=Negotiate/Kerberos " + ALICE_KRB, krb_in_neg if negotiate else None)
        # Kerberos through the Kerberos scheme
        check(d, "%s: raw krb5 under the Kerberos scheme (python-gssapi)" % name,
              kerberos, lambda: gss_login(d, lab, "alice", "Kerberos", "krb5"),
              "method=Kerberos/Kerberos " + ALICE_KRB,
              r"method=Kerberos result=failure reason=\"method disabled\"")
        # NTLM through the Negotiate scheme
        check(d, "%s: raw NTLMSSP under Negotiate (pywinrm ntlm)" % name,
              negotiate, lambda: pywinrm_login(d, lab, "ntlm"),
              "method=Negotiate/NTLM " + ALICE_NTLM, None)
        check(d, "%s: SPNEGO(NTLM) under Negotiate (python-gssapi)" % name,
              negotiate, lambda: gss_login(d, lab, "alice", "Negotiate", "spnego-ntlm"),
              "method=Negotiate/NTLM " + ALICE_NTLM, neg_disabled)
        d.check_alive(t, name)
        t.eq(d.stop(), 0, "%s: clean stop" % name)
        t.not_contains(d.log(), "protocol violation", "%s: no protocol violation" % name)
        t.not_contains(d.log(), "Sanitizer", "%s: no sanitizer report" % name)
    finally:
        d.cleanup()


def reload_with(d, kerberos, negotiate):
    d.tree["Service"]["Auth"].update({"Kerberos": kerberos, "Negotiate": negotiate})
    d.write_config()
    start = len(d.log())
    d.reload()
    return d.wait_log(LISTENER_RELOADED, timeout=15, start=start)


def test_revoked(lab):
    """Connections authenticated before a reload keep their identity only
    while the new configuration allows how it was proven."""
    d = lab_daemon(lab, settings(True, True))
    krb = ntlm = scheme = None
    try:
        d.start()
        url = url_localhost(d)
        krb = GssClient(url, lab, "alice", mech="spnego")
        ntlm = GssClient(url, lab, "alice", mech="spnego-ntlm", domain="WINRMD")
        scheme = GssClient(url, lab, "alice", scheme="Kerberos", mech="krb5")
        for c, what in ((krb, "SPNEGO(krb5)"), (ntlm, "SPNEGO(NTLM)"), (scheme, "Kerberos scheme")):
            st, _, _ = c.handshake(ID)
            t.eq(st, 200, "before the reload: %s connection authenticated" % what)

        t.ok(reload_with(d, False, True), "reload: Kerberos off")
        start = len(d.log())
        st, h, _ = krb.post(ID)
        t.eq(st, 401, "Kerberos off: the Kerberos-under-Negotiate connection is refused")
        t.eq(h.get("www-authenticate"), "Negotiate", "with the challenges of the new configuration")
        t.ok(audit_line(d, start, r"method=Negotiate/Kerberos %s result=failure reason=\"Kerberos "
                        r"disabled since the connection authenticated\"" % re.escape(ALICE_KRB)),
             "audited: Kerberos disabled since the connection authenticated", d.log()[start:])
        st, _, _ = krb.post(ID)
        t.eq(st, 401, "and stays refused (the identity is gone)")
        st, _, _ = scheme.post(ID)
        t.eq(st, 401, "Kerberos off: the Kerberos-scheme connection is refused")
        t.ok(audit_line(d, start, r"method=Kerberos/Kerberos .*reason=\"method disabled since the "
                        r"connection authenticated\""), "audited: method disabled since ...")
        st, _, body = ntlm.post(ID)
        t.ok(st == 200 and b"IdentifyResponse" in body, "the NTLM connection carries on", st)

        t.ok(reload_with(d, True, False), "reload: Kerberos on, Negotiate off")
        start = len(d.log())
        st, _, _ = ntlm.post(ID)
        t.eq(st, 401, "Negotiate off: the NTLM (Negotiate) connection is refused")
        t.ok(audit_line(d, start, r"method=Negotiate/NTLM %s result=failure reason=\"method "
                        r"disabled since the connection authenticated\"" % re.escape(ALICE_NTLM)),
             "audited: method disabled since the connection authenticated", d.log()[start:])
        t.ok(gss_login(d, lab, "alice", "Kerberos", "krb5"),
             "Negotiate off: a new Kerberos-scheme login works")
        d.check_alive(t, "the reloads")
        t.eq(d.stop(), 0, "clean stop")
        t.not_contains(d.log(), "Sanitizer", "no sanitizer report")
    finally:
        for c in (krb, ntlm, scheme):
            if c is not None:
                c.close()
        d.cleanup()


def test_reload_race(lab):
    """Basic switched on and off by reloads while clients keep sending
    Basic credentials: the helper applies a reload before the listener
    does, so some requests that the listener let through reach a helper
    that has Basic off.  They must be refused, not end the daemon."""
    d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}},
                         "Throttling": {"LockoutTime": 0, "MaxDelayms": 0}})
    stop = threading.Event()
    counts = {"sent": 0, "errors": 0}

    def client(n):
        c = d.connection(timeout=10)
        i = 0
        while not stop.is_set():
            i += 1
            # a name that is no local account: the helper refuses it at
            # once (no verification child), many times per reload
            hdr = "Basic " + base64.b64encode(("nobody%d-%d@OTHER:x" % (n, i)).encode()).decode()
            try:
                d.post(ID, {"Authorization": hdr}, conn=c)
                counts["sent"] += 1
            except OSError:
                counts["errors"] += 1
                c.close()
                if not d.alive():
                    return
                c = d.connection(timeout=10)
        c.close()

    try:
        d.start()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(3)]
        for th in threads:
            th.start()
        basic_on = True
        reloads = 0
        deadline = time.time() + 8
        while time.time() < deadline and reloads < 60 and d.alive():
            basic_on = not basic_on
            d.tree["Service"]["Auth"]["Basic"] = basic_on
            d.write_config()
            start = len(d.log())
            d.reload()
            if not d.wait_log(LISTENER_RELOAD_DONE, timeout=10, start=start):
                break
            reloads += 1
        stop.set()
        for th in threads:
            th.join(30)
        raced = d.log().count('method=Basic claimed="nobody')
        t.diag("%d reloads, %d Basic requests, %d refused by the helper's newer configuration"
               % (reloads, counts["sent"], len(re.findall(
                   r'method=Basic claimed="nobody[^"]*" result=failure reason="method disabled"',
                   d.log()))))
        t.ok(raced > 0, "Basic requests reached the helper during the reloads")
        t.not_contains(d.log(), "protocol violation", "no protocol violation during the reloads")
        t.ok(reloads >= 20, "at least 20 reloads under load (%d)" % reloads, d.log()[-3000:])
        d.check_alive(t, "reloads switching Basic under Basic logins")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        stop.set()
        d.cleanup()


with Lab() as lab:
    for kerberos in (True, False):
        for negotiate in (True, False):
            t.run(test_combination, lab, kerberos, negotiate)
    t.run(test_revoked, lab)
    t.run(test_reload_race, lab)
sys.exit(t.done())
