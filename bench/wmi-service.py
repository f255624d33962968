#!/usr/bin/python3
"""bench/wmi-service.py - Enumerate of every Win32_Service next to
`systemctl list-units --all --type=service`, measured in the same run
against the same systemd (bench/run.sh wmi-service).

    sudo WINRMD_BUILDDIR=build-bench bench/wmi-service.py

Win32_Service reads systemd over D-Bus, so it needs systemd as PID 1,
which the benchmark machine's root does not run (and must never be booted
there).  So this boots the Debian root of the systemd tests
(tests/systemd/container.sh, through tests/integration/lib/container.py:
systemd-nspawn, its own PID, mount and network namespaces, only its own
loopback), installs the package built from WINRMD_BUILDDIR's sources
(tests/systemd/build-deb.sh, cached; or the .deb named by WINRMD_DEB),
runs `winrmctl quickconfig`, and, for the benchmark only, turns on Basic
and AllowUnencrypted in /etc/winrmd/winrmd.conf and restarts winrmd.  One
account, winrmbench, a member of winrmusers (not an administrator), with
a password (PAM, pam_unix).

Prints:
  1. Enumerate of every Win32_Service: Enumerate (OptimizeEnumeration,
     MaxElements 32000) and Pulls until EndOfSequence, MaxEnvelopeSize
     512000 (winrm.cmd's), Basic over HTTP, on one keep-alive connection,
     ITERATIONS times (default 20), by a client run on the host in the
     container's network namespace: enumerations/s, p50/p99, instances,
     answers and bytes; the same with a WQL projection (select Name,
     State) and with EnumerationMode EnumerateEPR (keys only: the
     provider reads no unit's properties, only the two lists); next to `systemctl list-units --all --type=service
     --no-pager` run ITERATIONS times inside the container (nsenter into
     all its namespaces, a new process each, output read in full), and
     `nsenter ... true` (what entering costs, included in systemctl's
     figures); the ratio winrmd/systemctl.  Also `systemctl
     list-unit-files --type=service --no-pager`, the same way: the class
     lists the unit files too (services not loaded, and every StartMode),
     with systemd's ListUnitFilesByPatterns, which is most of its cost;
     and the two D-Bus calls the provider lists with (ListUnitsByPatterns,
     ListUnitFilesByPatterns "*.service"), each by busctl the same way.
  2. A check that the count is right: the names enumerated (by the first,
     untimed, enumeration) are the services `systemctl list-units --all`
     and `systemctl list-unit-files` show (templates and not-found units
     left out, as tests/integration/t8310-wmi-systemd.py checks); a
     mismatch ends the run with the differences.

Bounded: every container step and the client have a timeout; traffic only
on the container's loopback.  The container is halted and its root
deleted at the end, also on error, SIGINT or SIGTERM.
"""
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "lib"))
import wmi  # noqa: E402  (bench/wmi.py: envelopes, Conn, pct)

SRCDIR = os.path.abspath(os.path.join(HERE, ".."))
BUILDDIR = os.environ.get("WINRMD_BUILDDIR") or os.path.join(SRCDIR, "build-bench")
ITERATIONS = int(os.environ.get("ITERATIONS", "20"))
USER, PASSWORD = "winrmbench", "Bench-wmi-service1"
PORT = 5985
CONF = "/etc/winrmd/winrmd.conf"
SYSTEMCTL = ["systemctl", "list-units", "--all", "--type=service", "--no-pager"]
BUSCTL = ["busctl", "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
          "org.freedesktop.systemd1.Manager"]
SYSTEMCTL_FILES = ["systemctl", "list-unit-files", "--type=service", "--no-pager"]
RE_NAME = re.compile(rb"<p:Name>([^<]*)</p:Name>")


def die(msg):
    print("bench/wmi-service.py: " + msg, file=sys.stderr)
    sys.exit(1)


# ---- the client, run in the container's network namespace ----

