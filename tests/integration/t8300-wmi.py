#!/usr/bin/python3
"""t8300 - the WMI classes over WS-Management (docs/wsman-wmi.md), from
hand-made envelopes posted with Basic auth by two accounts, an
administrator (carol) and a member of the remote-users group (alice),
every value checked against this host's own sources in the same test:
/proc for processes (and ps), statvfs for disks, /proc/meminfo,
os-release, uname, /proc/cpuinfo, the clock.

Covers: rendering (namespace, Windows' property order, xsi:nil, arrays,
cim:Datetime, the EPR), Get by keys and its faults, Enumerate with
OptimizeEnumeration/MaxElements, Pull (fresh contexts, EndOfSequence),
Release, expiry after Service.EnumerationTimeoutms, contexts counted in
MaxConcurrentOperationsPerUser, the three enumeration modes, WQL and
SelectorFilter filters and their faults, projections, the methods of
Win32_Process (Create runs as the caller, Terminate of another user's
process is refused with 2, GetOwner) and Win32_OperatingSystem
(administrators only; against a system bus that is not there: 1062),
one provider host per account running as that account, ended when idle
and restarted after it dies, WMI with remote shells off, and Enumerate
on the shell resource itself."""
import datetime
import os
import re
import socket
import subprocess
import sys
import time

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import LISTENER_RELOADED, lab_daemon  # noqa: E402
from wmiclient import (ANON, DATETIME, NS, SELECTOR, WMI, WmiClient, instance_dict,  # noqa: E402
                       local, meminfo, os_release, proc_stat, selector_filter, uri,
                       visible_mounts)

t = Tap()
# (the sanitizers' variables reach the provider host of an ASan build)
KEEP_ENV = ["LD_PRELOAD", "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP", "NSS_WRAPPER_HOSTS",
            "DBUS_SYSTEM_BUS_ADDRESS", "ASAN_OPTIONS", "LSAN_OPTIONS",
            "UID_WRAPPER_DISABLE_DEEPBIND", "NSS_WRAPPER_DISABLE_DEEPBIND"]
# The provider hosts get a system bus address where there is none: an
# administrator's Reboot must fail, on any machine the test runs on.
NO_BUS = "unix:path=/nonexistent/winrmd-test/system_bus_socket"
DETAIL = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"
WQL = "http://schemas.microsoft.com/wbem/wsman/1/WQL"

started = []  # processes this test started, ended by PID at the end


def check_fault(r, sub, code, what, inner=None, detail=None):
    ok = r.status == 500 and r.fault is not None and r.fault[1] == sub and r.fault[2] == str(code)
    t.ok(ok, "%s: %s, WSManFault %s" % (what, sub, code), (r.status, r.fault, r.raw[:1500]))
    pf = r.root.find(".//f:ProviderFault", NS) if r.root is not None else None
    t.ok(pf is not None and pf.get("provider") == "WMI Provider",
         "%s: the WMI plug-in's f:ProviderFault detail" % what, r.raw[:1500])
    if inner is not None:
        t.ok(inner in (r.provider_message() or ""), "%s: inner message says %r" % (what, inner),
             r.provider_message())
    if detail is not None:
        t.eq(r.root.findtext(".//w:FaultDetail", namespaces=NS), DETAIL + detail,
             "%s: FaultDetail %s" % (what, detail))


