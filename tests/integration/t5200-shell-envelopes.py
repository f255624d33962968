#!/usr/bin/python3
"""t5200 - the exact shape of every Windows Remote Shell response
(wsman-protocol.md §4, §5), from hand-made envelopes posted with Basic
auth and read with ElementTree: Create (x:ResourceCreated + rsp:Shell),
Command (and the client quirks: Ruby's quoted command, Go's CDATA, one
rsp:Arguments per argument or one joined, unqualified mustUnderstand,
True/FALSE option values, SKIP_CMD_SHELL), Send, Receive (standalone padded
base64 per rsp:Stream, End markers, exactly one CommandState), Signal,
Delete, Get, Enumerate/Pull of the caller's shells, and the faults of each
operation with their subcodes and WSManFault codes; and
Service.MaxConcurrentOperationsPerUser (waiting Receives hold a slot)."""
import base64
import hashlib
import os
import re
import subprocess
import sys
import time
import uuid

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import soap  # noqa: E402
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import BUILDDIR, LISTENER_RELOADED, lab_daemon  # noqa: E402

t = Tap()

from shellclient import *  # noqa: E402,F401,F403 - the envelope toolkit

def check_fault(r, status, code, sub, wcode, what, detail=None):
    ok = (r.status == status and r.fault is not None and r.fault[0] == code and
          r.fault[1] == sub and r.fault[2] == wcode)
    t.ok(ok, "%s: HTTP %d %s/%s, WSManFault %s" % (what, status, code, sub, wcode),
         (r.status, r.fault, r.raw[:1500]))
    if detail is not None:
        t.eq(r.detail(), DETAIL + detail, "%s: FaultDetail %s" % (what, detail))
    return ok


def check_headers(r, action, mid, what, seen):
    t.eq(r.header("Action"), action, "%s: a:Action %s" % (what, action.rsplit("/", 1)[-1]))
    t.eq(r.header("RelatesTo"), mid, "%s: a:RelatesTo is the request's MessageID verbatim" % what)
    m = r.header("MessageID") or ""
    t.ok(m.startswith("uuid:") and GUID_UPPER.match(m[5:]) and m not in seen and m != mid,
         "%s: a fresh upper-case a:MessageID (%s)" % (what, m))
    seen.add(m)
    t.eq(r.header("To"), ANON, "%s: a:To anonymous" % what)


def check_shell(el, sid, order, what, idle="PT7200.000S", owner="alice"):
    t.eq([local(c.tag) for c in el], order, "%s: rsp:Shell children in Windows' order" % what)
    t.ok(all(c.tag.startswith("{%s}" % NS_SHELL) for c in el), "%s: all in the rsp namespace" % what)
    get = lambda n: el.findtext("rsp:" + n, namespaces=NS)  # noqa: E731
    t.eq((get("ShellId"), get("ResourceUri"), get("Owner"), get("ClientIP"), get("IdleTimeOut"),
          get("InputStreams"), get("OutputStreams")),
         (sid, CMD_URI, owner, "127.0.0.1", idle, "stdin", "stdout stderr"),
         "%s: ShellId, ResourceUri, Owner, ClientIP, IdleTimeOut %s, streams" % (what, idle))
    for n in ("ShellRunTime", "ShellInactivity"):
        t.ok(DURATION_DHMS.match(get(n) or ""), "%s: %s in P0DT0H0M0S form (%s)" % (what, n, get(n)))


# ---------------------------------------------------------------------------

