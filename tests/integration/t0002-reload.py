#!/usr/bin/python3
"""t0002 - SIGHUP reload: a valid file takes effect without dropping open
connections; an invalid one is logged with file:line and changes nothing."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from tap import Tap  # noqa: E402
from winrmd import LISTENER_RELOADED, Daemon, IDENTIFY, render_config  # noqa: E402

t = Tap()
ANON = {"WSMANIDENTIFY": "unauthenticated"}


def body_of(kb):
    # an Identify padded with whitespace to roughly kb KiB
    return IDENTIFY.replace("<s:Body>", "<s:Body>" + " " * (kb * 1024))


def test_reload():
    d = Daemon(config={"Service": {"MaxEnvelopeSizekb": 64}})
    try:
        d.start()
        conn = d.connection()
        st, _, _ = d.post(body_of(100), ANON)
        t.eq(st, 500, "100 KiB body refused with MaxEnvelopeSizekb=64")
        st, _, _ = d.post(IDENTIFY, ANON, conn=conn)
        t.eq(st, 200, "keep-alive connection open before the reload")

        d.tree["Service"]["MaxEnvelopeSizekb"] = 256
        d.write_config()
        mark = len(d.log())
        d.reload()
        t.ok(d.wait_log(LISTENER_RELOADED, start=mark), "valid reload logged")
        st, _, _ = d.post(body_of(100), ANON)
        t.eq(st, 200, "new limit applies after the reload (100 KiB accepted)")
        st, _, body = d.post(IDENTIFY, ANON, conn=conn)
        t.eq(st, 200, "the connection opened before the reload still works")

        good = open(d.conf_path).read()
        d.write_config(good + "Service = { Extra = 1; };\n")
        mark = len(d.log())
        d.reload()
        t.ok(d.wait_log("reload refused", start=mark), "invalid reload refused and logged")
        t.contains(d.log()[mark:], d.conf_path + ":", "the refusal names the file and line")
        st, _, _ = d.post(body_of(100), ANON)
        t.eq(st, 200, "the running configuration stays after a bad reload")

        d.tree["Service"]["MaxEnvelopeSizekb"] = 32
        text = render_config(d.tree) + "\n"
        d.write_config(text.replace("MaxEnvelopeSizekb = 32;", "MaxEnvelopeSizekb = \"32\";"))
        mark = len(d.log())
        d.reload()
        t.ok(d.wait_log("reload refused", start=mark), "wrong type refused on reload")
        t.contains(d.log()[mark:], "MaxEnvelopeSizekb", "and the key is named")
        st, _, _ = d.post(body_of(100), ANON)
        t.eq(st, 200, "still the old limit")
        st, _, _ = d.post(IDENTIFY, ANON, conn=conn)
        t.eq(st, 200, "the old connection survived every reload")
        conn.close()

        d.tree["Listeners"][0]["Port"] = d.port + 1
        d.tree["Service"]["MaxEnvelopeSizekb"] = 500
        d.write_config()
        mark = len(d.log())
        d.reload()
        t.ok(d.wait_log("only after a restart", start=mark),
             "a listener change warns that it needs a restart")
        st, _, _ = d.post(IDENTIFY, ANON)
        t.eq(st, 200, "still listening on the original port")
        t.eq(d.stop(), 0, "clean stop after reloads")
    finally:
        d.cleanup()


t.run(test_reload)
sys.exit(t.done())
