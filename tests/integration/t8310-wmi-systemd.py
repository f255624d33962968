#!/usr/bin/python3
"""t8310 - Win32_Service against a real systemd: the Debian package
installed in a Debian root booted with systemd-nspawn
(tests/systemd/container.sh), set up with "winrmctl quickconfig"; t8200
tests the same class against a stand-in on a private bus.

1. the package ships the provider host /usr/libexec/winrmd/winrmd-wmi
   and winrmd-wmi(8);
2. pywinrm from the host, in the container's network namespace (NTLM
   with message encryption, a member of the remote-users group who is not
   an administrator): Get Win32_Service?Name=winrmd is Running, its
   ProcessId is systemd's MainPID, its StartMode Auto (enabled), its
   PathName the unit's ExecStart;
3. Enumerate (then Pull to the end) of Win32_Service: exactly the
   services "systemctl list-units --all" and "systemctl list-unit-files"
   show (templates and not-found units left out), each with the State,
   StartMode and ProcessId systemd gives; a WQL Enumerate of the running
   ones is systemctl's list of active services;
4. the same user's StopService on winrmd: ReturnValue 2 (systemd refuses
   without polkit's consent) and winrmd keeps running;
5. root with the installed winrmctl (admin socket) on a unit of the test
   in /lib/systemd/system: StartService 0 (then 10), ProcessId = MainPID,
   PauseService/ResumeService 0 with a cgroup v2 freezer, else 1 (systemd:
   "does not support freezing"), AcceptPause true exactly when
   PauseService worked, StopService 0 (then 5), PauseService of
   a stopped unit 6, ChangeStartMode Automatic / Disabled / Manual
   = enabled / masked / disabled, StartService of the masked unit 14; a
   unit in /etc cannot be masked (ReturnValue 8, as systemctl mask fails).

Run as root; needs what t8000-package.py needs (scripts/install-deps.sh
test) and python3-winrm."""
import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from container import (SRCDIR, Container, Timings,  # noqa: E402
                       build_deb as make_deb, client_dir, main, name_host)
from tap import Tap  # noqa: E402

t = Tap()
BUILDDIR = os.path.abspath(os.environ.get("WINRMD_BUILDDIR", "."))
HOST = "winrmd-wmi-test"
DOMAIN = "example.test"
FQDN = HOST + "." + DOMAIN
USER, PASSWORD = "alice", "Secret-t8310"
NTLM_FILE = "/var/lib/winrmd-test/ntlm-users"
CONF = "/etc/winrmd/winrmd.conf"
UNIT = "t8310-sleeper"      # a unit as packages ship them, in /lib
LOCAL_UNIT = "t8310-local"  # an administrator's unit, in /etc
timings = Timings()
timed = timings.timed