def test_create(d):
    c = Client(d)
    seen = set()
    for upper in (False, True):
        mid = new_mid(upper)
        what = "Create (%s-case MessageID)" % ("upper" if upper else "lower")
        r = c.create(mid=mid)
        t.eq(r.status, 200, "%s: 200" % what)
        check_headers(r, XFER + "/CreateResponse", mid, what, seen)
        t.eq(r.children(), [q("x", "ResourceCreated"), q("rsp", "Shell")],
             "%s: body is x:ResourceCreated then rsp:Shell" % what)
        rc = r.body.find("x:ResourceCreated", NS)
        t.eq([c_.tag for c_ in rc], [q("a", "Address"), q("a", "ReferenceParameters")],
             "%s: x:ResourceCreated holds a:Address and a:ReferenceParameters" % what)
        t.eq(rc.findtext("a:Address", namespaces=NS), TO,
             "%s: a:Address is the address the client sent in a:To" % what)
        rp = rc.find("a:ReferenceParameters", NS)
        t.eq([c_.tag for c_ in rp], [q("w", "ResourceURI"), q("w", "SelectorSet")],
             "%s: a:ReferenceParameters holds w:ResourceURI and w:SelectorSet" % what)
        t.eq(rp.findtext("w:ResourceURI", namespaces=NS), CMD_URI, "%s: w:ResourceURI is the cmd shell" % what)
        sels = rp.findall("w:SelectorSet/w:Selector", NS)
        t.eq([(s.get("Name"), s.text) for s in sels], [("ShellId", r.sid)],
             "%s: one w:Selector Name=ShellId, the same id as rsp:ShellId" % what)
        t.ok(GUID_UPPER.match(r.sid or ""), "%s: the ShellId is an upper-case GUID (%s)" % (what, r.sid))
        sh = r.body.find("rsp:Shell", NS)
        check_shell(sh, r.sid, SHELL_ORDER, what)
        t.eq(sh.findtext("rsp:ShellRunTime", namespaces=NS), "P0DT0H0M0S", "%s: ShellRunTime P0DT0H0M0S" % what)
        # pywinrm's way: the first element with Name="ShellId" anywhere
        first = next(n for n in r.root.iter() if n.get("Name") == "ShellId")
        t.eq(first.text, r.sid, "%s: pywinrm's lookup finds the ShellId" % what)
        c.delete(r.sid)

    # Environment, WorkingDirectory, IdleTimeOut, Lifetime and Name sent.
    mid = new_mid()
    r = c.create("<rsp:WorkingDirectory>/tmp</rsp:WorkingDirectory>"
                 '<rsp:Environment><rsp:Variable Name="A">1 &amp; 2</rsp:Variable>'
                 '<rsp:Variable Name="B_VAR">é</rsp:Variable></rsp:Environment>'
                 "<rsp:Lifetime>PT600S</rsp:Lifetime><rsp:IdleTimeOut>PT90S</rsp:IdleTimeOut>"
                 "<rsp:Name>shell 1</rsp:Name>", mid=mid)
    t.eq(r.status, 200, "Create with Environment, WorkingDirectory, IdleTimeOut, Lifetime, Name: 200")
    sh = r.body.find("rsp:Shell", NS)
    check_shell(sh, r.sid, SHELL_ORDER_FULL, "Create with everything", idle="PT90.000S")
    t.eq([(v.get("Name"), v.text) for v in sh.findall("rsp:Environment/rsp:Variable", NS)],
         [("A", "1 & 2"), ("B_VAR", "é")], "Environment echoed, variables in order")
    t.eq(sh.findtext("rsp:WorkingDirectory", namespaces=NS), "/tmp", "WorkingDirectory echoed")
    t.ok(sh.find("rsp:Lifetime", NS) is None and sh.find("rsp:Name", NS) is None,
         "Lifetime and Name not echoed (as Windows)")
    out, err, code, _ = c.run(r.sid, 'pwd; echo "$A|$B_VAR"')
    t.eq((out, code), ("/tmp\n1 & 2|é\n".encode(), 0), "the command sees them")
    g = c.get(r.sid)
    t.eq(g.status, 200, "Get of the shell: 200")
    check_shell(g.body.find("rsp:Shell", NS), r.sid, SHELL_ORDER_FULL, "Get", idle="PT90.000S")
    c.delete(r.sid)

    r = c.create("<rsp:IdleTimeOut>PT99999S</rsp:IdleTimeOut>")
    t.eq(r.root.findtext(".//rsp:IdleTimeOut", namespaces=NS), "PT7200.000S",
         "an IdleTimeOut above Winrs.IdleTimeout is capped to it (PT7200.000S)")
    c.delete(r.sid)

    # PSRP clients choose the ShellId (rsp:Shell/@ShellId).
    want = str(uuid.uuid4()).upper()
    r = c.create(attrs=' ShellId="%s"' % want)
    t.eq(r.sid, want, "a client-chosen rsp:Shell/@ShellId is honoured")
    c.delete(r.sid)

    # True / FALSE option values, NOPROFILE: a login shell or not.
    for val, argv0 in (("FALSE", "-sh"), ("True", "sh"), ("true", "sh"), ("False", "-sh")):
        r = c.create(opts=options(("WINRS_NOPROFILE", val), ("WINRS_CODEPAGE", "437")))
        out, _, code, _ = c.run(r.sid, 'echo "$0"')
        t.eq((r.status, out), (200, (argv0 + "\n").encode()),
             "WINRS_NOPROFILE=%s accepted: the account's shell runs as %s" % (val, argv0))
        c.delete(r.sid)

    # An unknown option: ignored, refused only with MustComply.
    r = c.create(opts=options(("WINRS_NOPROFILE", "FALSE"), ("SOME_FUTURE_OPTION", "1")))
    t.eq(r.status, 200, "Create: an unknown option without MustComply is ignored")
    sid = r.sid
    r = c.create(opts=options(("WINRS_NOPROFILE", "FALSE"), ("SOME_FUTURE_OPTION", "1"),
                              must_comply=("SOME_FUTURE_OPTION",)))
    check_fault(r, 500, "s:Sender", "w:InvalidOptions", "2150858809",
                "Create: an unknown option with MustComply=true")
    r = c.command(sid, "true", opts=options(("WINRS_SKIP_CMD_SHELL", "FALSE"), ("X_OPT", "y"),
                                             must_comply=("X_OPT",)))
    check_fault(r, 500, "s:Sender", "w:InvalidOptions", "2150858809",
                "Command: an unknown option with MustComply=true")
    r = c.command(sid, "true", opts=options(("WINRS_SKIP_CMD_SHELL", "FALSE"),
                                             ("WINRS_CONSOLEMODE_STDIN", "TRUE"),
                                             must_comply=("WINRS_SKIP_CMD_SHELL",)))
    t.eq(r.status, 200, "Command: a known option with MustComply=true is fine")
    c.signal(sid, r.cid)
    c.delete(sid)


