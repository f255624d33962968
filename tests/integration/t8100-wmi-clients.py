#!/usr/bin/python3
"""t8100 - the WMI classes through real clients, values checked against
this host in the same test:

* Debian's python3-winrm: Protocol.send_message with raw WMI envelopes,
  over NTLM with message encryption (alice) and Basic (carol);
* Debian's wsl (the WS-Man "whistle" shell client, Basic only): enum with
  a WQL filter and in EPR mode, get with a key, invoke of a static method
  through an instance's EPR, as wsl always does;
* winrmctl, on the admin socket (root, and alice as a local member of the
  remote-users group) and remotely (-r with Basic): get, enumerate,
  enumerate wmicimv2/* -filter:"select ..." -dialect:wql, invoke, with
  winrm.cmd's output shapes;
* curl posting canned envelopes in the shapes of Windows' documentation
  (MS-WSMV 4.1: a Get with a differently cased class and selector name,
  a WQL Enumerate on .../cimv2/*, a Create; pypsrp's Enumerate on the
  shell resource)."""
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import BUILDDIR, SRCDIR, lab_daemon, pywinrm  # noqa: E402
from wmiclient import (NS, WQL, Resp, envelope, enumerate_body, instance_dict, meminfo,  # noqa: E402
                       os_release, uri, visible_mounts)

t = Tap()
CTL = os.path.join(BUILDDIR, "winrmctl", "winrmctl")
# (the sanitizers' variables reach the provider host of an ASan build)
KEEP_ENV = ["LD_PRELOAD", "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP", "NSS_WRAPPER_HOSTS",
            "DBUS_SYSTEM_BUS_ADDRESS", "ASAN_OPTIONS", "LSAN_OPTIONS",
            "UID_WRAPPER_DISABLE_DEEPBIND", "NSS_WRAPPER_DISABLE_DEEPBIND"]
NO_BUS = "unix:path=/nonexistent/winrmd-test/system_bus_socket"
XFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
ENUM = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
HOST = socket.gethostname().split(".")[0]
created = []  # pids of processes the clients created: ended at the end


def as_bytes(x):
    return x.encode() if isinstance(x, str) else x


