#!/usr/bin/python3
"""bench/tls.py - what HTTPS costs in winrmd, next to references measured
in the same run: winrmd's own HTTP listener, and nginx serving the very
same Identify bytes over HTTP and HTTPS with the same certificate.

Starts a lab (tests/integration/lib/lab.py: KDC, nss_wrapper, pam_wrapper)
for Basic authentication, a throwaway PKI (lib/pki.py), one winrmd from
$WINRMD_BUILDDIR with an HTTP listener and HTTPS listeners with an RSA
2048, an ECDSA P-384 and an ECDSA P-256 certificate, and one nginx with the
same (serving the same bytes from "return 200", a worker per core), all on
127.0.0.1.  Load comes from wrk (bench/identify.lua), each
run bounded by TLS_DURATION seconds (default 5), every run repeated
TLS_ROUNDS times (default 3; each round runs them all in turn, and a
ratio is the median of the rounds' ratios):

  handshakes    "Connection: close": every request opens a new connection,
                so over HTTPS every request is a full TLS handshake (ECDHE,
                TLS 1.3 as negotiated by both); anonymous Identify.  wrk
                offers to resume its last session on every new connection
                (SSL_clear keeps it): nginx's HTTPS servers here have
                session tickets and the session cache off, so that they
                make full handshakes as winrmd does (libmicrohttpd offers
                no resumption, and a resumed handshake would carry no
                client certificate); one more nginx server with tickets on
                shows what resumption gives (printed, no ratio).  Ratios:
                winrmd/nginx over HTTPS, and HTTPS/HTTP for each server.
  keep-alive    requests/s on TLS_CONNS (default 16) keep-alive
                connections: anonymous Identify, and Basic-authenticated
                Identify as alice (the PAM check runs once per connection,
                then the cached result); winrmd HTTPS/HTTP and
                winrmd/nginx.

Prints a table per part; any non-200 answer or socket error is reported
and makes the exit status 1.
"""
import base64
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("WINRMD_SRCDIR", os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "lib"))
from lab import Lab  # noqa: E402
from pki import PKI  # noqa: E402
from winrmd import IDENTIFY, WINRMD, free_port, lab_daemon  # noqa: E402

DURATION = float(os.environ.get("TLS_DURATION", "5"))
CONNS = int(os.environ.get("TLS_CONNS", "16"))
ROUNDS = max(1, int(os.environ.get("TLS_ROUNDS", "3")))
THREADS = 2
LUA = os.path.join(HERE, "identify.lua")
BASIC = "Basic " + base64.b64encode(b"alice:alicepw").decode()
errors = 0


def wrk(url, conns, auth="", close=False):
    """One wrk run; returns requests/s (and counts failures)."""
    global errors
    env = dict(os.environ, BENCH_AUTH=auth, BENCH_CLOSE="1" if close else "0")
    r = subprocess.run(["wrk", "-t%d" % min(THREADS, conns), "-c%d" % conns,
                        "-d%gs" % DURATION, "-s", LUA, url],
                       capture_output=True, text=True, env=env,
                       timeout=DURATION + 60)
    m = re.search(r"BENCH rps=([0-9.]+) .* non200=(\d+) errors=(\d+)", r.stdout)
    if m is None:
        errors += 1
        print("wrk failed on %s: %s %s" % (url, r.stdout[-500:], r.stderr[-500:]))
        return 0.0
    bad = int(m.group(2)) + int(m.group(3))
    if bad:
        errors += 1
        print("  (%s: %d failed requests)" % (url, bad))
    return float(m.group(1))


