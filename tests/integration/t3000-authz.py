#!/usr/bin/python3
"""t3000 - authorization end to end: real clients (python-gssapi Kerberos
and NTLM, Basic) against the real daemon and its helper, checking how
identities map to local accounts (HOSTNAME\\user local accounts, trusted
and untrusted domains, Kerberos auth_to_local) and what the group rules
decide (root, Authorization.AdminGroups, RemoteUsersGroup, primary and
supplementary groups, LocalAccountTokenFilterPolicy for NTLM local
accounts).

Every check asserts the exact HTTP status, the WWW-Authenticate list of a
401, the fault (s:Sender, w:AccessDenied, WSManFault code 5) of a 500, and
the audit lines the helper writes for the decision."""
import base64
import os
import re
import sys

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import lab as labmod  # noqa: E402
import soap  # noqa: E402
from gssclient import GssClient  # noqa: E402
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import identify_envelope, lab_daemon, log_escape, merge  # noqa: E402

t = Tap()
ID = identify_envelope().encode()
CHALLENGES = 'Negotiate\nKerberos\nBasic realm="WSMAN"'
UID = {name: uid for name, uid, _ in labmod.LAB_USERS}
UID["root"] = 0
NOT_MEMBER = "not root and not a member of an admin group or of the remote users group"
UNTRUSTED = "domain not in Authorization.TrustedDomains"


def filtered(group):
    return ("member of %s, but a local account over NTLM is not an administrator "
            "while LocalAccountTokenFilterPolicy is 0" % group)


def config(**authz):
    """Basic on, plain HTTP allowed (no message encryption in these
    clients), WINRMD trusted unless overridden, plus Authorization.*."""
    cfg = {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}},
           "Authorization": {"TrustedDomains": ["WINRMD"]}}
    return merge(cfg, {"Authorization": authz})


class Overlay:
    """Extra lab files in lab.dir/t3000 (the lab itself is left alone):
    an NTLM user file that also knows OTHERDOM (so that an untrusted domain
    gets past gss-ntlmssp and is refused by the mapping, not by a failed
    password check), and for the mapping tests a krb5.conf with
    auth_to_local rules, and passwd/PAM entries for frank (primary group
    winrmusers, in no group's member list) and gina (primary group sudo)."""

    EXTRA = {"frank": (20010, labmod.EXTRA_GROUPS["winrmusers"]),
             "gina": (20011, labmod.EXTRA_GROUPS["sudo"])}

    def __init__(self, lab):
        self.lab = lab
        self.dir = lab.path("t3000")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        with open(lab.ntlm_file) as f:
            ntlm = f.read()
        lines = ["%s:%s:%s" % (dom, n, u.password) for dom in ("OTHERDOM",)
                 for n, u in lab.users.items()]
        lines += ["%s:%s:%spw" % (dom, n, n) for dom in (lab.ntlm_domain, lab.local_domain)
                  for n in self.EXTRA]
        self.ntlm_file = self._write("ntlm_users", ntlm + "\n".join(lines) + "\n", 0o600)

        with open(lab.passwd_file) as f:
            passwd = f.read()
        passwd += "".join("%s:x:%d:%d:t3000 %s:/nonexistent:/bin/sh\n" % (n, uid, gid, n)
                          for n, (uid, gid) in self.EXTRA.items())
        self.passwd_file = self._write("passwd", passwd)
        with open(lab.passdb) as f:
            passdb = f.read()
        passdb += "".join("%s:%spw:%s\n" % (n, n, lab.pam_service) for n in self.EXTRA)
        self.passdb = self._write("passdb", passdb, 0o600)
        self.pam_dir = os.path.join(self.dir, "pam.d")
        os.makedirs(self.pam_dir, exist_ok=True)
        os.chmod(self.pam_dir, 0o755)
        with open(os.path.join(lab.pam_dir, lab.pam_service)) as f:
            pam = f.read().replace(lab.passdb, self.passdb)
        self._write(os.path.join("pam.d", lab.pam_service), pam)

        with open(lab.krb5_conf) as f:
            krb5 = f.read()
        rules = ("        auth_to_local_names = {\n"
                 "            boss = carol\n"
                 "        }\n"
                 "        auth_to_local = RULE:[1:$1](^svc-.*$)s/^svc-//\n"
                 "        auth_to_local = RULE:[1:$1](^dash$)s/^.*$/-rf/\n"
                 "        auth_to_local = DEFAULT\n")
        krb5, n = re.subn(r"(\n\s*kdc = 127\.0\.0\.1:\d+\n)", lambda m: m.group(1) + rules, krb5)
        if n != 1:
            raise RuntimeError("unexpected lab krb5.conf:\n" + krb5)
        self.krb5_conf = self._write("krb5.conf", krb5)

    def _write(self, name, text, mode=0o644):
        p = os.path.join(self.dir, name)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def mapping_env(self):
        """Daemon environment for the mapping tests."""
        return {"KRB5_CONFIG": self.krb5_conf,
                "NSS_WRAPPER_PASSWD": self.passwd_file,
                "PAM_WRAPPER_SERVICE_DIR": self.pam_dir}


