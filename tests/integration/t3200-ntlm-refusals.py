#!/usr/bin/python3
"""t3200 - a workgroup set-up (NTLM against the NTLM user file): every
refusal says why in its audit line.  gss-ntlmssp itself reports an unknown
user as "No such file or directory", a user under another domain than the
client sent (HOST\\demo against a WORKGROUP:demo line) as "Permission
denied" and a wrong password as "Invalid argument"; the helper reads the
user file and says which it was (helper/ntlm-users.c).  Clients: pywinrm
transport='ntlm' (requests_ntlm, raw NTLMSSP under Negotiate) and the
python-gssapi client (SPNEGO-wrapped NTLM)."""
import os
import sys

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from gssclient import GssClient  # noqa: E402
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import audit_fields, identify_envelope, lab_daemon, log_escape, pywinrm  # noqa: E402

t = Tap()
ID = identify_envelope().encode()


def reason_of(d, mark, claimed):
    """The reason of the one failure audit line for claimed since mark."""
    want = '"%s"' % log_escape(claimed)
    for line in d.log()[mark:].splitlines():
        if " audit: authentication " not in line or "result=failure" not in line:
            continue
        f = dict(audit_fields(line))
        if f.get("claimed") == want:
            r = f.get("reason", "")
            return log_unescape(r[1:-1]) if r.startswith('"') else r
    return None


def log_unescape(s):
    return s.replace('\\"', '"').replace("\\\\", "\\")


def main():
    with Lab() as lab:
        users = lab.path("workgroup_users")
        with open(lab.ntlm_file) as f:
            text = f.read()
        # the demo.sh case: a WORKGROUP line, the client sends HOST\demo
        text += "WORKGROUP:alice:alicepw\n"
        fd = os.open(users, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        host = lab.local_domain
        d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True,
                                         "Auth": {"NtlmUserFile": users}},
                             "Authorization": {"TrustedDomains": ["WINRMD"]}})
        d.start()
        try:
            url = "http://localhost:%d/wsman" % d.port
            saved = lab.apply_client_env()
            try:
                cases = [
                    ("WINRMD\\zed", "zedpw", "unknown user: the NTLM user file %s has no "
                     "line for WINRMD\\zed (lines are DOMAIN:USER:PASSWORD)" % users),
                    ("zed", "zedpw", "unknown user: the NTLM user file %s has no "
                     "line for zed (lines are DOMAIN:USER:PASSWORD)" % users),
                    ("WINRMD\\alice", "wrong", "wrong password (the NTLM response does not "
                     "match the entry for WINRMD\\alice in %s)" % users),
                    ("NOSUCH\\carol", "carolpw",
                     "carol is in the NTLM user file %s only under domain WINRMD, %s, "
                     "not NOSUCH: the domain a client sends must be the one of the "
                     "file's line (log in as WINRMD\\carol, or add a line "
                     "NOSUCH:carol:PASSWORD)" % (users, host)),
                    ("WORKGROUP\\alice", "alicepw",
                     "domain not in Authorization.TrustedDomains"),
                ]
                for user, pw, want in cases:
                    mark = len(d.log())
                    r, _ = pywinrm(url, "ntlm", user, pw, message_encryption="never")
                    t.eq(r, "InvalidCredentialsError", "pywinrm ntlm %s: 401" % user)
                    got = reason_of(d, mark, user)
                    t.eq(got, want, "%s: the audit line says why" % user)
                    t.ok(got is not None and "GSS failure" not in got
                         and "No such file" not in got and "Permission denied" not in got,
                         "%s: no bare GSSAPI errno text" % user)
            finally:
                lab.restore_env(saved)

            # The same through SPNEGO-wrapped NTLM (python-gssapi): the
            # demo.sh case, a user known only under WORKGROUP, as HOST\user.
            with open(users, "a") as f:
                f.write("WORKGROUP:demo:demopw\n")
            mark = len(d.log())
            c = GssClient(url, lab, "demo", mech="spnego-ntlm", domain=host, password="demopw")
            try:
                st, _, _ = c.handshake(ID)
                t.eq(st, 401, "SPNEGO(NTLM) %s\\demo: 401" % host)
            finally:
                c.close()
            t.eq(reason_of(d, mark, "%s\\demo" % host),
                 "demo is in the NTLM user file %s only under domain WORKGROUP, not %s: "
                 "the domain a client sends must be the one of the file's line (log in "
                 "as WORKGROUP\\demo, or add a line %s:demo:PASSWORD)" % (users, host, host),
                 "HOST\\demo against a WORKGROUP:demo line: the audit line says why")

            # An unreadable file is named as such.
            os.rename(users, users + ".away")
            mark = len(d.log())
            saved = lab.apply_client_env()
            try:
                r, _ = pywinrm(url, "ntlm", "WINRMD\\alice", "alicepw",
                               message_encryption="never")
            finally:
                lab.restore_env(saved)
            t.eq(r, "InvalidCredentialsError", "user file missing: 401")
            t.eq(reason_of(d, mark, "WINRMD\\alice"),
                 "the NTLM user file %s cannot be read: No such file or directory" % users,
                 "user file missing: the audit line names the file")
            os.rename(users + ".away", users)
            d.check_alive(t, "the NTLM refusals")
        finally:
            t.eq(d.stop(), 0, "clean stop")


main()
t.done()
