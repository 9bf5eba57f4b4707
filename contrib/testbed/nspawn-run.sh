#!/bin/bash
# Boot the test bed root with systemd-nspawn (real systemd as the container's
# PID 1), run PROGRAM in it as testbed-run.service once boot has finished,
# stream its output, power off, and exit with PROGRAM's exit status.
# Works on a host whose PID 1 is not systemd.
#
# Usage: nspawn-run.sh [options] PROGRAM [ARG...]
#        nspawn-run.sh [options] --shell
# Also usable as go test -exec "$PWD/contrib/testbed/nspawn-run.sh --cwd".
# Options:
#   --cgroup auto|legacy|unified  the container's layout. auto (default) is
#                          the host's: on a hybrid host the v1 controllers
#                          are mounted READ-ONLY and the writable cgroup2 has
#                          no controllers, so no limit can be set inside.
#   --copy PATH, --env VAR=VALUE, --share DIR, --cwd, --keep, --console
#                          as for vm-run.sh (the share is a read-only bind)
#   --bind SRC[:DST]       extra systemd-nspawn --bind (repeatable)
#   --rw-cgroup CONTROLLER make that v1 controller's hierarchy writable in
#                          the container (repeatable; e.g. memory, pids; or
#                          "all"), so that limits are set and enforced there.
#                          The container is in a child cgroup of ours in it,
#                          so all made inside is below that, and removed.
#   --timeout SECONDS      stop the container after this long (default 600)
#   --shell                interactive root shell (leave with 'poweroff', or
#                          Ctrl-] three times)
# Exit status: PROGRAM's; 124 on timeout; 125 if nspawn ended without one.
#
# Why it is built this way:
# - --register=no --keep-unit: without a systemd on the host, nspawn fails
#   at once ("Failed to open system bus") trying to register a scope.
# - nspawn makes supervisor/ and payload/ cgroups in its caller's cgroup
#   (of name=systemd and cgroup2); from a root shell that is the host's root
#   cgroup, and they stay. So it runs in a child cgroup of its own that is
#   removed afterwards.
# - --volatile=overlay: the cached root is never written.
# - --private-network: nspawn keeps CAP_NET_ADMIN only with it.
. "$(dirname "$0")/lib.sh"
tb_need_root

cgmode=auto timeout=600 keep='' shell='' share=${TESTBED_SHARE:-} binds=() rw_cgroups=()
TB_COPIES=() TB_ENVS=() TB_CWD='' TB_CONSOLE=''
while [ $# -gt 0 ]; do
	case $1 in
	--cgroup) cgmode=$2; shift 2 ;;
	--copy) TB_COPIES+=("$2"); shift 2 ;;
	--env) TB_ENVS+=("$2"); shift 2 ;;
	--share) share=$2; shift 2 ;;
	--cwd) TB_CWD=$PWD; shift ;;
	--bind) binds+=("--bind=$2"); shift 2 ;;
	--rw-cgroup) rw_cgroups+=("$2"); shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--console) TB_CONSOLE=1; shift ;;
	--shell) shell=1; shift ;;
	--) shift; break ;;
	-*) tb_die "unknown option $1" ;;
	*) break ;;
	esac
