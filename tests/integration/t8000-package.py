#!/usr/bin/python3
"""t8000 - winrmd as users install it: the Debian package, winrmctl
quickconfig and the service under a real systemd, in a Debian root booted
with systemd-nspawn (tests/systemd/container.sh, tests/systemd/README.md).

1. tests/systemd/build-deb.sh builds winrmd_*.deb with dpkg-buildpackage
   from "make distdir" of this build tree (cached by the sources' hash)
   and lintian finds nothing;
2. "apt-get install ./winrmd_*.deb" on a fresh root (offline: every
   dependency is in the cached root): the account and the group exist, the
   unit is enabled and not started, and without a configuration a start
   is skipped (ConditionPathExists);
3. "winrmctl quickconfig": winrmd.conf from the defaults, the service
   started; again: nothing changes (same process); without the
   remote-users group: the group is created;
4. "winrmctl quickconfig -transport:https": the certificate (key 0600,
   root), the listener, a restart;
5. an administrator's edit and "systemctl reload": systemd sees
   RELOADING=1 then READY=1 from winrmd (Type=notify), same main process,
   the new values in effect; quickconfig leaves the edited file alone;
6. pywinrm from the host, in the container's network namespace: NTLM over
   HTTP (message encryption) and over HTTPS validating the generated
   certificate (and failing against another CA);
7. "systemctl stop" ends every process of a shell with a command running;
8. "dpkg --purge" leaves nothing of winrmd behind (compared with a list
   of the root's files taken before installing), but the account and the
   group (Debian keeps system accounts; debian/README.Debian).

Run as root; needs mmdebstrap, systemd-container, zstd, dpkg-dev,
debhelper, lintian (scripts/install-deps.sh test) and python3-winrm."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from container import Container, SRCDIR  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
BUILDDIR = os.path.abspath(os.environ.get("WINRMD_BUILDDIR", "."))
HOST = "winrmd-test"
DOMAIN = "example.test"
FQDN = HOST + "." + DOMAIN
USER, PASSWORD = "alice", "Secret-t8000"
NTLM_FILE = "/var/lib/winrmd-test/ntlm-users"
CONF = "/etc/winrmd/winrmd.conf"
MARKER = "# winrmctl quickconfig sha256:"
timings = {}

# The client, run by the host's python3 in the container's network
# namespace: the container's FQDN resolves to its loopback.
CLIENT = r'''
import socket, sys, winrm
from winrm.protocol import Protocol
FQDN, USER, PASSWORD = sys.argv[1:4]
mode, url = sys.argv[4:6]
ca = sys.argv[6] if len(sys.argv) > 6 else None
_gai = socket.getaddrinfo
socket.getaddrinfo = lambda h, *a, **k: _gai("127.0.0.1" if h == FQDN else h, *a, **k)
kw = {}
if ca:
    kw = dict(server_cert_validation="validate", ca_trust_path=ca)
if mode == "run":
    s = winrm.Session(url, auth=(USER, PASSWORD), transport="ntlm", **kw)
    r = s.run_cmd("id -un")
    print("rc=%d out=%s err=%s" % (r.status_code, r.std_out.decode().strip(),
                                   r.std_err.decode().strip()))
else:  # "long": a shell with a command that keeps running, left open
    p = Protocol(url, transport="ntlm", username=USER, password=PASSWORD, **kw)
    shell = p.open_shell()
    p.run_command(shell, "sleep 600 & sleep 601")
    print("shell=%s" % shell)
'''

OPENSSL_LEGACY = """openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
"""

# Not part of the comparison before/after: what changes by itself or by
# the test's own steps (users, logs, apt's and dpkg's state).
SNAPSHOT = (r"find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run"
            r" -o -path /tmp -o -path /var/tmp -o -path /var/log -o -path /var/cache"
            r" -o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/lib/systemd"
            r" -o -path /home -o -path /root -o -path /var/lib/winrmd-test \) -prune"
            r" -o -print | sort")
# Files the test's useradd/groupdel touch (backups of the account files).
ACCOUNT_FILES = re.compile(r"^/etc/(passwd|group|shadow|gshadow|subuid|subgid)-?$")


def timed(name, fn, *args):
    t0 = time.monotonic()
    try:
        return fn(*args)
    finally:
        timings[name] = time.monotonic() - t0


def build_deb():
    p = subprocess.run([os.path.join(SRCDIR, "tests", "systemd", "build-deb.sh"), BUILDDIR],
                       capture_output=True, text=True, timeout=1800)
    t.diag(p.stderr.strip())
    deb = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    t.ok(p.returncode in (0, 3) and os.path.isfile(deb),
         "dpkg-buildpackage -us -uc -b builds the package", p.stderr)
    t.ok(p.returncode == 0, "lintian: no errors or warnings (overrides explained)",
         p.stderr)
    return deb if os.path.isfile(deb) else None


def active(ct):
    return ct.sh("systemctl is-active winrmd").stdout.strip()


def main_pid(ct):
    return ct.sh("systemctl show -p MainPID --value winrmd").stdout.strip()


def client(ct, tmp, mode, url, ca=None):
    args = ["/usr/bin/python3", os.path.join(tmp, "client.py"), FQDN,
            HOST.upper() + "\\" + USER, PASSWORD, mode, url]
    if ca:
        args.append(ca)
    return ct.netns(args, env={"OPENSSL_CONF": os.path.join(tmp, "openssl.cnf")},
                    timeout=120)


def install(ct, deb):
    ct.copy_in(deb, "/root/" + os.path.basename(deb))
    r = ct.sh("cd /root && apt-get install -y ./%s" % os.path.basename(deb), timeout=300)
    t.ok(r.returncode == 0, "apt-get install ./%s (offline)" % os.path.basename(deb),
         r.stdout[-2000:] + r.stderr)
    t.eq(ct.sh("systemctl is-enabled winrmd").stdout.strip(), "enabled",
         "installed: the service is enabled")
    t.eq(active(ct), "inactive", "installed: ... and not started")
    t.contains(ct.sh("getent passwd winrmd").stdout, "winrmd:x:",
               "installed: the account winrmd exists (sysusers)")
    t.contains(ct.sh("getent group winrmusers").stdout, "winrmusers:x:",
               "installed: the group winrmusers exists")
    t.eq(ct.read(CONF), None, "installed: no winrmd.conf yet")
    t.ok(ct.read("/usr/share/winrmd/winrmd.conf") is not None,
         "installed: the default in /usr/share/winrmd")
    st = ct.stat("/usr/libexec/winrmd/winrmd-priv")
    t.eq(st.st_mode & 0o7777, 0o755, "installed: the helper in /usr/libexec/winrmd")
    t.ok(ct.read("/usr/share/man/man1/winrmctl.1.gz") is not None, "installed: man pages")
    t.ok(ct.read("/etc/pam.d/winrmd") is not None, "installed: the PAM service")
    ct.sh("systemctl start winrmd")
    t.eq(active(ct), "inactive", "not configured: a start is skipped")
    t.contains(ct.sh("journalctl -u winrmd --no-pager").stdout,
               "unmet condition check (ConditionPathExists=/etc/winrmd/winrmd.conf)",
               "... by its condition, not failed")


def quickconfig_http(ct):
    r = ct.run(["winrmctl", "quickconfig"])
    t.eq(r.returncode, 0, "quickconfig: exit 0")
    t.contains(r.stdout, "Created /etc/winrmd/winrmd.conf from the defaults",
               "quickconfig: winrmd.conf created")
    t.contains(r.stdout, "Started the WinRM service", "quickconfig: service started")
    t.contains(r.stdout, "no keytab /etc/krb5.keytab", "quickconfig: says there is no keytab")
    t.contains(r.stdout, "HTTP/" + FQDN, "... naming the principal for the FQDN")
    t.eq(active(ct), "active", "systemctl is-active winrmd: active")
    conf = (ct.read(CONF) or b"").decode()
    t.ok(conf.startswith(MARKER), "winrmd.conf has quickconfig's checksum line")
    t.eq(conf.split("\n", 1)[1].encode(), ct.read("/usr/share/winrmd/winrmd.conf"),
         "... and otherwise is the shipped default")
    pid = main_pid(ct)

    ct.sh("groupdel winrmusers")
    r = ct.run(["winrmctl", "quickconfig"])
    t.eq(r.returncode, 0, "quickconfig without the group: exit 0")
    t.contains(r.stdout, "Created the group winrmusers", "... the group created")
    t.contains(ct.sh("getent group winrmusers").stdout, "winrmusers:x:", "... it exists")

    r = ct.run(["winrmctl", "qc"])
    t.eq(r.returncode, 0, "qc again: exit 0")
    t.contains(r.stdout, "already set up for remote management", "qc again: nothing to do")
    t.eq(main_pid(ct), pid, "qc again: the service was not restarted")
    t.eq((ct.read(CONF) or b"").decode(), conf, "qc again: winrmd.conf unchanged")


def quickconfig_https(ct, tmp):
    pid = main_pid(ct)
    r = ct.run(["winrmctl", "quickconfig", "-transport:https"])
    t.eq(r.returncode, 0, "quickconfig -transport:https: exit 0")
    t.contains(r.stdout, "Created a self-signed certificate for " + FQDN,
               "https: certificate for the FQDN")
    t.contains(r.stdout, "Created a WinRM listener on HTTPS://*", "https: listener created")
    t.contains(r.stdout, "Restarted the WinRM service", "https: service restarted")
    t.ok(main_pid(ct) != pid, "https: a new main process")
    t.eq(active(ct), "active", "https: active")
    st = ct.stat("/etc/winrmd/tls/key.pem")
    t.eq((st.st_mode & 0o7777, st.st_uid, st.st_gid), (0o600, 0, 0),
         "https: key 0600, owned by root")
    log = ct.sh("journalctl -u winrmd --no-pager").stdout
    t.contains(log, "listening on https://*:5986/wsman", "https: winrmd listens on 5986")
    cert = os.path.join(tmp, "cert.pem")
    with open(cert, "wb") as f:
        f.write(ct.read("/etc/winrmd/tls/cert.pem"))
    r = ct.run(["winrmctl", "quickconfig", "-transport:https"])
    t.eq(r.returncode, 0, "https again: exit 0")
    t.contains(r.stdout, "is valid for %s: kept" % FQDN, "https again: certificate kept")
    t.contains(r.stdout, "already set up", "https again: nothing to do")
    return cert


def edit_and_reload(ct):
    ct.sh("useradd -m -s /bin/sh %s && echo %s:%s | chpasswd && usermod -aG winrmusers %s"
          % (USER, USER, PASSWORD, USER))
    ct.sh("mkdir -p %s && printf '%s:%s:%s\\n' > %s/ntlm-users && chmod 600 %s/ntlm-users"
          % (os.path.dirname(NTLM_FILE), HOST.upper(), USER, PASSWORD,
             os.path.dirname(NTLM_FILE), os.path.dirname(NTLM_FILE)))
    r = ct.sh("sed -i 's|NtlmUserFile = \"\";|NtlmUserFile = \"%s\";|; "
              "s|MaxEnvelopeSizekb = 500;|MaxEnvelopeSizekb = 600;|' %s" % (NTLM_FILE, CONF))
    t.eq(r.returncode, 0, "an administrator edits winrmd.conf")
    pid = main_pid(ct)
    cursor = ct.sh("journalctl -n 0 --show-cursor --no-pager | sed -n 's/^-- cursor: //p'"
                   ).stdout.strip()
    # systemd logs the notifications it gets only at debug level
    ct.sh("systemd-analyze log-level debug")
    r = ct.sh("systemctl reload winrmd")
    ct.sh("systemd-analyze log-level info")
    t.eq(r.returncode, 0, "systemctl reload winrmd: exit 0", )
    log = ct.sh("journalctl --no-pager --after-cursor='%s'" % cursor).stdout
    rl = log.find("(RELOADING=1")
    rd = log.find("(READY=1", rl)
    t.ok(rl >= 0, "reload: systemd got RELOADING=1 from winrmd", log[-3000:])
    t.ok(rd > rl, "reload: then READY=1", log[-3000:])
    t.contains(log, "reload: configuration reloaded", "reload: winrmd applied the file")
    t.eq(main_pid(ct), pid, "reload: same main process")
    t.eq(active(ct), "active", "reload: still active")
    r = ct.run(["winrmctl", "get", "winrm/config"])
    t.contains(r.stdout, "MaxEnvelopeSizekb = 600", "reload: the new value is in effect")
    before = ct.read(CONF)
    r = ct.run(["winrmctl", "quickconfig", "-transport:https"])
    t.eq(r.returncode, 0, "quickconfig after the edit: nothing to change, exit 0")
    t.eq(ct.read(CONF), before, "... the administrator's file untouched")


def clients(ct, tmp, cert):
    r = client(ct, tmp, "run", "http://%s:5985/wsman" % FQDN)
    t.contains(r.stdout, "rc=0 out=%s" % USER, "pywinrm NTLM over HTTP: runs as %s" % USER,
               ) or t.diag(r.stderr[-2000:])
    r = client(ct, tmp, "run", "https://%s:5986/wsman" % FQDN, cert)
    t.contains(r.stdout, "rc=0 out=%s" % USER,
               "pywinrm NTLM over HTTPS, validating the generated certificate") or \
        t.diag(r.stderr[-2000:])
    other = "/etc/ssl/certs/ca-certificates.crt"
    if os.path.exists(other):
        r = client(ct, tmp, "run", "https://%s:5986/wsman" % FQDN, other)
        t.ok(r.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in r.stderr,
             "... and refusing it against other CAs", r.stdout + r.stderr[-1000:])


def stray(ct):
    """The user's processes but the user manager (logind's user@UID)."""
    ps = ct.sh("ps -u %s -o pid=,cgroup:1000=,args=" % USER).stdout
    return [ln for ln in ps.splitlines() if ln.strip() and "/user@" not in ln]


def stop_ends_shells(ct, tmp):
    r = client(ct, tmp, "long", "http://%s:5985/wsman" % FQDN)
    t.ok("shell=" in r.stdout, "a shell with a running command", r.stderr[-2000:])
    for _ in range(50):
        if len([ln for ln in stray(ct) if "sleep 60" in ln]) >= 2:
            break
        time.sleep(0.1)
    procs = stray(ct)
    t.ok(len([ln for ln in procs if "sleep 60" in ln]) >= 2,
         "its processes run (the command and its background child)", "\n".join(procs))
    t0 = time.monotonic()
    r = ct.sh("systemctl stop winrmd")
    t1 = time.monotonic()
    t.eq(r.returncode, 0, "systemctl stop winrmd: exit 0")
    t.eq(active(ct), "inactive", "stopped")
    for _ in range(200):
        if not stray(ct):
            break
        time.sleep(0.1)
    t.diag("systemctl stop took %.1f s, the shell's processes were gone %.1f s after "
           "it returned" % (t1 - t0, time.monotonic() - t1))
    t.eq(stray(ct), [], "systemctl stop ended every process of the shell")


def purge(ct, before):
    r = ct.sh("dpkg --purge winrmd", timeout=300)
    t.eq(r.returncode, 0, "dpkg --purge winrmd: exit 0")
    after = ct.sh(SNAPSHOT, timeout=300).stdout.splitlines()
    new = [p for p in sorted(set(after) - set(before)) if not ACCOUNT_FILES.match(p)]
    t.eq(new, [], "purged: no file left that was not there before the installation")
    for p in ("/etc/winrmd", "/lib/systemd/system/winrmd.service",
              "/etc/systemd/system/multi-user.target.wants/winrmd.service",
              "/usr/libexec/winrmd", "/usr/share/winrmd", "/etc/pam.d/winrmd"):
        t.ok(ct.read(p) is None and not os.path.lexists(
            "/proc/%s/root%s" % (ct.leader, p)), "purged: %s is gone" % p)
    t.eq(ct.sh("ls /var/lib/systemd/deb-systemd-helper-enabled | grep -c winrmd").stdout.strip(),
         "0", "purged: deb-systemd-helper forgot the unit")
    t.contains(ct.sh("getent passwd winrmd").stdout, "winrmd:x:",
               "purged: the account stays (Debian keeps system accounts)")


def run():
    deb = timed("build-deb", build_deb)
    if deb is None:
        return
    tmp = tempfile.mkdtemp(prefix="winrmd-t8000-")
    os.chmod(tmp, 0o755)
    with open(os.path.join(tmp, "client.py"), "w") as f:
        f.write(CLIENT)
    with open(os.path.join(tmp, "openssl.cnf"), "w") as f:
        f.write(OPENSSL_LEGACY)
    try:
        with Container("t8000") as ct:
            ct.write("/etc/hostname", HOST + "\n")
            ct.write("/etc/hosts", "127.0.0.1 localhost\n127.0.1.1 %s %s\n" % (FQDN, HOST))
            ct.start()
            t.eq(ct.sh("systemctl is-system-running").stdout.strip(), "running",
                 "the container booted systemd (running)")
            before = ct.sh(SNAPSHOT, timeout=300).stdout.splitlines()
            timed("install", install, ct, deb)
            timed("quickconfig", quickconfig_http, ct)
            cert = timed("quickconfig-https", quickconfig_https, ct, tmp)
            timed("reload", edit_and_reload, ct)
            timed("clients", clients, ct, tmp, cert)
            timed("stop", stop_ends_shells, ct, tmp)
            timed("purge", purge, ct, before)
            timings.update(ct.timings)
        timings["halt"] = ct.timings.get("halt", 0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if os.geteuid() != 0:
    print("1..0 # SKIP needs root")
    sys.exit(77)
t0 = time.monotonic()
t.run(run)
timings["total"] = time.monotonic() - t0
t.diag("timings (s): " + ", ".join("%s %.1f" % kv for kv in timings.items()))
sys.exit(t.done())