def daemon(lab, overlay, cfg, env=None):
    merge(cfg, {"Service": {"Auth": {"NtlmUserFile": overlay.ntlm_file}}})
    d = lab_daemon(lab, cfg)
    d.env.update(env or {})
    d.start()
    return d


# --- clients: each returns (status, headers, body, log offset before) ---

def ntlm(d, lab, user, domain, password=None):
    mark = len(d.log())
    c = GssClient(d.url, lab, user, mech="ntlm", domain=domain, password=password)
    try:
        st, h, body = c.handshake(ID)
    finally:
        c.close()
    return st, h, body, mark


def kerberos(d, lab, user, ccache=None):
    mark = len(d.log())
    c = GssClient(d.url, lab, user, mech="krb5", ccache=ccache)
    try:
        st, h, body = c.handshake(ID)
    finally:
        c.close()
    return st, h, body, mark


def basic(d, user, password):
    mark = len(d.log())
    cred = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    st, h, body = d.post(ID, {"Authorization": "Basic " + cred})
    return st, h, body, mark


def expect(d, what, res, status, audit=(), absent=()):
    """The exact status; the 401 challenges or the AccessDenied fault or
    the Identify answer; each audit line (a substring of the log written
    since the request began) present, each of absent missing."""
    st, h, body, mark = res
    t.eq(st, status, "%s: HTTP %d" % (what, status))
    if status == 401:
        t.eq(h.get("www-authenticate"), CHALLENGES,
             "%s: 401 offers Negotiate, Kerberos, Basic again" % what)
        t.eq(body, b"", "%s: empty 401 body" % what)
    elif status == 500:
        f = soap.fault(body)
        t.eq(f, ("s:Sender", "w:AccessDenied", "5", "Access is denied."),
             "%s: s:Sender / w:AccessDenied / WSManFault Code 5 / Access is denied." % what)
    elif status == 200:
        t.contains(body, b"IdentifyResponse", "%s: the Identify answer" % what)
    for line in audit:
        found = d.wait_log(re.escape(line), timeout=5, start=mark)
        t.ok(found, "%s: %s" % (what, line), d.log()[mark:][-3000:])
    for line in absent:
        t.not_contains(d.log()[mark:], line, "%s: no %s in the audit" % (what, line))


def auth_ok(how, claimed, user):
    """The audit line of a success; the claimed name is logged escaped
    (DOMAIN\\user with a doubled backslash)."""
    return ('audit: authentication remote=127.0.0.1 method=%s claimed="%s" mapped=%s '
            'uid=%d result=success' % (how, log_escape(claimed), user, UID[user]))


def allowed(user, reason, admin):
    return ('audit: authorization remote=127.0.0.1 user=%s result=allowed%s reason="%s"'
            % (user, " role=administrator" if admin else "", reason))


def denied(user, reason):
    return ('audit: authorization remote=127.0.0.1 user=%s result=denied reason="%s"'
            % (user, reason))


def refused(method, claimed, reason, mapped=None):
    """The audit line of a refusal; mapped: the local account the name
    mapped to (logged when it differs from the claimed name)."""
    return ('audit: authentication remote=127.0.0.1 method=%s claimed="%s" %s'
            'result=failure reason="%s"' % (method, log_escape(claimed),
                                            "mapped=%s " % mapped if mapped else "", reason))


NTLM = "Negotiate/NTLM"
KRB = "Negotiate/Kerberos"
BASIC = "Basic/Basic"


