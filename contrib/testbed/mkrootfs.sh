#!/bin/bash
# Build the Debian 12 root shared by the VM and the nspawn container, once.
#
# Under $TESTBED_CACHE:
#   debs/     debootstrap's package cache (a rebuild downloads nothing)
#   base/     stage 1: debootstrap minbase + $TESTBED_PACKAGES, pruned, with
#             a small initrd. Slow (~110 s); redone only when the suite, the
#             package list or BASE_VERSION change.
#   rootfs/   stage 2: a copy of base/ with the test bed's configuration and
#             guest/ files. Fast (~3 s); redone when this script or
#             guest/ change (stamp: rootfs/.testbed-stamp).
#   vmlinuz, initrd.img, kernel-config   for vm-run.sh's direct kernel boot
# Usage: mkrootfs.sh [--force]
. "$(dirname "$0")/lib.sh"
tb_need_root

force=
[ "${1:-}" != --force ] || force=1
base=$TESTBED_CACHE/base
# Bump when the stage 1 steps below change.
BASE_VERSION=1
base_stamp="$BASE_VERSION $TESTBED_SUITE $TESTBED_PACKAGES"
inputs=("$TESTBED_DIR/mkrootfs.sh")
while IFS= read -r f; do inputs+=("$f"); done < <(find "$TESTBED_DIR/guest" -type f | LC_ALL=C sort)
stamp=$(tb_hash "${inputs[@]}" <(echo "$base_stamp"))

up_to_date() {
	[ -z "$force" ] && [ "$(cat "$TESTBED_ROOTFS/.testbed-stamp" 2>/dev/null)" = "$stamp" ] &&
		[ -f "$TESTBED_CACHE/vmlinuz" ] && [ -f "$TESTBED_CACHE/initrd.img" ]
}
up_to_date && exit 0
# Wait for runs using the old tree to end; another build may have just
# made this one.
tb_lock exclusive
up_to_date && exit 0
# rm -rf of a tree with a live mount inside would reach into that mount.
for d in "$base" "$TESTBED_ROOTFS"; do
	! grep -q " ${d}[/ .]" /proc/self/mountinfo || tb_die "something is mounted under $d: unmount it first"
done

