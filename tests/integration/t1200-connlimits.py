#!/usr/bin/python3
"""t1200 - connection limits must not wedge the listener.

1,000 slow clients from 127.0.0.2-9 trickle header lines (and reconnect
when closed) while anonymous Identify requests from 127.0.0.1 are each
answered within 1 s; once the slow clients close, new connections are
served at once.  Clients that give up while they wait in the listen queue
(the wedge: libmicrohttpd kept each wave of them until its 120 s idle
timer) are dropped at once.  Service.HeaderWaitTimeout closes slow and
silent unauthenticated connections but not authenticated keep-alive ones;
Service.MaxConnectionsPerAddress refuses the next connection from a full
address while other addresses get in, and follows a reload.

Loopback only; every loop is bounded.  The one speed requirement is the
issue's 1 s for an Identify during the attack; every other bound is a
generous upper limit for something that takes a fraction of a second
(the bug it guards against costs 120 s)."""
import concurrent.futures
import os
import resource
import select
import socket
import sys
import time

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from lab import Lab  # noqa: E402
from slowloris import SlowClients, identify  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import IDENTIFY, LISTENER_RELOADED, Daemon, identify_envelope, lab_daemon  # noqa: E402

t = Tap()
HEAD = b"POST /wsman HTTP/1.1\r\nHost: localhost\r\n"


def identify_until(port, src="127.0.0.1", limit=10.0):
    """Tries Identify until it is answered or limit seconds pass: (ok,
    seconds until answered)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        ok, _ = identify(port, src, timeout=min(2.0, limit))
        if ok:
            return True, time.monotonic() - t0
        time.sleep(0.1)
    return False, time.monotonic() - t0


def fds(d):
    return len(os.listdir("/proc/%d/fd" % d.proc.pid))


def wait_until(cond, limit):
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def held(src, port, data=HEAD):
    """A connection from src that sent data and waits (blocking socket)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, 0))
    s.settimeout(3)
    s.connect(("127.0.0.1", port))
    if data:
        s.sendall(data)
    return s


