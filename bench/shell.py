#!/usr/bin/python3
"""bench/shell.py - the Windows Remote Shell of winrmd next to OpenSSH,
measured in the same run on the same machine (bench/run.sh shell).

    sudo WINRMD_BUILDDIR=build-bench bench/shell.py

Prints:
  1. command round trip: Create, Command `true`, Receive to Done, Signal,
     Delete on one keep-alive connection (Basic auth, cached per
     connection), p50/p99 over ITERATIONS (default 300); next to
     `ssh -o ControlMaster=auto ... true` (a new ssh client process per
     command over one master connection) against a throwaway sshd;
  2. stdout streaming: `head -c STREAM_BYTES /dev/zero` (default 100 MB)
     through Receives with pywinrm's MaxEnvelopeSize 153600, against
     `ssh ... head -c STREAM_BYTES /dev/zero > /dev/null`.  The headline
     client is bench/wsman-stream (C: pywinrm's envelopes and sizes, one
     request at a time, every stream base64-decoded), so that the
     comparison with ssh's C client is about the servers; a Python client
     (http.client) is shown too.  ssh runs with its default cipher and
     with aes128-gcm@openssh.com (also in both ends' defaults, faster
     with AES instructions); the ratio takes the faster;
  2b. stdin streaming: STREAM_BYTES through rsp:Send (what file copies
     over WinRM do) into `cat > file` in the account's home, against
     `ssh ... 'cat > file' < file` from a file in the page cache;
  3. memory: RSS and thread count of the winrmd listener (from /proc) with
     SHELLS (default 1000) shells, each running a command and holding a
     Receive open on its own connection; per-shell memory.

Setup, all throwaway and removed at the end; nothing of the system's
configuration is changed:
  * one account, winrmbench (uid 20900, shell /bin/sh, an empty home in
    the work directory), known to winrmd and sshd through nss_wrapper
    (passwd/group files in the work directory): both run the same
    commands as the same unprivileged user, without root's profile;
  * winrmd from $WINRMD_BUILDDIR (started as root, as always) on 127.0.0.1
    and a free port, Basic auth over plain HTTP (AllowUnencrypted=true),
    Create with WINRS_NOPROFILE=TRUE (`sh -c`, as sshd runs a command).
    It runs in a private mount namespace (unshare -m) in which a private
    directory is mounted on /etc/pam.d, holding one PAM service
    "winrmd-bench" (pam_permit): the real libpam, not the test lab's
    pam_wrapper, whose per-process /tmp/pam.X directories cap a lab at ~60
    concurrent sessions and add a directory copy to every command (see
    tests/integration/t5100).  Any password works, on loopback, for the
    benchmark's lifetime;
  * sshd started by this script as root with its own host key, config
    (UsePAM no, key authentication only, PermitRootLogin no), port and
    PidFile, an authorized key for winrmbench; it and the ControlMaster
    client are killed by PID.  If /run/sshd (sshd's privilege-separation
    directory) is missing it is created and removed again afterwards.

Environment: ITERATIONS, STREAM_BYTES, SHELLS, ROUNDS (memory rounds,
default 2: RSS after closing everything, twice, tells allocator retention
from a leak), STREAM_ROUNDS (streaming rounds, default 3, each winrmd
then ssh; the ratio printed is the median of the rounds' ratios).
"""
import base64
import http.client
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import uuid

