#!/usr/bin/python3
"""bench/connlimits.py - the slow-client attack of the connection-limit
issue, for the record (bench/run.sh connlimits).

    sudo WINRMD_BUILDDIR=build-bench bench/connlimits.py

For each run "SOCKETS:ADDRESSES" of CONN_RUNS (default
"1000:8 10000:8 10000:40"): one winrmd with the default limits
(MaxConnections 300, MaxConnectionsPerAddress 30, HeaderWaitTimeout 20 s)
on 127.0.0.1; SOCKETS slow clients (tests/integration/lib/slowloris.py)
from ADDRESSES source addresses 127.0.0.2..., each sending a request
line and then a header line a second, never ending its headers, and
connecting again a second after the server closes it.  Prints:

  held       connections of the attack the daemon holds (most seen)
  conn/s     connection attempts of the attack per second
  Identify   anonymous Identify from 127.0.0.1 during the attack, one
             every 0.1 s (PROBES, default 50), each on a new connection
             with a 5 s limit: p50 / p99 / max in ms, and how many failed
  fds        the daemon's descriptors during the attack (most seen), and
             before it
  usable     seconds from the moment every attacking socket is closed
             until an Identify is answered (probes every 20 ms)
  clean      seconds until the daemon is back to its descriptors before
             the attack with an empty listen queue (limit 60 s)

Loopback only; each attack lasts about 10 s.  Needs root (the daemon
starts as root) and a hard RLIMIT_NOFILE above SOCKETS.
"""
import os
import resource
import statistics
import subprocess
import sys
import time

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("WINRMD_SRCDIR", os.path.dirname(HERE))
os.environ.setdefault("WINRMD_BUILDDIR", os.path.join(os.path.dirname(HERE), "build-bench"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "lib"))
from slowloris import SlowClients, identify  # noqa: E402
from winrmd import Daemon  # noqa: E402

RUNS = os.environ.get("CONN_RUNS", "1000:8 10000:8 10000:40").split()
PROBES = int(os.environ.get("PROBES", "50"))
CLEAN_LIMIT = 60.0


def fds(d):
    return len(os.listdir("/proc/%d/fd" % d.proc.pid))


def listen_queue(port):
    out = subprocess.run(["ss", "-ltnH", "sport = :%d" % port],
                         capture_output=True, text=True).stdout.split()
    return int(out[1]) if len(out) > 1 else 0


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def one_run(sockets, addrs):
    d = Daemon(config={"Logging": {"Level": "notice"}})
    att = None
    try:
        d.start()
        base = fds(d)
        att = SlowClients(d.port, sockets, "--first", 2, "--addrs", addrs,
                          "--trickle", 1, "--reconnect", 1, "--limit", 300)
        att.line(timeout=90)                    # "ready"
        time.sleep(2)
        before = att.command("stats", timeout=60)
        t0 = time.monotonic()
        lat, failed, most = [], 0, 0
        for _ in range(PROBES):
            ok, dt = identify(d.port, timeout=5.0)
            if ok:
                lat.append(dt * 1000)
            else:
                failed += 1
            most = max(most, fds(d))
            time.sleep(0.1)
        after = att.command("stats", timeout=60)
        rate = (after.get("connects", 0) - before.get("connects", 0)) / (time.monotonic() - t0)
        att.close()
        closed = time.monotonic()
        usable = None
        while time.monotonic() - closed < CLEAN_LIMIT:
            if identify(d.port, timeout=1.0)[0]:
                usable = time.monotonic() - closed
                break
            time.sleep(0.02)
        clean = None
        while time.monotonic() - closed < CLEAN_LIMIT:
            if fds(d) <= base + 1 and listen_queue(d.port) == 0:
                clean = time.monotonic() - closed
                break
            time.sleep(0.02)
        d.stop()
        return dict(sockets=sockets, addrs=addrs, held=most - base, rate=rate,
                    p50=pct(lat, 50), p99=pct(lat, 99), max=max(lat) if lat else float("nan"),
                    failed=failed, fds=most, base=base, usable=usable, clean=clean)
    finally:
        if att is not None:
            att.kill()
        d.cleanup()


def secs(x):
    return "%.2f" % x if x is not None else ">%d" % CLEAN_LIMIT


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(int(r.split(":")[0]) for r in RUNS) + 200
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    print("== slow clients trickling header lines (MaxConnections 300, "
          "MaxConnectionsPerAddress 30, HeaderWaitTimeout 20 s), %d Identify probes" % PROBES)
    print("%-8s %5s %6s %8s %10s %10s %10s %7s %10s %10s %9s" % (
        "sockets", "addrs", "held", "conn/s", "p50 ms", "p99 ms", "max ms", "failed",
        "fds", "usable s", "clean s"))
    for r in RUNS:
        n, a = (int(x) for x in r.split(":"))
        x = one_run(n, a)
        print("%-8d %5d %6d %8.0f %10.2f %10.2f %10.2f %4d/%-3d %4d (%3d) %10s %9s" % (
            x["sockets"], x["addrs"], x["held"], x["rate"], x["p50"], x["p99"], x["max"],
            x["failed"], PROBES, x["fds"], x["base"], secs(x["usable"]), secs(x["clean"])),
            flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
