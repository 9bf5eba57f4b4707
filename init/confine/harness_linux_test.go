package confine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The root tests run confinement in a child: the test binary re-executed
// with childEnv set. The child locks its thread, applies each Spec of the
// JSON list in childEnv in turn (a container-wide one, then a workload's,
// as minispawn and miniinit do), and execs its arguments: the attack
// helper, or busybox. The helper reports each attempt on stdout.

const childEnv = "CONFINE_TEST_SPECS"

// Exit codes of the child when it fails before exec.
const (
	exitApply = 125
	exitExec  = 126
)

// binDir holds the attack helper, built on first use: only root tests
// need it, so a developer running the suite unprivileged does not.
var (
	binDir    string
	buildOnce sync.Once
	attackBin string
	buildErr  error
)

func TestMain(m *testing.M) {
	if specs, ok := os.LookupEnv(childEnv); ok {
		childMain(specs, os.Args[1:])
	}
	dir, err := os.MkdirTemp("", "confine-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// attackPath builds the helper static into binDir, which is opened to
// everyone: confined children run it under other uids.
func attackPath(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildErr = os.Chmod(binDir, 0o755); buildErr != nil {
			return
		}
		path := filepath.Join(binDir, "attack")
		cmd := exec.Command("go", "build", "-trimpath", "-o", path, "./internal/attack")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./internal/attack: %v\n%s", err, out)
			return
		}
		attackBin = path
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return attackBin
}

// childMain is the confined child. It never returns.
func childMain(specsJSON string, argv []string) {
	// Everything from here to exec happens on this one thread.
	runtime.LockOSThread()
	os.Unsetenv(childEnv)
	var specs []Spec
	if err := json.Unmarshal([]byte(specsJSON), &specs); err != nil {
		fmt.Fprintln(os.Stderr, "confine child: decode specs:", err)
		os.Exit(exitApply)
	}
	for i, s := range specs {
		if err := Apply(s); err != nil {
			fmt.Fprintf(os.Stderr, "confine child: spec %d: %v\n", i, err)
			os.Exit(exitApply)
		}
	}
	if len(argv) > 0 && argv[0] == "-threads" {
		reportThreads()
		os.Exit(0)
	}
	err := unix.Exec(argv[0], argv, os.Environ())
	fmt.Fprintf(os.Stderr, "confine child: exec %s: %v\n", argv[0], err)
	os.Exit(exitExec)
}

// reportThreads prints, for every thread of the child, its Uid, NoNewPrivs
// and Seccomp lines, prefixed with "tid:".
func reportThreads() {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/status")
		if err != nil {
			continue // the thread exited
		}
		for _, line := range strings.Split(string(b), "\n") {
			if k, _, _ := strings.Cut(line, ":"); k == "Uid" || k == "NoNewPrivs" || k == "Seccomp" {
				fmt.Printf("%s:%s\n", task.Name(), line)
			}
		}
	}
}

// child describes one confined run.
type child struct {
	specs []Spec
	argv  []string
	// groups, when set, are the supplementary groups the child starts
	// with: what a caller of minispawn would pass on.
	groups []uint32
}

type result struct {
	stdout, stderr string
	status         syscall.WaitStatus
}

// killedBy reports whether the helper died of sig.
func (r result) killedBy(sig syscall.Signal) bool {
	return r.status.Signaled() && r.status.Signal() == sig
}

// runRaw runs c in a new mount and UTS namespace, so that an attack that
// succeeds (in a control run) changes nothing outside it, and waits at
// most 30 seconds.
func (c child) runRaw(t *testing.T) result {
	t.Helper()
	specs, err := json.Marshal(c.specs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], c.argv...)
	cmd.Env = append(os.Environ(), childEnv+"="+string(specs))
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: unix.CLONE_NEWNS | unix.CLONE_NEWUTS}
	if c.groups != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 0, Gid: 0, Groups: c.groups}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%q timed out; stderr: %s", c.argv, stderr.String())
	}
	if cmd.ProcessState == nil {
		t.Fatalf("start %q: %v", c.argv, err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), status: cmd.ProcessState.Sys().(syscall.WaitStatus)}
}

// run is runRaw, failing the test if the child could not apply its specs
// or exec.
func (c child) run(t *testing.T) result {
	t.Helper()
	r := c.runRaw(t)
	if r.status.Exited() && (r.status.ExitStatus() == exitApply || r.status.ExitStatus() == exitExec) {
		t.Fatalf("%q: confinement failed: %s", c.argv, r.stderr)
	}
	return r
}

// output runs c, requires a clean exit, and returns stdout trimmed.
func (c child) output(t *testing.T) string {
	t.Helper()
	r := c.run(t)
	if !r.status.Exited() || r.status.ExitStatus() != 0 {
		t.Fatalf("%q: %v; stdout %q; stderr %q", c.argv, r.status, r.stdout, r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}

// attack is shorthand for running the helper under specs.
func attack(t *testing.T, specs []Spec, args ...string) string {
	t.Helper()
	return child{specs: specs, argv: append([]string{attackPath(t)}, args...)}.output(t)
}

// procStatus parses the helper's "status" output into a map.
func procStatus(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("status line %q", line)
		}
		m[k] = strings.Join(strings.Fields(v), " ")
	}
	return m
}

// Specs the tests share. seccompOnly keeps every capability, so an EPERM
// under it comes from the filter alone; unconfined is the control.
var (
	seccompOnly = []Spec{{AllCapabilities: true, NoNewPrivs: true, Seccomp: DefaultSeccomp()}}
	unconfined  = []Spec{{AllCapabilities: true}}
	hardened    = []Spec{Default()}
)

// openDir makes a temporary directory every uid can enter.
func openDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func ids(uid, gid uint32) (*uint32, *uint32) { return &uid, &gid }