# The client, run by the host's python3 in the container's network
# namespace: one JSON request in argv, one JSON answer on stdout.
# Envelopes from tests/integration/lib/wmiclient.py, sent by pywinrm
# (Protocol.send_message: NTLM, encrypted over HTTP).
CLIENT = r'''
import json, socket, sys
sys.path.insert(0, sys.argv[1])
from winrm.protocol import Protocol
from wmiclient import (ENUM, NS, XFER, Resp, envelope, enumerate_body, esc,
                       instance_dict, uri)
FQDN, USER, PASSWORD, req = sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
_gai = socket.getaddrinfo
socket.getaddrinfo = lambda h, *a, **k: _gai("127.0.0.1" if h == FQDN else h, *a, **k)
p = Protocol("http://%s:5985/wsman" % FQDN, transport="ntlm", username=USER,
             password=PASSWORD)


def send(env):
    out = p.send_message(env)
    return Resp(200, out if isinstance(out, bytes) else out.encode())


def items_of(el, ns):
    found = el.find(ns + ":Items", NS)
    return [instance_dict(i) for i in (found if found is not None else [])]


cls, op = req["class"], req["op"]
try:
    if op == "get":
        r = send(envelope(XFER + "/Get", uri(cls), "", req["selectors"]))
        res = instance_dict(r.first())
    elif op == "enum":
        r = send(envelope(ENUM + "/Enumerate", uri(req.get("uri", cls)),
                          enumerate_body(max_elements=50, filter_text=req.get("wql"))))
        er = r.body.find("n:EnumerateResponse", NS)
        res = items_of(er, "w")
        ctx = er.findtext("n:EnumerationContext", namespaces=NS)
        end = er.find("w:EndOfSequence", NS) is not None
        pulls = 0
        while not end and ctx and pulls < 1000:
            pulls += 1
            r = send(envelope(ENUM + "/Pull", uri(req.get("uri", cls)),
                              "<n:Pull><n:EnumerationContext>%s</n:EnumerationContext>"
                              "<n:MaxElements>50</n:MaxElements></n:Pull>" % ctx))
            pr = r.body.find("n:PullResponse", NS)
            res += items_of(pr, "n")
            ctx = pr.findtext("n:EnumerationContext", namespaces=NS)
            end = pr.find("n:EndOfSequence", NS) is not None
    else:  # invoke
        m = req["method"]
        inner = "".join("<p:%s>%s</p:%s>" % (k, esc(v), k)
                        for k, v in req.get("params", {}).items())
        body = '<p:%s_INPUT xmlns:p="%s">%s</p:%s_INPUT>' % (m, uri(cls), inner, m)
        r = send(envelope(uri(cls) + "/" + m, uri(cls), body, req["selectors"]))
        res = instance_dict(r.first())
    print(json.dumps({"ok": res}))
except Exception as e:
    print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
'''


SLEEPER = """[Unit]
Description=winrmd t8310's test service

[Service]
ExecStart=/bin/sleep 3600

[Install]
WantedBy=multi-user.target
"""


def eq(got, want, desc, diag=None):
    """t.eq, with diagnostics when it fails."""
    if not t.eq(got, want, desc) and diag:
        t.diag(str(diag)[-3000:])



def build_deb():
    deb, status, err = make_deb(BUILDDIR)
    t.diag(err.strip())
    t.ok(deb is not None and status in (0, 3),
         "dpkg-buildpackage -us -uc -b builds the package", err)
    return deb


def wmi(ct, tmp, req):
    """One WMI request by USER from the host: (result, error)."""
    r = ct.netns(["/usr/bin/python3", os.path.join(tmp, "client.py"),
                  os.path.join(SRCDIR, "tests", "integration", "lib"), FQDN,
                  HOST.upper() + "\\" + USER, PASSWORD, json.dumps(req)],
                 env={"OPENSSL_CONF": os.path.join(tmp, "openssl.cnf")}, timeout=180)
    try:
        out = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None, "client: rc %d %s %s" % (r.returncode, r.stdout[-1000:], r.stderr[-2000:])
    return out.get("ok"), out.get("error")


def show(ct, unit, prop):
    return ct.sh("systemctl show -p %s --value %s.service" % (prop, unit)).stdout.strip()


def state_of(active):
    return {"active": "Running", "reloading": "Running", "activating": "Start Pending",
            "deactivating": "Stop Pending"}.get(active, "Stopped")


def start_mode(file_state):
    if file_state is None:
        return "Manual"
    if file_state.startswith("enabled") or file_state == "alias":
        return "Auto"
    if file_state.startswith("masked"):
        return "Disabled"
    return "Manual"


def service_name(unit):
    if not unit.endswith(".service") or unit.endswith("@.service"):
        return None
    return unit[:-len(".service")]


def systemd_view(ct):
    """{name: (State, StartMode)} as systemctl shows the services."""
    units = json.loads(ct.sh("systemctl list-units --all --type=service -o json "
                             "--no-pager").stdout or "[]")
    files = json.loads(ct.sh("systemctl list-unit-files --type=service -o json "
                             "--no-pager").stdout or "[]")
    fstate = {}
    for f in files:
        n = service_name(os.path.basename(f["unit_file"]))
        if n is not None:
            fstate[n] = f["state"]
    view = {}
    for u in units:
        n = service_name(u["unit"])
        if n is not None and u["load"] != "not-found":
            view[n] = (state_of(u["active"]), start_mode(fstate.get(n)))
    for n, st in fstate.items():
        if n not in view:
            view[n] = ("Stopped", start_mode(st))
    return view


