#!/usr/bin/python3
"""t7400 - winrmctl quickconfig on files, without systemd (-noservice,
-config:FILE in a temporary directory, -hostname): listeners added to the
Listeners list and nothing else changed, the checksum line, refusal of an
edited file and -force, the self-signed certificate (names, usage,
validity, key 0600 owned by root and matching), idempotence (a second run
touches nothing), certificates for another name, expiring or with a wrong
key, a list in an included file, a file that does not load, non-root
callers and bad switches.  Every written file is checked with winrmd -t.

The group and the service (systemd) are tested in a booted container by
t8000-package.py; here RemoteUsersGroup is "" so that the host's groups are
never touched."""
import datetime
import hashlib
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from tap import Tap  # noqa: E402

t = Tap()
BUILDDIR = os.environ.get("WINRMD_BUILDDIR", ".")
SRCDIR = os.environ.get("WINRMD_SRCDIR", ".")
CTL = os.path.abspath(os.path.join(BUILDDIR, "winrmctl", "winrmctl"))
WINRMD = os.path.abspath(os.path.join(BUILDDIR, "listener", "winrmd"))
NAME = "qc-host.example.test"
MARKER = "# winrmctl quickconfig sha256:"

tmp = tempfile.mkdtemp(prefix="winrmd-t7300-")
os.chmod(tmp, 0o755)
CONF = os.path.join(tmp, "winrmd.conf")
CERT = os.path.join(tmp, "tls", "cert.pem")
KEY = os.path.join(tmp, "tls", "key.pem")


