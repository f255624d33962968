"""mocksystemd.py - a private D-Bus bus with a stand-in for systemd's
manager (org.freedesktop.systemd1), for the tests of Win32_Service where
no systemd runs (t8200).

    bus = MockSystemd(work_dir, env)  # dbus-daemon + the mock, as root
    bus.address                     # for DBUS_SYSTEM_BUS_ADDRESS
    bus.state()                     # the units as the mock has them now
    bus.close()                     # both killed by PID

The mock implements, with systemd's own signatures, what winrmd-wmi
calls: Manager.ListUnitsByPatterns (a(ssssssouso)),
ListUnitFilesByPatterns (a(ss)), StartUnit, StopUnit, FreezeUnit,
ThawUnit, EnableUnitFiles, DisableUnitFiles, MaskUnitFiles,
UnmaskUnitFiles, Reload; the Unit properties CanStop, CanFreeze; the
Service properties MainPID, ExecMainStatus, User, ExecStart
(a(sasbttttuii)), ControlGroup ("" when the unit is not active; by
default a path no host has: MockSystemd(units=...) may name a real one).  It stands in for polkit too: a caller that is not root
or uid ADMIN_UID gets org.freedesktop.DBus.Error.InteractiveAuthorizationRequired
for every change, as a non-administrator does from polkit.

The bus accepts every local user (its own configuration, in the work
directory); dbus-daemon drops a connection whose uid it cannot look up,
so env carries nss_wrapper's variables for the lab's users; the mock runs as root in its own process (GLib's D-Bus, from
python3-gi), started and ended by PID.
"""
import json
import os
import subprocess
import sys
import time

ADMIN_UID = 20003  # carol in tests/integration/lib/lab.py

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""

# name: [active, sub, file state, MainPID, ExecMainStatus, User, ExecStart, CanFreeze,
#        ControlGroup]
UNITS = {
    "cron.service": ["active", "running", "enabled", 4242, 0, "",
                     ["/usr/sbin/cron", "-f"], True, "/winrmd-mock.slice/cron.service"],
    "ssh.service": ["inactive", "dead", "disabled", 0, 0, "",
                    ["/usr/sbin/sshd", "-D"], True, "/winrmd-mock.slice/ssh.service"],
    "web.service": ["active", "running", "enabled", 5151, 0, "www-data",
                    ["/usr/bin/web", "--port", "8080"], True, "/winrmd-mock.slice/web.service"],
    "broken.service": ["failed", "failed", "enabled", 0, 3, "",
                       ["/usr/bin/broken"], True, "/winrmd-mock.slice/broken.service"],
}
FILES_ONLY = {"old.service": "masked", "getty@.service": "enabled"}

