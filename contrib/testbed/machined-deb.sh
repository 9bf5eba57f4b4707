#!/bin/bash
# Prints the path of a systemd-container package (systemd-machined and
# machinectl) matching the test bed root's systemd, downloading it into
# $TESTBED_CACHE/extra-debs once with apt-get download. The root leaves
# it out (debootstrap --variant=minbase plus a short list); the systemd
# tier installs it in its throwaway overlay to check machined
# registration. Prints nothing when it cannot be had (offline).
. "$(dirname "$0")/lib.sh"
ver=$(dpkg-query --admindir="$TESTBED_ROOTFS/var/lib/dpkg" -W -f='${Version}' systemd 2>/dev/null) || exit 0
dir=$TESTBED_CACHE/extra-debs
deb=$(ls "$dir"/systemd-container_"${ver//:/%3a}"_*.deb 2>/dev/null | head -n1 || true)
if [ -z "$deb" ]; then
	mkdir -p "$dir"
	(cd "$dir" && apt-get download -q "systemd-container=$ver" >&2) || { tb_log "cannot download systemd-container $ver"; exit 0; }
	deb=$(ls "$dir"/systemd-container_*.deb 2>/dev/null | head -n1 || true)
fi
echo "$deb"
