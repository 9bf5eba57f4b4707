package pid1

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestProbeChildrenKilled: what an exec health probe starts and leaves
// behind is killed with the probe, and none is left after `ctl stop`:
// with cgroup2 a child that left the probe's session (setsid sleep 1000
// &, the probe), without cgroup2 one that left its process group
// for a group of its own in the same session (setpgid).
// (They piled up: 28 orphans after ~15 s, still there after ctl stop.)
func TestProbeChildrenKilled(t *testing.T) {
	forEachTracking(t, func(t *testing.T, o runOpts, cgroups bool) {
		escape := "setsid sleep 1000 & sleep 0.05; exit 0"
		if !cgroups {
			escape = `perl -e 'setpgrp(0, 0); exec \"sleep\", \"1000\"' & sleep 0.05; exit 0`
		}
		s := newSup(t, "", markApp+`
[[workload]]
name = "w"
command = "HELPER"
args = ["mark", "DIR/w"]
health = { exec = ["/bin/sh", "-c", "echo x >> DIR/probes; `+escape+`"], interval = "200ms" }
`)
		s.startWith(o)
		root := s.run.pid()
		waitFor(t, 20*time.Second, "5 probes", func() bool { return len(lines(filepath.Join(s.dir, "probes"))) >= 5 })
		checkTracking(t, s, cgroups)
		waitFor(t, 10*time.Second, "no probe child between probes", func() bool { return len(withArg(t, root, "1000")) == 0 })
		if r := s.ctl(ControlRequest{Op: "stop", Name: "w"}); !r.OK {
			t.Fatal(r.Error)
		}
		s.waitState("w", "stopped")
		waitFor(t, 10*time.Second, "no probe child after the stop", func() bool { return len(withArg(t, root, "1000")) == 0 })
		s.signal(syscall.SIGTERM)
		s.run.wait(20 * time.Second)
	})
}
