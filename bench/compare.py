#!/usr/bin/python3
"""bench/compare.py - the same measurements against two builds of winrmd
in one run: BASE_BUILDDIR (a reference build, e.g. the previous release)
and WINRMD_BUILDDIR (this tree), each started in turn with the same
configuration, with rounds interleaved so that load from elsewhere on the
machine hits both alike.  bench/compare.sh builds the reference from a git
revision and runs this.

Measurements, each a closed loop of one Python client for COMPARE_SECONDS
(default 3) per round, COMPARE_ROUNDS rounds (default 3), median kept:

  identify     anonymous Identify, one keep-alive connection (requests/s)
  basic        Basic-authenticated Identify, one keep-alive connection
               (the listener verifies the header once per connection)
  kerberos     Kerberos-sealed Identify (multipart/encrypted both ways),
               one connection: every request unwraps and wraps through
               the helper
  certificate  a new HTTPS connection per request: TLS handshake with a
               client certificate (RSA 2048 server key), certificate
               login, one Identify (logins/s)
  shell        Windows Remote Shell round trip: Create, Command `true`,
               Receive to Done, Delete (round trips/s, on one connection)
  stdout       COMPARE_STREAM_BYTES (default 20 MB) of `head -c` output
               through Receive, with this tree's bench/wsman-stream for
               both builds, so that only the servers differ (MB/s)
  stdin        as many bytes through rsp:Send into `cat > file` (MB/s)

Prints one table: base, this build, ratio this/base.  Loopback only.
"""
import base64
import http.client
import os
import ssl
import statistics
import subprocess
import sys
import time

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("WINRMD_SRCDIR", os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "lib"))

import winrmd  # noqa: E402
from gssclient import GssClient, use_lab_config  # noqa: E402
from lab import Lab  # noqa: E402
from pki import PKI  # noqa: E402
from shellclient import Client  # noqa: E402
from wsmancrypt import EncryptedSession  # noqa: E402

SECONDS = float(os.environ.get("COMPARE_SECONDS", "3"))
STREAM_BYTES = int(os.environ.get("COMPARE_STREAM_BYTES", "20000000"))
ROUNDS = int(os.environ.get("COMPARE_ROUNDS", "3"))
BUILDS = [("base", os.environ.get("BASE_BUILDDIR")),
          ("this", os.environ.get("WINRMD_BUILDDIR"))]
IDENTIFY = winrmd.IDENTIFY.encode()
ANON = {"WSMANIDENTIFY": "unauthenticated", "Content-Type": winrmd.SOAP_CT}
MUTUAL = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"


def loop(fn):
    """Calls fn until SECONDS pass; returns calls per second."""
    n = 0
    start = time.monotonic()
    end = start + SECONDS
    while time.monotonic() < end:
        fn()
        n += 1
    return n / (time.monotonic() - start)


def programs(builddir):
    """The listener and helper of a build, in either layout (listener/ and
    helper/ since the layout change, daemon/ before)."""
    for lst, hlp in (("listener/winrmd", "helper/winrmd-priv"),
                     ("daemon/winrmd", "daemon/winrmd-priv")):
        if os.path.exists(os.path.join(builddir, lst)):
            return os.path.join(builddir, lst), os.path.join(builddir, hlp)
    return None, None


def expect(status, what):
    if status != 200:
        raise RuntimeError("%s: HTTP %s" % (what, status))