def test_policy0(lab, ov):
    """Defaults: LocalAccountTokenFilterPolicy 0, AdminGroups sudo/wheel,
    RemoteUsersGroup winrmusers, TrustedDomains WINRMD."""
    d = daemon(lab, ov, config())
    H = lab.local_domain
    try:
        expect(d, "carol as local NTLM account %s\\carol (policy 0)" % H,
               ntlm(d, lab, "carol", H), 500,
               [auth_ok(NTLM, H + "\\carol", "carol"), denied("carol", filtered("sudo"))],
               absent=["role=administrator"])
        expect(d, "dave as local NTLM account (policy 0)", ntlm(d, lab, "dave", H), 500,
               [auth_ok(NTLM, H + "\\dave", "dave"), denied("dave", filtered("wheel"))])
        expect(d, "carol as domain account WINRMD\\carol (policy 0)",
               ntlm(d, lab, "carol", "WINRMD"), 200,
               [auth_ok(NTLM, "WINRMD\\carol", "carol"),
                allowed("carol", "member of admin group sudo", True)])
        expect(d, "alice (winrmusers) as local NTLM account (policy 0)",
               ntlm(d, lab, "alice", H), 200,
               [auth_ok(NTLM, H + "\\alice", "alice"),
                allowed("alice", "member of remote users group winrmusers", False)])
        expect(d, "root as local NTLM account (root is exempt from the filter)",
               ntlm(d, lab, "root", H), 200,
               [auth_ok(NTLM, H + "\\root", "root"), allowed("root", "root", True)])
        expect(d, "root over Basic", basic(d, "root", "rootpw"), 200,
               [auth_ok(BASIC, "root", "root"), allowed("root", "root", True)])
        expect(d, "carol over Kerberos (the filter is NTLM's)", kerberos(d, lab, "carol"), 200,
               [auth_ok(KRB, "carol@WINRMD.TEST", "carol"),
                allowed("carol", "member of admin group sudo", True)])
        expect(d, "bob (no group) as WINRMD\\bob", ntlm(d, lab, "bob", "WINRMD"), 500,
               [auth_ok(NTLM, "WINRMD\\bob", "bob"), denied("bob", NOT_MEMBER)])
        expect(d, "bob (no group) over Kerberos", kerberos(d, lab, "bob"), 500,
               [auth_ok(KRB, "bob@WINRMD.TEST", "bob"), denied("bob", NOT_MEMBER)])
        expect(d, "OTHERDOM\\alice (untrusted domain, right password)",
               ntlm(d, lab, "alice", "OTHERDOM"), 401,
               [refused("Negotiate", "OTHERDOM\\alice", UNTRUSTED)],
               absent=["mapped=alice"])
        d.check_alive(t, "the policy 0 checks")
    finally:
        d.cleanup()


def test_policy1(lab, ov):
    d = daemon(lab, ov, config(LocalAccountTokenFilterPolicy=1))
    H = lab.local_domain
    try:
        expect(d, "carol as local NTLM account (policy 1)", ntlm(d, lab, "carol", H), 200,
               [auth_ok(NTLM, H + "\\carol", "carol"),
                allowed("carol", "member of admin group sudo", True)])
        expect(d, "dave as local NTLM account (policy 1)", ntlm(d, lab, "dave", H), 200,
               [auth_ok(NTLM, H + "\\dave", "dave"),
                allowed("dave", "member of admin group wheel", True)])
        expect(d, "alice as local NTLM account (policy 1)", ntlm(d, lab, "alice", H), 200,
               [allowed("alice", "member of remote users group winrmusers", False)])
        expect(d, "bob as local NTLM account (policy 1)", ntlm(d, lab, "bob", H), 500,
               [auth_ok(NTLM, H + "\\bob", "bob"), denied("bob", NOT_MEMBER)])
    finally:
        d.cleanup()


def test_no_admin_groups(lab, ov):
    d = daemon(lab, ov, config(AdminGroups=[]))
    H = lab.local_domain
    try:
        expect(d, "AdminGroups=[]: carol over Kerberos refused", kerberos(d, lab, "carol"), 500,
               [auth_ok(KRB, "carol@WINRMD.TEST", "carol"), denied("carol", NOT_MEMBER)])
        expect(d, "AdminGroups=[]: dave as WINRMD\\dave refused",
               ntlm(d, lab, "dave", "WINRMD"), 500, [denied("dave", NOT_MEMBER)])
        expect(d, "AdminGroups=[]: root over Kerberos still admitted",
               kerberos(d, lab, "root"), 200,
               [auth_ok(KRB, "root@WINRMD.TEST", "root"), allowed("root", "root", True)])
        expect(d, "AdminGroups=[]: root over Basic still admitted", basic(d, "root", "rootpw"),
               200, [auth_ok(BASIC, "root", "root"), allowed("root", "root", True)])
        expect(d, "AdminGroups=[]: root as local NTLM account still admitted",
               ntlm(d, lab, "root", H), 200, [allowed("root", "root", True)])
        expect(d, "AdminGroups=[]: alice (remote users group) still admitted",
               kerberos(d, lab, "alice"), 200,
               [allowed("alice", "member of remote users group winrmusers", False)])
    finally:
        d.cleanup()


