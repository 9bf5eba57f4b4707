package pid1

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSupervisedReloadBackWhileStopping: a workload removed by a reload
// and put back by the next one while it is still stopping (its TERM trap
// takes a second) starts again once its old process has ended; a later
// reload reports nothing changed and leaves it running. (It stayed down
// for good, and later reloads said "changed: " without starting it.)
func TestSupervisedReloadBackWhileStopping(t *testing.T) {
	const slow = `
[[workload]]
name = "slow"
command = "/bin/sh"
args = ["-c", "trap 'sleep 1; exit 0' TERM; echo start $$ >> DIR/slow; while :; do sleep 0.05; done"]
stop_timeout = "5s"
`
	s := newSup(t, "", markApp+`
`+slow)
	s.start()
	waitFile(t, filepath.Join(s.dir, "slow")) // its trap is set
	full, _ := os.ReadFile(s.file)
	without := strings.Replace(string(full), strings.ReplaceAll(slow, "DIR", s.dir), "", 1)
	if without == string(full) {
		t.Fatal("the edit changed nothing")
	}
	reload := func(doc string) ControlResponse {
		t.Helper()
		if err := os.WriteFile(s.file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		r := s.ctl(ControlRequest{Op: "reload"})
		if !r.OK {
			t.Fatalf("reload: %+v", r)
		}
		return r
	}
	reload(without)
	s.waitState("slow", "stopping")
	reload(string(full))
	waitFor(t, 10*time.Second, "slow's second start", func() bool { return count(filepath.Join(s.dir, "slow"), "start") == 2 })
	s.waitState("slow", "running")
	if r := reload(string(full)); len(r.Changed) != 0 {
		t.Errorf("a reload with nothing changed says changed %v", r.Changed)
	}
	time.Sleep(200 * time.Millisecond)
	if st, n := s.state("slow"), count(filepath.Join(s.dir, "slow"), "start"); st != "running" || n != 2 {
		t.Errorf("after a later reload slow is %s with %d starts, want running with 2", st, n)
	}
	s.signal(syscall.SIGTERM)
	s.run.wait(30 * time.Second)
}
