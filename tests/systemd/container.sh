#!/bin/bash
# container.sh - a Debian root with a real systemd as PID 1, for the tests
# that need systemd (the package, quickconfig, the unit, shells as units).
#
#   container.sh rootfs DEST              make DEST a fresh Debian root (cached)
#   container.sh start NAME ROOT          boot ROOT with systemd-nspawn as NAME
#   container.sh exec NAME CMD [ARG...]   run CMD inside (all its namespaces)
#   container.sh netns NAME CMD [ARG...]  run a host CMD in its network namespace
#   container.sh cp NAME FILE PATH        copy a host FILE to PATH inside
#   container.sh leader NAME              print the container's PID 1 (host PID)
#   container.sh stop NAME                halt it, clean up after it
#   container.sh destroy NAME             stop, then delete its root
#
# Run as root.  Never boots the host's own root (systemd-tmpfiles would empty
# the host's /tmp): ROOT must be a directory other than /.  Everything a
# container leaves on the host is named after NAME and removed by "stop":
# the nspawn and container processes (by the PIDs recorded at start), the
# cgroups ct-NAME, /run/systemd/nspawn/propagate/NAME.
#
# The root (package list below) is built once with mmdebstrap from the
# host's own apt sources and kept as a tar.zst in $WINRMD_TEST_CACHE/rootfs
# (default /var/cache/winrmd-tests/rootfs), keyed on what decides its
# contents; restoring it takes a second or two.  A cold cache costs one
# mmdebstrap run (one to three minutes).  WINRMD_CT_PACKAGES adds packages
# (a separate cached root); WINRMD_CT_REBUILD=1 rebuilds the cache.
#
# Why it boots the way it does (tested on a host whose PID 1 is not
# systemd, with v1/hybrid cgroups):
#   * --register=no --keep-unit: no machined or host systemd to talk to;
#   * PID 1 is a shell that remounts the memory and pids cgroup hierarchies
#     writable before it execs systemd: nspawn mounts them read-only, and
#     MemoryMax=/TasksMax= would then be accepted but not enforced;
#   * --private-network: the container has its own loopback only; tests
#     reach it with "netns" (host programs in its network namespace);
#   * nspawn runs in cgroups of our own (ct-NAME), so that what the
#     container's systemd creates is below them and removed with them.
#   * long-running processes must be started inside through systemd
#     (systemctl, systemd-run), never with "exec ... &": a process nsenter
#     left behind keeps systemd-shutdown waiting.
set -euo pipefail

CACHE=${WINRMD_TEST_CACHE:-/var/cache/winrmd-tests}/rootfs
STATE=/run/winrmd-tests/ct
# cgroup hierarchies we put nspawn into (those that exist on this host)
HIERARCHIES="memory pids systemd unified"

# What the root holds: systemd as init, D-Bus and logind (PAM sessions), the
# libraries winrmd links (so that "apt install ./winrmd_*.deb" needs no
# network: the container has none), gss-ntlmssp (NTLM), procps (pgrep).
PACKAGES="systemd systemd-sysv dbus libpam-systemd
 libmicrohttpd12 libgnutls30 libxml2 libssl3 libkrb5-3 libgssapi-krb5-2
 libconfig9 libpam0g libsystemd0 libcurl4 gss-ntlmssp procps"

