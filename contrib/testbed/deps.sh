#!/bin/bash
# Install, with apt, the host packages the test bed needs; only those missing.
#   debootstrap, e2fsprogs  build the guest root and its ext4 image (always)
#   qemu-system-x86         the VM (component "vm")
#   systemd-container       systemd-nspawn (component "nspawn")
# Usage: deps.sh [vm] [nspawn]     (no argument: both)
. "$(dirname "$0")/lib.sh"
tb_need_root

pkgs=(debootstrap e2fsprogs)
[ $# -gt 0 ] || set -- vm nspawn
for c in "$@"; do
	case $c in
	vm) pkgs+=(qemu-system-x86) ;;
	nspawn) pkgs+=(systemd-container) ;;
	*) tb_die "unknown component '$c' (vm, nspawn)" ;;
	esac
done
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0

export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have stale lists, and another apt run may hold the
# dpkg lock for a while: update first, and wait for the lock.
apt=(apt-get -q -y -o DPkg::Lock::Timeout=600)
tb_time "apt-get update" "${apt[@]}" update >/dev/null
tb_time "apt-get install ${missing[*]}" "${apt[@]}" install --no-install-recommends "${missing[@]}" >/dev/null