def test_command(d):
    c = Client(d)
    seen = set()
    sid = c.create().sid
    mid = new_mid(False)
    r = c.command(sid, "echo hi", mid=mid)
    t.eq(r.status, 200, "Command: 200")
    check_headers(r, NS_SHELL + "/CommandResponse", mid, "Command", seen)
    t.eq(r.header("Action"), "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse",
         "Command: the exact action URI the Go client compares")
    t.eq(r.children(), [q("rsp", "CommandResponse")], "Command: body is rsp:CommandResponse")
    cr = r.body.find("rsp:CommandResponse", NS)
    t.eq([c_.tag for c_ in cr], [q("rsp", "CommandId")], "holding only rsp:CommandId")
    t.ok(GUID_UPPER.match(r.cid or ""), "the CommandId is an upper-case GUID (%s)" % r.cid)
    out, err, code, _ = c.drain(sid, r.cid)
    t.eq((out, err, code), (b"hi\n", b"", 0), "and runs: hi, exit 0")
    c.signal(sid, r.cid)

    cases = (
        ("Ruby: the whole command in double quotes", '"echo hi there"', (), b"hi there\n"),
        ("quotes inside are kept", "echo \"a  b\" 'c  d'", (), b"a  b c  d\n"),
        ("Go: CDATA", "<![CDATA[echo 'a<b>&c' \"x\"]]>", (), b"a<b>&c x\n"),
        ("pywinrm: one joined rsp:Arguments", "printf", ["'%s|' a b"], b"a|b|"),
        ("pypsrp/Go: one rsp:Arguments per argument", "printf", ["'%s|'", "a", "b"], b"a|b|"),
        ("arguments joined with single spaces, not re-quoted", "echo", ["one", "two  three"],
         b"one two three\n"),
    )
    for what, command, args, want in cases:
        out, err, code, rs = c.run(sid, command, args)
        t.eq((out, code), (want, 0), "Command %s: %r" % (what, want))
        t.ok(all(x.status == 200 for x in rs), "Command %s: every Receive 200" % what)
    out, err, code, _ = c.run(sid, '"printf" "[%s]" "x"')
    t.eq(out, b"[x]", "a command that merely starts and ends with quotes is left alone")

    want = str(uuid.uuid4()).upper()
    r = c.command(sid, "true", attrs=' CommandId="%s"' % want)
    t.eq(r.cid, want, "Ruby/PSRP: a client-chosen rsp:CommandLine/@CommandId is honoured")
    c.drain(sid, r.cid)
    c.signal(sid, r.cid)

    # WINRS_SKIP_CMD_SHELL: the program runs directly, each argument as is.
    for val in ("TRUE", "True"):
        out, err, code, _ = c.run(sid, "/usr/bin/printf", ["[%s]", "a b", "$HOME", "c"],
                                  opts=options(("WINRS_CONSOLEMODE_STDIN", "FALSE"),
                                               ("WINRS_SKIP_CMD_SHELL", val)))
        t.eq((out, code), (b"[a b][$HOME][c]", 0),
             "WINRS_SKIP_CMD_SHELL=%s: exec without a shell, one argv entry per rsp:Arguments" % val)
    out, err, code, _ = c.run(sid, "printf", ["%s,", "x"], opts=options(("WINRS_SKIP_CMD_SHELL", "TRUE")))
    t.eq(out, b"x,", "WINRS_SKIP_CMD_SHELL=TRUE: the program is found on PATH")
    mid = new_mid()
    r = c.command(sid, "no-such-program-winrmd", ["x"], opts=options(("WINRS_SKIP_CMD_SHELL", "TRUE")), mid=mid)
    check_fault(r, 500, "s:Receiver", "w:InternalError", "2147942402",
                "WINRS_SKIP_CMD_SHELL=TRUE with a missing program: the fault comes on the Command")
    t.eq((r.header("Action"), r.header("RelatesTo")), (A_FAULT, mid), "fault: wsman fault action, RelatesTo")
    r = c.command(sid, "/nonexistent/prog", opts=options(("WINRS_SKIP_CMD_SHELL", "TRUE")))
    check_fault(r, 500, "s:Receiver", "w:InternalError", "2147942402",
                "WINRS_SKIP_CMD_SHELL=TRUE with a missing absolute path")
    r = c.command(sid, "echo still usable")
    out, _, code, _ = c.drain(sid, r.cid)
    t.eq(out, b"still usable\n", "the shell works after a failed start")
    c.signal(sid, r.cid)

    # Command faults
    r = c.command("00000000-0000-0000-0000-000000000000", "true")
    check_fault(r, 500, "s:Sender", "w:InvalidSelectors", "2150858843", "Command in an unknown shell",
                "UnexpectedSelectors")
    r = c.post(envelope(A_COMMAND, cmdline("true"), None, CMD_OPTS))
    t.ok(r.status == 500 and r.fault and r.fault[1] == "w:InvalidSelectors",
         "Command without the ShellId selector: w:InvalidSelectors", r.fault)
    c.delete(sid)


