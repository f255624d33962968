#!/usr/bin/python3
"""t8200 - Win32_Service against systemd's D-Bus API, played by a stand-in
on a private bus (lib/mocksystemd.py: no systemd runs where the tests
run, and a real one must not be stopped or reconfigured by a test): the
units and their states as the properties (Name, State, StartMode,
ProcessId, PathName, StartName, Status), WQL as winrm.cmd sends it, the
methods with Windows' return codes, each call made as the caller (the
stand-in sees the caller's uid and refuses a non-administrator as polkit
does: ReturnValue 2), and winrmctl's get, enumerate and invoke.

AcceptPause is true only where systemd can freeze (CanFreeze, cgroup v2 on
/sys/fs/cgroup and the unit's cgroup has cgroup.freeze): the stand-in's
web.service names a real cgroup this test creates in the host's cgroup v2
hierarchy; the daemon runs once with the host's /sys/fs/cgroup and once
in a mount namespace with the other answer (cgroup2 mounted on
/sys/fs/cgroup on a v1/hybrid host, a tmpfs there on a v2 host)."""
import copy
import os
import subprocess
import sys
import tempfile
import shutil

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from lab import Lab  # noqa: E402
from mocksystemd import UNITS, MockSystemd  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import BUILDDIR, lab_daemon  # noqa: E402
from wmiclient import NS, WmiClient, instance_dict  # noqa: E402

t = Tap()
CTL = os.path.join(BUILDDIR, "winrmctl", "winrmctl")
KEEP_ENV = ["LD_PRELOAD", "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP", "NSS_WRAPPER_HOSTS",
            "DBUS_SYSTEM_BUS_ADDRESS", "ASAN_OPTIONS", "LSAN_OPTIONS",
            "UID_WRAPPER_DISABLE_DEEPBIND", "NSS_WRAPPER_DISABLE_DEEPBIND"]


def rv(r):
    return instance_dict(r.first()).get("ReturnValue") if r.status == 200 else r.raw[:400]


def test_enumerate(d, bus):
    c = WmiClient(d, "alice")
    items, rs = c.enumerate_all("Win32_Service")
    v = {x["Name"]: x for x in (instance_dict(i) for i in items or [])}
    t.eq(sorted(v), ["broken", "cron", "old", "ssh", "web"],
         "Enumerate Win32_Service: the service units and unit files, without .service, "
         "templates left out")
    for name, u in UNITS.items():
        x = v.get(name[:-8], {})
        state = "Running" if u[0] == "active" else "Stopped"
        t.eq((x.get("State"), x.get("Started"), x.get("StartMode"), x.get("ProcessId"),
              x.get("PathName"), x.get("StartName"), x.get("DisplayName"), x.get("Status")),
             (state, "true" if state == "Running" else "false",
              {"enabled": "Auto", "disabled": "Manual"}[u[2]],
              str(u[3] if u[0] == "active" else 0), " ".join(u[6]), u[5] or "root",
              "Description of " + name, "Error" if u[0] == "failed" else "OK"),
             "%s: State, Started, StartMode, ProcessId, PathName, StartName, DisplayName, "
             "Status from systemd" % name)
    t.eq((v.get("old", {}).get("StartMode"), v.get("old", {}).get("State")), ("Disabled", "Stopped"),
         "a masked unit file that is not loaded: Disabled, Stopped")
    t.eq(v.get("broken", {}).get("ServiceSpecificExitCode"), "3",
         "ServiceSpecificExitCode is ExecMainStatus")
    r = c.get("Win32_Service", Name="cron")
    t.eq(instance_dict(r.first()).get("ProcessId") if r.status == 200 else r.raw[:300], "4242",
         "Get Win32_Service?Name=cron")
    r = c.get("Win32_Service", Name="nope")
    t.ok(r.fault and r.fault[1] == "a:DestinationUnreachable",
         "Get of a service that does not exist: a:DestinationUnreachable", r.raw[:400])
    r = c.enumerate("*", filter_text="select Name,State from Win32_Service where State='Running'")
    got = sorted(instance_dict(i)["Name"] for i in r.body.find("n:EnumerateResponse/w:Items", NS)) \
        if r.status == 200 else r.raw[:400]
    t.eq(got, ["cron", "web"], "WQL: select Name,State from Win32_Service where State='Running'")
    calls = [c_ for c_ in bus.state()["calls"] if c_[0] == "ListUnitsByPatterns"]
    t.ok(calls and all(c_[1] in (20001, 0) for c_ in calls) and
         any(c_[1] == 20001 for c_ in calls),
         "systemd was asked by alice's provider host, as alice (uid 20001)", calls[-3:])


