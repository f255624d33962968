"""wmiclient.py - hand-made WMI (WS-Management) envelopes for the tests
(t8100, t8300...): Get, Enumerate (filters, modes, MaxElements), Pull, Release
and methods, posted with Basic auth on a keep-alive connection and read
with ElementTree; plus the facts of this host the answers are checked
against (processes from /proc, disks from statvfs...)."""
import base64
import os
import re
import uuid
import xml.etree.ElementTree as ET

import soap

NS = dict(soap.NS)
NS["xsi"] = "http://www.w3.org/2001/XMLSchema-instance"
NS["cim"] = "http://schemas.dmtf.org/wbem/wscim/1/common"
WMI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2"
XFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
ENUM = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
WQL = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
SELECTOR = "http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter"
ANON = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,5}[1-9])?(Z|[+-]\d\d:\d\d)$")


def uri(cls):
    return WMI + "/" + cls


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def envelope(action, resource, body="", selectors=None, timeout="PT60S", mid=None,
             max_envelope=512000, extra=""):
    sel = ""
    if selectors:
        sel = "<w:SelectorSet>" + "".join(
            '<w:Selector Name="%s">%s</w:Selector>' % (k, esc(v)) for k, v in selectors.items()
        ) + "</w:SelectorSet>"
    return (
        '<s:Envelope xmlns:s="%(s)s" xmlns:a="%(a)s" xmlns:w="%(w)s" xmlns:n="%(n)s">'
        "<s:Header><a:To>http://winrm.test.lab:5985/wsman</a:To>"
        '<a:ReplyTo><a:Address s:mustUnderstand="true">%(anon)s</a:Address></a:ReplyTo>'
        '<w:MaxEnvelopeSize s:mustUnderstand="true">%(menv)d</w:MaxEnvelopeSize>'
        "<a:MessageID>%(mid)s</a:MessageID>"
        '<w:Locale xml:lang="en-US" s:mustUnderstand="false"/>'
        "<w:OperationTimeout>%(tmo)s</w:OperationTimeout>"
        '<w:ResourceURI s:mustUnderstand="true">%(uri)s</w:ResourceURI>'
        '<a:Action s:mustUnderstand="true">%(action)s</a:Action>'
        "%(sel)s%(extra)s</s:Header><s:Body>%(body)s</s:Body></s:Envelope>"
    ) % dict(NS, anon=ANON, menv=max_envelope, mid=mid or "uuid:" + str(uuid.uuid4()).upper(),
             tmo=timeout, uri=resource, action=action, sel=sel, body=body, extra=extra)


def enumerate_body(optimize=True, max_elements=32000, mode=None, filter_text=None,
                   dialect=WQL, filter_ns="w"):
    parts = []
    if optimize:
        parts.append("<w:OptimizeEnumeration/>")
    if max_elements is not None:
        parts.append("<w:MaxElements>%d</w:MaxElements>" % max_elements)
    if mode:
        parts.append("<w:EnumerationMode>%s</w:EnumerationMode>" % mode)
    if filter_text is not None:
        d = ' Dialect="%s"' % dialect if dialect is not None else ""
        parts.append("<%s:Filter%s>%s</%s:Filter>" % (filter_ns, d, filter_text, filter_ns))
    return "<n:Enumerate>%s</n:Enumerate>" % "".join(parts)


def selector_filter(**kv):
    return ("<w:SelectorSet>" + "".join('<w:Selector Name="%s">%s</w:Selector>' % (k, esc(v))
                                         for k, v in kv.items()) + "</w:SelectorSet>")


def local(tag):
    return tag.split("}", 1)[-1]


class Resp:
    def __init__(self, status, body):
        self.status = status
        self.raw = body
        try:
            self.root = ET.fromstring(body)
        except Exception:  # noqa: BLE001 - checks fail on None
            self.root = None
        self.fault = soap.fault(body) if status != 200 else None
        self.body = self.root.find("s:Body", NS) if self.root is not None else None

    def header(self, name):
        return self.root.findtext("s:Header/a:" + name, namespaces=NS) if self.root is not None else None

    def first(self):
        return self.body[0] if self.body is not None and len(self.body) else None

    def provider_message(self):
        """The inner f:Message of an f:ProviderFault, or None."""
        if self.root is None:
            return None
        pf = self.root.find(".//f:ProviderFault", NS)
        if pf is None:
            return None
        return pf.findtext("f:WSManFault/f:Message", namespaces=NS)


