#!/usr/bin/python3
"""t7300 - winrmctl as a WinRM client (-r:) against the real daemon in the
lab: -a:Negotiate with -u and -p does NTLM (and so does no -a), on one
connection for the requests of an enumeration; -a:Kerberos and Negotiate
with a ticket from kinit; and the different 401s get different messages:
no Kerberos ticket (nothing sent), credentials the service rejected, Basic
over HTTP where the service does not allow it, a method it does not
offer."""
import os
import subprocess
import sys

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import lab_daemon  # noqa: E402

t = Tap()
BUILDDIR = os.environ.get("WINRMD_BUILDDIR", ".")
BIN = os.path.abspath(os.path.join(BUILDDIR, "winrmctl", "winrmctl"))
REJECTED = "rejected the credentials"


def run(lab, args, user=None):
    env = lab.client_full_env(user)
    if os.environ.get("WINRMD_SANITIZERS"):
        # an ASan winrmctl: gss-ntlmssp's own leaks are suppressed as
        # they are for the daemon (lab.py's lsan.supp)
        san = lab.sanitizer_env()
        env["ASAN_OPTIONS"] = san["ASAN_OPTIONS"]
        env["LSAN_OPTIONS"] = san["LSAN_OPTIONS"]
    p = subprocess.run([BIN] + args, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL, env=env)
    return p.returncode, p.stdout, p.stderr


def audits(d, mark, what):
    return [ln for ln in d.log()[mark:].splitlines()
            if " audit: authentication " in ln and what in ln]


def test_open(lab):
    d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}},
                         "Authorization": {"TrustedDomains": ["WINRMD"]}})
    d.start()
    try:
        url = "http://localhost:%d/wsman" % d.port
        base = ["-r:" + url, "-unencrypted"]
        auth = "winrm/config/service/auth"

        for a in (["-a:Negotiate"], []):
            what = "-a:Negotiate" if a else "no -a"
            mark = len(d.log())
            rc, out, err = run(lab, ["get", auth] + base + a + ["-u:WINRMD\\carol",
                                                               "-p:carolpw"])
            t.eq(rc, 0, "%s -u WINRMD\\carol -p: exit 0" % what)
            t.contains(out, "Basic = true", "%s -u -p: the answer printed" % what)
            t.eq(len(audits(d, mark, 'method=Negotiate/NTLM claimed="WINRMD\\\\carol" '
                             'mapped=carol uid=20003 result=success')), 1,
                 "%s -u -p: an NTLM login, audited" % what)

        mark = len(d.log())
        rc, out, err = run(lab, ["enumerate", "winrm/config/listener"] + base +
                           ["-u:WINRMD\\carol", "-p:carolpw"])
        t.eq(rc, 0, "enumerate over NTLM: exit 0")
        t.contains(out, "Listener", "enumerate over NTLM: the listener")
        t.eq(len(audits(d, mark, "result=success")), 1,
             "enumerate and its pull: one login (the connection's)")

        mark = len(d.log())
        rc, out, err = run(lab, ["get", auth] + base + ["-u:WINRMD\\carol", "-p:wrong"])
        t.eq(rc, 1, "NTLM, wrong password: exit 1")
        t.contains(err, REJECTED, "NTLM, wrong password: the credentials were rejected")
        t.eq(len(audits(d, mark, "reason=\"wrong password")), 1,
             "NTLM, wrong password: the service's audit line says so")

        for a, method in (("-a:Kerberos", "Kerberos/Kerberos"),
                          ("-a:Negotiate", "Negotiate/Kerberos")):
            mark = len(d.log())
            rc, out, err = run(lab, ["get", auth] + base + [a], user="carol")
            t.eq(rc, 0, "%s with carol's ticket: exit 0" % a)
            t.contains(out, "Kerberos = true", "%s with a ticket: the answer" % a)
            t.eq(len(audits(d, mark, 'method=%s claimed="carol@WINRMD.TEST"' % method)), 1,
                 "%s with a ticket: a %s login" % (a, method))

        for a in ("-a:Kerberos", "-a:Negotiate"):
            mark = len(d.log())
            rc, out, err = run(lab, ["get", auth] + base + [a])
            t.eq(rc, 1, "%s without a ticket: exit 1" % a)
            t.contains(err, "no Kerberos ticket", "%s without a ticket: says so" % a)
            t.contains(err, "run kinit", "%s without a ticket: what to do" % a)
            t.not_contains(err, REJECTED, "%s without a ticket: not a rejection" % a)
            t.eq(audits(d, mark, ""), [], "%s without a ticket: nothing was sent" % a)

        rc, out, err = run(lab, ["get", auth] + base + ["-a:Basic", "-u:carol", "-p:wrong"])
        t.eq(rc, 1, "Basic, wrong password: exit 1")
        t.contains(err, REJECTED, "Basic, wrong password: the credentials were rejected")
        rc, out, err = run(lab, ["get", auth] + base + ["-a:Basic", "-u:carol", "-p:carolpw"])
        t.eq(rc, 0, "Basic, right password: exit 0")
        d.check_alive(t, "winrmctl's logins")
    finally:
        t.eq(d.stop(), 0, "clean stop")


def test_closed(lab):
    """AllowUnencrypted false, Negotiate off: Basic is not offered over
    HTTP, Negotiate not at all."""
    d = lab_daemon(lab, {"Service": {"AllowUnencrypted": False,
                                     "Auth": {"Basic": True, "Negotiate": False}}})
    d.start()
    try:
        url = "http://localhost:%d/wsman" % d.port
        base = ["get", "winrm/config/service/auth", "-r:" + url, "-unencrypted"]
        rc, out, err = run(lab, base + ["-a:Basic", "-u:carol", "-p:carolpw"])
        t.eq(rc, 1, "Basic over HTTP, not allowed there: exit 1")
        t.contains(err, "does not accept Basic over plain HTTP",
                   "Basic over HTTP: says so")
        t.contains(err, "it offers: Kerberos", "Basic over HTTP: what is offered")
        t.not_contains(err, REJECTED, "Basic over HTTP: not a rejection of the password")
        rc, out, err = run(lab, base + ["-a:Negotiate", "-u:WINRMD\\carol", "-p:carolpw"])
        t.eq(rc, 1, "Negotiate, switched off: exit 1")
        t.contains(err, "does not offer this authentication method",
                   "Negotiate, switched off: not offered")
    finally:
        t.eq(d.stop(), 0, "clean stop")


def main():
    with Lab() as lab:
        test_open(lab)
        test_closed(lab)


main()
t.done()
