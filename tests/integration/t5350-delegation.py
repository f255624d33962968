#!/usr/bin/python3
"""t5350 - delegated Kerberos credentials (issue 14, item 5): a client that
asks for delegation (GSS_C_DELEG_FLAG, as pywinrm kerberos_delegation=True
or pypsrp negotiate_delegate) with a forwardable TGT from the lab's KDC
gets, in each command of its shell, KRB5CCNAME naming a FILE cache of the
shell that holds the forwarded TGT (klist inside the command), owned by
the user, mode 0600; the cache is gone once the shell is deleted.  Without
delegation KRB5CCNAME is not set.  This is the fork path (no systemd here);
t8050 does the same under systemd, with the command as a unit.  The
command gets the lab's KRB5_CONFIG (KeepEnvironment) for kvno, the second
hop."""
import os
import re
import sys
import time

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import wsmancrypt  # noqa: E402
from gssclient import Flag, GssClient  # noqa: E402
from gssshell import create_shell, delete_shell, run  # noqa: E402
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import lab_daemon  # noqa: E402

t = Tap()
# KRB5_CONFIG: the lab's realm, for kvno in the command (the second hop)
KEEP = ["LD_PRELOAD", "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP", "NSS_WRAPPER_HOSTS",
        "KRB5_CONFIG"]
FLAGS = [Flag.integrity, Flag.confidentiality, Flag.out_of_sequence_detection,
         Flag.replay_detection, Flag.mutual_authentication]


def url(d):
    return "http://localhost:%d/wsman" % d.port


PROBE = ('echo "cc=[${KRB5CCNAME-unset}]"; '
         'if [ -n "$KRB5CCNAME" ]; then f=${KRB5CCNAME#FILE:}; '
         'echo "stat=$(stat -c \'%u %a\' "$f")"; klist -f; fi')


def forwardable_ccache(lab, user):
    path = os.path.join(lab.ccache_dir, user + "-fwd.cc")
    lab._run(["kinit", "-f", user], stdin=lab.users[user].password + "\n",
             env=lab.tool_env(KRB5CCNAME="FILE:" + path))
    return path


def test_delegated(lab, d):
    alice = lab.users["alice"]
    cc = forwardable_ccache(lab, "alice")
    c = GssClient(url(d), lab, "alice", mech="krb5", flags=FLAGS + [Flag.delegate_to_peer],
                  ccache=cc)
    try:
        st, _, _ = c.handshake(b"")
        t.eq(st, 200, "Kerberos with GSS_C_DELEG_FLAG and a forwardable TGT: authenticated")
        t.ok(Flag.delegate_to_peer in c.ctx.actual_flags,
             "the context has delegation (the TGT was forwarded)", c.ctx.actual_flags)
        sess = wsmancrypt.EncryptedSession(c)
        st, sid = create_shell(sess)
        t.ok(st == 200 and sid, "a shell")
        st, out, code = run(sess, sid, PROBE)
        text = out.decode(errors="replace")
        t.diag(text.strip().replace("\n", " | "))
        m = re.search(r"cc=\[FILE:([^\]]+)\]", text)
        t.ok(code == 0 and m, "the command has KRB5CCNAME=FILE:...", text)
        path = m.group(1) if m else "/nonexistent"
        t.ok(sid.lower() in path.lower(), "... the shell's own cache (named after it)", path)
        t.contains(text, "stat=%d 600" % alice.uid, "... owned by alice, mode 0600")
        t.contains(text, "Default principal: alice@%s" % lab.realm,
                   "klist in the command: alice's credentials")
        t.ok(re.search(r"krbtgt/%s@%s" % (re.escape(lab.realm), re.escape(lab.realm)), text),
             "... a TGT (the second hop can get service tickets)", text)
        t.ok(re.search(r"Flags: [A-Za-z]*F", text), "... forwarded (flag F)", text)
        st, out, code = run(sess, sid, "kvno HTTP/localhost@%s && klist" % lab.realm)
        text = out.decode(errors="replace")
        t.ok(code == 0 and "HTTP/localhost@%s" % lab.realm in text,
             "the second hop: kvno in the command gets a service ticket with it", text)
        st2, out2, _ = run(sess, sid, 'echo "cc=[${KRB5CCNAME-unset}]"')
        t.contains(out2.decode(), "cc=[FILE:%s]" % path,
                   "a second command of the shell: the same cache")
        t.ok(os.path.exists(path), "the cache exists while the shell lives")
        t.eq(delete_shell(sess, sid), 200, "the shell deleted")
        for _ in range(50):
            if not os.path.exists(path):
                break
            time.sleep(0.1)
        t.ok(not os.path.exists(path), "the shell's cache is removed with it", path)
    finally:
        c.close()


def test_not_delegated(lab, d):
    # a forwardable TGT, but no delegation asked for
    cc = forwardable_ccache(lab, "alice")
    c = GssClient(url(d), lab, "alice", mech="krb5", flags=FLAGS, ccache=cc)
    try:
        st, _, _ = c.handshake(b"")
        t.eq(st, 200, "Kerberos without GSS_C_DELEG_FLAG: authenticated")
        sess = wsmancrypt.EncryptedSession(c)
        st, sid = create_shell(sess)
        st, out, code = run(sess, sid, PROBE)
        t.contains(out.decode(errors="replace"), "cc=[unset]",
                   "without delegation KRB5CCNAME is not set")
        delete_shell(sess, sid)
    finally:
        c.close()


with Lab() as lab:
    d = lab_daemon(lab, {"Winrs": {"KeepEnvironment": KEEP}})
    try:
        d.start()
        for fn in (test_delegated, test_not_delegated):
            t.run(fn, lab, d)
        t.ok(not [f for f in os.listdir(os.path.join(d.tmp, "krb5cc"))]
             if os.path.isdir(os.path.join(d.tmp, "krb5cc")) else True,
             "no cache left in the daemon's krb5cc directory")
        d.check_alive(t, "the delegation tests")
        t.eq(d.stop(), 0, "clean stop")
        t.not_contains(d.log(), "Sanitizer", "no sanitizer report")
    finally:
        d.cleanup()
sys.exit(t.done())
