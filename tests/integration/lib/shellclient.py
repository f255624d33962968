"""shellclient.py - hand-made Windows Remote Shell envelopes posted with
Basic auth and read with ElementTree (t5200, t5400): the envelope
builders, a response wrapper (Resp) and a keep-alive client (Client)."""
import base64
import re
import time
import uuid

import soap

NS = dict(soap.NS)
NS_SHELL = NS["rsp"]
CMD_URI = NS_SHELL + "/cmd"
XFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
A_CREATE = XFER + "/Create"
A_DELETE = XFER + "/Delete"
A_GET = XFER + "/Get"
A_COMMAND = NS_SHELL + "/Command"
A_SEND = NS_SHELL + "/Send"
A_RECEIVE = NS_SHELL + "/Receive"
A_SIGNAL = NS_SHELL + "/Signal"
ENUMERATION = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
A_ENUM = ENUMERATION + "/Enumerate"
A_PULL = ENUMERATION + "/Pull"
A_FAULT = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
SIG = NS_SHELL + "/signal/"
STATE_DONE = NS_SHELL + "/CommandState/Done"
STATE_RUNNING = NS_SHELL + "/CommandState/Running"
ANON = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
DETAIL = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"

GUID_UPPER = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
B64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
DURATION_DHMS = re.compile(r"^P(\d+)DT(\d+)H(\d+)M(\d+)S$")

KEEP_ENV = ["LD_PRELOAD", "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP", "NSS_WRAPPER_HOSTS"]
TO = "http://winrm.test.lab:5985/wsman"

SHELL_ORDER = ["ShellId", "ResourceUri", "Owner", "ClientIP", "IdleTimeOut", "InputStreams",
               "OutputStreams", "ShellRunTime", "ShellInactivity"]
SHELL_ORDER_FULL = SHELL_ORDER[:4] + ["Environment", "WorkingDirectory"] + SHELL_ORDER[4:]


def q(prefix, local):
    return "{%s}%s" % (NS[prefix], local)


def local(tag):
    return tag.split("}", 1)[-1]


def new_mid(upper=True):
    u = str(uuid.uuid4())
    return "uuid:" + (u.upper() if upper else u.lower())


def envelope(action, body="", shell_id=None, options="", timeout="PT20S", mid=None,
             resource=CMD_URI, max_envelope=153600):
    sel = ""
    if shell_id is not None:
        sel = ('<w:SelectorSet><w:Selector Name="ShellId">%s</w:Selector>'
               "</w:SelectorSet>" % shell_id)
    # mustUnderstand attributes are unqualified, as pywinrm, Go and Ruby send them.
    return (
        '<s:Envelope xmlns:s="%(s)s" xmlns:a="%(a)s" xmlns:w="%(w)s" xmlns:rsp="%(rsp)s">'
        "<s:Header><a:To>%(to)s</a:To>"
        '<a:ReplyTo><a:Address mustUnderstand="true">%(anon)s</a:Address></a:ReplyTo>'
        '<w:MaxEnvelopeSize mustUnderstand="true">%(menv)d</w:MaxEnvelopeSize>'
        "<a:MessageID>%(mid)s</a:MessageID>"
        '<w:Locale xml:lang="en-US" mustUnderstand="false"/>'
        "<w:OperationTimeout>%(tmo)s</w:OperationTimeout>"
        '<w:ResourceURI mustUnderstand="true">%(uri)s</w:ResourceURI>'
        '<a:Action mustUnderstand="true">%(action)s</a:Action>'
        "%(sel)s%(opt)s</s:Header><s:Body>%(body)s</s:Body></s:Envelope>"
    ) % dict(NS, to=TO, anon=ANON, menv=max_envelope, mid=mid or new_mid(), tmo=timeout,
             uri=resource, action=action, sel=sel, opt=options, body=body)


def options(*kv, must_comply=()):
    return "<w:OptionSet>" + "".join(
        '<w:Option Name="%s"%s>%s</w:Option>' % (k, ' MustComply="true"' if k in must_comply else "", v)
        for k, v in kv) + "</w:OptionSet>"


CREATE_OPTS = options(("WINRS_NOPROFILE", "FALSE"), ("WINRS_CODEPAGE", "65001"))
CMD_OPTS = options(("WINRS_CONSOLEMODE_STDIN", "TRUE"), ("WINRS_SKIP_CMD_SHELL", "FALSE"))


def shell_body(extra="", attrs=""):
    return ("<rsp:Shell%s><rsp:InputStreams>stdin</rsp:InputStreams>"
            "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams>%s</rsp:Shell>" % (attrs, extra))


