#!/usr/bin/python3
"""t0003 - either process dying takes the other down, logged, with a
non-zero status so that systemd (Restart=on-failure) restarts the service."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from tap import Tap  # noqa: E402
from winrmd import Daemon  # noqa: E402

t = Tap()


def gone(pid, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().split()[2] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_helper_killed():
    d = Daemon()
    try:
        d.start()
        helper = d.helper_pid()
        t.ok(helper, "helper found")
        os.kill(helper, signal.SIGKILL)
        try:
            rc = d.proc.wait(10)
        except Exception:
            rc = "hung"
        t.eq(rc, 1, "listener exits with status 1 when the helper dies")
        t.contains(d.log(), "helper killed by signal 9", "the helper's death is logged")
    finally:
        d.cleanup()


def test_listener_killed():
    d = Daemon()
    try:
        d.start()
        helper = d.helper_pid()
        os.kill(d.proc.pid, signal.SIGKILL)
        d.proc.wait(10)
        t.ok(gone(helper), "helper exits when the listener dies")
        t.ok(d.wait_log("listener went away"), "the helper logs why it stops")
    finally:
        d.cleanup()


def test_helper_sigterm_alone():
    d = Daemon()
    try:
        d.start()
        helper = d.helper_pid()
        os.kill(helper, signal.SIGTERM)
        # a lone SIGTERM to the helper waits for the listener's order for a
        # grace period; a SIGTERM to the listener then stops both cleanly
        time.sleep(0.3)
        t.ok(d.alive(), "listener still serving right after a lone SIGTERM to the helper")
        t.eq(d.stop(), 0, "orderly stop still works")
        t.ok(gone(helper), "helper gone")
    finally:
        d.cleanup()


t.run(test_helper_killed)
t.run(test_listener_killed)
t.run(test_helper_sigterm_alone)
sys.exit(t.done())
