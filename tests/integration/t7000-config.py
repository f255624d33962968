#!/usr/bin/python3
"""t7000 - the winrm/config resources over WS-Management: Get of every
resource, Put of service/auth/winrs (validated, persisted atomically with
comments kept, applied live), listener Get/Enumerate/Pull, admins only,
Digest refused, concurrent Puts, a helper killed mid-write, disk full and
read-only configuration directories, and the same through winrmctl."""
import base64
import concurrent.futures
import os
import queue
import re
import signal
import subprocess
import sys
import time

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import soap  # noqa: E402
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import BUILDDIR, WINRMD, lab_daemon, pywinrm  # noqa: E402

t = Tap()
CFG = "http://schemas.microsoft.com/wbem/wsman/1/config"
GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
PUT = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put"
ENUM = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"
PULL = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull"
CTL = os.path.join(BUILDDIR, "winrmctl", "winrmctl")
BASE = {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}}}


def basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()}


CAROL = basic("carol", "carolpw")
ALICE = basic("alice", "alicepw")


def auth_put(body_xml):
    return ('<cfg:Auth xmlns:cfg="%s/service/auth">%s</cfg:Auth>' % (CFG, body_xml))


def text_of(body, path):
    root = soap.parse(body)
    el = root.find(path, {"cfg": CFG, "s": soap.NS["s"]})
    return None if el is None else el.text


def test_get(lab, d):
    r, out = pywinrm(d.url, "basic", "carol", "carolpw", message=soap.envelope(GET, CFG))
    t.eq(r, "ok", "pywinrm (Protocol.send_message) Get winrm/config as an admin")
    m = re.search(r"<cfg:MaxEnvelopeSizekb>(\d+)</cfg:MaxEnvelopeSizekb>", str(out))
    t.ok(m and m.group(1) == "500", "MaxEnvelopeSizekb = 500 (clients size messages from it)")
    for elem in ("MaxTimeoutms", "Service", "Auth", "DefaultPorts", "Winrs", "MaxShellsPerUser",
                 "AllowUnencrypted", "CbtHardeningLevel"):
        t.contains(str(out), "<cfg:%s>" % elem, "winrm/config has %s" % elem)
    start = len(d.log())
    st, _, body = d.post(soap.envelope(GET, CFG), ALICE)
    f = soap.fault(body)
    t.ok(st == 500 and f and f[1] == "w:AccessDenied" and f[2] == "5",
         "non-admin alice: Get winrm/config (the whole tree) refused with AccessDenied, "
         "code 5, as its parts (as Windows; the Ruby gem falls back on it)", (st, f))
    t.not_contains(body, b"Kerberos", "and no configuration in the answer")
    t.ok(d.wait_log(r"authorization remote=127\.0\.0\.1 user=alice result=denied "
                    r"reason=\"Config\.Get needs an administrator\"", start=start),
         "the refusal is audited", d.log()[start:][-2000:])
    st, _, body = d.post(soap.envelope(GET, CFG), CAROL)
    t.ok(st == 200 and b"<cfg:Auth>" in body and b"<cfg:Winrs>" in body,
         "admin carol (Basic): Get winrm/config, Service/Auth and Winrs included", st)
    for sub in ("/service", "/service/auth", "/winrs", "/listener"):
        st, _, body = d.post(soap.envelope(GET, CFG + sub, selectors={"Address": "*", "Transport": "HTTP"}
                                           if sub == "/listener" else None), ALICE)
        f = soap.fault(body)
        t.ok(st == 500 and f and f[1] == "w:AccessDenied" and f[2] == "5",
             "non-admin alice: Get winrm/config%s refused with AccessDenied" % sub, (st, f))
    st, _, body = d.post(soap.envelope(GET, CFG + "/service/auth"), CAROL)
    t.eq(st, 200, "admin carol: Get config/service/auth")
    root = soap.parse(body)
    auth = root.find("s:Body/{%s/service/auth}Auth" % CFG, soap.NS)
    t.ok(auth is not None, "body is cfg:Auth in the service/auth namespace")
    t.eq([c.tag.split("}")[1] for c in auth][:6] if auth is not None else None,
         ["Basic", "Kerberos", "Negotiate", "Certificate", "CredSSP", "CbtHardeningLevel"],
         "Auth elements in Windows' order, first (winrmd's own files follow, t7050)")
    st, _, body = d.post(soap.envelope(GET, CFG + "/winrs"), CAROL)
    t.contains(body, "<cfg:IdleTimeout>7200000</cfg:IdleTimeout>", "winrs IdleTimeout in ms")
    st, _, body = d.post(soap.envelope(GET, CFG + "/client"), CAROL)
    f = soap.fault(body)
    t.ok(st == 500 and f and f[1] == "a:DestinationUnreachable",
         "winrm/config/client: winrmd has no client configuration (DestinationUnreachable)", f)


