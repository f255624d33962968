#!/usr/bin/python3
"""t3100 - Active Directory accounts as a domain-joined host's NSS names
them, in a lab that looks like AD (lib/lab.py Lab(ad=True): realm
EXAMPLE.COM, NetBIOS domain EXAMPLE, HTTP/host.example.com in the keytab,
every user in passwd as alice, alice@example.com and EXAMPLE\\alice with
distinct uids, AD groups "winrm users@example.com", "EXAMPLE\\winrm users",
"domain admins@..."), for each Authorization.DomainAccountNames form
(Short, Qualified, DownLevel):

* Kerberos (SPNEGO for HTTP/host.example.com, and pywinrm transport=
  'kerberos' with kerberos_hostname_override), NTLM EXAMPLE\\alice and the
  UPN alice@example.com (pywinrm transport='ntlm'), and Basic
  EXAMPLE\\alice (BasicDomainAccounts, PAM) all map to the account NSS
  knows in that form: the audit line names it and its uid;
* authorization through the AD group of that form in a RemoteUsersGroup
  list, and administrators through an AD group in AdminGroups;
* a domain user whose name NSS does not know in that form is refused
  with "no such account in NSS: NAME";
* Basic refuses domain accounts without BasicDomainAccounts, and says so.
"""
import base64
import os
import sys

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from gssclient import GssClient  # noqa: E402
from lab import AD_FORMS, Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import identify_envelope, lab_daemon, log_escape, pywinrm  # noqa: E402

t = Tap()
ID = identify_envelope().encode()


def config(lab, form, **extra):
    authz = {"TrustedDomains": ["EXAMPLE"],
             "DomainAccountNames": form,
             "RemoteUsersGroup": ["nosuchgroup", lab.ad_groups[("users", form)]],
             "AdminGroups": [lab.ad_groups[("admins", form)]],
             "BasicDomainAccounts": True}
    authz.update(extra)
    return {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}},
            "Authorization": authz}


def audit_success(d, mark, claimed):
    """The success line for claimed since mark, or None."""
    want = 'claimed="%s"' % log_escape(claimed)
    for line in d.log()[mark:].splitlines():
        if " audit: authentication " in line and want in line and "result=success" in line:
            return line
    return None


def audit_authz(d, mark, nss):
    for line in d.log()[mark:].splitlines():
        if " audit: authorization " in line and " user=%s " % log_escape(nss) in line:
            return line
    return None


def check_login(d, lab, mark, what, status, claimed, user, form, role="users"):
    nss, uid = lab.ad_accounts[(user, form)]
    group = lab.ad_groups[(role, form)]
    t.eq(status, 200, "%s: %s: 200" % (form, what))
    line = audit_success(d, mark, claimed)
    t.ok(line is not None and " mapped=%s uid=%d " % (log_escape(nss), uid) in line,
         "%s: %s: mapped to %s (uid %d)" % (form, what, nss, uid), line)
    line = audit_authz(d, mark, nss)
    want = ("result=allowed role=administrator reason=\"member of admin group %s\""
            if role == "admins" else
            "result=allowed reason=\"member of remote users group %s\"") % log_escape(group)
    t.ok(line is not None and want in line,
         "%s: %s: admitted through %s" % (form, what, group), line)


def gss(d, lab, user, mech, domain=None, password=None):
    url = "http://localhost:%d/wsman" % d.port
    c = GssClient(url, lab, user, mech=mech, spn_host=lab.fqdn, domain=domain,
                  password=password)
    try:
        st, _, _ = c.handshake(ID)
        return st
    finally:
        c.close()