def test_no_remote_users(lab, ov):
    d = daemon(lab, ov, config(RemoteUsersGroup=""))
    try:
        expect(d, 'RemoteUsersGroup="": alice over Kerberos refused', kerberos(d, lab, "alice"),
               500, [auth_ok(KRB, "alice@WINRMD.TEST", "alice"), denied("alice", NOT_MEMBER)])
        expect(d, 'RemoteUsersGroup="": alice over Basic refused', basic(d, "alice", "alicepw"),
               500, [auth_ok(BASIC, "alice", "alice"), denied("alice", NOT_MEMBER)])
        expect(d, 'RemoteUsersGroup="": carol (sudo) still admitted', kerberos(d, lab, "carol"),
               200, [allowed("carol", "member of admin group sudo", True)])
    finally:
        d.cleanup()
    # both lists empty: nobody but root
    d = daemon(lab, ov, config(AdminGroups=[], RemoteUsersGroup=""))
    try:
        for user in ("alice", "carol", "dave"):
            expect(d, "no groups at all: %s over Kerberos refused" % user,
                   kerberos(d, lab, user), 500, [denied(user, NOT_MEMBER)])
        expect(d, "no groups at all: root over Kerberos admitted", kerberos(d, lab, "root"),
               200, [allowed("root", "root", True)])
    finally:
        d.cleanup()


def test_trusted_domains(lab, ov):
    d = daemon(lab, ov, config(TrustedDomains=[]))
    H = lab.local_domain
    try:
        expect(d, "TrustedDomains=[]: WINRMD\\alice refused", ntlm(d, lab, "alice", "WINRMD"),
               401, [refused("Negotiate", "WINRMD\\alice", UNTRUSTED)],
               absent=["mapped=alice"])
        expect(d, "TrustedDomains=[]: OTHERDOM\\alice refused",
               ntlm(d, lab, "alice", "OTHERDOM"), 401,
               [refused("Negotiate", "OTHERDOM\\alice", UNTRUSTED)])
        expect(d, "TrustedDomains=[]: %s\\alice (local account) admitted" % H,
               ntlm(d, lab, "alice", H), 200, [auth_ok(NTLM, H + "\\alice", "alice")])
        expect(d, "TrustedDomains=[]: Kerberos is not affected", kerberos(d, lab, "alice"), 200,
               [auth_ok(KRB, "alice@WINRMD.TEST", "alice")])
    finally:
        d.cleanup()
    # domain names compare without case
    d = daemon(lab, ov, config(TrustedDomains=["otherdom"]))
    try:
        expect(d, "TrustedDomains=[otherdom]: OTHERDOM\\alice admitted as a domain account",
               ntlm(d, lab, "alice", "OTHERDOM"), 200,
               [auth_ok(NTLM, "OTHERDOM\\alice", "alice")])
        expect(d, "TrustedDomains=[otherdom]: OTHERDOM\\carol is a domain account: admin "
               "under policy 0", ntlm(d, lab, "carol", "OTHERDOM"), 200,
               [allowed("carol", "member of admin group sudo", True)])
        expect(d, "TrustedDomains=[otherdom]: WINRMD\\alice refused",
               ntlm(d, lab, "alice", "WINRMD"), 401,
               [refused("Negotiate", "WINRMD\\alice", UNTRUSTED)])
    finally:
        d.cleanup()


