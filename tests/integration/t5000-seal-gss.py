#!/usr/bin/python3
"""t5000 - message encryption in the helper (helper/seal-gss.c) and
its framing (listener/auth/seal.c) against python-gssapi initiators, through
tests/helper/seal-gss-tool (a GSS acceptor on stdin/stdout running under
the lab's acceptor environment): NTLM, SPNEGO(NTLM), raw Kerberos and
SPNEGO(Kerberos); both directions, 1 byte to 500 KiB, many messages in a
row (NTLM's RC4 state), the whole request/response chain with
lib/wsmancrypt.py bodies, tampered and integrity-only tokens refused,
replays refused, and a Kerberos RC4 (arcfour-hmac) context, which settles
the Length= semantics of padded tokens."""
import base64
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import gssapi.raw as graw  # noqa: E402
from gssclient import initiator_context  # noqa: E402
from lab import REALM, Lab  # noqa: E402
from tap import Tap  # noqa: E402
import wsmancrypt as wc  # noqa: E402

t = Tap()
SRCDIR = os.environ.get("WINRMD_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILDDIR = os.environ.get("WINRMD_BUILDDIR") or SRCDIR
TOOL = os.path.join(BUILDDIR, "tests", "helper", "seal-gss-tool")
SIZES = (0, 1, 37, 1000, 500 * 1024)
SOAP = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
        b'<s:Header/><s:Body>%s</s:Body></s:Envelope>')


