# shellcheck shell=bash
# Settings and helpers shared by the testbed scripts (sourced, not run).
#
# Every artefact lives under $TESTBED_CACHE (default
# /var/tmp/minispawn-testbed); nothing else on the host is written except
# what deps.sh installs with apt and the VM's snapshot overlay in $TMPDIR.

set -euo pipefail

TESTBED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TESTBED_CACHE=${TESTBED_CACHE:-/var/tmp/minispawn-testbed}
TESTBED_SUITE=bookworm
TESTBED_ROOTFS=$TESTBED_CACHE/rootfs
TESTBED_IMG=$TESTBED_CACHE/rootfs.img

# Guest packages on top of debootstrap's minbase. The tests build container
# roots from the guest's own /bin/sh, /bin/ps, /bin/busybox..., so procps and
# busybox-static must be here; perl-base and hostname come with minbase.
# linux-image-amd64 pulls in initramfs-tools: the initrd is made in the chroot.
TESTBED_PACKAGES=systemd,systemd-sysv,dbus,udev,kmod,procps,iproute2,busybox-static,linux-image-amd64

tb_log() { printf '[testbed %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
tb_die() {
	tb_log "ERROR: $*"
	exit 1
}
tb_need_root() { [ "$(id -u)" = 0 ] || tb_die "must run as root"; }

# tb_time LABEL CMD...: run CMD and log how long it took.
tb_time() {
	local label=$1 t0 rc=0
	shift
	t0=$(date +%s.%N)
	"$@" || rc=$?
	tb_log "$(awk -v a="$t0" -v b="$(date +%s.%N)" -v l="$label" -v r="$rc" \
		'BEGIN {printf "%-26s %6.1f s (rc=%d)", l, b - a, r}')"
	return "$rc"
}

# tb_mirror: the Debian mirror the host's own apt uses (TESTBED_MIRROR wins),
# so no script hard-codes a host.
tb_mirror() {
	local m=${TESTBED_MIRROR:-}
	[ -n "$m" ] || m=$(grep -hs -E '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources |
		awk '{for (i = 2; i <= NF; i++) print $i}' | grep -E '/debian/?$' | head -n1 || true)
	[ -n "$m" ] || m=$(grep -hs -E '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
		awk '{for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) {print $i; break}}' |
		grep -E '/debian/?$' | head -n1 || true)
	[ -n "$m" ] || tb_die "no Debian mirror in /etc/apt; set TESTBED_MIRROR"
	echo "${m%/}"
}

# tb_lock shared|exclusive: take the cache lock, held until this process
# and its children exit. Runs hold it shared while they use rootfs/ and the
# image; a rebuild holds it exclusive, so it never replaces a tree that a
# container runs on, and two builds never race.
tb_lock() {
	mkdir -p "$TESTBED_CACHE"
	exec 9>>"$TESTBED_CACHE/.lock"
	flock "--$1" 9
}

# tb_hash FILE...: short digest of the inputs of an artefact (for stamps).
tb_hash() { cat "$@" | sha256sum | cut -c1-16; }

# ---- run directories: shared by vm-run.sh and nspawn-run.sh ----------------
#
# A run directory is the guest's /testbed:
#   script      the program (a copy), run      execs it with its arguments
#   .env        VAR='value' lines          .cwd  directory to run in
#   output.log  the program's output       status.log  start/end markers
#   rc          the program's exit status, written last by guest/testbed-run

# tb_new_run KIND: make a run directory and print its path.
tb_new_run() {
	mkdir -p "$TESTBED_CACHE/runs"
	local run
	run=$(mktemp -d "$TESTBED_CACHE/runs/$1.XXXXXX")
	chmod 0755 "$run"
	echo "$run"
}

# tb_quote WORD: WORD in single quotes, safe for sh.
tb_quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

# tb_fill_run RUN PROGRAM [ARG...]; reads the arrays TB_COPIES and TB_ENVS
# and TB_CWD (a directory or empty).
tb_fill_run() {
	local run=$1 program=$2 a
	shift 2
	cp "$program" "$run/script"
	{
		printf '#!/bin/sh\nexec /testbed/script'
		for a in "$@"; do printf ' %s' "$(tb_quote "$a")"; done
		echo
	} >"$run/run"
	chmod 0755 "$run/run" "$run/script"
	for a in "${TB_COPIES[@]}"; do cp -a "$a" "$run/"; done
	: >"$run/.env"
	for a in "${TB_ENVS[@]}"; do
		case $a in *=*) ;; *) tb_die "--env wants VAR=VALUE, got '$a'" ;; esac
		printf '%s=%s\n' "${a%%=*}" "$(tb_quote "${a#*=}")" >>"$run/.env"
	done
	[ -z "$TB_CWD" ] || echo "$TB_CWD" >"$run/.cwd"
}

# tb_stream RUN PID: while PID runs, copy the program's output to stdout and
# the markers to stderr; return PID's exit status.
tb_stream() {
	local run=$1 pid=$2 tails=() rc=0
	tail -s 0.2 -n +1 -F --pid="$pid" "$run/output.log" 2>/dev/null &
	tails+=($!)
	tail -s 0.2 -n +1 -F --pid="$pid" "$run/status.log" >&2 2>/dev/null &
	tails+=($!)
	if [ -n "${TB_CONSOLE:-}" ]; then
		tail -s 0.2 -n +1 -F --pid="$pid" "$run/console.log" >&2 2>/dev/null &
		tails+=($!)
	fi
	wait "$pid" || rc=$?
	wait "${tails[@]}" 2>/dev/null || true
	return "$rc"
}

# tb_result RUN ENGINE_RC T0 KEEP: log the outcome and print the exit status
# to use: the program's, 124 when the engine timed out, 125 when it ended
# without a result. RUN is removed unless KEEP is set or there was no result
# (then console.log is the only evidence; the program's output was streamed).
tb_result() {
	local run=$1 erc=$2 t0=$3 keep=$4 rc wall
	wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
	if [ -f "$run/rc" ]; then
		rc=$(cat "$run/rc")
		tb_log "program exited $rc; wall time ${wall}s"
	else
		case $erc in 124 | 137) rc=124 ;; *) rc=125 ;; esac
		tb_log "no result (engine exit $erc) after ${wall}s; last console lines:"
		tail -n 40 "$run/console.log" >&2 || true
	fi
	if [ -f "$run/rc" ] && [ -z "$keep" ]; then
		rm -rf "$run"
	else
		tb_log "run directory kept: $run"
	fi
	echo "$rc"
}
