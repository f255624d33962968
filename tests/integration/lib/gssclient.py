"""gssclient.py - a small WinRM HTTP client on python-gssapi, for what
Debian's pywinrm cannot do: SPNEGO tokens (pykerberos sends raw krb5), the
"Kerberos" scheme, SPNEGO-wrapped NTLM, Kerberos channel bindings, and
access to the security context for message-encryption tests.

    c = GssClient(d.url, lab, "alice")                 # Negotiate, SPNEGO(krb5)
    status, headers, body = c.handshake()               # token loop, keep-alive
    c.mutual_verified                                   # server's AP-REP checked
    status, headers, body = c.post(soap)                # same connection, no auth
    c.ctx                                               # gssapi.SecurityContext

mech selects what goes inside the Authorization header:
  "spnego"       SPNEGO with the user's Kerberos ccache (what pyspnego and
                 Windows send under Negotiate)
  "krb5"         raw Kerberos GSS tokens (what pywinrm/pykerberos sends;
                 the only kind the "Kerberos" scheme carries)
  "ntlm"         raw NTLMSSP (what requests_ntlm sends under Negotiate)
  "spnego-ntlm"  SPNEGO wrapping NTLM (GSSAPI/Windows-style clients)
The NTLM variants acquire credentials from a password
(gss_acquire_cred_with_password on "DOMAIN\\user"): gss-ntlmssp then needs
neither NTLM_USER_FILE nor OPENSSL_CONF on the client (it has its own MD4).

The in-process Kerberos library must use the lab's krb5.conf: the client
sets KRB5_CONFIG (and GSS_MECH_CONFIG when the lab needs one) in os.environ.
Those are process-wide realm settings; the user is chosen per client by its
credential (the user's ccache, or the password), never through KRB5CCNAME.
"""
import base64
import binascii
import hashlib
import http.client
import os
import re
import ssl
import urllib.parse

import gssapi
import gssapi.raw as graw

SOAP_CT = "application/soap+xml;charset=UTF-8"
KRB5 = gssapi.MechType.kerberos
SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
NTLM = gssapi.OID.from_int_seq("1.3.6.1.4.1.311.2.2.10")
MECHS = ("spnego", "krb5", "ntlm", "spnego-ntlm")

_B64 = re.compile(r"^[A-Za-z0-9+/]+=*$")
Flag = gssapi.RequirementFlag


class GssClientError(RuntimeError):
    pass


def use_lab_config(lab):
    """Points this process's Kerberos/GSSAPI at the lab (realm settings
    only; MIT re-reads KRB5_CONFIG whenever it creates a context)."""
    os.environ["KRB5_CONFIG"] = lab.krb5_conf
    if getattr(lab, "mech_conf", None):
        os.environ["GSS_MECH_CONFIG"] = lab.mech_conf


def display_name(name):
    """str() of a GSS name without the trailing NUL that gss-ntlmssp counts
    in its display-name length ("WINRMD\\alice\\x00")."""
    return str(name).rstrip("\x00") if name is not None else None


def flags_int(flags):
    """A context's flag set as the integer the C API shows (0x1be...)."""
    return sum(int(f) for f in flags)


def channel_bindings(application_data):
    """GSS channel bindings carrying only application data (no addresses),
    as HTTP clients send them: b"tls-server-end-point:" + hash."""
    if application_data is None:
        return None
    return graw.ChannelBindings(application_data=application_data)


def tls_server_end_point(cert_der):
    """RFC 5929 tls-server-end-point binding data for a server certificate
    (DER): the certificate hashed with its signature hash, SHA-256 when that
    is MD5 or SHA-1, prefixed with "tls-server-end-point:"."""
    algo = _signature_hash(cert_der)
    if algo in (None, "md5", "sha1"):
        algo = "sha256"
    return b"tls-server-end-point:" + hashlib.new(algo, cert_der).digest()


def _der_items(data, pos, end):
    """Yields (tag, start of content, end of content) of DER items."""
    while pos < end:
        tag = data[pos]
        n = data[pos + 1]
        pos += 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(data[pos:pos + k], "big")
            pos += k
        yield tag, pos, pos + n
        pos += n


# Signature algorithm OIDs (DER content) -> hash name.
_SIG_HASH = {
    "2a864886f70d010104": "md5", "2a864886f70d010105": "sha1",
    "2a864886f70d01010b": "sha256", "2a864886f70d01010c": "sha384",
    "2a864886f70d01010d": "sha512", "2a8648ce3d040301": "sha1",
    "2a8648ce3d040302": "sha256", "2a8648ce3d040303": "sha384",
    "2a8648ce3d040304": "sha512",
}