die() {
	echo "container.sh: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "run as root"

# ---- the cached root ----

# The apt sources of the host, which the root gets too: the deb822 file if
# there is one, else sources.list (nothing: mmdebstrap's default mirror).
host_sources() {
	if [ -s /etc/apt/sources.list.d/debian.sources ]; then
		echo /etc/apt/sources.list.d/debian.sources
	elif [ -s /etc/apt/sources.list ]; then
		echo /etc/apt/sources.list
	fi
}

cmd_rootfs() {
	local dest=$1
	[ -n "$dest" ] && [ "$(realpath -m "$dest")" != / ] || die "refusing to use / as a root"
	command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (scripts/install-deps.sh test)"
	# The root must be the host's release: the package is built here.
	local suite
	suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$suite" ] || die "cannot tell the host's Debian release"
	local sources
	sources=$(host_sources)
	local pkgs
	pkgs=$(echo $PACKAGES ${WINRMD_CT_PACKAGES:-} | tr ' ' '\n' | sort -u | paste -sd, -)
	# Key: everything that decides what is in the tarball.
	local key
	key=$({
		echo "mmdebstrap $(dpkg-query -W -f='${Version}' mmdebstrap)"
		echo "$suite minbase $pkgs"
		[ -n "$sources" ] && grep -v '^#' "$sources"
		# this recipe (the part of this script that builds)
		sed -n '/^cmd_rootfs()/,/^}/p' "$0"
	} | sha256sum | cut -c1-16)
	local tarball=$CACHE/$suite-$key.tar.zst
	mkdir -p "$CACHE"
	if [ ! -s "$tarball" ] || [ "${WINRMD_CT_REBUILD:-0}" = 1 ]; then
		echo "container.sh: building $tarball (mmdebstrap, once per package list)" >&2
		local t0 log
		t0=$(date +%s)
		log=$CACHE/build-$key.log
		# Written to .part, renamed when complete: an interrupted build
		# never leaves a truncated cache behind.
		if ! nice mmdebstrap --quiet --mode=root --variant=minbase \
			--include="$pkgs" --aptopt='Acquire::Retries "3"' \
			"$suite" "$tarball.part.tar.zst" ${sources:+"$sources"} >"$log" 2>&1; then
			tail -30 "$log" >&2
			rm -f "$tarball.part.tar.zst"
			die "mmdebstrap failed (log: $log)"
		fi
		mv "$tarball.part.tar.zst" "$tarball"
		rm -f "$log"
		echo "container.sh: built in $(($(date +%s) - t0)) s, $(du -h "$tarball" | cut -f1)" >&2
	fi
	touch "$tarball"
	# Roots nobody used for two weeks go (other package lists, old recipes).
	find "$CACHE" -maxdepth 1 -name '*.tar.zst' -mtime +14 -delete
	rm -rf "$dest"
	mkdir -p "$dest"
	zstd -dc -q "$tarball" | tar -C "$dest" --numeric-owner --xattrs --acls -xpf -
}

# ---- booting and running ----

# Our own cgroup in hierarchy $1 ("unified" is the cgroup2 line 0::).
own_cgroup() {
	case $1 in
	unified) awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup ;;
	systemd) awk -F: '$2 == "name=systemd" { print $3 }' /proc/self/cgroup ;;
	*) awk -F: -v c="$1" '$2 == c { print $3 }' /proc/self/cgroup ;;
	esac
}

# The cgroup directories ct-NAME of ours, one per hierarchy that exists.
cgroup_dirs() {
	local name=$1 h base cg
	if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
		echo "/sys/fs/cgroup$(own_cgroup unified)/ct-$name" | sed 's://*:/:g'
		return
	fi
	for h in $HIERARCHIES; do
		base=/sys/fs/cgroup/$h
		[ -d "$base" ] || continue
		cg=$(own_cgroup "$h")
		[ -n "$cg" ] || continue
		echo "$base$cg/ct-$name" | sed 's://*:/:g'
	done
}

state() { cat "$STATE/$1.$2" 2>/dev/null; }

leader() {
	local l
	l=$(state "$1" leader) || true
	[ -n "$l" ] && [ -d "/proc/$l" ] || die "container $1 is not running"
	echo "$l"
}

cmd_start() {
	local name=$1 root=$2
	[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9-]{0,40}$ ]] || die "bad container name: $name"
	root=$(realpath "$root")
	[ "$root" != / ] || die "refusing to boot the host's root"
	[ -x "$root/lib/systemd/systemd" ] || die "$root has no systemd"
	command -v systemd-nspawn >/dev/null || die "systemd-nspawn is missing (systemd-container)"
	mkdir -p "$STATE"
	[ ! -e "$STATE/$name.pid" ] || die "container $name exists (stop it first)"
	local t0 d cgs=""
	t0=$(date +%s%N)
	for d in $(cgroup_dirs "$name"); do
		mkdir -p "$d"
		cgs="$cgs $d"
	done
	echo "$cgs" >"$STATE/$name.cg"
	echo "$root" >"$STATE/$name.root"
	# nspawn turns the SIGTERM of "stop" into SIGRTMIN+3 for PID 1: a
	# clean halt (what --boot would set).
	(
		for d in $cgs; do echo "$BASHPID" >"$d/cgroup.procs"; done
		exec setsid systemd-nspawn --quiet --register=no --keep-unit \
			--private-network -M "$name" -D "$root" --console=pipe \
			--kill-signal=SIGRTMIN+3 /bin/sh -c '
				for c in memory pids; do
					[ -d /sys/fs/cgroup/$c ] &&
						mount -o remount,bind,rw /sys/fs/cgroup/$c
				done
				exec /lib/systemd/systemd' \
			</dev/null >"$STATE/$name.log" 2>&1
	) &
	local nspawn=$!
	echo "$nspawn" >"$STATE/$name.pid"
	# The leader is nspawn's child, once it is systemd.
	local l="" i
	for i in $(seq 400); do
		l=$(pgrep -P "$nspawn" | head -1 || true)
		[ -n "$l" ] && [ "$(cat "/proc/$l/comm" 2>/dev/null)" = systemd ] && break
		kill -0 "$nspawn" 2>/dev/null || { cat "$STATE/$name.log" >&2; cmd_stop "$name"; die "nspawn exited"; }
		l=""
		sleep 0.05
	done
	[ -n "$l" ] || { cmd_stop "$name"; die "no systemd in $name after 20 s"; }
	echo "$l" >"$STATE/$name.leader"
	local s=""
	for i in $(seq 600); do
		s=$(nsenter -t "$l" -a systemctl is-system-running 2>/dev/null || true)
		case $s in running | degraded) break ;; esac
		sleep 0.1
	done
	case $s in
	running | degraded) ;;
	*) cmd_stop "$name"; die "$name did not finish booting (state: $s)" ;;
	esac
	echo "container.sh: $name booted ($s) in $((($(date +%s%N) - t0) / 1000000)) ms, leader $l" >&2
	echo "$l"
}

