#!/usr/bin/python3
"""t1100 - the HTTP layer: methods, paths, size limits without buffering,
malformed bodies, keep-alive, concurrency, hostile bytes.  Every hostile
request is followed by a check that the daemon still runs and answers."""
import concurrent.futures
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import soap  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import Daemon, IDENTIFY, raw_exchange  # noqa: E402

t = Tap()
ANON = {"WSMANIDENTIFY": "unauthenticated"}


def test_methods_paths(d):
    for m in ("GET", "PUT", "DELETE", "OPTIONS", "PATCH"):
        st, h, body = d.post(b"", method=m)
        t.eq(st, 405, "%s /wsman: 405" % m)
        t.eq(h.get("allow"), "POST", "%s: Allow: POST" % m)
        t.eq(body, b"", "%s: no HTML error page" % m)
    for path in ("/", "/foo", "/wsmanx", "/wsman-anon/identify", "/xwsman"):
        st, _, body = d.post(IDENTIFY, ANON, path=path)
        t.eq(st, 404, "POST %s: 404" % path)
        t.eq(body, b"", "POST %s: empty body" % path)


def test_limits(d):
    big = IDENTIFY.replace("<s:Body>", "<s:Body>" + " " * (501 * 1024))
    for hdrs, what in ((ANON, "anonymous"), ({}, "unauthenticated")):
        st, h, body = d.post(big, hdrs)
        t.eq(st, 500, "body over MaxEnvelopeSizekb (%s): HTTP 500" % what)
        t.eq(h.get("content-type"), "application/soap+xml;charset=UTF-8", "fault content type")
        f = soap.fault(body)
        t.ok(f and f[1] == "w:EncodingLimit", "w:EncodingLimit fault (%s)" % what, body[:600])
        t.ok(f and f[2] == "2150858805", "WSManFault code 2150858805", f)

    # A client announcing a huge body is answered before it sends it.
    s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    s.sendall(b"POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml\r\n"
              b"Content-Length: 1073741824\r\n\r\n")
    resp = s.recv(65536)
    s.close()
    t.ok(resp.startswith(b"HTTP/1.1 500"), "1 GiB Content-Length refused at once, unread",
         resp[:200])

    # Chunked upload without a length: counted, refused once over the limit.
    s = socket.create_connection(("127.0.0.1", d.port), timeout=20)
    s.sendall(b"POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml\r\n"
              b"WSMANIDENTIFY: unauthenticated\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b" " * 64 * 1024)
    try:
        for _ in range(9):
            s.sendall(chunk)
        s.sendall(b"0\r\n\r\n")
    except OSError:
        pass
    resp = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            resp += b
            if b"</s:Envelope>" in resp:
                break
    except OSError:
        pass
    s.close()
    t.ok(resp.startswith(b"HTTP/1.1 500") and b"EncodingLimit" in resp,
         "576 KiB chunked upload refused with EncodingLimit", resp[:300])
    d.check_alive(t, "oversized bodies")


def test_malformed(d):
    cases = [
        (b"this is not xml", "w:SchemaValidationError", "garbage"),
        (b"<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'><s:Body>",
         "w:SchemaValidationError", "truncated XML"),
        (b"<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
         + b"".join(b"<!ENTITY lol%d '&lol%s;&lol%s;&lol%s;&lol%s;&lol%s;&lol%s;&lol%s;&lol%s;&lol%s;&lol%s;'>"
                    % (i, *([b"" if i == 1 else str(i - 1).encode()] * 10)) for i in range(1, 10))
         + b"]><lolz>&lol9;</lolz>", None, "billion laughs"),
        (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY xxe SYSTEM 'file:///etc/shadow'>]>"
         b"<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'><s:Header/>"
         b"<s:Body>&xxe;</s:Body></s:Envelope>", None, "external entity"),
        (b"<Envelope/>", None, "not SOAP"),
        (b"<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'><s:Header/>"
         b"<s:Body/></s:Envelope>", None, "SOAP 1.1 envelope"),
    ]
    for body, sub, what in cases:
        t0 = time.time()
        st, h, resp = d.post(body, ANON, timeout=20)
        took = time.time() - t0
        t.eq(st, 500, "%s: HTTP 500 fault" % what)
        f = soap.fault(resp)
        t.ok(f is not None, "%s: a SOAP fault body" % what, resp[:400])
        if sub:
            t.ok(f and f[1] == sub, "%s: subcode %s" % (what, sub), f)
        t.not_contains(resp, "root:", "%s: no file content leaks" % what)
        t.ok(took < 5, "%s: answered quickly (%.2fs)" % (what, took))
    st, _, resp = d.post(b"", ANON)
    t.ok(st in (401, 500), "empty anonymous body: refused (%d)" % st)
    d.check_alive(t, "malformed bodies")


def test_keepalive(d):
    c = d.connection()
    statuses = []
    sock = None
    same = True
    for i in range(200):
        st, _, _ = d.post(IDENTIFY, ANON, conn=c)
        statuses.append(st)
        if sock is None:
            sock = c.sock
        elif c.sock is not sock:
            same = False
    t.ok(all(s == 200 for s in statuses), "200 anonymous Identify requests on one connection")
    t.ok(same, "all on the same TCP connection (keep-alive)")
    # A 401 for a request with a body keeps the connection (NTLM needs it).
    sock = c.sock
    st, h, _ = d.post(IDENTIFY * 50, {}, conn=c)
    t.eq(st, 401, "unauthenticated request with a body: 401")
    t.ok(h.get("connection", "").lower() != "close", "401 after reading the body keeps the connection")
    st, _, _ = d.post(IDENTIFY, ANON, conn=c)
    t.ok(st == 200 and c.sock is sock, "the next request reuses the connection")
    c.close()


