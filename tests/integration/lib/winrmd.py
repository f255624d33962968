"""winrmd.py - start the real winrmd (both processes) on loopback for a test.

    d = Daemon(config={"Service": {"MaxEnvelopeSizekb": 64}})
    d.start()
    status, headers, body = d.post(body, headers={...})
    d.stop()            # returns the listener's exit status

The daemon runs as root (it drops its listener itself) with a generated
configuration in a private temporary directory, on 127.0.0.1 and a free
port.  Its stderr goes to d.log_path; d.log() returns it.  Tests also call
d.check_alive() after hostile requests: a request that crashes or hangs the
daemon fails the test.

Daemon(mounts=[(fstype, source, target, options), ...]) runs the daemon
in a private mount namespace (unshare -m, propagation private) in which
those file systems are mounted first, in order (mount -t fstype -o
options source target; a failed mount fails d.start() with mount's error
in the log).  The listener, its helper and everything the helper starts
(shells, WMI provider hosts) see them; the test itself keeps the host's
mounts.  No PID namespace: PIDs are the host's, and d.proc.pid is still
the listener (unshare and sh exec it).  Daemon(proc_hidepid=1 or 2) adds
/proc mounted again with hidepid=1 (noaccess: other users' /proc/PID are
listed, their contents unreadable) or hidepid=2 (invisible: not listed
either), as an administrator may mount it.
"""
import http.client
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time

SRCDIR = os.environ.get("WINRMD_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BUILDDIR = os.environ.get("WINRMD_BUILDDIR") or SRCDIR
WINRMD = os.path.join(BUILDDIR, "listener", "winrmd")
HELPER = os.path.join(BUILDDIR, "helper", "winrmd-priv")
WMI_PROVIDER = os.path.join(BUILDDIR, "provider", "winrmd-wmi")

IDENTIFY = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd">'
    '<s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>')

SOAP_CT = "application/soap+xml;charset=UTF-8"
# The listener's own lines at the end of a SIGHUP reload.  Wait for these,
# not for "configuration reloaded" alone: the helper logs that first,
# before the listener has applied anything.
LISTENER_RELOADED = r"winrmd\[\d+\] info: reload: configuration reloaded"
LISTENER_RELOAD_DONE = (r"winrmd\[\d+\] \w+: reload: (configuration reloaded|reload refused"
                        r"|reload failed)")


def log_escape(value):
    """A value as log_escape (lib/log.c) writes it into a log line:
    '"' and '\\' after a backslash, bytes below 0x20 and 0x7f as \\xHH."""
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7f:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


_FIELD = re.compile(r'([A-Za-z]+)=("(?:[^"\\]|\\.)*"|\S*)')


def audit_fields(line):
    """The key=value fields of an audit line, in order, as (key, value)
    pairs; a quoted value is returned with its quotes and escapes as
    logged."""
    rest = line.split(" audit: ", 1)[-1]
    return _FIELD.findall(rest)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


_HANDED_OUT = set()     # never hand out one port twice in this process


def free_ports(n, also=()):
    """n distinct free ports of 127.0.0.1, also free on the extra loopback
    addresses in also, never handed out before by this process."""
    out = []
    while len(out) < n:
        p = free_port()
        if p in out or p in _HANDED_OUT:
            continue
        try:
            for addr in also:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                try:
                    s.bind((addr, p))
                finally:
                    s.close()
        except OSError:
            continue
        out.append(p)
    _HANDED_OUT.update(out)
    return out


def der_of(path):
    """The bytes of a file (a DER certificate)."""
    with open(path, "rb") as f:
        return f.read()


def _value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return "%dL" % v if v > 2147483647 else str(v)
    if isinstance(v, (list, tuple)):
        return "[ " + ", ".join(_value(x) for x in v) + " ]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_config(tree, indent=""):
    """Renders a dict of groups/values (and a Listeners list) as libconfig."""
    out = []
    for key, v in tree.items():
        if isinstance(v, dict):
            out.append("%s%s = {" % (indent, key))
            out.append(render_config(v, indent + "  "))
            out.append("%s};" % indent)
        elif key == "Listeners":
            items = []
            for listener in v:
                items.append(indent + "  { " + " ".join(
                    "%s = %s;" % (k, _value(x)) for k, x in listener.items()) + " }")
            out.append("%sListeners = (\n%s\n%s);" % (indent, ",\n".join(items), indent))
        else:
            out.append("%s%s = %s;" % (indent, key, _value(v)))
    return "\n".join(out)


def merge(base, extra):
    for k, v in (extra or {}).items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            merge(base[k], v)
        else:
            base[k] = v
    return base