class Target:
    """One build's daemon, with an HTTP and an HTTPS listener."""

    def __init__(self, lab, pki, builddir):
        winrmd.WINRMD, winrmd.HELPER = programs(builddir)
        self.https_port = winrmd.free_port()
        cfg = {"Service": {"AllowUnencrypted": True, "MaxEnvelopeSizekb": 512,
                           "Auth": {"Basic": True, "Certificate": True,
                                    "ClientCAFile": pki.ca}},
               "Logging": {"Level": "notice"},
               "Throttling": {"MaxFailures": 1000, "MaxDelayms": 0}}
        self.d = winrmd.lab_daemon(lab, cfg)
        self.d.tree["Daemon"]["HelperPath"] = winrmd.HELPER
        self.d.tree["Listeners"].append(
            {"Address": "127.0.0.1", "Port": self.https_port, "Transport": "HTTPS",
             "CertificateFile": pki.server, "KeyFile": pki.server_key})
        self.d.write_config()
        with open(self.d.tree["Daemon"]["CertMappingFile"], "w") as f:
            f.write('CertMapping = ( { URI = "*"; Subject = "alice@WINRMD.TEST"; '
                    'Issuer = "%s"; UserName = "alice"; } );\n' % pki.thumbprint(pki.ca))
        self.d.start()
        self.lab, self.pki = lab, pki

    def stop(self):
        self.d.stop()
        self.d.cleanup()

    def identify(self):
        c = self.d.connection()
        return lambda: expect(self.d.post(winrmd.IDENTIFY, ANON, conn=c)[0], "identify")

    def basic(self):
        c = self.d.connection()
        h = {"Authorization": "Basic " + base64.b64encode(b"alice:alicepw").decode(),
             "Content-Type": winrmd.SOAP_CT}
        return lambda: expect(self.d.post(winrmd.identify_envelope(), h, conn=c)[0], "basic")

    def kerberos(self):
        g = GssClient(self.d.url, self.lab, "alice", mech="krb5")
        expect(g.handshake(b"")[0], "kerberos handshake")
        s = EncryptedSession(g)
        body = winrmd.identify_envelope().encode()
        return lambda: expect(s.post(body)[0], "kerberos sealed")

    def certificate(self):
        ctx = ssl.create_default_context(cafile=self.pki.ca)
        ctx.load_cert_chain(self.pki.client_alice, self.pki.client_alice_key)
        body = winrmd.identify_envelope()
        h = {"Authorization": MUTUAL, "Content-Type": winrmd.SOAP_CT}

        def once():
            c = http.client.HTTPSConnection("127.0.0.1", self.https_port, context=ctx,
                                            timeout=30)
            c.request("POST", "/wsman", body, h)
            r = c.getresponse()
            r.read()
            c.close()
            expect(r.status, "certificate login")
        return once

    def shell(self):
        c = Client(self.d)

        def once():
            sh = c.create()
            expect(sh.status, "shell create")
            out, err, code, _ = c.run(sh.sid, "true")
            if code != 0:
                raise RuntimeError("shell command: exit %s" % code)
            c.delete(sh.sid)
        return once


    def _stream(self, mode):
        client = os.path.join(BUILDS[1][1], "bench", "wsman-stream")
        args = [client, str(self.d.port), "alice", "alicepw", mode, str(STREAM_BYTES)]
        target = os.path.join(self.lab.path("home"), "alice", "compare-stdin")
        if mode == "in":
            args.append(target)
        r = subprocess.run(args, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError("wsman-stream %s: %s" % (mode, (r.stderr or r.stdout).strip()))
        if mode == "in":
            size = os.path.getsize(target)
            os.unlink(target)
            if size != STREAM_BYTES:
                raise RuntimeError("stdin: the file has %d bytes" % size)

    def stdout(self):
        return lambda: self._stream("out")

    def stdin(self):
        return lambda: self._stream("in")


KINDS = ["identify", "basic", "kerberos", "certificate", "shell", "stdout", "stdin"]
# per call, in the unit printed (MB for the streams, 1 otherwise)
SCALE = {"stdout": STREAM_BYTES / 1e6, "stdin": STREAM_BYTES / 1e6}


def main():
    for name, b in BUILDS:
        if not b or programs(b)[0] is None:
            sys.exit("set BASE_BUILDDIR and WINRMD_BUILDDIR to two builds (%s: %r)" % (name, b))
    if not os.access(os.path.join(BUILDS[1][1], "bench", "wsman-stream"), os.X_OK):
        sys.exit("no bench/wsman-stream in WINRMD_BUILDDIR (make bench/wsman-stream)")
    results = {(name, k): [] for name, _ in BUILDS for k in KINDS}
    pki = PKI()
    try:
        with Lab() as lab:
            use_lab_config(lab)
            for rnd in range(ROUNDS):
                order = BUILDS if rnd % 2 == 0 else list(reversed(BUILDS))
                for name, builddir in order:
                    t = Target(lab, pki, builddir)
                    try:
                        for k in KINDS:
                            fn = getattr(t, k)()
                            fn()  # warm-up (and a check that it works)
                            results[(name, k)].append(loop(fn) * SCALE.get(k, 1))
                    finally:
                        t.stop()
    finally:
        pki.close()
    print("== before/after, %d rounds of %g s, median per second (stdout, stdin: MB/s)"
          % (ROUNDS, SECONDS))
    print("%-13s %12s %12s %10s" % ("measurement", "base", "this", "this/base"))
    for k in KINDS:
        a = statistics.median(results[("base", k)])
        b = statistics.median(results[("this", k)])
        print("%-13s %12.1f %12.1f %10.2f" % (k, a, b, b / a if a else 0))


if __name__ == "__main__":
    main()
