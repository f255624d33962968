#!/usr/bin/python3
"""slowloris.py - many slow HTTP clients against a port of 127.0.0.1, for
the connection-limit test (t1200) and bench/connlimits.py.

    python3 slowloris.py PORT SOCKETS [--first 2] [--addrs 8]
                         [--trickle 1.0] [--reconnect 1.0] [--limit 120]

Opens SOCKETS connections to 127.0.0.1:PORT from the source addresses
127.0.0.FIRST .. 127.0.0.(FIRST+ADDRS-1), round robin.  Each sends
"POST /wsman HTTP/1.1\\r\\nHost: localhost\\r\\n", then one more header line
every TRICKLE seconds, and never the empty line that would end its
headers.  A connection that the server closes is opened again RECONNECT
seconds later (0: never), so SOCKETS clients keep trying.

Commands on standard input, one a line: "stats" prints one JSON line of
counts; "close" closes every socket at once, prints the counts and exits.
Prints "ready" once every socket has been opened once (or after 5 s).
Exits by itself after LIMIT seconds, and when standard input closes.

Imported, it offers SlowClients (runs this script as a child process) and
identify() (one anonymous Identify from a given address, timed).
"""
import argparse
import collections
import errno
import json
import os
import resource
import select
import socket
import subprocess
import sys
import time

HEAD = b"POST /wsman HTTP/1.1\r\nHost: localhost\r\n"
IDENTIFY = (
    b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    b'xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd">'
    b'<s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>')
ANON_REQUEST = (b"POST /wsman HTTP/1.1\r\nHost: localhost\r\n"
                b"WSMANIDENTIFY: unauthenticated\r\n"
                b"Content-Type: application/soap+xml;charset=UTF-8\r\n"
                b"Content-Length: %d\r\n\r\n" % len(IDENTIFY) + IDENTIFY)


def identify(port, src="127.0.0.1", timeout=1.0):
    """An anonymous Identify on a new connection from src to
    127.0.0.1:port: (a whole 200 response arrived within timeout, seconds
    taken)."""
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((src, 0))
        s.settimeout(timeout)
        s.connect(("127.0.0.1", port))
        s.sendall(ANON_REQUEST)
        got = b""
        while b"</s:Envelope>" not in got:
            left = t0 + timeout - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            b = s.recv(65536)
            if not b:
                break
            got += b
        ok = got.startswith(b"HTTP/1.1 200") and b"</s:Envelope>" in got
        return ok, time.monotonic() - t0
    except OSError:
        return False, time.monotonic() - t0
    finally:
        s.close()


