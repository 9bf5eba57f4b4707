package cgroup

import (
	"fmt"
	"strconv"
	"strings"
)

// parsePids parses cgroup.procs: one decimal PID per line.
func parsePids(text string) ([]int, error) {
	var out []int
	for _, f := range strings.Fields(text) {
		pid, err := strconv.Atoi(f)
		if err != nil || pid < 0 {
			return nil, fmt.Errorf("bad pid %q", f)
		}
		// Never hand 0 on: kill(0, sig) would signal the caller's own
		// process group.
		if pid > 0 {
			out = append(out, pid)
		}
	}
	return out, nil
}

// keyedValue returns the value of key in a flat keyed file ("key value"
// per line, as memory.events, memory.oom_control and pids.events are).
func keyedValue(text, key string) (int64, error) {
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || k != key {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("key %q: bad value %q", key, v)
		}
		return n, nil
	}
	return 0, fmt.Errorf("key %q not found", key)
}

// checkList checks the kernel's list format for CPUs and memory nodes
// (cpuset.cpus, cpuset.mems): comma-separated numbers and ranges "N-M"
// with N <= M, as in "0-3,8". Whether the host has them is the kernel's
// to say, when the list is written.
func checkList(s string) error {
	for item := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(item, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return fmt.Errorf("%q is not a number or a range N-M", item)
		}
		if !isRange {
			continue
		}
		b, err := strconv.ParseUint(hi, 10, 16)
		if err != nil || b < a {
			return fmt.Errorf("%q is not a range N-M with N <= M", item)
		}
	}
	return nil
}
