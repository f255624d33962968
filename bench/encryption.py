#!/usr/bin/python3
"""bench/encryption.py - what message encryption over HTTP (MS-WSMV
2.2.9.1, multipart/encrypted with the SPNEGO session key) costs the
server, next to the same requests in plain text measured in the same run.

Starts a lab (tests/integration/lib/lab.py: KDC, gss-ntlmssp user file,
nss_wrapper, pam_wrapper) and one winrmd from $WINRMD_BUILDDIR with
AllowUnencrypted=true (so that the plain-text reference is accepted; the
encrypted requests are the same either way), on 127.0.0.1 only.

For Kerberos (raw krb5 under Negotiate, aes256-cts-hmac-sha1-96) and NTLM
(gss-ntlmssp: RC4 and HMAC-MD5), three kinds of exchange, each on its own
authenticated keep-alive connection, plain and encrypted:
  small     an Identify (about 400 bytes each way);
  request   the same Identify carrying a 256 KiB SOAP header that the
            server must read and decrypt (the answer stays small);
  reply     a shell Receive (about 700 bytes) answered with about 256 KiB:
            the connection's own shell runs `cat /dev/zero` and every
            Receive asks for MaxEnvelopeSize 256 KiB + 3,000 bytes, so that
            the answer carries 195,786 bytes of output (in base64).

The server is measured, not the Python client (python3-gssapi over
Debian's MIT, whose builtin AES-CTS and SHA-1 take about 2 ms per 256 KiB
wrap, would dominate every encrypted figure): each run is a closed loop
in rounds, and in every round the client first builds a batch of request
bodies (for the encrypted runs it wraps them, in sequence order, before
the clock starts), then sends the batch with the clock running, one
request after the other on its connection, keeping every answer, and
only after the clock stops checks every answer (the encrypted ones are
decrypted in order and checked as strictly as pywinrm does,
tests/integration/lib/wsmancrypt.py).  Plain runs get the same treatment
(their bodies are prepared before the clock as well, each a distinct copy
like the sealed ones: sending one buffer over and over kept it in the
caches and made the plain reference's client about 450 microseconds
cheaper per 256 KiB request than a real client's; ENC_PLAIN_SAME=1
measures that way).  The timed part is
therefore the HTTP exchange with the client's socket I/O in both columns
and the server's work; the batch size is set from a calibration so that
a round lasts about ENC_DURATION / ENC_ROUNDS seconds (capped at
ENC_BATCH_MAX bodies per round).  Runs are interleaved round by round so
that load from elsewhere on the machine hits all of them alike.

Prints requests/s, MB/s of plaintext in (request bodies) and out
(answers), and the encrypted/plain ratio of requests/s per method and
kind.  Any answer other than 200, or one that fails the check (wrong
answer) counts as an error and makes the exit status 1.  For the reply
kind the ratio is that of MB/s out, and the "short" column counts
answers under 250,000 bytes (the command's output had not caught up).

Environment: ENC_DURATION (seconds of timed requests per run, default 5),
ENC_ROUNDS (default 5), ENC_BATCH_MAX (default 300), ENC_KINDS (a subset
of "small request reply", default all), ENC_METHODS (a subset of
"Kerberos NTLM", default both), ENC_COUNT (requests per run and round
instead of the calibrated batch).

ENC_PERF=1 attaches `perf stat -e task-clock` to winrmd and winrmd-priv
around each timed part and prints the CPU microseconds per request of
each process and of the client (this Python process), the figures to
base decisions on when the machine is shared.

ENC_CALLGRIND=<directory> runs winrmd and winrmd-priv under valgrind
--tool=callgrind (slow: set ENC_COUNT, e.g. 50, and ENC_ROUNDS=1): the
counters are zeroed before each run's timed part and dumped after it
(callgrind_control), and the table gets each process's instructions per
request; the dumps stay in the directory (callgrind_annotate reads them).
"""
import glob
import os
import re
import subprocess
import sys
import time

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("WINRMD_SRCDIR", os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "lib"))
sys.path.insert(0, HERE)
import shellclient as sc  # noqa: E402
from gssclient import GssClient  # noqa: E402
from lab import Lab  # noqa: E402
from winrmd import SOAP_CT, WINRMD, identify_envelope, lab_daemon  # noqa: E402
import winrmd as wd  # noqa: E402
import wsmancrypt as wc  # noqa: E402

