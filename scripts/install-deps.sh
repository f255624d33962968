#!/bin/sh
# install-deps.sh - installs the Debian 12 packages winrmd needs.
#   scripts/install-deps.sh build   what ./configure && make need
#   scripts/install-deps.sh deb     build + what dpkg-buildpackage needs
#   scripts/install-deps.sh test    build + deb + everything the test suite uses
#   scripts/install-deps.sh bench   test + the benchmark references
# Idempotent; needs root (apt-get).
set -eu
what=${1:-test}

BUILD="gcc libc6-dev make autoconf automake pkg-config
 libmicrohttpd-dev libgnutls28-dev libxml2-dev libssl-dev libkrb5-dev
 libconfig-dev libpam0g-dev libsystemd-dev libcurl4-openssl-dev"
TEST="clang libclang-rt-14-dev clang-format python3 curl openssl procps iproute2
 python3-winrm python3-gssapi python3-requests-kerberos python3-requests-ntlm
 krb5-kdc krb5-admin-server krb5-user gss-ntlmssp
 libnss-wrapper libpam-wrapper libuid-wrapper systemd wsl uuid-runtime
 dbus-daemon python3-gi
 mmdebstrap systemd-container zstd"
# The Debian package (debian/): dpkg-buildpackage, debhelper (dh_autoreconf
# and the sysusers sequence come with it), lintian.
DEB="build-essential debhelper dpkg-dev lintian"
# linux-perf: the servers' CPU per request (identify, ENC_PERF=1)
BENCH="wrk nginx-light openssh-server openssh-client linux-perf"
DEMO="libnss-wrapper libpam-wrapper gss-ntlmssp python3-winrm python3-requests-ntlm curl"

case $what in
build) pkgs=$BUILD ;;
demo) pkgs="$BUILD $DEMO" ;;
deb) pkgs="$BUILD $DEB" ;;
test) pkgs="$BUILD $DEB $TEST" ;;
bench) pkgs="$BUILD $DEB $TEST $BENCH" ;;
*) echo "usage: $0 build|deb|demo|test|bench" >&2; exit 2 ;;
esac

if [ "$(id -u)" != 0 ]; then
	echo "install-deps.sh: run as root (it calls apt-get)" >&2
	exit 1
fi

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
# The npm client of the tests needs node and npm (any recent version).
if { [ "$what" = test ] || [ "$what" = bench ]; } && ! { command -v node >/dev/null && command -v npm >/dev/null; }; then
	missing="$missing nodejs npm"
fi
if [ -n "$missing" ]; then
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# --no-install-recommends keeps the machine small; the packages'
	# maintainer scripts may try to start krb5/nginx/ssh services and
	# fail without a configuration: harmless, nothing stays running.
	apt-get install -y -q --no-install-recommends $missing
fi

# Real WinRM clients from the npm registry used by the tests (pinned by
# tests/node/package-lock.json), installed outside the source tree so that
# every build tree (and make distcheck) finds them.
if [ "$what" = test ] || [ "$what" = bench ]; then
	node_dir=/var/cache/winrmd-tests/node
	here=$(cd "$(dirname "$0")/.." && pwd)
	if ! cmp -s "$here/tests/node/package-lock.json" "$node_dir/package-lock.json" ||
	   [ ! -d "$node_dir/node_modules/winrm-client" ]; then
		mkdir -p "$node_dir"
		cp "$here/tests/node/package.json" "$here/tests/node/package-lock.json" "$node_dir/"
		(cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
	fi
fi