def uid_of(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(next(x for x in f if x.startswith("Uid:")).split()[1])


def test_pywinrm(lab, d):
    saved = lab.apply_client_env("alice")
    try:
        env = envelope(XFER + "/Get", uri("Win32_OperatingSystem"))
        r, out = pywinrm(d.url, "ntlm", "WINRMD\\alice", "alicepw", message=env)
        t.eq(r, "ok", "pywinrm (NTLM, encrypted) Protocol.send_message: Get Win32_OperatingSystem")
        v = instance_dict(Resp(200, as_bytes(out)).first()) if r == "ok" else {}
        t.eq((v.get("Caption"), int(v.get("TotalVisibleMemorySize", 0))),
             (os_release("PRETTY_NAME"), meminfo()["MemTotal"]),
             "  Caption and TotalVisibleMemorySize are this host's")
        env = envelope(ENUM + "/Enumerate", uri("*"), enumerate_body(
            filter_text="select Name, ProcessId from Win32_Process where ProcessId = 1"))
        r, out = pywinrm(d.url, "ntlm", "WINRMD\\alice", "alicepw", message=env)
        items = list(Resp(200, as_bytes(out)).body.find("n:EnumerateResponse/w:Items", NS)) \
            if r == "ok" else []
        with open("/proc/1/comm") as f:
            comm = f.read().strip()
        t.eq([instance_dict(i) for i in items], [{"Name": comm, "ProcessId": "1"}],
             "pywinrm: WQL Enumerate of process 1 (a projection)")
        env = envelope(XFER + "/Get", uri("Win32_Nothing"))
        r, out = pywinrm(d.url, "ntlm", "WINRMD\\alice", "alicepw", message=env)
        t.ok(r != "ok" and "2150858752" in str(out),
             "pywinrm: an unknown class raises with WSManFault code 2150858752", out)
    finally:
        lab.restore_env(saved)
    import winrm.protocol
    p = winrm.protocol.Protocol(endpoint=d.url, transport="basic", username="carol",
                                password="carolpw")
    out = p.send_message(envelope(uri("Win32_Process") + "/Create", uri("Win32_Process"),
                                  '<p:Create_INPUT xmlns:p="%s"><p:CommandLine>sleep 307'
                                  "</p:CommandLine></p:Create_INPUT>" % uri("Win32_Process")))
    v = instance_dict(Resp(200, as_bytes(out)).first())
    pid = int(v.get("ProcessId") or 0)
    if pid:
        created.append(pid)
    t.ok(v.get("ReturnValue") == "0" and pid and uid_of(pid) == 20003,
         "pywinrm (Basic) as carol: Win32_Process.Create runs as carol", v)


def wsl(d, args, user="alice"):
    tmp = tempfile.mkdtemp(prefix="wsl-")
    env = {"PATH": "/usr/bin:/bin", "WSENDPOINT": "127.0.0.1:%d" % d.port, "WSNOSSL": "true",
           "WSUSER": user, "WSPASS": user + "pw", "KEEPHISTORY": "0", "HOME": tmp,
           "SHELL": "/bin/bash", "OUTLEVEL": "1"}
    try:
        r = subprocess.run(["wsl"] + args, cwd=tmp, env=env, capture_output=True, text=True,
                           timeout=120)
        responses = sorted(glob.glob(os.path.join(tmp, "response-*.xml")))
        last = open(responses[-1], "rb").read() if responses else b""
        return r.returncode, last, r.stdout + r.stderr
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_wsl(lab, d):
    if shutil.which("wsl") is None or shutil.which("uuidgen") is None:
        t.ok(False, "Debian's wsl and uuid-runtime are installed (scripts/install-deps.sh test)")
        return
    rc, body, out = wsl(d, ["enum", uri("Win32_LogicalDisk")])
    items = list(Resp(200, body).body.find("n:EnumerateResponse/w:Items", NS)) if rc == 0 else []
    t.eq((rc, sorted(instance_dict(i)["DeviceID"] for i in items)), (0, sorted(visible_mounts())),
         "wsl enum Win32_LogicalDisk: the mounted file systems")
    rc, body, out = wsl(d, ["enum", uri("*"), "-filter",
                            "select Name,ProcessId from Win32_Process where ProcessId = 1",
                            "-dialect", WQL])
    items = list(Resp(200, body).body.find("n:EnumerateResponse/w:Items", NS)) if rc == 0 else []
    t.eq((rc, [instance_dict(i).get("ProcessId") for i in items]), (0, ["1"]),
         "wsl enum .../cimv2/* -filter WQL -dialect WQL (wsl does not escape the filter: "
         "no < in it)")
    rc, body, out = wsl(d, ["get", uri("Win32_LogicalDisk"), "DeviceID=/"])
    v = instance_dict(Resp(200, body).first()) if rc == 0 else {}
    st = os.statvfs("/")
    t.eq((rc, v.get("DeviceID"), v.get("Size")), (0, "/", str(st.f_blocks * st.f_frsize)),
         "wsl get Win32_LogicalDisk DeviceID=/ (its exit status finds <p:DeviceID>)")
    rc, body, out = wsl(d, ["enum", uri("Win32_Process"), "-mode", "epr"])
    t.ok(rc == 0 and b"<a:EndpointReference>" in body and b'Name="Handle"' in body,
         "wsl enum -mode epr: EPRs with the Handle selector", out[-800:])
    rc, body, out = wsl(d, ["invoke", uri("Win32_Process"), "Create", "CommandLine=sleep 308"])
    v = instance_dict(Resp(200, body).first()) if rc == 0 else {}
    pid = int(v.get("ProcessId") or 0)
    if pid:
        created.append(pid)
    t.ok(rc == 0 and v.get("ReturnValue") == "0" and pid and uid_of(pid) == 20001,
         "wsl invoke Win32_Process Create (on the first instance's EPR, as wsl does): "
         "runs as alice", out[-1500:])
    rc, body, out = wsl(d, ["invoke", uri("Win32_OperatingSystem"), "Reboot"])
    t.ok(rc == 0 and b"<p:ReturnValue>1314</p:ReturnValue>" in body,
         "wsl invoke Win32_OperatingSystem Reboot as alice: 1314", out[-1500:])
    rc, body, out = wsl(d, ["invoke", uri("Win32_OperatingSystem"), "Shutdown"], user="carol")
    t.ok(rc == 0 and b"<p:ReturnValue>1062</p:ReturnValue>" in body,
         "wsl invoke Win32_OperatingSystem Shutdown as carol: 1062 (no systemd here)", out[-1500:])
    rc, body, out = wsl(d, ["get", uri("Win32_Nothing"), "Name=x"])
    t.ok(rc != 0 and b"DestinationUnreachable" in body, "wsl get of an unknown class fails")


def ctl(d, *args, user=None, lab=None):
    cmd = [CTL] + list(args)
    if not any(a.startswith("-r:") for a in args):
        cmd += ["-S", d.tree["Daemon"]["AdminSocket"]]
    env = None
    if user is not None:
        cmd = ["setpriv", "--reuid=%d" % lab.users[user].uid, "--regid=%d" % lab.users[user].gid,
               "--clear-groups"] + cmd
        env = dict(os.environ, **lab.daemon_env())
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)


