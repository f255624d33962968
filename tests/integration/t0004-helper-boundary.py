#!/usr/bin/python3
"""t0004 - the helper boundary against a compromised listener.

tests/helper/fake-listener starts the real winrmd-priv exactly as winrmd
does, drops to the listener's account, and then speaks the helper
protocol as a hostile listener would.  Every helper message is exercised:
the helper must give no identity it did not establish itself, refuse
what the caller may not do, never stop for a frame a correct listener
can send, and stop (protocol violation) only for frames none can send.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from lab import Lab  # noqa: E402
from pki import PKI  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import BUILDDIR, HELPER, WMI_PROVIDER, Daemon  # noqa: E402

FAKE = os.path.join(BUILDDIR, "tests", "helper", "fake-listener")
t = Tap()


def run(lab, config, steps, user="winrmd", prepare=None, options=(), extra_env=None):
    """Runs the fake listener; returns (step lines as a list of (step,
    text)), the helper's log, exit status of the helper)."""
    d = Daemon(config=config)
    try:
        if prepare is not None:
            prepare(d)
        env = dict(os.environ)
        env.update(lab.daemon_env())
        env.update(extra_env or {})
        p = subprocess.run([FAKE, "-c", d.conf_path, "-u", user, "-H", HELPER]
                           + list(options) + steps, env=env, capture_output=True, timeout=120,
                           cwd=d.tmp)
        out = p.stdout.decode("utf-8", "replace")
        lines = []
        for line in out.splitlines():
            step, _, text = line.partition(": ")
            lines.append((step, text))
        return lines, p.stderr.decode("utf-8", "replace"), out
    finally:
        d.cleanup()


def answers(lines, step):
    return [text for s, text in lines if s == step]


def helper_exit(lines):
    got = answers(lines, "helper-exit")
    return int(got[0]) if got else None


def test_hostile_local_identities(lab, base):
    """Item 1: identities of the local socket come only from sockets the
    helper accepted itself."""
    lines, log, out = run(lab, base, [
        "peer-root-listener", "peer-connected", "peer-socketpair",
        "peer-accepted", "spawn-last", "id -u", "ping"])
    root = answers(lines, "peer-root-listener")
    t.eq(len(root), 2, "the f1c8dc8 attack was tried twice (listener and helper id range)")
    t.ok(root and all("status=DENIED" in a for a in root),
         "a connect()ed socket that root listened on gives no identity", out)
    t.ok(all("status=OK" not in a for a in root), "no identity at all", out)
    t.ok(answers(lines, "peer-connected") and
         "status=DENIED" in answers(lines, "peer-connected")[0],
         "the connect()ed end of a helper-accepted connection is refused", out)
    t.ok(answers(lines, "peer-socketpair") and
         "status=DENIED" in answers(lines, "peer-socketpair")[0],
         "a socketpair end is refused", out)
    acc = answers(lines, "peer-accepted")
    t.ok(re.search(r'method=Local claimed="uid 20100" .*result=failure', log),
         "the accepted socket names its real peer: the listener's own account", log[-3000:])
    t.ok(acc and "status=DENIED" in acc[0],
         "which is no login account (PAM refuses it)", out)
    t.eq(answers(lines, "spawn-last"), ["no-identity"], "so nothing can be spawned")
    t.eq(answers(lines, "ping"), ["PONG"], "the helper still answers")
    t.ok(re.search(r"not a connection the helper accepted", log),
         "the refusal is audited with its reason", log[-3000:])


def test_refusals_without_identity(lab, base):
    """Every request that needs an identity is refused without one, and
    none of them stops the helper (item 10's table)."""
    lines, log, out = run(lab, base, [
        "spawn-unauth", "unwrap-unauth", "wrap-unauth", "config-put-unauth",
        "certmap-unauth", "listener-edit-unauth", "signal-unauth", "conn-close", "reload",
        "ping"])
    for step, typ in (("spawn-unauth", "SPAWN_RESULT"), ("unwrap-unauth", "UNWRAP_RESULT"),
                      ("wrap-unauth", "WRAP_RESULT"), ("config-put-unauth", "CONFIG_RESULT"),
                      ("certmap-unauth", "CERTMAP_RESULT"),
                      ("listener-edit-unauth", "CONFIG_RESULT"), ("signal-unauth", "ERROR")):
        a = answers(lines, step)
        t.ok(a and a[0].startswith(typ) and "error=13" in a[0],
             "%s: refused with EACCES in a %s" % (step, typ), out)
    t.eq(answers(lines, "conn-close"), ["OK"], "CONN_CLOSE of an unknown connection: OK")
    rl = answers(lines, "reload")
    t.ok(rl and "ok=1" in rl[0], "RELOAD answers", out)
    t.ok(rl and "private-key=no" in rl[0], "and carries no private key", out)
    t.eq(answers(lines, "ping"), ["PONG"], "the helper is alive after all refusals")
    t.eq(helper_exit(lines), 0, "and exits cleanly when the listener goes")


