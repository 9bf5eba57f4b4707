package pid1

import (
	"syscall"
	"testing"
	"time"
)

// TestStartFailureLoopKeepsServing: a workload whose command does not
// exist, restarted always with no backoff. Each failed start used to
// decide the next start within the same turn of the loop, recursing
// without end: control requests went unanswered, SIGTERM was never
// acted on and the stack grew until the OOM killer came. Now every
// failed start is told to the machine on the next turn, so the loop
// keeps serving while the workload fails over and over.
func TestStartFailureLoopKeepsServing(t *testing.T) {
	s := newSup(t, "", `
[[workload]]
name = "app"
command = "/bin/sleep"
args = ["1000"]
main = true
[[workload]]
name = "nf"
command = "/nonexistent/bin"
restart = "always"
backoff = { initial = "0s" }
`)
	s.start()
	s.waitState("app", "running")
	restarts := 0
	for i := 0; i < 5; i++ {
		time.Sleep(200 * time.Millisecond)
		for _, w := range s.ctl(ControlRequest{Op: "status"}).Workloads {
			if w.Name == "nf" {
				restarts = w.Restarts
			}
		}
	}
	if restarts < 2 {
		t.Fatalf("nf restarted %d times: the scenario did not happen", restarts)
	}
	t.Logf("nf failed to start %d times; control answered throughout", restarts)
	if err := syscall.Kill(s.run.pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := s.run.wait(60 * time.Second)
	if code != 0 && code != 143 {
		t.Errorf("exit %d after SIGTERM, want 0 or 143", code)
	}
}
