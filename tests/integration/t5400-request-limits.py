#!/usr/bin/python3
"""t5400 - no request reaches the helper's protocol bounds (security issue,
item 3).  On f1c8dc8 a member of the remote-users group could stop the
whole service: a Shell with 1,025 rsp:Variable (or a Command with 1,025
arguments and WINRS_SKIP_CMD_SHELL) ended the helper on the next Command,
and an administrator's config Put of more than 64 elements did the same.
The listener now refuses each with w:QuotaLimit, the daemon keeps
answering, and another user's running command survives."""
import os
import sys
import time

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from lab import Lab  # noqa: E402
from shellclient import (A_CREATE, CMD_OPTS, CREATE_OPTS, Client, envelope,  # noqa: E402
                         options, q, shell_body)
from tap import Tap  # noqa: E402
from winrmd import lab_daemon  # noqa: E402

t = Tap()
KEEP_ENV = ["LD_PRELOAD", "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP", "NSS_WRAPPER_HOSTS"]
CFG = "http://schemas.microsoft.com/wbem/wsman/1/config"
PUT = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put"
QUOTA = ("s:Sender", "w:QuotaLimit", "2150858815")


def variables(n):
    return "<rsp:Environment>%s</rsp:Environment>" % "".join(
        '<rsp:Variable Name="V%d">%d</rsp:Variable>' % (i, i) for i in range(n))


def is_quota(r):
    return r.status == 500 and r.fault is not None and tuple(r.fault[:3]) == QUOTA


def start_bystander(carol):
    """carol's long command: it must still run after every attack."""
    sh = carol.create()
    c = carol.command(sh.sid, "sleep 2; echo still-here")
    return sh.sid, c.cid


def bystander_alive(carol, sid, cid, what):
    out, err, code, _ = carol.drain(sid, cid, 40)
    t.ok(out is not None and b"still-here" in out and code == 0,
         "%s: carol's command ran to its end" % what, (out, err, code))
    carol.delete(sid)


def test_environment(d):
    alice = Client(d)
    carol = Client(d, "carol", "carolpw")
    sid, cid = start_bystander(carol)
    r = alice.post(envelope(A_CREATE, shell_body(variables(1025)), options=CREATE_OPTS))
    t.ok(is_quota(r), "Create with 1,025 rsp:Variable: w:QuotaLimit 2150858815",
         (r.status, r.fault, r.raw[:800]))
    ok = alice.create(variables(1024))
    t.eq(ok.status, 200, "Create with 1,024 rsp:Variable is accepted")
    if ok.status == 200:
        out, err, code, _ = alice.run(ok.sid, "echo $V1023")
        t.eq((out, code), (b"1023\n", 0), "and its commands see the variables")
        alice.delete(ok.sid)
    d.check_alive(t, "the environment limit")
    bystander_alive(carol, sid, cid, "environment")


def test_arguments(d):
    alice = Client(d)
    carol = Client(d, "carol", "carolpw")
    sid, cid = start_bystander(carol)
    sh = alice.create()
    skip = options(("WINRS_CONSOLEMODE_STDIN", "TRUE"), ("WINRS_SKIP_CMD_SHELL", "TRUE"))
    r = alice.command(sh.sid, "/bin/true", ["a"] * 1025, opts=skip)
    t.ok(is_quota(r), "Command with 1,025 arguments and WINRS_SKIP_CMD_SHELL: w:QuotaLimit",
         (r.status, r.fault, r.raw[:800]))
    out, err, code, _ = alice.run(sh.sid, "/bin/echo", ["a"] * 1024, opts=skip)
    t.eq((len((out or b"").split()), code), (1024, 0), "1,024 arguments run")
    out, err, code, _ = alice.run(sh.sid, "echo", ["a"] * 1025, opts=CMD_OPTS)
    t.eq((len((out or b"").split()), code), (1025, 0),
         "through the shell the arguments are one command line: no limit")
    alice.delete(sh.sid)
    d.check_alive(t, "the argument limit")
    bystander_alive(carol, sid, cid, "arguments")


def test_config_put(d):
    carol = Client(d, "carol", "carolpw")
    bystander = Client(d)
    sid, cid = start_bystander(bystander)
    body = ('<cfg:Service xmlns:cfg="%s/service">%s</cfg:Service>'
            % (CFG, "<cfg:MaxConnections>299</cfg:MaxConnections>" * 65))
    r = carol.post(envelope(PUT, body, resource=CFG + "/service"))
    t.ok(is_quota(r) or (r.status == 500 and r.fault is not None),
         "an administrator's Put of 65 elements is refused with a fault",
         (r.status, r.fault, r.raw[:800]))
    t.ok(r.status != 200, "and changes nothing")
    d.check_alive(t, "the settings limit")
    bystander_alive(bystander, sid, cid, "config Put")


with Lab() as lab:
    d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True},
                                     "MaxEnvelopeSizekb": 2048},
                         "Winrs": {"KeepEnvironment": KEEP_ENV}})
    try:
        d.start()
        for fn in (test_environment, test_arguments, test_config_put):
            t.run(fn, d)
        t.not_contains(d.log(), "protocol violation", "the helper saw no protocol violation")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()
sys.exit(t.done())
