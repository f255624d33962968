#!/usr/bin/python3
"""bench/encryption.py - what message encryption over HTTP (MS-WSMV
2.2.9.1, multipart/encrypted with the SPNEGO session key) costs, next to
the same requests in plain text measured in the same run.

Starts a lab (tests/integration/lib/lab.py: KDC, gss-ntlmssp user file,
nss_wrapper, pam_wrapper) and one winrmd from $WINRMD_BUILDDIR with
AllowUnencrypted=true (so that the plain-text reference is accepted; the
encrypted requests are the same either way), on 127.0.0.1 only.

For Kerberos (raw krb5 under Negotiate, AES-256: gss_wrap_iov) and NTLM
(RC4 sealing: gss_wrap), one authenticated keep-alive connection each
sends, as a closed loop for ENC_DURATION seconds (default 5) split into
interleaved rounds:
  small   an Identify (about 400 bytes each way);
  large   the same Identify carrying a 256 KiB SOAP header that the
          server must read and decrypt (the answer stays small).
The client (Python, tests/integration/lib/wsmancrypt.py) encrypts and
checks every answer strictly, as pywinrm does; its own cost is part of
both sides of each ratio.  Prints requests/s, MB/s of request bodies and
the encrypted/plain ratio per method and size.  Any answer other than
200 counts as an error and makes the exit status 1.
"""
import os
import sys

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("WINRMD_SRCDIR", os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "lib"))
sys.path.insert(0, HERE)
from auth import Runner, interleave  # noqa: E402
from gssclient import GssClient  # noqa: E402
from lab import Lab  # noqa: E402
from winrmd import WINRMD, identify_envelope, lab_daemon  # noqa: E402
from wsmancrypt import EncryptedSession  # noqa: E402

DURATION = float(os.environ.get("ENC_DURATION", "5"))
ROUNDS = max(1, int(os.environ.get("ENC_ROUNDS", "5")))
SMALL = identify_envelope().encode()
# An unknown header without mustUnderstand is read and ignored.
LARGE = SMALL.replace(
    b"</a:MessageID>",
    b"</a:MessageID><p:Padding xmlns:p=\"urn:bench\">" + b"x" * (256 * 1024)
    + b"</p:Padding>")


def check(status, body):
    if status == 200 and b"IdentifyResponse" not in body:
        return -1
    return status


def session(lab, url, mech, domain=None):
    c = GssClient(url, lab, "alice", mech=mech, domain=domain)
    st, _, _ = c.handshake(b"")
    if st not in (200, 401) and not c.complete:
        raise RuntimeError("%s handshake: HTTP %d" % (mech, st))
    if not c.complete:
        raise RuntimeError("%s handshake did not complete (HTTP %d)" % (mech, st))
    return c


def plain_runner(name, client, body):
    def step():
        st, _, data = client.post(body)
        return check(st, data)
    for _ in range(20):
        step()
    return Runner(name, "req/s", step)


def encrypted_runner(name, client, body):
    s = EncryptedSession(client)

    def step():
        st, _, data = s.post(body)
        return check(st, data)
    for _ in range(20):
        step()
    return Runner(name, "req/s", step)


def main():
    if not os.path.exists(WINRMD):
        sys.exit("encryption.py: %s not built (set WINRMD_BUILDDIR)" % WINRMD)
    with Lab() as lab:
        d = lab_daemon(lab, {"Service": {"AllowUnencrypted": True,
                                         "MaxEnvelopeSizekb": 1024},
                             "Authorization": {"TrustedDomains": ["WINRMD"]},
                             "Logging": {"Level": "notice"}})
        clients = []
        try:
            d.start()
            url = "http://localhost:%d/wsman" % d.port
            old = lab.apply_client_env("alice")
            lab.ccache("alice")
            pairs = []
            for label, mech, domain in (("Kerberos", "krb5", None),
                                        ("NTLM", "ntlm", "WINRMD")):
                for size, body in (("small", SMALL), ("large", LARGE)):
                    cp = session(lab, url, mech, domain)
                    ce = session(lab, url, mech, domain)
                    clients += [cp, ce]
                    pairs.append((label, size, len(body),
                                  plain_runner("%s %s plain" % (label, size), cp, body),
                                  encrypted_runner("%s %s encrypted" % (label, size), ce, body)))
            runners = [r for p in pairs for r in p[3:]]
            interleave(runners, DURATION, ROUNDS)
            lab.restore_env(old)
            print("== message encryption over HTTP: one Python client per run, "
                  "keep-alive, %g s per run in %d interleaved rounds, as alice"
                  % (DURATION, ROUNDS))
            print("%-34s %10s %10s %10s %7s" % ("run", "req/s", "MB/s in", "ratio", "errors"))
            errors = 0
            for label, size, n, plain, enc in pairs:
                for r in (plain, enc):
                    print("%-34s %10.1f %10.2f %10s %7d" % (
                        r.name, r.rate, r.rate * n / 1e6,
                        "%.3f" % (r.rate / plain.rate) if r is enc and plain.rate else "",
                        r.errors))
                    errors += r.errors
            print("(ratio: encrypted/plain, same method and size; request bodies "
                  "%d and %d bytes before encryption)" % (len(SMALL), len(LARGE)))
            if not d.alive():
                print("winrmd died:\n" + d.log()[-3000:])
                return 1
            if errors:
                print("%d requests failed; the daemon log ends with:\n%s"
                      % (errors, d.log()[-3000:]))
            return 1 if errors else 0
        finally:
            for c in clients:
                c.close()
            d.cleanup()


if __name__ == "__main__":
    sys.exit(main())
