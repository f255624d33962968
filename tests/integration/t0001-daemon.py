#!/usr/bin/python3
"""t0001 - the daemon's life cycle: -t/-T, start as two processes with the
listener unprivileged, refusals at start-up, clean stop."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from tap import Tap  # noqa: E402
from winrmd import SRCDIR, WINRMD, Daemon, IDENTIFY, free_port  # noqa: E402

t = Tap()


def run(args, **kw):
    return subprocess.run([WINRMD] + args, capture_output=True, text=True, timeout=30, **kw)


def test_check_and_dump():
    shipped = os.path.join(SRCDIR, "conf", "winrmd.conf")
    r = run(["-t", "-c", shipped])
    # winrmd -t also checks the host (t0006): on a build host the
    # listener account and the installed helper may be missing
    host = [ln for ln in r.stderr.splitlines() if ": " in ln and "warning:" not in ln
            and "configuration errors" not in ln]
    t.ok(r.returncode == 0 or all("Daemon.User" in ln or "Daemon.HelperPath" in ln for ln in host),
         "winrmd -t finds nothing wrong with the shipped winrmd.conf but what this host lacks",
         r.stderr)
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        here = os.path.join(d, "shipped.conf")
        with open(shipped) as f:
            text = f.read()
        with open(here, "w") as f:
            f.write(text.replace('User = "winrmd";', 'User = "nobody"; HelperPath = "%s";'
                                 % os.path.join(os.path.dirname(WINRMD), "..", "helper",
                                                "winrmd-priv")))
        r = run(["-t", "-c", here])
        t.eq(r.returncode, 0, "winrmd -t accepts the shipped winrmd.conf (with this host's "
             "account and helper)")
        bad = os.path.join(d, "bad.conf")
        with open(bad, "w") as f:
            f.write("Service = {\n  MaxEnvelopeSizekb = 1;\n  Bogus = true;\n"
                    "  Auth = { Digest = true; };\n};\n")
        r = run(["-t", "-c", bad])
        t.eq(r.returncode, 1, "winrmd -t refuses a bad file with status 1")
        t.contains(r.stderr, bad + ":2: Service.MaxEnvelopeSizekb:", "range error names file:line and key")
        t.contains(r.stderr, bad + ":3: Service.Bogus: unknown setting", "unknown key names file:line")
        t.contains(r.stderr, "Digest authentication is not supported by this server",
                   "Digest refused with the not-supported message")
        r = run(["-t", "-c", os.path.join(d, "missing.conf")])
        t.eq(r.returncode, 1, "missing file refused")
        t.contains(r.stderr, "missing.conf", "missing file named")

        r1 = run(["-T", "-c", shipped])
        t.eq(r1.returncode, 0, "winrmd -T prints the effective configuration")
        dump = os.path.join(d, "dump.conf")
        with open(dump, "w") as f:
            f.write(r1.stdout)
        r2 = run(["-T", "-c", dump])
        t.eq(r2.stdout, r1.stdout, "the dump parses back to the same dump")
        t.contains(r1.stdout, "MaxEnvelopeSizekb = 500;", "dump carries defaults")
    r = run(["-x"])
    t.eq(r.returncode, 2, "unknown option: usage error status 2")


def test_two_processes():
    d = Daemon()
    try:
        d.start()
        lst = os.stat("/proc/%d" % d.proc.pid)
        t.eq(lst.st_uid, 65534, "listener runs as Daemon.User (nobody), not root")
        with open("/proc/%d/status" % d.proc.pid) as f:
            status = f.read()
        t.contains(status, "NoNewPrivs:\t1", "listener has no_new_privs set")
        helper = d.helper_pid()
        t.ok(helper is not None, "helper process started")
        if helper:
            t.eq(os.stat("/proc/%d" % helper).st_uid, 0, "helper runs as root")
            with open("/proc/%d/cmdline" % helper) as f:
                t.contains(f.read(), "winrmd-priv", "helper is the winrmd-priv binary")
            maps = open("/proc/%d/maps" % helper).read()
            t.not_contains(maps, "libmicrohttpd", "helper does not link libmicrohttpd")
            t.not_contains(maps, "libxml2", "helper does not link libxml2")
        status, _, body = d.post(IDENTIFY, {"WSMANIDENTIFY": "unauthenticated"})
        t.eq(status, 200, "serves Identify")
        rc = d.stop(signal.SIGTERM)
        t.eq(rc, 0, "SIGTERM: clean exit status 0")
        t.ok(helper is None or not os.path.exists("/proc/%d" % helper)
             or open("/proc/%d/stat" % helper).read().split()[2] == "Z",
             "helper gone after stop")
        t.contains(d.log(), "winrmd stopped", "stop logged")
        t.not_contains(d.log(), "Sanitizer", "no sanitizer report")
        t.not_contains(d.log(), "runtime error", "no UBSan report")
    finally:
        d.cleanup()


def test_refusals():
    d = Daemon(config={"Service": {"Auth": {"Digest": False}}})
    try:
        d.start(wait=False)
        rc = d.proc.wait(20)
        t.eq(rc, 1, "daemon does not start with a Digest key")
        t.contains(d.log(), "Digest authentication is not supported", "and says why")
    finally:
        d.cleanup()
    d = Daemon(user="no-such-user-winrmd")
    try:
        d.start(wait=False)
        rc = d.proc.wait(20)
        t.eq(rc, 1, "daemon does not start without its listener account")
        t.contains(d.log(), "no-such-user-winrmd", "missing account named")
    finally:
        d.cleanup()
    d = Daemon(user="root")
    try:
        d.start(wait=False)
        rc = d.proc.wait(20)
        t.eq(rc, 1, "daemon refuses to keep the listener as root")
    finally:
        d.cleanup()
    busy = socket.socket()
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    port = free_port()
    busy.bind(("127.0.0.1", port))
    busy.listen(1)
    d = Daemon(port=port)
    try:
        d.start(wait=False)
        rc = d.proc.wait(20)
        t.eq(rc, 1, "daemon does not start when its port is taken")
        t.contains(d.log(), "cannot listen", "port conflict reported")
    finally:
        busy.close()
        d.cleanup()
    d = Daemon(config={"Daemon": {"HelperPath": "/nonexistent/winrmd-priv"}})
    try:
        d.start(wait=False)
        rc = d.proc.wait(20)
        t.eq(rc, 1, "daemon does not start when the helper cannot run")
    finally:
        d.cleanup()


def test_background():
    d = Daemon()
    try:
        with open(d.log_path, "ab") as logf:
            # stderr stays the log after detaching: give it a file, not a pipe
            r = subprocess.run([WINRMD, "-c", d.conf_path], stdout=subprocess.DEVNULL,
                               stderr=logf, timeout=30, env=d.env)
        t.eq(r.returncode, 0, "without -f winrmd detaches and reports readiness with status 0")
        out = subprocess.run(["pgrep", "-f", d.conf_path], capture_output=True, text=True)
        pids = [int(p) for p in out.stdout.split()]
        t.ok(len(pids) == 2, "listener and helper running in the background")
        listener = [p for p in pids if os.stat("/proc/%d" % p).st_uid != 0]
        if listener:
            os.kill(listener[0], signal.SIGTERM)
        for p in pids:
            for _ in range(100):
                if not os.path.exists("/proc/%d" % p):
                    break
                time.sleep(0.05)
        t.ok(all(not os.path.exists("/proc/%d" % p) for p in pids), "both stop on SIGTERM")
    finally:
        d.cleanup()


if os.geteuid() != 0:
    print("Bail out! the integration tests start winrmd as root")
    sys.exit(1)
for fn in (test_check_and_dump, test_two_processes, test_refusals, test_background):
    t.run(fn)
sys.exit(t.done())
