package main

import (
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// The signals a person sends to minispawn, end to end: what reaches the
// workload, and what minispawn exits with.

// trapScript reports which of INT and TERM it got, with a code of its own
// for each, once it printed "ready".
const trapScript = `trap 'echo got INT; exit 7' INT; trap 'echo got TERM; exit 8' TERM; echo ready; while :; do sleep 0.05; done`

// TestSigintReachesWorkloadAsSigint: SIGINT to minispawn (^C without -t)
// reaches the workload as SIGINT, in an ad-hoc run as from a file, as it
// does under `miniinit --`; SIGTERM stays SIGTERM.
func TestSigintReachesWorkloadAsSigint(t *testing.T) {
	roottest.Require(t)
	root := busyboxRoot(t)
	for _, tc := range []struct {
		how  string
		sig  syscall.Signal
		line string
		code int
	}{
		{"run", syscall.SIGINT, "got INT", 7},
		{"file", syscall.SIGINT, "got INT", 7},
		{"run", syscall.SIGTERM, "got TERM", 8},
	} {
		t.Run(tc.how+"-"+tc.sig.String(), func(t *testing.T) {
			name := containerName(t)
			var s *started
			if tc.how == "run" {
				s = startMinispawnArgs(t, name, "run", "--rootfs", root, "--name", name, "--", "/bin/sh", "-c", trapScript)
				s.expect(t, "ready", 30*time.Second)
			} else {
				s = startMinispawn(t, shellConfig(t, name, trapScript, ""))
			}
			if err := s.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			s.expect(t, tc.line, 10*time.Second)
			if code := s.wait(t, 10*time.Second); code != tc.code {
				t.Errorf("exit %d, want the workload's %d\nstderr:\n%s", code, tc.code, s.stderr)
			}
		})
	}
}
