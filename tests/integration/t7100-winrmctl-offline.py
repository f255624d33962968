#!/usr/bin/python3
"""t7100 - winrmctl without winrmd: help (-V; an unknown topic is an
error), command-line errors worded as winrm.cmd words them, a missing
socket (a wrong -S) told apart from "the service is not running" (a socket
nobody listens on), permission denied on the socket, and whole commands
against canned WS-Management answers served on a Unix socket by a small
stdlib HTTP server, checking both what winrmctl prints and the requests it
sends (action, resource URI, selectors, body, headers)."""
import http.server
import os
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import soap  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
BUILDDIR = os.environ.get("WINRMD_BUILDDIR", ".")

NS = dict(soap.NS)
NS["auth"] = "http://schemas.microsoft.com/wbem/wsman/1/config/service/auth"
NS["cm"] = "http://schemas.microsoft.com/wbem/wsman/1/config/service/certmapping"
NS["lst"] = "http://schemas.microsoft.com/wbem/wsman/1/config/listener"
CFG = "http://schemas.microsoft.com/wbem/wsman/1/config"
ANON = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
ENUMERATION = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
NOT_RUNNING = ("winrmctl: cannot reach winrmd at %s: the service is not running "
               "(start it with: systemctl start winrmd)\n")
# A path with no socket: the socket is missing (a wrong -S, or a stopped
# daemon), which is not the same as a socket nobody listens on.
NO_SOCKET = ("winrmctl: cannot reach winrmd at %s: there is no socket at this path "
             "(winrmd listens on Daemon.AdminSocket while it runs; -S and "
             "$WINRMD_ADMIN_SOCKET choose the path, default ")


def find_binary():
    """The program, built as winrmctl/winrmctl."""
    for p in (os.path.join(BUILDDIR, "winrmctl", "winrmctl"),):
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return os.path.abspath(p)
    return None


BIN = find_binary()


