package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// runcScript is the container's main workload (busybox sh). It leaves an
// orphan with a SIGTERM handler, makes 50 orphans that exit at once, counts
// the zombies left after a moment (miniinit must have reaped them all),
// then waits for SIGUSR1, on which it exits 42.
const runcScript = `trap 'echo usr1 > /got-usr1; exit 42' USR1
( sh -c 'trap "echo term > /orphan-term; exit 0" TERM; while :; do sleep 0.05; done' & )
i=0; while [ $i -lt 50 ]; do ( true & ); i=$((i+1)); done
sleep 0.3
z=0; for f in /proc/[0-9]*/stat; do read -r l < $f; case "$l" in *") Z "*) z=$((z+1));; esac; done
echo $z > /zombies
echo ready > /ready
while :; do sleep 0.05; done`

// TestUnderRunc runs miniinit as the entrypoint of an OCI bundle under
// runc (Debian's, installed by contrib/scripts/deps.sh), with a default
// `runc spec` and a root of busybox-static plus miniinit: reaping, `runc
// kill` forwarding, the drain and the exit code, as a container sees them.
func TestUnderRunc(t *testing.T) {
	roottest.Require(t)
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Fatal("runc is not installed: run contrib/scripts/deps.sh")
	}
	bundle := t.TempDir()
	rootfs := filepath.Join(bundle, "rootfs")
	makeBusyboxRoot(t, rootfs)

	// A default spec, with no terminal (the test has none) and our process.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	spec := exec.CommandContext(ctx, runc, "spec", "--bundle", bundle)
	if out, err := spec.CombinedOutput(); err != nil {
		t.Fatalf("runc spec: %v\n%s", err, out)
	}
	editSpec(t, filepath.Join(bundle, "config.json"), func(c map[string]any) {
		p := c["process"].(map[string]any)
		p["terminal"] = false
		p["args"] = []string{"/sbin/miniinit", "-v", "--report", "/report.json", "--", "/bin/sh", "-c", runcScript}
		c["root"].(map[string]any)["readonly"] = false
	})

	state := t.TempDir()
	id := fmt.Sprintf("miniinit-test-%d", os.Getpid())
	runcCmd := func(args ...string) *exec.Cmd {
		return exec.CommandContext(ctx, runc, append([]string{"--root", state}, args...)...)
	}
	run := runcCmd("run", "--bundle", bundle, id)
	var out bytes.Buffer
	run.Stdout, run.Stderr = &out, &out
	run.WaitDelay = 5 * time.Second
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = run.Wait(); close(done) }()
	t.Cleanup(func() {
		// Its own deadline: the test's context is over by now.
		dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer dcancel()
		del := exec.CommandContext(dctx, runc, "--root", state, "delete", "-f", id)
		if b, err := del.CombinedOutput(); err != nil && !strings.Contains(string(b), "not exist") {
			t.Errorf("runc delete -f: %v\n%s", err, b)
		}
		<-done
		if t.Failed() {
			t.Logf("runc run output:\n%s", out.String())
		}
	})

	waitForFile(t, filepath.Join(rootfs, "ready"))
	if z := readTrim(t, filepath.Join(rootfs, "zombies")); z != "0" {
		t.Errorf("%s zombies in the container after 50 quick orphans, want 0", z)
	}
	if b, err := runcCmd("kill", id, "USR1").CombinedOutput(); err != nil {
		t.Fatalf("runc kill USR1: %v\n%s", err, b)
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("the container did not end after SIGUSR1")
	}
	if code := run.ProcessState.ExitCode(); code != 42 {
		t.Errorf("runc run exit code %d, want 42 (the workload's)", code)
	}
	if got := readTrim(t, filepath.Join(rootfs, "got-usr1")); got != "usr1" {
		t.Errorf("workload's USR1 trap: %q", got)
	}
	if got := readTrim(t, filepath.Join(rootfs, "orphan-term")); got != "term" {
		t.Errorf("orphan's TERM trap: %q", got)
	}
	var rep struct {
		ExitCode int    `json:"exit_code"`
		Mode     string `json:"mode"`
		Shutdown struct {
			LastSignal string `json:"last_signal"`
		} `json:"shutdown"`
		StillRunning []struct{ Comm string } `json:"still_running"`
		Killed       []struct{ Comm string } `json:"sigkilled"`
	}
	if err := json.Unmarshal([]byte(readTrim(t, filepath.Join(rootfs, "report.json"))), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.ExitCode != 42 || rep.Mode != "pid1" || rep.Shutdown.LastSignal != "SIGUSR1" || len(rep.StillRunning) == 0 || len(rep.Killed) != 0 {
		t.Errorf("report: %+v", rep)
	}
}

// makeBusyboxRoot builds a root of /bin/busybox (static, from Debian's
// busybox-static), a link per applet, and miniinit in /sbin.
func makeBusyboxRoot(t *testing.T, root string) {
	t.Helper()
	for _, d := range []string{"bin", "sbin", "proc", "dev", "sys", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	roottest.CopyExec(t, "/bin/busybox", filepath.Join(root, "bin", "busybox"))
	roottest.CopyExec(t, miniinitBin, filepath.Join(root, "sbin", "miniinit"))
	list, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		t.Fatalf("busybox --list (is busybox-static installed?): %v", err)
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet == "busybox" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(root, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
}

func editSpec(t *testing.T, path string, edit func(map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	edit(c)
	if b, err = json.MarshalIndent(c, "", "\t"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitForFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", path)
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