def cmdline(command, args=(), attrs=""):
    return "<rsp:CommandLine%s><rsp:Command>%s</rsp:Command>%s</rsp:CommandLine>" % (
        attrs, command, "".join("<rsp:Arguments>%s</rsp:Arguments>" % a for a in args))


def receive_body(cid, streams="stdout stderr"):
    attr = ' CommandId="%s"' % cid if cid is not None else ""
    return "<rsp:Receive><rsp:DesiredStream%s>%s</rsp:DesiredStream></rsp:Receive>" % (attr, streams)


def signal_body(cid, code):
    return '<rsp:Signal CommandId="%s"><rsp:Code>%s</rsp:Code></rsp:Signal>' % (cid, code)


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Resp:
    def __init__(self, status, body):
        self.status = status
        self.raw = body
        try:
            self.root = soap.parse(body)
        except Exception:  # noqa: BLE001 - kept as None, checks fail
            self.root = None
        self.fault = soap.fault(body) if status != 200 else None

    def header(self, name):
        return self.root.findtext("s:Header/a:%s" % name, namespaces=NS) if self.root is not None else None

    @property
    def body(self):
        return self.root.find("s:Body", NS) if self.root is not None else None

    def children(self, el=None):
        el = self.body if el is None else el
        return [c.tag for c in el] if el is not None else None

    def detail(self):
        return self.root.findtext("s:Body/s:Fault/s:Detail/w:FaultDetail", namespaces=NS)


class Client:
    def __init__(self, d, user="alice", password="alicepw"):
        self.d = d
        self.auth = {"Authorization": "Basic " + base64.b64encode(
            ("%s:%s" % (user, password)).encode()).decode()}
        self.conn = d.connection(60)

    def post(self, env):
        st, _, body = self.d.post(env, self.auth, conn=self.conn)
        return Resp(st, body)

    def create(self, extra="", opts=CREATE_OPTS, attrs="", mid=None):
        r = self.post(envelope(A_CREATE, shell_body(extra, attrs), options=opts, mid=mid))
        r.sid = (r.root.findtext(".//rsp:ShellId", namespaces=NS)
                 if r.status == 200 else None)
        return r

    def command(self, sid, command, args=(), opts=CMD_OPTS, attrs="", raw=None, mid=None):
        r = self.post(envelope(A_COMMAND, raw or cmdline(command, args, attrs), sid, opts, mid=mid))
        r.cid = (r.root.findtext(".//rsp:CommandId", namespaces=NS)
                 if r.status == 200 else None)
        return r

    def receive(self, sid, cid, streams="stdout stderr", timeout="PT20S", max_envelope=153600):
        return self.post(envelope(A_RECEIVE, receive_body(cid, streams), sid, timeout=timeout,
                                  max_envelope=max_envelope))

    def send(self, sid, cid, data, end=None, raw=None):
        e = ' End="%s"' % end if end is not None else ""
        return self.post(envelope(A_SEND, raw or (
            '<rsp:Send><rsp:Stream Name="stdin" CommandId="%s"%s>%s</rsp:Stream></rsp:Send>'
            % (cid, e, base64.b64encode(data).decode())), sid))

    def signal(self, sid, cid, word="terminate", mid=None):
        return self.post(envelope(A_SIGNAL, signal_body(cid, SIG + word), sid, mid=mid))

    def delete(self, sid, mid=None, resource=CMD_URI):
        return self.post(envelope(A_DELETE, "", sid, mid=mid, resource=resource))

    def get(self, sid, resource=NS_SHELL):
        return self.post(envelope(A_GET, "", sid, resource=resource))

    def run(self, sid, command, args=(), opts=CMD_OPTS, limit=30, **kw):
        """Command + Receives until Done: (stdout, stderr, exit code, responses)."""
        c = self.command(sid, command, args, opts, **kw)
        if c.status != 200:
            return None, None, None, [c]
        return self.drain(sid, c.cid, limit)

    def drain(self, sid, cid, limit=30, streams="stdout stderr", max_envelope=153600):
        out = err = b""
        responses = []
        deadline = time.time() + limit
        while time.time() < deadline:
            r = self.receive(sid, cid, streams, "PT5S", max_envelope)
            responses.append(r)
            if r.status != 200:
                if r.fault and r.fault[1] == "w:TimedOut":
                    continue
                break
            for s in r.root.iter(q("rsp", "Stream")):
                data = base64.b64decode(s.text or "")
                if s.get("Name") == "stdout":
                    out += data
                elif s.get("Name") == "stderr":
                    err += data
            cs = r.root.find(".//rsp:CommandState", NS)
            if cs is not None and cs.get("State") == STATE_DONE:
                return out, err, int(cs.findtext("rsp:ExitCode", namespaces=NS)), responses
        return out, err, None, responses