# Stage 1. debootstrap mounts /proc and /sys in the target; a private mount
# namespace keeps them (and any a failure leaves) off the host.
build_base() {
	local new=$base.new kver mods
	command -v debootstrap >/dev/null || tb_die "debootstrap missing: run deps.sh"
	mkdir -p "$TESTBED_CACHE/debs"
	bootstrap() {
		rm -rf "$new"
		unshare --mount --propagation private \
			debootstrap --variant=minbase --include="$TESTBED_PACKAGES" --cache-dir="$TESTBED_CACHE/debs" \
			"$TESTBED_SUITE" "$new" "$(tb_mirror)" >"$TESTBED_CACHE/debootstrap.log" 2>&1
	}
	# One retry: a fresh CI machine may meet a passing mirror error.
	tb_time "debootstrap $TESTBED_SUITE" bootstrap ||
		{ tb_log "debootstrap failed; retrying once"; tb_time "debootstrap (retry)" bootstrap; } ||
		{ tail -n 30 "$TESTBED_CACHE/debootstrap.log" >&2; tb_die "debootstrap failed"; }

	kver=$(basename "$(ls -d "$new"/lib/modules/*/ | head -n1)")
	# A virtio VM needs few modules: dropping hardware drivers and unused
	# file systems shrinks the tree from ~390 MB to ~100 MB.
	mods=$new/lib/modules/$kver/kernel
	rm -rf "$mods"/drivers/{gpu,media,net/wireless,net/ethernet,infiniband,staging,usb,bluetooth,iio,isdn,mtd,hid,input,video,sound,thunderbolt,nfc,platform,hwmon,leds,mfd,power,regulator,w1,comedi,misc,atm,firewire,parport,pcmcia,ata,md} \
		"$mods"/drivers/scsi/{qla2xxx,lpfc,mpt3sas,be2iscsi,bfa,qedf,qedi} "$mods"/sound \
		"$mods"/net/{wireless,mac80211,bluetooth,nfc,can,ieee802154,6lowpan,mac802154} \
		"$mods"/fs/{ocfs2,gfs2,ubifs,jffs2,nfs,nfsd,ceph,smb,cifs,btrfs,xfs,f2fs,reiserfs,jfs,nilfs2,orangefs,afs,coda,dlm}
	chroot "$new" depmod -a "$kver"
	# initrd with only virtio, ext4 and 9p (MODULES=list): a few MB instead
	# of 36, which saves seconds per boot under TCG.
	echo MODULES=list >"$new/etc/initramfs-tools/conf.d/testbed.conf"
	printf '%s\n' virtio_pci virtio_blk virtio_console virtio_rng ext4 9p 9pnet_virtio >>"$new/etc/initramfs-tools/modules"
	tb_time "update-initramfs" unshare --mount --propagation private sh -c \
		'mount -t proc proc "$1/proc" && chroot "$1" update-initramfs -u -k "$2"' sh "$new" "$kver" >/dev/null
	rm -rf "$new"/var/cache/apt/archives/*.deb "$new"/var/lib/apt/lists/* \
		"$new"/usr/share/doc/* "$new"/usr/share/man/* "$new"/usr/share/locale/*
	echo "$base_stamp" >"$new/.testbed-base"
	rm -rf "$base"
	mv "$new" "$base"
}

# Stage 2: what makes the copy a test bed.
configure() {
	local r=$1 kver d u
	echo testbed >"$r/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\ttestbed\n' >"$r/etc/hosts"
	# Empty fstab: the VM's root comes from root= and nspawn mounts its own.
	echo '# testbed: empty on purpose' >"$r/etc/fstab"
	# A machine-id set once, so that no boot is a "first boot".
	od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$r/etc/machine-id"
	echo >>"$r/etc/machine-id"
	chroot "$r" passwd -d root >/dev/null
	install -D -m 0644 "$TESTBED_DIR/guest/journald.conf" "$r/etc/systemd/journald.conf.d/testbed.conf"
	install -D -m 0644 "$TESTBED_DIR/guest/testbed-run.service" "$r/etc/systemd/system/testbed-run.service"
	install -D -m 0755 "$TESTBED_DIR/guest/testbed-run" "$r/usr/local/sbin/testbed-run"
	for d in serial-getty@ttyS0.service.d console-getty.service.d; do
		install -D -m 0644 "$TESTBED_DIR/guest/autologin.conf" "$r/etc/systemd/system/$d/autologin.conf"
	done
	mkdir -p "$r/testbed"
	# Timers that would only add load to a test boot.
	for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer dpkg-db-backup.timer; do
		ln -sfn /dev/null "$r/etc/systemd/system/$u"
	done
	# The VM boots kernel and initrd directly; they need not be in the image.
	kver=$(basename "$(ls -d "$r"/lib/modules/*/ | head -n1)")
	cp "$r/boot/vmlinuz-$kver" "$TESTBED_CACHE/vmlinuz"
	cp "$r/boot/initrd.img-$kver" "$TESTBED_CACHE/initrd.img"
	cp "$r/boot/config-$kver" "$TESTBED_CACHE/kernel-config"
	rm -f "$r/boot/vmlinuz-$kver" "$r/boot/initrd.img-$kver" "$r/boot/System.map-$kver"
}

if [ -n "$force" ] || [ "$(cat "$base/.testbed-base" 2>/dev/null)" != "$base_stamp" ]; then
	build_base
fi
rm -rf "$TESTBED_ROOTFS" "$TESTBED_ROOTFS.new"
tb_time "copy base" cp -a "$base" "$TESTBED_ROOTFS.new"
tb_time "configure rootfs" configure "$TESTBED_ROOTFS.new"
rm -f "$TESTBED_ROOTFS.new/.testbed-base"
echo "$stamp" >"$TESTBED_ROOTFS.new/.testbed-stamp"
mv "$TESTBED_ROOTFS.new" "$TESTBED_ROOTFS"
tb_log "rootfs ready: $TESTBED_ROOTFS ($(du -sh "$TESTBED_ROOTFS" | cut -f1))"