def b64_ok(text):
    return text == "" or (B64.match(text) is not None and len(text) % 4 == 0)


def test_send_receive(d):
    c = Client(d)
    seen = set()
    sid = c.create().sid

    # Send: exact response; End in its spellings.
    for end in ("true", "True", "1"):
        r = c.command(sid, "cat")
        cid = r.cid
        mid = new_mid()
        s = c.post(envelope(A_SEND, '<rsp:Send><rsp:Stream Name="stdin" CommandId="%s">%s</rsp:Stream>'
                            '<rsp:Stream Name="stdin" CommandId="%s" End="%s">%s</rsp:Stream></rsp:Send>'
                            % (cid, base64.b64encode(b"one ").decode(), cid, end,
                               base64.b64encode(b"two").decode()), sid, mid=mid))
        t.eq(s.status, 200, "Send with two rsp:Stream (End=%s): 200" % end)
        check_headers(s, NS_SHELL + "/SendResponse", mid, "Send", seen)
        sr = s.body.find("rsp:SendResponse", NS)
        t.ok(s.children() == [q("rsp", "SendResponse")] and len(sr) == 0 and not (sr.text or "").strip(),
             "Send: the body is exactly <rsp:SendResponse/>", s.raw)
        out, err, code, _ = c.drain(sid, cid)
        t.eq((out, code), (b"one two", 0), "End=%s closed stdin: cat got both streams and ended" % end)
        c.signal(sid, cid)
    s = c.send(sid, "00000000-0000-0000-0000-000000000000", b"x")
    check_fault(s, 500, "s:Sender", "w:InvalidSelectors", "2150858843", "Send to an unknown command")

    # The stream's text in the forms clients write it: decoded in place
    # when it is one text node, else gathered first; blanks at the ends
    # or (wrapped base64) inside are dropped.
    data = bytes(range(256)) * 3
    b64 = base64.b64encode(data).decode()
    forms = [("plain", b64),
             ("blanks at both ends", "\n  " + b64 + "\r\n\t"),
             ("wrapped at 76 (base64.encodebytes)", base64.encodebytes(data).decode()),
             ("split by a comment", b64[:400] + "<!-- x -->" + b64[400:]),
             ("partly in CDATA", b64[:100] + "<![CDATA[" + b64[100:] + "]]>")]
    for what, text in forms:
        cid = c.command(sid, "cat").cid
        s = c.send(sid, cid, b"", raw='<rsp:Send><rsp:Stream Name="stdin" CommandId="%s" End="true">%s'
                   '</rsp:Stream></rsp:Send>' % (cid, text))
        t.eq(s.status, 200, "Send, base64 %s: 200" % what)
        out, err, code, _ = c.drain(sid, cid)
        t.eq((out, code), (data, 0), "Send, base64 %s: cat got the very bytes" % what)
        c.signal(sid, cid)
    cid = c.command(sid, "cat").cid
    for what, text in (("not base64", "b25l!dHdv"), ("unpadded", "b25lIHR3bw"),
                       ("'=' inside", "b2=lIHR3bw=="), ("blanks only", "  \n ")):
        s = c.send(sid, cid, b"", raw='<rsp:Send><rsp:Stream Name="stdin" CommandId="%s">%s'
                   '</rsp:Stream></rsp:Send>' % (cid, text))
        if what == "blanks only":
            t.eq(s.status, 200, "Send of an empty stream (%s): 200, nothing written" % what)
        else:
            check_fault(s, 500, "s:Sender", "w:SchemaValidationError", "2150858817",
                        "Send whose stream is %s" % what)
    c.send(sid, cid, b"after", end="true")
    out, err, code, _ = c.drain(sid, cid)
    t.eq((out, code), (b"after", 0), "refused Sends wrote nothing: cat got only the good one")
    c.signal(sid, cid)

    # Receive: the shape at Done.
    mid = new_mid()
    r = c.command(sid, esc("echo out; echo err >&2; printf 'ab'; exit 3"))
    cid = r.cid
    time.sleep(0.5)
    out, err, code, rs = c.drain(sid, cid)
    t.eq((out, err, code), (b"out\nab", b"err\n", 3), "Receive: stdout, stderr, exit code 3")
    last = rs[-1]
    t.eq(last.header("Action"), NS_SHELL + "/ReceiveResponse", "Receive: a:Action ReceiveResponse")
    rr = last.body.find("rsp:ReceiveResponse", NS)
    t.eq(last.children(), [q("rsp", "ReceiveResponse")], "Receive: body is rsp:ReceiveResponse")
    kids = list(rr)
    t.ok(all(k.tag in (q("rsp", "Stream"), q("rsp", "CommandState")) for k in kids),
         "only rsp:Stream and rsp:CommandState inside", [k.tag for k in kids])
    states = rr.findall("rsp:CommandState", NS)
    t.eq(len(states), 1, "exactly one rsp:CommandState")
    t.ok(kids[-1].tag == q("rsp", "CommandState"), "and it comes last")
    cs = states[0]
    t.eq((cs.get("CommandId"), cs.get("State")), (cid, STATE_DONE), "CommandState Done for the command")
    t.eq([(local(k.tag), k.text) for k in cs], [("ExitCode", "3")], "with one rsp:ExitCode 3")
    ends = [(k.get("Name"), k.get("CommandId"), k.text) for k in rr.findall("rsp:Stream", NS)
            if k.get("End") is not None]
    t.eq(ends, [("stdout", cid, None), ("stderr", cid, None)],
         "End=\"true\" markers, empty, for stdout then stderr in the Done response")
    t.ok(all(k.get("End") in (None, "true") for k in rr.findall("rsp:Stream", NS)), "End is spelled \"true\"")
    all_streams = [s_ for x in rs if x.status == 200 for s_ in x.root.iter(q("rsp", "Stream"))]
    t.ok(all(s_.get("Name") in ("stdout", "stderr") and s_.get("CommandId") == cid for s_ in all_streams),
         "every rsp:Stream names its stream and the CommandId")
    t.ok(all(b64_ok(s_.text or "") for s_ in all_streams),
         "every rsp:Stream text is standalone, padded, standard base64 without line breaks")
    t.ok(all(not n.tag.endswith("Stream") or n.get("Name") for x in rs if x.status == 200
             for n in x.root.iter()), "no other element whose name ends in Stream (pywinrm)")

    # Running: output first, the state Running without an ExitCode.
    r = c.command(sid, "echo early; sleep 4; echo late")
    cid = r.cid
    first = c.receive(sid, cid)
    rr = first.body.find("rsp:ReceiveResponse", NS)
    states = rr.findall("rsp:CommandState", NS)
    t.eq([(s_.get("CommandId"), s_.get("State")) for s_ in states], [(cid, STATE_RUNNING)],
         "output before the end: one CommandState Running")
    t.eq(len(states[0]), 0, "Running carries no ExitCode")
    t.eq(b"".join(base64.b64decode(s_.text or "") for s_ in rr.findall("rsp:Stream", NS)), b"early\n",
         "and the output so far is returned at once")
    t.ok(all(s_.get("End") is None for s_ in rr.findall("rsp:Stream", NS)), "no End markers while running")
    out, err, code, _ = c.drain(sid, cid)
    t.eq((out, code), (b"late\n", 0), "the next Receives bring the rest and Done")
    c.signal(sid, cid)

    # Only stdout wanted.
    r = c.command(sid, esc("echo o; echo e >&2"))
    time.sleep(0.3)
    out, err, code, rs = c.drain(sid, r.cid, streams="stdout")
    names = {s_.get("Name") for x in rs if x.status == 200 for s_ in x.root.iter(q("rsp", "Stream"))}
    t.eq((out, err, code, names), (b"o\n", b"", 0, {"stdout"}),
         "DesiredStream stdout: only stdout streams (and only its End marker)")
    c.signal(sid, r.cid)

    # A small MaxEnvelopeSize bounds every response.
    r = c.command(sid, "head -c 200000 /dev/zero | tr '\\0' y")
    out, err, code, rs = c.drain(sid, r.cid, 60, max_envelope=8192)
    t.eq((len(out), out.count(b"y"), code), (200000, 200000, 0),
         "200000 bytes through Receives with MaxEnvelopeSize 8192")
    t.ok(max(len(x.raw) for x in rs) <= 8192,
         "no response exceeds MaxEnvelopeSize 8192 (largest %d, %d Receives)" % (
             max(len(x.raw) for x in rs), len(rs)))
    c.signal(sid, r.cid)

    # Receive faults
    r = c.command(sid, "sleep 5")
    cid = r.cid
    mid = new_mid()
    x = c.post(envelope(A_RECEIVE, receive_body(None), sid, mid=mid))
    check_fault(x, 500, "s:Sender", "w:InvalidParameter", "87", "Receive without CommandId",
                "InvalidValue")
    t.eq(x.header("RelatesTo"), mid, "the fault relates to the request")
    x = c.receive(sid, "00000000-0000-0000-0000-000000000000")
    check_fault(x, 500, "s:Sender", "w:InvalidSelectors", "2150858843", "Receive for an unknown command",
                "UnexpectedSelectors")
    x = c.receive(sid, cid, timeout="PT1S")
    check_fault(x, 500, "s:Receiver", "w:TimedOut", "2150858793", "Receive with nothing before PT1S")
    t.ok(x.fault and "OperationTimeout" in x.fault[3], "its reason names OperationTimeout", x.fault)
    t.ok(x.root.find(".//s:Fault/s:Detail/w:FaultDetail", NS) is None, "TimedOut has no FaultDetail")
    c.signal(sid, cid)
    c.delete(sid)


