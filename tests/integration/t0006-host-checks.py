#!/usr/bin/python3
"""t0006 - checks that catch a broken host:

* `winrmd -t` checks what the service will need at start, beyond the
  file's own text: the listener account, the helper program, the NTLM
  user file, Certificate without an HTTPS listener or a CA (errors); the
  keytab without an HTTP/ key (a real keytab, made with kadmin), Basic
  with AllowUnencrypted on a non-loopback address, groups NSS does not
  know, a Hostname the certificate does not name (warnings); typos
  beyond case get a suggestion; every message names FILE:LINE;
* `systemctl reload` runs the unit's ExecReload lines: the check first,
  then the signal, so a refused file fails the reload, says why, and the
  running service never sees the SIGHUP;
* at start, a missing keytab with Kerberos on is a warning in the log;
* a winrm/config Put that would make the file fail `winrmd -t` (and so
  the next start) is refused."""
import os
import re
import shlex
import subprocess
import sys

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import soap  # noqa: E402
from lab import Lab  # noqa: E402
from pki import PKI  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import (BUILDDIR, HELPER, LISTENER_RELOADED, WINRMD, lab_daemon,  # noqa: E402
                    render_config)

t = Tap()
CFG = "http://schemas.microsoft.com/wbem/wsman/1/config"
PUT = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put"


def check(lab, text, name="winrmd.conf"):
    """winrmd -t on text (in the lab's environment: its users and groups);
    returns (exit status, stderr)."""
    path = lab.path(name)
    with open(path, "w") as f:
        f.write(text)
    env = dict(os.environ, **lab.daemon_env())
    r = subprocess.run([WINRMD, "-t", "-c", path], capture_output=True, text=True, env=env,
                       timeout=30)
    return r.returncode, r.stderr, path


def base(lab, **extra):
    tree = lab.daemon_config()
    tree.setdefault("Daemon", {})["User"] = "winrmd"
    tree["Listeners"] = [{"Address": "127.0.0.1", "Port": 5985, "Transport": "HTTP"}]
    for k, v in extra.items():
        tree.setdefault(k, {}).update(v)
    return tree


