#!/usr/bin/python3
"""t6150 - the README's certificate recipe works as written: the shell
block between "<!-- recipe: tls-certificates" and "<!-- end recipe -->"
runs (HOST=localhost, UPN=alice@WINRMD.TEST), its server certificate and
key serve an HTTPS listener, its CA is the ClientCAFile, a mapping with
its thumbprint file and the UPN admits its client certificate, and
pywinrm transport='certificate', validating the server against the CA,
runs a command as alice."""
import os
import re
import subprocess
import sys
import tempfile

if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from lab import Lab  # noqa: E402
from tap import Tap  # noqa: E402
from winrmd import SRCDIR, free_port, lab_daemon  # noqa: E402

t = Tap()
UPN = "alice@WINRMD.TEST"


def recipe():
    with open(os.path.join(SRCDIR, "README.md")) as f:
        text = f.read()
    m = re.search(r"<!-- recipe: tls-certificates.*?-->\s*```sh\n(.*?)```\s*<!-- end recipe -->",
                  text, re.S)
    return m.group(1) if m else None


def main():
    script = recipe()
    t.ok(script is not None, "the README has the recipe block")
    if script is None:
        return
    with Lab() as lab, tempfile.TemporaryDirectory(prefix="t6150-") as work:
        env = dict(os.environ, HOST="localhost", UPN=UPN)
        r = subprocess.run(["sh", "-e", "-c", script], cwd=work, env=env,
                           capture_output=True, text=True, timeout=120)
        t.eq(r.returncode, 0, "the recipe runs with sh -e")
        if r.returncode != 0:
            t.diag(r.stderr)
            return
        files = {n: os.path.join(work, n) for n in
                 ("ca.pem", "server.pem", "server.key", "client.pem", "client.key",
                  "ca.thumbprint")}
        t.ok(all(os.path.exists(p) for p in files.values()), "it writes the files it names")
        with open(files["ca.thumbprint"]) as f:
            issuer = f.read().strip()
        t.ok(re.fullmatch(r"[0-9A-F]{40}", issuer) is not None,
             "ca.thumbprint holds 40 hexadecimal digits", issuer)
        os.chmod(work, 0o755)   # the listener reads the certificate
        for n in ("ca.pem", "server.pem"):
            os.chmod(files[n], 0o644)

        d = lab_daemon(lab, {"Service": {"Auth": {"Certificate": True,
                                                  "ClientCAFile": files["ca.pem"]}},
                             "Winrs": {"KeepEnvironment": ["LD_PRELOAD", "NSS_WRAPPER_PASSWD",
                                                           "NSS_WRAPPER_GROUP",
                                                           "NSS_WRAPPER_HOSTS"]}})
        port = free_port()
        d.tree["Listeners"].append({"Address": "127.0.0.1", "Port": port, "Transport": "HTTPS",
                                    "CertificateFile": files["server.pem"],
                                    "KeyFile": files["server.key"]})
        d.write_config()
        with open(d.tree["Daemon"]["CertMappingFile"], "w") as f:
            f.write('CertMapping = ( { URI = "*"; Subject = "%s"; Issuer = "%s"; '
                    'UserName = "alice"; } );\n' % (UPN.lower(), issuer))
        d.start()
        try:
            import winrm
            s = winrm.Session("https://localhost:%d/wsman" % port, auth=("", ""),
                              transport="certificate", cert_pem=files["client.pem"],
                              cert_key_pem=files["client.key"], ca_trust_path=files["ca.pem"],
                              server_cert_validation="validate")
            try:
                res = s.run_cmd("id", ["-un"])
                t.eq((res.status_code, res.std_out), (0, b"alice\n"),
                     "pywinrm transport='certificate' with the recipe's files: id -un is alice")
            except Exception as e:  # noqa: BLE001
                t.ok(False, "pywinrm transport='certificate'", "%r\n%s" % (e, d.log()[-3000:]))
            t.ok(any("method=Certificate" in ln and "mapped=alice" in ln and "result=success" in ln
                     for ln in d.log().splitlines()),
                 "the certificate login is audited, mapped to alice", d.log()[-2000:])
        finally:
            t.eq(d.stop(), 0, "clean stop")


main()
t.done()
