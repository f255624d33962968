"""container.py - a booted Debian root with systemd as PID 1, for tests
(Python face of tests/systemd/container.sh; see tests/systemd/README.md).

    with Container("t8000") as ct:          # restores the cached root
        ct.write("/etc/hostname", "host\\n") # before boot: into the root
        ct.start()                           # boots it (~1-3 s)
        r = ct.sh("systemctl is-system-running")   # CompletedProcess (text)
        ct.copy_in(deb, "/root/x.deb")
        ct.netns(["/usr/bin/python3", "client.py"])  # host program, its network
    # halted, cleaned up (cgroups, nspawn leftovers) and its root deleted

The container has no network but its own loopback; host programs reach
its services at 127.0.0.1 through netns().  Every call has a timeout.
"""
import os
import shutil
import subprocess
import time

SRCDIR = os.environ.get("WINRMD_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SCRIPT = os.path.join(SRCDIR, "tests", "systemd", "container.sh")
ROOTS = "/var/tmp/winrmd-tests"


class ContainerError(Exception):
    pass


class Container:
    def __init__(self, tag):
        # unique among concurrent runs: the tag and our PID
        self.name = "winrmd-%s-%d" % (tag, os.getpid())
        self.root = os.path.join(ROOTS, self.name)
        self.started = False
        self.timings = {}

    def _script(self, *args, timeout=600):
        p = subprocess.run([SCRIPT] + list(args), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise ContainerError("container.sh %s: %s%s" % (
                " ".join(args), p.stdout, p.stderr))
        return p

    def __enter__(self):
        os.makedirs(ROOTS, exist_ok=True)
        t0 = time.monotonic()
        self._script("rootfs", self.root, timeout=900)
        self.timings["rootfs"] = time.monotonic() - t0
        return self

    def __exit__(self, *exc):
        self.destroy()
        return False

    def write(self, path, text, mode=0o644):
        """Writes a file inside (before or after boot)."""
        base = "/proc/%s/root" % self.leader if self.started else self.root
        full = os.path.join(base, path.lstrip("/"))
        with open(full, "w") as f:
            f.write(text)
        os.chmod(full, mode)

    def read(self, path):
        """Reads a file inside (bytes), or None."""
        base = "/proc/%s/root" % self.leader if self.started else self.root
        try:
            with open(os.path.join(base, path.lstrip("/")), "rb") as f:
                return f.read()
        except OSError:
            return None

    def stat(self, path):
        base = "/proc/%s/root" % self.leader if self.started else self.root
        return os.stat(os.path.join(base, path.lstrip("/")))

    def start(self):
        t0 = time.monotonic()
        p = self._script("start", self.name, self.root, timeout=120)
        self.leader = p.stdout.strip().splitlines()[-1]
        self.started = True
        self.timings["boot"] = time.monotonic() - t0

    def run(self, argv, input=None, timeout=120):
        """argv inside, in all the container's namespaces, as root."""
        return subprocess.run([SCRIPT, "exec", self.name] + list(argv), input=input,
                              capture_output=True, text=True, timeout=timeout)

    def sh(self, script, input=None, timeout=120):
        """A shell script inside."""
        return self.run(["/bin/sh", "-c", script], input=input, timeout=timeout)

    def netns(self, argv, env=None, timeout=120):
        """A host program in the container's network namespace."""
        e = dict(os.environ)
        e.update(env or {})
        return subprocess.run([SCRIPT, "netns", self.name] + list(argv),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              env=e, timeout=timeout)

    def copy_in(self, src, dst):
        self._script("cp", self.name, src, dst)

    def destroy(self):
        t0 = time.monotonic()
        try:
            self._script("destroy", self.name, timeout=120)
        finally:
            self.started = False
            # a root that never booted has no state for "destroy"
            if os.path.isdir(self.root):
                shutil.rmtree(self.root, ignore_errors=True)
        self.timings["halt"] = time.monotonic() - t0