SERVER = r'''
import json, os, sys
from gi.repository import Gio, GLib

address, statefile, admin_uid = sys.argv[1], sys.argv[2], int(sys.argv[3])
units = json.loads(sys.argv[4])
files_only = json.loads(sys.argv[5])
SD = "org.freedesktop.systemd1"

XML = """<node>
<interface name="org.freedesktop.systemd1.Manager">
 <method name="ListUnitsByPatterns"><arg type="as" direction="in"/><arg type="as" direction="in"/>
  <arg type="a(ssssssouso)" direction="out"/></method>
 <method name="ListUnitFilesByPatterns"><arg type="as" direction="in"/><arg type="as" direction="in"/>
  <arg type="a(ss)" direction="out"/></method>
 <method name="StartUnit"><arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="o" direction="out"/></method>
 <method name="StopUnit"><arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="o" direction="out"/></method>
 <method name="FreezeUnit"><arg type="s" direction="in"/></method>
 <method name="ThawUnit"><arg type="s" direction="in"/></method>
 <method name="EnableUnitFiles"><arg type="as" direction="in"/><arg type="b" direction="in"/><arg type="b" direction="in"/>
  <arg type="b" direction="out"/><arg type="a(sss)" direction="out"/></method>
 <method name="MaskUnitFiles"><arg type="as" direction="in"/><arg type="b" direction="in"/><arg type="b" direction="in"/>
  <arg type="a(sss)" direction="out"/></method>
 <method name="DisableUnitFiles"><arg type="as" direction="in"/><arg type="b" direction="in"/>
  <arg type="a(sss)" direction="out"/></method>
 <method name="UnmaskUnitFiles"><arg type="as" direction="in"/><arg type="b" direction="in"/>
  <arg type="a(sss)" direction="out"/></method>
 <method name="Reload"/>
</interface>
<interface name="org.freedesktop.systemd1.Unit">
 <property name="CanStop" type="b" access="read"/><property name="CanFreeze" type="b" access="read"/>
</interface>
<interface name="org.freedesktop.systemd1.Service">
 <property name="MainPID" type="u" access="read"/><property name="ExecMainStatus" type="i" access="read"/>
 <property name="User" type="s" access="read"/><property name="ExecStart" type="a(sasbttttuii)" access="read"/>
 <property name="ControlGroup" type="s" access="read"/>
</interface>
</node>"""
info = Gio.DBusNodeInfo.new_for_xml(XML)
conn = Gio.DBusConnection.new_for_address_sync(
    address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
    Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
calls = []

def save():
    with open(statefile + ".tmp", "w") as f:
        json.dump({"units": units, "files": files_only, "calls": calls}, f)
    os.rename(statefile + ".tmp", statefile)

def path_of(name):
    return "/org/freedesktop/systemd1/unit/" + name.replace(".", "_2e").replace("@", "_40").replace("-", "_2d")

def uid_of(sender):
    r = conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                       "GetConnectionUnixUser", GLib.Variant("(s)", (sender,)),
                       GLib.VariantType("(u)"), 0, -1, None)
    return r.unpack()[0]

def match(name, patterns):
    import fnmatch
    return not patterns or any(fnmatch.fnmatch(name, p) for p in patterns)

# The state file is written before the answer goes out: a client that
# has its answer must find the change there (a test reads it right after).
def reply(inv, value):
    save()
    inv.return_value(value)

def refuse(inv, name, message):
    save()
    inv.return_dbus_error(name, message)

def manager(connection, sender, path, iface, method, params, inv):
    args = params.unpack()
    calls.append([method, uid_of(sender), list(args) if not isinstance(args, list) else args])
    if method == "ListUnitsByPatterns":
        out = [(n, "Description of " + n, "loaded", u[0], u[1], "", path_of(n), 0, "", "/")
               for n, u in sorted(units.items()) if match(n, args[1])]
        reply(inv, GLib.Variant("(a(ssssssouso))", (out,)))
    elif method == "ListUnitFilesByPatterns":
        out = [("/lib/systemd/system/" + n, u[2]) for n, u in sorted(units.items()) if match(n, args[1])]
        out += [("/lib/systemd/system/" + n, s) for n, s in sorted(files_only.items())
                if match(n, args[1])]
        reply(inv, GLib.Variant("(a(ss))", (out,)))
    elif uid_of(sender) not in (0, admin_uid):
        refuse(inv, "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired",
                              "Interactive authentication required.")
    elif method in ("StartUnit", "StopUnit"):
        u = units.get(args[0])
        if u is None:
            refuse(inv, "org.freedesktop.systemd1.NoSuchUnit", "Unit not found.")
        else:
            u[0], u[1] = ("active", "running") if method == "StartUnit" else ("inactive", "dead")
            reply(inv, GLib.Variant("(o)", ("/org/freedesktop/systemd1/job/1",)))
    elif method in ("FreezeUnit", "ThawUnit"):
        units[args[0]][1] = "frozen" if method == "FreezeUnit" else "running"
        reply(inv, None)
    elif method in ("EnableUnitFiles", "MaskUnitFiles", "DisableUnitFiles", "UnmaskUnitFiles"):
        for n in args[0]:
            u = units.get(n)
            state = {"EnableUnitFiles": "enabled", "MaskUnitFiles": "masked",
                     "DisableUnitFiles": "disabled", "UnmaskUnitFiles": None}[method]
            if u is not None and (state is not None or u[2] == "masked"):
                u[2] = state or "disabled"
        if method == "EnableUnitFiles":
            reply(inv, GLib.Variant("(ba(sss))", (True, [])))
        else:
            reply(inv, GLib.Variant("(a(sss))", ([],)))
    elif method == "Reload":
        reply(inv, None)

def unit_prop(connection, sender, path, iface, prop):
    for n, u in units.items():
        if path_of(n) == path:
            if prop == "CanStop":
                return GLib.Variant("b", True)
            if prop == "CanFreeze":
                return GLib.Variant("b", u[7])
            if prop == "MainPID":
                return GLib.Variant("u", u[3] if u[0] == "active" else 0)
            if prop == "ExecMainStatus":
                return GLib.Variant("i", u[4])
            if prop == "User":
                return GLib.Variant("s", u[5])
            if prop == "ControlGroup":
                return GLib.Variant("s", u[8] if u[0] == "active" else "")
            if prop == "ExecStart":
                return GLib.Variant("a(sasbttttuii)", [(u[6][0], u[6], False, 0, 0, 0, 0, 0, 0, 0)])
    return None

conn.register_object("/org/freedesktop/systemd1", info.interfaces[0], manager, None, None)
for n in units:
    conn.register_object(path_of(n), info.interfaces[1], None, unit_prop, None)
    conn.register_object(path_of(n), info.interfaces[2], None, unit_prop, None)
conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
               GLib.Variant("(su)", (SD, 4)), GLib.VariantType("(u)"), 0, -1, None)
save()
print("ready", flush=True)
GLib.MainLoop().run()
'''


class MockSystemd:
    def __init__(self, work, env=None, units=None):
        self.work = work
        sock = os.path.join(work, "system_bus_socket")
        conf = os.path.join(work, "bus.conf")
        with open(conf, "w") as f:
            f.write(BUS_CONFIG % sock)
        self.address = "unix:path=" + sock
        self.statefile = os.path.join(work, "mock-state.json")
        self.bus = subprocess.Popen(["dbus-daemon", "--config-file=" + conf, "--nofork",
                                     "--nopidfile"], stdout=subprocess.DEVNULL,
                                    env=dict(os.environ, **(env or {})))
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        os.chmod(sock, 0o777)
        os.chmod(work, 0o755)
        self.mock = subprocess.Popen(
            ["/usr/bin/python3", "-c", SERVER, self.address, self.statefile, str(ADMIN_UID),
             json.dumps(units or UNITS), json.dumps(FILES_ONLY)], stdout=subprocess.PIPE, text=True)
        line = self.mock.stdout.readline()
        if line.strip() != "ready":
            self.close()
            raise RuntimeError("the mock systemd did not start")

    def state(self):
        with open(self.statefile) as f:
            return json.load(f)

    def close(self):
        for p in (getattr(self, "mock", None), self.bus):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()


if __name__ == "__main__":
    m = MockSystemd(sys.argv[1])
    print(m.address)
    time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 5)
    m.close()
