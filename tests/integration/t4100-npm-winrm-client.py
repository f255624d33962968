#!/usr/bin/python3
"""t4100 - the npm package winrm-client, a real client whose NTLM
NEGOTIATE message omits the optional 8-byte Version field (gss-ntlmssp 1.2
refuses such messages as they arrive; the helper normalises them), sends
raw NTLMSSP under Negotiate, and puts the SOAP body on the last leg."""
import json
import os
import shutil
import socket
import subprocess
import sys

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import SRCDIR, lab_daemon  # noqa: E402

t = Tap()
# scripts/install-deps.sh installs the pinned packages there
NODE_DIR = os.environ.get("WINRMD_NODE_DIR") or "/var/cache/winrmd-tests/node"
SCRIPT = os.path.join(SRCDIR, "tests", "node", "winrm-client.js")
HOST = socket.gethostname().split(".")[0].upper()


def node(*args):
    env = dict(os.environ, WINRMD_NODE_DIR=NODE_DIR)
    r = subprocess.run(["node", SCRIPT] + list(args), capture_output=True, text=True,
                       timeout=60, env=env)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"ok": False, "error": r.stdout + r.stderr}


def main(lab):
    have = shutil.which("node") and os.path.isdir(os.path.join(NODE_DIR, "node_modules", "winrm-client"))
    t.ok(have, "node and the winrm-client package are installed (tests/run-suite.sh installs them)",
         NODE_DIR)
    if not have:
        return
    d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True},
                         "Authorization": {"TrustedDomains": ["WINRMD"]}})
    try:
        d.start()
        port = str(d.port)
        r = node("identify", "127.0.0.1", port, "WINRMD\\alice", "alicepw")
        t.ok(r.get("ok"), "winrm-client NTLM (no Version field) as WINRMD\\alice succeeds", r)
        t.contains(json.dumps(r), "IdentifyResponse", "and gets the Identify answer")
        # The claimed name is logged escaped: the backslash doubled.
        t.contains(d.log(), 'method=Negotiate/NTLM claimed="WINRMD\\\\alice" mapped=alice',
                   "authenticated by NTLM as alice")
        r = node("identify", "127.0.0.1", port, HOST + "\\alice", "alicepw")
        t.ok(r.get("ok"), "winrm-client NTLM as HOSTNAME\\alice (local account)", r)
        r = node("identify", "127.0.0.1", port, "WINRMD\\alice", "wrong")
        t.ok(not r.get("ok") and "401" in r.get("error", ""),
             "winrm-client NTLM with a wrong password: 401", r)
        d.check_alive(t, "the winrm-client requests")
    finally:
        d.cleanup()


with Lab() as lab:
    t.run(main, lab)
sys.exit(t.done())
