#!/bin/sh
# bench/run.sh - winrmd benchmarks, each next to a reference measured in the
# same run on the same machine, printed as ratios.  One command, as root:
#
#   bench/run.sh [identify|auth|encryption|base64|shell|tls|connlimits|wmi|
#                 wmi-service]
#                (default: all of them)
#
# identify: wrk against the anonymous Identify of winrmd and against nginx
#           serving the very same response bytes, keep-alive, at 1 and 64
#           connections; prints requests/s, p50/p99 latency, and
#           winrmd/nginx.
# auth:     bench/auth.py: Kerberos, NTLM and Basic against a lab KDC, as
#           requests/s on one authenticated keep-alive connection and as
#           handshakes/s on new connections, each next to anonymous
#           Identify measured by the same Python client in the same run.
# encryption: bench/encryption.py: message encryption over HTTP (Kerberos
#           and NTLM session keys) next to the same requests in plain
#           text, small and 256 KiB requests, as requests/s and ratios.
# base64:   bench/base64-codec: winrmd's base64 (lib/base64.c, every byte
#           of a shell's stdin and stdout) next to OpenSSL's codec, encode
#           and decode of one Receive's 110,592 bytes, as GB/s and ratios.
# shell:    bench/shell.py: Windows Remote Shell command round trip (`true`)
#           and stdout streaming next to ssh with ControlMaster against a
#           throwaway sshd, and the listener's RSS and threads with 1,000
#           shells each holding a Receive open.
# tls:      bench/tls.py: TLS handshakes/s (a new connection per request)
#           and keep-alive requests/s (anonymous and Basic) of winrmd's
#           HTTPS listener next to its HTTP listener and to nginx serving
#           the same bytes with the same RSA and ECDSA certificates.
# connlimits: bench/connlimits.py: 1,000 and 10,000 slow clients trickling
#           header lines from 127.0.0.2-9 (and 10,000 from 127.0.0.2-41):
#           anonymous Identify latency (p50/p99) during the attack, the
#           time until the listener is fully usable once they close, and
#           the daemon's descriptors.  For the record: no reference.
# wmi:      bench/wmi.py: Enumerate of every Win32_Process with 1,000
#           extra processes running (select * and a WQL projection) next
#           to ps -eo pid,ppid,comm,args, as runs/s and p50/p99; Get of one
#           instance next to anonymous Identify with wrk.
# wmi-service: bench/wmi-service.py: Enumerate of every Win32_Service next
#           to systemctl list-units --all --type=service, as runs/s and
#           p50/p99, against the same real systemd: a throwaway Debian root
#           booted with systemd-nspawn (tests/systemd/container.sh, the
#           package built by tests/systemd/build-deb.sh and installed there,
#           quickconfig, Basic over HTTP for the bench), the client on the
#           host in the container's network namespace; the container is
#           destroyed at the end.  Checks the count against systemctl's.
# Everything listens on 127.0.0.1 only (wmi-service: the container's own
# loopback, in its network namespace); every load run is time-bounded.
# Environment: DURATION (seconds per identify run, default 10), ROUNDS
# (identify rounds, each winrmd then nginx, default 3; the ratio printed
# is the median of the rounds' ratios),
# AUTH_DURATION (seconds per auth method and kind, default 5).
# ENC_DURATION (seconds per encryption run, default 5).
# BASE64_SECONDS (seconds per base64 measurement, default 1).
# TLS_DURATION (seconds per tls run, default 5), TLS_CONNS (default 16),
# TLS_ROUNDS (default 3).
# SHELL_ITERATIONS (shell round trips, default 300), SHELL_SHELLS (default 1000),
# STREAM_ROUNDS (streaming rounds, each winrmd then ssh, default 3).
# WMI_PROCESSES (extra sleeps, default 1000), WMI_ITERATIONS (default 20),
# WMI_DURATION (seconds per wrk run, default 5).
# WMI_SERVICE_ITERATIONS (default 20); WINRMD_DEB (a .deb to install instead
# of building one; default: tests/systemd/build-deb.sh build-bench, cached).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
which=${1:-all}

scripts/install-deps.sh bench >/dev/null
[ -x configure ] || autoreconf -fi >/dev/null 2>&1
mkdir -p build-bench
(cd build-bench && { [ -f Makefile ] || ../configure CFLAGS="-O2 -g" >/dev/null; } &&
	make -j"$(nproc)" all bench/wsman-stream bench/base64-codec >/dev/null)

