package confine

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Rlimit is a resource limit pair. Unlimited (RLIM_INFINITY) means none.
type Rlimit struct {
	Soft uint64
	Hard uint64
}

// Unlimited is RLIM_INFINITY.
const Unlimited = ^uint64(0)

func (r Rlimit) String() string {
	return "soft " + limitString(r.Soft) + ", hard " + limitString(r.Hard)
}

func limitString(v uint64) string {
	if v == Unlimited {
		return "unlimited"
	}
	return strconv.FormatUint(v, 10)
}

// rlimitNames maps the names of prlimit(1) and the shell's ulimit (lower
// case, no RLIMIT_ prefix) to resource numbers.
var rlimitNames = map[string]int{
	"as":         unix.RLIMIT_AS,
	"core":       unix.RLIMIT_CORE,
	"cpu":        unix.RLIMIT_CPU,
	"data":       unix.RLIMIT_DATA,
	"fsize":      unix.RLIMIT_FSIZE,
	"locks":      unix.RLIMIT_LOCKS,
	"memlock":    unix.RLIMIT_MEMLOCK,
	"msgqueue":   unix.RLIMIT_MSGQUEUE,
	"nice":       unix.RLIMIT_NICE,
	"nofile":     unix.RLIMIT_NOFILE,
	"nproc":      unix.RLIMIT_NPROC,
	"rss":        unix.RLIMIT_RSS,
	"rtprio":     unix.RLIMIT_RTPRIO,
	"rttime":     unix.RLIMIT_RTTIME,
	"sigpending": unix.RLIMIT_SIGPENDING,
	"stack":      unix.RLIMIT_STACK,
}

// RlimitNames lists the resource names Spec.Rlimits accepts, sorted.
func RlimitNames() []string { return sortedKeys(rlimitNames) }

// ParseRlimit returns the resource number of a limit name: "nofile", or
// the OCI spelling "RLIMIT_NOFILE".
func ParseRlimit(name string) (int, error) {
	key := strings.TrimPrefix(strings.ToLower(name), "rlimit_")
	if r, ok := rlimitNames[key]; ok {
		return r, nil
	}
	return 0, fmt.Errorf("unknown rlimit %q (valid: %s)", name, strings.Join(RlimitNames(), ", "))
}

// rlimitName is the inverse of ParseRlimit, for messages.
func rlimitName(resource int) string {
	for name, r := range rlimitNames {
		if r == resource {
			return name
		}
	}
	return "rlimit " + strconv.Itoa(resource)
}
