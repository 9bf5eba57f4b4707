package pid1

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/roottest"
)

// The binaries under test, built once by TestMain: miniinit as `make build`
// builds it (static, CGO_ENABLED=0), and the workload helper.
var bin struct{ miniinit, helper string }

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pid1-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin.miniinit = filepath.Join(dir, "miniinit")
	bin.helper = filepath.Join(dir, "testhelper")
	for out, pkg := range map[string]string{
		bin.miniinit: "github.com/minispawn/minispawn/cmd/miniinit",
		bin.helper:   "github.com/minispawn/minispawn/init/pid1/internal/testhelper",
	} {
		if err := buildStatic(out, pkg); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	// Whatever a failing test leaves orphaned comes to this process
	// rather than to the machine's init, so that it can be reaped here.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "prctl PR_SET_CHILD_SUBREAPER:", err)
		return 1
	}
	// No test in this package runs in parallel with another: several
	// reap with wait4(-1), and the cleanups kill process trees.
	code := m.Run()
	left := killTree(os.Getpid())
	reapStray()
	if len(left) > 0 {
		fmt.Fprintf(os.Stderr, "tests left processes behind: %v\n", left)
		code = 1
	}
	return code
}

// buildStatic builds pkg into out with CGO_ENABLED=0, as the Makefile does.
func buildStatic(out, pkg string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"build", "-trimpath", "-o", out}
	if strings.HasSuffix(pkg, "/cmd/miniinit") {
		args = append(args, "-ldflags="+EntryLDFlag)
	}
	cmd := exec.CommandContext(ctx, goBin, append(args, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// killTree SIGKILLs root (unless it is this process) and every live
// descendant, listed before the first signal so that orphans are not lost
// on the way, then reaps, by pid, the descendants that became this
// process's children (TestMain made it a subreaper). root itself is left to
// the exec.Cmd that started it. It returns what it killed.
func killTree(root int) []procEntry {
	all, _ := scanProc()
	ds := descendants(all, root)
	if root != os.Getpid() {
		if e, err := readStat(root); err == nil {
			ds = append(ds, e)
		}
	}
	for _, e := range ds {
		_ = signalProc(e, unix.SIGKILL)
	}
	for _, e := range ds {
		if e.Pid == root {
			continue // exec.Cmd's child: its Wait reaps it, nothing else may
		}
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			var ws syscall.WaitStatus
			got, err := syscall.Wait4(e.Pid, &ws, unix.WNOHANG, nil)
			if got == e.Pid || err != nil {
				break // reaped, or not ours to reap (exec.Cmd's, or another parent's)
			}
		}
	}
	return ds
}

// reapStray collects zombies left as children of this process (what a
// killed miniinit had not reaped). It runs only when no test runs.
func reapStray() {
	for {
		var ws syscall.WaitStatus
		if pid, err := syscall.Wait4(-1, &ws, unix.WNOHANG, nil); pid <= 0 || err != nil {
			return
		}
	}
}

// forEachMode runs test with miniinit as a plain process (subreaper) and
// as PID 1 of a new PID and mount namespace, which needs root.
func forEachMode(t *testing.T, test func(t *testing.T, pid1 bool)) {
	t.Run("subreaper", func(t *testing.T) { test(t, false) })
	t.Run("pid1", func(t *testing.T) {
		roottest.Require(t)
		test(t, true)
	})
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer = roottest.SyncBuffer

// miniRun is one miniinit process under test.
type miniRun struct {
	t       *testing.T
	cmd     *exec.Cmd
	stdout  syncBuffer
	stderr  syncBuffer
	started time.Time
	done    chan struct{}
	elapsed time.Duration
}

type runOpts struct {
	pid1   bool     // PID 1 of a new PID and mount namespace
	newPID bool     // PID 1 of a new PID namespace only (mount namespace shared)
	env    []string // added to the test's environment
	dir    string
	extra  []*os.File
	setup  func(*exec.Cmd)
}

// startMini starts miniinit with args. The test's cleanup kills whatever
// is still running below it and reaps it; every run is bounded.
func startMini(t *testing.T, o runOpts, args ...string) *miniRun {
	t.Helper()
	r := &miniRun{t: t, done: make(chan struct{})}
	r.cmd = exec.Command(bin.miniinit, args...)
	r.cmd.Env = append(os.Environ(), o.env...)
	r.cmd.Dir = o.dir
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	r.cmd.ExtraFiles = o.extra
	r.cmd.WaitDelay = 5 * time.Second
	// Should this test binary die (a timeout panic), miniinit dies with
	// it instead of living on under the machine's init.
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: unix.SIGKILL}
	switch {
	case o.pid1:
		r.cmd.SysProcAttr.Cloneflags = unix.CLONE_NEWPID | unix.CLONE_NEWNS
	case o.newPID:
		r.cmd.SysProcAttr.Cloneflags = unix.CLONE_NEWPID
	}
	if o.setup != nil {
		o.setup(r.cmd)
	}
	r.started = time.Now()
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start miniinit: %v", err)
	}
	go func() {
		_ = r.cmd.Wait()
		r.elapsed = time.Since(r.started)
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			left := killTree(r.pid())
			<-r.done
			t.Logf("killed miniinit and what was left below it: %v", left)
		}
		if t.Failed() {
			t.Logf("miniinit %q stderr:\n%s", args, r.stderr.String())
		}
	})
	return r
}

// wait returns miniinit's exit code, failing the test after timeout.
func (r *miniRun) wait(timeout time.Duration) int {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		r.t.Fatalf("miniinit still running after %v; stderr:\n%s", timeout, r.stderr.String())
	}
	return r.cmd.ProcessState.ExitCode()
}

func (r *miniRun) pid() int { return r.cmd.Process.Pid }

// runMini runs miniinit to the end and returns its exit code.
func runMini(t *testing.T, o runOpts, args ...string) (int, *miniRun) {
	t.Helper()
	r := startMini(t, o, args...)
	return r.wait(60 * time.Second), r
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(2 * time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

func waitFile(t *testing.T, path string) string {
	t.Helper()
	var b []byte
	waitFor(t, 10*time.Second, path, func() bool {
		var err error
		b, err = os.ReadFile(path)
		return err == nil
	})
	return string(b)
}

// childrenOf returns the live children of pid, by scanning /proc.
func childrenOf(t *testing.T, pid int) []procEntry {
	t.Helper()
	all, err := scanProc()
	if err != nil {
		t.Fatal(err)
	}
	var out []procEntry
	for _, e := range all {
		if e.PPid == pid && e.State != 'Z' {
			out = append(out, e)
		}
	}
	return out
}

// recorded reads the signals the record helper wrote down.
func recorded(t *testing.T, path string) []syscall.Signal {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []syscall.Signal
	for _, f := range strings.Fields(string(b)) {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("record file %s: %q", path, b)
		}
		out = append(out, syscall.Signal(n))
	}
	return out
}

func names(sigs []syscall.Signal) []string {
	var out []string
	for _, s := range sigs {
		out = append(out, SignalName(s))
	}
	return out
}

// readReport decodes a report file.
func readReport(t *testing.T, path string) report {
	t.Helper()
	var r report
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report %s: %v\n%s", path, err, b)
	}
	return r
}

func pidsOf(es []procEntry) []int {
	var out []int
	for _, e := range es {
		out = append(out, e.Pid)
	}
	slices.Sort(out)
	return out
}