def test_listener(lab, d):
    st, _, body = d.post(soap.envelope(ENUM, CFG + "/listener",
                                       body='<n:Enumerate xmlns:n="%s"><w:OptimizeEnumeration/>'
                                            '<w:MaxElements>32000</w:MaxElements></n:Enumerate>'
                                            % soap.NS["n"]), CAROL)
    t.eq(st, 200, "Enumerate listeners (optimized)")
    t.contains(body, "<cfg:Address>IP:127.0.0.1</cfg:Address>", "listener Address in IP: form")
    t.contains(body, "<cfg:Port>%d</cfg:Port>" % d.port, "listener port")
    t.contains(body, "<w:EndOfSequence/>", "everything in one answer, EndOfSequence")
    st, _, body = d.post(soap.envelope(ENUM, CFG + "/listener",
                                       body='<n:Enumerate xmlns:n="%s"/>' % soap.NS["n"]), CAROL)
    ctx = re.search(rb"<n:EnumerationContext>([^<]+)</n:EnumerationContext>", body)
    t.ok(ctx, "Enumerate without optimization gives a context", body[-400:])
    if ctx:
        pull = '<n:Pull xmlns:n="%s"><n:EnumerationContext>%s</n:EnumerationContext></n:Pull>' % (
            soap.NS["n"], ctx.group(1).decode())
        st, _, body = d.post(soap.envelope(PULL, CFG + "/listener", body=pull), CAROL)
        t.ok(st == 200 and b"<cfg:Listener" in body and b"EndOfSequence" in body,
             "Pull returns the listener and the end", body[-300:])
        st, _, body = d.post(soap.envelope(PULL, CFG + "/listener", body=pull), CAROL)
        f = soap.fault(body)
        t.ok(f and f[1] == "n:InvalidEnumerationContext", "a used context is gone", f)
    st, _, body = d.post(soap.envelope(GET, CFG + "/listener",
                                       selectors={"Address": "IP:127.0.0.1", "Transport": "HTTP"}), CAROL)
    t.ok(st == 200 and b"<cfg:Listener" in body, "Get listener by Address+Transport selectors")
    st, _, body = d.post(soap.envelope(GET, CFG + "/listener",
                                       selectors={"Address": "*", "Transport": "HTTPS"}), CAROL)
    f = soap.fault(body)
    t.ok(f and f[1] == "w:InvalidSelectors", "Get of a listener that does not exist: InvalidSelectors", f)