def test_basic_off_is_a_refusal(lab, base):
    """Item 3: Basic turned off while a request travelled is a refusal."""
    lines, log, out = run(lab, base, ["basic", "alice", "alicepw", "ping"])
    a = answers(lines, "basic")
    t.ok(a and "status=DENIED" in a[0], "AUTH_BASIC with Basic disabled: DENIED", out)
    t.eq(answers(lines, "ping"), ["PONG"], "not fatal()")


def test_real_logins(lab, base):
    """The fake listener gets exactly the identity the helper proved."""
    cfg = dict(base)
    cfg = {**base, "Service": {**base["Service"],
                               "Auth": {**base["Service"]["Auth"], "Basic": True}}}
    lines, log, out = run(lab, cfg, [
        "basic", "alice", "alicepw", "spawn-last", "id -u", "config-put-last",
        "certmap-last", "listener-edit-last", "basic", "root", "wrong", "basic", "carol", "carolpw",
        "config-put-last", "ping"])
    logins = answers(lines, "basic")
    t.ok(len(logins) == 3 and "status=OK" in logins[0] and "user=alice" in logins[0],
         "alice logs in with her password", out)
    spawn = answers(lines, "spawn-last")
    t.ok(spawn and 'stdout="%d"' % lab.users["alice"].uid in spawn[0],
         "her command runs as alice, not root", out)
    puts = answers(lines, "config-put-last")
    t.ok(puts and "error=13" in puts[0], "alice (not an administrator) cannot Put", out)
    cm = answers(lines, "certmap-last")
    t.ok(cm and "error=13" in cm[0], "nor read the certificate mappings", out)
    le = answers(lines, "listener-edit-last")
    t.ok(le and le[0].startswith("CONFIG_RESULT") and "error=13" in le[0],
         "nor delete a listener (LISTENER_EDIT)", out)
    t.ok(len(logins) == 3 and "status=DENIED" in logins[1],
         "root with a wrong password: DENIED", out)
    t.ok(len(logins) == 3 and "status=OK" in logins[2] and "flags=3" in logins[2],
         "carol (sudo) is an administrator", out)
    t.ok(len(puts) == 2 and puts[1].startswith("CONFIG_RESULT error=0"),
         "carol's Put goes through", out)
    # The audit trail: each line names the connection and the client's port
    # (the fake listener sends conn + 30000), so one session greps out.
    m = re.search(r'audit: authentication remote=127\.0\.0\.1 method=Basic/Basic '
                  r'claimed="alice" .*result=success conn=(\d+) port=(\d+)', log)
    t.ok(m and int(m.group(2)) == int(m.group(1)) + 30000,
         "alice's login is audited with her connection and port", log[-3000:])
    if m:
        mine = [l for l in log.splitlines() if " conn=%s " % m.group(1) in l + " "]
        events = [re.search(r"audit: (\w+)", l).group(1) for l in mine if "audit: " in l]
        t.eq(events[:3], ["authentication", "authorization", "command"],
             "her connection's lines: login, authorization, command start...")
        t.eq(sorted(events[3:]), ["authorization", "authorization", "authorization", "command"],
             "...then the command's exit and the refused Put, certmap and listener edit "
             "(in the order they happen)")
        t.ok(any('request=CONFIG_PUT result=denied reason="only administrators may do this"'
                 in l for l in mine), "the refused Put is audited", "\n".join(mine))
        t.ok(any('action=start' in l and 'command="id -u"' in l for l in mine),
             "the command line is in the start line", "\n".join(mine))
        t.ok(any('action=exit' in l and ' exit=0 ' in l for l in mine),
             "the exit status is in the exit line", "\n".join(mine))
    t.ok(re.search(r'audit: authentication remote=127\.0\.0\.1 method=Basic claimed="root" '
                   r'.*result=failure .*conn=\d+ port=\d+', log),
         "the failed login is audited with the name claimed", log[-3000:])


