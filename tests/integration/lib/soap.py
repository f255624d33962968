"""soap.py - helpers to read WS-Management responses in tests."""
import xml.etree.ElementTree as ET

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
    "wsmid": "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "cfg": "http://schemas.microsoft.com/wbem/wsman/1/config",
    "n": "http://schemas.xmlsoap.org/ws/2004/09/enumeration",
}


def parse(body):
    return ET.fromstring(body)


def fault(body):
    """Returns (code, subcode, wsman_code, reason) of a SOAP fault body, or
    None when the body is not a fault."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    f = root.find("s:Body/s:Fault", NS)
    if f is None:
        return None
    code = f.findtext("s:Code/s:Value", default=None, namespaces=NS)
    sub = f.findtext("s:Code/s:Subcode/s:Value", default=None, namespaces=NS)
    wf = f.find("s:Detail/f:WSManFault", NS)
    wcode = wf.get("Code") if wf is not None else None
    reason = f.findtext("s:Reason/s:Text", default="", namespaces=NS)
    return code, sub, wcode, reason


def envelope(action, resource_uri, body="", selectors=None, options=None,
             message_id="uuid:11111111-2222-3333-4444-555555555555",
             extra_headers=""):
    sel = ""
    if selectors:
        sel = "<w:SelectorSet>" + "".join(
            '<w:Selector Name="%s">%s</w:Selector>' % (k, v) for k, v in selectors.items()
        ) + "</w:SelectorSet>"
    opt = ""
    if options:
        opt = "<w:OptionSet>" + "".join(
            '<w:Option Name="%s">%s</w:Option>' % (k, v) for k, v in options.items()
        ) + "</w:OptionSet>"
    return (
        '<s:Envelope xmlns:s="%(s)s" xmlns:a="%(a)s" xmlns:w="%(w)s">'
        "<s:Header><a:To>http://windows-host:5985/wsman</a:To>"
        "<a:ReplyTo><a:Address mustUnderstand=\"true\">"
        "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>"
        "<w:MaxEnvelopeSize mustUnderstand=\"true\">153600</w:MaxEnvelopeSize>"
        "<a:MessageID>%(mid)s</a:MessageID>"
        "<w:Locale xml:lang=\"en-US\" mustUnderstand=\"false\"/>"
        "<w:OperationTimeout>PT20S</w:OperationTimeout>"
        "<w:ResourceURI mustUnderstand=\"true\">%(uri)s</w:ResourceURI>"
        "<a:Action mustUnderstand=\"true\">%(action)s</a:Action>"
        "%(sel)s%(opt)s%(extra)s</s:Header><s:Body>%(body)s</s:Body></s:Envelope>"
    ) % dict(NS, mid=message_id, uri=resource_uri, action=action, sel=sel, opt=opt,
             body=body, extra=extra_headers)
