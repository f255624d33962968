#!/usr/bin/python3
"""t5100 - the Windows Remote Shell driven by Debian's python3-winrm
(pywinrm 0.3.0: Session.run_cmd and Protocol-level calls) and, where
pywinrm has no API, by hand-made envelopes: output (stdout, stderr, exit
codes, UTF-8, 10 MB, binary), stdin through Send, working directory and
environment, the user's identity, isolation between users, 100 shells at
once, idle reaping, ctrl_c and terminate, the Winrs quotas, the Receive
operation timeout, a client that disconnects mid-Receive, and daemon
shutdown.

Exit codes asserted: a command's exit status as is (0, 1, 255); a command
killed by a signal reports 128 + the signal number, as POSIX shells do
(kill -9 -> 137, ctrl_c = SIGINT -> 130).

The tests run in two lanes (each records its checks, printed in order
afterwards): quick tests one after the other, and next to them the tests
that mostly wait (idle reaping, timeouts, disconnect, shutdown); then,
alone, 100 shells at once and a burst of 300 short commands.  Every time
bound is a generous upper limit for something that should happen, never a
speed requirement.

LIMITS of the lab, not of winrmd: every process that starts a PAM
transaction under pam_wrapper (each command's monitor holds a PAM session
for the command's life; each Basic authentication runs PAM in a child)
claims one of the 62 directories /tmp/pam.[0-9A-Za-z], machine-wide, and
pam_wrapper picks them with a check-then-mkdir race.  So at most ~60
commands can run at once, and many PAM processes starting at the same
moment occasionally share a directory, which fails a PAM call ("error
reading PAM configuration file").  The tests therefore keep the number of
simultaneously starting and running commands small: 100 shells are open
at once, but only 10 commands start at a time; and a command start that
fails with ProcessStart while pam_wrapper's errors are in the daemon log
is retried (at most twice) and reported as a diagnostic."""
import base64
import concurrent.futures
import hashlib
import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import soap  # noqa: E402
import lab as labmod  # noqa: E402
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import lab_daemon  # noqa: E402

import winrm  # noqa: E402
import winrm.protocol  # noqa: E402
import xmltodict  # noqa: E402
from winrm.exceptions import WinRMError, WinRMOperationTimeoutError  # noqa: E402

t = Tap()

NS_SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
CMD_URI = NS_SHELL + "/cmd"
A_CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
A_DELETE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
A_GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
A_COMMAND = NS_SHELL + "/Command"
A_SEND = NS_SHELL + "/Send"
A_RECEIVE = NS_SHELL + "/Receive"
A_SIGNAL = NS_SHELL + "/Signal"
SIG_TERMINATE = NS_SHELL + "/signal/terminate"
SIG_CTRL_C = NS_SHELL + "/signal/ctrl_c"
STATE_DONE = NS_SHELL + "/CommandState/Done"
STATE_RUNNING = NS_SHELL + "/CommandState/Running"

CODE_UNKNOWN_SHELL = "2150858843"
CODE_TIMED_OUT = "2150858793"
CODE_MAX_SHELLS = "2150859173"
CODE_MAX_USERS = "2150859179"
CODE_MAX_PROCESSES = "2147944216"
CODE_SHELLS_NOT_ALLOWED = "2150859180"

# The lab's fake accounts are visible to commands only when the daemon
# passes the nss_wrapper variables through.
KEEP_ENV = ["LD_PRELOAD", "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP", "NSS_WRAPPER_HOSTS"]
BASE_CONFIG = {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}},
               "Winrs": {"KeepEnvironment": KEEP_ENV}}
PASSWORDS = {"alice": "alicepw", "bob": "bobpw", "carol": "carolpw", "dave": "davepw",
             "root": "rootpw"}


def config(**winrs):
    c = {"Service": dict(BASE_CONFIG["Service"]), "Winrs": dict(BASE_CONFIG["Winrs"])}
    c["Winrs"].update(winrs)
    return c


# ---------------------------------------------------------------------------
# Recording checks from parallel threads
# ---------------------------------------------------------------------------

class Rec(Tap):
    """Records checks; replay() prints them into the real Tap in order."""

    def __init__(self, name):
        super().__init__()
        self.name = name
        self.lines = []

    def _line(self, cond, desc, diag=None):
        self.lines.append((bool(cond), desc, diag))
        return bool(cond)

    def diag(self, text):
        self.lines.append((None, text, None))

    def replay(self, tap):
        for cond, desc, diag in self.lines:
            if cond is None:
                tap.diag(desc)
            else:
                tap._line(cond, desc, diag)


def run_parallel(jobs):
    """jobs: list of (fn, args).  Runs each as fn(rec, *args) in its own
    thread, then prints every recorded check in the order of jobs."""
    recs = []

    def wrap(fn, args, rec):
        try:
            fn(rec, *args)
        except Exception:  # noqa: BLE001 - an exception is one failed check
            rec._line(False, "%s raised" % fn.__name__, traceback.format_exc())

    threads = []
    for fn, args in jobs:
        rec = Rec(fn.__name__)
        recs.append(rec)
        th = threading.Thread(target=wrap, args=(fn, args, rec), daemon=True)
        th.start()
        threads.append(th)
    for th, rec in zip(threads, recs):
        th.join(240)
        if th.is_alive():
            rec._line(False, "%s did not finish within 240 s" % rec.name)
    for rec in recs:
        t.diag("--- %s" % rec.name)
        rec.replay(t)


# ---------------------------------------------------------------------------
# A raw client: hand-made envelopes, Basic auth, one keep-alive connection
# ---------------------------------------------------------------------------

