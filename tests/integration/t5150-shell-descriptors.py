#!/usr/bin/python3
"""t5150 - a command's root monitor holds only its own descriptors: two
users' commands started back to back (the second one's monitor is forked
while the first one's pipes are still in the helper), then the first
one's client closes stdin (Send End="true"): the first command sees
end-of-input and ends while the second keeps running.  Before, the second
monitor inherited the first command's stdin write end, so the first one
waited for end-of-input as long as the second one ran."""
import base64
import os
import sys
import threading
import time
import uuid

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import soap  # noqa: E402
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import lab_daemon  # noqa: E402

t = Tap()
NS = dict(soap.NS)
RSP = NS["rsp"]
CMD_URI = RSP + "/cmd"
XFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
ANON = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
DONE = RSP + "/CommandState/Done"
KEEP_ENV = ["LD_PRELOAD", "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP", "NSS_WRAPPER_HOSTS"]
ROUNDS = 6
EOF_WAIT = 10       # seconds a command may take to see end-of-input


def envelope(action, body, shell_id=None, timeout="PT5S"):
    sel = ('<w:SelectorSet><w:Selector Name="ShellId">%s</w:Selector></w:SelectorSet>'
           % shell_id) if shell_id else ""
    return (
        '<s:Envelope xmlns:s="%(s)s" xmlns:a="%(a)s" xmlns:w="%(w)s" xmlns:rsp="%(rsp)s">'
        "<s:Header><a:To>http://127.0.0.1/wsman</a:To>"
        '<a:ReplyTo><a:Address mustUnderstand="true">%(anon)s</a:Address></a:ReplyTo>'
        '<w:MaxEnvelopeSize mustUnderstand="true">153600</w:MaxEnvelopeSize>'
        "<a:MessageID>uuid:%(mid)s</a:MessageID>"
        "<w:OperationTimeout>%(tmo)s</w:OperationTimeout>"
        '<w:ResourceURI mustUnderstand="true">%(uri)s</w:ResourceURI>'
        '<a:Action mustUnderstand="true">%(action)s</a:Action>'
        "%(sel)s</s:Header><s:Body>%(body)s</s:Body></s:Envelope>"
    ) % dict(NS, anon=ANON, mid=str(uuid.uuid4()).upper(), tmo=timeout, uri=CMD_URI,
             action=action, sel=sel, body=body)


class Client:
    def __init__(self, d, user):
        self.d = d
        self.user = user
        self.auth = {"Authorization": "Basic " + base64.b64encode(
            ("%s:%spw" % (user, user)).encode()).decode()}
        self.conn = d.connection(60)

    def post(self, action, body, sid=None, timeout="PT5S"):
        st, _, data = self.d.post(envelope(action, body, sid, timeout), self.auth,
                                  conn=self.conn)
        return st, data

    def create(self):
        st, data = self.post(XFER + "/Create",
                             "<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams>"
                             "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>")
        return soap.parse(data).findtext(".//rsp:ShellId", namespaces=NS) if st == 200 else None

    def command(self, sid, line):
        st, data = self.post(RSP + "/Command",
                             "<rsp:CommandLine><rsp:Command>%s</rsp:Command></rsp:CommandLine>"
                             % line, sid)
        return soap.parse(data).findtext(".//rsp:CommandId", namespaces=NS) if st == 200 else None

    def close_stdin(self, sid, cid):
        st, _ = self.post(RSP + "/Send",
                          '<rsp:Send><rsp:Stream Name="stdin" CommandId="%s" End="true">%s'
                          "</rsp:Stream></rsp:Send>" % (cid, base64.b64encode(b"x\n").decode()),
                          sid)
        return st

    def receive(self, sid, cid, timeout="PT1S"):
        """(done, stdout) of one Receive."""
        st, data = self.post(RSP + "/Receive",
                             '<rsp:Receive><rsp:DesiredStream CommandId="%s">stdout stderr'
                             "</rsp:DesiredStream></rsp:Receive>" % cid, sid, timeout)
        if st != 200:
            return False, b""      # w:TimedOut: still running, nothing new
        root = soap.parse(data)
        out = b"".join(base64.b64decode(s.text or "") for s in root.iter("{%s}Stream" % RSP)
                       if s.get("Name") == "stdout")
        cs = root.find(".//rsp:CommandState", NS)
        return cs is not None and cs.get("State") == DONE, out

    def wait_done(self, sid, cid, limit):
        out = b""
        deadline = time.time() + limit
        while time.time() < deadline:
            done, o = self.receive(sid, cid)
            out += o
            if done:
                return True, out
        return False, out

    def terminate(self, sid, cid):
        self.post(RSP + "/Signal", '<rsp:Signal CommandId="%s"><rsp:Code>%s/signal/terminate'
                  "</rsp:Code></rsp:Signal>" % (cid, RSP), sid)


def round_(first, second, sid1, sid2, delay):
    """first's command, then second's delay seconds later, both at once
    from two threads; then first closes its stdin."""
    cids = {}

    def start(c, sid, wait):
        time.sleep(wait)
        cids[c.user] = c.command(sid, "cat; echo end-of-input")

    th = [threading.Thread(target=start, args=(first, sid1, 0)),
          threading.Thread(target=start, args=(second, sid2, delay))]
    for x in th:
        x.start()
    for x in th:
        x.join()
    c1, c2 = cids.get(first.user), cids.get(second.user)
    what = "%s then %s (+%d ms)" % (first.user, second.user, delay * 1000)
    if not t.ok(c1 and c2, "%s: both commands start" % what, cids):
        return
    t.eq(first.close_stdin(sid1, c1), 200, "%s: %s closes stdin" % (what, first.user))
    done, out = first.wait_done(sid1, c1, EOF_WAIT)
    t.ok(done and out == b"x\nend-of-input\n",
         "%s: %s's command sees end-of-input and ends" % (what, first.user), (done, out))
    done2, _ = second.receive(sid2, c2)
    t.ok(not done2, "%s: while %s's command keeps running" % (what, second.user))
    # the second one ends on its own end-of-input too
    second.close_stdin(sid2, c2)
    done2, out2 = second.wait_done(sid2, c2, EOF_WAIT)
    t.ok(done2 and out2 == b"x\nend-of-input\n",
         "%s: then %s's command ends on its own end-of-input" % (what, second.user),
         (done2, out2))
    if not done:
        first.terminate(sid1, c1)
    if not done2:
        second.terminate(sid2, c2)


def main(lab):
    d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}},
                         "Winrs": {"KeepEnvironment": KEEP_ENV}})
    try:
        d.start()
        alice, carol = Client(d, "alice"), Client(d, "carol")
        sa, sc = alice.create(), carol.create()
        t.ok(sa and sc, "alice and carol each have a shell")
        for i in range(ROUNDS):
            a, b = (alice, carol) if i % 2 == 0 else (carol, alice)
            round_(a, b, sa if a is alice else sc, sc if a is alice else sa,
                   (0, 0, 0.002, 0.002, 0.005, 0.005)[i])
        d.check_alive(t, "the back-to-back commands")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()


with Lab() as lab:
    t.run(main, lab)
sys.exit(t.done())
