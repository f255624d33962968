#!/bin/sh
# demo.sh - installs what winrmd needs, builds it, and runs it in the
# foreground on 127.0.0.1:5985 with a demo configuration, printing how to
# probe it.  Stop it with Ctrl-C.  Needs root (apt-get, and winrmd starts as
# root to launch its privileged helper).  Nothing outside build-demo/ and
# the demo directory it prints is changed.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
PORT=${PORT:-5985}

scripts/install-deps.sh build
[ -x configure ] || autoreconf -fi
mkdir -p build-demo
cd build-demo
[ -f Makefile ] || ../configure >/dev/null
make -j"$(nproc)" >/dev/null
cd "$top"

demo=$(mktemp -d /tmp/winrmd-demo.XXXXXX)
chmod 755 "$demo"
cat > "$demo/winrmd.conf" <<CONF
# winrmd demo configuration: loopback only.
Listeners = ( { Address = "127.0.0.1"; Port = $PORT; Transport = "HTTP"; } );
Daemon = {
  User = "nobody";
  HelperPath = "$top/build-demo/daemon/winrmd-priv";
  AdminSocket = "$demo/admin.sock";
  CertMappingFile = "$demo/certmapping.conf";
};
CONF

cat <<MSG

winrmd demo: listening on http://127.0.0.1:$PORT/wsman (configuration $demo/winrmd.conf)

Probe it from another terminal (anonymous Identify, as Test-WSMan does):

  curl -s -H 'WSMANIDENTIFY: unauthenticated' -H 'Content-Type: application/soap+xml;charset=UTF-8' \\
    --data '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>' \\
    http://127.0.0.1:$PORT/wsman

Press Ctrl-C to stop.
MSG
exec "$top/build-demo/daemon/winrmd" -f -c "$demo/winrmd.conf"
