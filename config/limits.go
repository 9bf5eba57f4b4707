package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Bounds of the [limits] keys: the kernel's own (kernel/sched/core.c for
// CPU bandwidth, cgroup v2 for the weights), so that a file that passes
// here is not refused by the first kernel it meets for a reason it could
// have known.
const (
	// MinCPUPeriod and MaxCPUPeriod bound cpu_max's period, MinCPUQuota
	// its quota, in microseconds.
	MinCPUPeriod = 1000
	MaxCPUPeriod = 1000000
	MinCPUQuota  = 1000
	// CPUPeriod is the period cpu is applied over, the kernel's default.
	CPUPeriod = 100000
	// MaxWeight bounds cpu_weight and io_weight.
	MaxWeight = 10000
	// maxCPUs bounds cpu: far more than any machine, small enough that
	// the quota never overflows.
	maxCPUs = 1 << 20
)

// CPUs is a number of CPUs' worth of CPU time, in thousandths: cpu = "0.5"
// is 500. It is written as a decimal string with at most three decimals.
type CPUs struct{ Milli int64 }

// UnmarshalText reads "0.5", "2" or "1.25".
func (c *CPUs) UnmarshalText(text []byte) error {
	s := string(text)
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || !allDigits(whole) || hasFrac && (frac == "" || len(frac) > 3 || !allDigits(frac)) {
		return fmt.Errorf(`%q is not a number of CPUs (write digits with at most 3 decimals, as in "0.5" or "2")`, text)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > maxCPUs {
		return fmt.Errorf("%q is too many CPUs (at most %d)", text, maxCPUs)
	}
	frac += strings.Repeat("0", 3-len(frac))
	f, _ := strconv.ParseInt(frac, 10, 64)
	c.Milli = w*1000 + f
	return nil
}

// MarshalText writes c so that UnmarshalText reads it back.
func (c CPUs) MarshalText() ([]byte, error) {
	s := strconv.FormatInt(c.Milli/1000, 10)
	if f := c.Milli % 1000; f != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%03d", f), "0")
	}
	return []byte(s), nil
}

func (*CPUs) tomlWant() string { return `a number of CPUs as a string, like "0.5"` }

// Quota is the CPU time c allows per CPUPeriod, in microseconds.
func (c CPUs) Quota() int64 { return c.Milli * CPUPeriod / 1000 }

// CPUMax is CPU bandwidth in the kernel's own terms: Quota microseconds of
// CPU time per Period microseconds.
type CPUMax struct{ Quota, Period int64 }

// UnmarshalText reads "QUOTA PERIOD" or "QUOTA" (the period is then
// CPUPeriod), in microseconds: "50000 100000" is half a CPU.
func (m *CPUMax) UnmarshalText(text []byte) error {
	f := strings.Fields(string(text))
	if len(f) < 1 || len(f) > 2 || !allDigits(f[0]) || len(f) == 2 && !allDigits(f[1]) {
		return fmt.Errorf(`%q is not "QUOTA PERIOD" (two whole numbers of microseconds, as in "50000 100000")`, text)
	}
	q, err1 := strconv.ParseInt(f[0], 10, 64)
	p, err2 := int64(CPUPeriod), error(nil)
	if len(f) == 2 {
		p, err2 = strconv.ParseInt(f[1], 10, 64)
	}
	if err1 != nil || err2 != nil {
		return fmt.Errorf("%q: number too large", text)
	}
	m.Quota, m.Period = q, p
	return nil
}

// MarshalText writes m so that UnmarshalText reads it back.
func (m CPUMax) MarshalText() ([]byte, error) {
	return []byte(strconv.FormatInt(m.Quota, 10) + " " + strconv.FormatInt(m.Period, 10)), nil
}

func (*CPUMax) tomlWant() string { return `"QUOTA PERIOD" in microseconds, like "50000 100000"` }

// IOMax limits I/O on one block device: "MAJ:MIN rbps=1M wbps=1M riops=100
// wiops=100", any of the four, at least one. Bytes per second take sizes
// as memory does ("1M"); operations per second are plain numbers.
type IOMax struct {
	Major, Minor             uint32
	RBps, WBps, RIOps, WIOps int64
}

// ioMaxKeys are IOMax's keys, in the kernel's order.
var ioMaxKeys = []string{"rbps", "wbps", "riops", "wiops"}