class Daemon:
    def __init__(self, config=None, env=None, user="nobody", port=None, mounts=(),
                 proc_hidepid=None):
        self.mounts = list(mounts)
        if proc_hidepid is not None:
            self.mounts.append(("proc", "proc", "/proc", "hidepid=%s" % proc_hidepid))
        self.tmp = tempfile.mkdtemp(prefix="winrmd-test-")
        os.chmod(self.tmp, 0o755)
        self.port = port or free_port()
        self.conf_path = os.path.join(self.tmp, "winrmd.conf")
        self.log_path = os.path.join(self.tmp, "winrmd.log")
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.proc = None
        self.tree = {
            "Listeners": [{"Address": "127.0.0.1", "Port": self.port,
                           "Transport": "HTTP"}],
            "Logging": {"Level": "debug"},
            "Daemon": {"User": user, "HelperPath": HELPER,
                       "AdminSocket": os.path.join(self.tmp, "admin.sock"),
                       "CertMappingFile": os.path.join(self.tmp, "certmapping.conf")},
            "Wmi": {"ProviderPath": WMI_PROVIDER},
        }
        merge(self.tree, config)
        self.write_config()

    @property
    def url(self):
        return "http://127.0.0.1:%d/wsman" % self.port

    def write_config(self, text=None):
        if text is None:
            text = render_config(self.tree) + "\n"
        tmp = self.conf_path + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.conf_path)

    def start(self, args=("-f",), wait=True):
        self.logf = open(self.log_path, "ab")
        argv = [WINRMD, "-c", self.conf_path] + list(args)
        if self.mounts:
            # a failed mount ends sh with its error in the log: start fails
            script = " && ".join(
                "mount -t %s%s %s %s" % (shlex.quote(fstype),
                                         " -o " + shlex.quote(opts) if opts else "",
                                         shlex.quote(src), shlex.quote(target))
                for fstype, src, target, opts in self.mounts)
            argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                    script + ' && exec "$@"', "sh"] + argv
        self.proc = subprocess.Popen(argv,
                                     stdout=self.logf, stderr=self.logf,
                                     env=self.env, cwd=self.tmp)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("winrmd exited with %s during start:\n%s"
                                   % (self.proc.returncode, self.log()))
            if " ready" in self.log():
                return
            time.sleep(0.02)
        raise RuntimeError("winrmd not ready after %ds:\n%s" % (timeout, self.log()))

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=10, start=0):
        """Waits until the log (from offset start) matches the regex."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.log()[start:]
            if re.search(pattern, text):
                return True
            time.sleep(0.05)
        return False

    def children(self):
        """PIDs of the listener's child processes (the helper)."""
        try:
            with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                return [int(x) for x in f.read().split()]
        except FileNotFoundError:
            return []

    def helper_pid(self):
        kids = self.children()
        return kids[0] if kids else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self, tap, what):
        """One check: the daemon still runs and still answers Identify."""
        ok = self.alive()
        if ok:
            try:
                status, _, body = self.post(IDENTIFY, {"WSMANIDENTIFY": "unauthenticated"},
                                            timeout=10)
                ok = status == 200 and b"IdentifyResponse" in body
            except OSError:
                ok = False
        return tap.ok(ok, "daemon alive and answering after %s" % what, self.log()[-3000:])

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.logf.close()
                return "hung"
        self.logf.close()
        return self.proc.returncode

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.stop()
        keep = os.environ.get("WINRMD_KEEP_LOGS")
        if keep and os.path.exists(self.log_path):
            # for debugging: keep every daemon log of the run
            os.makedirs(keep, exist_ok=True)
            shutil.copy(self.log_path, os.path.join(keep, "winrmd-%d.log" % self.port))
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- HTTP helpers ---
    def connection(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def post(self, body, headers=None, path="/wsman", timeout=30, conn=None,
             method="POST"):
        """One request; returns (status, headers dict lower-cased, body).
        Multi-valued headers are joined with '\\n'."""
        own = conn is None
        c = conn or self.connection(timeout)
        if isinstance(body, str):
            body = body.encode()
        h = {"Content-Type": SOAP_CT}
        h.update(headers or {})
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        hdrs = {}
        for k, v in r.getheaders():
            k = k.lower()
            hdrs[k] = hdrs[k] + "\n" + v if k in hdrs else v
        if own:
            c.close()
        return r.status, hdrs, data


def raw_exchange(port, data, timeout=10):
    """Sends raw bytes, returns everything the server sends until close or
    timeout (b'' if it closed without answering)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    chunks = []
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may stop reading hostile input early
        while True:
            try:
                b = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks)
    finally:
        s.close()


def lab_daemon(lab, config=None, **kw):
    """A Daemon wired to a lib/lab.py Lab: its keytab, NTLM users, PAM
    service, fake accounts (nss_wrapper) and listener account."""
    cfg = merge(lab.daemon_config(), {"Throttling": {"MaxFailures": 1000, "MaxDelayms": 0}})
    merge(cfg, config or {})
    return Daemon(config=cfg, env=lab.daemon_env(), user="winrmd", **kw)


def identify_envelope(message_id="uuid:AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE"):
    """An Identify that also carries addressing headers (authenticated use)."""
    return IDENTIFY.replace(
        "<s:Header/>",
        '<s:Header xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing">'
        "<a:MessageID>%s</a:MessageID></s:Header>" % message_id)


def pywinrm(url, transport, username=None, password=None, message=None, **kw):
    """Sends one message with Debian's pywinrm (Protocol.send_message);
    returns ("ok", response text) or (exception class name, exception)."""
    import winrm.protocol
    p = winrm.protocol.Protocol(endpoint=url, transport=transport, username=username,
                                password=password, server_cert_validation="ignore", **kw)
    try:
        return "ok", p.send_message(message or identify_envelope())
    except Exception as e:  # noqa: BLE001 - the class is the result
        return type(e).__name__, e