def test_check(lab):
    tree = base(lab)
    tree["Daemon"]["HelperPath"] = HELPER
    rc, err, path = check(lab, render_config(tree) + "\n")
    t.eq(rc, 0, "the lab's configuration passes winrmd -t")
    t.ok("HTTP/" not in err, "its keytab holds HTTP/ keys: no keytab warning", err)

    # errors, each at its line
    text = render_config(tree).replace('User = "winrmd"', 'User = "nosuchuser"').replace(
        'HelperPath = "%s"' % HELPER, 'HelperPath = "/etc/passwd"') + "\n"
    rc, err, path = check(lab, text)
    t.eq(rc, 1, "a missing listener account and a helper that is not executable: exit 1")
    lines = text.splitlines()
    uline = next(i for i, ln in enumerate(lines, 1) if "nosuchuser" in ln)
    hline = next(i for i, ln in enumerate(lines, 1) if "/etc/passwd" in ln)
    t.contains(err, '%s:%d: Daemon.User: no such account: "nosuchuser"' % (path, uline),
               "the account, with FILE:LINE")
    t.contains(err, "%s:%d: Daemon.HelperPath: /etc/passwd is not an executable file"
               % (path, hline), "the helper, with FILE:LINE")

    t2 = base(lab, Service={"Auth": {"Certificate": True}})
    t2["Daemon"]["HelperPath"] = HELPER
    t2["Service"]["Auth"]["NtlmUserFile"] = lab.path("no-such-ntlm-file")
    text = render_config(t2) + "\n"
    rc, err, path = check(lab, text)
    t.eq(rc, 1, "Certificate without an HTTPS listener or a CA, a missing NTLM file: exit 1")
    cline = next(i for i, ln in enumerate(text.splitlines(), 1) if "Certificate = true" in ln)
    t.contains(err, "%s:%d: Service.Auth.Certificate: true, but no HTTPS listener is enabled"
               % (path, cline), "Certificate without HTTPS")
    t.contains(err, "Service.Auth.Certificate: true, but Service.Auth.ClientCAFile is not set",
               "Certificate without a CA")
    t.contains(err, "Service.Auth.NtlmUserFile: %s: No such file or directory"
               % lab.path("no-such-ntlm-file"), "the NTLM user file")

    # warnings only: exit 0
    kt = lab.path("host-only.keytab")
    lab.kadmin("addprinc -randkey host/only.example.com",
               "ktadd -k %s host/only.example.com" % kt)
    t3 = base(lab, Service={"AllowUnencrypted": True, "Auth": {"Basic": True, "Keytab": kt}},
              Authorization={"AdminGroups": ["sudo", "no-such-group"]})
    t3["Daemon"]["HelperPath"] = HELPER
    t3["Listeners"] = [{"Address": "*", "Port": 5985, "Transport": "HTTP"}]
    text = render_config(t3) + "\n"
    rc, err, path = check(lab, text)
    t.ok(rc == 0, "warnings only: exit 0", err)
    kline = next(i for i, ln in enumerate(text.splitlines(), 1) if "host-only.keytab" in ln)
    t.contains(err, "%s:%d: Service.Auth.Keytab: warning: %s holds no HTTP/ key (it holds: "
               "host/only.example.com@%s)" % (path, kline, kt, lab.realm),
               "a real keytab with only a host/ key: the warning names what it holds")
    t.contains(err, "Service.AllowUnencrypted: warning: true with Basic: passwords cross the "
               "network in clear text to the HTTP listener on every address port 5985",
               "Basic with AllowUnencrypted on every address")
    t.contains(err, 'Authorization.AdminGroups: warning: no such group: "no-such-group"',
               "a group NSS does not know")
    t.contains(err, "configuration OK", "and the file is OK")
    t3["Service"]["Auth"]["Keytab"] = lab.path("no-such.keytab")
    t3["Listeners"] = [{"Address": "127.0.0.1", "Port": 5985, "Transport": "HTTP"}]
    rc, err, path = check(lab, render_config(t3) + "\n")
    t.ok(rc == 0 and "no-such.keytab: No such file or directory: Kerberos logins will fail"
         in err, "a missing keytab: a warning", err)
    t.not_contains(err, "clear text", "Basic over a loopback listener: no warning")

    # typos beyond case
    rc, err, path = check(lab, render_config(tree) + "\nServce = { MaxTimeoutms = 1000; };\n"
                          "Logging = { Levle = \"info\"; };\n")
    t.eq(rc, 1, "typos: exit 1")
    t.ok(re.search(r":\d+: Servce: unknown setting \(did you mean Service\?\)", err),
         "a misspelt group: did you mean Service?", err)
    t.ok(re.search(r":\d+: Logging.Levle: unknown setting \(did you mean Logging.Level\?\)", err),
         "a transposition: did you mean Logging.Level?", err)


def test_hostname(lab):
    pki = PKI()
    try:
        tree = base(lab)
        tree["Daemon"]["HelperPath"] = HELPER
        tree["Listeners"].append({"Address": "127.0.0.1", "Port": 5986, "Transport": "HTTPS",
                                  "CertificateFile": pki.server, "KeyFile": pki.server_key,
                                  "Hostname": "other.example.com"})
        rc, err, path = check(lab, render_config(tree) + "\n")
        t.ok(rc == 0 and re.search(r":\d+: Listeners.\[1\].Hostname: warning: the certificate in "
                                   r"\S+ does not name other.example.com", err),
             "a Hostname the certificate does not name: a warning at the listener", err)
        tree["Listeners"][1]["Hostname"] = "localhost"
        rc, err, path = check(lab, render_config(tree) + "\n")
        t.ok(rc == 0 and "Hostname" not in err, "localhost, which it names: no warning", err)
    finally:
        pki.close()