def envelope(action, body="", shell_id=None, options=None, timeout="PT20S",
             message_id=None, max_envelope=153600):
    sel = ""
    if shell_id is not None:
        sel = ('<w:SelectorSet><w:Selector Name="ShellId">%s</w:Selector>'
               '</w:SelectorSet>' % shell_id)
    opt = ""
    if options:
        opt = "<w:OptionSet>" + "".join(
            '<w:Option Name="%s">%s</w:Option>' % kv for kv in options) + "</w:OptionSet>"
    mid = message_id or "uuid:%s" % str(uuid.uuid4()).upper()
    return (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
        'xmlns:rsp="%(rsp)s"><s:Header>'
        "<a:To>http://127.0.0.1:5985/wsman</a:To>"
        '<a:ReplyTo><a:Address mustUnderstand="true">'
        "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>"
        '<w:MaxEnvelopeSize mustUnderstand="true">%(menv)d</w:MaxEnvelopeSize>'
        "<a:MessageID>%(mid)s</a:MessageID>"
        '<w:Locale xml:lang="en-US" mustUnderstand="false"/>'
        "<w:OperationTimeout>%(to)s</w:OperationTimeout>"
        '<w:ResourceURI mustUnderstand="true">%(uri)s</w:ResourceURI>'
        '<a:Action mustUnderstand="true">%(action)s</a:Action>'
        "%(sel)s%(opt)s</s:Header><s:Body>%(body)s</s:Body></s:Envelope>"
    ) % dict(rsp=NS_SHELL, menv=max_envelope, mid=mid, to=timeout, uri=CMD_URI,
             action=action, sel=sel, opt=opt, body=body)