def setup(ct, deb):
    ct.copy_in(deb, "/root/" + os.path.basename(deb))
    r = ct.sh("cd /root && apt-get install -y ./%s" % os.path.basename(deb), timeout=300)
    t.ok(r.returncode == 0, "apt-get install ./%s (offline)" % os.path.basename(deb),
         r.stdout[-2000:] + r.stderr)
    st = ct.stat("/usr/libexec/winrmd/winrmd-wmi")
    eq(st.st_mode & 0o7777, 0o755, "installed: the WMI provider host in /usr/libexec/winrmd")
    t.ok(ct.read("/usr/share/man/man8/winrmd-wmi.8.gz") is not None,
         "installed: winrmd-wmi(8)")
    r = ct.run(["winrmctl", "quickconfig"])
    eq(r.returncode, 0, "winrmctl quickconfig: exit 0", r.stdout + r.stderr)
    ct.sh("useradd -m -s /bin/sh %s && echo %s:%s | chpasswd && usermod -aG winrmusers %s"
          % (USER, USER, PASSWORD, USER))
    ct.sh("mkdir -p %s && printf '%s:%s:%s\\n' > %s && chmod 600 %s"
          % (os.path.dirname(NTLM_FILE), HOST.upper(), USER, PASSWORD, NTLM_FILE, NTLM_FILE))
    r = ct.sh("sed -i 's|NtlmUserFile = \"\";|NtlmUserFile = \"%s\";|' %s && "
              "systemctl reload winrmd" % (NTLM_FILE, CONF))
    eq(r.returncode, 0, "NtlmUserFile set, systemctl reload winrmd", r.stdout + r.stderr)
    ct.write("/lib/systemd/system/%s.service" % UNIT, SLEEPER)
    ct.write("/etc/systemd/system/%s.service" % LOCAL_UNIT, SLEEPER)
    ct.sh("systemctl daemon-reload")


def get_winrmd(ct, tmp):
    v, err = wmi(ct, tmp, {"op": "get", "class": "Win32_Service",
                           "selectors": {"Name": "winrmd"}})
    t.ok(v is not None, "pywinrm (NTLM, encrypted) as %s: Get Win32_Service?Name=winrmd"
         % USER, err)
    v = v or {}
    eq((v.get("Name"), v.get("State"), v.get("Started"), v.get("Status")),
         ("winrmd", "Running", "true", "OK"), "  Name, State Running, Started, Status OK")
    eq(v.get("ProcessId"), show(ct, "winrmd", "MainPID"),
         "  ProcessId is systemctl show -p MainPID")
    eq((v.get("StartMode"), ct.sh("systemctl is-enabled winrmd").stdout.strip()),
         ("Auto", "enabled"), "  StartMode Auto: the unit is enabled")
    execstart = show(ct, "winrmd", "ExecStart")
    # "{ path=/usr/sbin/winrmd ; argv[]=/usr/sbin/winrmd -n ; ... }"
    argv = execstart.split("argv[]=", 1)[-1].split(" ;", 1)[0]
    eq(v.get("PathName"), argv, "  PathName is the unit's ExecStart", execstart)
    eq((v.get("DisplayName"), v.get("Description")),
         (show(ct, "winrmd", "Description"),) * 2, "  DisplayName and Description")
    eq(v.get("SystemName"), HOST, "  SystemName is the container's host name")


