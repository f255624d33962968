#!/usr/bin/python3
"""t2060 - the audit trail: one session of a real client (pywinrm over
Basic on one keep-alive connection: login, shell, command, its exit,
shell delete) greps out of the log by the connection id of its login
line, every event once, in order, each with remote=, port=, conn= and an
ISO 8601 time with zone; a Basic refusal before PAM names the user
claimed; a configuration change and a lockout are audited too."""
import base64
import os
import re
import sys

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import soap  # noqa: E402
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import audit_fields, identify_envelope, lab_daemon  # noqa: E402

t = Tap()
CFG = "http://schemas.microsoft.com/wbem/wsman/1/config"
PUT = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put"
# The time stamp of a foreground line: local time, milliseconds, zone.
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d winrmd(-priv)?\[\d+\] "
                 r"notice: audit: ")
COMMAND = 'echo "audit" trail; exit 3'


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()}


def audit_lines(text):
    return [ln for ln in text.splitlines() if " audit: " in ln]


def event(line):
    return line.split(" audit: ", 1)[1].split(" ", 1)[0]


def fields(line):
    return dict(audit_fields(line))


def session(d):
    """login, shell, command (exit 3), delete with pywinrm on one
    connection; returns the shell id and the command's output."""
    import winrm.protocol
    p = winrm.protocol.Protocol(endpoint=d.url, transport="basic", username="alice",
                                password="alicepw")
    shell = p.open_shell()
    cmd = p.run_command(shell, COMMAND)
    out, err, code = p.get_command_output(shell, cmd)
    p.cleanup_command(shell, cmd)
    p.close_shell(shell)
    return shell, out, code


def check_session(d):
    shell, out, code = session(d)
    t.eq((out, code), (b"audit trail\n", 3), "pywinrm runs the command: its output, exit 3")
    log = d.log()
    login = [ln for ln in audit_lines(log)
             if event(ln) == "authentication" and 'claimed="alice"' in ln
             and "result=success" in ln]
    if not t.eq(len(login), 1, "one login line for alice's session"):
        t.diag(log[-3000:])
        return
    conn = fields(login[0]).get("conn")
    t.ok(conn and conn.isdigit(), "the login line names its connection", login[0])
    mine = [ln for ln in log.splitlines() if (ln + " ").find(" conn=%s " % conn) >= 0]
    t.ok(all(" audit: " in ln for ln in mine), "what greps by conn= is the audit trail",
         "\n".join(mine))
    got = [(event(ln), fields(ln).get("action")) for ln in mine]
    if not t.eq(got, [("authentication", None), ("authorization", None),
                      ("shell", "create"), ("command", "start"), ("command", "exit"),
                      ("shell", "delete")],
                "the session in order: login, authorization, shell create, command "
                "start, its exit, shell delete"):
        t.diag("\n".join(mine))
    for ln in mine:
        f = fields(ln)
        keys = list(f)
        t.ok(keys[0] == "remote" and keys[-2:] == ["conn", "port"]
             and f["remote"] == "127.0.0.1" and f["port"].isdigit()
             and 0 < int(f["port"]) < 65536,
             "%s: remote=127.0.0.1 first, conn= and the client's port last" % event(ln), ln)
        t.ok(ISO.match(ln), "%s: ISO 8601 local time with its zone" % event(ln), ln)
    t.eq(len({fields(ln)["port"] for ln in mine}), 1,
         "one port: the one TCP connection of the session")
    if len(mine) != 6:
        return
    a, z, sc, cs, ce, sd = [fields(ln) for ln in mine]
    t.eq((a["method"], a["mapped"], a["result"]), ("Basic/Basic", "alice", "success"),
         "login: method, account, success")
    t.eq((z["user"], z["result"]), ("alice", "allowed"), "authorization: alice allowed")
    t.eq((sc["user"], sc["shell"], sc["result"]), ("alice", shell, "success"),
         "shell create: the shell's id")
    t.eq(cs["command"], '"%s"' % COMMAND.replace('"', '\\"'),
         "command start: the command line, escaped")
    t.eq((cs["user"], cs["result"]), ("alice", "success"), "command start: alice, success")
    t.eq((ce["pid"], ce.get("exit")), (cs["pid"], "3"), "command exit: same pid, exit=3")
    t.eq((sd["shell"], sd["result"]), (shell, "success"), "shell delete: the same shell")