def test_methods(d, bus):
    alice = WmiClient(d, "alice")
    carol = WmiClient(d, "carol")
    t.eq(rv(alice.invoke("Win32_Service", "StopService", Name="cron")), "2",
         "StopService by a non-administrator: refused by polkit's stand-in: ReturnValue 2")
    t.eq(bus.state()["units"]["cron.service"][0], "active", "  cron still runs")
    t.eq(rv(carol.invoke("Win32_Service", "StopService", Name="cron")), "0",
         "StopService by an administrator: 0")
    t.eq(bus.state()["units"]["cron.service"][0], "inactive", "  systemd stopped cron")
    t.eq(rv(carol.invoke("Win32_Service", "StopService", Name="cron")), "5",
         "StopService of a stopped service: 5 (cannot accept control)")
    t.eq(rv(carol.invoke("Win32_Service", "StartService", Name="cron")), "0", "StartService: 0")
    t.eq(rv(carol.invoke("Win32_Service", "StartService", Name="cron")), "10",
         "StartService of a running service: 10 (already running)")
    t.eq(rv(carol.invoke("Win32_Service", "PauseService", Name="ssh")), "6",
         "PauseService of a stopped service: 6 (not active)")
    t.eq(rv(carol.invoke("Win32_Service", "PauseService", Name="web")), "0",
         "PauseService: 0 (FreezeUnit)")
    t.eq(rv(carol.invoke("Win32_Service", "ResumeService", Name="web")), "0",
         "ResumeService: 0 (ThawUnit)")
    t.eq(rv(carol.invoke("Win32_Service", "ChangeStartMode", {"StartMode": "Disabled"}, Name="ssh")),
         "0", "ChangeStartMode Disabled: 0")
    t.eq(bus.state()["units"]["ssh.service"][2], "masked", "  the unit file is masked")
    r = alice.get("Win32_Service", Name="ssh")
    t.eq(instance_dict(r.first()).get("StartMode") if r.status == 200 else None, "Disabled",
         "  and shows as StartMode Disabled")
    t.eq(rv(carol.invoke("Win32_Service", "StartService", Name="ssh")), "14",
         "StartService of a disabled service: 14")
    t.eq(rv(carol.invoke("Win32_Service", "ChangeStartMode", {"StartMode": "Automatic"}, Name="ssh")),
         "0", "ChangeStartMode Automatic: 0")
    t.eq(bus.state()["units"]["ssh.service"][2], "enabled", "  the unit file is enabled")
    t.eq(rv(carol.invoke("Win32_Service", "ChangeStartMode", {"StartMode": "Manual"}, Name="ssh")),
         "0", "ChangeStartMode Manual: 0")
    t.eq(bus.state()["units"]["ssh.service"][2], "disabled", "  the unit file is disabled")
    t.eq(rv(carol.invoke("Win32_Service", "ChangeStartMode", {"StartMode": "Sometimes"}, Name="ssh")),
         "21", "ChangeStartMode with an unknown mode: 21")
    t.eq(rv(alice.invoke("Win32_Service", "ChangeStartMode", {"StartMode": "Disabled"}, Name="cron")),
         "2", "ChangeStartMode by a non-administrator: 2")
    reloads = [c_ for c_ in bus.state()["calls"] if c_[0] == "Reload"]
    t.ok(reloads and all(c_[1] == 20003 for c_ in reloads),
         "systemd reloaded after each change, asked by carol (uid 20003)", reloads)
    r = alice.invoke("Win32_Service", "StopService", Name="nope")
    t.ok(r.fault and r.fault[1] == "a:DestinationUnreachable",
         "StopService of a service that does not exist: a:DestinationUnreachable", r.raw[:400])


def cgroup2_mounts():
    """Mount points of cgroup2 file systems, the last mount of a point
    last."""
    with open("/proc/self/mounts") as f:
        return [line.split()[1] for line in f if line.split()[2] == "cgroup2"]


def fs_type(path):
    with open("/proc/self/mounts") as f:
        types = [line.split()[2] for line in f if line.split()[1] == path]
    return types[-1] if types else None


def test_accept_pause(d, v2, what):
    """AcceptPause of every unit: only web (active, CanFreeze, a cgroup
    with cgroup.freeze) when the daemon sees cgroup v2 on /sys/fs/cgroup."""
    c = WmiClient(d, "alice")
    items, rs = c.enumerate_all("Win32_Service")
    got = {x["Name"]: x.get("AcceptPause") for x in (instance_dict(i) for i in items or [])}
    want = {"broken": "false", "cron": "false", "old": "false", "ssh": "false",
            "web": "true" if v2 else "false"}
    t.eq(got, want, "%s: AcceptPause %s for web (CanFreeze, running, its cgroup has "
         "cgroup.freeze), false for cron (CanFreeze, but no such cgroup), stopped and "
         "unloaded units" % (what, want["web"]))
    r = c.get("Win32_Service", Name="web")
    t.eq(instance_dict(r.first()).get("AcceptPause") if r.status == 200 else r.raw[:300],
         want["web"], "%s: Get Win32_Service?Name=web: AcceptPause %s" % (what, want["web"]))