def test_provider_host(lab, base):
    """The WMI provider host (PRIV_SPAWN_PROVIDER) is exactly the
    configured program: with remote shells off, the listener can start it
    and nothing else, and never another program under its flag."""
    cfg = {**base, "Service": {**base["Service"],
                               "Auth": {**base["Service"]["Auth"], "Basic": True}},
           "Winrs": {"AllowRemoteShellAccess": False},
           "Wmi": {"ProviderPath": WMI_PROVIDER}}
    lines, log, out = run(lab, cfg, [
        "basic", "alice", "alicepw", "spawn-last", "id -u",
        "spawn-provider", "/bin/sh", "spawn-provider", WMI_PROVIDER + "/",
        "spawn-provider", WMI_PROVIDER, "ping"])
    t.ok(answers(lines, "spawn-last") and "error=13" in answers(lines, "spawn-last")[0],
         "remote shells off: a command is refused", out)
    p = answers(lines, "spawn-provider")
    t.ok(len(p) == 3 and "error=1 " in p[0] and "error=1 " in p[1],
         "another program (even the path with a slash more) under the "
         "provider flag: EPERM", out)
    t.ok(len(p) == 3 and p[2].startswith("started") and "status=0" in p[2],
         "the configured provider host starts (as alice) and ends at EOF", out)
    t.ok(re.search(r"a provider host other than .* was asked for \(/bin/sh\); refused",
                   log), "the refusal is logged", log[-2000:])
    t.eq(answers(lines, "ping"), ["PONG"], "not fatal()")


def test_impossible_frames(lab, base):
    """Frames no correct listener can send end the helper (logged)."""
    for steps, what, pattern in (
            (["spawn-args", "1025"], "SPAWN with 1,025 arguments",
             r"protocol violation: malformed SPAWN \(argv\)"),
            (["raw-type", "9999"], "an unknown message type",
             r"protocol violation: unexpected"),
            (["shutdown", "shutdown"], "a second SHUTDOWN", r"")):
        lines, log, out = run(lab, base, steps)
        if what == "a second SHUTDOWN":
            t.eq(answers(lines, "shutdown"), ["SHUTDOWN_DONE", "gone"],
                 "SHUTDOWN is honoured once; the helper is then gone")
            continue
        step = steps[0]
        t.eq(answers(lines, step), ["gone"], "%s: the helper stops" % what)
        t.ok(re.search(pattern, log), "%s: logged as a protocol violation" % what,
             log[-2000:])
        t.eq(helper_exit(lines), 1, "%s: with status 1" % what)
    lines, log, out = run(lab, base, ["spawn-args", "1024", "ping"])
    a = answers(lines, "spawn-args")
    t.ok(a and "error=13" in a[0], "1,024 arguments are a valid frame (refused: no identity)", out)


def test_shell_end(lab, base):
    """SHELL_END and the shell id of SPAWN (shells as systemd units,
    delegated credentials): ids name slices and credential caches, so only
    GUIDs go through; anything else is a frame no listener sends."""
    cfg = {**base, "Service": {**base["Service"],
                               "Auth": {**base["Service"]["Auth"], "Basic": True}}}
    guid = "0C5B2B1E-7F5A-4C1B-9D6E-2A4F8B3C1D00"
    guid2 = "0C5B2B1E-7F5A-4C1B-9D6E-2A4F8B3C1D01"
    uid = lab.users["alice"].uid
    lines, log, out = run(lab, cfg, [
        "shell-end", str(uid), guid, "shell-end", "0", guid,
        "basic", "alice", "alicepw", "spawn-shell", guid, "id -u",
        "shell-end", "0", guid, "spawn-shell", guid, "id -u",
        "shell-end", str(uid), guid, "shell-end", str(uid), guid,
        "spawn-shell", guid2, "id -u", "ping"])
    ends = answers(lines, "shell-end")
    t.eq(ends, ["OK"] * 5, "SHELL_END of unknown shells, of another uid's, twice: OK")
    spawns = answers(lines, "spawn-shell")
    t.ok(len(spawns) == 3 and all('stdout="%d"' % uid in a for a in spawns),
         "commands in a shell run as alice, before and after a SHELL_END of another "
         "uid's, and in a new shell after its own", out)
    t.eq(answers(lines, "ping"), ["PONG"], "the helper is alive")
    for steps, what, pattern in (
            (["shell-end", "0", "../../etc/passwd"], "SHELL_END of a non-GUID shell",
             r"protocol violation: SHELL_END of shell"),
            (["shell-end", "0", "A" * 5000], "SHELL_END with a 5,000-byte id",
             r"protocol violation"),
            (["basic", "alice", "alicepw", "spawn-shell", "../x", "id -u"],
             "SPAWN in a non-GUID shell", r"protocol violation: SPAWN in shell")):
        lines, log, out = run(lab, cfg, steps)
        step = [s for s in steps if s in ("shell-end", "spawn-shell")][0]
        t.eq(answers(lines, step), ["gone"], "%s: the helper stops" % what)
        t.ok(re.search(pattern, log), "%s: logged as a protocol violation" % what,
             log[-2000:])
        t.eq(helper_exit(lines), 1, "%s: with status 1" % what)


