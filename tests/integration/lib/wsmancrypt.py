"""wsmancrypt.py - MS-WSMV 2.2.9.1 message encryption for the tests: an
encrypting client on top of gssclient.GssClient, a strict checker of the
server's encrypted responses, and builders of deliberately broken bodies.

    c = GssClient(d.url, lab, "alice", mech="krb5")      # lib/gssclient.py
    c.handshake(b"")                                      # empty-body auth
    s = EncryptedSession(c)                               # SPNEGO or Kerberos
    status, headers, plain = s.post(soap_bytes)           # encrypted both ways
    s.post(soap_bytes, chunked=True)                      # x-multi-encrypted

The request body is byte for byte what pywinrm/pypsrp/Go send:

    --Encrypted Boundary\\r\\n
    \\tContent-Type: <protocol>\\r\\n
    \\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=<N>\\r\\n
    --Encrypted Boundary\\r\\n
    \\tContent-Type: application/octet-stream\\r\\n
    <u32 LE H><H bytes header/signature><sealed>--Encrypted Boundary--\\r\\n

with Content-Type: multipart/encrypted;protocol="<protocol>";boundary=
"Encrypted Boundary".  The protocol string follows the client's scheme
word: "Kerberos" -> application/HTTP-Kerberos-session-encrypted, anything
else (Negotiate) -> application/HTTP-SPNEGO-session-encrypted.

NTLM contexts wrap with gss_wrap and split the output after the 16-byte
signature; Kerberos contexts (raw or under SPNEGO) use gss_wrap_iov with
HEADER, DATA and PADDING (60-byte header with AES).

post() checks the response strictly and raises WsmanCryptError on any
deviation: Content-Type exactly multipart/encrypted (or
x-multi-encrypted) with the request's protocol and boundary="Encrypted
Boundary", every part header with its tab, Length= last and equal to the
number of sealed bytes, the header length field, no CRLF between the
sealed data and the closing "--Encrypted Boundary--\\r\\n" (which must end
the body), charset UTF-8, and after unwrapping Length= equal to the
plaintext length (plaintext + padding for an RC4 token).  401 answers,
which are never encrypted, come back as they are.

Broken bodies for negative tests: s.broken(soap, kind) (or broken_body()) returns
(content_type, body) for kind in BROKEN_KINDS; s.post_raw(body, ct) sends
any body.  Every wrap advances the context (NTLM RC4 state, sequence
numbers): after a broken body the server's context no longer matches, so
use a fresh connection afterwards.
"""
import re
import struct

import gssapi
import gssapi.raw as graw

from gssclient import wrap_iov

SPNEGO = "application/HTTP-SPNEGO-session-encrypted"
KERBEROS = "application/HTTP-Kerberos-session-encrypted"
CREDSSP = "application/HTTP-CredSSP-session-encrypted"
BOUNDARY = b"Encrypted Boundary"
DELIM = b"--" + BOUNDARY
CLOSE = DELIM + b"--\r\n"
CHUNK = 16384
SOAP_TYPE = "application/soap+xml"
NTLM_SIG = 16
KRB5_OIDS = ("1.2.840.113554.1.2.2", "1.2.840.48018.1.2.2")

BROKEN_KINDS = (
    "tampered-ciphertext",   # one sealed byte flipped
    "tampered-signature",    # one header/signature byte flipped
    "sig-length-huge",       # H larger than the bytes present
    "sig-length-zero",       # H = 0
    "sig-length-off",        # H one too small (header/data split moved)
    "length-mismatch",       # Length= one more than the plaintext
    "length-missing",        # no Length= in OriginalContent
    "length-garbage",        # Length=12x
    "wrong-protocol",        # first part names the other protocol
    "no-octet-stream",       # second part without its Content-Type
    "truncated",             # body cut inside the sealed data
    "no-closing",            # closing boundary missing
    "crlf-before-close",     # CRLF between the data and the boundary: winrmd
                             # tolerates it for NTLM/AES (listener/auth/seal.h)
    "no-parts",              # only the closing boundary
)