class SlowClients:
    """This script in a child process, driven through its stdin:
    SlowClients(port, 1000, "--addrs", "8"); .line() ("ready");
    .command("stats"); .close(); .kill()."""

    def __init__(self, port, n, *args):
        self.p = subprocess.Popen([sys.executable, os.path.abspath(__file__), str(port), str(n)]
                                  + [str(a) for a in args],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.buf = b""

    def line(self, timeout=20):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.p.stdout], [], [], left)[0]:
                raise RuntimeError("slowloris.py did not answer")
            chunk = os.read(self.p.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError("slowloris.py exited")
            self.buf += chunk
        out, self.buf = self.buf.split(b"\n", 1)
        return out.decode()

    def command(self, cmd, timeout=20):
        self.p.stdin.write(cmd.encode() + b"\n")
        self.p.stdin.flush()
        return json.loads(self.line(timeout))

    def close(self):
        """Closes every socket at once; returns the last counts."""
        st = self.command("close")
        self.p.wait(30)
        return st

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


class Slot:
    __slots__ = ("sock", "state", "gen", "lines")

    def __init__(self):
        self.sock = None
        self.state = "idle"      # idle, connecting, open
        self.gen = 0
        self.lines = 0


class Attack:
    def __init__(self, port, sockets, first, addrs, trickle, reconnect):
        self.port = port
        self.addrs = ["127.0.0.%d" % (first + i) for i in range(addrs)]
        self.trickle = trickle
        self.reconnect = reconnect
        self.slots = [Slot() for _ in range(sockets)]
        self.by_fd = {}
        self.ep = select.epoll()
        self.sends = collections.deque()      # (time, index, gen)
        self.reopens = collections.deque()    # (time, index)
        self.counts = collections.Counter()

    def open(self, i):
        s = self.slots[i]
        s.gen += 1
        s.lines = 0
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.addrs[i % len(self.addrs)], 0))
        except OSError:
            sock.close()
            self.counts["bind_errors"] += 1
            self.later(i)
            return
        sock.setblocking(False)
        self.counts["connects"] += 1
        rc = sock.connect_ex(("127.0.0.1", self.port))
        if rc not in (0, errno.EINPROGRESS):
            sock.close()
            self.counts["connect_errors"] += 1
            self.later(i)
            return
        s.sock = sock
        s.state = "connecting"
        self.by_fd[sock.fileno()] = i
        self.ep.register(sock.fileno(), select.EPOLLOUT)

    def later(self, i):
        self.slots[i].state = "idle"
        if self.reconnect > 0:
            self.reopens.append((time.monotonic() + self.reconnect, i))

    def drop(self, i, by_server):
        s = self.slots[i]
        if s.sock is not None:
            fd = s.sock.fileno()
            try:
                self.ep.unregister(fd)
            except OSError:
                pass
            self.by_fd.pop(fd, None)
            s.sock.close()
            s.sock = None
        if by_server:
            self.counts["closed_by_server"] += 1
        self.later(i)

    def send_line(self, i):
        s = self.slots[i]
        line = HEAD if s.lines == 0 else b"X-Slow-%d: %d\r\n" % (s.lines, i)
        try:
            s.sock.send(line)
        except BlockingIOError:
            pass
        except OSError:
            self.drop(i, True)
            return
        s.lines += 1
        self.counts["lines"] += 1
        self.sends.append((time.monotonic() + self.trickle, i, s.gen))

    def on_event(self, fd, ev):
        i = self.by_fd.get(fd)
        if i is None:
            return
        s = self.slots[i]
        if s.state == "connecting":
            err = s.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err != 0:
                self.counts["connect_errors"] += 1
                self.drop(i, False)
                return
            s.state = "open"
            self.ep.modify(fd, select.EPOLLIN | select.EPOLLRDHUP)
            self.send_line(i)
            return
        # Readable, hung up or reset: the server answered or closed it.
        try:
            data = s.sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.drop(i, True)
        else:
            self.counts["answers"] += 1

    def timers(self):
        now = time.monotonic()
        while self.sends and self.sends[0][0] <= now:
            _, i, gen = self.sends.popleft()
            s = self.slots[i]
            if s.gen == gen and s.state == "open":
                self.send_line(i)
        while self.reopens and self.reopens[0][0] <= now:
            _, i = self.reopens.popleft()
            if self.slots[i].state == "idle":
                self.open(i)

    def stats(self):
        states = collections.Counter(s.state for s in self.slots)
        out = dict(self.counts)
        out.update(open=states["open"], connecting=states["connecting"],
                   idle=states["idle"])
        return out

    def close_all(self):
        for s in self.slots:
            if s.sock is not None:
                s.sock.close()
                s.sock = None
                s.state = "idle"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("sockets", type=int)
    ap.add_argument("--first", type=int, default=2)
    ap.add_argument("--addrs", type=int, default=8)
    ap.add_argument("--trickle", type=float, default=1.0)
    ap.add_argument("--reconnect", type=float, default=1.0)
    ap.add_argument("--limit", type=float, default=120)
    a = ap.parse_args()
    want = a.sockets + 100
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    att = Attack(a.port, a.sockets, a.first, a.addrs, a.trickle, a.reconnect)
    stdin = sys.stdin.fileno()
    os.set_blocking(stdin, False)
    att.ep.register(stdin, select.EPOLLIN)
    att.by_fd[stdin] = None
    start = time.monotonic()
    # Open in batches so that the first lines go out while others connect.
    opened = 0
    ready = False
    pending = b""
    while time.monotonic() - start < a.limit:
        while opened < a.sockets and opened < 500 * (1 + int((time.monotonic() - start) * 20)):
            att.open(opened)
            opened += 1
        if not ready and opened == a.sockets and (
                att.stats()["connecting"] == 0 or time.monotonic() - start > 5):
            ready = True
            print("ready", flush=True)
        stdin_ready = False
        for fd, ev in att.ep.poll(0.02):
            if fd == stdin:
                stdin_ready = True
            else:
                att.on_event(fd, ev)
        att.timers()
        if stdin_ready:
            try:
                chunk = os.read(stdin, 4096)
            except BlockingIOError:
                chunk = None
            if chunk == b"":
                break
            pending += chunk or b""
            while b"\n" in pending:
                cmd, pending = pending.split(b"\n", 1)
                if cmd.strip() == b"stats":
                    print(json.dumps(att.stats()), flush=True)
                elif cmd.strip() == b"close":
                    st = att.stats()
                    att.close_all()
                    print(json.dumps(st), flush=True)
                    return 0
    att.close_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
