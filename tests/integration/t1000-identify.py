#!/usr/bin/python3
"""t1000 - Identify: anonymous with WSMANIDENTIFY: unauthenticated (exact
Windows fields, DMTF identity namespace), UTF-16, and 401 otherwise."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import soap  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import Daemon, IDENTIFY  # noqa: E402

t = Tap()
ANON = {"WSMANIDENTIFY": "unauthenticated"}
NS_ID = "{http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd}"


def check_identify_body(body, what):
    root = soap.parse(body)
    t.eq(root.tag, "{http://www.w3.org/2003/05/soap-envelope}Envelope", what + ": SOAP 1.2 envelope")
    resp = root.find("s:Body/wsmid:IdentifyResponse", soap.NS)
    t.ok(resp is not None, what + ": IdentifyResponse in the DMTF identity namespace")
    if resp is None:
        return
    t.eq([c.tag.replace(NS_ID, "") for c in resp],
         ["ProtocolVersion", "ProductVendor", "ProductVersion"],
         what + ": exactly the anonymous fields, in Windows' order")
    t.eq(resp.findtext("wsmid:ProtocolVersion", namespaces=soap.NS),
         "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd", what + ": ProtocolVersion")
    t.eq(resp.findtext("wsmid:ProductVersion", namespaces=soap.NS),
         "OS: 0.0.0 SP: 0.0 Stack: 3.0", what + ": ProductVersion hides the OS")
    t.ok(root.find("s:Header", soap.NS) is not None and len(root.find("s:Header", soap.NS)) == 0,
         what + ": empty s:Header as Windows sends")


def test_anonymous(d):
    st, h, body = d.post(IDENTIFY, ANON)
    t.eq(st, 200, "anonymous Identify: 200")
    t.eq(h.get("content-type"), "application/soap+xml;charset=UTF-8", "SOAP content type")
    t.eq(h.get("content-length"), str(len(body)), "Content-Length, not chunked")
    t.not_contains(body, "SecurityProfiles", "no security profiles for an anonymous caller")
    check_identify_body(body, "anonymous")

    st, _, body = d.post(IDENTIFY, {"WSMANIDENTIFY": "Unauthenticated"})
    t.eq(st, 200, "header value compared case-insensitively")
    st, _, body = d.post(IDENTIFY, ANON, path="/wsman/sub/path")
    t.eq(st, 200, "paths below the URL prefix are served")
    st, _, body = d.post(IDENTIFY, ANON, path="/WSMAN")
    t.eq(st, 200, "URL prefix matched case-insensitively (as http.sys)")

    with_addressing = IDENTIFY.replace(
        "<s:Header/>",
        '<s:Header xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing">'
        "<a:MessageID>uuid:1</a:MessageID></s:Header>")
    st, _, body = d.post(with_addressing, ANON)
    t.eq(st, 200, "Identify detected by its body even with addressing headers")


def test_utf16(d):
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        raw = bom + IDENTIFY.encode(codec)
        st, h, body = d.post(raw, dict(ANON, **{"Content-Type": "application/soap+xml;charset=UTF-16"}))
        t.eq(st, 200, "UTF-16 (%s) Identify: 200" % codec)
        t.eq(h.get("content-type"), "application/soap+xml;charset=UTF-16",
             "answered with charset=UTF-16 (%s)" % codec)
        t.ok(body[:2] in (b"\xff\xfe", b"\xfe\xff"), "UTF-16 answer starts with a BOM (%s)" % codec)
        try:
            text = body.decode("utf-16")
            check_identify_body(text.encode("utf-8"), "UTF-16 " + codec)
        except UnicodeDecodeError as e:
            t.ok(False, "UTF-16 answer decodes", str(e))


def test_needs_auth(d):
    st, h, body = d.post(IDENTIFY)
    t.eq(st, 401, "Identify without WSMANIDENTIFY needs authentication: 401")
    t.eq(body, b"", "401 has an empty body")
    t.eq(h.get("www-authenticate"), "Negotiate\nKerberos",
         "401 offers exactly the enabled methods (defaults: Negotiate, Kerberos)")
    get = soap.envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
                        "http://schemas.microsoft.com/wbem/wsman/1/config")
    st, _, body = d.post(get, ANON)
    t.eq(st, 401, "only Identify bypasses authentication, whatever the header says")
    st, _, body = d.post(IDENTIFY, {"WSMANIDENTIFY": "yes"})
    t.eq(st, 401, "another WSMANIDENTIFY value does not bypass authentication")


def test_pywinrm(d):
    import winrm
    from winrm.exceptions import InvalidCredentialsError
    s = winrm.Session(d.url, auth=("alice", "wrong"), transport="basic")
    try:
        s.run_cmd("true")
        t.ok(False, "pywinrm must not run a command without authentication")
    except InvalidCredentialsError:
        t.ok(True, "pywinrm without valid credentials: InvalidCredentialsError (HTTP 401)")
    except Exception as e:  # noqa: BLE001
        t.ok(False, "pywinrm refused with 401", repr(e))


d = Daemon()
try:
    d.start()
    for fn in (test_anonymous, test_utf16, test_needs_auth, test_pywinrm):
        t.run(fn, d)
    d.check_alive(t, "the Identify tests")
    t.eq(d.stop(), 0, "clean stop")
finally:
    d.cleanup()
sys.exit(t.done())