def test_signal_delete_get(d):
    c = Client(d)
    seen = set()
    sid = c.create().sid
    r = c.command(sid, "sleep 30")
    cid = r.cid
    mid = new_mid(False)
    s = c.signal(sid, cid, "terminate", mid=mid)
    t.eq(s.status, 200, "Signal terminate on a running command: 200")
    check_headers(s, NS_SHELL + "/SignalResponse", mid, "Signal", seen)
    sr = s.body.find("rsp:SignalResponse", NS)
    t.ok(s.children() == [q("rsp", "SignalResponse")] and len(sr) == 0 and not (sr.text or "").strip(),
         "Signal: the body is exactly <rsp:SignalResponse/>", s.raw)
    x = c.receive(sid, cid, timeout="PT2S")
    check_fault(x, 500, "s:Sender", "w:InvalidSelectors", "2150858843", "Receive after terminate")
    s = c.signal(sid, cid, "terminate")
    t.eq(s.status, 200, "terminate again (the command is gone): 200")

    r = c.command(sid, "sleep 30")
    s = c.signal(sid, r.cid, "Terminate")
    t.eq(s.status, 200, "pypsrp's signal/Terminate (capital T): 200")
    x = c.receive(sid, r.cid, timeout="PT2S")
    check_fault(x, 500, "s:Sender", "w:InvalidSelectors", "2150858843",
                "and it terminated: Receive afterwards")

    r = c.command(sid, "echo done")
    out, _, code, _ = c.drain(sid, r.cid)
    t.eq(out, b"done\n", "a command ran to Done")
    for word in ("ctrl_c", "ctrl_break", "terminate"):
        s = c.signal(sid, r.cid, word)
        t.ok(s.status == 200 and s.children() == [q("rsp", "SignalResponse")],
             "Signal %s after Done: <rsp:SignalResponse/>" % word, s.raw)
    s = c.signal(sid, "00000000-0000-0000-0000-000000000000", "terminate")
    t.eq(s.status, 200, "Signal for a CommandId the shell never had: 200 (clients clean up blindly)")
    s = c.signal("00000000-0000-0000-0000-000000000000", r.cid, "terminate")
    check_fault(s, 500, "s:Sender", "w:InvalidSelectors", "2150858843", "Signal in an unknown shell")

    # Get
    time.sleep(1.1)
    g = c.get(sid)
    t.eq(g.status, 200, "Get (ResourceURI .../windows/shell, ShellId selector): 200")
    t.eq(g.header("Action"), XFER + "/GetResponse", "Get: a:Action GetResponse")
    t.eq(g.children(), [q("rsp", "Shell")], "Get: body is rsp:Shell")
    el = g.body.find("rsp:Shell", NS)
    check_shell(el, sid, SHELL_ORDER, "Get")
    m = DURATION_DHMS.match(el.findtext("rsp:ShellRunTime", namespaces=NS) or "")
    t.ok(m and int(m.group(4)) + 60 * int(m.group(3)) >= 1, "Get: ShellRunTime counts (>= 1 s after 1.1 s)")
    g2 = c.get(sid, resource=CMD_URI)
    t.eq(g2.status, 200, "Get with the .../shell/cmd ResourceURI works too")
    g = c.get("00000000-0000-0000-0000-000000000000")
    check_fault(g, 500, "s:Sender", "w:InvalidSelectors", "2150858843", "Get of an unknown shell")

    # Delete
    r = c.command(sid, "sleep 31")
    mid = new_mid()
    x = c.delete(sid, mid=mid)
    t.eq(x.status, 200, "Delete (with a running command): 200")
    check_headers(x, XFER + "/DeleteResponse", mid, "Delete", seen)
    t.ok(x.children() == [] and not (x.body.text or "").strip(), "Delete: an empty s:Body", x.raw)
    x = c.delete(sid)
    check_fault(x, 500, "s:Sender", "w:InvalidSelectors", "2150858843", "Delete of an unknown shell",
                "UnexpectedSelectors")
    t.eq(x.header("Action"), A_FAULT, "the fault's a:Action is the WS-Management fault action")
    x = c.receive(sid, r.cid, timeout="PT1S")
    check_fault(x, 500, "s:Sender", "w:InvalidSelectors", "2150858843", "Receive in the deleted shell")
    sid2 = c.create().sid
    x = c.delete(sid2, resource=NS_SHELL)
    t.eq(x.status, 200, "Delete with the .../windows/shell ResourceURI (pypsrp): 200")