def test_winrmctl(d, bus):
    sock = d.tree["Daemon"]["AdminSocket"]
    run = lambda *a: subprocess.run([CTL] + list(a) + ["-S", sock], capture_output=True,  # noqa: E731
                                    text=True, timeout=60)
    r = run("get", "wmicimv2/Win32_Service?Name=cron")
    t.ok(r.returncode == 0 and r.stdout.startswith("Win32_Service\n") and
         "    State = Running\n" in r.stdout and "    ProcessId = 4242\n" in r.stdout,
         "winrmctl get wmicimv2/Win32_Service?Name=cron", r.stdout + r.stderr)
    r = run("enumerate", "wmicimv2/*",
            "-filter:select Name,State from Win32_Service where State='Running'", "-dialect:wql")
    t.eq((r.returncode, r.stdout),
         (0, "XmlFragment\n    Name = cron\n    State = Running\n\n"
             "XmlFragment\n    Name = web\n    State = Running\n\n"),
         "winrmctl enumerate wmicimv2/* -filter:\"select Name,State from Win32_Service "
         "where State='Running'\" -dialect:wql")
    r = run("invoke", "StopService", "wmicimv2/Win32_Service?Name=cron")
    t.eq((r.returncode, r.stdout), (0, "StopService_OUTPUT\n    ReturnValue = 0\n\n"),
         "winrmctl invoke StopService wmicimv2/Win32_Service?Name=cron (root)")
    t.eq(bus.state()["units"]["cron.service"][0], "inactive", "  cron stopped")
    r = run("invoke", "StartService", "wmicimv2/Win32_Service?Name=cron")
    t.eq(r.returncode, 0, "winrmctl invoke StartService")


CONFIG = {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}},
          "Winrs": {"KeepEnvironment": KEEP_ENV}}

with Lab() as lab:
    work = tempfile.mkdtemp(prefix="winrmd-t8200-")
    # web.service's cgroup: a real, empty one of this test's, in the host's
    # cgroup v2 hierarchy (removed at the end)
    cg_name = "/winrmd-t8200-%d" % os.getpid()
    cg_root = (cgroup2_mounts() or [None])[-1]
    cg_dir = None
    units = copy.deepcopy(UNITS)
    if cg_root is not None:
        cg_dir = cg_root + cg_name
        os.mkdir(cg_dir)
        units["web.service"][8] = cg_name
    bus = MockSystemd(work, {"LD_PRELOAD": "libnss_wrapper.so",
                             "NSS_WRAPPER_PASSWD": lab.passwd_file,
                             "NSS_WRAPPER_GROUP": lab.group_file}, units=units)
    host_v2 = fs_type("/sys/fs/cgroup") == "cgroup2" and cg_dir is not None
    d = lab_daemon(lab, CONFIG)
    d.env["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address
    try:
        d.start()
        t.run(test_accept_pause, d, host_v2, "the host's /sys/fs/cgroup (%s)"
              % fs_type("/sys/fs/cgroup"))
        for fn in (test_enumerate, test_methods, test_winrmctl):
            t.run(fn, d, bus)
        d.check_alive(t, "the Win32_Service tests")
        t.eq(d.stop(), 0, "clean stop")
        # the other answer, in a mount namespace of the daemon's own
        other = None
        if host_v2:
            other = ("tmpfs", "tmpfs", "/sys/fs/cgroup", "")
        elif cg_dir is not None:
            other = ("cgroup2", "cgroup2", "/sys/fs/cgroup", "")
        if other is None:
            t.diag("no cgroup v2 hierarchy on this host: AcceptPause true not checked")
        else:
            d.cleanup()
            d = lab_daemon(lab, CONFIG, mounts=[other])
            d.env["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address
            # web is running again after test_methods (Resume, Start)
            d.start()
            t.run(test_accept_pause, d, not host_v2, "%s mounted on /sys/fs/cgroup" % other[0])
            t.eq(d.stop(), 0, "clean stop (second daemon)")
    finally:
        d.cleanup()
        bus.close()
        shutil.rmtree(work, ignore_errors=True)
        if cg_dir is not None:
            os.rmdir(cg_dir)
sys.exit(t.done())
