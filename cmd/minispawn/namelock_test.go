package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// Issue 16 item 3: of two starts of the same name at the same moment,
// exactly one runs and the other is refused, every time; the one that runs
// is never killed by the other (it used to end with 137, its cgroup taken
// for a stale one).
func TestSameNameStartedTwiceAtOnce(t *testing.T) {
	roottest.Require(t)
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	name := containerName(t)
	script := `trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done`
	cfgs := []string{shellConfig(t, name, script, ""), shellConfig(t, name, script, "")}
	before := snapshotHost(t)
	for round := 0; round < rounds; round++ {
		type end struct {
			i      int
			code   int
			stderr string
		}
		ready := make(chan int, 2)
		ended := make(chan end, 2)
		var cmds [2]*exec.Cmd
		for i, cfg := range cfgs {
			cmd := exec.Command(filepath.Join(binDir, "minispawn"), "-c", cfg)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			cmds[i] = cmd
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					if sc.Text() == "ready" {
						ready <- i
					}
				}
				cmd.Wait()
				ended <- end{i, cmd.ProcessState.ExitCode(), stderr.String()}
			}()
		}
		// One is refused at once, the other runs.
		var refused end
		select {
		case refused = <-ended:
		case <-time.After(30 * time.Second):
			for _, c := range cmds {
				c.Process.Kill()
			}
			t.Fatalf("round %d: both starts still running after 30s", round)
		}
		if refused.code != exitSetup || !strings.Contains(refused.stderr, "is running") {
			t.Errorf("round %d: start %d ended with %d, want %d and that the name is in use\nstderr:\n%s",
				round, refused.i, refused.code, exitSetup, refused.stderr)
		}
		runner := 1 - refused.i
		select {
		case i := <-ready:
			if i != runner {
				t.Errorf("round %d: the refused start %d printed ready", round, i)
			}
		case e := <-ended:
			t.Fatalf("round %d: both ended: start %d with %d\nstderr:\n%s", round, e.i, e.code, e.stderr)
		case <-time.After(30 * time.Second):
			cmds[runner].Process.Kill()
			t.Fatalf("round %d: start %d not ready after 30s", round, runner)
		}
		if pids := containerPids(t, name); len(pids) > 3 {
			t.Errorf("round %d: cgroup of %s holds %v: two containers in one", round, name, pids)
		}
		cmds[runner].Process.Signal(syscall.SIGTERM)
		select {
		case e := <-ended:
			if e.code != 0 {
				t.Errorf("round %d: the container that ran ended with %d, want 0\nstderr:\n%s", round, e.code, e.stderr)
			}
		case <-time.After(30 * time.Second):
			cmds[runner].Process.Kill()
			t.Fatalf("round %d: start %d still running 30s after SIGTERM", round, runner)
		}
	}
	checkNothingLeft(t, before, name, "")
}