def closed_by_server(s):
    """Has the server closed (or reset) this connection?"""
    p = select.poll()
    p.register(s, select.POLLIN | select.POLLRDHUP)
    if not p.poll(0):
        return False
    try:
        return s.recv(65536, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_attack():
    d = Daemon()    # the defaults: MaxConnections 300, 30 per address, 20 s
    att = None
    try:
        d.start()
        ok, _ = identify(d.port)
        t.ok(ok, "before the attack: anonymous Identify answered")
        base = fds(d)
        att = SlowClients(d.port, 1000, "--first", "2", "--addrs", "8",
                        "--trickle", "1", "--reconnect", "1", "--limit", "60")
        t.eq(att.line(), "ready", "1,000 slow clients from 127.0.0.2-9 started")
        time.sleep(1.5)     # each has trickled another header line
        lat = []
        for _ in range(10):
            lat.append(identify(d.port, timeout=1.0))
            time.sleep(0.3)
        st = att.command("stats")
        worst = max(x[1] for x in lat)
        t.ok(all(x[0] for x in lat),
             "during the attack: 10 anonymous Identify from 127.0.0.1, each answered "
             "within 1 s (slowest %.3f s)" % worst,
             "%r\nattack: %r\n%s" % (lat, st, d.log()[-2000:]))
        t.ok(st.get("open", 0) >= 200 and st.get("lines", 0) >= 1000,
             "the slow clients really held connections and trickled (%r)" % st)
        t.ok(st.get("closed_by_server", 0) >= 500,
             "beyond 30 per address they were closed at once (%d times)"
             % st.get("closed_by_server", 0))
        n = fds(d) - base
        t.ok(n <= 8 * 30 + 30, "the daemon held at most 8 x 30 of them (%d descriptors)" % n)
        t.contains(d.log(), "over Service.MaxConnectionsPerAddress",
                   "the refusals are logged with the setting's name")

        att.close()
        ok, dt = identify_until(d.port, limit=10)
        t.ok(ok, "once they all closed: Identify answered at once (after %.2f s)" % dt,
             d.log()[-2000:])
        back = wait_until(lambda: fds(d) <= base + 2, 10)
        t.ok(back, "all their connections are gone within 10 s (%d descriptors, %d before)"
             % (fds(d), base))
        with concurrent.futures.ThreadPoolExecutor(20) as ex:
            res = list(ex.map(lambda i: identify(d.port, "127.0.0.%d" % (2 + i % 8), 5.0),
                              range(20)))
        t.ok(all(x[0] for x in res), "then 20 Identify at once from 127.0.0.2-9 are all answered",
             res)
        t.eq(d.stop(), 0, "clean stop")
    finally:
        if att is not None:
            att.kill()
        d.cleanup()


def test_dead_in_queue():
    """The reviewer's wedge: more clients than MaxConnections send half a
    request line and wait, then all close.  libmicrohttpd 0.9.75 read each
    queued connection's bytes and took the short read as 'drained', never
    reading the end of file behind them: each wave held the listener for
    its 120 s idle timer."""
    # 25 clients per address: within the default per-address limit (30),
    # so this runs on a daemon without it as well.
    d = Daemon(config={"Service": {"MaxConnections": 40}})
    socks = []
    try:
        d.start()
        base = fds(d)
        for i in range(200):
            try:
                socks.append(held("127.0.0.%d" % (2 + i % 8), d.port, b"POST /wsman HT"))
            except OSError:
                pass
        time.sleep(0.5)
        t.ok(len(socks) == 200, "200 clients that sent half a request line wait "
             "(MaxConnections 40: 160 wait in the listen queue)")
        t.ok(fds(d) - base <= 45, "the daemon holds at most 40 of them (%d)" % (fds(d) - base))
        for s in socks:
            s.close()
        ok, dt = identify_until(d.port, limit=10)
        t.ok(ok, "after they all closed, Identify is answered at once (after %.2f s)" % dt,
             d.log()[-2000:])
        t.ok(wait_until(lambda: fds(d) <= base + 2, 10),
             "every one of their connections is closed within 10 s")
        t.contains(d.log(), "the client had already gone; closed",
                   "connections accepted after their client left are closed on accept")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        for s in socks:
            s.close()
        d.cleanup()


def test_header_deadline(lab):
    d = lab_daemon(lab, {"Service": {"HeaderWaitTimeout": 2, "AllowUnencrypted": True,
                                     "Auth": {"Basic": True}}})
    try:
        d.start()
        basic = {"Authorization": "Basic YWxpY2U6YWxpY2Vwdw=="}    # alice:alicepw
        auth = d.connection(timeout=10)
        st, _, _ = d.post(identify_envelope(), basic, conn=auth)
        t.eq(st, 200, "Basic as alice on a keep-alive connection: 200")
        anon = d.connection(timeout=10)
        st, _, _ = d.post(IDENTIFY, {"WSMANIDENTIFY": "unauthenticated"}, conn=anon)
        t.eq(st, 200, "anonymous Identify on a keep-alive connection: 200")
        t_anon = time.monotonic()
        t0 = time.monotonic()
        trickler = held("127.0.0.1", d.port)
        silent = held("127.0.0.1", d.port, b"")
        watched = {"trickler": (trickler, t0), "silent": (silent, t0),
                   "anonymous keep-alive": (anon.sock, t_anon), "authenticated": (auth.sock, t0)}
        closed = {}
        lines = 0
        while time.monotonic() - t0 < 10:
            for name, (s, since) in watched.items():
                if name not in closed and closed_by_server(s):
                    closed[name] = time.monotonic() - since
            if len(closed) >= 3 and time.monotonic() - t0 > 4.5:
                break
            if "trickler" not in closed:
                try:
                    trickler.send(b"X-Slow-%d: a\r\n" % lines)
                    lines += 1
                except OSError:
                    pass
            time.sleep(0.3)
        for name, what in (("trickler", "a client trickling a header line every 0.3 s"),
                           ("silent", "a client that sends nothing"),
                           ("anonymous keep-alive", "an unauthenticated keep-alive connection "
                                                    "after its Identify")):
            took = closed.get(name)
            t.ok(took is not None and 1.5 <= took <= 10,
                 "HeaderWaitTimeout 2 s: %s is closed after about 2 s (%s)"
                 % (what, "%.2f s" % took if took is not None else "not closed"))
        t.ok("authenticated" not in closed,
             "an authenticated keep-alive connection is not subject to it (open after %.1f s)"
             % (time.monotonic() - t0))
        sock = auth.sock
        st, _, _ = d.post(identify_envelope(), basic, conn=auth)
        t.ok(st == 200 and auth.sock is sock, "... and serves its next request")
        t.contains(d.log(), "within Service.HeaderWaitTimeout", "the closures are logged")
        trickler.close()
        silent.close()
        auth.close()
        anon.close()
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()


def test_per_address():
    d = Daemon(config={"Service": {"MaxConnectionsPerAddress": 5}})
    socks = []
    try:
        d.start()
        five = [held("127.0.0.2", d.port) for _ in range(5)]
        socks += five
        time.sleep(0.5)
        t.ok(not any(closed_by_server(s) for s in five),
             "MaxConnectionsPerAddress 5: five connections from 127.0.0.2 are kept")
        sixth = held("127.0.0.2", d.port)
        socks.append(sixth)
        t.ok(wait_until(lambda: closed_by_server(sixth), 3),
             "a sixth from 127.0.0.2 is closed at once")
        ok3, _ = identify(d.port, "127.0.0.3", 2.0)
        ok1, _ = identify(d.port, "127.0.0.1", 2.0)
        t.ok(ok3 and ok1, "127.0.0.3 and 127.0.0.1 are still served")
        ok, _ = identify(d.port, "127.0.0.2", 2.0)
        t.ok(not ok, "127.0.0.2 is not, while it holds five")
        five[0].close()
        ok, dt = identify_until(d.port, "127.0.0.2", limit=5)
        t.ok(ok, "once one of them closes, 127.0.0.2 is served again (after %.2f s)" % dt)

        # A reload lowers the limit for the connections that come next.
        d.tree["Service"]["MaxConnectionsPerAddress"] = 2
        d.write_config()
        mark = len(d.log())
        d.reload()
        t.ok(d.wait_log(LISTENER_RELOADED, timeout=15, start=mark), "reloaded")
        # Three at once: libmicrohttpd's worker threads may accept them in
        # any order, so which one is refused is not fixed; one is.
        three = [held("127.0.0.4", d.port) for _ in range(3)]
        socks += three
        t.ok(wait_until(lambda: sum(closed_by_server(s) for s in three) >= 1, 3) and
             (time.sleep(0.5) or sum(closed_by_server(s) for s in three) == 1),
             "after a reload to 2: of three from 127.0.0.4, one is closed, two are kept")
        t.ok(not any(closed_by_server(s) for s in five[1:]),
             "the four from 127.0.0.2 accepted before the reload stay")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        for s in socks:
            s.close()
        d.cleanup()


soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < 4096:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
t.run(test_attack)
t.run(test_dead_in_queue)
t.run(test_per_address)
with Lab() as lab:
    t.run(test_header_deadline, lab)
sys.exit(t.done())
