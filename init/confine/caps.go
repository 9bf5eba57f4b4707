package confine

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// capNames is indexed by capability number: every capability
// golang.org/x/sys knows, 0 through unix.CAP_LAST_CAP. A kernel may know
// more (its /proc/sys/kernel/cap_last_cap is higher); Apply drops those
// from the bounding set too, since no name can ask to keep them.
var capNames = [...]string{
	unix.CAP_CHOWN:              "CAP_CHOWN",
	unix.CAP_DAC_OVERRIDE:       "CAP_DAC_OVERRIDE",
	unix.CAP_DAC_READ_SEARCH:    "CAP_DAC_READ_SEARCH",
	unix.CAP_FOWNER:             "CAP_FOWNER",
	unix.CAP_FSETID:             "CAP_FSETID",
	unix.CAP_KILL:               "CAP_KILL",
	unix.CAP_SETGID:             "CAP_SETGID",
	unix.CAP_SETUID:             "CAP_SETUID",
	unix.CAP_SETPCAP:            "CAP_SETPCAP",
	unix.CAP_LINUX_IMMUTABLE:    "CAP_LINUX_IMMUTABLE",
	unix.CAP_NET_BIND_SERVICE:   "CAP_NET_BIND_SERVICE",
	unix.CAP_NET_BROADCAST:      "CAP_NET_BROADCAST",
	unix.CAP_NET_ADMIN:          "CAP_NET_ADMIN",
	unix.CAP_NET_RAW:            "CAP_NET_RAW",
	unix.CAP_IPC_LOCK:           "CAP_IPC_LOCK",
	unix.CAP_IPC_OWNER:          "CAP_IPC_OWNER",
	unix.CAP_SYS_MODULE:         "CAP_SYS_MODULE",
	unix.CAP_SYS_RAWIO:          "CAP_SYS_RAWIO",
	unix.CAP_SYS_CHROOT:         "CAP_SYS_CHROOT",
	unix.CAP_SYS_PTRACE:         "CAP_SYS_PTRACE",
	unix.CAP_SYS_PACCT:          "CAP_SYS_PACCT",
	unix.CAP_SYS_ADMIN:          "CAP_SYS_ADMIN",
	unix.CAP_SYS_BOOT:           "CAP_SYS_BOOT",
	unix.CAP_SYS_NICE:           "CAP_SYS_NICE",
	unix.CAP_SYS_RESOURCE:       "CAP_SYS_RESOURCE",
	unix.CAP_SYS_TIME:           "CAP_SYS_TIME",
	unix.CAP_SYS_TTY_CONFIG:     "CAP_SYS_TTY_CONFIG",
	unix.CAP_MKNOD:              "CAP_MKNOD",
	unix.CAP_LEASE:              "CAP_LEASE",
	unix.CAP_AUDIT_WRITE:        "CAP_AUDIT_WRITE",
	unix.CAP_AUDIT_CONTROL:      "CAP_AUDIT_CONTROL",
	unix.CAP_SETFCAP:            "CAP_SETFCAP",
	unix.CAP_MAC_OVERRIDE:       "CAP_MAC_OVERRIDE",
	unix.CAP_MAC_ADMIN:          "CAP_MAC_ADMIN",
	unix.CAP_SYSLOG:             "CAP_SYSLOG",
	unix.CAP_WAKE_ALARM:         "CAP_WAKE_ALARM",
	unix.CAP_BLOCK_SUSPEND:      "CAP_BLOCK_SUSPEND",
	unix.CAP_AUDIT_READ:         "CAP_AUDIT_READ",
	unix.CAP_PERFMON:            "CAP_PERFMON",
	unix.CAP_BPF:                "CAP_BPF",
	unix.CAP_CHECKPOINT_RESTORE: "CAP_CHECKPOINT_RESTORE",
}

// defaultCaps is the container default: podman's eleven (containers/
// common's default list), which is Docker's set less CAP_MKNOD,
// CAP_NET_RAW and CAP_AUDIT_WRITE.
//
// CAP_NET_RAW opens raw sockets: ping works without it (through the
// ICMP datagram socket where ping_group_range allows, or not at all),
// while raw sockets let root forge any packet on the container's
// network. CAP_AUDIT_WRITE writes records into the host's audit log.
// Both can be added back with Capabilities.
//
// Docker can grant CAP_MKNOD because it always installs a device cgroup
// allow-list, which stops a created node from being opened. minispawn
// installs none, so with CAP_MKNOD a container root could mknod the
// host's disk in any directory without nodev and read or write it
// (TestMknodBlockDevice makes such a node). Add it back with
// Capabilities when a device policy is in place.
var defaultCaps = []int{
	unix.CAP_CHOWN,
	unix.CAP_DAC_OVERRIDE,
	unix.CAP_FOWNER,
	unix.CAP_FSETID,
	unix.CAP_KILL,
	unix.CAP_NET_BIND_SERVICE,
	unix.CAP_SETFCAP,
	unix.CAP_SETGID,
	unix.CAP_SETPCAP,
	unix.CAP_SETUID,
	unix.CAP_SYS_CHROOT,
}

// CapabilityNames lists every capability this build knows, in number
// order ("CAP_CHOWN" first).
func CapabilityNames() []string { return append([]string(nil), capNames[:]...) }

// DefaultCapabilities lists the default container set, sorted by name.
func DefaultCapabilities() []string { return capSetOf(defaultCaps...).Names() }

// ParseCapability returns the number of a capability. It accepts
// "CAP_CHOWN", and also "chown" and "cap_chown" for hand-written
// configs; CapabilityNames gives the canonical spelling.
func ParseCapability(name string) (int, error) {
	canon := strings.ToUpper(name)
	if !strings.HasPrefix(canon, "CAP_") {
		canon = "CAP_" + canon
	}
	for n, s := range capNames {
		if s == canon {
			return n, nil
		}
	}
	return 0, fmt.Errorf("unknown capability %q (valid: %s)", name, strings.Join(capNames[:], ", "))
}

// capSet is a set of capability numbers, bit n for capability n: the
// layout capget(2) and /proc/PID/status use.
type capSet uint64

func capSetOf(caps ...int) capSet {
	var s capSet
	for _, c := range caps {
		s |= 1 << c
	}
	return s
}

// upTo is every capability 0..last.
func upTo(last int) capSet {
	if last >= 63 {
		return ^capSet(0)
	}
	return 1<<(last+1) - 1
}

func (s capSet) has(c int) bool { return s&(1<<c) != 0 }

// Names lists the set by name, sorted; an unnamed capability prints as
// its number.
func (s capSet) Names() []string {
	var out []string
	for c := 0; c < 64; c++ {
		if !s.has(c) {
			continue
		}
		if c < len(capNames) {
			out = append(out, capNames[c])
		} else {
			out = append(out, fmt.Sprintf("%d", c))
		}
	}
	slices.Sort(out)
	return out
}

func (s capSet) count() int { return bits.OnesCount64(uint64(s)) }

// String prints the set like /proc/PID/status does: 16 hex digits.
func (s capSet) String() string { return fmt.Sprintf("%016x", uint64(s)) }