def test_forged_certificate(lab, base):
    """Item 2: a certificate alone (a mapped one, even to root) proves
    nothing; the helper signs nothing but TLS handshakes' signatures."""
    pki = PKI()
    try:
        cfg = {**base, "Service": {**base["Service"],
                                   "Auth": {**base["Service"]["Auth"], "Certificate": True,
                                            "ClientCAFile": pki.ca}}}

        def mapping(d):
            with open(d.tree["Daemon"]["CertMappingFile"], "w") as f:
                f.write('CertMapping = ( { URI = "*"; Subject = "alice@WINRMD.TEST"; '
                        'Issuer = "%s"; UserName = "root"; } );\n' % pki.thumbprint(pki.ca))
        lines, log, out = run(lab, cfg, ["cert-chain", pki.client_alice_der,
                                         "sign-arbitrary", "spawn-last", "id -u", "ping"],
                              prepare=mapping)
        a = answers(lines, "cert-chain")
        t.ok(a and "status=DENIED" in a[0],
             "a valid certificate mapped to root, without its key's proof: DENIED", out)
        t.ok(re.search(r"method=Certificate .*result=failure", log),
             "audited as a failed certificate login", log[-2000:])
        t.eq(answers(lines, "spawn-last"), ["no-identity"], "nothing to spawn with")
        sg = answers(lines, "sign-arbitrary")
        t.ok(sg and sg[0].startswith("SIGN_RESULT") and "error=0" not in sg[0],
             "SIGN of arbitrary bytes with no such key: refused", out)
        t.eq(answers(lines, "ping"), ["PONG"], "the helper is alive")
    finally:
        pki.close()


def test_kerberos_sealing(lab, base):
    """UNWRAP and WRAP on a real Kerberos connection, whose context the
    helper takes over at the first sealed message (helper/krb5-cfx.c):
    hostile tokens are refused one by one, each with an answer, and the
    context stays usable; a replay is refused; the WRAP unwraps with MIT
    on the client side."""
    env = {k: v for k, v in lab.client_env("alice").items()
           if k in ("KRB5CCNAME", "KRB5_CONFIG")}
    lines, log, out = run(lab, base, ["krb5", "krb5-seal", "ping"],
                          options=["-k", "localhost"], extra_env=env)
    a = answers(lines, "krb5")
    t.ok(a and "status=OK" in a[0], "Kerberos login through AUTH_GSS", out)
    t.eq(answers(lines, "krb5-initiator"), ["complete"], "mutual authentication completes")
    t.ok(answers(lines, "krb5-seal") == ['plain="<first/>"'], "a sealed request unwraps", out)
    for kind in ("short-header", "rrc-huge", "ec-huge", "split-moved", "acceptor-flag",
                 "flipped-byte", "sealed-empty"):
        a = answers(lines, "krb5-seal-" + kind)
        t.ok(a and a[0].startswith("UNWRAP_RESULT") and "error=74" in a[0],
             "hostile token (%s): refused with EBADMSG" % kind, out)
    t.ok(answers(lines, "krb5-seal-after") == ['plain="<after/>"'],
         "the context is still usable after the refusals", out)
    a = answers(lines, "krb5-seal-replay")
    t.ok(a and "error=74" in a[0] and "replay" in a[0], "a replayed token is refused", out)
    t.ok(answers(lines, "krb5-seal-wrap") == ['header=60 good plain="<reply/>"'],
         "a WRAP unwraps with MIT's gss_unwrap_iov on the client side", out)
    t.eq(answers(lines, "ping"), ["PONG"], "the helper is alive")
    t.eq(helper_exit(lines), 0, "and exits cleanly when the listener goes")


def main():
    with Lab() as lab:
        base = lab.daemon_config()
        base.setdefault("Service", {})
        base["Service"].setdefault("Auth", {})
        base["Service"]["Auth"]["Basic"] = False
        for test in (test_hostile_local_identities, test_refusals_without_identity,
                     test_basic_off_is_a_refusal, test_real_logins,
                     test_forged_certificate, test_provider_host,
                     test_kerberos_sealing, test_impossible_frames,
                     test_shell_end):
            try:
                test(lab, base)
            except Exception as e:  # report, go on with the next
                t.ok(False, "%s raised" % test.__name__, repr(e))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