def check_refusals(d):
    mark = len(d.log())
    # Refused before PAM: a name of another domain (Basic is local only).
    st, _, _ = d.post(identify_envelope(), basic("OTHER\\alice", "alicepw"))
    t.eq(st, 401, "Basic OTHER\\alice: 401")
    lines = audit_lines(d.log()[mark:])
    t.eq(len(lines), 1, "one audit line for the refusal")
    if lines:
        f = fields(lines[0])
        t.eq((event(lines[0]), f.get("method"), f.get("claimed"), f.get("result")),
             ("authentication", "Basic", '"OTHER\\\\alice"', "failure"),
             "the refusal names the user claimed")
        t.ok("conn" in f and "port" in f, "and its connection and port", lines[0])
    # A configuration change by an administrator.
    mark = len(d.log())
    body = '<cfg:Logging xmlns:cfg="%s/logging"><cfg:Level>info</cfg:Level></cfg:Logging>' % CFG
    st, _, _ = d.post(soap.envelope(PUT, CFG + "/logging", body=body), basic("carol", "carolpw"))
    t.eq(st, 200, "carol Puts winrm/config/logging Level=info")
    lines = [ln for ln in audit_lines(d.log()[mark:]) if event(ln) == "config"]
    t.eq(len(lines), 1, "one config line")
    if lines:
        f = fields(lines[0])
        t.eq((f.get("user"), f.get("setting"), f.get("value"), f.get("result")),
             ("carol", "Logging.Level", '"info"', "success"), "config: who, what, the value")
    # Logging.AuditSyslog: settable over WS-Management; the lines keep
    # going to standard error (syslog gets a copy).
    mark = len(d.log())
    body = ('<cfg:Logging xmlns:cfg="%s/logging"><cfg:AuditSyslog>true</cfg:AuditSyslog>'
            '</cfg:Logging>' % CFG)
    st, _, resp = d.post(soap.envelope(PUT, CFG + "/logging", body=body),
                         basic("carol", "carolpw"))
    t.ok(st == 200 and b"<cfg:AuditSyslog>true</cfg:AuditSyslog>" in resp,
         "carol Puts winrm/config/logging AuditSyslog=true", (st, resp[:500]))
    t.contains(d.log()[mark:], 'audit: config remote=127.0.0.1 user=carol '
               'setting=Logging.AuditSyslog value="true" result=success conn=',
               "and that change is audited")
    # Lockouts (Throttling.MaxFailures=4 here; a success clears the
    # address's count): one line for each that begins, the address's and
    # dave's, on the connection of the failure that began them.
    mark = len(d.log())
    for _ in range(5):
        d.post(identify_envelope(), basic("dave", "wrong"))
    log = d.log()[mark:]
    locks = [fields(ln) for ln in audit_lines(log) if event(ln) == "lockout"]
    if not t.eq(sorted((f.get("address", "-"), f.get("account", "-"), f.get("result"))
                       for f in locks),
                [("-", "dave", "locked"), ("127.0.0.1", "-", "locked")],
                "two lockout lines: the address and the account"):
        t.diag(log)
    t.ok(locks and all("conn" in f and "port" in f and f.get("seconds") == "300"
                       for f in locks),
         "lockout: its connection, port and duration (LockoutTime)", locks)
    st, _, _ = d.post(identify_envelope(), basic("alice", "alicepw"))
    t.eq(st, 401, "locked out: alice's right password is refused now")
    t.contains(d.log(), 'result=failure reason="too many failures; refused for another',
               "and that refusal is audited")


def test_trail(lab):
    d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}},
                         "Throttling": {"MaxFailures": 4}})
    try:
        d.start()
        check_session(d)
        check_refusals(d)
        t.not_contains(d.log(), "alicepw", "no password in the log")
        d.check_alive(t, "the session")
    finally:
        d.cleanup()


with Lab() as lab:
    t.run(test_trail, lab)
sys.exit(t.done())