def instance_dict(el):
    """{property: value | [values] | None} of a p:Class (or XmlFragment)
    element; datetimes as their cim:Datetime text."""
    out = {}
    for c in el:
        name = local(c.tag)
        if c.get("{%s}nil" % NS["xsi"]) == "true":
            v = None
        elif len(c):
            v = c[0].text or ""
        else:
            v = c.text or ""
        if name in out:
            prev = out[name]
            out[name] = (prev if isinstance(prev, list) else [prev]) + [v]
        else:
            out[name] = v
    return out


class WmiClient:
    def __init__(self, d, user="alice", password=None):
        self.d = d
        self.user = user
        self.auth = {"Authorization": "Basic " + base64.b64encode(
            ("%s:%s" % (user, password or user + "pw")).encode()).decode()}
        self.conn = d.connection(120)

    def post(self, env):
        st, _, body = self.d.post(env, self.auth, conn=self.conn)
        return Resp(st, body)

    def get(self, cls, timeout="PT60S", **sel):
        return self.post(envelope(XFER + "/Get", uri(cls), "", sel, timeout=timeout))

    def enumerate(self, cls, **kw):
        sel = kw.pop("selectors", None)
        menv = kw.pop("max_envelope", 512000)
        return self.post(envelope(ENUM + "/Enumerate", uri(cls), enumerate_body(**kw), sel,
                                  max_envelope=menv))

    def pull(self, cls, context, max_elements=None, max_envelope=512000):
        m = "<n:MaxElements>%d</n:MaxElements>" % max_elements if max_elements else ""
        return self.post(envelope(ENUM + "/Pull", uri(cls),
                                  "<n:Pull><n:EnumerationContext>%s</n:EnumerationContext>%s</n:Pull>"
                                  % (context, m), max_envelope=max_envelope))

    def release(self, cls, context):
        return self.post(envelope(ENUM + "/Release", uri(cls),
                                  "<n:Release><n:EnumerationContext>%s</n:EnumerationContext></n:Release>"
                                  % context))

    def invoke(self, cls, method, params=None, raw_body=None, **sel):
        if raw_body is None:
            inner = "".join('<p:%s xsi:nil="true"/>' % k if v is None else
                            "<p:%s>%s</p:%s>" % (k, esc(str(v)), k)
                            for k, v in (params or {}).items())
            raw_body = ('<p:%s_INPUT xmlns:p="%s" xmlns:xsi="%s">%s</p:%s_INPUT>'
                        % (method, uri(cls), NS["xsi"], inner, method))
        return self.post(envelope(uri(cls) + "/" + method, uri(cls), raw_body, sel))

    def enumerate_all(self, cls, limit=100000, **kw):
        """Enumerate then Pull to the end: (items, responses)."""
        r = self.enumerate(cls, **kw)
        responses = [r]
        if r.status != 200:
            return None, responses
        er = r.body.find("n:EnumerateResponse", NS)
        items = list(er.find("w:Items", NS) or [])
        ctx = er.findtext("n:EnumerationContext", namespaces=NS)
        end = er.find("w:EndOfSequence", NS) is not None
        while not end and ctx and len(responses) < limit:
            p = self.pull(cls, ctx, kw.get("max_elements"))
            responses.append(p)
            if p.status != 200:
                return None, responses
            pr = p.body.find("n:PullResponse", NS)
            items += list(pr.find("n:Items", NS) or [])
            ctx = pr.findtext("n:EnumerationContext", namespaces=NS)
            end = pr.find("n:EndOfSequence", NS) is not None
        return items, responses


# ---- the host's own facts (the source of truth of the checks) ----

def proc_stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        text = f.read()
    comm = text[text.index("(") + 1:text.rindex(")")]
    rest = text[text.rindex(")") + 2:].split()
    return comm, rest


def meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            out[k] = int(v.split()[0])
    return out


def os_release(key):
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(key + "="):
                        return line.split("=", 1)[1].strip().strip('"')
        except OSError:
            pass
    return None


def visible_mounts():
    """{mount point: fstype} as Win32_LogicalDisk should list them."""
    pseudo = {"proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "ramfs", "cgroup", "cgroup2",
              "securityfs", "pstore", "bpf", "debugfs", "tracefs", "configfs", "fusectl",
              "mqueue", "hugetlbfs", "autofs", "binfmt_misc", "rpc_pipefs", "nsfs",
              "efivarfs", "selinuxfs", "nfsd", "fuse.gvfsd-fuse", "fuse.portal", "rootfs"}
    out = {}
    with open("/proc/self/mounts") as f:
        for line in f:
            src, mnt, typ = line.split()[:3]
            mnt = mnt.encode().decode("unicode_escape")
            if typ in pseudo:
                continue
            if not src.startswith("/") and typ not in ("overlay", "zfs", "btrfs", "nfs", "nfs4",
                                                        "cifs", "smb3", "fuse.sshfs", "9p"):
                continue
            out[mnt] = typ
    return out