def test_send_flow_control(d):
    """A file copy into a command that reads slowly: every Send is
    answered (none refused as over the 16 MiB stdin bound), the ones past
    1 MiB queued only once the command reads, and every byte arrives."""
    c = Client(d)
    sid = c.create().sid
    cid = c.command(sid, "sleep 2; sha256sum").cid
    piece = bytes(range(256)) * 448           # 112 KiB, what fits a 150 KiB envelope
    total = 20 * 1024 * 1024 // len(piece) + 1  # a little over 20 MiB
    statuses, slowest = set(), 0.0
    for i in range(total):
        t0 = time.time()
        s = c.send(sid, cid, piece, end="true" if i == total - 1 else None)
        slowest = max(slowest, time.time() - t0)
        statuses.add(s.status)
        if s.status != 200:
            break
    t.ok(statuses == {200}, "%d Sends of 112 KiB (%.1f MiB) into a command that sleeps first: all 200"
         % (total, total * len(piece) / 1048576.0), s.raw[:1500])
    t.ok(slowest >= 1.0, "a Send past 1 MiB queued waited for the command to read (%.2f s)" % slowest)
    out, err, code, _ = c.drain(sid, cid, limit=120)
    want = hashlib.sha256(piece * total).hexdigest() + "  -"
    t.eq((out.decode().strip(), code), (want, 0), "the command read every byte once, in order (SHA-256)")
    c.delete(sid)


