"""pki.py - a throwaway X.509 PKI for the certificate tests, built with the
openssl command-line tool (no Python packages beyond the standard library).

    pki = PKI()                       # a fresh temporary directory
    pki = PKI("/tmp/x")               # that directory (reused when complete)
    pki.client_alice, pki.client_alice_key, pki.client_alice_der
    pki.thumbprint(pki.ca)            # "A1B2...": SHA-1 of the DER, upper hex
    pki.close()                       # removes a directory PKI() created

    /usr/bin/python3 pki.py --out DIR # builds DIR, prints {"name": path}

Every certificate NAME has the files DIR/NAME.pem, DIR/NAME.der,
DIR/NAME.sha1 (its thumbprint, one line) and DIR/NAME.key (its private key,
PEM, unencrypted but for server_encrypted, mode 0600).  The attributes are
NAME, NAME_key, NAME_der and NAME_sha1; paths() returns them all as a dict.
The C unit tests rely on the file names, not on the JSON.  DIR/work holds
the openssl ca database and requests.

Certificates (all dates fixed, so that tests can pass a fixed "now"):

  ca               root CA "WinRM Test CA" (RSA 2048), 2000-01-01..2099-12-31
  rogue_ca         a second, untrusted root CA (RSA 2048)
  intermediate     an intermediate CA signed by ca (RSA 2048)
  ec_ca            a root CA with a P-384 key (signs server_ec)
  server           localhost/127.0.0.1, RSA, sha256WithRSAEncryption, by ca
  server_ec        localhost/127.0.0.1, P-384, ecdsa-with-SHA384, by ec_ca
  server_p256      localhost/127.0.0.1, P-256, by ca (the curve TLS
                   stacks sign fastest with)
  server_sha1      localhost, RSA, sha1WithRSAEncryption, by ca
  server_sha512    localhost, RSA, sha512WithRSAEncryption, by ca
  server_sha224    localhost, RSA, sha224WithRSAEncryption, by ca
  server_ed25519   localhost, Ed25519, self-signed (no signature digest)
  server_encrypted server's certificate again; its .key is AES-encrypted
                   (passphrase "secret")
  client_alice     UPN alice@WINRMD.TEST                       (ca)
  client_bob       rfc822Name bob@example.net                  (ca)
  client_both      UPN carol@WINRMD.TEST + rfc822 carol@example.net (ca)
  client_inter     UPN dave@WINRMD.TEST, by intermediate; client_inter_chain
                   is leaf + intermediate (PEM)
  client_rogue     UPN alice@WINRMD.TEST, by rogue_ca
  client_expired   UPN alice@WINRMD.TEST, valid 2001-01-01..2002-01-01
  client_future    UPN alice@WINRMD.TEST, valid 2090-01-01..2095-01-01
  client_noeku     UPN alice@WINRMD.TEST, no extendedKeyUsage at all
  client_serverauth UPN alice@WINRMD.TEST, extendedKeyUsage serverAuth only
  client_disabled  UPN erin@WINRMD.TEST (the tests map her with Enabled=false)
  client_wild      UPN alice@sub.example.net + rfc822 alice@wild.example.org
  client_badupn    UPN encoded as an IA5String instead of a UTF8String
  client_nulupn    UPN "alice\\0@evil.test" (an embedded NUL byte)
  client_max       UPN alice@WINRMD.TEST, padded to exactly 16384 bytes DER
  client_over      UPN alice@WINRMD.TEST, padded to exactly 16385 bytes DER

Client and other leaf certificates are valid 2020-01-01..2089-12-31 unless
said otherwise; client keys are P-256 (fast to make), signatures of ca are
RSA (fixed size, which lets the padding hit an exact DER length).  Client
certificates carry keyUsage digitalSignature, clientAuth and SKID/AKID:
X509_V_FLAG_X509_STRICT holds for all of them.  Generating everything takes
about two seconds.
"""
import hashlib
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile

OPENSSL = "openssl"
UPN_OID = "1.3.6.1.4.1.311.20.2.3"
PAD_OID = "1.3.6.1.4.1.55555.1.1"   # private arc: padding, non-critical
MAX_CLIENT_CERT = 16384

LEAF_DATES = ("20200101000000Z", "20891231235959Z")
CA_DATES = ("20000101000000Z", "20991231235959Z")

