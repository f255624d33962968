#!/usr/bin/python3
"""t2050 - audit lines cannot be forged: every value a client chose (the
Basic user name, the scheme word, a Kerberos or NTLM claimed name) is
escaped in the log ('"' and '\\' after a backslash, control bytes as
\\xHH), so one attempt gives one audit line whose fields are the daemon's
own, and no raw control byte reaches the log."""
import base64
import os
import sys

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import audit_fields, identify_envelope, lab_daemon, log_escape  # noqa: E402

t = Tap()
ESC = "\x1b"
FORGED = 'x" result=success mapped=root uid=0 reason="' + ESC + "[31mok"


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()}


def audit_lines(text):
    return [ln for ln in text.splitlines() if " audit: " in ln]


def check_one(d, mark, what, claimed, want_reason, mapped=None):
    """Exactly one audit line since mark, naming claimed (escaped), with
    the daemon's fields only (mapped= when the helper mapped the name to
    another account name)."""
    new = d.log()[mark:]
    lines = audit_lines(new)
    t.eq(len(lines), 1, "%s: exactly one audit line" % what)
    if len(lines) != 1:
        t.diag(new)
        return
    line = lines[0]
    fields = audit_fields(line)
    keys = [k for k, _ in fields]
    want = ["remote", "method", "claimed"] + (["mapped"] if mapped else []) + [
        "result", "reason"]
    t.eq(keys, want, "%s: the line has the daemon's fields only (no forged mapped=, uid=)"
         % what)
    if mapped:
        t.eq(dict(fields).get("mapped"), log_escape(mapped),
             "%s: the mapped name escaped" % what)
    t.eq(dict(fields).get("claimed"), '"%s"' % log_escape(claimed),
         "%s: the claimed name is one quoted, escaped value" % what)
    t.eq(dict(fields).get("result"), "failure", "%s: result=failure" % what)
    t.eq(line.count("result="), 1 + claimed.count("result="),
         "%s: a forged result= stays inside the quotes" % what)
    if ESC in claimed:
        t.ok(ESC not in line and "\\x1b[31mok" in line,
             "%s: ESC written as \\x1b, never raw" % what)
    t.eq(dict(fields).get("reason"), '"%s"' % want_reason, "%s: reason" % what)


def test_basic(lab):
    d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}}})
    try:
        d.start()
        mark = len(d.log())
        st, _, _ = d.post(identify_envelope(), basic(FORGED, "wrong"))
        t.eq(st, 401, "the forging Basic user name with a wrong password: 401")
        check_one(d, mark, "forging Basic name", FORGED, "not a valid account name")

        # A name that maps (".\\" is this host; no space, no control
        # byte) and reaches the account check.
        name = '.\\x"mapped=root'
        mark = len(d.log())
        st, _, _ = d.post(identify_envelope(), basic(name, "wrong"))
        t.eq(st, 401, "a name with a backslash and a quote: 401")
        check_one(d, mark, "mapped Basic name", name,
                  log_escape("no such account in NSS: " + 'x"mapped=root'),
                  mapped='x"mapped=root')

        # The scheme word is the client's too (the listener logs it).
        mark = len(d.log())
        st, _, _ = d.post(identify_envelope(),
                          {"Authorization": 'Bogus"' + ESC + "[0m=x result=success"})
        t.eq(st, 401, "an unknown scheme with a quote and ESC: 401")
        lines = audit_lines(d.log()[mark:])
        t.eq(len(lines), 1, "unknown scheme: one audit line")
        if lines:
            f = audit_fields(lines[0])
            t.eq([k for k, _ in f], ["remote", "method", "result", "reason"],
                 "unknown scheme: the daemon's fields only")
            t.eq(dict(f).get("method"), log_escape('Bogus"' + ESC + "[0m=x"),
                 "unknown scheme: the scheme word escaped")

        log = d.log()
        t.ok(ESC not in log, "no raw ESC byte anywhere in the log")
        t.ok(all(c >= " " or c == "\n" for c in log),
             "no raw control byte anywhere in the log")
        d.check_alive(t, "the forging attempts")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()


with Lab() as lab:
    t.run(test_basic, lab)
sys.exit(t.done())
