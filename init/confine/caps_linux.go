package confine

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// lastCap is the highest capability the running kernel knows. It reads
// /proc/sys/kernel/cap_last_cap and, when /proc is not mounted, probes
// the bounding set, which answers EINVAL past the last capability.
func lastCap() int {
	if b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n >= 0 && n < 64 {
			return n
		}
	}
	last := 0
	for c := 0; c < 64; c++ {
		if _, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0); err != nil {
			break
		}
		last = c
	}
	return last
}

// capName names capability c for messages.
func capName(c int) string {
	if c < len(capNames) {
		return capNames[c]
	}
	return "capability " + strconv.Itoa(c)
}

// dropBounding removes from the calling thread's bounding set every
// capability up to last that keep lacks. Capabilities already gone are
// skipped, so a thread that was confined before (miniinit's per-workload
// stage inside a confined container) does not need CAP_SETPCAP for them.
func dropBounding(keep capSet, last int) error {
	for c := 0; c <= last; c++ {
		if keep.has(c) {
			continue
		}
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
		if err != nil {
			return sysErr(err, "read %s in the bounding set", capName(c))
		}
		if in == 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			return sysErr(err, "drop %s from the bounding set", capName(c))
		}
	}
	return nil
}

// threadCaps are the calling thread's effective, permitted and
// inheritable sets.
type threadCaps struct{ eff, prm, inh capSet }

func capGet() (threadCaps, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3} // Pid 0: this thread
	var d [2]unix.CapUserData
	if err := unix.Capget(&hdr, &d[0]); err != nil {
		return threadCaps{}, sysErr(err, "capget")
	}
	join := func(lo, hi uint32) capSet { return capSet(lo) | capSet(hi)<<32 }
	return threadCaps{
		eff: join(d[0].Effective, d[1].Effective),
		prm: join(d[0].Permitted, d[1].Permitted),
		inh: join(d[0].Inheritable, d[1].Inheritable),
	}, nil
}

func capSetThread(c threadCaps) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	d := [2]unix.CapUserData{
		{Effective: uint32(c.eff), Permitted: uint32(c.prm), Inheritable: uint32(c.inh)},
		{Effective: uint32(c.eff >> 32), Permitted: uint32(c.prm >> 32), Inheritable: uint32(c.inh >> 32)},
	}
	if err := unix.Capset(&hdr, &d[0]); err != nil {
		return sysErr(err, "capset effective %s permitted %s inheritable %s", c.eff, c.prm, c.inh)
	}
	return nil
}

// clearAmbient empties the ambient set. Kernels before 4.3 have none
// and answer EINVAL, which is the same outcome.
func clearAmbient() error {
	err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
	if err != nil && err != unix.EINVAL {
		return sysErr(err, "clear the ambient capability set")
	}
	return nil
}