def test_concurrency(d):
    def worker(_):
        c = d.connection()
        ok = 0
        for _ in range(25):
            st, _, body = d.post(IDENTIFY, ANON, conn=c)
            ok += st == 200 and b"IdentifyResponse" in body
        c.close()
        return ok
    with concurrent.futures.ThreadPoolExecutor(64) as ex:
        total = sum(ex.map(worker, range(64)))
    t.eq(total, 64 * 25, "64 concurrent connections x 25 requests all answered")


def test_hostile_bytes(d):
    for data, what in (
        (b"GARBAGE\r\n\r\n", "garbage request line"),
        (b"POST /wsman HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n", "200 KB header"),
        (b"POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", "negative length"),
        (b"POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", "overflowing length"),
        (b"POST /wsman HTTP/1.1\r\nHost: x\r\nAuthorization: " + b"Negotiate " + b"A" * 100000 + b"\r\n\r\n", "huge Authorization"),
        (b"\x00\xff" * 1000, "binary junk"),
        (b"POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc", "truncated body then close"),
    ):
        resp = raw_exchange(d.port, data, timeout=3)
        # Malformed HTTP is refused by libmicrohttpd itself with a 4xx
        # status (as http.sys does, with a short HTML body) or a close.
        status = resp[9:12]
        t.ok(resp == b"" or (resp.startswith(b"HTTP/1.1 4") and status in (b"400", b"413", b"431", b"401")),
             "%s: refused with a 4xx or a close (%r)" % (what, resp[:12]), resp[:300])
    d.check_alive(t, "hostile bytes")


def identify_of_size(total):
    """An anonymous Identify whose request line and headers are exactly
    total bytes as sent (what MaxRequestBytes counts), padded by X-Pad."""
    head = (b"POST /wsman HTTP/1.1\r\nHost: x\r\nWSMANIDENTIFY: unauthenticated\r\n"
            b"Content-Type: application/soap+xml;charset=UTF-8\r\n"
            b"Content-Length: %d\r\n" % len(IDENTIFY))
    pad = total - len(head) - len(b"X-Pad: \r\n\r\n")
    req = head + b"X-Pad: " + b"p" * pad + b"\r\n\r\n"
    assert len(req) == total
    return req + IDENTIFY.encode()


def test_max_request_bytes(d, limit):
    resp = raw_exchange(d.port, identify_of_size(limit), timeout=3)
    t.ok(resp.startswith(b"HTTP/1.1 200") and b"IdentifyResponse" in resp,
         "headers of exactly MaxRequestBytes (%d): answered" % limit, resp[:300])
    resp = raw_exchange(d.port, identify_of_size(limit + 1), timeout=3)
    t.ok(resp.startswith(b"HTTP/1.1 400"), "one byte more: 400, as http.sys", resp[:300])
    t.ok(b"Request Too Long" in resp and b"The size of the request headers is too long" in resp,
         "with http.sys's page", resp[:600])
    t.ok(b"\r\nConnection: close\r\n" in resp, "and the connection closed", resp[:300])
    t.contains(d.log(), "request headers over MaxRequestBytes (%d) refused" % limit,
               "the refusal is logged with the setting's name")
    d.check_alive(t, "an oversized request")


def test_raised_max_request_bytes():
    # What Microsoft advises for domains with large Kerberos tickets.
    d = Daemon(config={"Service": {"MaxRequestBytes": 65536}})
    try:
        d.start()
        test_max_request_bytes(d, 65536)
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()


def test_connection_limit():
    d = Daemon(config={"Service": {"MaxConnections": 4}})
    try:
        d.start()
        socks = []
        for _ in range(12):
            try:
                socks.append(socket.create_connection(("127.0.0.1", d.port), timeout=5))
            except OSError:
                pass
        time.sleep(0.3)
        served = 0
        for s in socks:
            try:
                s.sendall(b"POST /wsman HTTP/1.1\r\nHost: x\r\nWSMANIDENTIFY: unauthenticated\r\n"
                          b"Content-Type: application/soap+xml\r\nContent-Length: %d\r\n\r\n%s"
                          % (len(IDENTIFY), IDENTIFY.encode()))
                s.settimeout(2)
                if s.recv(100).startswith(b"HTTP/1.1 200"):
                    served += 1
            except OSError:
                pass
        for s in socks:
            s.close()
        t.ok(1 <= served <= 4, "MaxConnections=4: at most 4 of 12 connections served (%d)" % served)
        d.check_alive(t, "the connection limit")
        t.eq(d.stop(), 0, "clean stop")
    finally:
        d.cleanup()


# test_concurrency opens 64 connections at once from 127.0.0.1: more than
# the default Service.MaxConnectionsPerAddress (30; t1200 tests that limit).
d = Daemon(config={"Service": {"MaxConnectionsPerAddress": 64}})
try:
    d.start()
    for fn in (test_methods_paths, test_limits, test_malformed, test_keepalive,
               test_concurrency, test_hostile_bytes):
        t.run(fn, d)
    t.run(test_max_request_bytes, d, 16384)
    rc = d.stop()
    t.eq(rc, 0, "clean stop after all hostile input")
    t.not_contains(d.log(), "Sanitizer", "no sanitizer report in the log")
finally:
    d.cleanup()
t.run(test_connection_limit)
t.run(test_raised_max_request_bytes)
sys.exit(t.done())