def test_winrmctl(lab, d):
    r = ctl(d, "get", "wmicimv2/Win32_OperatingSystem")
    t.eq(r.returncode, 0, "winrmctl get wmicimv2/Win32_OperatingSystem (root, admin socket)")
    t.ok(r.stdout.startswith("Win32_OperatingSystem\n    BootDevice = ") and
         "    Caption = %s\n" % os_release("PRETTY_NAME") in r.stdout and
         "    CSDVersion = null\n" in r.stdout,
         "  printed as winrm.cmd prints an instance (nil as null)", r.stdout[:800])
    r = ctl(d, "enumerate", "wmicimv2/Win32_Process")
    n = len([x for x in os.listdir("/proc") if x.isdigit()])
    count = len(re.findall(r"^Win32_Process$", r.stdout, re.M))
    t.ok(r.returncode == 0 and abs(count - n) < 30,
         "winrmctl enumerate wmicimv2/Win32_Process: every process", (count, n, r.stderr[-500:]))
    r = ctl(d, "enumerate", "wmicimv2/*", "-filter:select Name,ProcessId from Win32_Process "
            "where ProcessId=1", "-dialect:wql")
    with open("/proc/1/comm") as f:
        comm = f.read().strip()
    t.eq((r.returncode, r.stdout), (0, "XmlFragment\n    Name = %s\n    ProcessId = 1\n\n" % comm),
         "winrmctl enumerate wmicimv2/* -filter:\"select Name,ProcessId ...\" -dialect:wql")
    r = ctl(d, "invoke", "GetOwner", "wmicimv2/Win32_Process?Handle=1")
    t.eq((r.returncode, r.stdout),
         (0, "GetOwner_OUTPUT\n    Domain = %s\n    ReturnValue = 0\n    User = root\n\n" % HOST),
         "winrmctl invoke GetOwner wmicimv2/Win32_Process?Handle=1")
    r = ctl(d, "enumerate", "wmicimv2/Win32_Processor", "-returntype:EPR")
    t.ok(r.returncode == 0 and "EndpointReference\n" in r.stdout and
         "Selector: DeviceID = CPU0" in r.stdout, "winrmctl enumerate -returntype:EPR", r.stdout)
    r = ctl(d, "enumerate", "wmicimv2/Win32_Service", "-dialect:selector",
            '-filter:{State="Running"}')
    t.ok(r.returncode == 1 and "systemd is not reachable over D-Bus" in r.stderr,
         "winrmctl enumerate wmicimv2/Win32_Service without systemd: the fault says why, "
         "status 1", r.stderr[-600:])
    r = ctl(d, "enumerate", "wmicimv2/Win32_Process", "-dialect:selector", '-filter:{ProcessId="1"}')
    t.ok(r.returncode == 0 and len(re.findall(r"^Win32_Process$", r.stdout, re.M)) == 1 and
         "    ProcessId = 1\n" in r.stdout,
         "winrmctl enumerate -dialect:selector -filter:{ProcessId=\"1\"}", r.stdout[-300:] + r.stderr)
    r = ctl(d, "get", "wmicimv2/Win32_Nothing")
    t.ok(r.returncode == 1 and "WSManFault" in r.stderr and "0x80338000" in r.stderr,
         "winrmctl get of an unknown class: WSManFault 2150858752, status 1", r.stderr[-500:])
    # alice, a member of the remote-users group, on the local socket
    r = ctl(d, "invoke", "Create", "wmicimv2/Win32_Process", '@{CommandLine="sleep 309"}',
            user="alice", lab=lab)
    m = re.search(r"ProcessId = (\d+)", r.stdout)
    if m:
        created.append(int(m.group(1)))
    t.ok(r.returncode == 0 and m and "ReturnValue = 0" in r.stdout and uid_of(int(m.group(1))) == 20001,
         "winrmctl invoke Create as alice on the admin socket: runs as alice", r.stdout + r.stderr)
    r = ctl(d, "invoke", "Reboot", "wmicimv2/Win32_OperatingSystem", user="alice", lab=lab)
    t.ok(r.returncode == 0 and "ReturnValue = 1314" in r.stdout,
         "winrmctl invoke Reboot as alice: ReturnValue 1314", r.stdout + r.stderr)
    # remotely, Basic over HTTP
    r = ctl(d, "get", "wmicimv2/Win32_ComputerSystem?Name=" + HOST, "-r:" + d.url, "-a:Basic",
            "-u:carol", "-p:carolpw", "-unencrypted")
    t.ok(r.returncode == 0 and "    Name = %s\n" % HOST in r.stdout and
         "    NumberOfLogicalProcessors = %d\n" % os.cpu_count() in r.stdout,
         "winrmctl get wmicimv2/Win32_ComputerSystem?Name=... -r (Basic, carol)", r.stdout[-800:])