def test_put(lab, d):
    conf_before = open(d.conf_path).read()
    c = d.connection()
    st, _, _ = d.post(soap.envelope(GET, CFG), CAROL, conn=c)
    t.eq(st, 200, "a keep-alive connection open before the Put")
    st, h, body = d.post(soap.envelope(PUT, CFG + "/service/auth",
                                       body=auth_put("<cfg:Kerberos>false</cfg:Kerberos>")), CAROL)
    t.eq(st, 200, "Put config/service/auth Kerberos=false")
    t.contains(body, "<cfg:Kerberos>false</cfg:Kerberos>", "the answer is the updated resource")
    t.contains(body, "<cfg:Negotiate>true</cfg:Negotiate>", "with the other settings too")
    conf = open(d.conf_path).read()
    t.ok(re.search(r"Kerberos\s*=\s*false;", conf), "persisted in winrmd.conf", conf)
    t.contains(conf, "# kept comment", "the administrator's comment is kept")
    r = subprocess.run([WINRMD, "-t", "-c", d.conf_path], capture_output=True, env=d.env)
    t.eq(r.returncode, 0, "the rewritten file is valid")
    st, h, _ = d.post(soap.envelope(GET, CFG), {})
    t.eq(h.get("www-authenticate"), 'Negotiate\nBasic realm="WSMAN"',
         "applied at once: Kerberos no longer offered")
    st, _, _ = d.post(soap.envelope(GET, CFG), CAROL, conn=c)
    t.eq(st, 200, "the connection opened before the Put still works")
    c.close()

    st, _, body = d.post(soap.envelope(PUT, CFG + "/winrs",
                                       body='<cfg:Winrs xmlns:cfg="%s/winrs"><cfg:MaxShellsPerUser>1'
                                            '</cfg:MaxShellsPerUser></cfg:Winrs>' % CFG), CAROL)
    t.eq(st, 200, "Put config/winrs MaxShellsPerUser=1")
    import winrm.protocol
    p = winrm.protocol.Protocol(d.url, transport="basic", username="alice", password="alicepw")
    sid = p.open_shell()
    try:
        p.open_shell()
        t.ok(False, "second shell refused by the new quota")
    except Exception as e:  # noqa: BLE001
        t.ok("QuotaLimit" in str(e) or "2150859173" in str(e),
             "the new MaxShellsPerUser applies at once (QuotaLimit)", e)
    p.close_shell(sid)

    # Windows' CLI sends the whole fragment back (Get, modify, Put)
    st, _, full = d.post(soap.envelope(GET, CFG + "/service"), CAROL)
    frag = re.search(rb"<cfg:Service .*</cfg:Service>", full).group(0)
    frag = frag.replace(b"<cfg:MaxConnections>300</cfg:MaxConnections>",
                        b"<cfg:MaxConnections>250</cfg:MaxConnections>")
    st, _, body = d.post(soap.envelope(PUT, CFG + "/service", body=frag.decode()), CAROL)
    t.eq(st, 200, "Put of the whole service fragment (read-only values unchanged) accepted")
    t.contains(body, "<cfg:MaxConnections>250</cfg:MaxConnections>", "MaxConnections changed")

    before = open(d.conf_path).read()
    for body_xml, sub, code, what in (
        (auth_put("<cfg:Digest>true</cfg:Digest>"), "/service/auth", "w:UnsupportedFeature",
         "Digest=true"),
        (auth_put("<cfg:Digest>false</cfg:Digest>"), "/service/auth", "w:UnsupportedFeature",
         "Digest=false (no Digest setting at all)"),
        (auth_put("<cfg:Bogus>1</cfg:Bogus>"), "/service/auth", "w:SchemaValidationError",
         "an unknown element"),
        (auth_put("<cfg:Basic>maybe</cfg:Basic>"), "/service/auth", "x:InvalidRepresentation",
         "a non-boolean"),
        (auth_put("<cfg:CbtHardeningLevel>Extreme</cfg:CbtHardeningLevel>"), "/service/auth",
         "x:InvalidRepresentation", "an unknown CBT level"),
        (auth_put("<cfg:CredSSP>true</cfg:CredSSP>"), "/service/auth", "x:InvalidRepresentation",
         "CredSSP=true (not supported)"),
        ('<cfg:Winrs xmlns:cfg="%s/winrs"><cfg:IdleTimeout>5</cfg:IdleTimeout></cfg:Winrs>' % CFG,
         "/winrs", "x:InvalidRepresentation", "an out-of-range IdleTimeout"),
        ('<cfg:Service xmlns:cfg="%s/service"><cfg:IPv4Filter>10.0.0.1</cfg:IPv4Filter>'
         '</cfg:Service>' % CFG, "/service", "x:InvalidRepresentation", "changing a read-only value"),
        ('<cfg:Winrs xmlns:cfg="%s/winrs"/>' % CFG, "/service/auth", "w:SchemaValidationError",
         "a body of the wrong resource"),
    ):
        st, _, body = d.post(soap.envelope(PUT, CFG + sub, body=body_xml), CAROL)
        f = soap.fault(body)
        t.ok(st == 500 and f and f[1] == code, "Put with %s: %s" % (what, code), (st, f))
    t.eq(open(d.conf_path).read(), before, "refused Puts leave winrmd.conf byte-identical")
    st, _, body = d.post(soap.envelope(PUT, CFG + "/service/auth",
                                       body=auth_put("<cfg:Basic>false</cfg:Basic>")), ALICE)
    f = soap.fault(body)
    t.ok(st == 500 and f and f[1] == "w:AccessDenied", "non-admin Put refused", f)
    t.eq(open(d.conf_path).read(), before, "and changes nothing")
    t.ok(conf_before != before, "(the file did change for the accepted Puts)")


