#!/usr/bin/python3
"""t8320 - Win32_Process reads as the caller under /proc's hidepid
(issue 12: "what the caller could not see with a shell on this host (for
example another user's command line under hidepid) is null, not an
error").

The lab daemon runs twice, each time in a private mount namespace whose
/proc is mounted with hidepid (lib/winrmd.py Daemon(proc_hidepid=...)), so
its helper, shells and WMI provider hosts see that /proc; this test keeps
the host's /proc as the source of truth.  A process of root (a sleep this
test starts, and PID 1) and one of alice's own (Win32_Process.Create) are
looked at by alice (a remote user, not an administrator), by carol (an
administrator, but not root: her provider host runs as carol, so she sees
no more than alice) and by root:

* hidepid=1 (noaccess): a shell of alice lists root's processes but cannot
  read their command line; WMI (Enumerate, Get, a WQL filter, pywinrm)
  lists them with CommandLine and ExecutablePath xsi:nil, no fault, and
  every process of the host; alice's own process has its real values;
  a WQL filter on CommandLine finds nothing of root's (no leak through a
  filter); Terminate of root's process answers 2 and it still runs;
* hidepid=2 (invisible): her shell does not see root's processes; WMI
  lists none of another account's, Get / GetOwner / Terminate of root's
  pid get the fault of a process that does not exist (the same as for a
  pid that is free), alice's own process is there with its values;
* root sees everything in both (CommandLine of root's sleep and alice's).

What alice's shell sees is asked of a real remote shell (pywinrm, as
alice) through the same daemon, and WMI must agree with it."""
import os
import subprocess
import sys

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import lab_daemon, pywinrm  # noqa: E402
from wmiclient import (ENUM, NS, Resp, WmiClient, envelope, enumerate_body,  # noqa: E402
                       instance_dict, local, uri)

t = Tap()
KEEP_ENV = ["LD_PRELOAD", "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP", "NSS_WRAPPER_HOSTS",
            "DBUS_SYSTEM_BUS_ADDRESS", "ASAN_OPTIONS", "LSAN_OPTIONS",
            "UID_WRAPPER_DISABLE_DEEPBIND", "NSS_WRAPPER_DISABLE_DEEPBIND"]
NO_BUS = "unix:path=/nonexistent/winrmd-test/system_bus_socket"
ALICE = 20001
XSI_NIL = "{%s}nil" % NS["xsi"]
MODES = {1: "noaccess", 2: "invisible"}   # as /proc/mounts shows them

started = {}   # pid -> command line of processes this test started or created


def proc_pids():
    return {int(x) for x in os.listdir("/proc") if x.isdigit()}


