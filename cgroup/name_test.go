package cgroup

import (
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	good := []string{"demo", "a", "web-1", "db_2", "v1.2", "x.memory", strings.Repeat("n", MaxNameLen), "cgroupx", "tasks2"}
	bad := []string{"", ".", "..", "a/b", "../x", "a b", "é", "x\n", strings.Repeat("n", MaxNameLen+1),
		"tasks", "notify_on_release", "release_agent", "cgroup.procs", "memory.max", "pids.max", "cpu.weight", "io.max"}
	for _, n := range good {
		if err := ValidName(n); err != nil {
			t.Errorf("ValidName(%q) = %v, want nil", n, err)
		}
	}
	for _, n := range bad {
		if err := ValidName(n); err == nil {
			t.Errorf("ValidName(%q) = nil, want an error", n)
		}
	}
}