def _signature_hash(cert_der):
    """Hash of Certificate.signatureAlgorithm (None when unknown, e.g.
    RSA-PSS or Ed25519)."""
    try:
        _, s, e = next(_der_items(cert_der, 0, len(cert_der)))      # Certificate
        items = list(_der_items(cert_der, s, e))                     # tbs, sigAlg, sig
        _, s, e = items[1]
        tag, s, e = next(_der_items(cert_der, s, e))                 # OID
        return _SIG_HASH.get(cert_der[s:e].hex()) if tag == 6 else None
    except (StopIteration, IndexError):
        return None


def initiator_context(lab, user, mech="spnego", spn_host="localhost", service="HTTP",
                      channel_bindings_data=None, mutual=True, password=None,
                      domain=None, flags=None, ccache=None):
    """A fresh initiating gssapi.SecurityContext for user (see the module
    docstring for mech).  Kerberos mechs use ccache (default
    lab.ccache(user), kinit'd on demand); password is for NTLM only.
    domain: the NTLM domain (default lab.ntlm_domain; "" sends the bare
    user name; a user given as "DOM\\name" is used as is).
    flags default to MUTUAL (if mutual) | INTEG | CONF | SEQUENCE | REPLAY -
    no DCE style, which would add a third leg and change the wrap header."""
    if mech not in MECHS:
        raise ValueError("mech must be one of %s" % (MECHS,))
    use_lab_config(lab)
    target = gssapi.Name("%s@%s" % (service, spn_host), gssapi.NameType.hostbased_service)
    if flags is None:
        flags = [Flag.integrity, Flag.confidentiality, Flag.out_of_sequence_detection,
                 Flag.replay_detection]
        if mutual:
            flags.append(Flag.mutual_authentication)
    if mech in ("spnego", "krb5"):
        creds = gssapi.Credentials(usage="initiate",
                                   store={"ccache": "FILE:" + (ccache or lab.ccache(user))})
    else:
        if "\\" in user:
            principal = user
        else:
            dom = lab.ntlm_domain if domain is None else domain
            principal = "%s\\%s" % (dom, user) if dom else user
        if password is None:
            password = lab.users[user.split("\\")[-1]].password
        # SPNEGO(NTLM) needs a SPNEGO credential restricted to NTLM: given
        # an NTLM-only credential, SPNEGO finds no element of its own, falls
        # back to default credentials and gss-ntlmssp then silently takes
        # the first user of NTLM_USER_FILE (or fails without that file).
        spnego = mech == "spnego-ntlm"
        res = graw.acquire_cred_with_password(
            gssapi.Name(principal, gssapi.NameType.user), password.encode(),
            usage="initiate", mechs=[SPNEGO if spnego else NTLM])
        if spnego:
            graw.set_neg_mechs(res.creds, [NTLM])
        creds = gssapi.Credentials(res.creds)
    return gssapi.SecurityContext(
        name=target, creds=creds, usage="initiate", flags=flags,
        mech={"krb5": KRB5, "ntlm": NTLM}.get(mech, SPNEGO),
        channel_bindings=channel_bindings(channel_bindings_data))


def wrap_iov(ctx, data, encrypt=True):
    """gss_wrap_iov with [HEADER, DATA, PADDING], as MS-WSMV Kerberos
    encryption uses it (gss-ntlmssp has no IOV support: use wrap() there).
    Returns (header, encrypted data, padding); with aes256-cts the header is
    60 bytes and the padding empty."""
    iov = graw.IOV(graw.IOVBufferType.header, data, graw.IOVBufferType.padding,
                   std_layout=False)
    graw.wrap_iov(ctx, iov, confidential=encrypt)
    return iov[0].value, iov[1].value, iov[2].value or b""


def unwrap_iov(ctx, header, data):
    """gss_unwrap_iov with [HEADER, DATA]; returns the plaintext."""
    iov = graw.IOV((graw.IOVBufferType.header, False, header), data, std_layout=False)
    graw.unwrap_iov(ctx, iov)
    return iov[1].value


def auth_tokens(headers_list, scheme):
    """Base64-decoded tokens for scheme in WWW-Authenticate header values
    (a list; one value may hold several comma-separated challenges)."""
    out = []
    for value in headers_list:
        for part in value.split(","):
            words = part.strip().split(None, 1)
            if len(words) == 2 and words[0].lower() == scheme.lower() \
                    and _B64.match(words[1].strip()):
                try:
                    out.append(base64.b64decode(words[1].strip()))
                except binascii.Error:
                    pass
    return out


class _CountingHTTPConnection(http.client.HTTPConnection):
    """Counts TCP connections: http.client silently reconnects after the
    server closes, which would lose a connection-bound authentication."""
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.connects = 0

    def connect(self):
        super().connect()
        self.connects += 1


class _CountingHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.connects = 0

    def connect(self):
        super().connect()
        self.connects += 1


