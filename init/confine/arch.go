package confine

import (
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// arch is what the filter compiler needs to know about a machine.
type arch struct {
	name      string
	auditArch uint32 // seccomp_data.arch of the native ABI
	// x32Bit, when non-zero, marks syscall numbers of the x32 ABI, which
	// shares auditArch with x86_64 and must be told apart by number.
	x32Bit uint32
	sysnum map[string]uint32
	maxNr  uint32 // highest number in sysnum
}

func newArch(name string, audit, x32 uint32, table map[string]uint32) *arch {
	a := &arch{name: name, auditArch: audit, x32Bit: x32, sysnum: table}
	for _, nr := range table {
		a.maxNr = max(a.maxNr, nr)
	}
	return a
}

// The syscall tables and the arches over them are built on first use,
// not at package init: filling two maps of ~400 names is init work that
// every Go start importing this package paid for (minispawn's parent and
// second stage, miniinit), while only filter compilation and syscall-name
// checks need them.
var (
	sysnumX86_64  = sync.OnceValue(sysnumX86_64Table)
	sysnumAArch64 = sync.OnceValue(sysnumAArch64Table)
	archX86_64    = sync.OnceValue(func() *arch {
		return newArch("x86_64", unix.AUDIT_ARCH_X86_64, 0x40000000, sysnumX86_64())
	})
	archAArch64 = sync.OnceValue(func() *arch {
		return newArch("aarch64", unix.AUDIT_ARCH_AARCH64, 0, sysnumAArch64())
	})
)

// nativeArch is the architecture this binary runs on, or nil when there
// is no syscall table for it (then a seccomp profile cannot be applied).
func nativeArch() *arch {
	switch runtime.GOARCH {
	case "amd64":
		return archX86_64()
	case "arm64":
		return archAArch64()
	}
	return nil
}

// knownSyscall reports whether any supported architecture has name.
func knownSyscall(name string) bool {
	_, a := sysnumX86_64()[name]
	_, b := sysnumAArch64()[name]
	return a || b
}