work=$(mktemp -d /tmp/winrmd-bench.XXXXXX)
chmod 755 "$work"
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	sleep 0.3
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_winrmd() { # extra config text
	WPORT=$(free_port)
	cat > "$work/winrmd.conf" <<CONF
Listeners = ( { Address = "127.0.0.1"; Port = $WPORT; } );
Logging = { Level = "notice"; };
Daemon = { User = "nobody"; HelperPath = "$top/build-bench/helper/winrmd-priv";
  AdminSocket = "$work/admin.sock"; CertMappingFile = "$work/cm.conf"; };
$1
CONF
	"$top/build-bench/listener/winrmd" -f -c "$work/winrmd.conf" 2>"$work/winrmd.log" &
	WPID=$!
	pids="$pids $WPID"
	for _ in $(seq 100); do
		grep -q " ready" "$work/winrmd.log" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "winrmd did not start:"; cat "$work/winrmd.log"; exit 1
}

start_nginx() { # body file
	# The reference at its best: the same bytes from "return 200" (no
	# file system, no internal redirect), one worker per core.
	NPORT=$(free_port)
	mkdir -p "$work/nginx"
	body=$(cat "$1")
	case $body in *"'"*|*'\\'*) echo "the body has a quote or backslash"; exit 1 ;; esac
	cat > "$work/nginx/nginx.conf" <<CONF
worker_processes $(nproc);
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NPORT;
    location /wsman {
      default_type "application/soap+xml;charset=UTF-8";
      return 200 '$body';
    }
  }
}
CONF
	nginx -c "$work/nginx/nginx.conf" -p "$work/nginx"
	sleep 0.3
	pids="$pids $(cat "$work/nginx/nginx.pid")"
}

wrk_run() { # url connections threads [server pids] -> prints the BENCH line
	# With server pids (comma-separated) and a working perf, the line ends
	# with cpu_ms=: the servers' CPU time (task-clock) during the run,
	# which a busy neighbour moves far less than requests/s.
	measure=""
	if [ -n "${4:-}" ] && perf stat -e task-clock true >/dev/null 2>&1; then
		measure="perf stat -x, -e task-clock -p $4 -o $work/perf.out --"
	fi
	$measure wrk -t"$3" -c"$2" -d"${DURATION}s" --latency -s "$top/bench/identify.lua" "$1" \
		>"$work/wrk.out" 2>&1 || true
	line=$(grep '^BENCH' "$work/wrk.out") ||
		line="BENCH rps=0 p50_us=0 p99_us=0 requests=0 non200=0 errors=1"
	[ -z "$measure" ] || line="$line cpu_ms=$(grep task-clock "$work/perf.out" | cut -d, -f1)"
	echo "$line"
}

field() { echo "$1" | sed -n "s/.*$2=\([0-9.]*\).*/\1/p"; }

bench_identify() {
	# 64 keep-alive connections from 127.0.0.1: above the default 30.
	start_winrmd "Service = { MaxConnectionsPerAddress = 64; };"
	curl -s -H 'WSMANIDENTIFY: unauthenticated' -H 'Content-Type: application/soap+xml;charset=UTF-8' \
		--data "$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" bench/identify.lua)" \
		"http://127.0.0.1:$WPORT/wsman" > "$work/identify.xml"
	grep -q IdentifyResponse "$work/identify.xml" || { echo "winrmd Identify failed"; exit 1; }
	start_nginx "$work/identify.xml"
	n=$(curl -s -X POST --data x "http://127.0.0.1:$NPORT/wsman")
	[ "$n" = "$(cat "$work/identify.xml")" ] || { echo "nginx does not serve the same bytes"; exit 1; }

	echo "== anonymous Identify, keep-alive, ${DURATION}s per run, $ROUNDS rounds of winrmd then nginx (same response bytes: $(wc -c < "$work/identify.xml") B)"
	# server CPU per request (perf stat task-clock; "-" without perf):
	# winrmd's listener, nginx's master and workers
	nginx_pids=$(cat "$work/nginx/nginx.pid"),$(pgrep -d, -P "$(cat "$work/nginx/nginx.pid")")
	printf '%-26s %12s %10s %10s %8s %12s\n' "run" "req/s" "p50 ms" "p99 ms" "errors" "cpu us/req"
	for conns in 1 64; do
		threads=$([ "$conns" = 1 ] && echo 1 || echo 2)
		ratios="" cpu_ratios=""
		for round in $(seq "$ROUNDS"); do
			w=$(wrk_run "http://127.0.0.1:$WPORT/wsman" "$conns" "$threads" "$WPID")
			n=$(wrk_run "http://127.0.0.1:$NPORT/wsman" "$conns" "$threads" "$nginx_pids")
			for x in "winrmd:$w" "nginx:$n"; do
				name=${x%%:*}; line=${x#*:}
				awk -v n="$name, $conns conn, #$round" -v r="$(field "$line" rps)" \
				    -v p50="$(field "$line" p50_us)" -v p99="$(field "$line" p99_us)" \
				    -v e="$(( $(field "$line" non200) + $(field "$line" errors) ))" \
				    -v cpu="$(field "$line" cpu_ms)" -v req="$(field "$line" requests)" \
				    'BEGIN { printf "%-26s %12.0f %10.3f %10.3f %8d %12s\n", n, r, p50 / 1000, p99 / 1000, e,
				             (cpu != "" && req > 0) ? sprintf("%.1f", cpu * 1000 / req) : "-" }'
			done
			ratios="$ratios $(awk -v a="$(field "$w" rps)" -v b="$(field "$n" rps)" \
			    'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')"
			# nginx's CPU per request over winrmd's: above 1, winrmd
			# spends less per request
			cpu_ratios="$cpu_ratios $(awk -v wc="$(field "$w" cpu_ms)" -v wr="$(field "$w" requests)" \
			    -v nc="$(field "$n" cpu_ms)" -v nr="$(field "$n" requests)" \
			    'BEGIN { if (wc > 0 && wr > 0 && nr > 0) printf "%.3f", (nc / nr) / (wc / wr) }')"
		done
		# the median of the rounds' ratios: one slow round (a busy
		# neighbour) moves it least
		median_line "ratio winrmd/nginx, $conns" $ratios
		[ -z "$(echo $cpu_ratios)" ] ||
			median_line "ratio nginx/winrmd cpu/req, $conns" $cpu_ratios
	done
}

