#!/usr/bin/python3
"""t0005 - the module graph of each program has no cycle: lower layers
never include upper ones (scripts/include-cycles.py; a module is a .c and
its .h)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from tap import Tap  # noqa: E402

SRC = os.environ.get("WINRMD_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
t = Tap()
for part in ("listener", "helper", "winrmctl", "lib"):
    p = subprocess.run([sys.executable, os.path.join(SRC, "scripts", "include-cycles.py"), part],
                       cwd=SRC, capture_output=True, text=True)
    t.ok(p.returncode == 0, "%s: no include cycle" % part, p.stdout + p.stderr)
sys.exit(t.done())
