#!/bin/bash
# Boot the test bed VM (Debian 12 kernel and systemd, cgroup v2 unified by
# default), run PROGRAM in it as testbed-run.service once boot has finished,
# stream its output, power off, and exit with PROGRAM's exit status.
#
# Usage: vm-run.sh [options] PROGRAM [ARG...]
#        vm-run.sh [options] --shell
# PROGRAM is a script or a static executable, so this works as
#        CGO_ENABLED=0 go test -p 1 -exec "$PWD/contrib/testbed/vm-run.sh --cwd" ./pkg
# Options:
#   --cgroup v2|hybrid|v1  the layout systemd sets up in the guest (default v2)
#   --copy PATH            copy a file or directory into /testbed (repeatable)
#   --env VAR=VALUE        set in PROGRAM's environment (repeatable)
#   --share DIR            share the host's DIR read-only at the same path
#                          (default: $TESTBED_SHARE)
#   --cwd                  run in the current directory (shared read-only,
#                          unless it is inside the --share DIR); go test
#                          -exec needs this for testdata/
#   --timeout SECONDS      kill the VM after this long (default 1200)
#   --smp N, --mem MiB     vCPUs (default 2) and memory (default 2048)
#   --keep                 keep the run directory (always kept on failure)
#   --console              also stream the guest console to stderr
#   --shell                interactive root shell on the serial console
#                          (leave with 'poweroff', or Ctrl-A x)
# stdout: PROGRAM's output (stdout and stderr merged); stderr: progress.
# Exit status: PROGRAM's; 124 on timeout; 125 if the VM ended without one.
#
# Why it is built this way (see README.md for the measurements):
# - TCG, never KVM, unless the CPU shows vmx/svm: this machine kind's
#   /dev/kvm is KVM-PVM, where Debian's kernel hangs without a word.
# - -cpu qemu64,-svm: -cpu max makes glibc take AVX-512 paths that TCG
#   emulates slowly (a boot takes 26-39 s instead of ~20 s).
# - The root disk is snapshot=on: runs never change the cached image.
# - /testbed is a 9p share of the run directory: needs no daemon, and the
#   result files arrive even if the guest then dies.
. "$(dirname "$0")/lib.sh"
tb_need_root

cgroup=v2 timeout=1200 smp=2 mem=2048 keep='' shell='' share=${TESTBED_SHARE:-}
TB_COPIES=() TB_ENVS=() TB_CWD='' TB_CONSOLE=''
while [ $# -gt 0 ]; do
	case $1 in
	--cgroup) cgroup=$2; shift 2 ;;
	--copy) TB_COPIES+=("$2"); shift 2 ;;
	--env) TB_ENVS+=("$2"); shift 2 ;;
	--share) share=$2; shift 2 ;;
	--cwd) TB_CWD=$PWD; shift ;;
	--timeout) timeout=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--console) TB_CONSOLE=1; shift ;;
	--shell) shell=1; shift ;;
	--) shift; break ;;
	-*) tb_die "unknown option $1" ;;
	*) break ;;
	esac
done
if [ -z "$shell" ]; then
	[ $# -ge 1 ] || tb_die "usage: vm-run.sh [options] PROGRAM [ARG...]  (or --shell)"
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
case $cgroup in
v2 | unified) cgargs="systemd.unified_cgroup_hierarchy=1" ;;
hybrid) cgargs="systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=0" ;;
v1 | legacy) cgargs="systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=1" ;;
*) tb_die "--cgroup wants v2, hybrid or v1" ;;
esac
command -v qemu-system-x86_64 >/dev/null || tb_die "qemu-system-x86_64 missing: run deps.sh vm"
"$TESTBED_DIR/mkimage.sh" >&2
tb_lock shared

accel=${TESTBED_ACCEL:-auto}
if [ "$accel" = auto ]; then
	accel=tcg
	if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then accel=kvm; fi
fi
case $accel in
kvm) accel_args=(-accel kvm -cpu host) ;;
tcg) accel_args=(-accel tcg,thread=multi,tb-size=512 -cpu qemu64,-svm) ;;
*) tb_die "TESTBED_ACCEL wants auto, kvm or tcg" ;;
esac

run=$(tb_new_run vm)
kargs="console=ttyS0 root=/dev/vda rw rootfstype=ext4 fsck.mode=skip panic=-1 mitigations=off $cgargs"
virtfs=(-virtfs "local,path=$run,mount_tag=testbed,security_model=none,id=testbed")
if [ -z "$shell" ]; then
	tb_fill_run "$run" "$program" "$@"
	kargs="$kargs systemd.wants=testbed-run.service systemd.mask=serial-getty@ttyS0.service"
	if [ -n "$share" ]; then
		echo "$share" >"$run/.share"
		virtfs+=(-virtfs "local,path=$share,mount_tag=share,security_model=none,readonly=on,id=share")
	fi
fi
qemu=(qemu-system-x86_64 -nodefaults -no-user-config -machine q35 "${accel_args[@]}"
	-smp "$smp" -m "$mem" -display none -no-reboot
	-kernel "$TESTBED_CACHE/vmlinuz" -initrd "$TESTBED_CACHE/initrd.img" -append "$kargs"
	-drive "file=$TESTBED_IMG,format=raw,if=virtio,snapshot=on,cache=unsafe"
	"${virtfs[@]}" -device virtio-rng-pci)
# qemu keeps the snapshot overlay in TMPDIR (deleted when it exits).
export TMPDIR=${TMPDIR:-/var/tmp}

if [ -n "$shell" ]; then
	tb_log "interactive VM ($accel, cgroup $cgroup): leave with 'poweroff' or Ctrl-A x"
	rc=0
	"${qemu[@]}" -serial mon:stdio || rc=$?
	rm -rf "$run"
	exit "$rc"
fi

tb_log "booting VM ($accel, $smp vCPUs, $mem MiB, cgroup $cgroup), run dir $run"
t0=$(date +%s.%N)
# timeout -k: a qemu that ignores SIGTERM is SIGKILLed 10 s later. If this
# script is stopped (go test's own timeout, Ctrl-C), the VM goes with it.
timeout -k 10 "$timeout" "${qemu[@]}" -serial "file:$run/console.log" </dev/null >"$run/qemu.log" 2>&1 &
vm=$!
trap '[ -z "$vm" ] || { kill -TERM "$vm" 2>/dev/null; wait "$vm" 2>/dev/null; }' EXIT
trap 'exit 130' INT TERM HUP
erc=0
tb_stream "$run" "$vm" || erc=$?
vm=
[ "$erc" = 0 ] || [ ! -s "$run/qemu.log" ] || cat "$run/qemu.log" >&2
exit "$(tb_result "$run" "$erc" "$t0" "$keep")"