def start_nginx(work, body, pairs):
    """nginx at its best: the same bytes from "return 200" (no file system,
    no internal redirect), one worker per core; an HTTP port, one HTTPS
    port per (certificate, key) of pairs, and one more for the last pair
    with session resumption.  Returns (pid, http port, [https ports],
    resuming port)."""
    text = body.decode()
    if "'" in text or "\\" in text:
        sys.exit("tls.py: the answer has a quote or backslash")
    http_port = free_port()
    ports = [free_port() for _ in pairs]
    location = """    location /wsman {
      default_type "application/soap+xml;charset=UTF-8";
      return 200 '%s';
    }
""" % text
    servers = "  server {\n    listen 127.0.0.1:%d;\n%s  }\n" % (http_port, location)
    def https_server(port, cert, key, extra=""):
        return ("  server {\n    listen 127.0.0.1:%d ssl;\n    ssl_certificate %s;\n"
                "    ssl_certificate_key %s;\n%s%s  }\n" % (port, cert, key, extra, location))
    for (cert, key), port in zip(pairs, ports):
        servers += https_server(port, cert, key)
    # the last pair once more, resuming sessions (TLS 1.3 tickets)
    resume_port = free_port()
    servers += https_server(resume_port, *pairs[-1], extra="    ssl_session_tickets on;\n")
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""
worker_processes %(workers)d;
pid %(work)s/nginx.pid;
error_log %(work)s/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %(work)s;
  keepalive_requests 1000000;
  ssl_protocols TLSv1.2 TLSv1.3;
  # full handshakes, as winrmd makes (see the header)
  ssl_session_tickets off;
  ssl_session_cache off;