BUILDDIR = os.environ.get("WINRMD_BUILDDIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "build-bench")
WINRMD = os.path.join(BUILDDIR, "listener", "winrmd")
HELPER = os.path.join(BUILDDIR, "helper", "winrmd-priv")
ITERATIONS = int(os.environ.get("ITERATIONS", "300"))
STREAM_BYTES = int(os.environ.get("STREAM_BYTES", "100000000"))
SHELLS = int(os.environ.get("SHELLS", "1000"))
ROUNDS = int(os.environ.get("ROUNDS", "2"))
STREAM_ROUNDS = int(os.environ.get("STREAM_ROUNDS", "3"))
MAX_ENVELOPE = 153600
STREAM_CLIENT = os.path.join(BUILDDIR, "bench", "wsman-stream")
# OpenSSH's fastest default cipher on CPUs with AES instructions.
FAST_CIPHER = "aes128-gcm@openssh.com"
USER, PASSWORD = "winrmbench", "bench"
UID = 20900
NSS_WRAPPER = "/usr/lib/%s/libnss_wrapper.so" % (
    sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu")

NS_SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
CMD_URI = NS_SHELL + "/cmd"
XFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
AUTH = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
HEADERS = {"Content-Type": "application/soap+xml;charset=UTF-8", "Authorization": AUTH}

RE_SHELL_ID = re.compile(rb'<w:Selector Name="ShellId">([^<]+)<')
RE_COMMAND_ID = re.compile(rb"<rsp:CommandId>([^<]+)<")
RE_STREAM = re.compile(rb'<rsp:Stream Name="(stdout|stderr)"[^>]*>([^<]*)</rsp:Stream>')
RE_DONE = re.compile(rb'CommandState/Done"><rsp:ExitCode>(-?\d+)<')


def die(msg):
    print("bench/shell.py: " + msg, file=sys.stderr)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def envelope(action, body="", sid=None, timeout="PT60S", options=""):
    sel = ('<w:SelectorSet><w:Selector Name="ShellId">%s</w:Selector></w:SelectorSet>' % sid
           if sid else "") + options
    return (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="%s">'
        "<s:Header><a:To>http://127.0.0.1/wsman</a:To>"
        '<a:ReplyTo><a:Address mustUnderstand="true">'
        "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>"
        '<w:MaxEnvelopeSize mustUnderstand="true">%d</w:MaxEnvelopeSize>'
        "<a:MessageID>uuid:%s</a:MessageID><w:OperationTimeout>%s</w:OperationTimeout>"
        '<w:ResourceURI mustUnderstand="true">%s</w:ResourceURI>'
        '<a:Action mustUnderstand="true">%s</a:Action>%s</s:Header>'
        "<s:Body>%s</s:Body></s:Envelope>"
    ) % (NS_SHELL, MAX_ENVELOPE, str(uuid.uuid4()).upper(), timeout, CMD_URI, action, sel, body)


def create_env():
    # WINRS_NOPROFILE=TRUE: `sh -c`, as sshd runs a command (no login shell)
    return envelope(XFER + "/Create",
                    "<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams>"
                    "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>",
                    options='<w:OptionSet><w:Option Name="WINRS_NOPROFILE">TRUE</w:Option>'
                    '<w:Option Name="WINRS_CODEPAGE">65001</w:Option></w:OptionSet>')


def command_env(sid, cmd):
    return envelope(NS_SHELL + "/Command",
                    "<rsp:CommandLine><rsp:Command>%s</rsp:Command></rsp:CommandLine>" % cmd, sid)


def receive_env(sid, cid, timeout="PT60S"):
    return envelope(NS_SHELL + "/Receive",
                    '<rsp:Receive><rsp:DesiredStream CommandId="%s">stdout stderr'
                    "</rsp:DesiredStream></rsp:Receive>" % cid, sid, timeout)


def signal_env(sid, cid):
    return envelope(NS_SHELL + "/Signal",
                    '<rsp:Signal CommandId="%s"><rsp:Code>%s/signal/terminate</rsp:Code>'
                    "</rsp:Signal>" % (cid, NS_SHELL), sid)


def delete_env(sid):
    return envelope(XFER + "/Delete", "", sid)


class Conn:
    """One keep-alive HTTP connection to winrmd."""

    def __init__(self, port, timeout=120):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def post(self, env, want=200):
        self.c.request("POST", "/wsman", body=env.encode(), headers=HEADERS)
        r = self.c.getresponse()
        data = r.read()
        if want is not None and r.status != want:
            die("HTTP %d for %s:\n%s" % (r.status, env[:300], data[:2000].decode("utf-8", "replace")))
        return r.status, data

    def shell(self):
        return RE_SHELL_ID.search(self.post(create_env())[1]).group(1).decode()

    def command(self, sid, cmd):
        return RE_COMMAND_ID.search(self.post(command_env(sid, cmd))[1]).group(1).decode()

    def drain(self, sid, cid):
        """Receives until Done; returns (stdout bytes count, exit code, receives)."""
        n = 0
        receives = 0
        while True:
            st, data = self.post(receive_env(sid, cid), want=None)
            receives += 1
            if st != 200:
                if b"2150858793" in data:   # TimedOut: ask again
                    continue
                die("Receive: HTTP %d\n%s" % (st, data[:2000].decode("utf-8", "replace")))
            for name, text in RE_STREAM.findall(data):
                if text and name == b"stdout":
                    # the decoded length, without decoding (client CPU)
                    n += len(text) // 4 * 3 - text.count(b"=", -2)
            m = RE_DONE.search(data)
            if m:
                return n, int(m.group(1)), receives

    def close(self):
        self.c.close()


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return int(out["VmRSS"].split()[0]), int(out["Threads"])


def proc_cpu(pid):
    """CPU seconds (user + system) a process used so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def tree_cpu(pid):
    """CPU seconds of pid and of every descendant still running (one that
    has exited counts in its parent's children's time, not here: the
    streamed command itself is left out on both sides alike)."""
    try:
        total = proc_cpu(pid)
    except OSError:
        return 0.0
    return total + sum(tree_cpu(c) for c in children(pid))


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class Bench:
    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="winrmd-bench-shell.")
        os.chmod(self.work, 0o755)
        self.winrmd = None
        self.sshd = None
        self.ssh_master_pids = []
        self.made_run_sshd = False

    # --- setup ---

    def write_accounts(self):
        """passwd/group for nss_wrapper: the benchmark's account (its shell
        /bin/sh, an empty home), the accounts winrmd and sshd drop to."""
        home = os.path.join(self.work, "home")
        os.mkdir(home, 0o755)
        os.chown(home, UID, UID)
        try:
            import pwd
            sshd_uid = pwd.getpwnam("sshd").pw_uid
        except KeyError:
            sshd_uid = 102
        self.passwd = os.path.join(self.work, "passwd")
        self.group = os.path.join(self.work, "group")
        with open(self.passwd, "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n"
                    "sshd:x:%d:65534::/run/sshd:/usr/sbin/nologin\n"
                    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
                    "%s:x:%d:%d:winrmd benchmark:%s:/bin/sh\n" % (sshd_uid, USER, UID, UID, home))
        with open(self.group, "w") as f:
            f.write("root:x:0:\nnogroup:x:65534:\n%s:x:%d:\nwinrmusers:x:30001:%s\n"
                    % (USER, UID, USER))
        self.env = dict(os.environ, LD_PRELOAD=NSS_WRAPPER, NSS_WRAPPER_PASSWD=self.passwd,
                        NSS_WRAPPER_GROUP=self.group)

    def start_winrmd(self):
        self.write_accounts()
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
Service = { AllowUnencrypted = true; MaxConnections = %(conns)d; MaxTimeoutms = 600000;
  MaxConnectionsPerAddress = %(conns)d; MaxConcurrentOperationsPerUser = %(ops)d;
  Auth = { Basic = true; PamService = "winrmd-bench"; }; };
""" % dict(port=self.port, helper=HELPER, work=self.work, conns=SHELLS + 200, ops=SHELLS + 500))
        self.log_path = os.path.join(self.work, "winrmd.log")
        self.logf = open(self.log_path, "wb")
        # unshare execs sh, sh execs winrmd: the PID is winrmd's.
        self.winrmd = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c",
             'mount --bind "$0" /etc/pam.d && exec "$@"', pamd, WINRMD, "-f", "-c", conf],
            stdout=self.logf, stderr=self.logf, cwd=self.work, env=self.env)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.winrmd.poll() is not None:
                die("winrmd exited:\n" + self.log())
            if " ready" in self.log():
                break
            time.sleep(0.05)
        else:
            die("winrmd not ready:\n" + self.log())
        with open("/proc/%d/comm" % self.winrmd.pid) as f:
            if f.read().strip() != "winrmd":
                die("pid %d is not winrmd" % self.winrmd.pid)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def start_sshd(self):
        if not os.path.exists("/usr/sbin/sshd") or not shutil.which("ssh"):
            print("(no sshd/ssh: the ssh reference is skipped; bench/run.sh installs openssh-server)")
            return False
        d = os.path.join(self.work, "ssh")
        os.mkdir(d, 0o700)
        self.ssh_dir = d
        hostkey = os.path.join(d, "host_ed25519")
        self.key = os.path.join(d, "id_ed25519")
        for k in (hostkey, self.key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k], check=True)
        shutil.copy(self.key + ".pub", os.path.join(d, "authorized_keys"))
        os.chmod(d, 0o755)
        self.sport = free_port()
        cfg = os.path.join(d, "sshd_config")
        with open(cfg, "w") as f:
            f.write("\n".join([
                "ListenAddress 127.0.0.1", "AuthorizedKeysFile %s/authorized_keys" % d,
                "PermitRootLogin no", "PubkeyAuthentication yes",
                "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                "UsePAM no", "StrictModes no", "UseDNS no", "PrintMotd no", "PrintLastLog no",
                "MaxSessions 1000", "MaxStartups 1000", "LogLevel ERROR", ""]))
        if not os.path.isdir("/run/sshd"):
            os.makedirs("/run/sshd", 0o755)
            self.made_run_sshd = True
        self.sshd = subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-f", cfg, "-h", hostkey, "-p", str(self.sport),
             "-o", "PidFile=%s/sshd.pid" % d, "-E", os.path.join(d, "sshd.log")], env=self.env)
        self.ssh_base = self.start_master(None)
        # The ssh reference at its best: its default cipher and the
        # fastest one both ends accept by default where the CPU has AES
        # instructions; the streaming comparisons take the faster.
        self.ssh_fast = self.start_master(FAST_CIPHER)
        return True

    def start_master(self, cipher):
        """A ControlMaster connection with cipher (None: ssh's default);
        returns the ssh command line that reuses it, without the command."""
        d = self.ssh_dir
        name = cipher or "default"
        base = ["ssh", "-F", "/dev/null", "-i", self.key, "-o", "IdentitiesOnly=yes",
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "-o", "ControlMaster=auto", "-o", "ControlPath=%s/cm-%s" % (d, name),
                "-o", "ControlPersist=600", "-p", str(self.sport)]
        if cipher:
            base += ["-c", cipher]
        base.append(USER + "@127.0.0.1")
        deadline = time.time() + 20
        while time.time() < deadline:
            r = subprocess.run(base + ["true"], capture_output=True, timeout=30)
            if r.returncode == 0:
                break
            if self.sshd.poll() is not None:
                die("sshd exited: %s" % open(os.path.join(d, "sshd.log")).read())
            time.sleep(0.2)
        else:
            die("ssh to the throwaway sshd fails: %s" % r.stderr.decode())
        r = subprocess.run(base[:-1] + ["-O", "check", USER + "@127.0.0.1"],
                           capture_output=True, text=True)
        m = re.search(r"pid=(\d+)", r.stderr + r.stdout)
        if m:
            self.ssh_master_pids.append(int(m.group(1)))
        return base

    def cleanup(self):
        for pid in self.ssh_master_pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in (self.sshd, self.winrmd):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if self.made_run_sshd:
            try:
                os.rmdir("/run/sshd")
            except OSError:
                pass
        shutil.rmtree(self.work, ignore_errors=True)

    # --- measurements ---

    def round_trip(self):
        c = Conn(self.port)
        times = []
        for i in range(ITERATIONS + 10):
            t0 = time.perf_counter()
            sid = c.shell()
            cid = c.command(sid, "true")
            n, code, _ = c.drain(sid, cid)
            c.post(signal_env(sid, cid))
            c.post(delete_env(sid))
            if i >= 10:  # 10 warm-up iterations
                times.append(time.perf_counter() - t0)
            if code != 0:
                die("`true` exited %d" % code)
        c.close()
        return times

    def ssh_round_trip(self):
        times = []
        for i in range(ITERATIONS + 10):
            t0 = time.perf_counter()
            subprocess.run(self.ssh_base + ["true"], check=True)
            if i >= 10:
                times.append(time.perf_counter() - t0)
        return times

    def stream(self):
        c = Conn(self.port, timeout=300)
        sid = c.shell()
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        s0 = proc_cpu(self.winrmd.pid)
        t0 = time.perf_counter()
        cid = c.command(sid, "head -c %d /dev/zero" % STREAM_BYTES)
        n, code, receives = c.drain(sid, cid)
        el = time.perf_counter() - t0
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        server_cpu = proc_cpu(self.winrmd.pid) - s0
        c.post(signal_env(sid, cid))
        c.post(delete_env(sid))
        c.close()
        if n != STREAM_BYTES or code != 0:
            die("streaming: got %d bytes, exit %d" % (n, code))
        cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        return el, receives, cpu, server_cpu

    def c_stream(self, mode):
        """bench/wsman-stream (C): mode "out" (stdout of head -c) or "in"
        (rsp:Send into cat > file).  Returns (seconds, requests, winrmd CPU)."""
        args = [STREAM_CLIENT, str(self.port), USER, PASSWORD, mode, str(STREAM_BYTES)]
        target = os.path.join(self.work, "home", "in-winrmd")
        if mode == "in":
            args.append(target)
        s0, c0 = proc_cpu(self.winrmd.pid), children_cpu()
        r = subprocess.run(args, capture_output=True, text=True, timeout=600)
        server_cpu = proc_cpu(self.winrmd.pid) - s0
        client_cpu = children_cpu() - c0
        m = re.match(r"bytes=(\d+) seconds=([\d.]+) requests=(\d+)", r.stdout)
        if r.returncode != 0 or not m or int(m.group(1)) != STREAM_BYTES:
            die("wsman-stream %s: %s %s" % (mode, r.stdout, r.stderr))
        if mode == "in":
            if os.path.getsize(target) != STREAM_BYTES:
                die("wsman-stream in: the file has %d bytes" % os.path.getsize(target))
            os.unlink(target)
        return float(m.group(2)), int(m.group(3)), server_cpu, client_cpu

    def ssh_measured(self, run, base):
        """run(base) with the CPU of both ssh ends: sshd's processes for
        the connection (the unprivileged one encrypts) and the ssh master
        (ControlMaster: the per-command client hands its stdin and stdout
        to the master, which does the I/O and the crypto) plus the
        per-command client.  Returns (seconds, server CPU, client CPU)."""
        s0, m0, c0 = tree_cpu(self.sshd.pid), self.masters_cpu(), children_cpu()
        el = run(base)
        server = tree_cpu(self.sshd.pid) - s0
        client = self.masters_cpu() - m0 + children_cpu() - c0
        return el, server, client

    def masters_cpu(self):
        return sum(tree_cpu(pid) for pid in self.ssh_master_pids)

    def ssh_stream(self, base):
        t0 = time.perf_counter()
        with open(os.devnull, "wb") as null:
            subprocess.run(base + ["head -c %d /dev/zero" % STREAM_BYTES], stdout=null,
                           check=True)
        return time.perf_counter() - t0

    def ssh_stream_in(self, base):
        """STREAM_BYTES from a local file (in the page cache) into
        `cat > file` on the server, as scp-less file copies do."""
        src = os.path.join(self.work, "stream-source")
        if not os.path.exists(src):
            with open(src, "wb") as f:
                f.truncate(STREAM_BYTES)
            with open(src, "rb") as f:
                while f.read(1 << 20):
                    pass
        target = os.path.join(self.work, "home", "in-ssh")
        t0 = time.perf_counter()
        with open(src, "rb") as f:
            subprocess.run(base + ["cat > %s" % target], stdin=f, check=True)
        el = time.perf_counter() - t0
        if os.path.getsize(target) != STREAM_BYTES:
            die("ssh cat > file: %d bytes" % os.path.getsize(target))
        os.unlink(target)
        return el

    def open_and_wait(self):
        """SHELLS shells, each running `sleep 3600`, each with a Receive
        waiting on its own connection.  Returns (shells, sockets, seconds)."""
        shells = [None] * SHELLS
        errors = []

        def opener(k):
            cc = Conn(self.port)
            try:
                for i in range(k, SHELLS, 8):
                    sid = cc.shell()
                    shells[i] = (sid, cc.command(sid, "sleep 3600"))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
            cc.close()
        t0 = time.time()
        ths = [threading.Thread(target=opener, args=(k,)) for k in range(8)]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        if errors:
            die("opening shells: %s" % errors[:3])
        t_open = time.time() - t0
        socks = []
        for sid, cid in shells:
            body = receive_env(sid, cid, "PT300S").encode()
            s = socket.create_connection(("127.0.0.1", self.port))
            s.sendall(b"POST /wsman HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/soap+xml;charset=UTF-8\r\n"
                      b"Authorization: %s\r\nContent-Length: %d\r\n\r\n%s"
                      % (AUTH.encode(), len(body), body))
            socks.append(s)
        # until the daemon has read them all (its RSS settles)
        time.sleep(2)
        prev = None
        for _ in range(20):
            cur = proc_status(self.winrmd.pid)[0]
            if prev is not None and abs(cur - prev) < 256:
                break
            prev = cur
            time.sleep(0.5)
        return shells, socks, t_open

    def close_all(self, shells, socks):
        for s in socks:
            s.close()
        c = Conn(self.port)
        for sid, cid in shells:
            c.post(delete_env(sid))
        c.close()
        deadline = time.time() + 30
        while time.time() < deadline and len(children(children(self.winrmd.pid)[0])) > 0:
            time.sleep(0.2)
        time.sleep(1)

    def memory(self):
        pid = self.winrmd.pid
        # warm-up: a few shells, commands and Receives, all closed again
        c = Conn(self.port)
        for _ in range(20):
            sid = c.shell()
            cid = c.command(sid, "true")
            c.drain(sid, cid)
            c.post(delete_env(sid))
        c.close()
        time.sleep(0.5)
        m = {}
        m["base_rss"], m["base_threads"] = proc_status(pid)
        helper = children(pid)[0]
        m["base_helper"] = proc_status(helper)[0]
        rounds = []
        for rnd in range(ROUNDS):
            shells, socks, t_open = self.open_and_wait()
            answered = 0
            for s in socks:
                s.setblocking(False)
                try:
                    if s.recv(1, socket.MSG_PEEK):
                        answered += 1
                except BlockingIOError:
                    pass
            rss, threads = proc_status(pid)
            mon = children(helper)
            mon_rss = [proc_status(x)[0] for x in mon[:50]]
            r = dict(rss=rss, threads=threads, answered=answered, t_open=t_open,
                     fds=len(os.listdir("/proc/%d/fd" % pid)), helper_rss=proc_status(helper)[0],
                     monitors=len(mon), mon_rss=statistics.mean(mon_rss) if mon_rss else 0)
            self.close_all(shells, socks)
            r["after_rss"], r["after_threads"] = proc_status(pid)
            rounds.append(r)
        m["rounds"] = rounds
        return m