def enumerate_shells(c, optimize=True, extra="", shell_id=None):
    body = '<n:Enumerate xmlns:n="%s">%s%s</n:Enumerate>' % (
        ENUMERATION, "<w:OptimizeEnumeration/><w:MaxElements>32000</w:MaxElements>"
        if optimize else "", extra)
    return c.post(envelope(A_ENUM, body, shell_id))


def test_enumerate(d):
    alice, carol = Client(d), Client(d, "carol", "carolpw")
    mine = sorted(alice.create().sid for _ in range(2))
    theirs = carol.create().sid
    seen = set()
    mid = new_mid()
    r = alice.post(envelope(A_ENUM, '<n:Enumerate xmlns:n="%s"><w:OptimizeEnumeration/>'
                            "<w:MaxElements>32000</w:MaxElements></n:Enumerate>" % ENUMERATION,
                            mid=mid))
    t.eq(r.status, 200, "Enumerate shells (optimized): 200")
    check_headers(r, A_ENUM + "Response", mid, "Enumerate", seen)
    er = r.body.find("{%s}EnumerateResponse" % ENUMERATION) if r.body is not None else None
    t.eq([c.tag for c in er] if er is not None else None,
         ["{%s}EnumerationContext" % ENUMERATION, q("w", "Items"), q("w", "EndOfSequence")],
         "Enumerate: EnumerationContext, w:Items, w:EndOfSequence")
    items = er.find("w:Items", NS) if er is not None else None
    shells = list(items) if items is not None else []
    t.eq(sorted(el.findtext("rsp:ShellId", namespaces=NS) for el in shells), mine,
         "Enumerate lists exactly the caller's two shells (not carol's)")
    for el in shells:
        check_shell(el, el.findtext("rsp:ShellId", namespaces=NS), SHELL_ORDER, "Enumerate item")

    # winrm.cmd's way of listing shells, through winrmctl's remote mode
    ctl = os.path.join(BUILDDIR, "winrmctl", "winrmctl")
    base = [ctl, "enumerate", "shell/cmd", "-r:http://127.0.0.1:%d" % d.port, "-a:Basic",
            "-unencrypted"]
    p = subprocess.run(base + ["-u:alice", "-p:alicepw"], capture_output=True, text=True,
                       timeout=30)
    t.ok(p.returncode == 0 and p.stdout.count("Shell\n") == 2 and
         all("    ShellId = %s\n" % sid in p.stdout for sid in mine) and theirs not in p.stdout,
         "winrmctl enumerate shell/cmd -r:... lists alice's two shells", p.stdout + p.stderr)
    p = subprocess.run(base + ["-u:alice", "-p:alicepw", "-format:xml"], capture_output=True,
                       text=True, timeout=30)
    t.ok(p.returncode == 0 and p.stdout.count("<rsp:ShellId>") == 2,
         "... and with -format:xml, two rsp:Shell elements", p.stdout + p.stderr)

    r = enumerate_shells(carol)
    t.eq([el.findtext("rsp:ShellId", namespaces=NS) for el in r.root.iter(q("rsp", "Shell"))],
         [theirs], "carol's Enumerate lists only carol's shell")

    r = enumerate_shells(alice, optimize=False)
    ctx = r.root.findtext(".//n:EnumerationContext", namespaces=NS) if r.status == 200 else None
    t.ok(ctx and ctx.startswith("uuid:") and not list(r.root.iter(q("rsp", "Shell"))),
         "Enumerate without OptimizeEnumeration: a context, no items yet", r.raw[-400:])
    pull = '<n:Pull xmlns:n="%s"><n:EnumerationContext>%s</n:EnumerationContext></n:Pull>' % (
        ENUMERATION, ctx)
    x = carol.post(envelope(A_PULL, pull))
    check_fault(x, 500, "s:Receiver", "n:InvalidEnumerationContext", "2150858779",
                "carol cannot Pull alice's enumeration context")
    x = alice.post(envelope(A_PULL, pull))
    t.eq(x.status, 200, "Pull with the context: 200")
    t.eq(x.header("Action"), A_PULL + "Response", "Pull: a:Action PullResponse")
    t.eq(sorted(el.findtext("rsp:ShellId", namespaces=NS)
                for el in x.root.iter(q("rsp", "Shell"))) if x.status == 200 else None,
         mine, "Pull returns alice's shells")
    t.ok(x.root.find(".//n:PullResponse/n:EndOfSequence", NS) is not None,
         "Pull ends with n:EndOfSequence", x.raw[-300:])
    x = alice.post(envelope(A_PULL, pull))
    check_fault(x, 500, "s:Receiver", "n:InvalidEnumerationContext", "2150858779",
                "a second Pull of a finished enumeration")

    for f in ('<w:Filter Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL">x</w:Filter>',
              "<n:Filter>x</n:Filter>"):
        x = enumerate_shells(alice, extra=f)
        check_fault(x, 500, "s:Sender", "n:FilteringNotSupported", "2150858776",
                    "Enumerate with %s" % f.split(">")[0] + ">")
    x = enumerate_shells(alice, shell_id=mine[0])
    check_fault(x, 500, "s:Sender", "w:InvalidSelectors", "2150858813",
                "Enumerate of one shell's commands (ShellId selector) is not offered")
    x = alice.post(envelope(A_ENUM, "<rsp:Shell/>"))
    check_fault(x, 500, "s:Sender", "w:SchemaValidationError", "2150858817",
                "Enumerate whose body is not n:Enumerate")

    for sid in mine:
        alice.delete(sid)
    carol.delete(theirs)
    r = enumerate_shells(alice)
    t.ok(r.status == 200 and r.root.find(".//w:Items", NS) is not None and
         not list(r.root.iter(q("rsp", "Shell"))),
         "after Delete, Enumerate answers an empty w:Items", r.raw[-400:])