class WsmanCryptError(RuntimeError):
    pass


def content_type(protocol, multi=False):
    """The Content-Type clients send and expect back (quotes included)."""
    return '%s;protocol="%s";boundary="Encrypted Boundary"' % (
        "multipart/x-multi-encrypted" if multi else "multipart/encrypted", protocol)


def protocol_for_scheme(scheme):
    return KERBEROS if scheme.lower() == "kerberos" else SPNEGO


def is_krb5_context(ctx):
    """Whether a complete context's mechanism is Kerberos (raw or
    negotiated by SPNEGO)."""
    try:
        return ctx.mech is not None and ctx.mech.dotted_form in KRB5_OIDS
    except gssapi.exceptions.GSSError:
        return False


class Sealer:
    """Wrap/unwrap of one WinRM part with a gssapi.SecurityContext.

    wrap(plain) -> (header, sealed, padding); the wire carries
    LE32(len(header)) || header || sealed || padding.
    unwrap(header, sealed) -> plaintext (padding removed).
    """

    def __init__(self, ctx, krb5=None):
        self.ctx = ctx
        self.krb5 = is_krb5_context(ctx) if krb5 is None else krb5

    def wrap(self, plain, encrypt=True):
        if self.krb5:
            return wrap_iov(self.ctx, plain, encrypt)
        out = self.ctx.wrap(plain, encrypt).message
        return out[:NTLM_SIG], out[NTLM_SIG:], b""

    def unwrap(self, header, sealed):
        """Returns (plaintext, encrypted flag)."""
        if not self.krb5 or header[:1] == b"\x60":
            # NTLM, or an RFC 1964-style Kerberos token (RC4): plain
            # gss_unwrap removes RC4's padding byte, IOV would not.
            r = self.ctx.unwrap(header + sealed)
            return r.message, r.encrypted
        iov = graw.IOV((graw.IOVBufferType.header, False, header), sealed,
                       std_layout=False)
        r = graw.unwrap_iov(self.ctx, iov)
        return iov[1].value or b"", r.encrypted


def build_group(protocol, header, sealed, length, charset="UTF-8", tabs=True,
                sig_len=None, meta_protocol=None, octet_header=True,
                length_field=None):
    """One two-part group, exactly as pywinrm builds it (tabs=False gives
    Ruby's and OMI's spelling).  The optional arguments break it on
    purpose: sig_len (the 4-byte field), meta_protocol (the first part's
    Content-Type), octet_header=False (no second-part header),
    length_field (the whole "Length=..." text, "" for none)."""
    t = b"\t" if tabs else b""
    if length_field is None:
        length_field = "Length=%d" % length
    meta = "type=%s;charset=%s" % (SOAP_TYPE, charset)
    if length_field:
        meta += ";" + length_field
    out = DELIM + b"\r\n"
    out += t + b"Content-Type: " + (meta_protocol or protocol).encode() + b"\r\n"
    out += t + b"OriginalContent: " + meta.encode() + b"\r\n"
    out += DELIM + b"\r\n"
    if octet_header:
        out += t + b"Content-Type: application/octet-stream\r\n"
    out += struct.pack("<I", len(header) if sig_len is None else sig_len)
    return out + header + sealed


def encrypt(sealer, protocol, plain, chunked=False, tabs=True, length_mode="plain"):
    """(content_type, body) of plain encrypted with sealer.  chunked: one
    group per 16 KiB of plaintext under multipart/x-multi-encrypted.
    length_mode "plain" writes the plaintext length (pywinrm), "sealed"
    plaintext + padding (pypsrp, Ruby); they differ for RC4 only."""
    chunks = [plain[i:i + CHUNK] for i in range(0, len(plain), CHUNK)] if chunked else [plain]
    body = b""
    for chunk in chunks:
        h, s, p = sealer.wrap(chunk)
        n = len(chunk) + (len(p) if length_mode == "sealed" else 0)
        body += build_group(protocol, h, s + p, n, tabs=tabs)
    return content_type(protocol, chunked), body + CLOSE