def start_as(uid, argv):
    """A process of another account (setpriv), ended at the end."""
    p = subprocess.Popen(["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"]
                         + argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    started.append(p)
    return p


def proc_pids():
    return {int(x) for x in os.listdir("/proc") if x.isdigit()}


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read().rstrip(b"\0").replace(b"\0", b" ").decode()


def sleep_pids():
    out = []
    for p in sorted(proc_pids()):
        try:
            if proc_stat(p)[0] == "sleep":
                out.append(p)
        except OSError:
            pass
    return out


def parse_dt(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def schema_order_ok(names):
    return all(a.lower() < b.lower() for a, b in zip(names, names[1:]))


# ---------------------------------------------------------------------------

def test_operating_system(d):
    for user in ("alice", "carol"):
        c = WmiClient(d, user)
        r = c.get("Win32_OperatingSystem")
        t.eq(r.status, 200, "%s: Get Win32_OperatingSystem (a singleton, no selectors): 200" % user)
        el = r.first()
        t.eq(el.tag, "{%s}Win32_OperatingSystem" % uri("Win32_OperatingSystem"),
             "%s: p:Win32_OperatingSystem in the class's namespace" % user)
        t.eq(el.get("{%s}type" % NS["xsi"]), "p:Win32_OperatingSystem_Type", "  xsi:type")
        names = [local(x.tag) for x in el]
        t.ok(schema_order_ok([n for i, n in enumerate(names) if i == 0 or names[i - 1] != n]),
             "  properties sorted case-insensitively, as Windows", names)
        t.eq(r.header("Action"), "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse",
             "  a:Action GetResponse")
        v = instance_dict(el)
        t.eq(v["Caption"], os_release("PRETTY_NAME"), "  Caption is os-release PRETTY_NAME")
        t.eq(v["Version"], os.uname().release, "  Version is the kernel release")
        t.eq(v["BuildNumber"], os_release("VERSION_ID"), "  BuildNumber is VERSION_ID")
        t.eq(v["CSName"], socket.gethostname().split(".")[0], "  CSName is the host name")
        t.eq(v["OSType"], "36", "  OSType 36 (LINUX)")
        m = meminfo()
        t.eq(int(v["TotalVisibleMemorySize"]), m["MemTotal"], "  TotalVisibleMemorySize = MemTotal")
        t.ok(abs(int(v["FreePhysicalMemory"]) - m["MemAvailable"]) < m["MemTotal"] * 0.05,
             "  FreePhysicalMemory ~ MemAvailable", (v["FreePhysicalMemory"], m["MemAvailable"]))
        t.eq(int(v["TotalVirtualMemorySize"]), m["MemTotal"] + m["SwapTotal"],
             "  TotalVirtualMemorySize = MemTotal + SwapTotal")
        t.eq(int(v["SizeStoredInPagingFiles"]), m["SwapTotal"], "  SizeStoredInPagingFiles = SwapTotal")
        n = len(proc_pids())
        t.ok(abs(int(v["NumberOfProcesses"]) - n) < 30,
             "  NumberOfProcesses ~ the entries of /proc", (v["NumberOfProcesses"], n))
        with open("/etc/machine-id") as f:
            t.eq(v["SerialNumber"], f.read().strip(), "  SerialNumber is the machine id")
        with open("/proc/stat") as f:
            btime = int(next(x for x in f if x.startswith("btime")).split()[1])
        t.ok(DATETIME.match(v["LastBootUpTime"] or "") and
             parse_dt(v["LastBootUpTime"]).timestamp() == btime,
             "  LastBootUpTime is btime, a cim:Datetime", v["LastBootUpTime"])
        t.ok(DATETIME.match(v["LocalDateTime"] or "") and
             abs(parse_dt(v["LocalDateTime"]).timestamp() - time.time()) < 10,
             "  LocalDateTime is now", v["LocalDateTime"])
        dt = el.find("p:LocalDateTime/cim:Datetime", {"p": uri("Win32_OperatingSystem"),
                                                       "cim": NS["cim"]})
        t.ok(dt is not None, "  a datetime is <p:X><cim:Datetime>...</cim:Datetime></p:X>")
        nil = el.find("{%s}CSDVersion" % uri("Win32_OperatingSystem"))
        t.ok(nil is not None and nil.get("{%s}nil" % NS["xsi"]) == "true" and len(nil) == 0,
             "  a null property is <p:CSDVersion xsi:nil=\"true\"/>")
        t.ok(re.fullmatch(r"\d+", v["TotalVirtualMemorySize"]), "  uint64 as decimal text")
        t.ok("MUILanguages" not in names, "  a null array is left out (as Windows)")
    c = WmiClient(d, "alice")
    name = instance_dict(c.get("Win32_OperatingSystem").first())["Name"]
    t.eq(c.get("Win32_OperatingSystem", Name=name).status, 200,
         "a singleton's key as selector is accepted")
    check_fault(c.get("Win32_OperatingSystem", Name="Windows"), "a:DestinationUnreachable",
                2150858752, "a singleton with another key")
    check_fault(c.get("Win32_OperatingSystem", Nope="1"), "w:InvalidSelectors", 2150858843,
                "a selector that is no key", detail="UnexpectedSelectors")


def test_computer_system(d):
    c = WmiClient(d, "alice")
    host = socket.gethostname().split(".")[0]
    r = c.get("Win32_ComputerSystem", Name=host)
    t.eq(r.status, 200, "Get Win32_ComputerSystem?Name=<host>: 200")
    v = instance_dict(r.first())
    t.eq((v["Name"], v["Caption"], v["DNSHostName"]), (host, host, host),
         "Name, Caption, DNSHostName are the short host name")
    t.eq(int(v["NumberOfLogicalProcessors"]), os.cpu_count(),
         "NumberOfLogicalProcessors is the online CPU count")
    with open("/proc/cpuinfo") as f:
        pkgs = {line.split(":")[1].strip() for line in f if line.startswith("physical id")}
    t.eq(int(v["NumberOfProcessors"]), max(1, len(pkgs)), "NumberOfProcessors: physical packages")
    t.eq(int(v["TotalPhysicalMemory"]), meminfo()["MemTotal"] * 1024,
         "TotalPhysicalMemory = MemTotal in bytes")
    t.ok(v["PartOfDomain"] in ("true", "false") and v["Domain"],
         "PartOfDomain and Domain", (v["PartOfDomain"], v["Domain"]))
    if v["PartOfDomain"] == "false":
        t.eq(v["Workgroup"], "WORKGROUP", "not joined: Workgroup WORKGROUP")
    check_fault(c.get("Win32_ComputerSystem"), "w:InvalidSelectors", 2150858842,
                "Get without its key", detail="InsufficientSelectors")
    check_fault(c.get("Win32_ComputerSystem", Name="other-host"), "a:DestinationUnreachable",
                2150858752, "Get of another computer", detail="InvalidResourceURI")
    r = c.get("Win32_ComputerSystem", name=host.upper())
    t.eq(r.status, 200, "selector names and values compare without case (as Windows)")


def test_processor(d):
    c = WmiClient(d, "carol")
    items, rs = c.enumerate_all("Win32_Processor")
    t.ok(items is not None, "Enumerate Win32_Processor", rs[-1].raw[:1000])
    v = [instance_dict(x) for x in items or []]
    with open("/proc/cpuinfo") as f:
        info = f.read()
    pkgs = set(re.findall(r"^physical id\s*:\s*(\d+)", info, re.M)) or {"0"}
    t.eq(len(v), len(pkgs), "one instance per physical package")
    t.eq([x["DeviceID"] for x in v], ["CPU%d" % i for i in range(len(v))], "DeviceID CPU0...")
    t.eq(sum(int(x["NumberOfLogicalProcessors"]) for x in v), len(re.findall(r"^processor", info, re.M)),
         "NumberOfLogicalProcessors add up to the processors of /proc/cpuinfo")
    model = re.search(r"^model name\s*:\s*(.*)$", info, re.M)
    vendor = re.search(r"^vendor_id\s*:\s*(.*)$", info, re.M)
    if model and v:
        t.eq(v[0]["Name"], model.group(1).strip(), "Name is the model name")
    if vendor and v:
        t.eq(v[0]["Manufacturer"], vendor.group(1).strip(), "Manufacturer is vendor_id")
    t.ok(v and v[0]["LoadPercentage"] is not None and 0 <= int(v[0]["LoadPercentage"]) <= 100,
         "LoadPercentage 0..100", v[0].get("LoadPercentage") if v else None)
    arch = {"x86_64": "9", "aarch64": "12"}.get(os.uname().machine)
    if arch and v:
        t.eq(v[0]["Architecture"], arch, "Architecture (%s)" % os.uname().machine)


def test_logical_disk(d):
    c = WmiClient(d, "alice")
    items, rs = c.enumerate_all("Win32_LogicalDisk")
    v = {x["DeviceID"]: x for x in (instance_dict(i) for i in items or [])}
    want = visible_mounts()
    t.eq(sorted(v), sorted(want), "one instance per mounted file system, pseudo ones skipped")
    root = v.get("/")
    t.ok(root is not None, "the root file system is DeviceID /")
    if root:
        st = os.statvfs("/")
        t.eq(int(root["Size"]), st.f_blocks * st.f_frsize, "Size = f_blocks x f_frsize (statvfs)")
        t.ok(abs(int(root["FreeSpace"]) - st.f_bavail * st.f_frsize) < 64 * 1024 * 1024,
             "FreeSpace = f_bavail x f_frsize (what df shows available)",
             (root["FreeSpace"], st.f_bavail * st.f_frsize))
        t.eq(root["FileSystem"], want["/"], "FileSystem is the mount's type")
        t.eq(root["DriveType"], "3", "DriveType 3 (local disk)")
        df = subprocess.run(["df", "-B1", "--output=size", "/"], capture_output=True, text=True)
        t.eq(int(df.stdout.split()[-1]), int(root["Size"]), "and df agrees on Size")
    r = c.get("Win32_LogicalDisk", DeviceID="/")
    t.eq((r.status, instance_dict(r.first()).get("DeviceID") if r.status == 200 else None),
         (200, "/"), "Get Win32_LogicalDisk?DeviceID=/")
    check_fault(c.get("Win32_LogicalDisk", DeviceID="/no/such/mount"), "a:DestinationUnreachable",
                2150858752, "Get of a mount point that does not exist")


def test_processes(d):
    alice = WmiClient(d, "alice")
    carol = WmiClient(d, "carol")
    bob_uid = 20002
    bob = start_as(bob_uid, ["sleep", "300"])
    mine = start_as(20001, ["sleep", "301"])
    time.sleep(0.3)
    before = proc_pids()
    items, rs = alice.enumerate_all("Win32_Process", max_elements=100)
    after = proc_pids()
    t.ok(items is not None, "Enumerate every Win32_Process (Pulls of 100)", rs[-1].raw[:1000])
    v = {int(x["ProcessId"]): x for x in (instance_dict(i) for i in items or [])}
    stable = before & after
    t.ok(stable <= set(v), "every process in /proc before and after is listed",
         sorted(stable - set(v))[:20])
    # (the machine is shared: processes come and go while the test runs)
    t.ok(len(set(v) - (before | after)) < 20, "and hardly anything else (short-lived ones)",
         sorted(set(v) - (before | after)))
    ps = subprocess.run(["ps", "-eo", "pid=,ppid=,comm="], capture_output=True, text=True).stdout
    ps_rows = {int(a): (int(b), c) for a, b, c in (line.split(None, 2) for line in ps.splitlines())}
    common = stable & set(ps_rows) & set(v)
    differ = [(p, v[p]["ParentProcessId"], v[p]["Name"], ps_rows[p]) for p in common
              if (int(v[p]["ParentProcessId"]), v[p]["Name"]) != ps_rows[p]]
    t.ok(len(common) > 10 and len(differ) <= 2,
         "ParentProcessId and Name agree with ps -eo pid,ppid,comm (%d processes; a process "
         "may exec meanwhile)" % len(common), differ)
    for pid, who in ((bob.pid, "bob's"), (mine.pid, "alice's own")):
        x = v.get(pid, {})
        comm, rest = proc_stat(pid)
        t.eq((x.get("Handle"), x.get("Name"), x.get("CommandLine"), x.get("ParentProcessId"),
              x.get("ThreadCount")),
             (str(pid), comm, cmdline(pid), rest[1], rest[17]),
             "%s process: Handle, Name, CommandLine, ParentProcessId, ThreadCount from /proc" % who)
        t.ok(DATETIME.match(x.get("CreationDate") or "") and
             abs(parse_dt(x["CreationDate"]).timestamp() - time.time()) < 60,
             "%s process: CreationDate a recent cim:Datetime" % who, x.get("CreationDate"))
    t.eq(v.get(mine.pid, {}).get("ExecutablePath"), os.readlink("/proc/%d/exe" % mine.pid),
         "alice sees the ExecutablePath of her own process")
    t.eq(v.get(bob.pid, {}).get("ExecutablePath", "missing"), None,
         "but not of bob's: null, not an error (Linux decides)")

    # Get, GetOwner, Terminate
    r = alice.get("Win32_Process", Handle=str(bob.pid))
    t.eq((r.status, instance_dict(r.first()).get("ProcessId") if r.status == 200 else None),
         (200, str(bob.pid)), "Get Win32_Process?Handle=<bob's pid>")
    r = alice.invoke("Win32_Process", "GetOwner", Handle=str(bob.pid))
    out = instance_dict(r.first()) if r.status == 200 else {}
    t.eq((out.get("ReturnValue"), out.get("User"), out.get("Domain")),
         ("0", "bob", socket.gethostname().split(".")[0]), "GetOwner of bob's process: bob")
    t.eq([local(x.tag) for x in r.first()] if r.status == 200 else None,
         ["Domain", "ReturnValue", "User"], "GetOwner_OUTPUT: outputs and ReturnValue sorted")
    for who, c in (("alice", alice), ("carol (an administrator, not root)", carol)):
        r = c.invoke("Win32_Process", "Terminate", {"Reason": 0}, Handle=str(bob.pid))
        t.eq((r.status, instance_dict(r.first()).get("ReturnValue") if r.status == 200 else r.raw[:300]),
             (200, "2"), "%s terminating bob's process: ReturnValue 2 (access denied)" % who)
        t.ok(bob.poll() is None, "  and bob's process still runs")
    r = alice.invoke("Win32_Process", "Terminate", {"Reason": 0}, Handle=str(mine.pid))
    t.eq(instance_dict(r.first()).get("ReturnValue") if r.status == 200 else r.raw[:300], "0",
         "alice terminates her own process: 0")
    try:
        mine.wait(5)
    except subprocess.TimeoutExpired:
        pass
    t.ok(mine.poll() is not None, "  and it is gone")

    # Create runs as the caller
    r = alice.invoke("Win32_Process", "Create", {"CommandLine": "sleep 302", "CurrentDirectory": "/tmp"})
    out = instance_dict(r.first()) if r.status == 200 else {}
    t.ok(out.get("ReturnValue") == "0", "Create(CommandLine, CurrentDirectory): 0", r.raw[:500])
    pid = int(out.get("ProcessId") or 0)
    if pid:
        with open("/proc/%d/status" % pid) as f:
            uid = next(x for x in f if x.startswith("Uid:")).split()[1]
        t.eq(int(uid), 20001, "the created process runs as alice")
        t.eq(cmdline(pid), "sleep 302",
             "the command line given, run directly (CreateProcess: no shell in between)")
        t.eq(os.readlink("/proc/%d/cwd" % pid), "/tmp", "in the directory given")
        t.eq(proc_stat(pid)[1][3], str(pid), "in a session of its own")
        r = alice.invoke("Win32_Process", "Terminate", {"Reason": 1}, Handle=str(pid))
        t.eq(instance_dict(r.first()).get("ReturnValue") if r.status == 200 else None, "0",
             "and alice can terminate it")
    r = alice.invoke("Win32_Process", "Create", {"CommandLine": "true", "CurrentDirectory": "/no/dir"})
    t.eq(instance_dict(r.first()).get("ReturnValue") if r.status == 200 else None, "9",
         "Create in a directory that does not exist: 9 (path not found)")
    r = alice.invoke("Win32_Process", "Create", {"CommandLine": "/no/such/program x"})
    t.eq(instance_dict(r.first()).get("ReturnValue") if r.status == 200 else None, "9",
         "Create of a program that does not exist: 9")
    r = alice.invoke("Win32_Process", "Create",
                     {"CommandLine": 'sh -c "sleep 305; :" "x y" "say \\"hi\\""'})
    out = instance_dict(r.first()) if r.status == 200 else {}
    pid = int(out.get("ProcessId") or 0)
    argv = None
    if pid:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().rstrip(b"\0").decode().split("\0")
        os.killpg(pid, 9)  # the session Create made for it
    t.eq(argv, ["sh", "-c", "sleep 305; :", "x y", 'say "hi"'],
         "the command line is split as Windows splits one (quotes group, \\\" is a quote)")
    r = alice.invoke("Win32_Process", "Create", {"CurrentDirectory": "/"})
    t.eq(instance_dict(r.first()).get("ReturnValue") if r.status == 200 else None, "21",
         "Create without CommandLine: 21 (invalid parameter)")

    # addressing faults
    check_fault(alice.get("Win32_Process", Handle="999999999"), "a:DestinationUnreachable",
                2150858752, "Get of a process that does not exist", detail="InvalidResourceURI")
    check_fault(alice.get("Win32_Process"), "w:InvalidSelectors", 2150858842,
                "Get without Handle")
    check_fault(alice.get("Win32_Process", Handle="1", Name="init"), "w:InvalidSelectors",
                2150858843, "Get with a selector that is no key")
    check_fault(alice.invoke("Win32_Process", "Terminate", Handle="999999999"),
                "a:DestinationUnreachable", 2150858752, "Terminate of a process that does not exist")
    r = alice.invoke("Win32_Process", "Create", {"CommandLine": "true"}, Handle="1")
    t.eq(instance_dict(r.first()).get("ReturnValue") if r.status == 200 else r.raw[:300], "0",
         "the static Create on an instance path: the keys are ignored (as WMI)")
    check_fault(alice.invoke("Win32_Process", "Create", {"CommandLine": "true"}, Nope="1"),
                "w:InvalidSelectors", 2150858843, "the static Create with a selector that is no key")
    check_fault(alice.invoke("Win32_Process", "Explode", Handle="1"), "a:ActionNotSupported",
                2150858771, "an unknown method")
    check_fault(alice.invoke("Win32_Process", "Terminate", {"Reason": "soon"}, Handle="1"),
                "w:InvalidParameter", 87, "a uint32 parameter that is not a number")
    check_fault(alice.invoke("Win32_Process", "Terminate", {"Force": "1"}, Handle="1"),
                "w:InvalidParameter", 87, "an unknown parameter")
    check_fault(alice.get("Win32_Nothing"), "a:DestinationUnreachable", 2150858752,
                "Get of an unknown class", detail="InvalidResourceURI")
    r = alice.post(__import__("wmiclient").envelope(
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
        "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/default/StdRegProv", ""))
    check_fault(r, "a:DestinationUnreachable", 2150858752, "Get in an unknown namespace")


def test_os_methods(d):
    alice = WmiClient(d, "alice")
    carol = WmiClient(d, "carol")
    for m in ("Reboot", "Shutdown"):
        r = alice.invoke("Win32_OperatingSystem", m)
        t.eq((r.status, instance_dict(r.first()).get("ReturnValue") if r.status == 200 else None),
             (200, "1314"), "%s by a non-administrator: ReturnValue 1314 (privilege not held)" % m)
        mark = len(d.log())
        r = carol.invoke("Win32_OperatingSystem", m)
        t.eq((r.status, instance_dict(r.first()).get("ReturnValue") if r.status == 200 else None),
             (200, "1062"),
             "%s by an administrator with no systemd to ask: 1062 (service not active)" % m)
        t.ok(d.wait_log(r"WMI provider host of carol: .*(Reboot|PowerOff).*system bus",
                        start=mark),
             "  and the log says why", d.log()[mark:][-1500:])
        t.eq(r.header("Action"), uri("Win32_OperatingSystem") + "/" + m + "Response",
             "  a:Action <method>Response")
    t.ok(re.search(r"audit: wmi .*user=alice method=Win32_OperatingSystem.Reboot result=denied",
                   d.log()), "the refusal is audited")


def test_enumeration(d):
    alice = WmiClient(d, "alice")
    for _ in range(3):
        start_as(20001, ["sleep", "303"])
    n = len(proc_pids())
    r = alice.enumerate("Win32_Process", max_elements=10)
    er = r.body.find("n:EnumerateResponse", NS)
    first = list(er.find("w:Items", NS))
    ctx = er.findtext("n:EnumerationContext", namespaces=NS)
    t.eq(len(first), 10, "optimized Enumerate, MaxElements 10: 10 items")
    t.ok(ctx and ctx.startswith("uuid:") and er.find("w:EndOfSequence", NS) is None,
         "and a context to Pull the rest with")
    seen, contexts = len(first), [ctx]
    end = False
    for _ in range(1000):
        p = alice.pull("Win32_Process", contexts[-1], 10)
        if p.status != 200:
            break
        pr = p.body.find("n:PullResponse", NS)
        seen += len(pr.find("n:Items", NS))
        end = pr.find("n:EndOfSequence", NS) is not None
        c = pr.findtext("n:EnumerationContext", namespaces=NS)
        if end:
            t.ok(c is None, "the last PullResponse has no context")
            break
        contexts.append(c)
    t.ok(end and abs(seen - n) < 30, "Pulls of 10 reach n:EndOfSequence with every process",
         (seen, n))
    t.eq(len(set(contexts)), len(contexts), "every Pull hands out a fresh context (as Windows)")
    r = alice.pull("Win32_Process", contexts[-1], 10)
    t.ok(r.fault and r.fault[1] == "n:InvalidEnumerationContext" and r.fault[2] == "2150858779",
         "a context used after the end: n:InvalidEnumerationContext", r.raw[:800])

    r = alice.enumerate("Win32_LocalTime", optimize=False, max_elements=None)
    er = r.body.find("n:EnumerateResponse", NS)
    t.ok(er.find("w:Items", NS) is None and er.findtext("n:EnumerationContext", namespaces=NS),
         "Enumerate without OptimizeEnumeration: a context, no items")
    p = alice.pull("Win32_LocalTime", er.findtext("n:EnumerationContext", namespaces=NS))
    pr = p.body.find("n:PullResponse", NS)
    t.eq((len(pr.find("n:Items", NS)), pr.find("n:EndOfSequence", NS) is not None), (1, True),
         "Pull without MaxElements: one item, the end")

    r = alice.enumerate("Win32_Process", max_elements=1)
    ctx = r.body.find("n:EnumerateResponse", NS).findtext("n:EnumerationContext", namespaces=NS)
    bad = WmiClient(d, "carol").pull("Win32_Process", ctx)
    t.ok(bad.fault and bad.fault[1] == "n:InvalidEnumerationContext",
         "another account cannot Pull alice's context", bad.raw[:500])
    rel = alice.release("Win32_Process", ctx)
    t.eq(rel.status, 200, "Release: 200")
    t.eq(rel.header("Action"), "http://schemas.xmlsoap.org/ws/2004/09/enumeration/ReleaseResponse",
         "  ReleaseResponse")
    p = alice.pull("Win32_Process", ctx)
    t.ok(p.fault and p.fault[1] == "n:InvalidEnumerationContext" and p.fault[2] == "2150858779",
         "a released context is gone", p.raw[:500])

    # modes
    r = alice.enumerate("Win32_Process", mode="EnumerateEPR", max_elements=5)
    items = list(r.body.find("n:EnumerateResponse/w:Items", NS))
    epr = items[0] if items else None
    t.ok(epr is not None and local(epr.tag) == "EndpointReference" and
         epr.findtext("a:Address", namespaces=NS) == ANON and
         epr.findtext("a:ReferenceParameters/w:ResourceURI", namespaces=NS) == uri("Win32_Process"),
         "EnumerateEPR: a:EndpointReference, anonymous address, the class URI", r.raw[:1500])
    alice.release("Win32_Process", r.body.find("n:EnumerateResponse", NS).findtext(
        "n:EnumerationContext", namespaces=NS))
    sels = epr.findall("a:ReferenceParameters/w:SelectorSet/w:Selector", NS) if epr is not None else []
    t.eq([s.get("Name") for s in sels], ["Handle"], "  and the key selector Handle")
    t.ok(b'<w:SelectorSet xmlns:w="' in r.raw, "  the SelectorSet declares its w: (for wsl)")
    r = alice.enumerate("Win32_Process", mode="EnumerateObjectAndEPR", max_elements=5)
    items = list(r.body.find("n:EnumerateResponse/w:Items", NS))
    alice.release("Win32_Process", r.body.find("n:EnumerateResponse", NS).findtext(
        "n:EnumerationContext", namespaces=NS))
    t.ok(items and local(items[0].tag) == "Item" and
         [local(x.tag) for x in items[0]] == ["Win32_Process", "EndpointReference"],
         "EnumerateObjectAndEPR: w:Item with the instance and its EPR", r.raw[:1500])
    r = alice.enumerate("Win32_Process", mode="EnumerateEverything")
    check_fault(r, "w:UnsupportedFeature", 2150858886, "an unknown EnumerationMode",
                detail="EnumerationMode")
    check_fault(alice.enumerate("Win32_Process", selectors={"Handle": "1"}),
                "w:InvalidSelectors", 2150859016, "Enumerate of a class with keys")


def test_filters(d):
    alice = WmiClient(d, "alice")
    bob = start_as(20002, ["sleep", "304"])
    time.sleep(0.2)
    sleeps = sleep_pids()

    r = alice.enumerate("*", filter_text="select * from Win32_Process where ProcessId = %d" % bob.pid)
    items = list(r.body.find("n:EnumerateResponse/w:Items", NS)) if r.status == 200 else []
    t.ok([instance_dict(i).get("ProcessId") for i in items] == [str(bob.pid)],
         "WQL on .../cimv2/*: select * ... where ProcessId = N: exactly that process", r.raw[:800])
    t.ok(items and local(items[0].tag) == "Win32_Process" and
         items[0].tag.startswith("{%s}" % uri("Win32_Process")),
         "  rendered in its class's namespace")
    r = alice.enumerate("*", filter_text="SELECT ProcessId, Name FROM win32_process WHERE name = 'SLEEP'")
    items = list(r.body.find("n:EnumerateResponse/w:Items", NS)) if r.status == 200 else []
    got = sorted(int(instance_dict(i)["ProcessId"]) for i in items)
    now_sleeps = sleep_pids()
    t.ok(set(sleeps) & set(now_sleeps) <= set(got) <= set(sleeps) | set(now_sleeps),
         "a projection selects the processes named sleep (compared without case)",
         (got, now_sleeps))
    t.ok(items and all(local(i.tag) == "XmlFragment" for i in items),
         "  each as a w:XmlFragment")
    t.eq([x.tag for x in items[0]] if items else None, ["Name", "ProcessId"],
         "  with unqualified properties in alphabetical order, only the selected ones")
    q = ("select Handle from Win32_Process where (Name like 'sl%' or Name like 'zz_') "
         "and not ProcessId = " + str(bob.pid) + " and CommandLine is not null")

    def candidates():
        out = set()
        for p in proc_pids():
            try:
                name = proc_stat(p)[0].lower()
                if p != bob.pid and (name.startswith("sl") or
                                     (len(name) == 3 and name.startswith("zz"))) and cmdline(p):
                    out.add(p)
            except OSError:
                pass
        return out
    c_before = candidates()
    r = alice.enumerate("*", filter_text=q)
    c_after = candidates()
    items = list(r.body.find("n:EnumerateResponse/w:Items", NS)) if r.status == 200 else []
    got_like = {int(instance_dict(i)["Handle"]) for i in items}
    t.ok(c_before & c_after <= got_like <= c_before | c_after and bob.pid not in got_like,
         "LIKE, OR, AND, NOT, IS NOT NULL together: the processes Python finds in /proc",
         (q, sorted(got_like), sorted(c_before), sorted(c_after)))
    r = alice.enumerate("Win32_Process", filter_text="select * from Win32_Process where Handle = '%d'"
                        % bob.pid)
    t.eq(len(list(r.body.find("n:EnumerateResponse/w:Items", NS))) if r.status == 200 else None, 1,
         "WQL on the class URI itself")
    r = alice.enumerate("Win32_Process", dialect=SELECTOR, filter_text=selector_filter(Name="sleep"))
    items = list(r.body.find("n:EnumerateResponse/w:Items", NS)) if r.status == 200 else []
    t.ok(set(int(instance_dict(i)["ProcessId"]) for i in items) >= set(got) & proc_pids(),
         "SelectorFilter Name=sleep: the same processes", r.raw[:600])
    r = alice.enumerate("Win32_Process", filter_ns="n",
                        filter_text="select * from Win32_Process where ProcessId = %d" % bob.pid)
    t.eq(r.status, 200, "n:Filter (the WS-Enumeration element) works as w:Filter")

    check_fault(alice.enumerate("*", filter_text='Select * from Win32_Processa where name="sshd.exe"'),
                "n:CannotProcessFilter", 2150858778, "WQL on an unknown class",
                inner="The specified class does not exist in the given namespace.")
    check_fault(alice.enumerate("*", filter_text="select Nope from Win32_Process"),
                "n:CannotProcessFilter", 2150858778, "WQL selecting an unknown property",
                inner="Nope")
    check_fault(alice.enumerate("*", filter_text="select * from Win32_Process where Name = 'x"),
                "n:CannotProcessFilter", 2150858778, "malformed WQL", inner="not valid")
    check_fault(alice.enumerate("Win32_Process", filter_text="select * from Win32_LogicalDisk"),
                "n:CannotProcessFilter", 2150858778, "WQL naming another class than the URI")
    check_fault(alice.enumerate("*"), "n:CannotProcessFilter", 2150858778,
                "Enumerate of * without a filter")
    check_fault(alice.enumerate("Win32_Process", dialect="http://example.com/XPath",
                                filter_text="//x"),
                "n:FilterDialectRequestedUnavailable", 2150858777, "an unknown dialect")
    check_fault(alice.enumerate("Win32_Process", dialect=SELECTOR,
                                filter_text=selector_filter(CreationDate="x")),
                "n:CannotProcessFilter", 2150858778, "a selector filter on a datetime")
    check_fault(alice.enumerate("*", filter_text="select * from Win32_Process where " + "(" * 40 +
                                "Name='x'" + ")" * 40),
                "n:CannotProcessFilter", 2150858778, "WQL nested too deep")


def test_quota_and_expiry(d):
    mark = len(d.log())
    d.tree.setdefault("Service", {})["MaxConcurrentOperationsPerUser"] = 3
    d.tree["Service"]["EnumerationTimeoutms"] = 1500
    d.write_config()
    d.reload()
    t.ok(d.wait_log(LISTENER_RELOADED, start=mark), "reloaded: 3 operations, 1.5 s contexts")
    alice = WmiClient(d, "alice")
    ctxs = []
    for i in range(2):
        r = alice.enumerate("Win32_LocalTime", optimize=False, max_elements=None)
        t.ok(r.status == 200, "open enumeration %d of alice's" % (i + 1), r.raw[:1000])
        ctxs.append(r.body.find("n:EnumerateResponse", NS).findtext("n:EnumerationContext",
                                                                    namespaces=NS))
    r = alice.enumerate("Win32_LocalTime", optimize=False, max_elements=None)
    t.ok(r.fault and r.fault[1] == "w:QuotaLimit" and r.fault[2] == "2150859174",
         "a third one is over MaxConcurrentOperationsPerUser (the request counts too)", r.raw[:600])
    t.eq(WmiClient(d, "carol").get("Win32_LocalTime").status, 200, "another account is not affected")
    t.eq(alice.release("Win32_LocalTime", ctxs.pop()).status, 200, "Release gives one back")
    r = alice.enumerate("Win32_LocalTime", optimize=False, max_elements=None)
    t.eq(r.status, 200, "so the next enumeration is admitted")
    time.sleep(3.2)
    p = alice.pull("Win32_LocalTime", ctxs[0])
    t.ok(p.fault and p.fault[1] == "n:InvalidEnumerationContext",
         "after EnumerationTimeoutms without a Pull the context is gone", p.raw[:500])
    for i in range(2):
        r = alice.enumerate("Win32_LocalTime", optimize=False, max_elements=None)
        t.eq(r.status, 200, "expired contexts gave their slots back (%d)" % (i + 1))
    mark = len(d.log())
    del d.tree["Service"]["MaxConcurrentOperationsPerUser"]
    del d.tree["Service"]["EnumerationTimeoutms"]
    d.write_config()
    d.reload()
    t.ok(d.wait_log(LISTENER_RELOADED, start=mark), "reloaded with the defaults")


def host_pids(uid):
    """The provider hosts of this test's daemon running as uid: those whose
    environment names this lab's passwd file (other tests' daemons may run
    hosts for the same uids at the same time)."""
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
            with open("/proc/%d/status" % p) as f:
                if int(next(x for x in f if x.startswith("Uid:")).split()[1]) == uid:
                    out.append(p)
        except (OSError, StopIteration):
            pass
    return out


def test_provider_hosts(d):
    alice = WmiClient(d, "alice")
    carol = WmiClient(d, "carol")
    alice.get("Win32_LocalTime")
    carol.get("Win32_LocalTime")
    a, c = host_pids(20001), host_pids(20003)
    t.eq((len(a), len(c)), (1, 1), "one provider host per account, running as that account")
    for _ in range(3):
        alice.get("Win32_UTCTime")
    t.eq(host_pids(20001), a, "reused for the account's next requests")
    t.ok(len(re.findall(r"WMI provider host started for alice", d.log())) == 1,
         "started once for alice", d.log()[-1500:])
    if a:
        os.kill(a[0], 9)  # a host this test's daemon started
        time.sleep(0.5)
        t.ok(d.wait_log(r"WMI provider host of alice ended"), "a killed host is noticed")
        r = alice.get("Win32_LocalTime")
        t.eq(r.status, 200, "and the next request starts a new one")
        t.ok(host_pids(20001) and host_pids(20001) != a, "  (another process)")
    mark = len(d.log())
    d.tree["Wmi"]["ProviderIdleTimeout"] = 1
    d.tree["Winrs"]["AllowRemoteShellAccess"] = False
    d.write_config()
    d.reload()
    t.ok(d.wait_log(LISTENER_RELOADED, start=mark), "reloaded: hosts idle after 1 s, no shells")
    t.eq(alice.get("Win32_LocalTime").status, 200, "WMI works with remote shells off")
    time.sleep(3)
    t.ok(d.wait_log(r"WMI provider host of alice ended: idle", start=mark),
         "an idle host ends", d.log()[mark:][-1500:])
    t.eq(host_pids(20001), [], "  and its process is gone")
    t.eq(alice.get("Win32_LocalTime").status, 200, "the next request starts one again")
    mark = len(d.log())
    d.tree["Wmi"].pop("ProviderIdleTimeout")
    d.tree["Winrs"].pop("AllowRemoteShellAccess")
    d.write_config()
    d.reload()
    t.ok(d.wait_log(LISTENER_RELOADED, start=mark), "reloaded with the defaults")


def test_time(d):
    c = WmiClient(d, "alice")
    for cls, conv in (("Win32_UTCTime", time.gmtime), ("Win32_LocalTime", time.localtime)):
        for _ in range(3):
            before = conv()
            r = c.get(cls)
            after = conv()
            if before.tm_min == after.tm_min:
                break
        v = instance_dict(r.first()) if r.status == 200 else {}
        want = {"Year": after.tm_year, "Month": after.tm_mon, "Day": after.tm_mday,
                "Hour": after.tm_hour, "Minute": after.tm_min,
                "DayOfWeek": (after.tm_wday + 1) % 7, "Quarter": (after.tm_mon - 1) // 3 + 1}
        t.eq({k: int(v.get(k, -1)) for k in want}, want, "%s agrees with the clock" % cls)
        t.eq(v.get("Milliseconds", "x"), None, "  Milliseconds is null, as Windows")


def test_service_without_systemd(d):
    """There is no systemd here (and the provider hosts get a bus address
    where there is none): Win32_Service says so, for every account."""
    for user in ("alice", "carol"):
        c = WmiClient(d, user)
        check_fault(c.enumerate("Win32_Service"), "w:InternalError", 2147943759,
                    "%s: Enumerate Win32_Service without systemd" % user,
                    inner="systemd is not reachable over D-Bus")
        check_fault(c.invoke("Win32_Service", "StopService", Name="cron"), "w:InternalError",
                    2147943759, "%s: StopService without systemd" % user, inner="systemd")
    c = WmiClient(d, "alice")
    check_fault(c.get("Win32_Service"), "w:InvalidSelectors", 2150858842,
                "Get Win32_Service without Name")
    check_fault(c.invoke("Win32_Service", "ChangeStartMode", {"Mode": "Auto"}, Name="cron"),
                "w:InvalidParameter", 87, "ChangeStartMode with an unknown parameter")


def test_accounts(d):
    c = WmiClient(d, "alice")
    host = socket.gethostname().split(".")[0]
    with open(d.env["NSS_WRAPPER_PASSWD"]) as f:
        pw = [line.rstrip("\n").split(":") for line in f if line.strip()]
    with open(d.env["NSS_WRAPPER_GROUP"]) as f:
        gr = [line.rstrip("\n").split(":") for line in f if line.strip()]
    items, rs = c.enumerate_all("Win32_UserAccount")
    v = {x["Name"]: x for x in (instance_dict(i) for i in items or [])}
    t.eq(sorted(v), sorted(p[0] for p in pw),
         "Win32_UserAccount: the accounts of the name service (the lab's passwd)")
    a = v.get("alice", {})
    alice = next(p for p in pw if p[0] == "alice")
    t.eq((a.get("SID"), a.get("Domain"), a.get("Caption"), a.get("FullName"), a.get("LocalAccount")),
         ("S-1-22-1-%s" % alice[2], host, "%s\\alice" % host, alice[4].split(",")[0], "true"),
         "  alice: SID S-1-22-1-<uid>, Domain, Caption DOMAIN\\name, FullName from GECOS")
    r = c.get("Win32_UserAccount", Domain=host, Name="carol")
    t.eq(instance_dict(r.first()).get("SID") if r.status == 200 else r.raw[:300],
         "S-1-22-1-20003", "Get Win32_UserAccount?Domain=<host>+Name=carol")
    check_fault(c.get("Win32_UserAccount", Name="carol"), "w:InvalidSelectors", 2150858842,
                "Win32_UserAccount needs both keys")
    check_fault(c.get("Win32_UserAccount", Domain="OTHER", Name="carol"), "a:DestinationUnreachable",
                2150858752, "an account of another domain")
    items, rs = c.enumerate_all("Win32_Group")
    g = {x["Name"]: x for x in (instance_dict(i) for i in items or [])}
    t.eq(sorted(g), sorted(x[0] for x in gr), "Win32_Group: the groups of the name service")
    t.eq((g.get("winrmusers", {}).get("SID"), g.get("winrmusers", {}).get("SIDType")),
         ("S-1-22-2-30001", "4"), "  winrmusers: SID S-1-22-2-<gid>, SIDType 4 (alias)")
    r = c.enumerate("*", filter_text="select Name from Win32_UserAccount where SID like 'S-1-22-1-2000_'")
    got = sorted(instance_dict(i)["Name"] for i in r.body.find("n:EnumerateResponse/w:Items", NS)) \
        if r.status == 200 else None
    t.eq(got, sorted(p[0] for p in pw if re.fullmatch(r"2000\d", p[2])),
         "WQL on Win32_UserAccount: the lab users by SID")


def test_network(d):
    c = WmiClient(d, "alice")
    items, rs = c.enumerate_all("Win32_NetworkAdapterConfiguration")
    v = {x["Description"]: x for x in (instance_dict(i) for i in items or [])}
    want = {}
    for name in os.listdir("/sys/class/net"):
        with open("/sys/class/net/%s/flags" % name) as f:
            if int(f.read(), 0) & 0x8:  # IFF_LOOPBACK
                continue
        want[name] = name
    t.eq(sorted(v), sorted(want), "one instance per interface of /sys/class/net but loopback")
    out = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True).stdout
    for name, x in v.items():
        with open("/sys/class/net/%s/ifindex" % name) as f:
            idx = f.read().strip()
        with open("/sys/class/net/%s/address" % name) as f:
            mac = f.read().strip().upper()
        with open("/sys/class/net/%s/mtu" % name) as f:
            mtu = f.read().strip()
        v4 = re.findall(r"^\d+: %s\s+inet (\S+)/(\d+)" % re.escape(name), out, re.M)
        v6 = re.findall(r"^\d+: %s\s+inet6 (\S+)/(\d+)" % re.escape(name), out, re.M)
        addrs = [a for a, _ in v4] + [a for a, _ in v6]
        got = x.get("IPAddress")
        got = [got] if isinstance(got, str) else (got or [])
        t.eq((x.get("Index"), x.get("MACAddress"), x.get("MTU"), got),
             (idx, mac, mtu, addrs),
             "%s: Index, MACAddress, MTU, IPAddress (IPv4 then IPv6) as ip addr says" % name)
        sub = x.get("IPSubnet")
        sub = [sub] if isinstance(sub, str) else (sub or [])
        t.eq(sub[len(v4):], [p for _, p in v6], "%s: IPv6 IPSubnet are prefix lengths" % name)
        t.eq(x.get("IPEnabled"), "true" if addrs else "false", "%s: IPEnabled" % name)
    r = c.get("Win32_NetworkAdapterConfiguration", Index="999999")
    t.ok(r.fault and r.fault[1] == "a:DestinationUnreachable", "Get of an interface index "
         "that does not exist", r.raw[:400])
    routes = open("/proc/net/route").read().split("\n")[1:]
    gws = {}
    for line in routes:
        f = line.split()
        if len(f) > 7 and f[1] == "00000000" and f[7] == "00000000" and f[2] != "00000000":
            gws.setdefault(f[0], []).append(socket.inet_ntoa(bytes.fromhex(f[2])[::-1]))
    for name, gw in gws.items():
        got = v.get(name, {}).get("DefaultIPGateway")
        got = [got] if isinstance(got, str) else (got or [])
        t.eq(got[:len(gw)], gw, "%s: DefaultIPGateway from the default route" % name)


def test_shell_resource_enumerate(d):
    from shellclient import A_ENUM, Client, NS_SHELL, envelope as shell_envelope
    alice = Client(d, "alice", "alicepw")
    r = alice.create()
    body = "<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>32000</w:MaxElements></n:Enumerate>"
    env = shell_envelope(A_ENUM, body, resource=NS_SHELL).replace(
        "<s:Envelope ", '<s:Envelope xmlns:n="%s" ' % NS["n"], 1)
    e = alice.post(env)
    ids = [x.text for x in e.root.iter("{%s}ShellId" % NS_SHELL)] if e.status == 200 else []
    t.ok(ids == [r.sid], "Enumerate on .../windows/shell itself lists the caller's shells",
         e.raw[:800])
    t.ok(e.status == 200 and e.root.find(".//w:EndOfSequence", NS) is not None,
         "  all of them in the EnumerateResponse (pypsrp reads only that)")
    carol = Client(d, "carol", "carolpw")
    e = carol.post(env)
    t.eq([x.text for x in e.root.iter("{%s}ShellId" % NS_SHELL)] if e.status == 200 else None, [],
         "  another account does not see them")
    alice.delete(r.sid)


with Lab() as lab:
    d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}},
                         "Winrs": {"KeepEnvironment": KEEP_ENV}})
    d.env["DBUS_SYSTEM_BUS_ADDRESS"] = NO_BUS
    try:
        d.start()
        for fn in (test_operating_system, test_computer_system, test_processor,
                   test_logical_disk, test_processes, test_os_methods, test_enumeration,
                   test_filters, test_quota_and_expiry, test_provider_hosts, test_time,
                   test_accounts, test_network, test_service_without_systemd,
                   test_shell_resource_enumerate):
            t.run(fn, d)
        d.check_alive(t, "the WMI tests")
        t.eq(d.stop(), 0, "clean stop")
        for _ in range(100):  # (an ASan build takes its time to exit)
            if not host_pids(20001) + host_pids(20003):
                break
            time.sleep(0.1)
        t.eq(host_pids(20001) + host_pids(20003), [], "no provider host outlives the daemon")
    finally:
        for p in started:
            if p.poll() is None:
                p.kill()
                p.wait()
        d.cleanup()
sys.exit(t.done())