def stream_rounds(b, mode, have_ssh, ssh_run):
    """STREAM_ROUNDS rounds of the C client (mode "out" or "in") and, in
    the same round, ssh with its default cipher and with FAST_CIPHER.
    Prints each run with the CPU time of its server and client sides, the
    median over the rounds of the ratio winrmd / faster ssh (one run on
    this kind of machine can be 20% off), and the median of the ratio of
    CPU time, both ends, ssh (the faster) / winrmd: a busy neighbour
    moves it far less than the rates."""
    mb = STREAM_BYTES / 1e6
    what = "> /dev/null" if mode == "out" else "'cat > file' < file"
    print("%-44s %10s %10s" % ("run", "MB/s", "seconds"))
    ratios, cpu_ratios = [], []
    for _ in range(STREAM_ROUNDS):
        ce, creq, ccpu, cli = b.c_stream(mode)
        print("%-44s %10.1f %10.2f   (%d requests; CPU: winrmd %.3f s, client %.3f s)" % (
            "winrmd, C client (bench/wsman-stream)", mb / ce, ce, creq, ccpu, cli))
        if have_ssh:
            runs = []
            for base, name in ((b.ssh_base, "default cipher"), (b.ssh_fast, "-c " + FAST_CIPHER)):
                el, server, client = b.ssh_measured(ssh_run, base)
                runs.append((el, server + client))
                print("%-44s %10.1f %10.2f   (CPU: sshd %.3f s, ssh %.3f s)" % (
                    "ssh ... %s (%s)" % (what, name), mb / el, el, server, client))
            fastest = min(runs)
            ratios.append(fastest[0] / ce)
            if ccpu + cli > 0:
                cpu_ratios.append(fastest[1] / (ccpu + cli))
    if ratios:
        print("%-44s %10.2f   (rounds: %s)" % ("ratio winrmd (C client)/ssh (faster), median",
                                              statistics.median(ratios),
                                              " ".join("%.2f" % r for r in ratios)))
    if cpu_ratios:
        print("%-44s %10.2f   (rounds: %s)" % ("ratio CPU ssh (faster)/winrmd, both ends",
                                              statistics.median(cpu_ratios),
                                              " ".join("%.2f" % r for r in cpu_ratios)))


