"""lab.py - a throwaway authentication lab for the integration tests.

    with Lab() as lab:
        d = Daemon(config=lab.daemon_config(), env=lab.daemon_env())
        ...
        c = GssClient(d.url, lab, "alice")               # lib/gssclient.py
        r = lab.run_client(["-c", code], user="alice")    # pywinrm etc.

Everything lives in one fresh temporary directory (mode 0755); nothing
under /etc is read or written:

* an MIT Kerberos realm WINRMD.TEST with its own krb5kdc on 127.0.0.1 and a
  free port, a principal per lab user (password "<name>pw"), the service
  principals HTTP/ and host/ for localhost and the short host name, plus
  HTTP/winrm.test.lab, all in one service keytab (aes256/aes128, kvno 1);
* fake users and groups (nss_wrapper), fake host names, and PAM
  (pam_wrapper + pam_matrix) for the service "winrmd";
* an NTLM user file for gss-ntlmssp with two domains: WINRMD (a "domain")
  and the upper-cased short host name (the "local account" case HOST\\user);
* an OpenSSL configuration that enables the legacy provider (MD4), which
  client-side NTLM in Python (ntlm-auth, pywinrm transport='ntlm') needs.

The users (lab.users: name -> LabUser(password, uid, gid, groups), groups
being the supplementary group names): alice (winrmusers), bob (none), carol
(sudo, an admin), dave (wheel, an admin), erin (winrmusers, but locked: her
PAM account check fails while her password is right) and root.  The
listener account winrmd (uid 20100) and nobody exist too, without passwords.

Lab(ad=True) is a lab that looks like an Active Directory domain as a
domain-joined host sees it (realmd/sssd or winbind):

* the upper-case realm EXAMPLE.COM (DNS domain example.com, NetBIOS name
  EXAMPLE), the host host.example.com (127.0.0.1 under nss_wrapper) and
  its keys HTTP/host.example.com and host/host.example.com in the keytab,
  besides the localhost ones;
* the NTLM domain EXAMPLE, and the UPN alice@example.com in the NTLM user
  file too (a line with an empty domain, as gss-ntlmssp wants for UPNs);
* every lab user (but dave) a second and a third time in passwd, as sssd
  with fully qualified names and as winbind name them:
  "alice@example.com" (uid 21000 + n) and "EXAMPLE\\alice" (uid 22000 +
  n), primary groups "domain users@example.com" / "EXAMPLE\\domain
  users", in the AD groups "winrm users@example.com" / "EXAMPLE\\winrm
  users" (alice, erin) and "domain admins@example.com" / "EXAMPLE\\domain
  admins" (carol); dave exists as "dave" only.  lab.ad_accounts maps
  (user, form) to (NSS name, uid), form being "Short", "Qualified" or
  "DownLevel"; lab.ad_groups maps (role, form) to the group name (role
  "users" or "admins"; Short: winrmusers and sudo).  PAM (pam_matrix)
  knows every spelling, with the user's password.

API:
  Lab(kdc_attempts=5, ad=False)     set up and start the KDC (~0.1 s)
  Lab.attach(dir)                   the lab of another process (no teardown)
  lab.close() / with Lab() as lab   stop the KDC, remove everything
  lab.kinit(user, password=None, ccache=None) -> ccache path (LabError on failure)
  lab.ccache(user)                  the user's ccache, kinit'd on first use
  lab.daemon_env()                  variables to add for winrmd
  lab.daemon_config()               Daemon(config=...) fragment
  lab.client_env(user=None)         variables to add for a client process
  lab.client_full_env(user=None)    complete, acceptor-free client environment
  lab.apply_client_env(user=None)   the same in os.environ (+ MD4 provider)
  lab.restore_env(saved)            undo apply_client_env
  lab.run_client(args, user=None, input=None, timeout=60, env=None)
                                    /usr/bin/python3 args under client_full_env
  lab.run_wrapped(args, timeout=30) a command under daemon_env()
  lab.pam_check(user, password, service="winrmd") -> PAM return codes
  lab.tool_env(**extra)             environment for kinit/klist/kadmin.local
  lab.kadmin(*queries)              kadmin.local on the lab database
  attributes: dir, path(...), realm, port, kdc_pid, krb5_conf, keytab,
  ntlm_file, passwd_file, group_file, hosts_file, passdb, pam_dir,
  openssl_conf, rcache_dir, ccache_dir, hostname, local_domain, ntlm_domain,
  spns, users, mech_conf (None unless the system lacks the NTLM mech)

Secrets (keytab, NTLM file, PAM passdb, KDC database) are mode 0600: only
root - the daemon's privileged side - reads them.  Everything a dropped
process needs after exec (passwd, group, hosts, the PAM service dir) is
world-readable: pam_wrapper makes every exec'd program exit 1 when it
cannot copy its service dir.

The acceptor must take its keytab from KRB5_KTNAME (daemon_env() sets it)
with default credentials: with Debian's gss-ntlmssp 1.2.0 a credential
acquired from a cred store {"keytab": ...} is no NTLM server credential;
NTLM tokens then fail ("Not a server credential type") or crash the
acceptor inside gss-ntlmssp (an invalid free).

close() stops the KDC by its PID, removes the directory and the /tmp/pam.?
directories that pam_wrapper left behind during the lab's life.  The KDC
also gets SIGTERM when the process (thread) that started it dies.
"""
import atexit
import collections
import ctypes
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time