def run(args, env=None, prefix=()):
    e = dict(os.environ)
    e.pop("WINRMD_ADMIN_SOCKET", None)
    if env:
        e.update(env)
    p = subprocess.run(list(prefix) + [BIN] + list(args), env=e, timeout=60,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def envelope(body, action="act"):
    return ('<s:Envelope xml:lang="en-US" xmlns:s="%s" xmlns:a="%s" xmlns:x="%s" '
            'xmlns:n="%s" xmlns:w="%s"><s:Header><a:Action>%s</a:Action>'
            '<a:MessageID>uuid:0</a:MessageID><a:To>%s</a:To></s:Header>'
            '<s:Body>%s</s:Body></s:Envelope>'
            % (NS["s"], NS["a"], TRANSFER, ENUMERATION, NS["w"], action, ANON,
               body)).encode()


AUTH_XML = ('<cfg:Auth xmlns:cfg="%s"><cfg:Basic>true</cfg:Basic>'
            '<cfg:Kerberos>true</cfg:Kerberos><cfg:Negotiate>true</cfg:Negotiate>'
            '<cfg:Certificate>false</cfg:Certificate><cfg:CredSSP>false</cfg:CredSSP>'
            '<cfg:CbtHardeningLevel>Relaxed</cfg:CbtHardeningLevel></cfg:Auth>'
            % NS["auth"])
AUTH_TEXT = ("Auth\n    Basic = true\n    Kerberos = true\n    Negotiate = true\n"
             "    Certificate = false\n    CredSSP = false\n"
             "    CbtHardeningLevel = Relaxed\n\n")


def listener(transport, port, on):
    return ('<cfg:Listener xmlns:cfg="%s"><cfg:Address>*</cfg:Address>'
            '<cfg:Transport>%s</cfg:Transport><cfg:Port>%s</cfg:Port>'
            '<cfg:Hostname/><cfg:Enabled>true</cfg:Enabled>'
            '<cfg:URLPrefix>wsman</cfg:URLPrefix><cfg:CertificateThumbprint/>%s'
            '</cfg:Listener>' % (NS["lst"], transport, port,
                                 "".join("<cfg:ListeningOn>%s</cfg:ListeningOn>" % a
                                         for a in on)))


FAULT_MSG = ("The WS-Management service cannot process the request. The "
             "specified selector set does not identify a listener. ")
FAULT_XML = ('<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>'
             'w:InvalidSelectors</s:Value></s:Subcode></s:Code><s:Reason>'
             '<s:Text xml:lang="en-US">%s</s:Text></s:Reason><s:Detail>'
             '<f:WSManFault xmlns:f="%s" Code="2150858843" Machine="host">'
             '<f:Message>%s</f:Message></f:WSManFault></s:Detail></s:Fault>'
             % (FAULT_MSG, NS["f"], FAULT_MSG))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        self.server.requests.append((self.path, self.headers, body))
        status, reply = (self.server.replies.pop(0) if self.server.replies
                         else (500, b""))
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/soap+xml;charset=UTF-8")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            if reply:
                self.wfile.write(reply)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client may close as soon as it has the headers

    def address_string(self):
        return "unix"

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def exchange(args, replies):
    """Runs winrmctl against canned replies; returns (rc, out, err, requests)
    where each request is (path, headers, parsed envelope or None)."""
    d = tempfile.mkdtemp(prefix="t7100-")
    path = os.path.join(d, "admin.sock")
    srv = Server(path, Handler)
    srv.requests = []
    srv.replies = list(replies)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        rc, out, err = run(list(args) + ["-S", path])
    finally:
        srv.shutdown()
        srv.server_close()
        shutil.rmtree(d, ignore_errors=True)
    reqs = []
    for p, h, b in srv.requests:
        try:
            doc = ET.fromstring(b)
        except ET.ParseError:
            doc = None
        reqs.append((p, h, doc))
    return rc, out, err, reqs


def header(doc, path):
    return doc.findtext("s:Header/" + path, namespaces=NS)


def selectors(doc):
    return {s.get("Name"): s.text or ""
            for s in doc.findall("s:Header/w:SelectorSet/w:Selector", NS)}


def check_common(req, action, uri, what):
    path, headers, doc = req
    t.eq(path, "/wsman", what + ": POST /wsman")
    t.eq(headers.get("Content-Type"), "application/soap+xml;charset=UTF-8",
         what + ": SOAP content type")
    t.ok(headers.get("Authorization") is None, what + ": no Authorization on the socket")
    t.ok(doc is not None, what + ": the request is well-formed XML")
    if doc is None:
        return False
    t.eq(doc.tag, "{%s}Envelope" % NS["s"], what + ": SOAP 1.2 envelope")
    t.eq(header(doc, "a:Action"), action, what + ": action")
    t.eq(header(doc, "w:ResourceURI"), uri, what + ": resource URI")
    t.eq(header(doc, "a:ReplyTo/a:Address"), ANON, what + ": ReplyTo anonymous")
    mid = header(doc, "a:MessageID") or ""
    t.ok(mid.startswith("uuid:") and len(mid) == 41, what + ": MessageID uuid", mid)
    t.eq(header(doc, "w:OperationTimeout"), "PT60.000S", what + ": OperationTimeout")
    t.eq(header(doc, "w:MaxEnvelopeSize"), "512000", what + ": MaxEnvelopeSize")
    return True


def test_help():
    rc, out, err = run([])
    t.eq(rc, 0, "no argument: help, exit 0")
    t.contains(out, "Usage:", "no argument: usage printed")
    rc, out, _ = run(["help", "config"])
    t.eq(rc, 0, "help config: exit 0")
    t.contains(out, "winrm/config/listener?Address=A+Transport=T", "help config: resources")
    rc, out, _ = run(["get", "-?"])
    t.eq(rc, 0, "get -?: exit 0")
    t.contains(out, "winrmctl get RESOURCE_URI", "get -?: help of get")
    rc, out, _ = run(["--version"])
    t.eq(rc, 0, "--version: exit 0")
    t.ok(out.startswith("winrmctl "), "--version prints the version", out)
    rc, out2, err = run(["-V"])
    t.eq(rc, 0, "-V: exit 0")
    t.eq(out2, out, "-V prints the version, as --version does")
    t.eq(err, "", "-V: nothing on stderr")
    for topic in ("nosuchtopic", "certmaping"):
        rc, out, err = run(["help", topic])
        t.eq(rc, 1, "help %s: an unknown topic is an error (exit 1)" % topic)
        t.eq(out, "", "help %s: no help printed" % topic)
        t.ok(err.startswith('winrmctl: no help on "%s"; ' % topic) and "certmapping" in err,
             "help %s: says so, and lists the topics" % topic, err)
    for topic in ("auth", "certmapping", "remoting", "switches", "get"):
        rc, out, _ = run(["help", topic])
        t.eq(rc, 0, "help %s: exit 0" % topic)
    rc, out, _ = run(["help", "auth"])
    t.contains(out, "NTLM", "help auth: Negotiate with -u and -p is NTLM")
    rc, out, _ = run(["help", "switches"])
    t.contains(out, "-V, --version", "help switches: -V")


def test_syntax_errors():
    cases = [
        (["frob", "winrm/config"], "Error: Unknown operation name: 'frob'\n"),
        (["get"], 'Error: Invalid use of command line. Type "winrmctl -?" for help.\n'),
        (["get", "winrm/config", "-bogus:1"],
         "Error: Unknown switch: bogus\nError: Invalid use of command line."),
        (["get", "winrm/config", '@{A="1"}'],
         "Error: Input was supplied to an operation that does not accept input.\n"),
        (["get", "winrm/config", "-format:html"], 'Invalid option for -format: "html"\n'),
        (["set", "winrm/config/service/auth", "@{Basic=true}"],
         'Syntax Error: input must be of the form {KEY="VALUE"[;KEY="VALUE"]}\n'
         "winrmctl: hint: the shell removed the double quotes"),
        (["set", "winrm/config/service/auth", '@{Basic="true";}'],
         'Syntax Error: input must be of the form {KEY="VALUE"[;KEY="VALUE"]}\n'),
        (["set", "winrm/config/service/auth", '@{a="1";a="2"}'],
         "Error: Multiple matching parameter names not allowed in @{...}: a\n"),
        (["set", "winrm/config/service/auth"],
         'Error: No input provided through "@{...}" or "-file:" commandline parameters.\n'),
        (["get", "winrm/config/listener?Address"],
         "Error: Unable to create ResourceLocator object.\n"),
        (["get", "winrm/config", "-un"],
         "Error: The '-unencrypted' option is only valid when used with the "
         "'-remote' option\n"),
    ]
    missing = "/nonexistent-t7100/admin.sock"
    for args, want in cases:
        rc, out, err = run(args + ["-S", missing])
        what = " ".join(args)
        t.eq(rc, 1, "%s: exit 1" % what)
        t.ok(err.startswith(want), "%s: error text" % what, "%r\nwant prefix %r" % (err, want))
        t.eq(out, "", "%s: nothing on stdout" % what)


def test_not_running():
    d = tempfile.mkdtemp(prefix="t7100-")
    try:
        path = os.path.join(d, "admin.sock")
        rc, out, err = run(["get", "winrm/config", "-S", path])
        t.eq(rc, 2, "no socket: exit 2")
        t.ok(err.startswith(NO_SOCKET % path), "no socket: says the socket is missing", err)
        t.not_contains(err, "not running", "no socket: not \"the service is not running\"")
        rc, _, err = run(["get", "winrm/config"], env={"WINRMD_ADMIN_SOCKET": path})
        t.eq(rc, 2, "WINRMD_ADMIN_SOCKET: exit 2")
        t.ok(err.startswith(NO_SOCKET % path), "WINRMD_ADMIN_SOCKET names the socket", err)
        rc, _, err = run(["enumerate", "winrm/config/listener", "-S:" + path])
        t.ok(err.startswith(NO_SOCKET % path), "-S:PATH form, enumerate", err)
        rc, _, err = run(["id", "-S", os.path.join(d, "nodir", "admin.sock")])
        t.ok(err.startswith(NO_SOCKET % os.path.join(d, "nodir", "admin.sock")),
             "a path under a missing directory: the socket is missing", err)
        notsock = os.path.join(d, "plain-file")
        open(notsock, "w").close()
        rc, _, err = run(["id", "-S", notsock])
        t.eq(rc, 2, "a regular file as -S: exit 2")
        t.contains(err, "this path is not a socket", "a regular file as -S: not a socket")

        # A socket file that nobody listens on (a stopped daemon's leftover).
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.close()
        rc, out, err = run(["id", "-S", path])
        t.eq(rc, 2, "nobody listening: exit 2")
        t.eq(err, NOT_RUNNING % path, "nobody listening: the service is not running")
        t.eq(out, "", "nobody listening: nothing on stdout")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_permission_denied():
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        t.diag("permission test needs root and setpriv: not run")
        return
    prefix = (setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups")
    try:
        rc, _, _ = run(["--version"], prefix=prefix)
    except OSError:
        rc = -1
    if rc != 0:
        t.diag("the build tree is not readable by nobody: permission test not run")
        return
    d = tempfile.mkdtemp(prefix="t7100-")
    os.chmod(d, 0o755)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        path = os.path.join(d, "admin.sock")
        s.bind(path)
        s.listen(1)
        os.chmod(path, 0o600)
        rc, out, err = run(["get", "winrm/config", "-S", path], prefix=prefix)
        t.eq(rc, 2, "socket not writable for the user: exit 2")
        t.ok(err.startswith("winrmctl: cannot reach winrmd at %s: permission denied" % path),
             "permission denied is told apart from not running", err)
    finally:
        s.close()
        shutil.rmtree(d, ignore_errors=True)


def test_get():
    rc, out, err, reqs = exchange(["get", "winrm/config/service/auth"],
                                  [(200, envelope(AUTH_XML, TRANSFER + "/GetResponse"))])
    t.eq(rc, 0, "get: exit 0")
    t.eq(out, AUTH_TEXT, "get: printed as winrm.cmd prints it")
    t.eq(err, "", "get: nothing on stderr")
    t.eq(len(reqs), 1, "get: one request")
    if reqs and check_common(reqs[0], TRANSFER + "/Get", CFG + "/service/auth", "get"):
        doc = reqs[0][2]
        t.eq(len(doc.find("s:Body", NS)), 0, "get: empty body")
        t.ok(doc.find("s:Header/w:SelectorSet", NS) is None, "get: no selectors")

    rc, out, err, reqs = exchange(["get", "winrm/config/service/auth", "-format:#pretty"],
                                  [(200, envelope(AUTH_XML))])
    t.eq(rc, 0, "get -format:#pretty: exit 0")
    try:
        root = ET.fromstring(out)
        t.eq(root.tag, "{%s}Auth" % NS["auth"], "-format:#pretty: the resource as XML")
    except ET.ParseError as e:
        t.ok(False, "-format:#pretty: output is XML", "%s\n%s" % (e, out))
    t.contains(out, "\n  <cfg:Basic>true</cfg:Basic>", "-format:#pretty: indented")


def test_set():
    rc, out, err, reqs = exchange(
        ["set", "winrm/config/service/auth", '@{Basic="true"}'],
        [(200, envelope(AUTH_XML, TRANSFER + "/PutResponse"))])
    t.eq(rc, 0, "set: exit 0")
    t.eq(out, AUTH_TEXT, "set: the updated resource printed")
    if reqs and check_common(reqs[0], TRANSFER + "/Put", CFG + "/service/auth", "set"):
        body = reqs[0][2].find("s:Body", NS)
        t.eq([c.tag for c in body], ["{%s}Auth" % NS["auth"]],
             "set: body element Auth in the service/auth namespace")
        auth = body.find("auth:Auth", NS)
        t.eq([(c.tag, c.text) for c in auth], [("{%s}Basic" % NS["auth"], "true")],
             "set: only the given setting is sent")


def test_create():
    created = ('<x:ResourceCreated><a:Address>%s</a:Address><a:ReferenceParameters>'
               '<w:ResourceURI>%s/service/certmapping</w:ResourceURI><w:SelectorSet>'
               '<w:Selector Name="Issuer">AB12</w:Selector>'
               '<w:Selector Name="Subject">*.example.com</w:Selector>'
               '<w:Selector Name="URI">*</w:Selector></w:SelectorSet>'
               '</a:ReferenceParameters></x:ResourceCreated>' % (ANON, CFG))
    rc, out, err, reqs = exchange(
        ["create", "winrm/config/service/certmapping?Issuer=AB12+Subject=*.example.com+URI=*",
         '@{UserName="mapped";Password="p w&<x>"}'],
        [(200, envelope(created, TRANSFER + "/CreateResponse"))])
    t.eq(rc, 0, "create: exit 0")
    t.eq(out, "ResourceCreated\n    Address = %s\n    ReferenceParameters\n"
              "        ResourceURI = %s/service/certmapping\n        SelectorSet\n"
              "            Selector: Issuer = AB12, Subject = *.example.com, URI = *\n\n"
              % (ANON, CFG), "create: ResourceCreated printed")
    if reqs and check_common(reqs[0], TRANSFER + "/Create", CFG + "/service/certmapping",
                             "create"):
        doc = reqs[0][2]
        t.eq(selectors(doc), {"Issuer": "AB12", "Subject": "*.example.com", "URI": "*"},
             "create: selectors")
        cm = doc.find("s:Body/cm:CertMapping", NS)
        t.ok(cm is not None, "create: CertMapping body in its namespace")
        if cm is not None:
            t.eq(cm.findtext("cm:UserName", namespaces=NS), "mapped", "create: UserName")
            t.eq(cm.findtext("cm:Password", namespaces=NS), "p w&<x>",
                 "create: Password with blanks and markup, escaped on the wire")


def test_enumerate():
    page1 = ('<n:EnumerateResponse><n:EnumerationContext>uuid:CTX-7</n:EnumerationContext>'
             '<w:Items>%s</w:Items></n:EnumerateResponse>'
             % listener("HTTP", "5985", ["127.0.0.1", "::1"]))
    page2 = ('<n:PullResponse><n:Items>%s</n:Items><n:EndOfSequence/></n:PullResponse>'
             % listener("HTTPS", "5986", ["127.0.0.1"]))
    rc, out, err, reqs = exchange(["e", "winrm/config/listener"],
                                  [(200, envelope(page1)), (200, envelope(page2))])
    t.eq(rc, 0, "enumerate: exit 0")
    t.eq(out, "Listener\n    Address = *\n    Transport = HTTP\n    Port = 5985\n"
              "    Hostname\n    Enabled = true\n    URLPrefix = wsman\n"
              "    CertificateThumbprint\n    ListeningOn = 127.0.0.1, ::1\n\n"
              "Listener\n    Address = *\n    Transport = HTTPS\n    Port = 5986\n"
              "    Hostname\n    Enabled = true\n    URLPrefix = wsman\n"
              "    CertificateThumbprint\n    ListeningOn = 127.0.0.1\n\n",
         "enumerate: both listeners, one block each")
    t.eq(len(reqs), 2, "enumerate: Enumerate then one Pull")
    if len(reqs) == 2:
        if check_common(reqs[0], ENUMERATION + "/Enumerate", CFG + "/listener", "enumerate"):
            e = reqs[0][2].find("s:Body/n:Enumerate", NS)
            t.ok(e is not None and e.find("w:OptimizeEnumeration", NS) is not None,
                 "enumerate: optimized Enumerate")
        if check_common(reqs[1], ENUMERATION + "/Pull", CFG + "/listener", "pull"):
            t.eq(reqs[1][2].findtext("s:Body/n:Pull/n:EnumerationContext", namespaces=NS),
                 "uuid:CTX-7", "pull: carries the enumeration context")

    rc, out, err, reqs = exchange(["e", "winrm/config/listener", "-format:xml"],
                                  [(200, envelope(page2.replace("PullResponse",
                                                                "EnumerateResponse")))])
    t.eq(rc, 0, "enumerate -format:xml: exit 0")
    t.ok(out.startswith('<wsman:Results xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/'
                        'wsman/results">\n<cfg:Listener')
         and out.endswith("</cfg:Listener>\n</wsman:Results>\n"),
         "enumerate -format:xml: items inside wsman:Results", out)


def test_delete():
    rc, out, err, reqs = exchange(
        ["delete", "winrm/config/Listener?Address=IP:192.0.2.1+Transport=HTTP"],
        [(200, envelope("", TRANSFER + "/DeleteResponse"))])
    t.eq(rc, 0, "delete: exit 0")
    t.eq(out, "", "delete: prints nothing, as winrm.cmd")
    if reqs and check_common(reqs[0], TRANSFER + "/Delete", CFG + "/listener", "delete"):
        t.eq(selectors(reqs[0][2]), {"Address": "IP:192.0.2.1", "Transport": "HTTP"},
             "delete: selectors")


def test_fault():
    rc, out, err, reqs = exchange(
        ["get", "winrm/config/listener?Address=*+Transport=FTP"],
        [(500, envelope(FAULT_XML, "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"))])
    t.eq(rc, 1, "fault: exit 1")
    t.eq(out, "", "fault: nothing on stdout")
    text = FAULT_MSG.strip()
    t.eq(err, "WSManFault\n    Message = %s\n\nError number:  -2144108453 0x8033805B\n%s\n"
              % (text, text), "fault: printed as winrm.cmd prints it")


def test_identify():
    resp = ('<wsmid:IdentifyResponse xmlns:wsmid="%s"><wsmid:ProtocolVersion>%s'
            '</wsmid:ProtocolVersion><wsmid:ProductVendor>winrmd</wsmid:ProductVendor>'
            '<wsmid:ProductVersion>OS: 0.0.0 SP: 0.0 Stack: 3.0</wsmid:ProductVersion>'
            '</wsmid:IdentifyResponse>' % (NS["wsmid"], NS["w"]))
    rc, out, err, reqs = exchange(["id"], [(200, envelope(resp))])
    t.eq(rc, 0, "identify: exit 0")
    t.eq(out, "IdentifyResponse\n    ProtocolVersion = %s\n    ProductVendor = winrmd\n"
              "    ProductVersion = OS: 0.0.0 SP: 0.0 Stack: 3.0\n\n" % NS["w"],
         "identify: printed")
    if reqs and reqs[0][2] is not None:
        doc = reqs[0][2]
        t.ok(doc.find("s:Body/wsmid:Identify", NS) is not None, "identify: wsmid:Identify body")
        t.eq(len(doc.find("s:Header", NS)), 0, "identify: empty header")
        t.ok(reqs[0][1].get("WSMANIDENTIFY") is None, "identify: no WSMANIDENTIFY locally")


def test_refusals():
    rc, out, err, reqs = exchange(["get", "winrm/config/client"], [])
    t.eq(rc, 1, "client configuration: exit 1")
    t.contains(err, "winrmd is a WinRM service and has no client configuration",
               "client configuration: said so")
    t.eq(len(reqs), 0, "client configuration: nothing sent")

    rc, out, err, reqs = exchange(["get", "winrm/config"], [(403, b"")])
    t.eq(rc, 1, "HTTP 403: exit 1")
    t.ok(err.startswith("WSManFault\n    Message = Access is denied.\n\n"
                        "Error number:  -2147024891 0x80070005\nAccess is denied.\n"),
         "HTTP 403: Access is denied, as winrm.cmd", err)
    t.contains(err, "refused this user on its admin socket", "HTTP 403: explained")

    rc, out, err, reqs = exchange(["get", "winrm/config"], [(200, b"hello")])
    t.eq(rc, 1, "not XML: exit 1")
    t.contains(err, "not a SOAP envelope", "not XML: said so")


if BIN is None:
    t.ok(False, "winrmctl binary found under %s/daemon" % BUILDDIR)
else:
    for fn in (test_help, test_syntax_errors, test_not_running, test_permission_denied,
               test_get, test_set, test_create, test_enumerate, test_delete, test_fault,
               test_identify, test_refusals):
        t.run(fn)
sys.exit(t.done())