DURATION = float(os.environ.get("ENC_DURATION", "5"))
ROUNDS = max(1, int(os.environ.get("ENC_ROUNDS", "5")))
BATCH_MAX = max(10, int(os.environ.get("ENC_BATCH_MAX", "300")))
COUNT = int(os.environ.get("ENC_COUNT", "0"))
CALLGRIND = os.environ.get("ENC_CALLGRIND")
KINDS = os.environ.get("ENC_KINDS", "small request reply").split()
METHODS = os.environ.get("ENC_METHODS", "Kerberos NTLM").split()
PLAIN_SAME = os.environ.get("ENC_PLAIN_SAME") == "1"
SMALL = identify_envelope().encode()
# An unknown header without mustUnderstand is read and ignored.
LARGE = SMALL.replace(
    b"</a:MessageID>",
    b"</a:MessageID><p:Padding xmlns:p=\"urn:bench\">" + b"x" * (256 * 1024)
    + b"</p:Padding>")
# Receive's output budget is (MaxEnvelopeSize - 4096) / 4 * 3 bytes
# (listener/resources/shell.c): 195,786 bytes, 261,048 in base64.
REPLY_ENVELOPE = 256 * 1024 + 3000
REPLY_MIN = 250000


class Run:
    """One measured series on one authenticated connection."""

    def __init__(self, name, client, sealed, plain_body, want):
        self.name, self.client, self.sealed = name, client, sealed
        self.plain_body = plain_body
        self.want = want                # bytes every good answer contains
        self.session = wc.EncryptedSession(client) if sealed else None
        self.n = self.errors = 0
        self.seconds = 0.0
        self.bytes_in = self.bytes_out = 0
        self.short = 0                  # reply answers under REPLY_MIN
        self.instructions = {}          # process -> Ir in timed parts
        self.finished = False           # a round hit the deadline
        self.first_error = None

    def prepare(self, count):
        """count (content type, body) pairs, wrapped in sequence order."""
        if not self.sealed:
            # Distinct copies, as every sealed body is and as a real
            # client's are: one body sent over and over stays in the
            # caches and cost the client 190 instead of 650 microseconds
            # (ENC_PLAIN_SAME=1 measures that way).
            if PLAIN_SAME:
                return [(SOAP_CT, self.plain_body)] * count
            return [(SOAP_CT, bytes(bytearray(self.plain_body))) for _ in range(count)]
        return [self.session.encrypt(self.plain_body) for _ in range(count)]

    def timed(self, batch, deadline):
        """Sends the batch; returns the answers (status, headers, body)."""
        answers = []
        if PROFILER:
            PROFILER.zero()
        start, cpu = time.monotonic(), time.process_time()
        for ctype, body in batch:
            answers.append(self.client.post(body, {"Content-Type": ctype}))
            if time.monotonic() > deadline:
                break
        self.seconds += time.monotonic() - start
        cpu = time.process_time() - cpu
        if PROFILER:
            for proc, ir in PROFILER.dump(self.name).items():
                self.instructions[proc] = self.instructions.get(proc, 0) + ir
            if PERF:
                self.instructions["client"] = (self.instructions.get("client", 0)
                                               + int(cpu * 1e6))
        if len(answers) < len(batch):
            # Unsent wraps have moved the client's sequence (NTLM: its RC4
            # stream) past the server's: this connection is done.
            self.finished = True
        return answers

    def verify(self, answers):
        for st, hdrs, data in answers:
            self.n += 1
            try:
                if self.sealed and st == 200:
                    data = self.session.decrypt_response(st, hdrs, data)
                ok = st == 200 and self.want in data
                why = "HTTP %d: %r" % (st, data[:300])
            except wc.WsmanCryptError as e:
                ok, why = False, str(e)
            if ok:
                self.bytes_in += len(self.plain_body)
                self.bytes_out += len(data)
                if self.want == b"ReceiveResponse" and len(data) < REPLY_MIN:
                    self.short += 1
            else:
                self.errors += 1
                self.first_error = self.first_error or why

    def round(self, count, deadline):
        if not self.finished:
            self.verify(self.timed(self.prepare(count), deadline))

    @property
    def rate(self):
        return self.n / self.seconds if self.seconds > 0 else 0.0