# Inside: all namespaces of PID 1, a clean environment.
cmd_exec() {
	local name=$1
	shift
	exec nsenter -t "$(leader "$name")" -a \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root "$@"
}

# A host program in the container's network namespace only.
cmd_netns() {
	local name=$1
	shift
	exec nsenter -t "$(leader "$name")" -n "$@"
}

cmd_cp() {
	local name=$1 src=$2 dst=$3
	# /proc/PID/root resolves DST inside the container's root (absolute
	# symbolic links there do not lead out to the host).
	cp -- "$src" "/proc/$(leader "$name")/root/${dst#/}"
}

cmd_stop() {
	local name=$1 p l t0
	p=$(state "$name" pid) || true
	l=$(state "$name" leader) || true
	t0=$(date +%s%N)
	if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
		kill -TERM "$p" 2>/dev/null || true
		for _ in $(seq "${STOP_TIMEOUT:-300}"); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		# Still there: SIGKILL to the container's PID 1 ends its whole
		# PID namespace, then nspawn exits by itself.
		if kill -0 "$p" 2>/dev/null; then
			echo "container.sh: $name did not halt in time: SIGKILL to its PID 1" >&2
			[ -n "$l" ] && kill -KILL "$l" 2>/dev/null || true
			for _ in $(seq 50); do
				kill -0 "$p" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL "$p" 2>/dev/null || true
		fi
	fi
	# The kernel frees a cgroup a moment after its last task is reaped.
	local dirs left=0
	dirs=$(state "$name" cg || cgroup_dirs "$name")
	for _ in $(seq 50); do
		left=0
		for d in $dirs; do
			[ -d "$d" ] || continue
			find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
			[ -d "$d" ] && left=1
		done
		[ $left = 0 ] && break
		sleep 0.1
	done
	[ $left = 0 ] || echo "container.sh: cgroups left behind: $dirs" >&2
	rm -rf "/run/systemd/nspawn/propagate/$name"
	rm -f "$STATE/$name".{pid,leader,cg,log}
	echo "container.sh: $name stopped in $((($(date +%s%N) - t0) / 1000000)) ms" >&2
}

cmd_destroy() {
	local name=$1 root
	root=$(state "$name" root) || true
	cmd_stop "$name"
	if [ -n "$root" ] && [ "$(realpath -m "$root")" != / ]; then
		rm -rf "$root"
	fi
	rm -f "$STATE/$name.root"
}

usage() {
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

cmd=${1:-}
shift || true
case $cmd in
rootfs) [ $# = 1 ] || usage; cmd_rootfs "$1" ;;
start) [ $# = 2 ] || usage; cmd_start "$1" "$2" ;;
exec) [ $# -ge 2 ] || usage; cmd_exec "$@" ;;
netns) [ $# -ge 2 ] || usage; cmd_netns "$@" ;;
cp) [ $# = 3 ] || usage; cmd_cp "$@" ;;
leader) [ $# = 1 ] || usage; leader "$1" ;;
stop) [ $# = 1 ] || usage; cmd_stop "$1" ;;
destroy) [ $# = 1 ] || usage; cmd_destroy "$1" ;;
*) usage ;;
esac