def test_concurrent(lab, d):
    values = ["%d" % v for v in range(40000, 40020)]

    # 7 connections, logged in one after the other before the Puts race:
    # the lab's pam_wrapper loses PAM starts made at the same moment by
    # several processes (see t4000); the Puts themselves then need no PAM.
    pool = queue.Queue()
    logins = []
    for _ in range(7):
        c = d.connection(60)
        logins.append(d.post(soap.envelope(GET, CFG + "/winrs"), CAROL, conn=c)[0])
        pool.put(c)
    t.eq(logins, [200] * 7, "7 connections for the concurrent Puts logged in")

    def put(v):
        c = pool.get()
        try:
            st, _, _ = d.post(soap.envelope(PUT, CFG + "/winrs",
                                            body='<cfg:Winrs xmlns:cfg="%s/winrs"><cfg:MaxConcurrentUsers>%s'
                                                 '</cfg:MaxConcurrentUsers></cfg:Winrs>' % (CFG, v)),
                              CAROL, conn=c)
        finally:
            pool.put(c)
        return st
    bad = []
    stop = False

    def watch():
        # the file is never seen torn while the Puts run
        while not stop:
            text = open(d.conf_path).read()
            if "MaxConcurrentUsers" in text and not re.search(r"MaxConcurrentUsers\s*=\s*\d+;", text):
                bad.append(text)
            time.sleep(0.002)
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        w = ex.submit(watch)
        statuses = list(ex.map(put, values))
        stop = True
        w.result()
    t.eq(statuses, [200] * len(values), "20 concurrent Puts all succeed (the helper serialises them)")
    t.eq(bad, [], "no torn file ever observed")
    final = re.search(r"MaxConcurrentUsers\s*=\s*(\d+);", open(d.conf_path).read())
    t.ok(final and final.group(1) in values, "the file holds one of the Put values")
    r = subprocess.run([WINRMD, "-t", "-c", d.conf_path], capture_output=True, env=d.env)
    t.eq(r.returncode, 0, "and is valid")


def test_kill_mid_write(lab):
    # kill -9 the helper while Puts are under way: the file is the old one
    # or a new one, never torn, and the next start removes any temp file.
    ok = True
    for i in range(4):
        d = lab_daemon(lab, BASE)
        try:
            d.start()
            helper = d.helper_pid()

            def put(v):
                try:
                    d.post(soap.envelope(PUT, CFG + "/winrs",
                                         body='<cfg:Winrs xmlns:cfg="%s/winrs"><cfg:MaxShellsPerUser>%d'
                                              '</cfg:MaxShellsPerUser></cfg:Winrs>' % (CFG, v)), CAROL,
                           timeout=10)
                except Exception:  # noqa: BLE001 - the daemon dies under it
                    pass
            with concurrent.futures.ThreadPoolExecutor(4) as ex:
                futs = [ex.submit(put, 100 + k) for k in range(8)]
                time.sleep(0.005 * (i + 1))
                os.kill(helper, signal.SIGKILL)
                for f in futs:
                    f.result()
            d.proc.wait(10)
            r = subprocess.run([WINRMD, "-t", "-c", d.conf_path], capture_output=True, env=d.env)
            ok = ok and r.returncode == 0
        finally:
            d.cleanup()
    t.ok(ok, "after kill -9 of the helper mid-Put, winrmd.conf is always valid (4 rounds)")


