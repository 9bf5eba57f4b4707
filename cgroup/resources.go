package cgroup

import (
	"errors"
	"fmt"
	"math"
)

// Resources are the limits of one container. The zero value of every field
// means "no limit" (for the weights: the kernel's default), on both
// hierarchy versions.
type Resources struct {
	// MemoryMax is the most memory, in bytes, the container may use
	// before the kernel reclaims and then OOM-kills inside it. The kernel
	// rounds it down to a whole page.
	MemoryMax int64
	// MemoryHigh is the memory use, in bytes, above which the kernel
	// throttles the container and reclaims from it, without OOM kills
	// (v2 memory.high). v1 has no such limit: there it sets
	// memory.soft_limit_in_bytes, the level v1 reclaims the cgroup down
	// to, which acts only when the whole host is short of memory.
	MemoryHigh int64
	// MemorySwap is how much swap, in bytes, the container may use on top
	// of MemoryMax, which it needs. v1 limits memory and swap together:
	// there memory.memsw.limit_in_bytes is MemoryMax + MemorySwap.
	MemorySwap int64
	// PidsMax is the most tasks (processes and threads) the container may
	// hold at once; fork and clone fail with EAGAIN beyond it.
	PidsMax int64
	// CPUQuota is the CPU time, in microseconds, the container may use
	// per CPUPeriod across all CPUs: 50000 per 100000 is half a CPU. At
	// least 1000.
	CPUQuota int64
	// CPUPeriod is the accounting period of CPUQuota in microseconds,
	// 1000 to 1000000; 0 is the kernel's default, 100000.
	CPUPeriod int64
	// CPUWeight is the container's share of CPU time against its siblings
	// when the CPUs are contended, 1 to 10000 (v2's scale; 0 is the
	// default, 100). On v1 it becomes cpu.shares, CPUWeight*1024/100, so
	// that the defaults agree (100 <-> 1024).
	CPUWeight int64
	// CpusetCpus and CpusetMems confine the container to these CPUs and
	// memory nodes, in the kernel's list format ("0-2,7"). "" is all of
	// the parent cgroup's.
	CpusetCpus string
	CpusetMems string
	// IOWeight is the container's share of block I/O against its
	// siblings, 1 to 10000 (v2 io.weight; 0 is the default, 100). On v1 it
	// is blkio.bfq.weight, 1 to 1000, which only BFQ honours.
	IOWeight int64
	// IOMax throttles I/O per block device.
	IOMax []IOMax
}

// IOMax is the bandwidth and IOPS limit on one block device (a whole disk,
// not a partition). A zero field is no limit on that count.
type IOMax struct {
	Major, Minor uint32
	// RBps and WBps are bytes per second read and written; RIOps and
	// WIOps are read and write operations per second.
	RBps, WBps, RIOps, WIOps int64
}

// Device is the device number as the kernel writes it: "MAJ:MIN".
func (m IOMax) Device() string { return fmt.Sprintf("%d:%d", m.Major, m.Minor) }

// Bounds the kernel sets on CPU bandwidth (kernel/sched/core.c): a period
// of 1ms to 1s and a quota of at least 1ms.
const (
	MinCPUPeriod     = 1000
	MaxCPUPeriod     = 1000000
	MinCPUQuota      = 1000
	DefaultCPUPeriod = 100000
	// MaxWeight bounds CPUWeight and IOWeight (v2 cpu.weight, io.weight).
	MaxWeight = 10000
	// MaxBFQWeight bounds blkio.bfq.weight, IOWeight on v1.
	MaxBFQWeight = 1000
)

