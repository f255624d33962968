#!/usr/bin/python3
"""bench/auth.py - what authentication costs, next to anonymous Identify
measured in the same run with the same client.

Starts its own authentication lab (MIT KDC, nss_wrapper, pam_wrapper,
gss-ntlmssp user file; tests/integration/lib/lab.py) and one winrmd from
$WINRMD_BUILDDIR (bench/run.sh passes build-bench), on 127.0.0.1 only.

Two measurements per method, each a closed loop of one Python client
(http.client) for a bounded time: AUTH_DURATION seconds (default 5) per
method, split into AUTH_ROUNDS (default 5) rounds that interleave the
methods, so that load from elsewhere on the machine hits all alike:

  keep-alive     requests/s on ONE connection after it authenticated:
                 Kerberos (GSSAPI raw krb5 under Negotiate) and NTLM (raw
                 NTLMSSP under Negotiate) authenticate the connection once,
                 Basic sends its header with every request (the daemon
                 verifies it once per connection); the reference is
                 anonymous Identify on one keep-alive connection.
  new connection connections/s, each doing the whole handshake plus one
                 Identify (the handshake's last leg carries it) and then
                 closing; the reference is one anonymous Identify per new
                 connection.

Every request sends the same Identify envelope; AllowUnencrypted=true
(these clients do not encrypt), Basic enabled, logging at "notice" (the
audit lines of every authentication are written, as in production).
Prints a table with the absolute rates and the ratios to the reference.
Any answer other than 200 is counted as an error and makes the exit
status 1.
"""
import http.client
import os
import sys
import time

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("WINRMD_SRCDIR", os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "lib"))
from gssclient import GssClient  # noqa: E402
from lab import Lab  # noqa: E402
from winrmd import SOAP_CT, WINRMD, identify_envelope, lab_daemon  # noqa: E402

DURATION = float(os.environ.get("AUTH_DURATION", "5"))
ROUNDS = max(1, int(os.environ.get("AUTH_ROUNDS", "5")))
BODY = identify_envelope().encode()
ANON = {"Content-Type": SOAP_CT, "WSMANIDENTIFY": "unauthenticated"}
PLAIN = {"Content-Type": SOAP_CT}
BASIC = {"Content-Type": SOAP_CT,
         "Authorization": "Basic YWxpY2U6YWxpY2Vwdw=="}      # alice:alicepw


class Runner:
    """One measured loop.  step() does one unit of work (a request, or a
    whole new connection) and returns the HTTP status; run(seconds) loops
    it as a closed loop and accumulates the count and the time, so that
    the runs of all methods can be interleaved in rounds."""

    def __init__(self, name, unit, step):
        self.name, self.unit, self.step = name, unit, step
        self.n = self.errors = 0
        self.seconds = 0.0

    def run(self, seconds):
        start = time.monotonic()
        end = start + seconds
        while True:
            if self.step() != 200:
                self.errors += 1
            self.n += 1
            now = time.monotonic()
            if now >= end:
                break
        self.seconds += now - start

    @property
    def rate(self):
        return self.n / self.seconds if self.seconds > 0 else 0.0


def one(conn, headers):
    """One request on conn; returns the status (-1: 200 without the
    Identify answer)."""
    conn.request("POST", "/wsman", body=BODY, headers=headers)
    r = conn.getresponse()
    data = r.read()
    if r.status == 200 and b"IdentifyResponse" not in data:
        return -1
    return r.status


