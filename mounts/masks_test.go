package mounts

import (
	"fmt"
	"strings"
	"testing"
)

const defaultMasksGolden = `mount -o ro,bind /proc/bus /proc/bus # read-only, if present
mount -o ro,bind /proc/fs /proc/fs # read-only, if present
mount -o ro,bind /proc/irq /proc/irq # read-only, if present
mount -o ro,bind /proc/sys /proc/sys # read-only, if present
mount -o ro,bind /proc/sysrq-trigger /proc/sysrq-trigger # read-only, if present
mount -o ro,nosuid,noexec,bind /dev/null /proc/interrupts # mask, if present
mount -o ro,nosuid,noexec,bind /dev/null /proc/kcore # mask, if present
mount -o ro,nosuid,noexec,bind /dev/null /proc/kallsyms # mask, if present
mount -o ro,nosuid,noexec,bind /dev/null /proc/keys # mask, if present
mount -o ro,nosuid,noexec,bind /dev/null /proc/key-users # mask, if present
mount -o ro,nosuid,noexec,bind /dev/null /proc/latency_stats # mask, if present
mount -o ro,nosuid,noexec,bind /dev/null /proc/sched_debug # mask, if present
mount -o ro,nosuid,noexec,bind /dev/null /proc/timer_list # mask, if present
mount -o ro,nosuid,noexec,bind /dev/null /proc/timer_stats # mask, if present
mount -t tmpfs -o ro,nosuid,nodev,noexec,mode=555,size=4k tmpfs /proc/acpi # mask, if present
mount -t tmpfs -o ro,nosuid,nodev,noexec,mode=555,size=4k tmpfs /proc/asound # mask, if present
mount -t tmpfs -o ro,nosuid,nodev,noexec,mode=555,size=4k tmpfs /proc/scsi # mask, if present
mount -t tmpfs -o ro,nosuid,nodev,noexec,mode=555,size=4k tmpfs /sys/dev/block # mask, if present
mount -t tmpfs -o ro,nosuid,nodev,noexec,mode=555,size=4k tmpfs /sys/firmware # mask, if present
mount -t tmpfs -o ro,nosuid,nodev,noexec,mode=555,size=4k tmpfs /sys/fs/selinux # mask, if present
mount -t tmpfs -o ro,nosuid,nodev,noexec,mode=555,size=4k tmpfs /sys/devices/virtual/powercap # mask, if present
`

// TestDefaultMasksGolden pins the list of read-only and masked paths: a
// change to it is a change to what containers can see, and shows in review.
func TestDefaultMasksGolden(t *testing.T) {
	var b strings.Builder
	for _, m := range DefaultMasks() {
		if err := m.Validate(); err != nil {
			t.Errorf("default mask invalid: %v", err)
		}
		if !strings.HasPrefix(m.Target, "/proc/") && !strings.HasPrefix(m.Target, "/sys/") {
			t.Errorf("%s: masks are for /proc and /sys only", m.Target)
		}
		fmt.Fprintln(&b, m)
	}
	if got := b.String(); got != defaultMasksGolden {
		t.Errorf("default masks changed:\n%s\nwant:\n%s", got, defaultMasksGolden)
	}
}

func TestMaskStepsValidate(t *testing.T) {
	good := []Mount{
		{Kind: KindMask, Source: "/dev/null", Target: "/x", Flags: msBind | msRdonly},
		{Kind: KindMask, Source: "/dev/null", Target: "/x", Flags: msBind | msRdonly | msNosuid | msNoexec},
		{Kind: KindMask, Source: "tmpfs", Target: "/x", FSType: "tmpfs", Flags: msRdonly},
		{Kind: KindReadOnly, Source: "/x", Target: "/x", Flags: msBind | msRdonly},
		{Kind: KindReadOnly, Source: "/x", Target: "/x", Flags: msBind | msRdonly | msNoexec},
	}
	for _, m := range good {
		if err := m.Validate(); err != nil {
			t.Errorf("Validate(%+v): %v", m, err)
		}
	}
	bad := []Mount{
		{Kind: KindMask, Source: "/dev/null", Target: "/x", Flags: msBind},                  // writable
		{Kind: KindMask, Source: "tmpfs", Target: "/x", FSType: "tmpfs"},                    // writable
		{Kind: KindMask, Source: "dev/null", Target: "/x", Flags: msBind | msRdonly},        // relative device
		{Kind: KindMask, Source: "/dev/null", Target: "/x"},                                 // neither bind nor type
		{Kind: KindMask, Source: "/dev/null", Target: "/x", FSType: "tmpfs", Flags: msBind}, // both
		{Kind: KindMask, Source: "tmpfs", Target: "/x", FSType: "tmpfs", Flags: msShared},
		{Kind: KindMask, Source: "tmpfs", Target: "x", FSType: "tmpfs"},
		{Kind: KindReadOnly, Source: "/y", Target: "/x", Flags: msBind | msRdonly},         // not onto itself
		{Kind: KindReadOnly, Source: "/x", Target: "/x", Flags: msBind},                    // not read-only
		{Kind: KindReadOnly, Source: "/x", Target: "/x", Flags: msRdonly},                  // not a bind
		{Kind: KindReadOnly, Source: "/x", Target: "/x", Flags: msBind | msRdonly | msRec}, // recursive
	}
	for _, m := range bad {
		if err := m.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", m)
		}
	}
}
