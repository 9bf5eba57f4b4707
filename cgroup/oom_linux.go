package cgroup

import (
	"fmt"
	"path/filepath"
)

// OOMKills returns how many processes the kernel's OOM killer has killed
// in the cgroup because of its memory limit: "oom_kill" of
// memory.oom_control on v1, of memory.events on v2. Read it after the
// workload ends and before Remove, which discards the counter.
func (c *Cgroup) OOMKills() (int, error) {
	dir, ok := c.dirOf("memory")
	if !ok {
		return 0, fmt.Errorf("oom kills of container %q: no memory controller", c.name)
	}
	file := "memory.oom_control"
	if c.layout.Version == V2 {
		file = "memory.events"
	}
	p := filepath.Join(dir, file)
	text, err := readFile(p)
	if err != nil {
		return 0, err
	}
	n, err := keyedValue(text, "oom_kill")
	if err != nil {
		return 0, &Error{Step: "parse", Path: p, Err: err}
	}
	return int(n), nil
}