def test_operations_quota(d):
    """Service.MaxConcurrentOperationsPerUser: every request in progress
    holds one of the account's slots, a waiting Receive included; the
    next one gets w:QuotaLimit 2150859174, other accounts are unaffected,
    and a slot comes back as soon as its request is answered."""
    mark = len(d.log())
    d.tree["Service"]["MaxConcurrentOperationsPerUser"] = 2
    d.write_config()
    d.reload()
    t.ok(d.wait_log(LISTENER_RELOADED, start=mark), "reloaded with a limit of 2")
    alice = Client(d)
    sid = alice.create().sid
    # one waiting Receive per command (a newer Receive would answer an
    # older one for the same command)
    cids = [alice.command(sid, "sleep 30").cid for _ in range(2)]
    import threading
    waits = []

    # Two more connections, logged in one after the other (the lab's
    # pam_wrapper races when PAM starts in several processes at once).
    waiters = [Client(d) for _ in cids]
    for w in waiters:
        w.get(sid)

    def wait_receive(w, cid):
        # A Receive that arrives while one of alice's polling Gets below
        # is in progress is itself over the limit: it tries again until
        # it is admitted and waits.
        deadline = time.time() + 8
        while True:
            x = w.receive(sid, cid, timeout="PT10S")
            if (x.fault is None or x.fault[1] != "w:QuotaLimit" or
                    time.time() > deadline):
                waits.append(x)
                return
            time.sleep(0.02)

    threads = [threading.Thread(target=wait_receive, args=(w, cid))
               for w, cid in zip(waiters, cids)]
    for th in threads:
        th.start()
    mark = len(d.log())
    # Until both Receives wait in the daemon.  A refusal means two other
    # requests of alice's hold slots: only the Receives can (each is
    # admitted once it holds one, and then waits).
    deadline = time.time() + 8
    while True:
        x = alice.get(sid)
        if x.status != 200 or time.time() > deadline:
            break
        time.sleep(0.05)
    check_fault(x, 500, "s:Sender", "w:QuotaLimit", "2150859174",
                "a third operation while two Receives wait")
    t.ok(d.wait_log(r"quota .*user=alice result=denied .*MaxConcurrentOperationsPerUser",
                    start=mark), "the refusal is audited")
    carol = Client(d, "carol", "carolpw")
    b = carol.create()
    t.ok(b.status == 200, "another account is not affected", b.raw[:1500])
    carol.delete(b.sid)
    for th in threads:
        th.join(30)
    t.eq([w.fault[1] if w.fault else w.status for w in waits], ["w:TimedOut"] * 2,
         "the waiting Receives ended with w:TimedOut")
    x = alice.get(sid)
    t.eq(x.status, 200, "once they are answered, the slots are free again")
    alice.delete(sid)
    mark = len(d.log())
    del d.tree["Service"]["MaxConcurrentOperationsPerUser"]
    d.write_config()
    d.reload()
    t.ok(d.wait_log(LISTENER_RELOADED, start=mark), "reloaded with the default limit")


def test_qualified_must_understand(d):
    """Also a SOAP-qualified s:mustUnderstand on the standard headers."""
    c = Client(d)
    env = envelope(A_CREATE, shell_body(), options=CREATE_OPTS).replace(
        ' mustUnderstand="true"', ' s:mustUnderstand="true"')
    r = c.post(env)
    t.eq(r.status, 200, "Create with s:mustUnderstand=\"true\" on the standard headers: 200")
    if r.status == 200:
        c.delete(r.root.findtext(".//rsp:ShellId", namespaces=NS))


with Lab() as lab:
    d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}},
                         "Winrs": {"KeepEnvironment": KEEP_ENV}})
    try:
        d.start()
        for fn in (test_create, test_command, test_send_receive, test_send_flow_control, test_signal_delete_get,
                   test_enumerate, test_operations_quota, test_qualified_must_understand):
            t.run(fn, d)
        d.check_alive(t, "the envelope tests")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()
sys.exit(t.done())