class GssClient:
    """One keep-alive HTTP(S) connection authenticated with GSSAPI.

    Arguments as for initiator_context() (channel_bindings: application
    data bytes); https URLs use ssl_context (default: no certificate
    verification).

    Attributes after handshake(): ctx (the SecurityContext), legs (requests
    sent with an Authorization header), exchanges (list of (status, headers)
    per leg), server_token (the last token the server sent, or None),
    mutual_verified (the server's final token was processed and completed
    the context), connects (TCP connections opened so far; 1 when
    keep-alive held).
    """

    def __init__(self, url, lab, user, scheme="Negotiate", mech="spnego",
                 spn_host="localhost", service="HTTP", channel_bindings=None,
                 mutual=True, password=None, domain=None, timeout=30,
                 ssl_context=None, flags=None, ccache=None):
        self.url = url
        u = urllib.parse.urlsplit(url)
        self.path = u.path or "/wsman"
        self.scheme = scheme
        self.mech = mech
        self.user = user
        if u.scheme == "https":
            if ssl_context is None:
                ssl_context = ssl.create_default_context()
                ssl_context.check_hostname = False
                ssl_context.verify_mode = ssl.CERT_NONE
            self.conn = _CountingHTTPSConnection(u.hostname, u.port or 5986,
                                                 timeout=timeout, context=ssl_context)
        else:
            self.conn = _CountingHTTPConnection(u.hostname, u.port or 5985, timeout=timeout)
        self.ctx = initiator_context(lab, user, mech=mech, spn_host=spn_host,
                                     service=service,
                                     channel_bindings_data=channel_bindings,
                                     mutual=mutual, password=password, domain=domain,
                                     flags=flags, ccache=ccache)
        self.legs = 0
        self.exchanges = []
        self.server_token = None
        self.mutual_verified = False

    @property
    def connects(self):
        return self.conn.connects

    @property
    def complete(self):
        return self.ctx.complete

    def peer_cert_der(self):
        """The server certificate (DER) of an HTTPS connection, for
        tls_server_end_point().  Connects when needed."""
        if self.conn.sock is None:
            self.conn.connect()
        return self.conn.sock.getpeercert(binary_form=True)

    def _request(self, body, headers, path):
        if isinstance(body, str):
            body = body.encode()
        h = {"Content-Type": SOAP_CT, "Connection": "Keep-Alive"}
        h.update(headers or {})
        self.conn.request("POST", path or self.path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        hdrs = {}
        for k, v in r.getheaders():
            k = k.lower()
            hdrs[k] = hdrs[k] + "\n" + v if k in hdrs else v
        if r.will_close:
            # The server ends the connection: the next request would go out
            # on a new, unauthenticated one.
            self.conn.close()
        return r.status, hdrs, data, r.msg.get_all("WWW-Authenticate") or []

    def handshake(self, body=b"", headers=None, path=None):
        """Runs the token loop as real clients do: POST body with
        "Authorization: <scheme> <b64 token>"; a 401 carrying
        "WWW-Authenticate: <scheme> <b64>" continues the loop; any other
        answer ends it.  A token on the final answer (Kerberos AP-REP, SPNEGO
        accept-completed) is fed to the context: mutual_verified tells
        whether that happened and completed it (a bad token raises
        gssapi's error).  Returns (status, headers, body) of the last
        response; a 401 without a token means the server refused."""
        token = self.ctx.step()
        while True:
            h = dict(headers or {})
            h["Authorization"] = "%s %s" % (self.scheme, base64.b64encode(token).decode())
            status, hdrs, data, challenges = self._request(body, h, path)
            self.legs += 1
            self.exchanges.append((status, hdrs))
            tokens = auth_tokens(challenges, self.scheme)
            in_token = tokens[0] if tokens else None
            if in_token is not None:
                self.server_token = in_token
            if status == 401:
                if in_token is None or self.ctx.complete:
                    return status, hdrs, data           # refused
                token = self.ctx.step(in_token)
                if not token:
                    raise GssClientError("server wants another leg but the "
                                         "client context has nothing to send")
                continue
            if in_token is not None and not self.ctx.complete:
                out = self.ctx.step(in_token)
                if out:
                    raise GssClientError("context produced a token after the "
                                         "final response (%d bytes)" % len(out))
                self.mutual_verified = self.ctx.complete
            return status, hdrs, data

    def post(self, body, headers=None, path=None):
        """A request on the authenticated connection, with no Authorization
        header.  Returns (status, headers, body)."""
        status, hdrs, data, _ = self._request(body, headers, path)
        return status, hdrs, data

    # --- message protection, for the encryption tests ---

    def wrap(self, data, encrypt=True):
        """gss_wrap: for NTLM the output is signature(16) || sealed data."""
        return self.ctx.wrap(data, encrypt).message

    def unwrap(self, data):
        return self.ctx.unwrap(data).message

    def wrap_iov(self, data, encrypt=True):
        return wrap_iov(self.ctx, data, encrypt)

    def unwrap_iov(self, header, data):
        return unwrap_iov(self.ctx, header, data)

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