median_line() { # name values... -> "name median (rounds: values sorted)"
	name=$1; shift
	printf '%s\n' "$@" | sort -n | awk -v n="$name" \
	    '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
	       printf "%-26s %12.2f   (rounds:", n, m; for (i = 1; i <= NR; i++) printf " %.2f", v[i]; print ")" }'
}

bench_auth() {
	echo "== authentication (bench/auth.py)"
	WINRMD_BUILDDIR="$top/build-bench" WINRMD_SRCDIR="$top" \
		AUTH_DURATION="${AUTH_DURATION:-5}" /usr/bin/python3 "$top/bench/auth.py"
}

bench_shell() {
	WINRMD_BUILDDIR="$top/build-bench" ITERATIONS="${SHELL_ITERATIONS:-300}" \
		SHELLS="${SHELL_SHELLS:-1000}" /usr/bin/python3 "$top/bench/shell.py"
}

bench_encryption() {
	WINRMD_BUILDDIR="$top/build-bench" WINRMD_SRCDIR="$top" \
		ENC_DURATION="${ENC_DURATION:-5}" /usr/bin/python3 "$top/bench/encryption.py"
}

bench_connlimits() {
	WINRMD_BUILDDIR="$top/build-bench" WINRMD_SRCDIR="$top" \
		/usr/bin/python3 "$top/bench/connlimits.py"
}

bench_wmi() {
	WINRMD_BUILDDIR="$top/build-bench" PROCESSES="${WMI_PROCESSES:-1000}" \
		ITERATIONS="${WMI_ITERATIONS:-20}" DURATION="${WMI_DURATION:-5}" \
		/usr/bin/python3 "$top/bench/wmi.py"
}

bench_wmi_service() {
	WINRMD_BUILDDIR="$top/build-bench" ITERATIONS="${WMI_SERVICE_ITERATIONS:-20}" \
		/usr/bin/python3 "$top/bench/wmi-service.py"
}

bench_base64() {
	"$top/build-bench/bench/base64-codec" "${BASE64_SECONDS:-1}"
}

bench_tls() {
	WINRMD_BUILDDIR="$top/build-bench" WINRMD_SRCDIR="$top" \
		TLS_DURATION="${TLS_DURATION:-5}" /usr/bin/python3 "$top/bench/tls.py"
}

case $which in
identify) bench_identify ;;
auth) bench_auth ;;
shell) bench_shell ;;
tls) bench_tls ;;
encryption) bench_encryption ;;
base64) bench_base64 ;;
connlimits) bench_connlimits ;;
wmi) bench_wmi ;;
wmi-service) bench_wmi_service ;;
all) bench_identify; bench_auth; bench_encryption; bench_base64; bench_shell; bench_tls; bench_connlimits; bench_wmi
	bench_wmi_service ;;
*) echo "usage: $0 [identify|auth|encryption|base64|shell|tls|connlimits|wmi|wmi-service|all]" >&2; exit 2 ;;
esac