func (m *IOMax) count(key string) *int64 {
	switch key {
	case "rbps":
		return &m.RBps
	case "wbps":
		return &m.WBps
	case "riops":
		return &m.RIOps
	case "wiops":
		return &m.WIOps
	}
	return nil
}

var errIOMax = errors.New(`write "MAJ:MIN" then one or more of rbps=, wbps= (bytes per second, like "1M"), riops=, wiops= (operations per second), as in "8:0 rbps=1M wiops=100"`)

// UnmarshalText reads one device's limits.
func (m *IOMax) UnmarshalText(text []byte) error {
	f := strings.Fields(string(text))
	bad := func(why string) error { return fmt.Errorf("%q %s (%w)", text, why, errIOMax) }
	if len(f) < 2 {
		return bad("is not a device limit")
	}
	ma, mi, ok := strings.Cut(f[0], ":")
	major, err1 := strconv.ParseUint(ma, 10, 32)
	minor, err2 := strconv.ParseUint(mi, 10, 32)
	if !ok || !allDigits(ma) || !allDigits(mi) || err1 != nil || err2 != nil {
		return bad(fmt.Sprintf("has no device number: %q is not MAJ:MIN", f[0]))
	}
	out := IOMax{Major: uint32(major), Minor: uint32(minor)}
	for _, kv := range f[1:] {
		key, val, _ := strings.Cut(kv, "=")
		p := out.count(key)
		switch {
		case p == nil:
			return bad(fmt.Sprintf("has an unknown limit %q", key))
		case *p != 0:
			return bad(fmt.Sprintf("sets %s twice", key))
		}
		if strings.HasSuffix(key, "bps") {
			var b ByteSize
			if err := b.UnmarshalText([]byte(val)); err != nil {
				return bad(fmt.Sprintf("has %s=%s, not a size", key, val))
			}
			*p = int64(b)
		} else if n, err := strconv.ParseInt(val, 10, 64); err == nil && allDigits(val) {
			*p = n
		} else {
			return bad(fmt.Sprintf("has %s=%s, not a whole number", key, val))
		}
		if *p == 0 {
			return bad(fmt.Sprintf("has %s=0 (omit a count to leave it unlimited)", key))
		}
	}
	*m = out
	return nil
}

// MarshalText writes m so that UnmarshalText reads it back.
func (m IOMax) MarshalText() ([]byte, error) {
	s := m.Device()
	for _, k := range ioMaxKeys {
		if v := *m.count(k); v != 0 {
			s += " " + k + "=" + strconv.FormatInt(v, 10)
		}
	}
	return []byte(s), nil
}

func (*IOMax) tomlWant() string { return `a device limit like "8:0 rbps=1M"` }

// Device is the device number, "MAJ:MIN".
func (m IOMax) Device() string { return fmt.Sprintf("%d:%d", m.Major, m.Minor) }

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// checkLimits applies the rules of [limits]. Zero, or no key, is no limit
// (for the weights: the kernel's default) everywhere; what is written must
// be something the kernel takes.
// The least limits a container starts with. Below them miniinit cannot
// start (the second stage's clone fails, or the Go runtime cannot make a
// thread and crashes): a configuration error is better than that.
//
// Measured on a 2-CPU host, cgroup v1: miniinit and the second stage
// start in 2M, and miniinit runs 9 threads (the Go runtime's; more on
// hosts with more CPUs), each a task of the pids limit. MinMemory is
// docker's own minimum, which leaves room for cgroup v2's accounting of
// kernel memory; MinPids leaves a few tasks for the workloads.
const (
	MinMemory = 6 << 20
	MinPids   = 16
)