_GROUP = re.compile(
    rb"--Encrypted Boundary\r\n"
    rb"\tContent-Type: (?P<proto>[^\r\n]*)\r\n"
    rb"\tOriginalContent: type=application/soap\+xml;charset=(?P<cs>[^;\r\n]*);"
    rb"Length=(?P<n>0|[1-9][0-9]*)\r\n"
    rb"--Encrypted Boundary\r\n"
    rb"\tContent-Type: application/octet-stream\r\n")


def parse_strict(body, protocol, multi=False, charset="UTF-8"):
    """Splits a server response into [(length, header, sealed)], checking
    the layout byte for byte (see the module docstring).  The sealed part
    must be exactly Length= bytes: the server writes Length= as the sealed
    length (padding included)."""
    parts = []
    pos = 0
    if not body.endswith(CLOSE):
        raise WsmanCryptError("body does not end with %r: %r" % (CLOSE, body[-40:]))
    end = len(body) - len(CLOSE)
    while pos < end:
        m = _GROUP.match(body, pos)
        if not m:
            raise WsmanCryptError("group at offset %d does not match the layout: %r"
                                  % (pos, body[pos:pos + 200]))
        if m.group("proto") != protocol.encode():
            raise WsmanCryptError("part protocol %r, request used %r"
                                  % (m.group("proto"), protocol))
        if m.group("cs") != charset.encode():
            raise WsmanCryptError("charset %r, expected %r" % (m.group("cs"), charset))
        n = int(m.group("n"))
        if multi and n > CHUNK:
            raise WsmanCryptError("x-multi-encrypted part of %d bytes" % n)
        pos = m.end()
        if end - pos < 4:
            raise WsmanCryptError("no room for the header length at %d" % pos)
        h = struct.unpack("<I", body[pos:pos + 4])[0]
        pos += 4
        if h == 0 or h > end - pos:
            raise WsmanCryptError("header length %d at offset %d, %d bytes left"
                                  % (h, pos - 4, end - pos))
        header = body[pos:pos + h]
        pos += h
        if n > end - pos:
            raise WsmanCryptError("Length=%d but only %d sealed bytes" % (n, end - pos))
        sealed = body[pos:pos + n]
        pos += n
        if pos != end and not body.startswith(DELIM + b"\r\n", pos):
            raise WsmanCryptError("%r after the %d sealed bytes (Length= wrong, or a "
                                  "CRLF before the boundary)" % (body[pos:pos + 24], n))
        parts.append((n, header, sealed))
    if not parts:
        raise WsmanCryptError("response has no encrypted part")
    if not multi and len(parts) != 1:
        raise WsmanCryptError("multipart/encrypted response with %d parts" % len(parts))
    return parts


def decrypt_strict(sealer, body, protocol, multi=False, charset="UTF-8"):
    """Checks and decrypts a response body; returns the plaintext."""
    plain = b""
    for n, header, sealed in parse_strict(body, protocol, multi, charset):
        if not sealer.krb5 and len(header) != NTLM_SIG:
            raise WsmanCryptError("NTLM signature of %d bytes" % len(header))
        try:
            data, encrypted = sealer.unwrap(header, sealed)
        except gssapi.exceptions.GSSError as e:
            raise WsmanCryptError("unwrap failed: %s" % e) from e
        if not encrypted:
            raise WsmanCryptError("the server sent an integrity-only token")
        pad = n - len(data)
        rc4 = sealer.krb5 and header[:1] == b"\x60"
        if pad != 0 and not (rc4 and 1 <= pad <= 8):
            raise WsmanCryptError("Length=%d but the plaintext has %d bytes" % (n, len(data)))
        plain += data
    return plain