def basic(d, user, password):
    h = {"Authorization": "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()}
    st, _, _ = d.post(identify_envelope(), h)
    return st


def test_form(lab, form):
    d = lab_daemon(lab, config(lab, form))
    d.start()
    try:
        url = "http://localhost:%d/wsman" % d.port
        mark = len(d.log())
        st = gss(d, lab, "alice", "spnego")
        check_login(d, lab, mark, "Kerberos alice@EXAMPLE.COM (SPNEGO, HTTP/%s)" % lab.fqdn,
                    st, "alice@EXAMPLE.COM", "alice", form)

        mark = len(d.log())
        saved = lab.apply_client_env("alice")
        try:
            r, out = pywinrm(url, "kerberos", message_encryption="never",
                             kerberos_hostname_override=lab.fqdn)
        finally:
            lab.restore_env(saved)
        check_login(d, lab, mark, "pywinrm transport='kerberos'", 200 if r == "ok" else out,
                    "alice@EXAMPLE.COM", "alice", form)

        mark = len(d.log())
        st = gss(d, lab, "alice", "ntlm", domain="EXAMPLE", password="alicepw")
        check_login(d, lab, mark, "NTLM EXAMPLE\\alice", st, "EXAMPLE\\alice", "alice", form)

        mark = len(d.log())
        saved = lab.apply_client_env()
        try:
            r, out = pywinrm(url, "ntlm", "alice@example.com", "alicepw",
                             message_encryption="never")
        finally:
            lab.restore_env(saved)
        check_login(d, lab, mark, "pywinrm NTLM UPN alice@example.com",
                    200 if r == "ok" else out, "alice@example.com", "alice", form)

        mark = len(d.log())
        st = basic(d, "EXAMPLE\\alice", "alicepw")
        check_login(d, lab, mark, "Basic EXAMPLE\\alice (BasicDomainAccounts)", st,
                    "EXAMPLE\\alice", "alice", form)

        mark = len(d.log())
        st = gss(d, lab, "carol", "spnego")
        check_login(d, lab, mark, "Kerberos carol (an AD admin group)", st,
                    "carol@EXAMPLE.COM", "carol", form, role="admins")

        if form != "Short":
            mark = len(d.log())
            st = gss(d, lab, "dave", "spnego")
            t.eq(st, 401, "%s: dave, unknown to NSS in this form: 401" % form)
            nss = "dave@example.com" if form == "Qualified" else "EXAMPLE\\dave"
            want = 'reason="%s"' % log_escape("no such account in NSS: " + nss)
            t.ok(any(want in ln for ln in d.log()[mark:].splitlines()),
                 "%s: dave: refused, saying NSS has no %s" % (form, nss), d.log()[mark:])
        d.check_alive(t, "the %s logins" % form)
    finally:
        t.eq(d.stop(), 0, "%s: clean stop" % form)


def test_basic_local_only(lab):
    d = lab_daemon(lab, config(lab, "Qualified", BasicDomainAccounts=False))
    d.start()
    try:
        mark = len(d.log())
        st = basic(d, "EXAMPLE\\alice", "alicepw")
        t.eq(st, 401, "BasicDomainAccounts false: Basic EXAMPLE\\alice: 401")
        want = ('reason="Basic accepts local accounts only '
                '(Authorization.BasicDomainAccounts is false)"')
        t.ok(any(want in ln for ln in d.log()[mark:].splitlines()),
             "BasicDomainAccounts false: the refusal says why", d.log()[mark:])
        # a string RemoteUsersGroup (the older spelling) still works
    finally:
        t.eq(d.stop(), 0, "clean stop")
    d = lab_daemon(lab, config(lab, "Qualified",
                               RemoteUsersGroup=lab.ad_groups[("users", "Qualified")]))
    d.start()
    try:
        mark = len(d.log())
        st = gss(d, lab, "alice", "spnego")
        check_login(d, lab, mark, "RemoteUsersGroup as one string", st,
                    "alice@EXAMPLE.COM", "alice", "Qualified")
    finally:
        t.eq(d.stop(), 0, "clean stop")


def main():
    with Lab(ad=True) as lab:
        t.eq(lab.realm, "EXAMPLE.COM", "the lab's realm is EXAMPLE.COM")
        t.ok("HTTP/host.example.com" in lab.spns, "HTTP/host.example.com in the keytab")
        for form in AD_FORMS:
            test_form(lab, form)
        test_basic_local_only(lab)


main()
t.done()