def client(port, iterations, user, password):
    """Prints one JSON line: names (first enumeration) and the timed runs."""
    import base64
    auth = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    c = wmi.Conn(port, auth)
    uri = wmi.WMI + "Win32_Service"
    bodies = []
    n, answers, size = c.enumerate_all(uri, tag=b"<p:Win32_Service ", keep=bodies)
    names = [m.decode() for b in bodies for m in RE_NAME.findall(b)]
    out = {"names": names, "first": [n, answers, size]}
    for kind, u, q, mode, tag in (
            ("all", uri, None, None, b"<p:Win32_Service "),
            ("wql", wmi.WMI + "*", "select Name, State from Win32_Service", None,
             b"<p:Win32_Service "),
            ("epr", uri, None, "EnumerateEPR", b"<a:EndpointReference")):
        times, counts = [], []
        for _ in range(iterations):
            t0 = time.perf_counter()
            r = c.enumerate_all(u, q, tag=tag, mode=mode)
            times.append(time.perf_counter() - t0)
            counts.append(r)
        out[kind] = {"times": times, "counts": counts}
    c.c.close()
    print(json.dumps(out))


# ---- the benchmark ----

def build_deb():
    deb = os.environ.get("WINRMD_DEB")
    if deb:
        if not os.path.isfile(deb):
            die("WINRMD_DEB=%s: no such file" % deb)
        return deb
    p = subprocess.run([os.path.join(SRCDIR, "tests", "systemd", "build-deb.sh"), BUILDDIR],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1800)
    lines = p.stdout.strip().splitlines()
    # 3: built, but lintian has findings (the package is still usable)
    if p.returncode not in (0, 3) or not lines or not os.path.isfile(lines[-1]):
        die("tests/systemd/build-deb.sh %s failed:\n%s" % (BUILDDIR, p.stderr[-3000:]))
    return lines[-1]


def service_name(unit):
    if not unit.endswith(".service") or unit.endswith("@.service"):
        return None
    return unit[:-len(".service")]


def systemd_services(ct):
    """(names, list-units --all count, list-unit-files count): the services
    systemctl shows, as t8310 counts them."""
    units = json.loads(ct.sh("systemctl list-units --all --type=service -o json "
                             "--no-pager").stdout or "[]")
    files = json.loads(ct.sh("systemctl list-unit-files --type=service -o json "
                             "--no-pager").stdout or "[]")
    names = set()
    for u in units:
        n = service_name(u["unit"])
        if n is not None and u["load"] != "not-found":
            names.add(n)
    for f in files:
        n = service_name(os.path.basename(f["unit_file"]))
        if n is not None:
            names.add(n)
    return names, len(units), len(files)


def must(r, what):
    if r.returncode != 0:
        die("%s: exit %d\n%s%s" % (what, r.returncode, r.stdout[-2000:], r.stderr[-2000:]))
    return r


def setup(ct, deb):
    ct.copy_in(deb, "/root/" + os.path.basename(deb))
    must(ct.sh("cd /root && apt-get install -y ./%s" % os.path.basename(deb), timeout=300),
         "apt-get install ./%s" % os.path.basename(deb))
    must(ct.run(["winrmctl", "quickconfig"]), "winrmctl quickconfig")
    must(ct.sh("useradd -m -s /bin/sh %s && echo %s:%s | chpasswd && usermod -aG winrmusers %s"
               % (USER, USER, PASSWORD, USER)), "useradd %s" % USER)
    # For the benchmark only: Basic over plain HTTP (a plain HTTP client).
    must(ct.sh(r"sed -i -e 's/^\(\s*\)Basic = false;/\1Basic = true;/' "
               r"-e 's/^\(\s*\)AllowUnencrypted = false;/\1AllowUnencrypted = true;/' %s && "
               r"grep -Eq '^\s*Basic = true;' %s && grep -Eq '^\s*AllowUnencrypted = true;' %s && "
               "systemctl restart winrmd && systemctl is-active winrmd" % (CONF, CONF, CONF)),
         "Basic and AllowUnencrypted in %s, systemctl restart winrmd" % CONF)


def row(name, times, extra=""):
    print("%-48s %9.1f %9.1f %9.1f  %s" % (
        name, len(times) / sum(times), statistics.median(times) * 1000,
        wmi.pct(times, 99) * 1000, extra))