def curl(d, name, user):
    with open(os.path.join(SRCDIR, "tests", "data", "wmi", name)) as f:
        body = f.read().replace("@URL@", d.url)
    r = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--user",
                        "%s:%spw" % (user, user), "-H", "Content-Type: application/soap+xml;charset=UTF-8",
                        "--data-binary", "@-", d.url], input=body.encode(), capture_output=True,
                       timeout=60)
    out, _, code = r.stdout.rpartition(b"\n")
    return Resp(int(code or 0), out)


def test_curl(lab, d):
    r = curl(d, "get-logicaldisk.xml", "alice")
    v = instance_dict(r.first()) if r.status == 200 else {}
    t.eq((r.status, v.get("DeviceID")), (200, "/"),
         "curl, MS-WSMV-style Get (Win32_logicaldisk, selector DeviceId): 200")
    t.eq(r.first().tag if r.status == 200 else None, "{%s}Win32_LogicalDisk" % uri("Win32_LogicalDisk"),
         "  answered in the canonical case of the class, as modern Windows")
    r = curl(d, "enumerate-wql.xml", "carol")
    items = list(r.body.find("n:EnumerateResponse/w:Items", NS)) if r.status == 200 else []
    t.ok(len(items) == 1 and instance_dict(items[0]).get("Version") == os.uname().release,
         "curl: WQL Enumerate (select * from Win32_OperatingSystem) on .../cimv2/*", r.raw[:600])
    r = curl(d, "invoke-create.xml", "alice")
    v = instance_dict(r.first()) if r.status == 200 else {}
    pid = int(v.get("ProcessId") or 0)
    if pid:
        created.append(pid)
    t.ok(v.get("ReturnValue") == "0" and pid and uid_of(pid) == 20001 and
         os.readlink("/proc/%d/cwd" % pid) == "/",
         "curl: Win32_Process Create with CurrentDirectory runs as alice", r.raw[:600])
    r = curl(d, "enumerate-shells.xml", "alice")
    t.ok(r.status == 200 and r.body.find("n:EnumerateResponse/w:EndOfSequence", NS) is not None,
         "curl: pypsrp's Enumerate on the shell resource itself", r.raw[:600])


with Lab() as lab:
    d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}},
                         "Authorization": {"TrustedDomains": ["WINRMD"]},
                         "Winrs": {"KeepEnvironment": KEEP_ENV}})
    d.env["DBUS_SYSTEM_BUS_ADDRESS"] = NO_BUS
    try:
        d.start()
        for fn in (test_pywinrm, test_wsl, test_winrmctl, test_curl):
            t.run(fn, lab, d)
        d.check_alive(t, "the client tests")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        for pid in created:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        d.cleanup()
sys.exit(t.done())
