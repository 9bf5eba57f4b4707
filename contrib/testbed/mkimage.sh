#!/bin/bash
# Make the VM's root disk once: a sparse raw ext4 image of mkrootfs.sh's
# tree, written by mkfs.ext4 -d (no loop device, no mount). vm-run.sh boots
# it with snapshot=on, so the image is never changed by a run.
# Output: $TESTBED_CACHE/rootfs.img, rebuilt when the rootfs' stamp changes.
# Env: TESTBED_IMG_SIZE (apparent size, default 2G: the rest is free space
# for the tests).
. "$(dirname "$0")/lib.sh"
tb_need_root

"$TESTBED_DIR/mkrootfs.sh"
size=${TESTBED_IMG_SIZE:-2G}
stamp="$(cat "$TESTBED_ROOTFS/.testbed-stamp") $size"
up_to_date() { [ -f "$TESTBED_IMG" ] && [ "$(cat "$TESTBED_IMG.stamp" 2>/dev/null)" = "$stamp" ]; }
up_to_date && exit 0
tb_lock exclusive
up_to_date && exit 0
rm -f "$TESTBED_IMG" "$TESTBED_IMG.stamp" "$TESTBED_IMG.new"
truncate -s "$size" "$TESTBED_IMG.new"
tb_time "mkfs.ext4 -d ($size)" mkfs.ext4 -q -F -L testbed-root -d "$TESTBED_ROOTFS" "$TESTBED_IMG.new" "$size"
mv "$TESTBED_IMG.new" "$TESTBED_IMG"
echo "$stamp" >"$TESTBED_IMG.stamp"
tb_log "image ready: $TESTBED_IMG ($(du -h "$TESTBED_IMG" | cut -f1) used)"