def payload(n, seed=0):
    block = bytes((i * 7 + seed) & 0xFF for i in range(256))
    return (block * (n // 256 + 1))[:n]


def b64(data):
    return base64.b64encode(data).decode() if data else "-"


def unb64(text):
    return b"" if text == "-" else base64.b64decode(text)


class ToolError(RuntimeError):
    pass


class Tool:
    """The acceptor process; cmd() sends one line, returns the answer's
    words."""

    def __init__(self, env):
        self.proc = subprocess.Popen([TOOL], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)

    def cmd(self, *words):
        self.proc.stdin.write((" ".join(words) + "\n").encode())
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise ToolError("seal-gss-tool died (%s): %s" % (
                self.proc.wait(), self.proc.stderr.read().decode(errors="replace")[-2000:]))
        return line.decode().split()

    def close(self):
        """Returns (exit status, stderr)."""
        try:
            self.proc.stdin.write(b"quit\n")
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        return rc, self.proc.stderr.read().decode(errors="replace")

    # --- the operations ---

    def establish(self, ictx):
        """Runs the token loop; returns the acceptor's mech word."""
        self.cmd("reset")
        tok = ictx.step()
        while True:
            r = self.cmd("accept", b64(tok))
            if r[0] == "error":
                raise ToolError(" ".join(r))
            out = unb64(r[1])
            if r[0] == "continue":
                tok = ictx.step(out)
                continue
            if out and not ictx.complete:
                ictx.step(out)
            if not ictx.complete:
                raise ToolError("initiator not complete")
            return r[2]

    def unwrap(self, hdr, sealed):
        """Plaintext, or raises ToolError with the tool's reason."""
        r = self.cmd("unwrap", b64(hdr), b64(sealed))
        if r[0] != "plain":
            raise ToolError(" ".join(r))
        return unb64(r[1])

    def wrap(self, data):
        r = self.cmd("wrap", b64(data))
        if r[0] != "wrapped":
            raise ToolError(" ".join(r))
        return unb64(r[1]), unb64(r[2])

    def decrypt(self, ctype, body):
        """(plaintext, protocol, content type, parts, crlf-trimmed parts)."""
        r = self.cmd("decrypt", b64(ctype.encode()), b64(body))
        if r[0] != "plain":
            raise ToolError(" ".join(r))
        return unb64(r[1]), r[2], r[3], int(r[4]), int(r[5])

    def encrypt(self, protocol, data, multi=False):
        """(content type, body) of a response."""
        r = self.cmd("encrypt", protocol, "1" if multi else "0", b64(data))
        if r[0] != "body":
            raise ToolError(" ".join(r))
        return unb64(r[1]).decode(), unb64(r[2])


def acceptor_env(lab, **extra):
    """The lab's acceptor variables without the nss/pam wrappers, which
    the tool does not need."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KRB5", "NTLM_USER_FILE", "GSS_MECH_CONFIG"))}
    for k, v in lab.daemon_env().items():
        if not k.startswith(("LD_PRELOAD", "NSS_WRAPPER", "PAM_WRAPPER")):
            env[k] = v
    env.update(extra)
    return env


def raises(fn, *args):
    """The ToolError text fn raises, or None when it succeeds."""
    try:
        fn(*args)
    except ToolError as e:
        return str(e)
    return None


MECHS = (
    # label, gssclient mech, acceptor mech word, Kerberos?
    ("NTLM", "ntlm", "ntlm", False),
    ("SPNEGO(NTLM)", "spnego-ntlm", "ntlm", False),
    ("Kerberos", "krb5", "krb5", True),
    ("SPNEGO(Kerberos)", "spnego", "krb5", True),
)


TAKEOVER = [True]              # what the tool was told ("takeover on|off")


def fresh(lab, tool, mech, user="alice"):
    """A new initiator context established with the tool; its Sealer."""
    ictx = initiator_context(lab, user, mech=mech, domain="WINRMD")
    tool.establish(ictx)
    return wc.Sealer(ictx)


def test_mech(lab, tool, label, mech, want_mech, krb5):
    ictx = initiator_context(lab, "alice", mech=mech, domain="WINRMD")
    got = tool.establish(ictx)
    t.eq(got, want_mech, "%s: context established, acceptor mech %s" % (label, want_mech))
    s = wc.Sealer(ictx)
    t.eq(s.krb5, krb5, "%s: wsmancrypt detects the mechanism (Kerberos=%s)" % (label, krb5))
    hlen = 60 if krb5 else 16

    if not krb5:
        # gss-ntlmssp refuses to wrap an empty message (EINVAL), on either
        # side; the helper must just report it.
        r = tool.cmd("wrap", "-")
        t.ok(r[0] in ("error", "wrapped"), "%s: wrapping 0 bytes fails cleanly or works"
             % label, r)
    for n in SIZES if krb5 else SIZES[1:]:
        data = payload(n, n)
        h, sealed, pad = s.wrap(data)
        try:
            got = tool.unwrap(h, sealed + pad)
            t.ok(got == data and len(h) == hlen and not pad,
                 "%s: client -> helper, %d bytes (header %d)" % (label, n, len(h)),
                 "got %d bytes, header %d, padding %d" % (len(got), len(h), len(pad)))
        except ToolError as e:
            t.ok(False, "%s: client -> helper, %d bytes" % (label, n), e)
        try:
            hdr, sealed = tool.wrap(data)
            back, enc = s.unwrap(hdr, sealed)
            t.ok(back == data and enc and len(hdr) == hlen and len(sealed) == n,
                 "%s: helper -> client, %d bytes (header %d, sealed %d)"
                 % (label, n, len(hdr), len(sealed)))
        except ToolError as e:
            t.ok(False, "%s: helper -> client, %d bytes" % (label, n), e)

    if krb5:
        # AES-SHA1 contexts are taken over by helper/krb5-cfx.c at their
        # first message (as in winrmd-priv), unless "takeover off".
        t.eq(tool.cmd("path"), ["path", "cfx" if TAKEOVER[0] else "gss"],
             "%s: the context is held by %s" % (label, "krb5-cfx.c" if TAKEOVER[0]
                                                 else "MIT's GSSAPI"))

    # Many messages in a row, both directions interleaved: NTLM's RC4
    # stream and both sequence numbers must stay in step.
    bad = []
    for i in range(25):
        data = payload(100 + i * 13, i)
        h, sealed, pad = s.wrap(data)
        if tool.unwrap(h, sealed + pad) != data:
            bad.append("c->s %d" % i)
        if i % 3 == 0:
            continue                    # sometimes two requests in a row
        hdr, sealed = tool.wrap(data[::-1])
        if s.unwrap(hdr, sealed)[0] != data[::-1]:
            bad.append("s->c %d" % i)
    t.eq(bad, [], "%s: 25 requests and 16 responses interleaved" % label)

    if krb5:
        # Kerberos tokens stand alone: gaps and reordering within the
        # replay window pass, a replay does not (the same through
        # krb5-cfx.c and through MIT).
        toks = [s.wrap(b"<seq %d/>" % i) for i in range(70)]
        got = []
        for i in (2, 0, 1, 5):
            h, sealed, pad = toks[i]
            got.append(raises(tool.unwrap, h, sealed + pad))
        t.eq(got, [None] * 4, "%s: tokens 2, 0, 1, 5 out of order accepted" % label)
        h, sealed, pad = toks[1]
        err = raises(tool.unwrap, h, sealed + pad)
        t.ok(err is not None and "replay" in err, "%s: token 1 again refused" % label, err)
        h, sealed, pad = toks[69]
        t.eq(raises(tool.unwrap, h, sealed + pad), None,
             "%s: token 69 after a gap accepted" % label)
        h, sealed, pad = toks[3]
        err = raises(tool.unwrap, h, sealed + pad)
        if TAKEOVER[0]:
            t.ok(err is not None, "%s: token 3, behind the 64-token window, refused"
                 % label, err)
        else:
            # MIT 1.20 lets a token that far back through unchecked;
            # krb5-cfx.c refuses it (no HTTP client sends one that late)
            t.eq(err, None, "%s: token 3, behind the window, let through by MIT" % label)
        h, sealed, pad = toks[10]
        t.eq(raises(tool.unwrap, h, sealed + pad), None,
             "%s: token 10, inside the window, accepted" % label)

    # The chain: what the listener parses and the helper unwraps.
    proto = wc.SPNEGO
    for what, kw, body_len in (("pywinrm layout", {}, 1000),
                               ("Ruby layout (no tabs)", {"tabs": False}, 1000),
                               ("pypsrp Length (sealed)", {"length_mode": "sealed"}, 999),
                               ("x-multi-encrypted, 3 chunks", {"chunked": True}, 40000)):
        soap = SOAP % payload(body_len, 3)
        ct, body = wc.encrypt(s, proto, soap, **kw)
        try:
            plain, p, ctype, parts, crlf = tool.decrypt(ct, body)
            want_parts = 3 if kw.get("chunked") else 1
            t.ok(plain == soap and p == proto and parts == want_parts and crlf == 0
                 and ctype == "application/soap+xml;charset=UTF-8",
                 "%s: request chain, %s" % (label, what),
                 "protocol %s, type %s, %d parts, %d crlf" % (p, ctype, parts, crlf))
        except ToolError as e:
            t.ok(False, "%s: request chain, %s" % (label, what), e)
    for multi, n in ((False, 5000), (True, 40000)):
        soap = SOAP % payload(n, 5)
        try:
            ct, body = tool.encrypt(proto, soap, multi)
            t.eq(ct, wc.content_type(proto, multi),
                 "%s: response Content-Type (multi=%s)" % (label, multi))
            plain = wc.decrypt_strict(s, body, proto, multi)
            t.ok(plain == soap, "%s: response chain passes the strict client check "
                 "(multi=%s, %d parts)" % (label, multi, body.count(b"octet-stream")))
        except (ToolError, wc.WsmanCryptError) as e:
            t.ok(False, "%s: response chain (multi=%s)" % (label, multi), e)

    # A stray CRLF before the closing boundary is cut for NTLM and AES.
    ct, body = wc.encrypt(s, proto, SOAP % b"crlf")
    body = body[:-len(wc.CLOSE)] + b"\r\n" + wc.CLOSE
    try:
        plain, _, _, _, crlf = tool.decrypt(ct, body)
        t.ok(plain == SOAP % b"crlf" and crlf == 1,
             "%s: CRLF before the closing boundary tolerated and reported" % label)
    except ToolError as e:
        t.ok(False, "%s: CRLF before the closing boundary tolerated" % label, e)

    # The wrong mechanism path fails cleanly.
    tool.cmd("mode", "ntlm" if krb5 else "krb5")
    h, sealed, pad = s.wrap(b"wrong path")
    err = raises(tool.unwrap, h, sealed + pad)
    t.ok(err is not None, "%s: unwrap through the other mechanism's path refused" % label, err)
    err = raises(tool.wrap, b"wrong path")
    t.ok(err is not None, "%s: wrap through the other mechanism's path refused" % label, err)
    tool.cmd("mode", "auto")

    # Refusals, each on a fresh context (a failed unwrap may advance it).
    errors = []
    s = fresh(lab, tool, mech)
    h, sealed, pad = s.wrap(b"<tampered ciphertext/>")
    sealed = sealed[:3] + bytes([sealed[3] ^ 0x80]) + sealed[4:]
    err = raises(tool.unwrap, h, sealed + pad)
    errors.append(err)
    t.ok(err is not None, "%s: tampered ciphertext refused" % label, err)

    s = fresh(lab, tool, mech)
    h, sealed, pad = s.wrap(b"<tampered signature/>")
    h = h[:-1] + bytes([h[-1] ^ 0x01])
    err = raises(tool.unwrap, h, sealed + pad)
    errors.append(err)
    t.ok(err is not None, "%s: tampered signature refused" % label, err)

    s = fresh(lab, tool, mech)
    h, sealed, pad = s.wrap(b"<truncated/>")
    err = raises(tool.unwrap, h, sealed[:-1])
    errors.append(err)
    t.ok(err is not None, "%s: truncated ciphertext refused" % label, err)

    s = fresh(lab, tool, mech)
    h, sealed, pad = s.wrap(b"<once/>")
    tool.unwrap(h, sealed + pad)
    err = raises(tool.unwrap, h, sealed + pad)
    errors.append(err)
    t.ok(err is not None, "%s: replayed message refused" % label, err)

    s = fresh(lab, tool, mech)
    if krb5:
        h, sealed, pad = s.wrap(b"<integrity only/>", encrypt=False)
        err = raises(tool.unwrap, h, sealed + pad)
        errors.append(err)
        t.ok(err is not None and "integrity-only" in err,
             "%s: integrity-only token refused" % label, err)
    else:
        # gss-ntlmssp seals even when asked for integrity only; a signed
        # plaintext (the MIC as signature) is what an attacker could send.
        data = b"<signed only/>"
        err = raises(tool.unwrap, s.ctx.get_signature(data), data)
        errors.append(err)
        t.ok(err is not None, "%s: signed-only message (MIC + plaintext) refused"
             % label, err)

    t.ok(all(e is None or "left behind" not in e for e in errors),
         "%s: no refusal left plaintext in the output buffer" % label, errors)

    # Every deliberately broken body is refused by the chain.
    bad = []
    for kind in wc.BROKEN_KINDS:
        s = fresh(lab, tool, mech)
        ct, body = wc.broken_body(s, proto, SOAP % b"broken", kind)
        err = raises(tool.decrypt, ct, body)
        if (err is None) != (kind == "crlf-before-close"):
            bad.append((kind, err))
    t.eq(bad, [], "%s: all %d broken bodies refused (CRLF-before-close tolerated)"
         % (label, len(wc.BROKEN_KINDS)))


# --- lib/wsmancrypt.py's EncryptedSession against the C framing ---

class ToolServer:
    """Stands in for GssClient: post() hands the request to the tool as
    the daemon will (seal_parse + unwrap), answers the plaintext reversed,
    encrypted by the tool (wrap + seal_build), after an optional mutation
    of the response body."""

    def __init__(self, tool, ictx, scheme):
        self.tool, self.ctx, self.scheme = tool, ictx, scheme
        self.mutate = None
        self.requests = []

    def post(self, body, headers=None, path=None):
        ct = (headers or {})["Content-Type"]
        plain, proto, _, parts, _ = self.tool.decrypt(ct, body)
        self.requests.append((ct, parts))
        rct, rbody = self.tool.encrypt(proto, plain[::-1])
        if self.mutate:
            rct, rbody = self.mutate(rct, rbody)
        return 200, {"content-type": rct}, rbody


def test_session(lab, tool):
    for mech, scheme, proto in (("ntlm", "Negotiate", wc.SPNEGO),
                                ("krb5", "Kerberos", wc.KERBEROS),
                                ("spnego", "Negotiate", wc.SPNEGO)):
        ictx = initiator_context(lab, "alice", mech=mech, domain="WINRMD")
        tool.establish(ictx)
        srv = ToolServer(tool, ictx, scheme)
        sess = wc.EncryptedSession(srv)
        what = "%s/%s" % (scheme, mech)
        t.eq(sess.protocol, proto, "%s: session protocol %s" % (what, proto))
        soap = SOAP % payload(3000, 7)
        st, _, plain = sess.post(soap)
        t.ok(st == 200 and plain == soap[::-1] and
             srv.requests[-1][0] == wc.content_type(proto),
             "%s: EncryptedSession.post round trip" % what)
        st, _, plain = sess.post(SOAP % payload(50000, 8), chunked=True)
        t.ok(plain == (SOAP % payload(50000, 8))[::-1] and srv.requests[-1][1] == 4 and
             srv.requests[-1][0] == wc.content_type(proto, True),
             "%s: chunked post, 4 x-multi parts" % what)
        bad = []
        for name, mutate in (
                ("CRLF before the closing boundary",
                 lambda ct, b: (ct, b[:-len(wc.CLOSE)] + b"\r\n" + wc.CLOSE)),
                ("no tabs", lambda ct, b: (ct, b.replace(b"\tContent-Type", b"Content-Type"))),
                ("Length= off by one", lambda ct, b: (ct, re.sub(
                    rb"Length=([0-9]+)", lambda m: b"Length=%d" % (int(m.group(1)) + 1),
                    b, count=1))),
                ("other protocol", lambda ct, b: (ct.replace(proto, wc.CREDSSP), b)),
                ("unquoted Content-Type", lambda ct, b: (ct.replace('"', ""), b)),
                ("no closing boundary", lambda ct, b: (ct, b[:-len(wc.CLOSE)])),
                ("plaintext answer", lambda ct, b: ("application/soap+xml;charset=UTF-8",
                                                    b"<s:Envelope/>")),
                ("tampered", lambda ct, b: (ct, b[:-30] + bytes([b[-30] ^ 1]) + b[-29:]))):
            srv.mutate = mutate
            try:
                sess.post(SOAP % payload(3000, 9))
                bad.append(name)
            except wc.WsmanCryptError:
                pass
            srv.mutate = None
            # the failed response may have advanced the client's context
            ictx = initiator_context(lab, "alice", mech=mech, domain="WINRMD")
            tool.establish(ictx)
            srv.ctx = ictx
            sess = wc.EncryptedSession(srv)
        t.eq(bad, [], "%s: the strict check rejects 8 kinds of bad responses" % what)


# --- Kerberos RC4: a KDC of our own on the lab's database ---

class LabView:
    """The lab with another krb5.conf (initiator_context points
    KRB5_CONFIG at lab.krb5_conf)."""

    def __init__(self, lab, krb5_conf):
        self._lab = lab
        self.krb5_conf = krb5_conf

    def __getattr__(self, name):
        return getattr(self._lab, name)


def _wait_port(port, deadline):
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def _die_with_parent():
    """In the KDC child before exec: SIGTERM when this test dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)     # PR_SET_PDEATHSIG


def stop(proc):
    """Stops a child process of ours (by its Popen object)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _edit_conf(src, dst, **rel):
    """A copy of a krb5.conf with [libdefaults] relations replaced, and
    allow_rc4 (Debian's 1.20 has the 1.21 switch, off by default)."""
    lines = []
    for line in open(src).read().splitlines():
        key = line.strip().split(" = ")[0]
        lines.append("    %s = %s" % (key, rel[key]) if key in rel else line)
        if line.strip() == "[libdefaults]":
            lines.append("    allow_rc4 = true")
    text = "\n".join(lines) + "\n"
    with open(dst, "w") as f:
        f.write(text)
    return dst


def rc4_setup(lab):
    """Restarts the realm's KDC with RC4 allowed and creates an RC4-only
    service HTTP/rc4host; returns (kdc process, acceptor env, LabView for
    initiators, ccache holding the RC4 service ticket)."""
    both = "aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 arcfour-hmac"
    kdc_conf = _edit_conf(lab.krb5_conf, lab.path("krb5-rc4-kdc.conf"),
                          permitted_enctypes=both, default_tgs_enctypes=both)
    # RC4 only for the contexts: otherwise RFC 4537 negotiation gives the
    # acceptor subkey AES and the tokens are CFX again.
    rc4_conf = _edit_conf(lab.krb5_conf, lab.path("krb5-rc4-only.conf"),
                          permitted_enctypes="arcfour-hmac",
                          default_tgs_enctypes="arcfour-hmac")
    kt = lab.path("rc4.keytab")
    lab.kadmin("addprinc -randkey -e arcfour-hmac:normal HTTP/rc4host",
               "setstr HTTP/rc4host session_enctypes arcfour-hmac",
               "ktadd -norandkey -k %s HTTP/rc4host" % kt)
    lab.stop_kdc()
    env = lab.tool_env(KRB5_CONFIG=kdc_conf)
    kdc = subprocess.Popen(["krb5kdc", "-n", "-r", REALM], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                           preexec_fn=_die_with_parent)
    try:
        if not _wait_port(lab.port, time.time() + 10):
            raise RuntimeError("RC4 KDC did not start: %s" % lab.kdc_log())
        cc = lab.path("ccache", "alice-rc4.cc")
        shutil.copy(lab.ccache("alice"), cc)
        r = subprocess.run(["kvno", "HTTP/rc4host"], capture_output=True, text=True,
                           env=lab.tool_env(KRB5_CONFIG=kdc_conf, KRB5CCNAME="FILE:" + cc),
                           timeout=30)
        if r.returncode != 0:
            raise RuntimeError("kvno HTTP/rc4host: %s%s" % (r.stdout, r.stderr))
    except BaseException:
        stop(kdc)
        raise
    tenv = acceptor_env(lab, KRB5_CONFIG=rc4_conf, KRB5_KTNAME="FILE:" + kt)
    return kdc, tenv, LabView(lab, rc4_conf), cc


def test_rc4(lab):
    kdc = None
    tool = None
    try:
        kdc, tenv, view, cc = rc4_setup(lab)
        tool = Tool(tenv)
        ictx = initiator_context(view, "alice", mech="krb5", spn_host="rc4host", ccache=cc)
        t.eq(tool.establish(ictx), "krb5", "RC4: Kerberos context with an arcfour-hmac key")
        s = wc.Sealer(ictx)
        for n in (1, 37, 1000):
            data = payload(n, 9)
            h, sealed, pad = s.wrap(data)
            t.ok(h[:1] == b"\x60" and len(pad) == 1 and len(sealed) == n,
                 "RC4: client token is RFC 4757 style, %d-byte header, 1 padding byte"
                 % len(h), "header %r..., padding %d" % (h[:4], len(pad)))
            got = tool.unwrap(h, sealed + pad)
            t.eq(got, data, "RC4: client -> helper, %d bytes, padding removed" % n)
            hdr, sealed = tool.wrap(data)
            t.eq(len(sealed), n + 1, "RC4: helper's sealed data is plaintext + 1 padding byte")
            # What pypsrp and pyspnego (MIT IOV, an extra empty DATA) get:
            iov = graw.IOV((graw.IOVBufferType.header, False, hdr), sealed,
                           graw.IOVBufferType.data, std_layout=False)
            graw.unwrap_iov(ictx, iov)
            t.eq(iov[1].value, data + b"\x01",
                 "RC4: an IOV-unwrapping client gets the padding byte too, so "
                 "Length= must be the sealed length (%d)" % (n + 1))
        for mode in ("plain", "sealed"):
            soap = SOAP % payload(700, 1)
            ct, body = wc.encrypt(s, wc.KERBEROS, soap, length_mode=mode)
            plain, _, _, _, _ = tool.decrypt(ct, body)
            t.eq(plain, soap, "RC4: request with Length= = %s length accepted" % mode)
        soap = SOAP % payload(3000, 2)
        ct, body = tool.encrypt(wc.KERBEROS, soap)
        t.ok(b"Length=%d\r\n" % (len(soap) + 1) in body,
             "RC4: response Length= is plaintext + padding")
        t.eq(wc.decrypt_strict(s, body, wc.KERBEROS), soap,
             "RC4: response passes the strict client check")
        s2 = wc.Sealer(ictx)
        h, sealed, pad = s2.wrap(b"<integrity/>", encrypt=False)
        err = raises(tool.unwrap, h, sealed + pad)
        t.ok(err is not None and "integrity-only" in err,
             "RC4: integrity-only token refused", err)
    finally:
        if tool is not None:
            rc, err = tool.close()
            t.eq(rc, 0, "RC4: tool exits cleanly")
            t.not_contains(err, "Sanitizer", "RC4: no sanitizer report")
        if kdc is not None:
            stop(kdc)


if not os.access(TOOL, os.X_OK):
    t.ok(False, "seal-gss-tool is built", "missing: %s (make check builds it)" % TOOL)
    sys.exit(t.done())

with Lab() as lab:
    tool = Tool(acceptor_env(lab))
    try:
        for m in MECHS:
            t.run(test_mech, lab, tool, *m)
        # the same Kerberos cases through MIT's wrap and unwrap
        TAKEOVER[0] = False
        tool.cmd("takeover", "off")
        for m in MECHS:
            if m[3]:
                t.run(test_mech, lab, tool, m[0] + " via MIT", *m[1:])
        TAKEOVER[0] = True
        tool.cmd("takeover", "on")
        t.run(test_session, lab, tool)
        r = tool.cmd("unwrap", "-", "-")
        t.ok(r[0] == "error", "unwrap without a context fails cleanly", r)
        r = tool.cmd("reset")
        r = tool.cmd("wrap", b64(b"x"))
        t.ok(r[0] == "error", "wrap without a context fails cleanly", r)
    finally:
        rc, err = tool.close()
        t.eq(rc, 0, "tool exits cleanly")
        t.not_contains(err, "Sanitizer", "no sanitizer report", )
    t.run(test_rc4, lab)
sys.exit(t.done())