def main():
    if os.geteuid() != 0:
        die("run as root (winrmd starts as root; sshd too)")
    if not os.access(WINRMD, os.X_OK) or not os.access(STREAM_CLIENT, os.X_OK):
        die("no %s or %s: build first (bench/run.sh builds build-bench)" % (WINRMD, STREAM_CLIENT))
    # fds: the benchmark's SHELLS connections, winrmd's connections and
    # 4 pipes per command; inherited by winrmd.
    want = SHELLS * 6 + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, soft), max(want, hard)))
    except (ValueError, OSError):
        # no CAP_SYS_RESOURCE (a container): up to the hard limit
        if hard != resource.RLIM_INFINITY and hard < want:
            die("RLIMIT_NOFILE hard limit %d < %d needed for SHELLS=%d" % (hard, want, SHELLS))
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    b = Bench()
    try:
        b.start_winrmd()
        have_ssh = b.start_sshd()
        print("== Windows Remote Shell vs OpenSSH, 127.0.0.1, account %s (shell /bin/sh)" % USER)
        print("   winrmd: Basic auth over plain HTTP (AllowUnencrypted=true), one keep-alive "
              "connection, WINRS_NOPROFILE=TRUE (sh -c, as sshd runs commands)")
        print("   ssh: ed25519 key, ControlMaster (one master connection, a new ssh process per command)")

        w = b.round_trip()
        print("-- command round trip, `true`, %d iterations (after 10 warm-up)" % ITERATIONS)
        print("%-44s %10s %10s %10s" % ("run", "p50 ms", "p99 ms", "mean ms"))
        print("%-44s %10.2f %10.2f %10.2f" % ("winrmd Create+Command+Receive+Signal+Delete",
                                              pct(w, 50) * 1e3, pct(w, 99) * 1e3,
                                              statistics.mean(w) * 1e3))
        if have_ssh:
            s = b.ssh_round_trip()
            print("%-44s %10.2f %10.2f %10.2f" % ("ssh (new client process, ControlMaster)",
                                                  pct(s, 50) * 1e3, pct(s, 99) * 1e3,
                                                  statistics.mean(s) * 1e3))
            print("%-44s %10.2f %10.2f" % ("ratio winrmd/ssh (time, lower is better)",
                                           pct(w, 50) / pct(s, 50), pct(w, 99) / pct(s, 99)))

        mb = STREAM_BYTES / 1e6
        print("-- stdout streaming, head -c %d /dev/zero (MaxEnvelopeSize %d), %d rounds"
              % (STREAM_BYTES, MAX_ENVELOPE, STREAM_ROUNDS))
        stream_rounds(b, "out", have_ssh, b.ssh_stream)
        el, receives, cpu, server_cpu = b.stream()
        print("%-44s %10.1f %10.2f   (%d Receives; CPU: winrmd %.2f s, client %.2f s)" % (
            "winrmd, Python client (http.client, regex)", mb / el, el, receives, server_cpu, cpu))

        print("-- stdin streaming: %d bytes into `cat > file` (rsp:Send, MaxEnvelopeSize %d), "
              "%d rounds" % (STREAM_BYTES, MAX_ENVELOPE, STREAM_ROUNDS))
        stream_rounds(b, "in", have_ssh, b.ssh_stream_in)

        m = b.memory()
        n = SHELLS
        print("-- winrmd listener with %d shells, each running `sleep 3600` with a Receive waiting "
              "on its own connection (%d rounds)" % (n, ROUNDS))
        print("%-44s %10s %10s" % ("state", "RSS KiB", "threads"))
        print("%-44s %10d %10d" % ("idle (after warm-up)", m["base_rss"], m["base_threads"]))
        for i, r in enumerate(m["rounds"], 1):
            print("%-44s %10d %10d   (%d fds; %d of %d Receives answered early; opened in %.1f s)" % (
                "round %d: %d shells + %d waiting Receives" % (i, n, n), r["rss"], r["threads"],
                r["fds"], r["answered"], n, r["t_open"]))
            print("%-44s %10d %10d" % ("round %d: after closing them" % i, r["after_rss"],
                                       r["after_threads"]))
        r = m["rounds"][0]
        print("%-44s %10.1f KiB" % ("listener memory per shell (round 1)", (r["rss"] - m["base_rss"]) / n))
        print("%-44s %d KiB -> %d KiB; %d monitor processes (~%d KiB RSS each, mostly shared)" % (
            "helper (winrmd-priv) RSS", m["base_helper"], r["helper_rss"], r["monitors"], r["mon_rss"]))
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
