#!/usr/bin/python3
"""t5250 - bulk shell I/O with bench/wsman-stream, the C WinRM client the
streaming benchmarks use (pywinrm's envelopes, one request at a time on
one keep-alive connection): 20 MiB of a command's stdout arrive complete
(the client checks every byte), and 20 MiB sent through rsp:Send land in a
file byte for byte, and no answer exceeds the client's envelope (the
benchmark's figures are only meaningful if these hold)."""
import hashlib
import os
import re
import subprocess
import sys
import tempfile

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from lab import Lab  # noqa: E402
from shellclient import Client, esc  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import BUILDDIR, lab_daemon  # noqa: E402

t = Tap()
CLIENT = os.path.join(BUILDDIR, "bench", "wsman-stream")
BYTES = 20 * 1024 * 1024
ENVELOPE = 153600
CHUNK = (ENVELOPE - 4096) // 4 * 3     # what the client puts in one Send


def run(d, *args):
    r = subprocess.run([CLIENT, str(d.port), "alice", "alicepw"] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=300)
    m = re.match(r"bytes=(\d+) seconds=([\d.]+) requests=(\d+)$", r.stdout.strip())
    return r, m


def test_stdout(d):
    r, m = run(d, "out", BYTES)
    t.ok(r.returncode == 0 and m and int(m.group(1)) == BYTES,
         "20 MiB of stdout received, every byte checked by the client", (r.stdout, r.stderr))
    if m:
        # One Receive carries at most what fits pywinrm's envelope (~110
        # KiB of output), so at least BYTES / 112 KiB Receives.  No upper
        # bound: on a busy machine the command writes slower than the
        # client asks, and each Receive returns what is there.
        least = BYTES // CHUNK
        t.ok(int(m.group(3)) >= least,
             "%s requests for 20 MiB: none over the envelope's budget (at least %d)"
             % (m.group(3), least))


def test_stdin(d, work):
    target = os.path.join(work, "copy")
    r, m = run(d, "in", BYTES, target)
    t.ok(r.returncode == 0 and m and int(m.group(1)) == BYTES,
         "20 MiB sent through rsp:Send into cat > file", (r.stdout, r.stderr))
    piece = bytes((i * 131 + 7) & 0xFF for i in range(CHUNK))
    want = hashlib.sha256()
    left = BYTES
    while left:
        want.update(piece[:min(left, CHUNK)])
        left -= min(left, CHUNK)
    got = hashlib.sha256()
    size = 0
    if os.path.exists(target):
        with open(target, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                got.update(block)
                size += len(block)
    t.eq((size, got.hexdigest()), (BYTES, want.hexdigest()),
         "the file has every byte once, in order (size, SHA-256)")
    st = os.stat(target) if os.path.exists(target) else None
    t.eq(st and st.st_uid, 20001, "written by the command as alice (uid 20001)")


def test_pipe_sizes(d):
    """A command's stdin and stdout pipes hold 256 KiB (a bulk stream
    costs a quarter of the wake-ups); stderr keeps Linux's 64 KiB."""
    c = Client(d)
    sid = c.create().sid
    # F_GETPIPE_SZ is 1032; each descriptor asked from the command's side
    probe = ("import fcntl, sys\n"
             "print(*(fcntl.fcntl(fd, 1032) for fd in (0, 1, 2)))\n")
    cid = c.command(sid, esc("python3 -c '%s'" % probe)).cid
    out, err, code, _ = c.drain(sid, cid)
    t.eq((out.split(), code), ([b"262144", b"262144", b"65536"], 0),
         "F_GETPIPE_SZ of stdin, stdout, stderr in the command")
    c.delete(sid)


t.ok(os.access(CLIENT, os.X_OK), "bench/wsman-stream is built (make check builds it)", CLIENT)
with Lab() as lab, tempfile.TemporaryDirectory() as work:
    os.chmod(work, 0o1777)
    d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}}})
    try:
        d.start()
        t.run(test_stdout, d)
        t.run(test_stdin, d, work)
        t.run(test_pipe_sizes, d)
        d.check_alive(t, "the streaming tests")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()
sys.exit(t.done())
