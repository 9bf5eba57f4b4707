package main

import (
	"fmt"
	"strings"

	"github.com/minispawn/minispawn/cgroup"
	"github.com/minispawn/minispawn/config"
)

// resourcesOf maps the file's [limits] onto the cgroup's Resources: the
// file speaks in CPUs and sizes, Resources in the kernel's units.
func resourcesOf(l config.Limits) cgroup.Resources {
	r := cgroup.Resources{
		MemoryMax:  int64(l.Memory),
		MemoryHigh: int64(l.MemoryHigh),
		MemorySwap: int64(l.MemorySwap),
		PidsMax:    l.Pids,
		CPUWeight:  l.CPUWeight,
		CpusetCpus: l.CpusetCpus,
		CpusetMems: l.CpusetMems,
		IOWeight:   l.IOWeight,
	}
	switch {
	case l.CPU.Milli != 0:
		// The period stays the kernel's default, which cpu is defined
		// over.
		r.CPUQuota = l.CPU.Quota()
	case l.CPUMax.Quota != 0:
		r.CPUQuota, r.CPUPeriod = l.CPUMax.Quota, l.CPUMax.Period
	}
	for _, m := range l.IOMax {
		r.IOMax = append(r.IOMax, cgroup.IOMax{Major: m.Major, Minor: m.Minor,
			RBps: m.RBps, WBps: m.WBps, RIOps: m.RIOps, WIOps: m.WIOps})
	}
	return r
}

// oomMessage says that the kernel's OOM killer ended kills processes of the
// container, naming the limit that was hit, as the file spells it and as
// the kernel file that holds it.
func oomMessage(r cgroup.Resources, ver cgroup.Version, kills int) string {
	procs := "a process"
	if kills > 1 {
		procs = fmt.Sprintf("%d processes", kills)
	}
	var limits []string
	if r.MemoryMax > 0 {
		file := map[cgroup.Version]string{cgroup.V1: "memory.limit_in_bytes", cgroup.V2: "memory.max"}[ver]
		limits = append(limits, fmt.Sprintf("memory = %s (%s %d)", sizeText(r.MemoryMax), file, r.MemoryMax))
	}
	if r.MemorySwap > 0 {
		file := map[cgroup.Version]string{cgroup.V1: "memory.memsw.limit_in_bytes", cgroup.V2: "memory.swap.max"}[ver]
		limits = append(limits, fmt.Sprintf("memory_swap = %s (%s)", sizeText(r.MemorySwap), file))
	}
	if len(limits) == 0 {
		// No limit of its own: an ancestor's limit, or the host's.
		return fmt.Sprintf("the kernel's OOM killer ended %s of the container, which has no memory limit of its own (the host, or a cgroup above it, ran out of memory)", procs)
	}
	return fmt.Sprintf("the container hit its memory limit, %s: the kernel's OOM killer ended %s (a process killed by it exits with 137)",
		strings.Join(limits, ", "), procs)
}

// sizeText writes n bytes the way the file does: "64M" when exact.
func sizeText(n int64) string {
	b, err := config.ByteSize(n).MarshalText()
	if err != nil {
		return fmt.Sprint(n)
	}
	return string(b)
}