def timed_inside(ct, argv):
    """argv inside the container ITERATIONS times, each a new process
    entering all its namespaces (as container.sh exec does, without the
    script around it): (times, lines and bytes of the last output)."""
    cmd = ["nsenter", "-t", ct.leader, "-a", "env", "-i",
           "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "HOME=/root"] + argv
    times, out = [], b""
    for _ in range(ITERATIONS):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        times.append(time.perf_counter() - t0)
        if p.returncode != 0:
            die("%s: exit %d: %s" % (" ".join(argv), p.returncode, p.stderr.decode()[-1000:]))
        out = p.stdout
    return times, out


def bench(ct, deb):
    t0 = time.monotonic()
    setup(ct, deb)
    t_setup = time.monotonic() - t0
    before, n_units, n_files = systemd_services(ct)
    r = ct.netns(["/usr/bin/python3", os.path.abspath(__file__), "client", str(PORT),
                  str(ITERATIONS), USER, PASSWORD], timeout=600)
    after, n_units_after, _ = systemd_services(ct)
    try:
        res = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        die("client: exit %d\n%s%s" % (r.returncode, r.stdout[-2000:], r.stderr[-3000:]))
    names = res["names"]
    want = before | after
    print("== Enumerate every Win32_Service (systemd %s as PID 1 in a container; boot %.1f s, "
          "package and quickconfig %.1f s), %d runs each" % (
              ct.sh("systemctl --version").stdout.split()[1], ct.timings.get("boot", 0),
              t_setup, ITERATIONS))
    print("check: winrmd enumerates %d services, systemctl shows %d (list-units --all: %d "
          "service units before the client ran, %d after%s; list-unit-files: %d)" % (
              len(names), len(want), n_units, n_units_after,
              (": " + ", ".join(sorted(after - before))) if after - before else "", n_files))
    if len(set(names)) != len(names) or set(names) != want:
        die("the services enumerated are not systemd's: only winrmd: %s; only systemctl: %s%s"
            % (sorted(set(names) - want), sorted(want - set(names)),
               "; some twice" if len(set(names)) != len(names) else ""))
    print("%-48s %9s %9s %9s" % ("run", "per s", "p50 ms", "p99 ms"))
    for kind, label in (("all", "winrmd Enumerate+Pulls, select *"),
                        ("wql", "winrmd WQL select Name, State"),
                        ("epr", "winrmd EnumerateEPR (no property read)")):
        times, counts = res[kind]["times"], res[kind]["counts"]
        n, answers, size = counts[-1]
        if any(abs(c[0] - len(names)) > 3 for c in counts):
            die("%s: instance counts vary: %s" % (label, [c[0] for c in counts]))
        row(label, times, "%d instances, %d answer%s, %.3f MB" % (
            n, answers, "" if answers == 1 else "s", size / 1e6))
        if kind == "all":
            w_times = times
    s_times, out = timed_inside(ct, SYSTEMCTL)
    # the unit lines: what follows the header, up to the empty line before
    # the legend
    lines = out.decode("utf-8", "replace").split("\n\n")[0].count("\n")
    row(" ".join(SYSTEMCTL[:4]), s_times, "%d units, %.3f MB" % (lines, len(out) / 1e6))
    f_times, out = timed_inside(ct, SYSTEMCTL_FILES)
    lines = out.decode("utf-8", "replace").split("\n\n")[0].count("\n")
    row(" ".join(SYSTEMCTL_FILES[:3]), f_times, "%d unit files, %.3f MB" % (lines, len(out) / 1e6))
    for method in ("ListUnitsByPatterns", "ListUnitFilesByPatterns"):
        times, out = timed_inside(ct, BUSCTL + [method, "asas", "0", "1", "*.service"])
        row("busctl call ... " + method, times, "%.3f MB" % (len(out) / 1e6))
    n_times, _ = timed_inside(ct, ["true"])
    row("nsenter -a true (in the figures above)", n_times)
    for name, times in (("list-units", s_times), ("list-unit-files", f_times)):
        print("%-48s %9.2f  (p50 %.2f)" % (
            "ratio winrmd/systemctl %s, runs/s" % name,
            (len(w_times) / sum(w_times)) / (len(times) / sum(times)),
            statistics.median(times) / statistics.median(w_times)))


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "client":
        client(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5])
        return
    if os.geteuid() != 0:
        die("run as root (systemd-nspawn)")
    from container import Container  # tests/integration/lib
    # SIGTERM (run.sh's trap, a timeout) unwinds like SIGINT: the
    # container is destroyed on the way out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    deb = build_deb()
    with Container("bench-wmisvc") as ct:
        ct.start()
        bench(ct, deb)
    print("(container halted and deleted in %.1f s)" % ct.timings.get("halt", 0))


if __name__ == "__main__":
    main()