REALM = "WINRMD.TEST"
NTLM_DOMAIN = "WINRMD"
PAM_SERVICE = "winrmd"
FAKE_FQDN = "winrm.test.lab"          # resolves to 127.0.0.1 under nss_wrapper
PYTHON = "/usr/bin/python3"           # Debian's: it has gssapi, winrm, ...
LIBDIR = os.path.dirname(os.path.abspath(__file__))
NTLM_MECH_OID = "1.3.6.1.4.1.311.2.2.10"

LabUser = collections.namedtuple("LabUser", "password uid gid groups")

# Lab(ad=True): an Active Directory domain as a joined host sees it.
AD_REALM = "EXAMPLE.COM"
AD_NETBIOS = "EXAMPLE"
AD_DNS = "example.com"
AD_FQDN = "host.example.com"
AD_FORMS = ("Short", "Qualified", "DownLevel")
AD_GROUPS = {  # role -> (gid base, lab users in it, Short spelling)
    "users": (31000, ["alice", "erin"], "winrmusers"),
    "admins": (31100, ["carol"], "sudo"),
}
AD_NO_DOMAIN_ACCOUNT = {"dave"}     # known to NSS as "dave" only


def ad_name(name, form):
    """name as NSS spells it in form (AD_FORMS)."""
    if form == "Qualified":
        return "%s@%s" % (name, AD_DNS)
    if form == "DownLevel":
        return "%s\\%s" % (AD_NETBIOS, name)
    return name

# name, uid, supplementary groups.  Each user's primary group has its name
# and gid == uid.
LAB_USERS = [
    ("alice", 20001, ["winrmusers"]),
    ("bob", 20002, []),
    ("carol", 20003, ["sudo"]),
    ("dave", 20004, ["wheel"]),
    ("erin", 20005, ["winrmusers"]),
]
EXTRA_GROUPS = {"winrmusers": 30001, "sudo": 30002, "wheel": 30003}
LISTENER_USER = ("winrmd", 20100)
# Users whose pam_matrix entry names another service, so that pam_acct_mgmt
# for the "winrmd" service fails although the password is right.
LOCKED_USERS = {"erin"}

MULTIARCH = sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu"


class LabError(RuntimeError):
    pass


def find_lib(rel):
    """Absolute path of a file under the library directories (multiarch
    first), e.g. find_lib("pam_wrapper/pam_matrix.so")."""
    for d in ("/usr/lib/" + MULTIARCH, "/lib/" + MULTIARCH, "/usr/lib64", "/usr/lib"):
        p = os.path.join(d, rel)
        if os.path.exists(p):
            return p
    hits = sorted(glob.glob("/usr/lib/*/" + rel))
    if hits:
        return hits[0]
    raise LabError("%s not found (is its package installed?)" % rel)


def ntlm_mech_enabled():
    """True when the system GSSAPI configuration (/etc/gss/mech or
    /etc/gss/mech.d/*.conf, which Debian's gss-ntlmssp package installs)
    already loads the NTLM mechanism."""
    for path in ["/etc/gss/mech"] + sorted(glob.glob("/etc/gss/mech.d/*.conf")):
        try:
            with open(path) as f:
                for line in f:
                    fields = line.split("#", 1)[0].split()
                    if len(fields) >= 3 and fields[1] == NTLM_MECH_OID \
                            and os.path.exists(fields[2]):
                        return True
        except OSError:
            continue
    return False


# --- sockets on a port, from /proc/net (to catch a shared KDC port) ---