CA_EXT = ("basicConstraints=critical,CA:TRUE\n"
          "keyUsage=critical,keyCertSign,cRLSign\n"
          "subjectKeyIdentifier=hash\n")
CA_SIGNED_EXT = CA_EXT + "authorityKeyIdentifier=keyid:always\n"
SERVER_EXT = ("basicConstraints=critical,CA:FALSE\n"
              "keyUsage=critical,digitalSignature,keyEncipherment\n"
              "extendedKeyUsage=serverAuth\n"
              "subjectKeyIdentifier=hash\n"
              "authorityKeyIdentifier=keyid:always\n"
              "subjectAltName=DNS:localhost,IP:127.0.0.1\n")

CA_CONF = """\
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = {dir}
database = $dir/db/index.txt
new_certs_dir = $dir/db/new
serial = $dir/db/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
preserve = yes
[ policy_any ]
commonName = supplied
organizationName = optional
organizationalUnitName = optional
"""


class PKIError(RuntimeError):
    pass


def _client_ext(names, eku="clientAuth", pad=None):
    """Extensions of a client certificate: names is a list of ("upn", x)
    or ("email", x); eku None leaves extendedKeyUsage out."""
    lines = ["basicConstraints=critical,CA:FALSE",
             "keyUsage=critical,digitalSignature",
             "subjectKeyIdentifier=hash",
             "authorityKeyIdentifier=keyid:always"]
    if eku:
        lines.append("extendedKeyUsage=" + eku)
    san = []
    for kind, value in names:
        if kind == "upn":
            san.append("otherName:%s;UTF8:%s" % (UPN_OID, value))
        else:
            san.append("email:" + value)
    if san:
        lines.append("subjectAltName=" + ",".join(san))
    if pad:
        lines.append("%s=ASN1:UTF8String:%s" % (PAD_OID, "x" * pad))
    return "\n".join(lines) + "\n"