def uids(pid):
    """The real, effective, saved and fs uids of a process (host /proc),
    or None when it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            return {int(x) for x in next(x for x in f if x.startswith("Uid:")).split()[1:]}
    except (OSError, StopIteration):
        return None


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read().rstrip(b"\0").replace(b"\0", b" ").decode()


def end_started():
    """SIGKILL to the processes this test started, by PID, when the PID
    still runs the command line it had (never a process that reused it)."""
    for pid, cmd in list(started.items()):
        try:
            if cmdline(pid) == cmd:
                os.kill(pid, 9)
        except OSError:
            pass
        del started[pid]


def nil_props(el):
    """{property: True when xsi:nil} of an instance element."""
    return {local(c.tag): c.get(XSI_NIL) == "true" for c in el}


def shell_view(d, pids):
    """What a remote shell of alice (pywinrm, through this daemon) sees
    of each pid: {pid: (listed in /proc, command line readable)}."""
    import winrm.protocol
    p = winrm.protocol.Protocol(endpoint=d.url, transport="basic", username="alice",
                                password="alicepw")
    sid = p.open_shell()
    script = ("for p in %s; do l=0; r=0; ls /proc | grep -qx $p && l=1; "
              "cat /proc/$p/cmdline >/dev/null 2>&1 && r=1; echo $p $l $r; done"
              % " ".join(str(x) for x in pids))
    cid = p.run_command(sid, script)
    out, err, code = p.get_command_output(sid, cid)
    p.cleanup_command(sid, cid)
    p.close_shell(sid)
    view = {}
    for line in out.decode().splitlines():
        a, b, c = line.split()
        view[int(a)] = (b == "1", c == "1")
    return view, (out, err, code)


def provider_hosts(lab, uid):
    """This daemon's provider hosts running as uid (by the lab's passwd
    file in their environment: other tests may run hosts for the uid)."""
    mine = ("NSS_WRAPPER_PASSWD=%s" % lab.passwd_file).encode()
    out = []
    for p in proc_pids():
        try:
            with open("/proc/%d/comm" % p) as f:
                if f.read().strip() != "winrmd-wmi":
                    continue
            with open("/proc/%d/environ" % p, "rb") as f:
                if mine not in f.read().split(b"\0"):
                    continue
            if uids(p) == {uid}:
                out.append(p)
        except OSError:
            pass
    return out


def proc_mount_options(pid):
    try:
        with open("/proc/%d/mounts" % pid) as f:
            return [line.split()[3] for line in f if line.split()[1:3] == ["/proc", "proc"]]
    except OSError:
        return None


def items_of(r):
    """The instances of an EnumerateResponse (none: no w:Items), or None
    for a fault."""
    if r.status != 200 or r.body is None:
        return None
    er = r.body.find("n:EnumerateResponse", NS)
    return None if er is None else list(er.find("w:Items", NS) or [])


def fault_of(r):
    return (r.status, r.fault[1] if r.fault else None, r.fault[2] if r.fault else None)


def run(lab, hidepid):
    mode = "hidepid=%d" % hidepid
    d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}},
                         "Winrs": {"KeepEnvironment": KEEP_ENV}}, proc_hidepid=hidepid)
    d.env["DBUS_SYSTEM_BUS_ADDRESS"] = NO_BUS
    try:
        d.start()
        opts = proc_mount_options(d.proc.pid) or []
        t.ok(any("hidepid=" + MODES[hidepid] in o for o in opts),
             "%s: the daemon's /proc is mounted with hidepid=%s" % (mode, MODES[hidepid]), opts)
        t.ok(not any("hidepid" in o for o in proc_mount_options(os.getpid()) or []),
             "%s: the test's own /proc is the host's" % mode)
        t.run(check, lab, d, hidepid)
        d.check_alive(t, "%s: the WMI requests" % mode)
        t.eq(d.stop(), 0, "%s: clean stop" % mode)
    finally:
        end_started()
        d.cleanup()


def check(lab, d, hidepid):
    mode = "hidepid=%d" % hidepid
    visible = hidepid == 1   # are others' processes listed?
    root_sleep = subprocess.Popen(["sleep", "3600"], stdin=subprocess.DEVNULL)
    started[root_sleep.pid] = "sleep 3600"
    alice, carol, root = (WmiClient(d, u) for u in ("alice", "carol", "root"))

    # alice's own process, created through WMI (runs as alice, in the namespace)
    r = alice.invoke("Win32_Process", "Create", {"CommandLine": "sleep 3601", "CurrentDirectory": "/"})
    out = instance_dict(r.first()) if r.status == 200 else {}
    t.eq(out.get("ReturnValue"), "0", "%s: alice's Win32_Process.Create: 0" % mode)
    mine = int(out.get("ProcessId") or 0)
    if mine:
        started[mine] = "sleep 3601"
    t.eq(uids(mine) if mine else None, {ALICE}, "%s: alice's sleep runs as alice" % mode)
    hosts = provider_hosts(lab, ALICE)
    t.ok(hosts and all(any("hidepid=" + MODES[hidepid] in o
                           for o in proc_mount_options(h) or []) for h in hosts),
         "%s: alice's provider host sees the hidepid /proc" % mode, hosts)
    mine_cmd = cmdline(mine) if mine else None
    mine_exe = os.readlink("/proc/%d/exe" % mine) if mine else None
    root_cmd = cmdline(root_sleep.pid)
    root_exe = os.readlink("/proc/%d/exe" % root_sleep.pid)
    t.eq(mine_cmd, "sleep 3601", "%s: (the host's /proc: alice's command line)" % mode)

    # what a shell of alice sees, through the same daemon
    others = (root_sleep.pid, 1)
    view, raw = shell_view(d, others + ((mine,) if mine else ()))
    want = {p: (visible, False) for p in others}
    if mine:
        want[mine] = (True, True)
    t.eq(view, want, "%s: alice's shell: root's processes %s, their command line unreadable; "
         "her own readable" % (mode, "listed" if visible else "not listed"))

    # Enumerate every process, as alice
    before = proc_pids()
    items, rs = alice.enumerate_all("Win32_Process", max_elements=200)
    after = proc_pids()
    t.ok(items is not None and all(x.status == 200 for x in rs),
         "%s: alice's Enumerate + Pull of Win32_Process: no fault" % mode, rs[-1].raw[:1500])
    by_pid = {}
    for el in items or []:
        v = instance_dict(el)
        by_pid[int(v["ProcessId"])] = (v, nil_props(el))
    for pid in others:
        t.eq(pid in by_pid, visible, "%s: root's %s %s" % (
            mode, "sleep" if pid != 1 else "PID 1", "listed (as Windows lists every process)"
            if visible else "absent (alice cannot see it)"))
    if visible:
        for pid in others:
            v, nil = by_pid.get(pid, ({}, {}))
            t.eq((v.get("Handle"), nil.get("CommandLine"), nil.get("ExecutablePath")),
                 (str(pid), True, True),
                 "%s: pid %d: Handle, CommandLine and ExecutablePath xsi:nil" % (mode, pid))
        stable = before & after
        t.ok(stable <= set(by_pid), "%s: every process of the host is listed" % mode,
             sorted(stable - set(by_pid))[:20])
        leaks = [(p, by_pid[p][0].get("CommandLine"), by_pid[p][0].get("ExecutablePath"))
                 for p in by_pid if uids(p) not in (None, {ALICE}) and
                 (not by_pid[p][1].get("CommandLine") or not by_pid[p][1].get("ExecutablePath"))]
        t.eq(leaks, [], "%s: no process of another account has a CommandLine or "
             "ExecutablePath" % mode)
    else:
        foreign = [p for p in by_pid if uids(p) not in (None, {ALICE})]
        t.eq(foreign, [], "%s: no process of another account is listed" % mode)
        t.ok(len(by_pid) < len(before), "%s: (so fewer than the host's %d processes: %d)"
             % (mode, len(before), len(by_pid)))
    v, nil = by_pid.get(mine, ({}, {}))
    t.eq((v.get("CommandLine"), v.get("ExecutablePath"), v.get("Name")),
         (mine_cmd, mine_exe, "sleep"),
         "%s: alice's own process: real CommandLine, ExecutablePath, Name" % mode)

    # Get
    for pid in others:
        r = alice.get("Win32_Process", Handle=str(pid))
        if visible:
            nil = nil_props(r.first()) if r.status == 200 else {}
            v = instance_dict(r.first()) if r.status == 200 else {}
            t.eq((r.status, v.get("ProcessId"), nil.get("CommandLine"), nil.get("ExecutablePath")),
                 (200, str(pid), True, True),
                 "%s: alice's Get of root's pid %d: the instance, CommandLine and "
                 "ExecutablePath xsi:nil" % (mode, pid))
        else:
            t.eq(fault_of(r), (500, "a:DestinationUnreachable", "2150858752"),
                 "%s: alice's Get of root's pid %d: DestinationUnreachable 2150858752, as for "
                 "a process that does not exist" % (mode, pid))
            t.eq(r.root.findtext(".//w:FaultDetail", namespaces=NS) if r.root is not None
                 else None,
                 "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidResourceURI",
                 "%s:   FaultDetail InvalidResourceURI" % mode)
    free = 4194304   # above pid_max's limit: no process has it
    ghost = alice.get("Win32_Process", Handle=str(free))
    if not visible:
        r = alice.get("Win32_Process", Handle=str(root_sleep.pid))
        t.eq((fault_of(r), (r.provider_message() or "").replace(str(root_sleep.pid), "N")),
             (fault_of(ghost), (ghost.provider_message() or "").replace(str(free), "N")),
             "%s: the fault for root's pid is the one for a free pid (nothing tells them "
             "apart)" % mode)
    r = alice.get("Win32_Process", Handle=str(mine))
    v = instance_dict(r.first()) if r.status == 200 else {}
    t.eq((r.status, v.get("CommandLine"), v.get("ExecutablePath")), (200, mine_cmd, mine_exe),
         "%s: alice's Get of her own process: real CommandLine, ExecutablePath" % mode)

    # a filter must not see what the caller cannot
    r = alice.enumerate("*", filter_text="select Handle from Win32_Process where "
                        "CommandLine like '%sleep 360%'")
    items = items_of(r)
    got = sorted(int(instance_dict(x)["Handle"]) for x in items) if items is not None else None
    t.eq([p for p in got or [] if p in (mine, root_sleep.pid)], [mine] if got is not None else None,
         "%s: WQL where CommandLine like '%%sleep 360%%': alice's own sleep 3601, not root's "
         "sleep 3600 (nothing found through a filter)" % mode)
    t.eq([p for p in got or [] if uids(p) not in (None, {ALICE})], [],
         "%s:   and no process of another account" % mode)

    # pywinrm: a WQL Enumerate of root's process
    env = envelope(ENUM + "/Enumerate", uri("*"), enumerate_body(
        filter_text="select ProcessId, CommandLine, ExecutablePath from Win32_Process "
        "where ProcessId = %d" % root_sleep.pid))
    res, text = pywinrm(d.url, "basic", "alice", "alicepw", message=env)
    t.eq(res, "ok", "%s: pywinrm (Basic) WQL Enumerate of root's sleep: no fault" % mode)
    items = items_of(Resp(200, text.encode() if isinstance(text, str) else text)) \
        if res == "ok" else None
    want = [{"ProcessId": str(root_sleep.pid), "CommandLine": None, "ExecutablePath": None}] \
        if visible else []
    t.eq([instance_dict(x) for x in items] if items is not None else None, want,
         "%s: pywinrm: %s" % (mode, "one instance, CommandLine and ExecutablePath null"
                              if visible else "no instance"))

    # methods on root's process
    r = alice.invoke("Win32_Process", "GetOwner", Handle=str(root_sleep.pid))
    if visible:
        out = instance_dict(r.first()) if r.status == 200 else {}
        t.eq((out.get("ReturnValue"), out.get("User")), ("0", "root"),
             "%s: GetOwner of root's sleep: root (alice's shell sees the owner of /proc/PID)"
             % mode)
    else:
        t.eq(fault_of(r), (500, "a:DestinationUnreachable", "2150858752"),
             "%s: GetOwner of root's sleep: not found" % mode)
    r = alice.invoke("Win32_Process", "Terminate", {"Reason": 0}, Handle=str(root_sleep.pid))
    if visible:
        t.eq((r.status, instance_dict(r.first()).get("ReturnValue") if r.status == 200 else
              r.raw[:300]), (200, "2"), "%s: Terminate of root's sleep: 2 (access denied)" % mode)
    else:
        t.eq(fault_of(r), (500, "a:DestinationUnreachable", "2150858752"),
             "%s: Terminate of root's sleep: not found" % mode)
    t.ok(root_sleep.poll() is None, "%s:   and root's sleep still runs" % mode)

    # carol: an administrator, but her provider host runs as carol
    r = carol.get("Win32_Process", Handle=str(root_sleep.pid))
    if visible:
        nil = nil_props(r.first()) if r.status == 200 else {}
        t.eq((r.status, nil.get("CommandLine")), (200, True),
             "%s: carol (administrator, not root): root's CommandLine null too" % mode)
    else:
        t.eq(fault_of(r), (500, "a:DestinationUnreachable", "2150858752"),
             "%s: carol (administrator, not root): root's sleep not found either" % mode)

    # root sees everything
    before = proc_pids()
    items, rs = root.enumerate_all("Win32_Process", max_elements=200)
    after = proc_pids()
    by_pid = {int(instance_dict(x)["ProcessId"]): instance_dict(x) for x in items or []}
    t.ok(items is not None and (before & after) <= set(by_pid),
         "%s: root's Enumerate lists every process of the host" % mode,
         sorted((before & after) - set(by_pid))[:20])
    t.eq([(by_pid.get(p, {}).get("CommandLine"), by_pid.get(p, {}).get("ExecutablePath"))
          for p in (root_sleep.pid, mine)],
         [(root_cmd, root_exe), (mine_cmd, mine_exe)],
         "%s: root reads the CommandLine and ExecutablePath of its sleep and of alice's" % mode)
    r = root.get("Win32_Process", Handle="1")
    v = instance_dict(r.first()) if r.status == 200 else {}
    t.eq((r.status, v.get("CommandLine")), (200, cmdline(1)),
         "%s: root's Get of PID 1: its CommandLine" % mode)
    r = alice.get("Win32_OperatingSystem")
    t.eq(r.status, 200, "%s: alice's Get Win32_OperatingSystem works under hidepid" % mode)

    end_started()
    root_sleep.wait()


with Lab() as lab:
    try:
        for hp in (1, 2):
            run(lab, hp)
    finally:
        end_started()
sys.exit(t.done())