class EncryptedSession:
    """Encrypted SOAP over an authenticated GssClient (keep-alive)."""

    def __init__(self, gss_client, chunked=False, protocol=None, tabs=True,
                 length_mode="plain", krb5=None):
        self.client = gss_client
        self.protocol = protocol or protocol_for_scheme(gss_client.scheme)
        self.chunked = chunked
        self.tabs = tabs
        self.length_mode = length_mode
        self.sealer = Sealer(gss_client.ctx, krb5)
        self.last_request = None
        self.last_response = None

    def encrypt(self, soap, chunked=None):
        return encrypt(self.sealer, self.protocol, soap,
                       self.chunked if chunked is None else chunked,
                       self.tabs, self.length_mode)

    def post_raw(self, body, ctype, headers=None, path=None):
        """Sends body as is; returns (status, headers, raw body)."""
        h = dict(headers or {})
        h["Content-Type"] = ctype
        self.last_request = body
        status, hdrs, data = self.client.post(body, h, path)
        self.last_response = (status, hdrs, data)
        return status, hdrs, data

    def decrypt_response(self, status, hdrs, data):
        ct = hdrs.get("content-type", "")
        if status == 401:
            return data
        for multi in (False, True):
            if ct == content_type(self.protocol, multi):
                return decrypt_strict(self.sealer, data, self.protocol, multi)
        raise WsmanCryptError("HTTP %d response is not encrypted as expected: "
                              "Content-Type %r (want %r), body %r"
                              % (status, ct, content_type(self.protocol), data[:300]))

    def post(self, soap, headers=None, path=None, chunked=None):
        """Encrypts soap (bytes or str), posts it on the authenticated
        connection and returns (status, headers, decrypted body).  A 401
        comes back unencrypted; anything else must be encrypted."""
        if isinstance(soap, str):
            soap = soap.encode()
        ctype, body = self.encrypt(soap, chunked)
        status, hdrs, data = self.post_raw(body, ctype, headers, path)
        return status, hdrs, self.decrypt_response(status, hdrs, data)

    def broken(self, soap, kind):
        """(content_type, body) of soap encrypted, then broken as kind
        says (BROKEN_KINDS).  Consumes one wrap of the context."""
        return broken_body(self.sealer, self.protocol, soap, kind, self.tabs)


def broken_body(sealer, protocol, soap, kind, tabs=True):
    """(content_type, body) of soap encrypted with sealer, then broken as
    kind says (BROKEN_KINDS).  Consumes one wrap of the context."""
    if isinstance(soap, str):
        soap = soap.encode()
    if kind not in BROKEN_KINDS:
        raise ValueError("kind must be one of %s" % (BROKEN_KINDS,))
    ctype = content_type(protocol)
    if kind == "no-parts":
        return ctype, CLOSE
    h, s, p = sealer.wrap(soap)
    s += p
    n = len(soap)
    kw = {}
    if kind == "tampered-ciphertext":
        i = len(s) // 2
        s = s[:i] + bytes([s[i] ^ 0x01]) + s[i + 1:]
    elif kind == "tampered-signature":
        i = len(h) - 1
        h = h[:i] + bytes([h[i] ^ 0x01])
    elif kind == "sig-length-huge":
        kw["sig_len"] = len(h) + len(s) + 4096
    elif kind == "sig-length-zero":
        kw["sig_len"] = 0
    elif kind == "sig-length-off":
        kw["sig_len"] = len(h) - 1
    elif kind == "length-mismatch":
        n += 1
    elif kind == "length-missing":
        kw["length_field"] = ""
    elif kind == "length-garbage":
        kw["length_field"] = "Length=%dx" % n
    elif kind == "wrong-protocol":
        kw["meta_protocol"] = KERBEROS if protocol == SPNEGO else SPNEGO
    elif kind == "no-octet-stream":
        kw["octet_header"] = False
    body = build_group(protocol, h, s, n, tabs=tabs, **kw)
    if kind == "truncated":
        return ctype, body[:len(body) - max(1, len(s) // 2)]
    if kind == "no-closing":
        return ctype, body
    if kind == "crlf-before-close":
        return ctype, body + b"\r\n" + CLOSE
    return ctype, body + CLOSE