def enumerate_services(ct, tmp):
    before = systemd_view(ct)
    items, err = wmi(ct, tmp, {"op": "enum", "class": "Win32_Service"})
    after = systemd_view(ct)
    t.ok(items is not None, "pywinrm: Enumerate and Pull Win32_Service to the end", err)
    items = items or []
    got = {i.get("Name"): i for i in items}
    eq(len(got), len(items), "  each service once", len(items))
    t.ok(len(before) > 10, "  (systemd lists %d services)" % len(before))
    stable = {n: v for n, v in before.items() if after.get(n) == v}
    eq(sorted(got), sorted(set(before) | set(after)),
         "  the services systemctl list-units --all and list-unit-files show")
    eq({n: (got[n].get("State"), got[n].get("StartMode")) for n in stable if n in got},
         {n: v for n, v in stable.items() if n in got},
         "  State and StartMode of each as systemd gives them")
    pids = {n: show(ct, n, "MainPID") for n in sorted(got)
            if stable.get(n, ("",))[0] == "Running"}
    eq({n: got[n].get("ProcessId") for n in pids}, pids,
         "  ProcessId of each running service is its MainPID (%d running)" % len(pids))
    running = sorted(n for n, v in stable.items() if v[0] == "Running")
    items, err = wmi(ct, tmp, {"op": "enum", "class": "Win32_Service", "uri": "*",
                               "wql": "select Name, State from Win32_Service "
                                      "where State = 'Running'"})
    t.ok(items is not None, "WQL: select Name, State from Win32_Service where "
         "State = 'Running'", err)
    names = sorted(i.get("Name") for i in items or [])
    eq([n for n in names if n in stable], running,
         "  the active services of systemctl list-units")


def user_cannot_stop(ct, tmp):
    pid = show(ct, "winrmd", "MainPID")
    v, err = wmi(ct, tmp, {"op": "invoke", "class": "Win32_Service", "method": "StopService",
                           "selectors": {"Name": "winrmd"}})
    eq((v or {}).get("ReturnValue"), "2",
         "StopService on winrmd by %s (no administrator): ReturnValue 2" % USER, err)
    eq((ct.sh("systemctl is-active winrmd").stdout.strip(), show(ct, "winrmd", "MainPID")),
         ("active", pid), "  winrmd still runs, same main process")


def ctl(ct, *args):
    return ct.run(["winrmctl"] + list(args))


def invoke(ct, method, params=None, unit=UNIT):
    args = ["invoke", method, "wmicimv2/Win32_Service?Name=" + unit]
    if params:
        args.append("@{" + ";".join('%s="%s"' % kv for kv in params.items()) + "}")
    r = ctl(ct, *args)
    for line in r.stdout.splitlines():
        if line.strip().startswith("ReturnValue = "):
            return line.split("=", 1)[1].strip(), r
    return None, r