class Callgrind:
    """winrmd and winrmd-priv under callgrind; zero() and dump() bracket
    a measured part (callgrind_control), dump() returns the instructions
    (Ir) of each process since zero()."""

    def __init__(self, directory, daemon):
        self.dir = os.path.abspath(directory)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o1777)   # the listener drops to its account
        self.pids = {}
        for name, binary in (("winrmd", wd.WINRMD), ("winrmd-priv", wd.HELPER)):
            path = os.path.join(daemon.tmp, name + "-callgrind")
            with open(path, "w") as f:
                f.write("#!/bin/sh\nexec valgrind --tool=callgrind --quiet "
                        "--callgrind-out-file=%s/%s.%%p.out %s \"$@\"\n"
                        % (self.dir, name, binary))
            os.chmod(path, 0o755)
            if name == "winrmd":
                wd.WINRMD = path
            else:
                daemon.tree["Daemon"]["HelperPath"] = path
        daemon.write_config()
        self.daemon = daemon

    def attach(self):
        self.pids["winrmd"] = self.daemon.proc.pid
        helpers = self.daemon.children()
        if len(helpers) != 1:
            raise RuntimeError("expected one helper process, found %s" % helpers)
        self.pids["winrmd-priv"] = helpers[0]

    def _control(self, *args):
        for pid in self.pids.values():
            subprocess.run(["callgrind_control"] + list(args) + [str(pid)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=True, timeout=120)

    def zero(self):
        self._control("-z")

    def dump(self, label):
        self._control("-d", label.replace(" ", "_"))
        out = {}
        for name, pid in self.pids.items():
            files = glob.glob(os.path.join(self.dir, "%s.%d.out.*" % (name, pid)))
            newest = max(files, key=lambda f: int(f.rsplit(".", 1)[1]))
            with open(newest) as f:
                m = re.search(r"^(?:summary|totals): (\d+)", f.read(), re.M)
            out[name] = int(m.group(1)) if m else 0
        return out


class PerfStat:
    """CPU time of winrmd and winrmd-priv in each measured part: zero()
    starts `perf stat -e task-clock` on both processes, dump() stops it
    and returns each process's CPU microseconds since zero()."""

    def __init__(self, daemon):
        self.daemon = daemon
        self.pids = {}
        self.procs = {}

    def attach(self):
        self.pids["winrmd"] = self.daemon.proc.pid
        helpers = self.daemon.children()
        if len(helpers) != 1:
            raise RuntimeError("expected one helper process, found %s" % helpers)
        self.pids["winrmd-priv"] = helpers[0]

    def zero(self):
        for name, pid in self.pids.items():
            self.procs[name] = subprocess.Popen(
                ["perf", "stat", "-x", ",", "-e", "task-clock,context-switches",
                 "-p", str(pid)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.2)                 # perf attaches asynchronously

    def dump(self, label):
        out = {}
        for name, proc in self.procs.items():
            proc.send_signal(2)
            err = proc.communicate(timeout=30)[1].decode()
            m = re.search(r"^([0-9.]+),msec,task-clock", err, re.M)
            out[name] = int(float(m.group(1)) * 1000) if m else 0
            m = re.search(r"^([0-9]+),,context-switches", err, re.M)
            out[name + " switches"] = int(m.group(1)) if m else 0
        self.procs = {}
        return out


PROFILER = None
PERF = os.environ.get("ENC_PERF")


def session(lab, url, mech, domain=None):
    c = GssClient(url, lab, "alice", mech=mech, domain=domain, timeout=60)
    st, _, _ = c.handshake(b"")
    if not c.complete or st != 200:
        raise RuntimeError("%s handshake: HTTP %d, complete=%s" % (mech, st, c.complete))
    return c


def post_plain_or_sealed(client, sealed, envelope):
    """One request outside the measurement; returns the plaintext answer."""
    body = envelope.encode()
    if sealed:
        st, _, data = wc.EncryptedSession(client).post(body)
    else:
        st, _, data = client.post(body)
    if st != 200:
        raise RuntimeError("HTTP %d: %r" % (st, data[:500]))
    return data


def receive_setup(client, sealed):
    """A shell running `cat /dev/zero` on this connection; returns the
    Receive envelope that reads its output."""
    data = post_plain_or_sealed(client, sealed, sc.envelope(
        sc.A_CREATE, sc.shell_body(), options=sc.options(("WINRS_NOPROFILE", "TRUE"))))
    sid = re.search(rb"<rsp:ShellId>([^<]+)</rsp:ShellId>", data).group(1).decode()
    data = post_plain_or_sealed(client, sealed, sc.envelope(
        sc.A_COMMAND, sc.cmdline("cat", ["/dev/zero"]), sid,
        sc.options(("WINRS_SKIP_CMD_SHELL", "TRUE"))))
    cid = re.search(rb"<rsp:CommandId>([^<]+)</rsp:CommandId>", data).group(1).decode()
    time.sleep(0.5)                     # let the output buffer fill
    return sc.envelope(sc.A_RECEIVE, sc.receive_body(cid, "stdout"), sid,
                       timeout="PT20S", max_envelope=REPLY_ENVELOPE), sid, cid


def receive_teardown(client, sealed, sid, cid):
    try:
        post_plain_or_sealed(client, sealed, sc.envelope(
            sc.A_SIGNAL, sc.signal_body(cid, sc.SIG + "terminate"), sid))
        post_plain_or_sealed(client, sealed, sc.envelope(sc.A_DELETE, "", sid))
    except Exception as e:  # noqa: BLE001 - reported, the daemon stops anyway
        print("(shell teardown: %s)" % e)


def calibrate(run, per_round):
    """Batch size for about per_round seconds, from 20 measured requests."""
    batch = run.prepare(20)
    start = time.monotonic()
    answers = run.timed(batch, start + 60)
    took = time.monotonic() - start
    run.verify(answers)
    if run.errors:
        raise RuntimeError("%s: %s" % (run.name, run.first_error))
    run.n = run.errors = 0
    run.seconds = 0.0
    run.bytes_in = run.bytes_out = 0
    run.instructions = {}
    if COUNT:
        return COUNT
    return max(10, min(BATCH_MAX, int(per_round * 20 / max(took, 1e-6))))


def main():
    if not os.path.exists(WINRMD):
        sys.exit("encryption.py: %s not built (set WINRMD_BUILDDIR)" % WINRMD)
    with Lab() as lab:
        d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True,
                                         "MaxEnvelopeSizekb": 1024},
                             "Authorization": {"TrustedDomains": ["WINRMD"]},
                             "Logging": {"Level": "notice"}})
        clients, shells = [], []
        global PROFILER
        try:
            if CALLGRIND:
                PROFILER = Callgrind(CALLGRIND, d)
            elif PERF:
                PROFILER = PerfStat(d)
            d.start()
            if PROFILER:
                PROFILER.attach()
            url = "http://localhost:%d/wsman" % d.port
            old = lab.apply_client_env("alice")
            lab.ccache("alice")
            pairs = []
            for label, mech, domain in (("Kerberos", "krb5", None),
                                        ("NTLM", "ntlm", "WINRMD")):
                if label not in METHODS:
                    continue
                for kind in KINDS:
                    runs = []
                    for sealed in (False, True):
                        c = session(lab, url, mech, domain)
                        clients.append(c)
                        if kind == "reply":
                            env, sid, cid = receive_setup(c, sealed)
                            shells.append((c, sealed, sid, cid))
                            body, want = env.encode(), b"ReceiveResponse"
                        else:
                            body = SMALL if kind == "small" else LARGE
                            want = b"IdentifyResponse"
                        runs.append(Run("%s %s %s" % (label, kind,
                                                      "encrypted" if sealed else "plain"),
                                        c, sealed, body, want))
                    pairs.append((label, kind, runs[0], runs[1]))
            per_round = DURATION / ROUNDS
            sizes = {}
            for _, _, plain, enc in pairs:
                for r in (plain, enc):
                    sizes[r] = calibrate(r, per_round)
            for _ in range(ROUNDS):
                for _, _, plain, enc in pairs:
                    for r in (plain, enc):
                        r.round(sizes[r], time.monotonic() + 3 * per_round + 5)
            for c, sealed, sid, cid in shells:
                receive_teardown(c, sealed, sid, cid)
            lab.restore_env(old)
            print("== message encryption over HTTP: one Python client per run, "
                  "keep-alive, requests prepared (and wrapped) before the clock and "
                  "checked after it, about %g s per run in %d interleaved rounds, as alice"
                  % (DURATION, ROUNDS))
            print("%-30s %9s %9s %9s %8s %7s %6s" % (
                "run", "req/s", "MB/s in", "MB/s out", "ratio", "errors", "short"))
            errors = 0
            for label, kind, plain, enc in pairs:
                for r in (plain, enc):
                    ratio = ""
                    if r is enc and plain.seconds and plain.n and enc.seconds:
                        # reply: bytes out per second (an answer may be
                        # short when the command's output lags)
                        ratio = "%.3f" % (
                            (enc.bytes_out / enc.seconds) / (plain.bytes_out / plain.seconds)
                            if kind == "reply" else enc.rate / plain.rate)
                    print("%-30s %9.1f %9.2f %9.2f %8s %7d %6s" % (
                        r.name, r.rate, r.bytes_in / r.seconds / 1e6 if r.seconds else 0,
                        r.bytes_out / r.seconds / 1e6 if r.seconds else 0,
                        ratio, r.errors, r.short if kind == "reply" else ""))
                    if r.errors:
                        print("   first error: %s" % r.first_error)
                    if r.instructions and r.n:
                        print("   %s per request: %s" % (
                            "CPU microseconds" if PERF else "instructions", ", ".join(
                                "%s %.1f" % (k, v / r.n)
                                for k, v in sorted(r.instructions.items()))))
                    errors += r.errors
            print("(ratio: encrypted/plain requests/s, for reply MB/s out; same method "
                  "and kind.  Plaintext bodies: small %d, request %d, reply %d bytes; "
                  "short: reply answers under %d bytes)"
                  % (len(SMALL), len(LARGE), len(pairs[-1][2].plain_body) if pairs else 0,
                     REPLY_MIN))
            if not d.alive():
                print("winrmd died:\n" + d.log()[-3000:])
                return 1
            if errors:
                print("%d requests failed; the daemon log ends with:\n%s"
                      % (errors, d.log()[-3000:]))
            return 1 if errors else 0
        finally:
            for c in clients:
                c.close()
            d.cleanup()


if __name__ == "__main__":
    sys.exit(main())