done
if [ -z "$shell" ]; then
	[ $# -ge 1 ] || tb_die "usage: nspawn-run.sh [options] PROGRAM [ARG...]  (or --shell)"
	program=$1
	shift
	[ -f "$program" ] || tb_die "no such program: $program"
fi
[ -z "$share" ] || share=$(cd "$share" && pwd)
if [ -n "$TB_CWD" ] && [ -z "$share" ]; then
	share=$TB_CWD
elif [ -n "$TB_CWD" ]; then
	case $TB_CWD/ in "$share"/*) ;; *) tb_die "--cwd $TB_CWD is outside --share $share" ;; esac
fi
# SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: unset = like the host, 0 = legacy (not
# hybrid!), 1 = unified.
case $cgmode in
auto) unset SYSTEMD_NSPAWN_UNIFIED_HIERARCHY ;;
legacy) export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=0 ;;
unified) export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 ;;
*) tb_die "--cgroup wants auto, legacy or unified" ;;
esac
command -v systemd-nspawn >/dev/null || tb_die "systemd-nspawn missing: run deps.sh nspawn"
"$TESTBED_DIR/mkrootfs.sh" >&2
tb_lock shared

run=$(tb_new_run ns)
machine=testbed-${run##*.}
init_args=()
if [ -z "$shell" ]; then
	tb_fill_run "$run" "$program" "$@"
	init_args=(systemd.wants=testbed-run.service systemd.mask=console-getty.service)
	if [ -n "$share" ]; then
		echo "$share" >"$run/.share"
		binds+=("--bind-ro=$share")
	fi
fi

# The hierarchies nspawn manages itself (cgroup2, and name=systemd on a
# hybrid or legacy host) and the v1 controllers made writable: the
# container runs in a child cgroup of ours in each, removed afterwards.
# Lines "MOUNTPOINT CGROUP", CGROUP being ours in that hierarchy.
cghier=()
own_cgroup() { # FSTYPE OPTS: our cgroup in that hierarchy
	local id ctrls path c
	while IFS=: read -r id ctrls path; do
		if [ "$1" = cgroup2 ]; then
			[ "$id" != 0 ] || { echo "$path"; return; }
			continue
		fi
		# A v1 line names the hierarchy as its mount options do:
		# controllers, or name=systemd.
		for c in ${ctrls//,/ }; do
			case ,$2, in *,"$c",*) echo "$path"; return ;; esac
		done
	done </proc/self/cgroup
}
while read -r _ mnt fstype opts _; do
	want=
	case $fstype in
	cgroup2) want=1 ;;
	cgroup)
		case ,$opts, in
		*,name=systemd,*) want=1 ;;
		*)
			for c in "${rw_cgroups[@]}"; do
				[ "$c" = all ] || case ,$opts, in *,"$c",*) ;; *) continue ;; esac
				want=1
				# nspawn mounts the v1 hierarchies read-only at the same
				# paths; guest/testbed-run remounts these read-write.
				echo "${mnt##*/}" >>"$run/.rw-cgroups"
				break
			done
			;;
		esac
		;;
	esac
	[ -z "$want" ] || cghier+=("$mnt $(own_cgroup "$fstype" "$opts")")
done </proc/self/mounts
enter_cgroups() { # in the subshell that then execs nspawn
	local h dir
	for h in "${cghier[@]}"; do
		dir=${h%% *}${h#* }
		dir=${dir%/}/$machine
		mkdir -p "$dir"
		echo "$dir" >>"$run/.cgroups"
		# A new v1 cpuset has no CPUs nor memory nodes: nothing could join.
		if [ -f "$dir/cpuset.cpus" ]; then
			cat "$dir/../cpuset.cpus" >"$dir/cpuset.cpus"
			cat "$dir/../cpuset.mems" >"$dir/cpuset.mems"
		fi
		echo "$BASHPID" >"$dir/cgroup.procs"
	done
}
cleanup() {
	local d
	if [ -f "$run/.cgroups" ]; then
		while read -r d; do
			[ ! -d "$d" ] || find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
			[ ! -d "$d" ] || tb_log "warning: cannot remove cgroup $d"
		done <"$run/.cgroups"
		rm -f "$run/.cgroups"
	fi
	# nspawn leaves this when /run is not a tmpfs (it will not rm -rf a disk).
	rm -rf "/run/systemd/nspawn/propagate/$machine"
}
nspawn=(systemd-nspawn -q -b -D "$TESTBED_ROOTFS" --machine="$machine" --register=no --keep-unit
	--volatile=overlay --private-network --bind="$run:/testbed" "${binds[@]}")

if [ -n "$shell" ]; then
	tb_log "interactive container (cgroup $cgmode): leave with 'poweroff' or Ctrl-] x3"
	rc=0
	(enter_cgroups && exec "${nspawn[@]}") || rc=$?
	cleanup
	rm -rf "$run"
	exit "$rc"
fi

tb_log "booting container $machine (cgroup $cgmode), run dir $run"
t0=$(date +%s.%N)
(
	enter_cgroups
	exec timeout -k 10 "$timeout" "${nspawn[@]}" -- "${init_args[@]}" </dev/null >"$run/console.log" 2>&1
) &
ct=$!
# If this script is stopped, the container goes with it (SIGTERM to
# timeout, which passes it on; nspawn then stops the container).
trap '[ -z "$ct" ] || { kill -TERM "$ct" 2>/dev/null; wait "$ct" 2>/dev/null; }; cleanup' EXIT
trap 'exit 130' INT TERM HUP
erc=0
tb_stream "$run" "$ct" || erc=$?
ct=
cleanup
exit "$(tb_result "$run" "$erc" "$t0" "$keep")"