class PKI:
    """The PKI described in the module docstring, in dirname (created
    when missing) or in a new temporary directory."""

    NAMES = ("ca", "rogue_ca", "intermediate", "ec_ca", "server", "server_ec",
             "server_p256",
             "server_sha1", "server_sha512", "server_sha224",
             "server_ed25519",
             "server_encrypted",
             "client_alice", "client_bob", "client_both", "client_inter",
             "client_rogue", "client_expired", "client_future",
             "client_noeku", "client_serverauth", "client_disabled",
             "client_wild", "client_badupn", "client_nulupn", "client_max",
             "client_over")

    def __init__(self, dirname=None):
        self._owned = dirname is None
        if dirname is None:
            dirname = tempfile.mkdtemp(prefix="winrmd-pki-")
        os.makedirs(dirname, exist_ok=True)
        if self._owned:
            os.chmod(dirname, 0o755)  # certificates readable; keys are 0600
        self.dir = os.path.abspath(dirname)
        for name in self.NAMES:
            for ext in ("", "_key", "_der", "_sha1"):
                suffix = {"": ".pem", "_key": ".key", "_der": ".der",
                          "_sha1": ".sha1"}[ext]
                setattr(self, name + ext, self.path(name + suffix))
        self.client_inter_chain = self.path("client_inter_chain.pem")
        self.manifest = self.path("pki.json")
        if not self._complete():
            self._build()

    # -- public helpers -------------------------------------------------

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def paths(self):
        """Every file as {attribute name: path}."""
        out = {"dir": self.dir, "client_inter_chain": self.client_inter_chain}
        for name in self.NAMES:
            for ext in ("", "_key", "_der", "_sha1"):
                p = getattr(self, name + ext)
                if os.path.exists(p):
                    out[name + ext] = p
        return out

    @staticmethod
    def thumbprint(path):
        """SHA-1 thumbprint (40 upper-case hex digits) of the first
        certificate in a PEM or DER file."""
        with open(path, "rb") as f:
            data = f.read()
        if data.lstrip().startswith(b"-----BEGIN"):
            text = data.decode("ascii")
            start = text.index("-----BEGIN CERTIFICATE-----")
            end = text.index("-----END CERTIFICATE-----", start)
            data = ssl.PEM_cert_to_DER_cert(text[start:end + 25])
        return hashlib.sha1(data).hexdigest().upper()

    def close(self):
        """Removes the directory when this object created it."""
        if self._owned and os.path.isdir(self.dir):
            shutil.rmtree(self.dir)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- building ---------------------------------------------------------

    def _complete(self):
        if not os.path.exists(self.manifest):
            return False
        with open(self.manifest) as f:
            have = json.load(f)
        return all(os.path.exists(p) for p in have.values())

    def _run(self, *args, input=None):
        r = subprocess.run([OPENSSL] + list(args), input=input,
                           capture_output=True, cwd=self.dir)
        if r.returncode != 0:
            raise PKIError("openssl %s failed: %s" % (
                " ".join(args), r.stderr.decode(errors="replace")))
        return r.stdout

    def _write(self, name, text, mode=0o644):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def _newkey(self, name, kind):
        key = self.path(name + ".key")
        if kind == "rsa":
            self._run("genpkey", "-algorithm", "RSA", "-pkeyopt",
                      "rsa_keygen_bits:2048", "-out", key)
        elif kind == "ed25519":
            self._run("genpkey", "-algorithm", "ED25519", "-out", key)
        else:
            curve = {"p256": "P-256", "p384": "P-384"}[kind]
            self._run("genpkey", "-algorithm", "EC", "-pkeyopt",
                      "ec_paramgen_curve:" + curve, "-out", key)
        os.chmod(key, 0o600)
        return key

    def _csr(self, name, cn, key):
        csr = self.path("work", name + ".csr")
        self._run("req", "-new", "-key", key, "-subj", "/CN=" + cn,
                  "-out", csr)
        return csr

    def _finish(self, name):
        """NAME.der and NAME.sha1 from NAME.pem."""
        pem = self.path(name + ".pem")
        self._run("x509", "-in", pem, "-outform", "DER",
                  "-out", self.path(name + ".der"))
        self._write(name + ".sha1", self.thumbprint(pem) + "\n")

    def _sign(self, name, csr, ext, issuer=None, dates=LEAF_DATES,
              md="sha256"):
        """Signs csr with CA issuer (None: self-signed with NAME.key)."""
        extfile = self._write(os.path.join("work", name + ".ext"), ext)
        args = ["ca", "-batch", "-config", self.path("work", "ca.cnf"),
                "-notext", "-preserveDN", "-md", md, "-in", csr,
                "-out", self.path(name + ".pem"), "-extfile", extfile,
                "-startdate", dates[0], "-enddate", dates[1]]
        if issuer is None:
            args += ["-selfsign", "-keyfile", self.path(name + ".key")]
        else:
            args += ["-cert", self.path(issuer + ".pem"),
                     "-keyfile", self.path(issuer + ".key")]
        self._run(*args)
        self._finish(name)

    def _root(self, name, cn, kind="rsa", md="sha256"):
        key = self._newkey(name, kind)
        self._sign(name, self._csr(name, cn, key), CA_EXT, None, CA_DATES,
                   md)

    def _leaf(self, name, cn, ext, issuer="ca", kind="p256",
              dates=LEAF_DATES, md="sha256"):
        key = self._newkey(name, kind)
        self._sign(name, self._csr(name, cn, key), ext, issuer, dates, md)

    def _padded(self, name, size):
        """A valid client certificate for alice of exactly size bytes of
        DER: the padding extension is grown or shrunk until it fits (the
        RSA signature of ca has a fixed size; the serial may not)."""
        key = self._newkey(name, "p256")
        csr = self._csr(name, "alice", key)
        names = [("upn", "alice@WINRMD.TEST")]
        pad = size - 700
        for _ in range(20):
            self._sign(name, csr, _client_ext(names, pad=pad), "ca")
            got = os.path.getsize(self.path(name + ".der"))
            if got == size:
                return
            pad += size - got
        raise PKIError("cannot pad %s to %d bytes" % (name, size))

    def _build(self):
        os.makedirs(self.path("work", "db", "new"), exist_ok=True)
        with open(self.path("work", "db", "index.txt"), "w"):
            pass
        with open(self.path("work", "db", "serial"), "w") as f:
            f.write("1000\n")
        with open(self.path("work", "db", "index.txt.attr"), "w") as f:
            f.write("unique_subject = no\n")
        self._write(os.path.join("work", "ca.cnf"),
                    CA_CONF.format(dir=self.path("work")))

        self._root("ca", "WinRM Test CA")
        self._root("rogue_ca", "WinRM Rogue CA")
        self._root("ec_ca", "WinRM Test EC CA", kind="p384", md="sha384")
        key = self._newkey("intermediate", "rsa")
        self._sign("intermediate", self._csr("intermediate",
                   "WinRM Test Intermediate CA", key), CA_SIGNED_EXT, "ca",
                   CA_DATES)

        self._leaf("server", "localhost", SERVER_EXT, kind="rsa")
        self._leaf("server_ec", "localhost", SERVER_EXT, issuer="ec_ca",
                   kind="p384", md="sha384")
        self._leaf("server_p256", "localhost", SERVER_EXT, kind="p256")
        self._leaf("server_sha1", "localhost", SERVER_EXT, kind="rsa",
                   md="sha1")
        self._leaf("server_sha512", "localhost", SERVER_EXT, kind="rsa",
                   md="sha512")
        self._leaf("server_sha224", "localhost", SERVER_EXT, kind="rsa",
                   md="sha224")
        key = self._newkey("server_ed25519", "ed25519")
        self._sign("server_ed25519", self._csr("server_ed25519", "localhost",
                   key), SERVER_EXT, None, md="default")
        shutil.copy(self.server, self.server_encrypted)
        self._finish("server_encrypted")
        self._run("pkey", "-in", self.server_key, "-aes256", "-passout",
                  "pass:secret", "-out", self.server_encrypted_key)
        os.chmod(self.server_encrypted_key, 0o600)

        alice = [("upn", "alice@WINRMD.TEST")]
        self._leaf("client_alice", "alice", _client_ext(alice))
        self._leaf("client_bob", "bob",
                   _client_ext([("email", "bob@example.net")]))
        self._leaf("client_both", "carol",
                   _client_ext([("upn", "carol@WINRMD.TEST"),
                                ("email", "carol@example.net")]))
        self._leaf("client_inter", "dave",
                   _client_ext([("upn", "dave@WINRMD.TEST")]),
                   issuer="intermediate")
        with open(self.client_inter_chain, "w") as out:
            for p in (self.client_inter, self.intermediate):
                with open(p) as f:
                    out.write(f.read())
        self._leaf("client_rogue", "alice", _client_ext(alice),
                   issuer="rogue_ca")
        self._leaf("client_expired", "alice", _client_ext(alice),
                   dates=("20010101000000Z", "20020101000000Z"))
        self._leaf("client_future", "alice", _client_ext(alice),
                   dates=("20900101000000Z", "20950101000000Z"))
        self._leaf("client_noeku", "alice", _client_ext(alice, eku=None))
        self._leaf("client_serverauth", "alice",
                   _client_ext(alice, eku="serverAuth"))
        self._leaf("client_disabled", "erin",
                   _client_ext([("upn", "erin@WINRMD.TEST")]))
        self._leaf("client_wild", "alice",
                   _client_ext([("upn", "alice@sub.example.net"),
                                ("email", "alice@wild.example.org")]))
        bad = _client_ext([]).rstrip("\n") + "\nsubjectAltName=otherName:"
        self._leaf("client_badupn", "alice",
                   bad + UPN_OID + ";IA5STRING:alice@WINRMD.TEST\n")
        # (in a section of its own: a SAN list splits values at commas)
        self._leaf("client_nulupn", "alice",
                   bad[:-len("otherName:")] + "@alt\n[alt]\notherName.1 = " +
                   UPN_OID + ";IMPLICIT:12U,FORMAT:HEX,OCTETSTRING:" +
                   b"alice\0@evil.test".hex() + "\n")
        self._padded("client_max", MAX_CLIENT_CERT)
        self._padded("client_over", MAX_CLIENT_CERT + 1)

        with open(self.manifest, "w") as f:
            json.dump(self.paths(), f, indent=1, sort_keys=True)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", help="directory (default: a new temporary one)")
    args = ap.parse_args(argv)
    try:
        pki = PKI(args.out)
    except PKIError as e:
        print("pki.py: %s" % e, file=sys.stderr)
        return 1
    json.dump(pki.paths(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
