#!/usr/bin/python3
"""bench/wmi.py - the WMI classes of winrmd next to the commands a Linux
administrator would run instead, measured in the same run on the same
machine (bench/run.sh wmi).

    sudo WINRMD_BUILDDIR=build-bench bench/wmi.py

Prints:
  1. Enumerate of every Win32_Process with PROCESSES (default 1,000)
     extra `sleep` processes running: the complete enumeration (Enumerate
     with OptimizeEnumeration and MaxElements 32000, then Pulls until
     EndOfSequence, MaxEnvelopeSize 512000 as winrm.cmd sends) on one
     keep-alive connection, ITERATIONS times (default 20): enumerations/s,
     p50/p99, processes, answers and bytes per enumeration; the same with
     a WQL projection (select Name, ProcessId); next to `ps -eo
     pid,ppid,comm,args` run ITERATIONS times (a new ps process each,
     its output read in full);
  2. Get of one instance (Win32_Process?Handle=<one of the sleeps>, and
     the Win32_OperatingSystem singleton) with wrk, keep-alive, 1 and 8
     connections, DURATION seconds each (default 5): requests/s and
     p50/p99, next to anonymous Identify measured by wrk in the same run.

Setup, all throwaway (bench/shell.py's): one account, winrmbench (uid
20900, in winrmusers), known through nss_wrapper; winrmd from
$WINRMD_BUILDDIR on 127.0.0.1 and a free port, Basic over plain HTTP, in a
private mount namespace whose /etc/pam.d holds one PAM service
(pam_permit).  The PROCESSES sleeps are started by this script as root
(bounded: exactly that many) and killed by PID at the end, winrmd by
its PID.
"""
import base64
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid

BUILDDIR = os.environ.get("WINRMD_BUILDDIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "build-bench")
WINRMD = os.path.join(BUILDDIR, "listener", "winrmd")
HELPER = os.path.join(BUILDDIR, "helper", "winrmd-priv")
PROVIDER = os.path.join(BUILDDIR, "provider", "winrmd-wmi")
LUA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wmi-get.lua")
IDENTIFY_LUA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "identify.lua")
PROCESSES = int(os.environ.get("PROCESSES", "1000"))
ITERATIONS = int(os.environ.get("ITERATIONS", "20"))
DURATION = int(os.environ.get("DURATION", "5"))
USER, PASSWORD, UID = "winrmbench", "bench", 20900
AUTH = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
NSS_WRAPPER = "/usr/lib/%s/libnss_wrapper.so" % (
    sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu")
WMI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/"
ENUM = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
XFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
RE_CTX = re.compile(rb"<n:EnumerationContext>([^<]*)</n:EnumerationContext>")


def die(msg):
    print("bench/wmi.py: " + msg, file=sys.stderr)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def envelope(action, uri, body="", selectors=None, max_envelope=512000):
    sel = ""
    if selectors:
        sel = "<w:SelectorSet>" + "".join('<w:Selector Name="%s">%s</w:Selector>' % kv
                                          for kv in selectors.items()) + "</w:SelectorSet>"
    return (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:n="%s">'
        "<s:Header><a:To>http://127.0.0.1/wsman</a:To>"
        '<a:ReplyTo><a:Address s:mustUnderstand="true">'
        "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>"
        '<w:MaxEnvelopeSize s:mustUnderstand="true">%d</w:MaxEnvelopeSize>'
        "<a:MessageID>uuid:%s</a:MessageID><w:OperationTimeout>PT60S</w:OperationTimeout>"
        '<w:ResourceURI s:mustUnderstand="true">%s</w:ResourceURI>'
        '<a:Action s:mustUnderstand="true">%s</a:Action>%s</s:Header>'
        "<s:Body>%s</s:Body></s:Envelope>"
    ) % (ENUM, max_envelope, str(uuid.uuid4()).upper(), uri, action, sel, body)


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


class Conn:
    def __init__(self, port, auth=AUTH):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.auth = auth

    def post(self, env):
        self.c.request("POST", "/wsman", body=env.encode(),
                       headers={"Content-Type": "application/soap+xml;charset=UTF-8",
                                "Authorization": self.auth})
        r = self.c.getresponse()
        data = r.read()
        if r.status != 200:
            die("HTTP %d:\n%s" % (r.status, data[:2000].decode("utf-8", "replace")))
        return data

    def enumerate_all(self, uri, filter_text=None, tag=b"<p:Win32_Process ", keep=None,
                      mode=None):
        """One complete enumeration: (items, answers, bytes); items are the
        elements that start with tag (or XML fragments of a projection);
        keep, a list, gets every answer's body; mode an EnumerationMode."""
        f = ('<w:Filter Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL">%s</w:Filter>'
             % filter_text) if filter_text else ""
        if mode:
            f += "<w:EnumerationMode>%s</w:EnumerationMode>" % mode
        data = self.post(envelope(ENUM + "/Enumerate", uri,
                                  "<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>32000"
                                  "</w:MaxElements>%s</n:Enumerate>" % f))
        items = data.count(tag) + data.count(b"<w:XmlFragment")
        answers, size = 1, len(data)
        if keep is not None:
            keep.append(data)
        while b"EndOfSequence/>" not in data:
            ctx = RE_CTX.search(data)
            if ctx is None or not ctx.group(1):
                die("no context to Pull with")
            data = self.post(envelope(ENUM + "/Pull", uri,
                                      "<n:Pull><n:EnumerationContext>%s</n:EnumerationContext>"
                                      "<n:MaxElements>32000</n:MaxElements></n:Pull>"
                                      % ctx.group(1).decode()))
            items += data.count(tag) + data.count(b"<w:XmlFragment")
            if keep is not None:
                keep.append(data)
            answers += 1
            size += len(data)
        return items, answers, size


class Bench:
    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="winrmd-bench-wmi.")
        os.chmod(self.work, 0o755)
        self.winrmd = None
        self.sleeps = []

    def start_winrmd(self):
        home = os.path.join(self.work, "home")
        os.mkdir(home, 0o755)
        os.chown(home, UID, UID)
        passwd = os.path.join(self.work, "passwd")
        group = os.path.join(self.work, "group")
        with open(passwd, "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n"
                    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
                    "%s:x:%d:%d:winrmd benchmark:%s:/bin/sh\n" % (USER, UID, UID, home))
        with open(group, "w") as f:
            f.write("root:x:0:\nnogroup:x:65534:\n%s:x:%d:\nwinrmusers:x:30001:%s\n"
                    % (USER, UID, USER))
        env = dict(os.environ, LD_PRELOAD=NSS_WRAPPER, NSS_WRAPPER_PASSWD=passwd,
                   NSS_WRAPPER_GROUP=group)
        pamd = os.path.join(self.work, "pam.d")
        os.mkdir(pamd)
        with open(os.path.join(pamd, "winrmd-bench"), "w") as f:
            for kind in ("auth", "account", "password", "session"):
                f.write("%s required pam_permit.so\n" % kind)
        self.port = free_port()
        conf = os.path.join(self.work, "winrmd.conf")
        with open(conf, "w") as f:
            f.write("""Listeners = ( { Address = "127.0.0.1"; Port = %(port)d; Transport = "HTTP"; } );
Logging = { Level = "notice"; };
Daemon = { User = "nobody"; HelperPath = "%(helper)s";
  AdminSocket = "%(work)s/admin.sock"; CertMappingFile = "%(work)s/cm.conf"; };
Service = { AllowUnencrypted = true; MaxConnectionsPerAddress = 64;
  Auth = { Basic = true; PamService = "winrmd-bench"; }; };
Winrs = { KeepEnvironment = [ "LD_PRELOAD", "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP" ]; };
Wmi = { ProviderPath = "%(provider)s"; };
""" % dict(port=self.port, helper=HELPER, work=self.work, provider=PROVIDER))
        self.log_path = os.path.join(self.work, "winrmd.log")
        self.logf = open(self.log_path, "wb")
        self.winrmd = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c",
             'mount --bind "$0" /etc/pam.d && exec "$@"', pamd, WINRMD, "-f", "-c", conf],
            stdout=self.logf, stderr=self.logf, cwd=self.work, env=env)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.winrmd.poll() is not None:
                die("winrmd exited:\n" + self.log())
            if " ready" in self.log():
                return
            time.sleep(0.05)
        die("winrmd not ready:\n" + self.log())

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def start_sleeps(self):
        for _ in range(PROCESSES):
            self.sleeps.append(subprocess.Popen(["sleep", "3600"], stdin=subprocess.DEVNULL))

    def stop(self):
        for p in self.sleeps:
            if p.poll() is None:
                p.kill()
        for p in self.sleeps:
            p.wait()
        if self.winrmd is not None and self.winrmd.poll() is None:
            self.winrmd.terminate()
            try:
                self.winrmd.wait(15)
            except subprocess.TimeoutExpired:
                self.winrmd.kill()
                self.winrmd.wait()
        shutil.rmtree(self.work, ignore_errors=True)

    # --- measurements ---

    def timed(self, fn):
        times, result = [], None
        for _ in range(ITERATIONS):
            t0 = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t0)
        return times, result

    def row(self, name, times, extra=""):
        print("%-44s %9.1f %9.1f %9.1f  %s" % (
            name, len(times) / sum(times), statistics.median(times) * 1000,
            pct(times, 99) * 1000, extra))

    def enumerations(self):
        c = Conn(self.port)
        n, _, _ = c.enumerate_all(WMI + "Win32_Process")  # starts the host
        procs = len([x for x in os.listdir("/proc") if x.isdigit()])
        if n < PROCESSES:
            die("only %d processes enumerated" % n)
        print("== Enumerate every Win32_Process: %d processes (%d of them sleep), "
              "%d runs each" % (procs, PROCESSES, ITERATIONS))
        print("%-44s %9s %9s %9s" % ("run", "per s", "p50 ms", "p99 ms"))
        times, (n, answers, size) = self.timed(lambda: c.enumerate_all(WMI + "Win32_Process"))
        self.row("winrmd Enumerate+Pulls, select *", times,
                 "%d instances, %d answers, %.1f MB" % (n, answers, size / 1e6))
        q = "select Name, ProcessId from Win32_Process"
        times, (n, answers, size) = self.timed(lambda: c.enumerate_all(WMI + "*", q))
        self.row("winrmd WQL select Name, ProcessId", times,
                 "%d instances, %d answers, %.1f MB" % (n, answers, size / 1e6))

        def ps():
            out = subprocess.run(["ps", "-eo", "pid,ppid,comm,args"], capture_output=True).stdout
            return out.count(b"\n") - 1, len(out)
        times, (lines, size) = self.timed(ps)
        self.row("ps -eo pid,ppid,comm,args", times, "%d processes, %.2f MB" % (lines, size / 1e6))
        c.c.close()

    def wrk(self, lua, conns, env):
        threads = 1 if conns == 1 else 2
        r = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % DURATION,
                            "--latency", "-s", lua, "http://127.0.0.1:%d/wsman" % self.port],
                           capture_output=True, text=True, env=dict(os.environ, **env))
        m = re.search(r"BENCH rps=([\d.]+) p50_us=(\d+) p99_us=(\d+) requests=(\d+) "
                      r"non200=(\d+) errors=(\d+)", r.stdout)
        if m is None:
            die("wrk: " + r.stdout + r.stderr)
        return float(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(5)) + int(m.group(6))

    def gets(self):
        pid = self.sleeps[len(self.sleeps) // 2].pid
        bodies = {}
        for name, uri, sel in (("process", WMI + "Win32_Process", {"Handle": str(pid)}),
                               ("os", WMI + "Win32_OperatingSystem", None)):
            path = os.path.join(self.work, name + ".xml")
            with open(path, "w") as f:
                f.write(envelope(XFER + "/Get", uri, "", sel))
            bodies[name] = path
        print("== Get of one instance next to anonymous Identify (wrk, keep-alive, %ds per run)"
              % DURATION)
        print("%-44s %9s %9s %9s %7s" % ("run", "req/s", "p50 ms", "p99 ms", "errors"))
        for conns in (1, 8):
            runs = (("anonymous Identify", IDENTIFY_LUA, {}),
                    ("Get Win32_Process?Handle=<pid>", LUA,
                     {"BENCH_BODY_FILE": bodies["process"], "BENCH_AUTH": AUTH}),
                    ("Get Win32_OperatingSystem", LUA,
                     {"BENCH_BODY_FILE": bodies["os"], "BENCH_AUTH": AUTH}))
            base = None
            for name, lua, env in runs:
                rps, p50, p99, errors = self.wrk(lua, conns, env)
                base = base or rps
                print("%-44s %9.0f %9.3f %9.3f %7d  %s" % (
                    "%s, %d conn" % (name, conns), rps, p50 / 1000, p99 / 1000, errors,
                    "" if lua == IDENTIFY_LUA else "(%.3f of Identify)" % (rps / base)))


def main():
    if os.geteuid() != 0:
        die("run as root (winrmd starts as root)")
    for f in (WINRMD, HELPER, PROVIDER):
        if not os.access(f, os.X_OK):
            die("%s not built (WINRMD_BUILDDIR)" % f)
    b = Bench()
    try:
        b.start_winrmd()
        b.start_sleeps()
        time.sleep(0.5)
        b.enumerations()
        b.gets()
    finally:
        b.stop()


if __name__ == "__main__":
    main()