def test_disk_full_readonly(lab):
    mnt = os.path.join(lab.dir, "small")
    os.makedirs(mnt, exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt]).returncode != 0:
        t.ok(False, "mount a small tmpfs for the disk-full test")
        return
    try:
        d = lab_daemon(lab, BASE)
        conf = os.path.join(mnt, "winrmd.conf")
        with open(d.conf_path) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text)
        d.conf_path = conf
        d.start()
        # fill the file system
        fd = os.open(os.path.join(mnt, "filler"), os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"x" * 4096) > 0:
                pass
        except OSError:
            pass
        os.close(fd)
        before = open(conf).read()
        st, _, body = d.post(soap.envelope(PUT, CFG + "/service/auth",
                                           body=auth_put("<cfg:Kerberos>false</cfg:Kerberos>")), CAROL)
        f = soap.fault(body)
        t.ok(st == 500 and f and f[1] == "w:InternalError", "disk full: Put answers w:InternalError", f)
        t.contains(body, "No space left on device", "and says why")
        t.eq(open(conf).read(), before, "disk full: the old configuration is intact")
        t.eq([n for n in os.listdir(mnt) if n.startswith("winrmd.conf.")], [], "no temp file left")
        os.unlink(os.path.join(mnt, "filler"))
        subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
        st, _, body = d.post(soap.envelope(PUT, CFG + "/service/auth",
                                           body=auth_put("<cfg:Kerberos>false</cfg:Kerberos>")), CAROL)
        f = soap.fault(body)
        t.ok(st == 500 and f and f[1] == "w:InternalError", "read-only /etc: Put answers w:InternalError", f)
        t.contains(body, "Read-only file system", "and says why")
        t.eq(open(conf).read(), before, "read-only: the old configuration is intact")
        d.check_alive(t, "failed writes")
        d.cleanup()
    finally:
        subprocess.run(["umount", mnt])


def test_cli(lab, d):
    sock = d.tree["Daemon"]["AdminSocket"]
    run = lambda *a, **kw: subprocess.run([CTL] + list(a) + ["-S", sock],  # noqa: E731
                                          capture_output=True, text=True, timeout=30, **kw)
    r = run("get", "winrm/config/service/auth")
    t.eq(r.returncode, 0, "winrmctl get winrm/config/service/auth (root over the admin socket)")
    t.contains(r.stdout, "Auth\n    Basic = true", "printed as Windows prints it")
    r = run("set", "winrm/config/service/auth", '@{Basic="false"}')
    t.eq(r.returncode, 0, "winrmctl set ... @{Basic=\"false\"}")
    t.contains(r.stdout, "Basic = false", "and shows the new value")
    t.ok(re.search(r"Basic\s*=\s*false;", open(d.conf_path).read()), "persisted")
    r = run("set", "winrm/config/service/auth", '@{Digest="true"}')
    t.eq(r.returncode, 1, "winrmctl set Digest refused (status 1)")
    t.contains(r.stdout + r.stderr, "does not support Digest", "with the Windows message")
    r = run("enumerate", "winrm/config/listener")
    t.ok(r.returncode == 0 and "Listener" in r.stdout, "winrmctl enumerate winrm/config/listener")
    r = run("get", "winrm/config", "--xml")
    t.ok(r.returncode == 0 and "<cfg:Config" in r.stdout, "winrmctl --xml prints the raw answer")
    # a local user who is not an administrator: refused by SO_PEERCRED
    r = subprocess.run(["setpriv", "--reuid=20002", "--regid=20002", "--clear-groups", CTL, "get",
                        "winrm/config/service", "-S", sock], capture_output=True, text=True,
                       timeout=30, env=dict(os.environ, **lab.daemon_env()))
    t.ok(r.returncode != 0 and "Access is denied" in (r.stdout + r.stderr),
         "winrmctl as bob (uid 20002, no admin group) is refused", r.stdout + r.stderr)


with Lab() as lab:
    d = lab_daemon(lab, BASE)
    with open(d.conf_path, "a") as f:
        f.write("# kept comment: written by the administrator\n")
    try:
        d.start()
        for fn in (test_get, test_listener, test_put, test_concurrent, test_cli):
            t.run(fn, lab, d)
        d.check_alive(t, "the config tests")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()
    t.run(test_kill_mid_write, lab)
    t.run(test_disk_full_readonly, lab)
sys.exit(t.done())