def _port_sockets(port):
    """Inodes of the TCP listening sockets and UDP sockets bound to port on
    any local address."""
    found = set()
    for table, want_state in (("tcp", "0A"), ("tcp6", "0A"), ("udp", None), ("udp6", None)):
        try:
            with open("/proc/net/" + table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local, state, inode = fields[1], fields[3], fields[9]
                    if int(local.rsplit(":", 1)[1], 16) != port:
                        continue
                    if want_state and state != want_state:
                        continue
                    found.add(inode)
        except FileNotFoundError:
            continue
    return found


def _process_sockets(pid):
    out = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith("socket:["):
                out.add(target[8:-1])
    except FileNotFoundError:
        pass
    return out


def _port_is_free(port):
    """Plain binds (no SO_REUSEADDR/SO_REUSEPORT) on TCP and UDP.  krb5kdc
    itself sets SO_REUSEPORT, which is why a second KDC can start on a busy
    port without any error."""
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return not _port_sockets(port)


def _pick_port():
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if _port_is_free(port):
            return port
    raise LabError("no free port for the KDC")


def _die_with_parent():
    """In the KDC child before exec: SIGTERM when the test process dies, so
    that a killed test leaves no KDC behind."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)     # PR_SET_PDEATHSIG
    if os.getppid() == 1:
        os._exit(1)


# --- pam_wrapper's /tmp/pam.? directories ---

def _pam_dirs():
    """{path: inode} of pam_wrapper's per-process directories."""
    out = {}
    for p in glob.glob("/tmp/pam.?"):
        try:
            out[p] = os.lstat(p).st_ino
        except FileNotFoundError:
            pass
    return out


def _pid_gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"   # zombie: gone
    except FileNotFoundError:
        return True


def _pam_dir_owner_gone(path):
    try:
        with open(os.path.join(path, "pid")) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return False        # no pid (yet): possibly being set up - leave it
    return _pid_gone(pid)


# --- the PAM check run under daemon_env() (see Lab.pam_check) ---

PAM_CHECK = r'''
import ctypes, json, sys
from ctypes import (CFUNCTYPE, POINTER, Structure, byref, c_char_p, c_int,
                    c_void_p, cast, sizeof)
# RTLD_DEFAULT scope: with LD_PRELOAD=libpam_wrapper.so its pam_* come
# first.  (A handle from CDLL("libpam.so.0") would bypass the wrapper.)
pam = ctypes.CDLL(None)
if not hasattr(pam, "pam_wrapper_enabled"):
    sys.exit("libpam_wrapper.so is not preloaded")
libc = ctypes.CDLL("libc.so.6")
libc.calloc.restype = c_void_p
libc.strdup.restype = c_void_p
libc.strdup.argtypes = [c_char_p]

class Msg(Structure):
    _fields_ = [("msg_style", c_int), ("msg", c_char_p)]
class Resp(Structure):
    _fields_ = [("resp", c_void_p), ("resp_retcode", c_int)]
CONV = CFUNCTYPE(c_int, c_int, POINTER(POINTER(Msg)), POINTER(POINTER(Resp)), c_void_p)
class Conv(Structure):
    _fields_ = [("conv", CONV), ("appdata_ptr", c_void_p)]

service, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
prompts = []

def conv(n, msgs, resp, _data):
    # libpam frees the array and each answer: allocate them with libc.
    arr = cast(libc.calloc(n, sizeof(Resp)), POINTER(Resp))
    for i in range(n):
        m = msgs[i].contents
        prompts.append((m.msg_style, (m.msg or b"").decode()))
        if m.msg_style in (1, 2):          # PAM_PROMPT_ECHO_OFF / _ON
            arr[i].resp = libc.strdup(password.encode())
    resp[0] = arr
    return 0

cb = CONV(conv)
c = Conv(cb, None)
h = c_void_p()
pam.pam_strerror.restype = c_char_p
pam.pam_start.argtypes = [c_char_p, c_char_p, POINTER(Conv), POINTER(c_void_p)]
out = {}
rc = pam.pam_start(service.encode(), user.encode(), byref(c), byref(h))
out["start"] = rc
if rc == 0:
    rc = pam.pam_authenticate(h, 0)
    out["auth"] = rc
    out["auth_msg"] = pam.pam_strerror(h, rc).decode()
    if rc == 0:
        rc = pam.pam_acct_mgmt(h, 0)
        out["acct"] = rc
        out["acct_msg"] = pam.pam_strerror(h, rc).decode()
    pam.pam_end(h, rc)
out["prompts"] = prompts
print(json.dumps(out))
'''


class Lab:
    def __init__(self, kdc_attempts=5, ad=False):
        self.t0 = time.time()
        self.dir = tempfile.mkdtemp(prefix="winrmd-lab-")
        os.chmod(self.dir, 0o755)
        self.ad = ad
        self.realm = AD_REALM if ad else REALM
        self.ntlm_domain = AD_NETBIOS if ad else NTLM_DOMAIN
        self.pam_service = PAM_SERVICE
        self.fqdn = AD_FQDN if ad else FAKE_FQDN
        # Short host name: SPNs use it as is (lower case normally), the NTLM
        # "local account" domain is it upper-cased (what Windows shows).
        self.hostname = socket.gethostname().split(".")[0]
        self.local_domain = self.hostname.upper()
        self.spns = ["HTTP/localhost", "host/localhost",
                     "HTTP/" + self.hostname, "host/" + self.hostname,
                     "HTTP/" + self.fqdn]
        if ad:
            self.spns.append("host/" + self.fqdn)
        self.spns = list(dict.fromkeys(self.spns))    # hostname may be localhost
        self.users = {}
        for name, uid, groups in LAB_USERS:
            self.users[name] = LabUser(name + "pw", uid, uid, list(groups))
        self.users["root"] = LabUser("rootpw", 0, 0, [])
        self.ad_accounts = {}   # (user, form) -> (NSS name, uid)
        self.ad_groups = {}     # (role, form) -> group name
        if ad:
            for i, (name, uid, _) in enumerate(LAB_USERS):
                self.ad_accounts[(name, "Short")] = (name, uid)
                if name in AD_NO_DOMAIN_ACCOUNT:
                    continue
                self.ad_accounts[(name, "Qualified")] = (ad_name(name, "Qualified"), 21001 + i)
                self.ad_accounts[(name, "DownLevel")] = (ad_name(name, "DownLevel"), 22001 + i)
            for role, (_, _, short) in AD_GROUPS.items():
                self.ad_groups[(role, "Short")] = short
                for form in AD_FORMS[1:]:
                    self.ad_groups[(role, form)] = ad_name(
                        "winrm users" if role == "users" else "domain admins", form)
        self.kdc_proc = None
        self.kdc_pid = None
        self.port = None
        self._ccaches = {}
        self._pam_before = _pam_dirs()
        self._closed = False
        self.krb5_conf = self.path("krb5.conf")
        self.kdc_conf = self.path("kdc.conf")
        self.keytab = self.path("lab.keytab")
        self.ntlm_file = self.path("ntlm_users")
        self.passwd_file = self.path("passwd")
        self.group_file = self.path("group")
        self.hosts_file = self.path("hosts")
        self.passdb = self.path("passdb")
        self.pam_dir = self.path("pam.d")
        self.openssl_conf = self.path("openssl.cnf")
        self.rcache_dir = self.path("rcache")
        self.ccache_dir = self.path("ccache")
        self.lsan_supp = self.path("lsan.supp")
        self.mech_conf = None       # set when the system lacks the NTLM mech
        try:
            self._write_files()
            self._create_realm()
            self._start_kdc(kdc_attempts)
            self._write_info()
        except BaseException:
            self.close()
            raise
        atexit.register(self.close)
        self.setup_time = time.time() - self.t0

    # Attributes that describe a running lab, saved to lab.json for attach().
    _INFO = ("dir", "ad", "realm", "ntlm_domain", "pam_service", "fqdn", "hostname",
             "local_domain", "spns", "port", "kdc_pid", "krb5_conf", "kdc_conf",
             "keytab", "ntlm_file", "passwd_file", "group_file", "hosts_file", "passdb",
             "pam_dir", "openssl_conf", "rcache_dir", "ccache_dir", "lsan_supp",
             "mech_conf")

    def _write_info(self):
        info = {k: getattr(self, k) for k in self._INFO}
        info["users"] = {n: list(u) for n, u in self.users.items()}
        info["ad_accounts"] = [[u, f, n, uid] for (u, f), (n, uid) in self.ad_accounts.items()]
        info["ad_groups"] = [[r, f, g] for (r, f), g in self.ad_groups.items()]
        self._write("lab.json", json.dumps(info, indent=1) + "\n")

    @classmethod
    def attach(cls, lab_dir):
        """A view of a lab that another process set up (its directory, e.g.
        passed to a run_client() script): every method that does not start
        or stop anything works; close() does nothing."""
        self = cls.__new__(cls)
        with open(os.path.join(lab_dir, "lab.json")) as f:
            info = json.load(f)
        for k in cls._INFO:
            setattr(self, k, info[k])
        self.users = {n: LabUser(*u) for n, u in info["users"].items()}
        self.ad_accounts = {(u, f): (n, uid) for u, f, n, uid in info["ad_accounts"]}
        self.ad_groups = {(r, f): g for r, f, g in info["ad_groups"]}
        self.kdc_proc = None
        self._ccaches = {}
        self._closed = True             # not ours to tear down
        self.setup_time = 0.0
        return self

    def path(self, *parts):
        """A path inside the lab directory."""
        return os.path.join(self.dir, *parts)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- files ---

    def _write(self, name, text, mode=0o644):
        p = self.path(name)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(p, mode)       # umask
        return p

    def _write_files(self):
        for d, mode in ((self.rcache_dir, 0o1777), (self.ccache_dir, 0o700),
                        (self.pam_dir, 0o755), (self.path("home"), 0o755)):
            os.mkdir(d)
            os.chmod(d, mode)

        # Kerberos.  The profile parser wants "{" at the end of a line and
        # one relation per line (the one-line form is silently ignored).
        # No canonicalisation/rdns: the SPN is built from the URL's host as
        # written; single-label names fall back to default_realm.
        self.port = _pick_port()
        self._write_krb5_conf()
        self._write("kadm5.acl", "")

        # passwd / group for nss_wrapper, which replaces the system
        # databases: root and nobody must be listed too.
        home = self.path("home")
        pw = ["root:x:0:0:root:/root:/bin/sh"]
        gr = ["root:x:0:"]
        for name, u in self.users.items():
            if name == "root":
                continue
            h = os.path.join(home, name)
            os.mkdir(h, 0o755)
            os.chown(h, u.uid, u.gid)
            pw.append("%s:x:%d:%d:Lab user %s:%s:/bin/sh" % (name, u.uid, u.gid, name, h))
            gr.append("%s:x:%d:" % (name, u.gid))
        for g, gid in EXTRA_GROUPS.items():
            members = [n for n, u in self.users.items() if g in u.groups]
            gr.append("%s:x:%d:%s" % (g, gid, ",".join(members)))
        if self.ad:
            gid_of = {}
            for form, gid in (("Qualified", 21500), ("DownLevel", 22500)):
                gname = ad_name("domain users", form)
                gid_of[form] = gid
                members = [n for (u, f), (n, _) in self.ad_accounts.items() if f == form]
                gr.append("%s:x:%d:%s" % (gname, gid, ",".join(members)))
            for (name, form), (nss, uid) in self.ad_accounts.items():
                if form == "Short":
                    continue
                h = os.path.join(home, "%s.%d" % (name, uid))
                os.mkdir(h, 0o755)
                os.chown(h, uid, gid_of[form])
                pw.append("%s:x:%d:%d:AD user %s:%s:/bin/sh" % (nss, uid, gid_of[form], name, h))
            for role, (base, members, _) in AD_GROUPS.items():
                for k, form in enumerate(AD_FORMS[1:]):
                    names = [self.ad_accounts[(m, form)][0] for m in members]
                    gr.append("%s:x:%d:%s" % (self.ad_groups[(role, form)], base + k,
                                              ",".join(names)))
        lname, lid = LISTENER_USER
        pw.append("%s:x:%d:%d:winrmd listener:/nonexistent:/usr/sbin/nologin" % (lname, lid, lid))
        gr.append("%s:x:%d:" % (lname, lid))
        pw.append("nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin")
        gr.append("nogroup:x:65534:")
        self._write("passwd", "\n".join(pw) + "\n")
        self._write("group", "\n".join(gr) + "\n")
        # nss_wrapper replaces name resolution too, so localhost is listed.
        self._write("hosts", "127.0.0.1 localhost %s\n::1 localhost\n" % self.fqdn)

        # pam_matrix: user:password:allowed_service.  A locked user's entry
        # names another service: pam_authenticate succeeds, pam_acct_mgmt
        # for PAM_SERVICE fails (PAM_PERM_DENIED).
        lines = ["%s:%s:%s" % (n, u.password,
                               PAM_SERVICE + "-locked" if n in LOCKED_USERS else PAM_SERVICE)
                 for n, u in self.users.items()]
        lines += ["%s:%s:%s" % (nss, self.users[n].password,
                                PAM_SERVICE + "-locked" if n in LOCKED_USERS else PAM_SERVICE)
                  for (n, form), (nss, _) in self.ad_accounts.items() if form != "Short"]
        self._write("passdb", "\n".join(lines) + "\n", 0o600)
        matrix = find_lib("pam_wrapper/pam_matrix.so")
        # One file per service name; no "other" fallback exists.  Absolute
        # module path: pam_wrapper does not search the module directory.
        self._write(os.path.join("pam.d", PAM_SERVICE), "".join(
            "%s required %s passdb=%s\n" % (t, matrix, self.passdb)
            for t in ("auth", "account", "password", "session")))

        # gss-ntlmssp: DOMAIN:user:password.  The domain must match the case
        # the client sends (requests_ntlm upper-cases it).
        lines = ["# gss-ntlmssp user file of the winrmd test lab"]
        for dom in (self.ntlm_domain, self.local_domain):
            lines += ["%s:%s:%s" % (dom, n, u.password) for n, u in self.users.items()]
        if self.ad:
            # UPN logons (alice@example.com, no domain in the message):
            # gss-ntlmssp looks them up with an empty domain
            lines += [":%s@%s:%s" % (n, AD_DNS, u.password)
                      for n, u in self.users.items()]
        self._write("ntlm_users", "\n".join(lines) + "\n", 0o600)
        if not ntlm_mech_enabled():
            # Only when the package's /etc/gss/mech.d file is missing.
            self.mech_conf = self._write("gss_mech", "gssntlmssp_v1 %s %s\n" % (
                NTLM_MECH_OID, find_lib("gssntlmssp/gssntlmssp.so")))

        # OpenSSL 3 keeps MD4 (needed by ntlm-auth) in the legacy provider.
        self._write("openssl.cnf", "\n".join([
            "openssl_conf = openssl_init",
            "[openssl_init]", "providers = provider_sect",
            "[provider_sect]", "default = default_sect", "legacy = legacy_sect",
            "[default_sect]", "activate = 1",
            "[legacy_sect]", "activate = 1", ""]))
        # LeakSanitizer: libpam (through pam_wrapper) leaks 96 bytes.
        # Leaks inside third-party libraries, not winrmd's:
        #  libpam: a 96-byte block per pam_start under pam_wrapper;
        #  gssntlmssp: gss-ntlmssp 1.2.0's MD4_HASH never frees the EVP_MD
        #  it fetches (and with it a private OpenSSL library context,
        #  ~6 KB) each time it reads NtlmUserFile, i.e. once per NTLM
        #  authentication.  See the winrmd README, "Known limitations".
        self._write("lsan.supp", "leak:libpam.so\nleak:gssntlmssp.so\n")

    def _write_krb5_conf(self):
        self._write("krb5.conf", """[libdefaults]
    default_realm = %(r)s
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
    default_tkt_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
    default_tgs_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
[realms]
    %(r)s = {
        kdc = 127.0.0.1:%(p)d
    }
[domain_realm]
    localhost = %(r)s
    %(f)s = %(r)s
""" % {"r": self.realm, "p": self.port, "f": self.fqdn})
        self._write("kdc.conf", """[kdcdefaults]
    kdc_listen = 127.0.0.1:%(p)d
    kdc_tcp_listen = 127.0.0.1:%(p)d
[realms]
    %(r)s = {
        database_name = %(d)s/principal
        key_stash_file = %(d)s/stash
        acl_file = %(d)s/kadm5.acl
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }
[logging]
    kdc = FILE:%(d)s/kdc.log
""" % {"r": self.realm, "p": self.port, "d": self.dir})

    # --- Kerberos ---

    def tool_env(self, **extra):
        """Full environment for the krb5 tools (kinit, klist, kadmin.local)
        on this realm: the caller's environment without its own KRB5*."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("KRB5")}
        env.update(KRB5_CONFIG=self.krb5_conf, KRB5_KDC_PROFILE=self.kdc_conf,
                   KRB5CCNAME="FILE:" + os.path.join(self.ccache_dir, "none"))
        env.update(extra)
        return env

    def _run(self, args, stdin=None, env=None, check=True):
        r = subprocess.run(args, input=stdin, capture_output=True, text=True,
                           env=env or self.tool_env(), timeout=30)
        if check and r.returncode != 0:
            raise LabError("%s failed (%d): %s%s" % (" ".join(args), r.returncode,
                                                     r.stdout, r.stderr))
        return r

    def kadmin(self, *queries):
        """Runs kadmin.local queries (one process; it reads them from stdin).
        kadmin.local works on the database directly: no kadmind needed."""
        r = self._run(["kadmin.local"], stdin="\n".join(queries) + "\n")
        # kadmin.local exits 0 even when a query fails; errors go to stderr.
        bad = [line for line in r.stderr.splitlines()
               if line and not line.startswith("No policy specified")]
        if bad:
            raise LabError("kadmin.local: %s" % "\n".join(bad))
        return r.stdout

    def _create_realm(self):
        self._run(["kdb5_util", "create", "-s", "-r", self.realm, "-P", "lab-master-pw"])
        q = ["addprinc -pw %s %s" % (u.password, n) for n, u in self.users.items()]
        q += ["addprinc -randkey %s" % s for s in self.spns]
        # -norandkey: export the existing keys (no kvno bump).
        q.append("ktadd -norandkey -k %s %s" % (self.keytab, " ".join(self.spns)))
        self.kadmin(*q)
        os.chmod(self.keytab, 0o600)

    def _start_kdc(self, attempts):
        last = None
        for i in range(attempts):
            if i:
                # Collision: another port, new config files.
                self.port = _pick_port()
                self._write_krb5_conf()
            if not _port_is_free(self.port):
                last = "port %d busy before start" % self.port
                continue
            ok, last = self._try_kdc()
            if ok:
                return
        raise LabError("KDC did not start: %s" % last)

    def _try_kdc(self):
        pidfile = self.path("kdc.pid")
        # -n: no fork, so the PID is ours from the start and the KDC cannot
        # outlive a crash of the daemonising parent.  -P still writes the
        # pid file (checked against our child below).
        proc = subprocess.Popen(["krb5kdc", "-n", "-P", pidfile, "-r", self.realm],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=self.tool_env(),
                                preexec_fn=_die_with_parent)
        deadline = time.time() + 10
        while time.time() < deadline:
            if proc.poll() is not None:
                return False, "krb5kdc exited with %d: %s" % (proc.returncode, self.kdc_log())
            mine = _process_sockets(proc.pid)
            on_port = _port_sockets(self.port)
            # Ready: our KDC has its TCP listener and UDP socket on the port.
            if len(mine & on_port) >= 2 and os.path.exists(pidfile):
                with open(pidfile) as f:
                    text = f.read().strip()
                if text == str(proc.pid):
                    if on_port - mine:
                        # Another process shares the port (SO_REUSEPORT):
                        # requests would be split between two KDCs.
                        self._kill(proc)
                        return False, "port %d shared with another process" % self.port
                    self.kdc_proc, self.kdc_pid = proc, proc.pid
                    return True, None
            time.sleep(0.005)
        self._kill(proc)
        return False, "krb5kdc not listening after 10 s: %s" % self.kdc_log()

    @staticmethod
    def _kill(proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def kdc_log(self):
        try:
            with open(self.path("kdc.log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def kinit(self, user, password=None, ccache=None):
        """Gets a TGT for user (password on stdin) into a per-user ccache
        (or ccache); returns the ccache path.  Raises LabError on failure."""
        path = ccache or os.path.join(self.ccache_dir, user + ".cc")
        if password is None:
            password = self.users[user].password
        self._run(["kinit", user], stdin=password + "\n",
                  env=self.tool_env(KRB5CCNAME="FILE:" + path))
        if ccache is None:
            self._ccaches[user] = path
        return path

    def ccache(self, user):
        """The user's ccache path, kinit'd on first use."""
        return self._ccaches.get(user) or self.kinit(user)

    # --- environments ---

    def daemon_env(self):
        """Variables to add to winrmd's environment (on top of os.environ)."""
        preload = "libnss_wrapper.so:libpam_wrapper.so"
        if os.environ.get("LD_PRELOAD"):
            preload += ":" + os.environ["LD_PRELOAD"]
        env = {
            "KRB5_CONFIG": self.krb5_conf,
            "KRB5_KTNAME": "FILE:" + self.keytab,
            "KRB5RCACHEDIR": self.rcache_dir,
            "KRB5CCNAME": "FILE:" + os.path.join(self.ccache_dir, "none"),
            "NTLM_USER_FILE": self.ntlm_file,
            "LD_PRELOAD": preload,
            "NSS_WRAPPER_PASSWD": self.passwd_file,
            "NSS_WRAPPER_GROUP": self.group_file,
            "NSS_WRAPPER_HOSTS": self.hosts_file,
            "PAM_WRAPPER": "1",
            # Without it the first PAM call spins at 100% CPU.
            "PAM_WRAPPER_SERVICE_DIR": self.pam_dir,
        }
        if self.mech_conf:
            env["GSS_MECH_CONFIG"] = self.mech_conf
        if os.environ.get("WINRMD_SANITIZERS") == "1":
            env.update(self.sanitizer_env())
        return env

    def sanitizer_env(self):
        """What an ASan-instrumented daemon needs under the wrappers: the
        runtime does not come first in LD_PRELOAD, and pam_wrapper's
        RTLD_DEEPBIND dlopen of libpam must be off (Debian's pam_wrapper
        1.1.4 reads UID_WRAPPER_DISABLE_DEEPBIND, not the documented
        PAM_WRAPPER_DISABLE_DEEPBIND)."""
        def append(var, opt):
            old = os.environ.get(var, "")
            return old + ":" + opt if old else opt
        return {
            # full malloc stacks: third-party leaks (lsan.supp) are matched
            # by library, and libcrypto has no frame pointers
            "ASAN_OPTIONS": append("ASAN_OPTIONS",
                                   "verify_asan_link_order=0:fast_unwind_on_malloc=0"),
            "LSAN_OPTIONS": append("LSAN_OPTIONS", "suppressions=" + self.lsan_supp),
            "UID_WRAPPER_DISABLE_DEEPBIND": "1",
            "NSS_WRAPPER_DISABLE_DEEPBIND": "1",
        }

    def daemon_full_env(self):
        env = dict(os.environ)
        env.update(self.daemon_env())
        return env

    def client_env(self, user=None):
        """Variables for a client process (on top of os.environ): this realm,
        the user's ccache (kinit'd on demand; user=None gives an empty one,
        never the caller's own), and OpenSSL's legacy provider for MD4.
        Clients need no nss_wrapper: they use localhost/127.0.0.1."""
        cc = self.ccache(user) if user else os.path.join(self.ccache_dir, "none")
        env = {"KRB5_CONFIG": self.krb5_conf, "KRB5CCNAME": "FILE:" + cc,
               "OPENSSL_CONF": self.openssl_conf}
        if self.mech_conf:
            env["GSS_MECH_CONFIG"] = self.mech_conf
        return env

    def apply_client_env(self, user=None):
        """Sets client_env(user) in os.environ, for in-process clients
        (pywinrm, gssapi).  KRB5CCNAME is read per GSSAPI call, so switching
        users in-process works.  OPENSSL_CONF however is read once, when
        OpenSSL first initialises in this process, and "import ssl" (which
        http.client, requests and urllib3 do) already does that - so this
        also loads the legacy provider directly (load_legacy_provider()).
        Returns the previous values (for restore_env)."""
        env = self.client_env(user)
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        load_legacy_provider()
        return old

    @staticmethod
    def restore_env(old):
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def client_full_env(self, user=None):
        """A complete client environment: os.environ without anything that
        belongs to the acceptor side (keytab, NTLM user file, wrappers, other
        Kerberos settings), plus client_env(user), plus this directory
        (tests/integration/lib) on PYTHONPATH."""
        drop = ("KRB5", "NTLM_USER_FILE", "NSS_WRAPPER", "PAM_WRAPPER", "LD_PRELOAD",
                "GSS_MECH_CONFIG", "OPENSSL_CONF")
        env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
        env.update(self.client_env(user))
        env["PYTHONPATH"] = LIBDIR + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        return env

    def run_client(self, args, user=None, input=None, timeout=60, env=None):
        """Runs Debian's python3 with args (e.g. ["-c", code] or a script)
        under client_full_env(user) (+ env); returns the CompletedProcess
        (text).  In the script, Lab.attach(lab.dir) gives this lab."""
        e = self.client_full_env(user)
        e.update(env or {})
        return subprocess.run([PYTHON] + list(args), input=input, capture_output=True,
                              text=True, env=e, timeout=timeout)

    def run_wrapped(self, args, timeout=30, **kw):
        """Runs a command under daemon_env() (fake users, PAM, keytab), with
        a timeout: pam_wrapper can hang on a broken setup."""
        return subprocess.run(args, capture_output=True, text=True,
                              env=self.daemon_full_env(), timeout=timeout, **kw)

    def pam_check(self, user, password, service=PAM_SERVICE):
        """pam_start/pam_authenticate/pam_acct_mgmt through pam_wrapper in a
        subprocess under daemon_env().  Returns a dict: start, auth, acct
        (PAM return codes; acct only when auth succeeded), auth_msg,
        acct_msg, prompts."""
        r = self.run_wrapped([PYTHON, "-c", PAM_CHECK, service, user, password])
        if r.returncode != 0:
            raise LabError("PAM check failed (%d): %s" % (r.returncode, r.stderr))
        return json.loads(r.stdout)

    def daemon_config(self):
        """Fragment for winrmd.Daemon(config=...)."""
        return {
            "Service": {"Auth": {"Keytab": self.keytab,
                                 "NtlmUserFile": self.ntlm_file,
                                 "PamService": PAM_SERVICE}},
            "Daemon": {"User": LISTENER_USER[0]},
            "Authorization": {"RemoteUsersGroup": "winrmusers"},
        }

    # --- teardown ---

    def stop_kdc(self):
        """Stops the KDC by its PID (ours; the pid file must agree)."""
        if self.kdc_proc is not None:
            self._kill(self.kdc_proc)
            self.kdc_proc = None

    def close(self):
        """Stops the KDC, removes the lab directory and the pam_wrapper
        leftovers.  Idempotent; also run at exit."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        self.stop_kdc()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.cleanup_pam_dirs()

    def cleanup_pam_dirs(self):
        """Removes the /tmp/pam.? directories that appeared during the
        lab's life (new name, or same name with a new inode) and whose
        owning process (their "pid" file) is gone.  Returns the paths
        removed."""
        removed = []
        for p, ino in _pam_dirs().items():
            if self._pam_before.get(p) == ino:
                continue
            if _pam_dir_owner_gone(p):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
        return removed


_legacy_loaded = False


def load_legacy_provider():
    """Loads OpenSSL 3's "legacy" (MD4) and "default" providers into this
    process's default library context with OSSL_PROVIDER_load - unlike
    OPENSSL_CONF, this works whenever it is called.  Idempotent."""
    global _legacy_loaded
    if _legacy_loaded:
        return True
    try:
        lib = ctypes.CDLL("libcrypto.so.3")
    except OSError:
        return False
    lib.OSSL_PROVIDER_load.restype = ctypes.c_void_p
    lib.OSSL_PROVIDER_load.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    # Loading any provider explicitly stops the implicit "default" one from
    # being loaded later, so load both.
    ok = all(lib.OSSL_PROVIDER_load(None, name) for name in (b"default", b"legacy"))
    _legacy_loaded = ok
    return ok


if __name__ == "__main__":
    # Manual use: python3 lab.py  -> prints the environment and waits.
    with Lab() as lab:
        print("lab dir %s, KDC on 127.0.0.1:%d, set-up %.3f s"
              % (lab.dir, lab.port, lab.setup_time))
        for k, v in sorted(lab.daemon_env().items()):
            print("export %s='%s'" % (k, v))
        sys.stdout.flush()
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