// Validate reports every problem that no hierarchy would accept: negative
// values, values out of the kernel's documented ranges, a swap limit
// without a memory limit, malformed CPU or node lists. (Values only the
// running kernel can judge, such as a pids limit above PID_MAX_LIMIT or
// CPUs the host lacks, are refused by the kernel at Create; what a layout
// cannot apply, by Layout.Check.)
func (r Resources) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("cgroup limit "+format, a...)) }
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"MemoryMax", r.MemoryMax}, {"MemoryHigh", r.MemoryHigh}, {"MemorySwap", r.MemorySwap},
		{"PidsMax", r.PidsMax}, {"CPUQuota", r.CPUQuota}, {"CPUPeriod", r.CPUPeriod},
		{"CPUWeight", r.CPUWeight}, {"IOWeight", r.IOWeight},
	} {
		if f.v < 0 {
			bad("%s = %d: negative (0 means no limit)", f.name, f.v)
		}
	}
	if r.MemorySwap > 0 && r.MemoryMax == 0 {
		bad("MemorySwap = %d: needs MemoryMax (swap is allowed on top of a memory limit)", r.MemorySwap)
	}
	if r.MemorySwap > 0 && r.MemoryMax > math.MaxInt64-r.MemorySwap {
		bad("MemoryMax + MemorySwap overflows int64")
	}
	if r.CPUQuota > 0 && r.CPUQuota < MinCPUQuota {
		bad("CPUQuota = %d: below the kernel's minimum of %dus", r.CPUQuota, MinCPUQuota)
	}
	if r.CPUPeriod != 0 && (r.CPUPeriod < MinCPUPeriod || r.CPUPeriod > MaxCPUPeriod) {
		bad("CPUPeriod = %d: want %d to %d microseconds", r.CPUPeriod, MinCPUPeriod, MaxCPUPeriod)
	}
	for _, w := range []struct {
		name string
		v    int64
	}{{"CPUWeight", r.CPUWeight}, {"IOWeight", r.IOWeight}} {
		if w.v > MaxWeight {
			bad("%s = %d: want 1 to %d", w.name, w.v, MaxWeight)
		}
	}
	for _, l := range []struct{ name, v string }{{"CpusetCpus", r.CpusetCpus}, {"CpusetMems", r.CpusetMems}} {
		if l.v != "" {
			if err := checkList(l.v); err != nil {
				bad("%s = %q: %v", l.name, l.v, err)
			}
		}
	}
	seen := map[string]bool{}
	for _, m := range r.IOMax {
		dev := m.Device()
		if seen[dev] {
			bad("IOMax: device %s listed twice", dev)
		}
		seen[dev] = true
		if m.RBps < 0 || m.WBps < 0 || m.RIOps < 0 || m.WIOps < 0 {
			bad("IOMax %s: negative", dev)
		}
		if m.RBps == 0 && m.WBps == 0 && m.RIOps == 0 && m.WIOps == 0 {
			bad("IOMax %s: sets no limit", dev)
		}
	}
	return errors.Join(errs...)
}

// Check reports every limit in r that l cannot apply: one whose controller
// the host does not offer (on v2, cgroup.controllers lacks it; on v1, no
// hierarchy has it mounted), or a value the v1 file cannot hold. Limits
// left at zero never fail here: the controller is then simply not needed.
func (l *Layout) Check(r Resources) error {
	var errs []error
	for _, k := range knobs {
		if !k.isSet(r) {
			continue
		}
		if _, ok := l.Mounts[k.controller]; !ok {
			errs = append(errs, fmt.Errorf("%s needs the %s controller, which this host's %s does not offer",
				k.limitName(), controllerName(l.Version, k.controller), l.describeRoot()))
		}
	}
	if l.Version == V1 && r.IOWeight > MaxBFQWeight {
		errs = append(errs, fmt.Errorf("limits.io_weight = %d: cgroup v1 (blkio.bfq.weight) takes 1 to %d", r.IOWeight, MaxBFQWeight))
	}
	return errors.Join(uniqueErrs(errs)...)
}

// uniqueErrs drops repeated messages (IOMax has several rows on v1, one
// per file, that would each say the same).
func uniqueErrs(errs []error) []error {
	var out []error
	seen := map[string]bool{}
	for _, e := range errs {
		if !seen[e.Error()] {
			seen[e.Error()] = true
			out = append(out, e)
		}
	}
	return out
}