def exec_reload_lines():
    """The ExecReload command lines of the generated unit, in order."""
    unit = os.path.join(BUILDDIR, "systemd", "winrmd.service")
    if not os.path.exists(unit):
        subprocess.run(["make", "-C", BUILDDIR, "systemd/winrmd.service"], capture_output=True)
    with open(unit) as f:
        return [ln.split("=", 1)[1].strip() for ln in f if ln.startswith("ExecReload=")]


def systemd_reload(d):
    """Runs the unit's ExecReload lines as systemd does (in order, stopping
    at the first failure), the installed winrmd replaced by the built one
    with this daemon's file, $MAINPID by its pid.  Returns (ok, output)."""
    out = []
    for line in exec_reload_lines():
        argv = shlex.split(line.replace("$MAINPID", str(d.proc.pid)))
        if os.path.basename(argv[0]) == "winrmd":
            argv = [WINRMD] + argv[1:] + ["-c", d.conf_path]
        r = subprocess.run(argv, capture_output=True, text=True, env=d.env, timeout=30)
        out.append(r.stdout + r.stderr)
        if r.returncode != 0:
            return False, "".join(out)
    return True, "".join(out)


def test_reload(lab):
    lines = exec_reload_lines()
    t.ok(len(lines) == 2 and lines[0].endswith("/winrmd -t") and "kill -HUP $MAINPID" in lines[1],
         "the unit's ExecReload checks the file, then signals", lines)
    d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}}})
    try:
        d.start()
        good = open(d.conf_path).read()
        t.contains(good, "MaxFailures = 1000;", "(the lab's file sets MaxFailures)")
        d.write_config(good.replace("MaxFailures = 1000;", "MaxFailures = 0;"))
        mark = len(d.log())
        ok, out = systemd_reload(d)
        t.ok(not ok, "a file winrmd -t refuses: the reload fails", out)
        t.ok(re.search(re.escape(d.conf_path) + r":\d+: Throttling.MaxFailures: value 0 is out of "
                       r"range", out), "and says why, with FILE:LINE (what systemctl status shows)",
             out)
        t.ok(not d.wait_log("reloading", start=mark, timeout=1),
             "the running daemon never got the SIGHUP", d.log()[mark:])
        d.write_config(good.replace("Level = \"debug\"", "Level = \"info\""))
        mark = len(d.log())
        ok, out = systemd_reload(d)
        t.ok(ok, "a good file: the reload succeeds", out)
        t.ok(d.wait_log(LISTENER_RELOADED, start=mark), "and the daemon reloads it")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()


def test_start(lab):
    """At start a missing keytab with Kerberos on is a warning."""
    gone = lab.path("gone.keytab")
    d = lab_daemon(lab, {"Service": {"Auth": {"Keytab": gone}}})
    try:
        d.start()
        t.ok(d.wait_log(r"winrmd-priv\[\d+\] warning: .*Service.Auth.Keytab: warning: %s: No such "
                        r"file or directory: Kerberos logins will fail" % re.escape(gone)),
             "the helper warns at start that the keytab is missing", d.log()[-2000:])
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()


def test_put_refused(lab):
    import base64
    carol = {"Authorization": "Basic " + base64.b64encode(b"carol:carolpw").decode()}
    d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}}})
    try:
        d.start()
        before = open(d.conf_path).read()
        body = ('<cfg:Auth xmlns:cfg="%s/service/auth"><cfg:Certificate>true</cfg:Certificate>'
                '</cfg:Auth>' % CFG)
        st, _, rb = d.post(soap.envelope(PUT, CFG + "/service/auth", body=body), carol)
        f = soap.fault(rb)
        t.ok(st == 500 and f and f[1] == "x:InvalidRepresentation" and
             b"no HTTPS listener is enabled" in rb,
             "Put Certificate=true without an HTTPS listener: refused, it would not start", rb[-700:])
        t.eq(open(d.conf_path).read(), before, "and the file is unchanged")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()


with Lab() as lab:
    t.run(test_check, lab)
    t.run(test_hostname, lab)
    t.run(test_reload, lab)
    t.run(test_start, lab)
    t.run(test_put_refused, lab)
sys.exit(t.done())