def test_mapping(lab, ov):
    """Kerberos auth_to_local (a krb5.conf of our own for the daemon), and
    accounts whose primary group is the one that matters."""
    for princ, pw in (("svc-alice", "svcpw"), ("boss", "bosspw"), ("alice/admin", "aapw"),
                      ("dash", "dashpw"), ("ghost", "ghostpw"), ("frank", "frankpw"),
                      ("gina", "ginapw")):
        lab.kadmin("addprinc -pw %s %s" % (pw, princ))
    cc = {}
    for princ, pw in (("svc-alice", "svcpw"), ("boss", "bosspw"), ("alice/admin", "aapw"),
                      ("dash", "dashpw"), ("ghost", "ghostpw"), ("frank", "frankpw"),
                      ("gina", "ginapw")):
        cc[princ] = lab.kinit(princ, password=pw,
                              ccache=lab.path("ccache", princ.replace("/", "_") + ".cc"))
    d = daemon(lab, ov, config(), env=ov.mapping_env())
    H = lab.local_domain
    UID.update({n: uid for n, (uid, _) in Overlay.EXTRA.items()})
    try:
        expect(d, "auth_to_local RULE: svc-alice@WINRMD.TEST is alice",
               kerberos(d, lab, "svc-alice", cc["svc-alice"]), 200,
               [auth_ok(KRB, "svc-alice@WINRMD.TEST", "alice"),
                allowed("alice", "member of remote users group winrmusers", False)])
        expect(d, "auth_to_local_names: boss@WINRMD.TEST is carol (an administrator)",
               kerberos(d, lab, "boss", cc["boss"]), 200,
               [auth_ok(KRB, "boss@WINRMD.TEST", "carol"),
                allowed("carol", "member of admin group sudo", True)])
        expect(d, "auth_to_local DEFAULT: carol@WINRMD.TEST is carol",
               kerberos(d, lab, "carol"), 200, [auth_ok(KRB, "carol@WINRMD.TEST", "carol")])
        expect(d, "no rule for alice/admin@WINRMD.TEST: refused",
               kerberos(d, lab, "alice/admin", cc["alice/admin"]), 401,
               [refused("Negotiate", "alice/admin@WINRMD.TEST",
                        "no local account for this principal (auth_to_local)")])
        expect(d, "a rule giving \"-rf\": refused", kerberos(d, lab, "dash", cc["dash"]), 401,
               [refused("Negotiate", "dash@WINRMD.TEST",
                        "auth_to_local gave an unusable account name")])
        expect(d, "ghost@WINRMD.TEST maps to an account that does not exist: refused",
               kerberos(d, lab, "ghost", cc["ghost"]), 401,
               [refused("Negotiate", "ghost@WINRMD.TEST", "no such account in NSS: ghost", "ghost")])

        expect(d, "frank (primary group winrmusers, in no member list) over Kerberos",
               kerberos(d, lab, "frank", cc["frank"]), 200,
               [auth_ok(KRB, "frank@WINRMD.TEST", "frank"),
                allowed("frank", "member of remote users group winrmusers", False)])
        expect(d, "frank (primary group winrmusers) over Basic", basic(d, "frank", "frankpw"),
               200, [auth_ok(BASIC, "frank", "frank"),
                     allowed("frank", "member of remote users group winrmusers", False)])
        expect(d, "frank (primary group winrmusers) as local NTLM account",
               ntlm(d, lab, "frank", H, password="frankpw"), 200,
               [allowed("frank", "member of remote users group winrmusers", False)])
        expect(d, "gina (primary group sudo) over Kerberos: administrator",
               kerberos(d, lab, "gina", cc["gina"]), 200,
               [auth_ok(KRB, "gina@WINRMD.TEST", "gina"),
                allowed("gina", "member of admin group sudo", True)])
        expect(d, "gina (primary group sudo) as local NTLM account, policy 0",
               ntlm(d, lab, "gina", H, password="ginapw"), 500,
               [auth_ok(NTLM, H + "\\gina", "gina"), denied("gina", filtered("sudo"))])
        expect(d, "gina (primary group sudo) as WINRMD\\gina",
               ntlm(d, lab, "gina", "WINRMD", password="ginapw"), 200,
               [allowed("gina", "member of admin group sudo", True)])
        d.check_alive(t, "the mapping checks")
        t.eq(d.stop(), 0, "clean stop")
        t.not_contains(d.log(), "Sanitizer", "no sanitizer report")
    finally:
        d.cleanup()


with Lab() as lab:
    ov = Overlay(lab)
    for fn in (test_policy0, test_policy1, test_no_admin_groups, test_no_remote_users,
               test_trusted_domains, test_mapping):
        t.run(fn, lab, ov)
sys.exit(t.done())
