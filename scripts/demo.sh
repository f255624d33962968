#!/bin/sh
# demo.sh - installs what winrmd needs, builds it, and runs it in the
# foreground on 127.0.0.1:5985 with a demo configuration, then prints how
# to probe it: an anonymous Identify with curl, a command through
# python3-winrm (NTLM with message encryption, as Windows defaults to), and
# the administration CLI.  Stop it with Ctrl-C.
#
# The demo account "demo" and its random password exist only inside the
# demo: the daemon runs with nss_wrapper and pam_wrapper pointing at files
# in a temporary directory, so no real account, group or password of this
# machine is read or changed.  Needs root (apt-get; winrmd starts as root to
# launch its privileged helper).  PORT=5985 by default.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
PORT=${PORT:-5985}

scripts/install-deps.sh demo
[ -x configure ] || autoreconf -fi
mkdir -p build-demo
(cd build-demo && { [ -f Makefile ] || ../configure >/dev/null; } && make -j"$(nproc)" >/dev/null)

demo=$(mktemp -d /tmp/winrmd-demo.XXXXXX)
chmod 755 "$demo"
mkdir -p "$demo/home/demo" "$demo/pam.d"
chown 60998:60998 "$demo/home/demo"
password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=' | head -c 14)
multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
matrix=/usr/lib/$multiarch/pam_wrapper/pam_matrix.so

cat > "$demo/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
winrmd-demo:x:60999:60999:winrmd listener:/nonexistent:/usr/sbin/nologin
demo:x:60998:60998:WinRM demo user:$demo/home/demo:/bin/sh
EOF
cat > "$demo/group" <<EOF
root:x:0:
nogroup:x:65534:
winrmd-demo:x:60999:
demo:x:60998:
winrmusers:x:60997:demo
EOF
printf '127.0.0.1 localhost\n::1 localhost\n' > "$demo/hosts"
# root's entry only lets PAM's account check pass for winrmctl; its
# password is random and never shown
echo "demo:$password:winrmd" > "$demo/passdb"
echo "root:$(head -c 24 /dev/urandom | base64 | tr -d '/+='):winrmd" >> "$demo/passdb"
chmod 600 "$demo/passdb"
for t in auth account password session; do
	echo "$t required $matrix passdb=$demo/passdb"
done > "$demo/pam.d/winrmd"
echo "WORKGROUP:demo:$password" > "$demo/ntlm_users"
chmod 600 "$demo/ntlm_users"
# the Python NTLM client needs MD4 from OpenSSL's legacy provider
cat > "$demo/openssl.cnf" <<'EOF'
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
EOF

cat > "$demo/winrmd.conf" <<CONF
# winrmd demo configuration: loopback only, defaults otherwise
# (Negotiate/NTLM with message encryption, no Basic, no plaintext).
Listeners = ( { Address = "127.0.0.1"; Port = $PORT; Transport = "HTTP"; } );
Service = { Auth = { NtlmUserFile = "$demo/ntlm_users"; }; };
Winrs = { KeepEnvironment = [ "LD_PRELOAD", "NSS_WRAPPER_PASSWD",
                              "NSS_WRAPPER_GROUP", "NSS_WRAPPER_HOSTS" ]; };
Daemon = {
  User = "winrmd-demo";
  HelperPath = "$top/build-demo/helper/winrmd-priv";
  AdminSocket = "$demo/admin.sock";
  CertMappingFile = "$demo/certmapping.conf";
};
CONF

cat <<MSG

winrmd demo: http://127.0.0.1:$PORT/wsman  (files in $demo)
Demo account: demo / $password   (exists only inside this demo)

From another terminal:

  # anonymous Identify, as Test-WSMan does
  curl -s -H 'WSMANIDENTIFY: unauthenticated' -H 'Content-Type: application/soap+xml;charset=UTF-8' \\
    --data '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>' \\
    http://127.0.0.1:$PORT/wsman

  # run a command with python3-winrm (NTLM, encrypted)
  OPENSSL_CONF=$demo/openssl.cnf /usr/bin/python3 -c "import winrm; r = winrm.Session('http://127.0.0.1:$PORT/wsman', auth=('demo', '$password'), transport='ntlm').run_cmd('id'); print(r.status_code, r.std_out.decode())"

  # read the configuration as root through the local administration socket
  $top/build-demo/winrmctl/winrmctl get winrm/config -S $demo/admin.sock

Press Ctrl-C to stop.
MSG
export LD_PRELOAD=libnss_wrapper.so:libpam_wrapper.so
export NSS_WRAPPER_PASSWD="$demo/passwd" NSS_WRAPPER_GROUP="$demo/group" NSS_WRAPPER_HOSTS="$demo/hosts"
export PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$demo/pam.d"
exec "$top/build-demo/listener/winrmd" -f -c "$demo/winrmd.conf"