def admin_methods(ct):
    def is_active():
        return ct.sh("systemctl is-active %s" % UNIT).stdout.strip()

    def is_enabled():
        return ct.sh("systemctl is-enabled %s" % UNIT).stdout.strip()

    rv, r = invoke(ct, "StartService")
    eq((rv, is_active()), ("0", "active"),
         "root, winrmctl invoke StartService: 0, the unit is active", r.stdout + r.stderr)
    r = ctl(ct, "get", "wmicimv2/Win32_Service?Name=" + UNIT)
    t.ok(r.returncode == 0 and "    State = Running\n" in r.stdout and
         "    ProcessId = %s\n" % show(ct, UNIT, "MainPID") in r.stdout and
         "    PathName = /bin/sleep 3600\n" in r.stdout,
         "winrmctl get: Running, ProcessId = MainPID, PathName", r.stdout + r.stderr)
    accept = re.search(r"^    AcceptPause = (\w+)$", r.stdout, re.M)
    rv, r = invoke(ct, "StartService")
    eq(rv, "10", "StartService again: 10 (already running)", r.stdout + r.stderr)
    # PauseService is FreezeUnit: 0 and frozen where systemd has the cgroup
    # freezer (cgroup v2), else 1 and the unit runs on as it was
    rv, r = invoke(ct, "PauseService")
    freezer = show(ct, UNIT, "FreezerState")
    t.ok((rv, freezer) in (("0", "frozen"), ("1", "running")),
         "PauseService: 0 and frozen, or 1 without a freezer (%s, %s)" % (rv, freezer),
         r.stdout + r.stderr)
    eq(accept.group(1) if accept else None, "true" if rv == "0" else "false",
       "  AcceptPause (of the Get before) was %s: true only where PauseService works"
       % ("true" if rv == "0" else "false"))
    rv, r = invoke(ct, "ResumeService")
    eq((rv, show(ct, UNIT, "FreezerState"), is_active()),
       ("0" if freezer == "frozen" else "1", "running", "active"),
       "ResumeService: 0 and thawed (1 without a freezer), the unit active",
       r.stdout + r.stderr)
    rv, r = invoke(ct, "StopService")
    eq((rv, is_active()), ("0", "inactive"), "StopService: 0, the unit is inactive",
         r.stdout + r.stderr)
    rv, r = invoke(ct, "StopService")
    eq(rv, "5", "StopService again: 5 (not running)", r.stdout + r.stderr)
    rv, r = invoke(ct, "PauseService")
    eq(rv, "6", "PauseService of a stopped unit: 6 (not active)", r.stdout + r.stderr)
    rv, r = invoke(ct, "ChangeStartMode", {"StartMode": "Automatic"})
    eq((rv, is_enabled()), ("0", "enabled"), "ChangeStartMode Automatic: enabled",
         r.stdout + r.stderr)
    rv, r = invoke(ct, "ChangeStartMode", {"StartMode": "Disabled"})
    eq((rv, is_enabled()), ("0", "masked"), "ChangeStartMode Disabled: masked",
         r.stdout + r.stderr)
    r = ctl(ct, "get", "wmicimv2/Win32_Service?Name=" + UNIT)
    t.contains(r.stdout, "    StartMode = Disabled\n", "  Get: StartMode Disabled")
    rv, r = invoke(ct, "StartService")
    eq((rv, is_active()), ("14", "inactive"), "StartService of the masked unit: 14",
         r.stdout + r.stderr)
    rv, r = invoke(ct, "ChangeStartMode", {"StartMode": "Manual"})
    eq((rv, is_enabled()), ("0", "disabled"), "ChangeStartMode Manual: unmasked, disabled",
         r.stdout + r.stderr)
    rv, r = invoke(ct, "ChangeStartMode", {"StartMode": "Sometimes"})
    eq(rv, "21", "ChangeStartMode Sometimes: 21", r.stdout + r.stderr)
    # systemd masks no unit whose file is in /etc ("systemctl mask" says
    # the file already exists): ReturnValue 8, the unit as it was
    rv, r = invoke(ct, "ChangeStartMode", {"StartMode": "Automatic"}, LOCAL_UNIT)
    eq(rv, "0", "ChangeStartMode Automatic of a unit in /etc: 0", r.stdout + r.stderr)
    rv, r = invoke(ct, "ChangeStartMode", {"StartMode": "Disabled"}, LOCAL_UNIT)
    eq((rv, ct.sh("systemctl is-enabled %s" % LOCAL_UNIT).stdout.strip()), ("8", "enabled"),
       "ChangeStartMode Disabled of a unit in /etc: 8 (systemd refuses to mask it), "
       "still enabled", r.stdout + r.stderr)


def run():
    deb = timed("build-deb", build_deb)
    if deb is None:
        return
    tmp = client_dir("t8310", {"client.py": CLIENT})
    try:
        with Container("t8310") as ct:
            name_host(ct, HOST, FQDN)
            ct.start()
            eq(ct.sh("systemctl is-system-running --wait").stdout.strip(), "running",
                 "the container booted systemd (running)")
            timed("setup", setup, ct, deb)
            timed("get", get_winrmd, ct, tmp)
            timed("enumerate", enumerate_services, ct, tmp)
            timed("user", user_cannot_stop, ct, tmp)
            timed("admin", admin_methods, ct)
            timings.update(ct.timings)
        timings["halt"] = ct.timings.get("halt", 0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


main(t, run, timings)