%(servers)s}
""" % {"workers": os.cpu_count() or 1, "work": work, "servers": servers})
    subprocess.run(["nginx", "-c", conf, "-p", work], check=True)
    pid_path = os.path.join(work, "nginx.pid")
    for _ in range(100):
        if os.path.exists(pid_path):
            break
        time.sleep(0.05)
    with open(pid_path) as f:
        pid = int(f.read())
    return pid, http_port, ports, resume_port


def rounds(runs):
    """Runs every (name, fn) of runs in order, ROUNDS times over; returns
    [(name, [requests/s of each round])]."""
    got = [(name, []) for name, _ in runs]
    for _ in range(ROUNDS):
        for (_, fn), (_, rates) in zip(runs, got):
            rates.append(fn())
    return got


def table(title, rows, ratios):
    """rows from rounds(); ratios (name, index a, index b): the median of
    the rounds' a/b ratios, each round's after it."""
    print(title)
    print("%-44s %10s   %s" % ("run", "req/s", "(median; rounds)" if ROUNDS > 1 else ""))
    for name, rates in rows:
        print("%-44s %10.1f   %s" % (name, statistics.median(rates),
                                   " ".join("%.0f" % r for r in rates) if ROUNDS > 1 else ""))
    for name, a, b in ratios:
        each = [x / y if y else 0.0 for x, y in zip(rows[a][1], rows[b][1])]
        print("%-44s %10.3f   %s" % ("ratio " + name, statistics.median(each),
                                   " ".join("%.3f" % r for r in each) if ROUNDS > 1 else ""))


def main():
    if not os.path.exists(WINRMD):
        sys.exit("tls.py: %s not built (set WINRMD_BUILDDIR)" % WINRMD)
    if shutil.which("wrk") is None or shutil.which("nginx") is None:
        sys.exit("tls.py: needs wrk and nginx (scripts/install-deps.sh bench)")
    work = tempfile.mkdtemp(prefix="winrmd-bench-tls-")
    os.chmod(work, 0o755)
    nginx_pid = None
    with Lab() as lab, PKI() as pki:
        https_port, ec_port, p256_port = free_port(), free_port(), free_port()
        d = lab_daemon(lab, {
            "Listeners": [{"Address": "127.0.0.1", "Port": free_port(), "Transport": "HTTP"},
                          {"Address": "127.0.0.1", "Port": https_port, "Transport": "HTTPS",
                           "CertificateFile": pki.server, "KeyFile": pki.server_key},
                          {"Address": "127.0.0.1", "Port": ec_port, "Transport": "HTTPS",
                           "CertificateFile": pki.server_ec, "KeyFile": pki.server_ec_key},
                          {"Address": "127.0.0.1", "Port": p256_port, "Transport": "HTTPS",
                           "CertificateFile": pki.server_p256, "KeyFile": pki.server_p256_key}],
            "Service": {"AllowUnencrypted": True, "Auth": {"Basic": True}},
            "Logging": {"Level": "notice"}})
        if os.environ.get("TLS_PRIORITIES"):
            d.tree["Service"]["TlsPriorities"] = os.environ["TLS_PRIORITIES"]
            d.write_config()
        d.port = d.tree["Listeners"][0]["Port"]
        try:
            d.start()
            http_url = "http://127.0.0.1:%d/wsman" % d.port
            https_url = "https://127.0.0.1:%d/wsman" % https_port
            ec_url = "https://127.0.0.1:%d/wsman" % ec_port
            p256_url = "https://127.0.0.1:%d/wsman" % p256_port
            # nginx serves exactly the bytes of winrmd's anonymous answer
            body = subprocess.run(
                ["curl", "-s", "-H", "WSMANIDENTIFY: unauthenticated",
                 "-H", "Content-Type: application/soap+xml;charset=UTF-8",
                 "--data-binary", IDENTIFY, http_url],
                capture_output=True, check=True).stdout
            if b"IdentifyResponse" not in body:
                sys.exit("tls.py: winrmd's Identify failed: %r" % body[:300])
            nginx_pid, n_http, (n_https, n_ec, n_p256), n_resume = start_nginx(
                work, body, [(pki.server, pki.server_key), (pki.server_ec, pki.server_ec_key),
                             (pki.server_p256, pki.server_p256_key)])
            n_http_url = "http://127.0.0.1:%d/wsman" % n_http
            n_https_url = "https://127.0.0.1:%d/wsman" % n_https
            n_ec_url = "https://127.0.0.1:%d/wsman" % n_ec
            n_p256_url = "https://127.0.0.1:%d/wsman" % n_p256
            n_resume_url = "https://127.0.0.1:%d/wsman" % n_resume
            got = subprocess.run(["curl", "-sk", "-X", "POST", "--data", "x", n_https_url],
                                 capture_output=True).stdout
            if got != body:
                sys.exit("tls.py: nginx does not serve the same bytes")

            print("== HTTPS: wrk, %g s per run, %d threads; the same certificates "
                  "(RSA 2048, ECDSA P-384 and P-256, test CAs) and the same %d-byte "
                  "answer for winrmd and nginx" % (DURATION, THREADS, len(body)))
            hs_runs = [("winrmd HTTPS RSA, new connection each", https_url),
                       ("nginx HTTPS RSA, new connection each", n_https_url),
                       ("winrmd HTTPS ECDSA P-384, new conn each", ec_url),
                       ("nginx HTTPS ECDSA P-384, new conn each", n_ec_url),
                       ("winrmd HTTPS ECDSA P-256, new conn each", p256_url),
                       ("nginx HTTPS ECDSA P-256, new conn each", n_p256_url),
                       ("winrmd HTTP, new connection each", http_url),
                       ("nginx HTTP, new connection each", n_http_url),
                       ("nginx HTTPS P-256, resumed sessions", n_resume_url)]
            hs = rounds([(name, lambda u=url: wrk(u, CONNS, close=True))
                         for name, url in hs_runs])
            table("-- handshakes: anonymous Identify, %d connections, "
                  "\"Connection: close\"" % CONNS, hs,
                  [("winrmd/nginx, RSA handshakes", 0, 1),
                   ("winrmd/nginx, ECDSA P-384 handshakes", 2, 3),
                   ("winrmd/nginx, ECDSA P-256 handshakes", 4, 5),
                   ("winrmd/nginx, HTTP new connections", 6, 7),
                   ("winrmd HTTPS RSA/HTTP, new conns", 0, 6),
                   ("nginx HTTPS RSA/HTTP, new conns", 1, 7)])
            ka = rounds([("winrmd HTTPS, anonymous", lambda: wrk(https_url, CONNS)),
                         ("nginx HTTPS, anonymous", lambda: wrk(n_https_url, CONNS)),
                         ("winrmd HTTP, anonymous", lambda: wrk(http_url, CONNS)),
                         ("winrmd HTTPS, Basic (alice)", lambda: wrk(https_url, CONNS, BASIC)),
                         ("winrmd HTTP, Basic (alice)", lambda: wrk(http_url, CONNS, BASIC))])
            table("-- keep-alive: %d connections" % CONNS, ka,
                  [("winrmd/nginx, HTTPS anonymous", 0, 1),
                   ("winrmd HTTPS/HTTP, anonymous", 0, 2),
                   ("winrmd HTTPS/HTTP, Basic", 3, 4)])
            if not d.alive():
                print("winrmd died:\n" + d.log()[-3000:])
                return 1
            if errors:
                print("some runs failed; the daemon log ends with:\n" + d.log()[-2000:])
            return 1 if errors else 0
        finally:
            if nginx_pid is not None:
                os.kill(nginx_pid, signal.SIGTERM)
            d.cleanup()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