func checkLimits(r *reporter, c *Config) {
	p := root.key("limits")
	l := &c.Limits
	for _, k := range []struct {
		key string
		v   int64
	}{{"memory", int64(l.Memory)}, {"memory_high", int64(l.MemoryHigh)}, {"memory_swap", int64(l.MemorySwap)}, {"pids", l.Pids}} {
		if k.v < 0 {
			r.errorf(p.key(k.key), "limits: %s must not be negative (0 or no key means no limit)", k.key)
		}
	}
	for _, k := range []struct {
		key string
		v   int64
	}{{"memory", int64(l.Memory)}, {"memory_high", int64(l.MemoryHigh)}} {
		if k.v > 0 && k.v < MinMemory {
			r.errorf(p.key(k.key), "limits: %s = %d bytes is less than a container needs to start (at least %dM: miniinit and minispawn's second stage)",
				k.key, k.v, MinMemory>>20)
		}
	}
	if l.Pids > 0 && l.Pids < MinPids {
		r.errorf(p.key("pids"), "limits: pids = %d is less than a container needs to start (at least %d: miniinit's own threads count, about 10)",
			l.Pids, MinPids)
	}
	if l.MemoryHigh > 0 && l.Memory > 0 && l.MemoryHigh > l.Memory {
		r.errorf(p.key("memory_high"), "limits: memory_high (%d) is above memory (%d): it would never act", l.MemoryHigh, l.Memory)
	}
	if l.MemorySwap > 0 {
		switch {
		case l.Memory <= 0:
			r.errorf(p.key("memory_swap"), "limits: memory_swap needs memory (it is the swap allowed on top of the memory limit)")
		case l.Memory > math.MaxInt64-l.MemorySwap:
			r.errorf(p.key("memory_swap"), "limits: memory + memory_swap is more than %d bytes", int64(math.MaxInt64))
		}
	}

	if r.defined(p.key("cpu")) {
		if r.defined(p.key("cpu_max")) {
			r.errorf(p.key("cpu_max"), "limits: set cpu or cpu_max, not both (cpu = \"0.5\" is cpu_max = \"50000 100000\")")
		}
		if l.CPU.Quota() < MinCPUQuota {
			r.errorf(p.key("cpu"), `limits: cpu must be at least "0.01" (the kernel's smallest quota, %dus per %dus)`, MinCPUQuota, CPUPeriod)
		}
	}
	if r.defined(p.key("cpu_max")) {
		if l.CPUMax.Quota < MinCPUQuota {
			r.errorf(p.key("cpu_max"), "limits: cpu_max quota %d is below the kernel's minimum of %d microseconds", l.CPUMax.Quota, MinCPUQuota)
		}
		if l.CPUMax.Period < MinCPUPeriod || l.CPUMax.Period > MaxCPUPeriod {
			r.errorf(p.key("cpu_max"), "limits: cpu_max period %d is out of range: %d to %d microseconds", l.CPUMax.Period, MinCPUPeriod, MaxCPUPeriod)
		}
	}
	for _, k := range []struct {
		key string
		v   int64
	}{{"cpu_weight", l.CPUWeight}, {"io_weight", l.IOWeight}} {
		if k.v < 0 || k.v > MaxWeight {
			r.errorf(p.key(k.key), "limits: %s %d is out of range: 1 to %d (0 or no key means the default, 100)", k.key, k.v, MaxWeight)
		}
	}
	for _, k := range []struct{ key, v, what string }{
		{"cpuset_cpus", l.CpusetCpus, "CPUs"}, {"cpuset_mems", l.CpusetMems, "memory nodes"},
	} {
		if !r.defined(p.key(k.key)) {
			continue
		}
		if k.v == "" {
			r.errorf(p.key(k.key), "limits: %s must not be empty (omit it for all %s)", k.key, k.what)
		} else if problem := listProblem(k.v); problem != "" {
			r.errorf(p.key(k.key), "limits: %s %q %s (write numbers and ranges, as in \"0-3,8\")", k.key, k.v, problem)
		}
	}
	first := map[string]int{}
	for i, m := range l.IOMax {
		if j, dup := first[m.Device()]; dup {
			r.errorf(p.key("io_max").index(i), "limits: io_max #%d: device %s is already limited by io_max #%d", i+1, m.Device(), j+1)
			continue
		}
		first[m.Device()] = i
	}
}

// listProblem says what is wrong with a list of CPUs or memory nodes in
// the kernel's format, or "" when nothing is.
func listProblem(s string) string {
	for item := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(item, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil || !allDigits(lo) {
			return fmt.Sprintf("has %q, not a number or a range", item)
		}
		if !isRange {
			continue
		}
		if b, err := strconv.ParseUint(hi, 10, 16); err != nil || !allDigits(hi) || b < a {
			return fmt.Sprintf("has %q, not a range N-M with N <= M", item)
		}
	}
	return ""
}