def qc(*args, prefix=(), hostname=NAME):
    cmd = list(prefix) + [CTL, "quickconfig", "-noservice", "-config:" + CONF]
    if hostname:
        cmd.append("-hostname:" + hostname)
    p = subprocess.run(cmd + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def winrmd_t(path=CONF):
    """winrmd -t on what quickconfig wrote.  winrmd -t also checks the host
    (the listener account, the helper program), and this one has no winrmd
    package installed: the copy checked names this build's helper, and
    "nobody" when the host has no winrmd account; the rest is the file."""
    text = read(path).decode()
    helper = os.path.abspath(os.path.join(BUILDDIR, "helper", "winrmd-priv"))
    try:
        user = pwd.getpwnam("winrmd").pw_name
    except KeyError:
        user = "nobody"
    if re.search(r"(?m)^Daemon\s*=", text):
        text = re.sub(r'(?m)^(\s*)#?HelperPath = "[^"]*";',
                      lambda m: '%sHelperPath = "%s";' % (m.group(1), helper), text)
        text = re.sub(r'(?m)^(\s*)User = "winrmd";', r'\1User = "%s";' % user, text)
    else:
        text += '\nDaemon = { User = "%s"; HelperPath = "%s"; };\n' % (user, helper)
    copy = os.path.join(os.path.dirname(path), "host-check.conf")
    write(copy, text)
    p = subprocess.run([WINRMD, "-t", "-c", copy], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    os.unlink(copy)
    return p.returncode, p.stdout.decode()


def sealed(body):
    """The text quickconfig writes for body (the documented marker)."""
    h = hashlib.sha256(body.encode()).hexdigest()
    return "%s%s (of the rest of this file: edited, quickconfig needs -force)\n%s" % (
        MARKER, h, body)


def openssl(*args, data=None):
    p = subprocess.run(["openssl"] + list(args), input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.decode(errors="replace")


def shipped_without_group():
    """conf/winrmd.conf with no RemoteUsersGroup (no group to create)."""
    text = read(os.path.join(SRCDIR, "conf", "winrmd.conf")).decode()
    text2 = text.replace('RemoteUsersGroup = [ "winrmusers" ];', 'RemoteUsersGroup = [ ];')
    assert text2 != text
    return text2


def listeners_of(path=CONF):
    """(transport, port, enabled) of each listener, from winrmd -T."""
    p = subprocess.run([WINRMD, "-T", "-c", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    out = p.stdout.decode()
    m = re.search(r"Listeners = \((.*?)\n\);", out, re.S)
    res = []
    for g in re.findall(r"\{(.*?)\}", m.group(1) if m else "", re.S):
        tr = re.search(r'Transport = "(\w+)"', g).group(1)
        port = int(re.search(r"Port = (\d+)", g).group(1))
        en = re.search(r"Enabled = (\w+)", g).group(1) == "true"
        res.append((tr, port, en))
    return res


def test_command_line():
    rc, out, err = qc("-?")
    t.eq(rc, 0, "-? prints help, exit 0")
    t.contains(out, "winrmctl quickconfig [-transport:http|https]", "help: synopsis")
    rc, out, err = qc("-transport:ftp")
    t.eq(rc, 2, "a bad transport is a command-line error (2)")
    t.contains(err, "-transport takes http or https", "... saying so")
    rc, out, err = qc("-frobnicate")
    t.eq(rc, 2, "an unknown switch is a command-line error (2)")
    t.contains(err, "Unknown switch", "... saying so")
    p = subprocess.run([CTL, "help", "quickconfig"], stdout=subprocess.PIPE, timeout=30)
    t.contains(p.stdout.decode(), "-noservice", "winrmctl help quickconfig")
    p = subprocess.run([CTL, "-?"], stdout=subprocess.PIPE, timeout=30)
    t.contains(p.stdout.decode(), "quickconfig, qc", "the main help lists quickconfig")
    # Not root: refused before anything is read or written.
    write(CONF, shipped_without_group())
    before = read(CONF)
    rc, out, err = qc("-transport:https", "-force",
                      prefix=("setpriv", "--reuid=65534", "--regid=65534",
                              "--clear-groups"))
    t.eq(rc, 1, "a non-root caller is refused (1)")
    t.contains(err, "run as root", "... told to run as root")
    t.eq(read(CONF), before, "... and the file is unchanged")
    t.ok(not os.path.exists(os.path.dirname(CERT)), "... and no certificate made")


def test_edited_refused_then_forced():
    write(CONF, shipped_without_group())
    before = read(CONF)
    rc, out, err = qc("-transport:https")
    t.eq(rc, 1, "an edited file that needs a change: refused (1)")
    t.contains(err, "was changed since it was installed", "... saying why")
    t.contains(err, "add a listener on HTTPS://* (port 5986)", "... and what it would do")
    t.contains(err, "create a self-signed certificate for " + NAME, "... the certificate too")
    t.contains(err, "winrmctl quickconfig -force", "... and how to go ahead")
    t.eq(read(CONF), before, "refused: the file is unchanged")
    t.ok(not os.path.exists(CERT) and not os.path.exists(KEY),
         "refused: no certificate or key made")

    # Nothing to change (HTTP is there): an edited file is fine.
    rc, out, err = qc()
    t.eq(rc, 0, "HTTP already there: nothing to change, exit 0")
    t.contains(out, "already has a WinRM listener on HTTP", "... says so")
    t.contains(out, "already set up for remote management", "... and nothing changed")
    t.eq(read(CONF), before, "... file untouched")

    rc, out, err = qc("-transport:https", "-force")
    t.ok(rc == 0, "-force: done", err)
    t.contains(out, "Created a self-signed certificate for " + NAME, "-force: certificate made")
    t.contains(out, "Created a WinRM listener on HTTPS://*", "-force: HTTPS listener created")
    t.contains(out, "has been updated for remote management", "-force: summary")
    t.not_contains(out, "listener on HTTP://*", "-force: no second HTTP listener")
    after = read(CONF).decode()
    t.ok(after.startswith(MARKER), "the written file starts with the checksum line")
    body = after.split("\n", 1)[1]
    t.eq(after, sealed(body), "the checksum is the SHA-256 of the rest")
    # only an insertion into the original text
    orig = before.decode()
    i = 0
    while i < len(orig) and orig[i] == body[i]:
        i += 1
    j = 0
    while j < len(orig) - i and orig[-1 - j] == body[-1 - j]:
        j += 1
    t.eq(i + j, len(orig), "the rest of the file is unchanged (only a group inserted)")
    t.contains(body[i:len(body) - j], 'Transport = "HTTPS";', "the inserted text is the group")
    rc, out = winrmd_t()
    t.ok(rc == 0, "winrmd -t accepts the new file", out)
    t.eq(listeners_of(), [("HTTP", 5985, True), ("HTTPS", 5986, True)],
         "listeners: HTTP 5985 and HTTPS 5986")


def test_certificate():
    st = os.stat(KEY)
    t.eq(st.st_mode & 0o7777, 0o600, "key mode 0600")
    t.eq((st.st_uid, st.st_gid), (0, 0), "key owned by root")
    st = os.stat(CERT)
    t.eq(st.st_mode & 0o7777, 0o644, "certificate mode 0644")
    rc, text = openssl("x509", "-in", CERT, "-noout", "-text")
    t.eq(rc, 0, "the certificate is PEM")
    t.contains(text, "Subject: CN = " + NAME, "CN is the host name")
    t.contains(text, "Issuer: CN = " + NAME, "self-signed")
    t.contains(text, "DNS:%s, DNS:%s" % (NAME, NAME.split(".")[0]),
               "subjectAltName: the name and the short name")
    t.contains(text, "TLS Web Server Authentication", "extendedKeyUsage serverAuth")
    t.contains(text, "CA:FALSE", "not a CA")
    t.contains(text, "Public-Key: (256 bit)", "an ECDSA key of 256 bits")
    t.contains(text, "NIST CURVE: P-256", "on P-256")
    t.contains(text, "ecdsa-with-SHA256", "signed with SHA-256")
    t.contains(text, "Digital Signature", "keyUsage digitalSignature")
    t.ok("Key Encipherment" not in text, "and not keyEncipherment (an EC key)")
    rc, end = openssl("x509", "-in", CERT, "-noout", "-enddate")
    when = datetime.datetime.strptime(end.strip().split("=", 1)[1], "%b %d %H:%M:%S %Y GMT")
    days = (when - datetime.datetime.utcnow()).days
    t.ok(360 <= days <= 366, "valid for a year (%d days left)" % days)
    _, c_pub = openssl("x509", "-in", CERT, "-noout", "-pubkey")
    _, k_pub = openssl("pkey", "-in", KEY, "-pubout")
    t.ok(c_pub and c_pub == k_pub, "the key matches the certificate")
    rc, _ = openssl("verify", "-CAfile", CERT, "-purpose", "sslserver", CERT)
    t.eq(rc, 0, "it verifies against itself as a TLS server certificate")


def test_idempotent():
    conf, cert, key = read(CONF), read(CERT), read(KEY)
    mtimes = [os.stat(p).st_mtime_ns for p in (CONF, CERT, KEY)]
    rc, out, err = qc("-transport:https")
    t.ok(rc == 0, "second run: exit 0", err)
    t.contains(out, "is valid for %s: kept" % NAME, "second run: certificate kept")
    t.contains(out, "already has a WinRM listener on HTTP and on HTTPS",
               "second run: listeners there")
    t.contains(out, "already set up for remote management", "second run: nothing changed")
    t.eq((read(CONF), read(CERT), read(KEY)), (conf, cert, key),
         "second run: files byte for byte the same")
    t.eq([os.stat(p).st_mtime_ns for p in (CONF, CERT, KEY)], mtimes,
         "second run: not even rewritten")
    t.eq(sorted(os.listdir(tmp)), ["tls", "winrmd.conf"], "no temporary file left")

    # Edited since (a comment): still nothing to change, still untouched.
    with open(CONF, "a") as f:
        f.write("# an administrator's note\n")
    conf = read(CONF)
    rc, out, err = qc("-transport:https")
    t.eq(rc, 0, "edited, nothing to change: exit 0")
    t.eq(read(CONF), conf, "edited, nothing to change: untouched")

    # Edited so that a change is needed: refused.
    write(CONF, conf.decode().replace("\t\tEnabled = true;\n\t}\n\t# An HTTPS",
                                      "\t\tEnabled = false;\n\t}\n\t# An HTTPS"))
    t.eq(listeners_of(), [("HTTP", 5985, True), ("HTTPS", 5986, False)],
         "(the HTTPS listener disabled by hand)")
    edited = read(CONF)
    rc, out, err = qc("-transport:https")
    t.eq(rc, 1, "quickconfig's file edited by hand, a change needed: refused")
    t.contains(err, "add a listener on HTTPS://*", "... it says what it would do")
    t.eq(read(CONF), edited, "... and did nothing")


def test_ours_unchanged():
    """A file with a valid checksum line is quickconfig's: changed without
    -force (the marker as documented, computed here)."""
    body = ('Authorization = { RemoteUsersGroup = ""; };\n'
            'Listeners = (\n\t{ Transport = "HTTP"; Port = 5985; }\n);\n')
    write(CONF, sealed(body))
    rc, out, err = qc("-transport:https")
    t.ok(rc == 0, "quickconfig's own file: changed without -force", err)
    t.contains(out, "Created a WinRM listener on HTTPS://*", "... HTTPS added")
    t.eq(listeners_of(), [("HTTP", 5985, True), ("HTTPS", 5986, True)],
         "... listeners HTTP and HTTPS")
    new = read(CONF).decode()
    t.eq(new, sealed(new.split("\n", 1)[1]), "... sealed again")
    t.eq(new.count(MARKER), 1, "... one checksum line")


def test_certificate_problems():
    # another name
    rc, out, err = qc("-transport:https", hostname="other.example.test")
    t.eq(rc, 1, "a certificate for another name: refused")
    t.contains(err, "is not a certificate for other.example.test", "... saying why")
    t.contains(err, "-force", "... and that -force replaces it")
    old = read(CERT)
    rc, out, err = qc("-transport:https", "-force", hostname="other.example.test")
    t.ok(rc == 0, "-force: replaced", err)
    t.contains(out, "Replaced the certificate with a self-signed certificate for "
               "other.example.test", "... saying so")
    t.ok(read(CERT) != old, "... a new certificate")
    _, text = openssl("x509", "-in", CERT, "-noout", "-subject")
    t.contains(text, "CN = other.example.test", "... for the new name")
    t.eq(os.stat(KEY).st_mode & 0o7777, 0o600, "... key still 0600")
    rc, out = winrmd_t()
    t.ok(rc == 0, "... winrmd -t accepts it", out)

    # expiring within 30 days
    rc, _ = openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", KEY,
                    "-out", CERT, "-days", "10", "-subj", "/CN=" + NAME,
                    "-addext", "subjectAltName=DNS:" + NAME)
    os.chmod(KEY, 0o600)
    rc, out, err = qc("-transport:https")
    t.eq(rc, 1, "a certificate expiring in 10 days: refused")
    t.contains(err, "expires within 30 days", "... saying why")
    rc, out, err = qc("-transport:https", "-force")
    t.ok(rc == 0, "-force: replaced", err)
    rc, end = openssl("x509", "-in", CERT, "-noout", "-checkend", str(300 * 86400))
    t.eq(rc, 0, "... by one valid for a year")

    # a key of another pair
    other = os.path.join(tmp, "other.key")
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", other)
    shutil.copy(other, KEY)
    os.chmod(KEY, 0o600)
    os.unlink(other)
    rc, out, err = qc("-transport:https")
    t.eq(rc, 1, "a key that does not match: refused")
    rc, out, err = qc("-transport:https", "-force")
    t.ok(rc == 0, "-force: a new pair", err)
    _, c_pub = openssl("x509", "-in", CERT, "-noout", "-pubkey")
    _, k_pub = openssl("pkey", "-in", KEY, "-pubout")
    t.ok(c_pub and c_pub == k_pub, "... that matches")

    # only one of the two files
    os.unlink(KEY)
    rc, out, err = qc("-transport:https")
    t.eq(rc, 1, "a certificate without its key: refused")
    rc, out, err = qc("-transport:https", "-force")
    t.ok(rc == 0, "-force: a new pair", err)
    t.ok(os.path.exists(KEY), "... the key is back")


def test_other_file_leaves_service():
    """With -config: another file than the service's, no systemd call."""
    p = subprocess.run([CTL, "quickconfig", "-config:" + CONF, "-hostname:" + NAME],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=60)
    t.eq(p.returncode, 0, "-config: another file, without -noservice: exit 0")
    t.ok(re.search(r"The WinRM service reads /\S+/winrmd\.conf, not %s: it was left "
                   r"alone" % re.escape(CONF), p.stdout), "... the service is left alone",
         p.stdout)


def test_unusable_files():
    # the list in an included file
    inc = os.path.join(tmp, "listeners.conf")
    write(inc, 'Listeners = ( { Transport = "HTTP"; } );\n')
    write(CONF, 'Authorization = { RemoteUsersGroup = ""; };\n@include "listeners.conf"\n')
    before = read(CONF)
    rc, out, err = qc("-transport:https", "-force")
    t.eq(rc, 1, "Listeners in an included file: refused")
    t.contains(err, "included file", "... naming it")
    t.eq(read(CONF), before, "... the file unchanged")
    os.unlink(inc)

    # a file that does not load
    write(CONF, 'Authorization = { RemoteUsersGroup = ""; };\nService = { Bogus = 1; };\n')
    before = read(CONF)
    rc, out, err = qc("-force")
    t.eq(rc, 1, "a file that does not load: refused")
    t.contains(err, "does not load; fix it first", "... saying so")
    t.contains(err, "Bogus", "... with winrmd's message")
    t.eq(read(CONF), before, "... the file unchanged")


try:
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root")
        sys.exit(77)
    t.run(test_command_line)
    t.run(test_edited_refused_then_forced)
    t.run(test_certificate)
    t.run(test_idempotent)
    t.run(test_ours_unchanged)
    t.run(test_certificate_problems)
    t.run(test_other_file_leaves_service)
    t.run(test_unusable_files)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(t.done())