def keepalive(name, port, headers, setup=None, conns=None):
    """A Runner of requests on ONE connection, opened (and authenticated
    by setup(conn)) now, outside the measurement."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.auto_open = 0        # a silent reconnect would lose the authentication
    conn.connect()
    if conns is not None:
        conns.append(conn)
    if setup is not None:
        setup(conn)
    for _ in range(50):  # warm-up
        one(conn, headers)
    return Runner(name, "req/s", lambda: one(conn, headers))


def new_connections(name, once):
    """A Runner of once(): a new connection, the handshake, one Identify,
    close."""
    for _ in range(5):  # warm-up (the service ticket in the ccache, ...)
        once()
    return Runner(name, "conn/s", once)


def interleave(runners, seconds, rounds):
    """Runs every runner for seconds in total, in rounds (a, b, c, a, b,
    c, ...): load from elsewhere on the machine hits all of them alike."""
    for _ in range(rounds):
        for r in runners:
            r.run(seconds / rounds)


def gss_setup(lab, url, user, mech, domain=None):
    """Authenticates an open http.client connection with a GssClient
    handshake (the GssClient borrows the connection)."""
    def setup(conn):
        c = GssClient(url, lab, user, mech=mech, domain=domain)
        c.conn.close()
        c.conn = conn
        st, _, _ = c.handshake(BODY)
        if st != 200:
            raise RuntimeError("%s handshake as %s: HTTP %d" % (mech, user, st))
    return setup


def gss_once(lab, url, user, mech, domain=None, legs=None):
    def once():
        c = GssClient(url, lab, user, mech=mech, domain=domain)
        try:
            st, _, body = c.handshake(BODY)
            if legs is not None:
                legs[mech] = c.legs
            return st if b"IdentifyResponse" in body or st != 200 else -1
        finally:
            c.close()
    return once


def plain_once(port, headers):
    def once():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            return one(conn, headers)
        finally:
            conn.close()
    return once


def table(ref, rows):
    print("%-44s %10s %8s %7s" % ("run", "rate", "ratio", "errors"))
    for r in [ref] + rows:
        print("%-44s %10.1f %8.3f %7d" % ("%s (%s)" % (r.name, r.unit), r.rate,
                                          r.rate / ref.rate if ref.rate else 0.0, r.errors))


def main():
    if not os.path.exists(WINRMD):
        sys.exit("auth.py: %s not built (set WINRMD_BUILDDIR)" % WINRMD)
    with Lab() as lab:
        d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}},
                             "Authorization": {"TrustedDomains": ["WINRMD"]},
                             "Logging": {"Level": "notice"}})
        conns = []
        try:
            d.start()
            url = "http://localhost:%d/wsman" % d.port
            port = d.port
            lab.ccache("alice")
            print("== authentication: one Python client (http.client), closed loop, "
                  "%g s per run in %d interleaved rounds, as alice (winrmusers)"
                  % (DURATION, ROUNDS))
            print("-- requests on ONE keep-alive connection, authenticated once "
                  "(ratio: to anonymous Identify)")
            ref = keepalive("anonymous Identify", port, ANON, conns=conns)
            rows = [
                keepalive("Kerberos (Negotiate, raw krb5)", port, PLAIN,
                          gss_setup(lab, url, "alice", "krb5"), conns),
                keepalive("NTLM (Negotiate, raw NTLMSSP)", port, PLAIN,
                          gss_setup(lab, url, "alice", "ntlm", "WINRMD"), conns),
                keepalive("Basic (header on every request)", port, BASIC, conns=conns),
            ]
            interleave([ref] + rows, DURATION, ROUNDS)
            table(ref, rows)
            for c in conns:
                c.close()
            legs = {}
            print("-- a new connection each: full handshake + one Identify, close "
                  "(ratio: to anonymous Identify on a new connection)")
            ref2 = new_connections("anonymous Identify", plain_once(port, ANON))
            rows2 = [
                new_connections("Kerberos handshake",
                                gss_once(lab, url, "alice", "krb5", legs=legs)),
                new_connections("NTLM handshake",
                                gss_once(lab, url, "alice", "ntlm", "WINRMD", legs)),
                new_connections("Basic (PAM on every connection)", plain_once(port, BASIC)),
            ]
            interleave([ref2] + rows2, DURATION, ROUNDS)
            table(ref2, rows2)
            print("(requests per handshake: Kerberos %s, NTLM %s, Basic 1)"
                  % (legs.get("krb5"), legs.get("ntlm")))
            if not d.alive():
                print("winrmd died:\n" + d.log()[-3000:])
                return 1
            errors = sum(r.errors for r in [ref, ref2] + rows + rows2)
            if errors:
                print("%d requests failed; the daemon log ends with:\n%s"
                      % (errors, d.log()[-3000:]))
            return 1 if errors else 0
        finally:
            for c in conns:
                c.close()
            d.cleanup()


if __name__ == "__main__":
    sys.exit(main())