def basic_header(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def xml_text(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Raw:
    def __init__(self, d, user, password=None, timeout=60):
        self.d = d
        self.user = user
        self.auth = {"Authorization": basic_header(user, password or PASSWORDS[user])}
        self.timeout = timeout
        self.conn = d.connection(timeout)

    def close(self):
        self.conn.close()

    def post(self, env):
        """(status, body bytes, fault tuple or None)."""
        try:
            st, _, body = self.d.post(env, self.auth, conn=self.conn)
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = self.d.connection(self.timeout)
            raise
        return st, body, soap.fault(body) if st != 200 else None

    def create(self, extra="", options=(("WINRS_NOPROFILE", "FALSE"), ("WINRS_CODEPAGE", "65001"))):
        st, body, f = self.post(envelope(A_CREATE, (
            "<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams>"
            "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams>%s</rsp:Shell>") % extra,
            options=options))
        sid = None
        if st == 200:
            sid = soap.parse(body).find(".//rsp:ShellId", soap.NS).text
        return st, body, f, sid

    def command(self, sid, cmd, args=(), options=(("WINRS_CONSOLEMODE_STDIN", "TRUE"),
                                                  ("WINRS_SKIP_CMD_SHELL", "FALSE"))):
        body = "<rsp:CommandLine><rsp:Command>%s</rsp:Command>%s</rsp:CommandLine>" % (
            xml_text(cmd), "".join("<rsp:Arguments>%s</rsp:Arguments>" % xml_text(a)
                                   for a in args))
        for attempt in range(3):
            st, resp, f = self.post(envelope(A_COMMAND, body, sid, options))
            if (st == 200 or not is_fault(f, "w:InternalError", "2147942402") or attempt == 2
                    or not lab_pam_trouble()):
                break
            LAB_RETRIES.append(cmd)
        cid = None
        if st == 200:
            cid = soap.parse(resp).find(".//rsp:CommandId", soap.NS).text
        return st, resp, f, cid

    def send(self, sid, cid, data, end=False):
        body = '<rsp:Send><rsp:Stream Name="stdin" CommandId="%s"%s>%s</rsp:Stream></rsp:Send>' % (
            cid, ' End="true"' if end else "", base64.b64encode(data).decode())
        return self.post(envelope(A_SEND, body, sid))

    def receive(self, sid, cid, timeout="PT20S"):
        body = ('<rsp:Receive><rsp:DesiredStream CommandId="%s">stdout stderr'
                "</rsp:DesiredStream></rsp:Receive>" % cid)
        return self.post(envelope(A_RECEIVE, body, sid, timeout=timeout))

    def signal(self, sid, cid, code=SIG_TERMINATE):
        body = '<rsp:Signal CommandId="%s"><rsp:Code>%s</rsp:Code></rsp:Signal>' % (cid, code)
        return self.post(envelope(A_SIGNAL, body, sid))

    def delete(self, sid):
        return self.post(envelope(A_DELETE, "", sid))

    def get(self, sid):
        env = envelope(A_GET, "", sid).replace(
            '<w:ResourceURI mustUnderstand="true">%s<' % CMD_URI,
            '<w:ResourceURI mustUnderstand="true">%s<' % NS_SHELL)
        return self.post(env)

    def collect(self, sid, cid, limit=60, timeout="PT5S"):
        """Receives until Done (TimedOut faults are retried, as clients do).
        Returns (stdout, stderr, exit code or None, receives, last fault)."""
        out, err, code, n = b"", b"", None, 0
        deadline = time.time() + limit
        while time.time() < deadline:
            st, body, f = self.receive(sid, cid, timeout)
            n += 1
            if st != 200:
                if f and f[2] == CODE_TIMED_OUT:
                    continue
                return out, err, None, n, (st, f)
            o, e, state, code = parse_receive(body)
            out += o
            err += e
            if state == STATE_DONE:
                return out, err, code, n, None
        return out, err, None, n, "no Done within %ds" % limit


def parse_receive(body):
    root = soap.parse(body)
    out = err = b""
    for s in root.iter("{%s}Stream" % NS_SHELL):
        data = base64.b64decode(s.text or "")
        if s.get("Name") == "stdout":
            out += data
        elif s.get("Name") == "stderr":
            err += data
    state = code = None
    cs = root.find(".//rsp:CommandState", soap.NS)
    if cs is not None:
        state = cs.get("State")
        ec = cs.findtext("rsp:ExitCode", default=None, namespaces=soap.NS)
        code = int(ec) if ec is not None else None
    return out, err, state, code


def is_fault(f, subcode, code):
    return f is not None and f[1] == subcode and f[2] == code


def protocol(d, user, **kw):
    return winrm.protocol.Protocol(endpoint=d.url, transport="basic", username=user,
                                   password=PASSWORDS[user], **kw)


def pw_send(p, sid, cid, data, end=False):
    """pywinrm 0.3.0 has no API for stdin: a Send built the way pywinrm
    builds its own messages (_get_soap_header + xmltodict), sent with
    Protocol.send_message."""
    req = {"env:Envelope": p._get_soap_header(resource_uri=CMD_URI, action=A_SEND,
                                                shell_id=sid)}
    stream = req["env:Envelope"].setdefault("env:Body", {}).setdefault(
        "rsp:Send", {}).setdefault("rsp:Stream", {})
    stream["@Name"] = "stdin"
    stream["@CommandId"] = cid
    if end:
        stream["@End"] = "true"
    stream["#text"] = base64.b64encode(data).decode()
    return p.send_message(xmltodict.unparse(req))


PWRAP_TROUBLE = re.compile(r"PWRAP_ERROR.*(config dir|error reading PAM configuration|"
                           r"pam_start: failed)")
DAEMONS = []       # every daemon of this file, for lab_pam_trouble()
LAB_RETRIES = []   # command starts retried because of the lab


def lab_daemon_(lab, cfg):
    d = lab_daemon(lab, cfg)
    DAEMONS.append(d)
    return d


def lab_pam_trouble():
    """Whether the lab's pam_wrapper failed somewhere (see LIMITS).  Only
    then is a command start that failed with ProcessStart (2147942402; no
    test here expects one) retried, at most twice, and reported."""
    return any(PWRAP_TROUBLE.search(d.log()) for d in DAEMONS)


_pywinrm_run_command = winrm.protocol.Protocol.run_command


def _run_command(self, *args, **kw):
    for attempt in range(3):
        try:
            return _pywinrm_run_command(self, *args, **kw)
        except WinRMError as e:
            if "2147942402" not in str(e) or attempt == 2 or not lab_pam_trouble():
                raise
            LAB_RETRIES.append(args[1] if len(args) > 1 else "?")


winrm.protocol.Protocol.run_command = _run_command


def pgrep(uid, pattern):
    r = subprocess.run(["pgrep", "-u", str(uid), "-f", pattern], capture_output=True, text=True)
    return [int(x) for x in r.stdout.split()]


def wait_until(fn, limit, step=0.1):
    deadline = time.time() + limit
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(step)
    return fn()


def unique_sleep():
    """A sleep command line no other test (or test run) uses, so pgrep finds
    exactly it: sleep 100.<random digits>."""
    n = "100.%d" % (uuid.uuid4().int % 10 ** 9)
    return "sleep %s" % n, r"^sleep %s$" % re.escape(n)


# ---------------------------------------------------------------------------
# Tests on the main daemon (parallel)
# ---------------------------------------------------------------------------

def test_run_cmd(r, d, lab):
    s = winrm.Session(d.url, auth=("alice", "alicepw"), transport="basic")
    res = s.run_cmd("echo", ["hello", "world"])
    r.eq((res.status_code, res.std_out, res.std_err), (0, b"hello world\n", b""),
         "run_cmd echo hello world: exit 0, stdout, no stderr")
    res = s.run_cmd("echo out; echo err >&2")
    r.eq((res.status_code, res.std_out, res.std_err), (0, b"out\n", b"err\n"),
         "run_cmd: stdout and stderr apart")
    for cmd, want, what in (("true", 0, "exit 0"), ("exit 1", 1, "exit 1"),
                            ("exit 255", 255, "exit 255"), ("false", 1, "false"),
                            ("kill -9 $$", 137, "killed by SIGKILL: 128+9 = 137"),
                            ("kill -TERM $$", 143, "killed by SIGTERM: 128+15 = 143"),
                            ("no-such-program-here", 127, "unknown program: the shell's 127")):
        res = s.run_cmd(cmd)
        r.eq(res.status_code, want, "run_cmd %r: %s" % (cmd, what))
    text = "héllo ✓ 日本"
    res = s.run_cmd("echo '%s'; echo '%s' >&2" % (text, text))
    r.eq((res.std_out, res.std_err), ((text + "\n").encode(), (text + "\n").encode()),
         "UTF-8 in the command and in stdout/stderr round-trips byte for byte")
    res = s.run_cmd("printf", ["'%s'", "'%s'" % text])
    r.eq(res.std_out, text.encode(), "UTF-8 in rsp:Arguments reaches the command")


def test_big_output(r, d, lab):
    p = protocol(d, "alice")
    sizes = []
    orig = p.send_message

    def counting(message):
        resp = orig(message)
        sizes.append(len(resp))
        return resp
    p.send_message = counting
    sid = p.open_shell()
    n = 10 * 1000 * 1000
    cid = p.run_command(sid, "head -c %d /dev/zero | tr '\\0' x" % n)
    before = len(sizes)
    t0 = time.time()
    out, err, code = p.get_command_output(sid, cid)
    elapsed = time.time() - t0
    receives = len(sizes) - before
    r.eq(len(out), n, "10 MB of stdout: exactly 10000000 bytes arrive")
    r.ok(out.count(b"x") == n, "and every byte is 'x'")
    r.eq((code, err), (0, b""), "exit 0, no stderr")
    r.ok(receives > 1, "in several Receives (%d)" % receives)
    r.ok(max(sizes[before:]) <= 153600,
         "no Receive response exceeds pywinrm's MaxEnvelopeSize 153600 (largest %d)"
         % max(sizes[before:]))
    r.diag("10 MB in %d Receives, %.2f s" % (receives, elapsed))
    p.cleanup_command(sid, cid)
    p.close_shell(sid)


def test_binary(r, d, lab):
    p = protocol(d, "alice")
    sid = p.open_shell()
    fmt = "".join("\\%03o" % b for b in range(256))
    cid = p.run_command(sid, "printf '%s'; printf '%s' >&2; printf '%s'" % (fmt, fmt, fmt))
    out, err, code = p.get_command_output(sid, cid)
    r.eq(out, bytes(range(256)) * 2, "all 256 byte values (twice) on stdout, unchanged")
    r.eq(err, bytes(range(256)), "all 256 byte values on stderr, unchanged")
    r.eq(code, 0, "exit 0")
    p.cleanup_command(sid, cid)
    p.close_shell(sid)


def test_stdin(r, d, lab):
    p = protocol(d, "alice")
    sid = p.open_shell()
    cid = p.run_command(sid, "cat")
    pw_send(p, sid, cid, b"hello\n")
    pw_send(p, sid, cid, bytes(range(256)))
    resp = pw_send(p, sid, cid, b"bye\n", end=True)
    r.contains(resp, "SendResponse", "Send (pywinrm send_message): SendResponse")
    out, err, code = p.get_command_output(sid, cid)
    r.eq(out, b"hello\n" + bytes(range(256)) + b"bye\n",
         "cat echoes three Sends, binary-safe, in order")
    r.eq(code, 0, "End=true closed stdin: cat ended with 0")
    p.cleanup_command(sid, cid)

    # 1 MiB of random input in four Sends, checked by digest.
    data = os.urandom(1 << 20)
    cid = p.run_command(sid, "sha256sum")
    for i in range(4):
        part = data[i << 18:(i + 1) << 18]
        pw_send(p, sid, cid, part, end=(i == 3))
    out, err, code = p.get_command_output(sid, cid)
    r.eq(out.split()[:1], [hashlib.sha256(data).hexdigest().encode()],
         "1 MiB of stdin in four Sends reaches the command intact (sha256)")
    p.cleanup_command(sid, cid)

    # Reading stdin that is closed right away.
    cid = p.run_command(sid, "wc -c")
    pw_send(p, sid, cid, b"", end=True)
    out, _, code = p.get_command_output(sid, cid)
    r.eq((out.strip(), code), (b"0", 0), "an empty Send with End=true gives EOF")
    p.cleanup_command(sid, cid)
    p.close_shell(sid)


def test_cwd_env(r, d, lab):
    p = protocol(d, "alice")
    sid = p.open_shell(working_directory="/tmp",
                       env_vars={"WINRMD_TEST_VAR": "value with spaces é"})
    cid = p.run_command(sid, 'pwd; printf "%s\\n" "$WINRMD_TEST_VAR"; echo "$HOME $USER"')
    out, err, code = p.get_command_output(sid, cid)
    home = lab.path("home", "alice")
    r.eq(out.decode(), "/tmp\nvalue with spaces é\n%s alice\n" % home,
         "rsp:WorkingDirectory /tmp and rsp:Environment reach the command; HOME, USER set")
    p.cleanup_command(sid, cid)
    p.close_shell(sid)
    sid = p.open_shell()
    cid = p.run_command(sid, "pwd")
    out, _, _ = p.get_command_output(sid, cid)
    r.eq(out.decode(), home + "\n", "without WorkingDirectory the command starts in the home")
    p.cleanup_command(sid, cid)
    p.close_shell(sid)


def test_identity(r, d, lab):
    for user in ("alice", "carol", "dave", "root"):
        u = lab.users[user]
        groups = sorted({u.gid} | {labmod.EXTRA_GROUPS[g] for g in u.groups})
        s = winrm.Session(d.url, auth=(user, PASSWORDS[user]), transport="basic")
        res = s.run_cmd("id -u; id -g; id -G; id -un; id -gn; grep -E '^(Uid|Gid|CapEff):' /proc/self/status")
        lines = res.std_out.decode().splitlines()
        r.eq(lines[:5], [str(u.uid), str(u.gid), " ".join(str(g) for g in groups), user,
                         user if user != "root" else "root"],
             "%s: the command runs with uid %d, gid %d, groups %s" % (user, u.uid, u.gid, groups))
        st = {ln.split(":")[0]: ln.split(":")[1].split() for ln in lines[5:]}
        r.eq((st.get("Uid"), st.get("Gid")), ([str(u.uid)] * 4, [str(u.gid)] * 4),
             "%s: real, effective, saved and fs ids all %d/%d" % (user, u.uid, u.gid))
        if user != "root":
            r.eq(st.get("CapEff"), ["0000000000000000"], "%s: no capabilities" % user)
    res = winrm.Session(d.url, auth=("alice", "alicepw"), transport="basic").run_cmd("id")
    r.eq(res.std_out, b"uid=20001(alice) gid=20001(alice) groups=20001(alice),30001(winrmusers)\n",
         "alice: `id` exactly as the lab's user table says")


def test_isolation(r, d, lab):
    a = Raw(d, "alice")
    c = Raw(d, "carol")
    st, _, _, sid = a.create()
    cmd, pat = unique_sleep()
    st, _, _, cid = a.command(sid, cmd)
    r.eq(st, 200, "alice: shell and a running command")
    for what, fn in (
        ("Command", lambda: c.command(sid, "id")[:3]),
        ("Receive", lambda: c.receive(sid, cid, "PT1S")),
        ("Send", lambda: c.send(sid, cid, b"x")),
        ("Signal terminate", lambda: c.signal(sid, cid)),
        ("Signal ctrl_c", lambda: c.signal(sid, cid, SIG_CTRL_C)),
        ("Get", lambda: c.get(sid)),
        ("Delete", lambda: c.delete(sid)),
    ):
        st, body, f = fn()
        r.ok(st == 500 and is_fault(f, "w:InvalidSelectors", CODE_UNKNOWN_SHELL),
             "carol's %s with alice's ShellId: HTTP 500 w:InvalidSelectors %s" % (what, CODE_UNKNOWN_SHELL),
             (st, f))
    p = protocol(d, "carol")
    try:
        p.run_command(sid, "id")
        r.ok(False, "pywinrm as carol: run_command in alice's shell refused")
    except WinRMError as e:
        r.ok("InvalidSelectors" in str(e) and CODE_UNKNOWN_SHELL in str(e),
             "pywinrm as carol: run_command in alice's shell -> WinRMError InvalidSelectors", e)
    # (the login shell may not have exec'd the sleep yet on a busy machine)
    r.ok(wait_until(lambda: len(pgrep(20001, pat)) == 1, 10), "alice's command still runs",
         pgrep(20001, pat))
    st, body, f = a.get(sid)
    r.eq(st, 200, "alice still has her shell")
    st, _, _, csid = c.create()
    st, body, f = a.get(csid)
    r.ok(st == 500 and is_fault(f, "w:InvalidSelectors", CODE_UNKNOWN_SHELL),
         "and alice does not see carol's shell either", (st, f))
    st, _, _ = a.signal(sid, cid)
    r.eq(st, 200, "alice terminates her command")
    a.delete(sid)
    c.delete(csid)
    a.close()
    c.close()


def test_hundred_shells(r, d, lab):
    """100 shells open at once: 10 pywinrm clients (one keep-alive
    connection each, logged in one by one) open 10 shells each, 9 of them
    at the same time, then run a command in every shell, 10 commands at a
    time (see LIMITS)."""
    errors = []

    # The 10 clients log in (their first shell) one after the other: Basic
    # logins started at the same moment lose PAM to pam_wrapper's race
    # (see LIMITS); the other 90 Creates then run 10 at a time.
    first = []
    for k in range(10):
        # a hung request costs 15 s, not pywinrm's default 30
        p = protocol(d, "alice", operation_timeout_sec=10, read_timeout_sec=15)
        try:
            first.append((p, [p.open_shell()]))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append("client %d: Create: %r" % (k, e))
            first.append((p, []))

    def client(k):
        p, shells = first[k]
        for j in range(9):
            try:
                shells.append(p.open_shell())
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append("client %d: Create: %r" % (k, e))
        return p, shells

    def run_all(arg):
        k, (p, shells) = arg
        got = []
        for j, sid in enumerate(shells):
            i = k * 10 + j
            step = "Command"
            try:
                cid = p.run_command(sid, "echo shell-%d; id -u" % i)
                step = "Receive"
                out, err, code = p.get_command_output(sid, cid)
                step = "Signal"
                p.cleanup_command(sid, cid)
                got.append(out == ("shell-%d\n20001\n" % i).encode() and code == 0)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append("shell %d (%s): %s: %r" % (i, sid, step, e))
        return got

    def close_all(arg):
        p, shells = arg
        for sid in shells:
            try:
                p.close_shell(sid)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append("shell %s: Delete: %r" % (sid, e))

    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(10) as ex:
        clients = list(ex.map(client, range(10)))
        ids = {sid for _, shells in clients for sid in shells}
        r.eq(len(ids), 100, "100 shells open at once (10 clients x 10), 100 distinct ShellIds")
        g = Raw(d, "alice")
        st, body, f = g.get(clients[0][1][0])
        r.eq(st, 200, "the first shell is still there when the last one is created")
        results = list(ex.map(run_all, enumerate(clients)))
        good = sum(sum(x) for x in results)
        r.eq(good, 100, "a command in each of the 100 shells: each gets its own output, exit 0")
        list(ex.map(close_all, clients))
    r.eq(errors, [], "no request failed")
    r.diag("100 shells opened, used and closed in %.2f s" % (time.time() - t0))
    st, _, f = g.get(clients[0][1][0])
    r.ok(st == 500 and is_fault(f, "w:InvalidSelectors", CODE_UNKNOWN_SHELL),
         "after Delete the shells are gone", (st, f))
    g.close()


def test_command_burst(r, d, lab):
    """300 commands that end at once (`true`), 10 at a time: every Command
    is answered.  (A command whose process ends before the helper has read
    its start report must still get its CommandResponse.)"""
    hung = []
    bad = []
    done = []

    def worker(k):
        a = Raw(d, "alice", timeout=15)
        for attempt in range(3):
            st, _, f, sid = a.create()
            # A Basic authentication whose PAM child lost pam_wrapper's
            # race (see LIMITS) is retried like a failed command start.
            if st == 200 or attempt == 2 or not lab_pam_trouble():
                break
            r.diag("worker %d: Create retried after HTTP %d (lab PAM trouble)" % (k, st))
            a.close()
            a = Raw(d, "alice", timeout=15)
        if st != 200:
            bad.append(("Create", st, f))
            return
        for i in range(30):
            try:
                st, body, f, cid = a.command(sid, "true")
            except (socket.timeout, TimeoutError, http.client.HTTPException, OSError) as e:
                hung.append("worker %d command %d: %r" % (k, i, e))
                a = Raw(d, "alice", timeout=15)
                continue
            if st != 200:
                bad.append((st, f))
                continue
            out, err, code, n, fault = a.collect(sid, cid, 30)
            if (out, err, code) != (b"", b"", 0):
                bad.append((out, err, code, fault))
            a.signal(sid, cid)
            done.append(1)
        a.delete(sid)
        a.close()

    ths = [threading.Thread(target=worker, args=(k,)) for k in range(10)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(300)
    r.eq(hung, [], "300 short commands, 10 at a time: every Command is answered (none hangs)")
    r.eq(bad, [], "every answered command started and ran: Done, exit 0, no output")
    r.diag("%d commands ran" % len(done))


def test_idle(r, d, lab):
    a = Raw(d, "alice")
    st, body, f, idle = a.create("<rsp:IdleTimeOut>PT3S</rsp:IdleTimeOut>")
    r.eq(soap.parse(body).findtext(".//rsp:IdleTimeOut", namespaces=soap.NS), "PT3.000S",
         "requested IdleTimeOut PT3S (below Winrs.IdleTimeout): the shell reports PT3.000S")
    created = time.time()
    # Shell B: a running command polled with Receive (as every client does).
    b = Raw(d, "alice")
    st, _, _, busy = b.create("<rsp:IdleTimeOut>PT3S</rsp:IdleTimeOut>")
    cmd, pat = unique_sleep()
    st, _, _, bcid = b.command(busy, cmd)
    # Shell C: short commands, each in its own Command/Receive/Signal.
    c = Raw(d, "alice")
    st, _, _, active = c.create("<rsp:IdleTimeOut>PT3S</rsp:IdleTimeOut>")

    stop = threading.Event()
    problems = []

    def poll_b():
        while not stop.is_set():
            st, body, f = b.receive(busy, bcid, "PT1S")
            if st != 200 and not (f and f[2] == CODE_TIMED_OUT):
                problems.append(("B", st, f))
                return

    def poll_c():
        while not stop.is_set():
            st, _, f, cid = c.command(active, "echo tick")
            if st != 200:
                problems.append(("C", st, f))
                return
            o, _, code, _, err = c.collect(active, cid, 20)
            c.signal(active, cid)
            if o != b"tick\n":
                problems.append(("C output", o, err))
            stop.wait(0.5)

    ths = [threading.Thread(target=poll_b), threading.Thread(target=poll_c)]
    for th in ths:
        th.start()
    # Watch the idle shell with Get, spaced wider than its idle time, so
    # that the check works whether or not a Get counts as activity: once
    # early (still there), then after 6 s and every 4 s.
    g = Raw(d, "alice")
    time.sleep(max(0, created + 1.5 - time.time()))
    st, body, f = g.get(idle)
    early = time.time() - created
    if early < 2.5:
        r.ok(st == 200, "the idle shell is still there %.1f s after its Create" % early, (st, f))
    else:
        r.diag("early check skipped: it came %.1f s after the Create (slow machine)" % early)
    gone_at = None
    when = created + 6
    while when < created + 30:
        time.sleep(max(0, when - time.time()))
        st, body, f = g.get(idle)
        if st != 200:
            gone_at = time.time()
            break
        when += 4
    stop.set()
    for th in ths:
        th.join(30)
    r.ok(gone_at is not None and is_fault(f, "w:InvalidSelectors", CODE_UNKNOWN_SHELL),
         "the idle shell (PT3S) is reaped: Get -> w:InvalidSelectors %s (after %.1f s)"
         % (CODE_UNKNOWN_SHELL, (gone_at or time.time()) - created), (st, f))
    st, _, f = g.delete(idle)
    r.ok(st == 500 and is_fault(f, "w:InvalidSelectors", CODE_UNKNOWN_SHELL),
         "Delete of the reaped shell: w:InvalidSelectors", (st, f))
    r.eq(problems, [], "the shells with activity worked throughout")
    st, _, f = g.get(busy)
    r.eq(st, 200, "the shell whose command is polled by Receive stays (%s)" % (f,))
    st, _, f = g.get(active)
    r.eq(st, 200, "the shell running a command every 0.5 s stays (%s)" % (f,))
    r.ok(d.wait_log(r"shell %s of alice ended: idle timeout" % idle, 5),
         "the daemon logs the idle reaping")
    b.signal(busy, bcid)
    b.delete(busy)
    c.delete(active)
    for x in (a, b, c, g):
        x.close()


def test_ctrl_c(r, d, lab):
    a = Raw(d, "alice")
    st, _, _, sid = a.create()
    cmd, pat = unique_sleep()
    st, _, f, cid = a.command(sid, cmd)
    r.ok(wait_until(lambda: len(pgrep(20001, pat)) == 1, 10), "ctrl_c: the sleep runs")
    st, body, f = a.signal(sid, cid, SIG_CTRL_C)
    r.eq(st, 200, "Signal ctrl_c on a running command: 200")
    out, err, code, n, fault = a.collect(sid, cid, 30)
    r.eq((code, fault), (130, None), "Receive reports Done with exit code 130 (128 + SIGINT)")
    r.ok(wait_until(lambda: not pgrep(20001, pat), 10), "and the process is gone")
    st, _, _ = a.signal(sid, cid)
    r.eq(st, 200, "terminate after Done: 200")
    a.delete(sid)
    a.close()


def test_terminate(r, d, lab):
    a = Raw(d, "alice")
    st, _, _, sid = a.create()
    cmd, pat = unique_sleep()
    st, _, f, cid = a.command(sid, cmd)
    r.ok(wait_until(lambda: len(pgrep(20001, pat)) == 1, 10), "terminate: the sleep runs as uid 20001")
    st, body, f = a.signal(sid, cid, SIG_TERMINATE)
    r.eq(st, 200, "Signal terminate on a running command: 200")
    r.contains(body, "SignalResponse", "with a SignalResponse")
    st, body, f = a.receive(sid, cid, "PT2S")
    r.ok(st == 500 and is_fault(f, "w:InvalidSelectors", CODE_UNKNOWN_SHELL),
         "Receive on the terminated CommandId: w:InvalidSelectors %s" % CODE_UNKNOWN_SHELL, (st, f))
    r.ok(wait_until(lambda: not pgrep(20001, pat), 10), "the process is gone")
    # Delete of a shell with a running command ends it too.
    cmd, pat = unique_sleep()
    st, _, f, cid = a.command(sid, cmd)
    r.ok(wait_until(lambda: len(pgrep(20001, pat)) == 1, 10), "a second sleep runs")
    st, _, _ = a.delete(sid)
    r.eq(st, 200, "Delete of the shell")
    r.ok(wait_until(lambda: not pgrep(20001, pat), 10), "ends its running command")
    a.close()


def test_receive_timeout(r, d, lab):
    a = Raw(d, "alice")
    st, _, _, sid = a.create()
    cmd, pat = unique_sleep()
    st, _, f, cid = a.command(sid, cmd)
    t0 = time.time()
    st, body, f = a.receive(sid, cid, "PT1S")
    el = time.time() - t0
    r.eq(st, 500, "Receive with OperationTimeout PT1S on a silent command: HTTP 500")
    r.ok(f is not None and f[:3] == ("s:Receiver", "w:TimedOut", CODE_TIMED_OUT),
         "s:Receiver / w:TimedOut / WSManFault code %s" % CODE_TIMED_OUT, f)
    r.ok(f is not None and "OperationTimeout" in f[3],
         "the reason names OperationTimeout (the Go client looks for it)", f)
    r.ok(el >= 0.9, "answered after the operation timeout, not before (%.2f s)" % el)
    st, body, f = a.receive(sid, cid, "PT1S")
    r.ok(st == 500 and f and f[2] == CODE_TIMED_OUT, "a second Receive times out the same way", f)
    a.signal(sid, cid)
    a.delete(sid)
    a.close()

    p = protocol(d, "alice", operation_timeout_sec=1, read_timeout_sec=2)
    sid = p.open_shell()
    cid = p.run_command(sid, "sleep 3; echo done")
    try:
        p._raw_get_command_output(sid, cid)
        r.ok(False, "pywinrm: the first Receive raises WinRMOperationTimeoutError")
    except WinRMOperationTimeoutError:
        r.ok(True, "pywinrm: the first Receive raises WinRMOperationTimeoutError (code %s)"
             % CODE_TIMED_OUT)
    out, err, code = p.get_command_output(sid, cid)
    r.eq((out, code), (b"done\n", 0),
         "pywinrm (operation_timeout_sec=1, read_timeout_sec=2) loops over the faults and gets the output")
    p.cleanup_command(sid, cid)
    p.close_shell(sid)
    s = winrm.Session(d.url, auth=("alice", "alicepw"), transport="basic",
                      operation_timeout_sec=1, read_timeout_sec=2)
    res = s.run_cmd("sleep 3; echo late")
    r.eq((res.status_code, res.std_out), (0, b"late\n"), "run_cmd of a 3 s command with a 1 s operation timeout")


def raw_request(d, user, env):
    body = env.encode()
    return (b"POST /wsman HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            b"Content-Type: application/soap+xml;charset=UTF-8\r\n"
            b"Authorization: %s\r\nContent-Length: %d\r\n\r\n" % (
                d.port, basic_header(user, PASSWORDS[user]).encode(), len(body))) + body


def test_disconnect(r, d, lab):
    """A Receive whose client goes away before the answer loses nothing."""
    for how in ("close", "reset"):
        a = Raw(d, "alice")
        st, _, _, sid = a.create()
        mark = len(d.log())
        st, _, f, cid = a.command(sid, "sleep 1; echo first; sleep 1; echo second")
        rx = envelope(A_RECEIVE, '<rsp:Receive><rsp:DesiredStream CommandId="%s">stdout stderr'
                      "</rsp:DesiredStream></rsp:Receive>" % cid, sid, timeout="PT20S")
        s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        s.sendall(raw_request(d, "alice", rx))
        time.sleep(0.3)  # the Receive is waiting now
        if how == "reset":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
        # Wait until "first" was produced and offered to the lost Receive.
        time.sleep(1.5)
        out, err, code, n, fault = a.collect(sid, cid, 30)
        r.eq((out, code, fault), (b"first\nsecond\n", 0, None),
             "client %s mid-Receive: a Receive on a new connection still gets "
             "\"first\" and \"second\"" % ("closes (FIN)" if how == "close" else "resets (RST)"))
        if out != b"first\nsecond\n":
            r.diag(d.log()[mark:][-3000:])
        a.signal(sid, cid)
        a.delete(sid)
        a.close()


# ---------------------------------------------------------------------------
# Tests with their own daemons
# ---------------------------------------------------------------------------

def test_quotas(r, lab):
    d = lab_daemon_(lab, config(MaxShellsPerUser=2, MaxConcurrentUsers=1, MaxProcessesPerShell=1))
    try:
        d.start()
        a = Raw(d, "alice")
        c = Raw(d, "carol")
        st1, _, _, s1 = a.create()
        st2, _, _, s2 = a.create()
        r.eq((st1, st2), (200, 200), "MaxShellsPerUser=2: alice's first two shells")
        st, body, f, _ = a.create()
        r.ok(st == 500 and f and f[:3] == ("s:Sender", "w:QuotaLimit", CODE_MAX_SHELLS),
             "the third Create: HTTP 500 w:QuotaLimit %s" % CODE_MAX_SHELLS, (st, f))
        p = protocol(d, "alice")
        try:
            p.open_shell()
            r.ok(False, "pywinrm open_shell over the quota raises")
        except WinRMError as e:
            r.ok("QuotaLimit" in str(e), "pywinrm open_shell over the quota: WinRMError QuotaLimit", e)
        st, body, f, _ = c.create()
        r.ok(st == 500 and f and f[:3] == ("s:Sender", "w:QuotaLimit", CODE_MAX_USERS),
             "MaxConcurrentUsers=1: carol's Create: w:QuotaLimit %s" % CODE_MAX_USERS, (st, f))

        cmd, pat = unique_sleep()
        st, _, f, cid = a.command(s1, cmd)
        r.eq(st, 200, "MaxProcessesPerShell=1: a first command")
        st, body, f, _ = a.command(s1, "echo second")
        r.ok(st == 500 and f and f[1] == "w:QuotaLimit" and f[2] == CODE_MAX_PROCESSES,
             "a second concurrent Command in the shell: w:QuotaLimit (%s)" % CODE_MAX_PROCESSES, (st, f))
        st, _, f, c2 = a.command(s2, "echo other")
        out, _, code, _, _ = a.collect(s2, c2)
        r.eq((st, out), (200, b"other\n"), "the other shell runs its own command meanwhile")
        a.signal(s1, cid)
        st, _, f, c3 = a.command(s1, "echo again")
        out, _, code, _, _ = a.collect(s1, c3)
        r.eq((st, out, code), (200, b"again\n", 0), "after terminate, a new command runs")

        a.delete(s1)
        st, _, _, s3 = a.create()
        r.eq(st, 200, "after a Delete, alice may create again")
        a.delete(s2)
        a.delete(s3)
        st, _, f, cs = c.create()
        r.eq(st, 200, "once alice has no shell left, carol may create one (%s)" % (f,))
        c.delete(cs)
        a.close()
        c.close()
    finally:
        d.cleanup()


def test_disabled(r, lab):
    d = lab_daemon_(lab, config(AllowRemoteShellAccess=False))
    try:
        d.start()
        a = Raw(d, "alice")
        st, body, f, _ = a.create()
        r.ok(st == 500 and f and f[:3] == ("s:Receiver", "w:InternalError", CODE_SHELLS_NOT_ALLOWED),
             "AllowRemoteShellAccess=false: Create gets w:InternalError %s" % CODE_SHELLS_NOT_ALLOWED,
             (st, f))
        s = winrm.Session(d.url, auth=("alice", "alicepw"), transport="basic")
        try:
            s.run_cmd("true")
            r.ok(False, "pywinrm run_cmd refused")
        except WinRMError as e:
            r.ok("InternalError" in str(e), "pywinrm run_cmd: WinRMError InternalError", e)
        a.close()
    finally:
        d.cleanup()


def test_shutdown(r, lab):
    d = lab_daemon_(lab, config())
    try:
        d.start()
        a = Raw(d, "alice")
        st, _, _, sid = a.create()
        cmd, pat = unique_sleep()
        st, _, f, cid = a.command(sid, cmd)
        r.ok(wait_until(lambda: len(pgrep(20001, pat)) == 1, 10), "shutdown: a sleep runs in a shell")
        got = []

        def waiting():
            w = Raw(d, "alice")
            try:
                got.append(w.receive(sid, cid, "PT50S")[:1])
            except (http.client.HTTPException, OSError) as e:
                got.append(type(e).__name__)
        th = threading.Thread(target=waiting)
        th.start()
        time.sleep(0.5)
        rc = d.stop(timeout=30)
        r.eq(rc, 0, "SIGTERM: the daemon exits 0 with a running shell and a waiting Receive")
        th.join(30)
        r.ok(not th.is_alive() and got, "the waiting Receive was answered or closed (%s)" % got)
        r.ok(wait_until(lambda: not pgrep(20001, pat), 10), "the command's process is gone")
        r.contains(d.log(), "shell %s of alice ended: winrmd is stopping" % sid,
                   "the shell ended because winrmd stopped")
    finally:
        d.cleanup()


def lane(r, jobs):
    """Runs jobs one after the other in this thread (see LIMITS)."""
    for fn, args in jobs:
        sub = Rec(fn.__name__)
        t0 = time.time()
        try:
            fn(sub, *args)
        except Exception:  # noqa: BLE001 - an exception is one failed check
            sub._line(False, "%s raised" % fn.__name__, traceback.format_exc())
        r.diag("--- %s (%.1f s)" % (fn.__name__, time.time() - t0))
        r.lines.extend(sub.lines)


with Lab() as lab:
    d = lab_daemon_(lab, config())
    try:
        d.start()
        fast = [(fn, (d, lab)) for fn in (
            test_run_cmd, test_big_output, test_binary, test_stdin, test_cwd_env,
            test_identity, test_isolation, test_ctrl_c, test_terminate)] + \
            [(fn, (lab,)) for fn in (test_quotas, test_disabled)]
        waiting = [(fn, (d, lab)) for fn in (test_idle, test_receive_timeout, test_disconnect)] + \
            [(test_shutdown, (lab,))]
        run_parallel([(lane, (fast,)), (lane, (waiting,))])
        run_parallel([(lane, ([(test_hundred_shells, (d, lab)), (test_command_burst, (d, lab))],))])
        if LAB_RETRIES:
            t.diag("command starts retried because the lab's pam_wrapper failed (not winrmd; "
                   "see LIMITS): %r" % LAB_RETRIES)
        d.check_alive(t, "the shell tests")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()
sys.exit(t.done())
