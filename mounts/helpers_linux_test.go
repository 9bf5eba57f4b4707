package mounts

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
	"github.com/minispawn/minispawn/internal/mountinfo"
)

// Root tests do their mounts in a re-executed copy of the test binary
// that runs in new mount and PID namespaces, so the host's mount table is
// never touched and everything the child mounted dies with it. TestMain
// dispatches such a child to the function named in childEnv.
const childEnv = "MOUNTS_TEST_CHILD"

// children are the functions a re-executed test binary can run. Each
// writes its findings to stdout (JSON or text) for the parent to assert
// on, and returns an error for a setup failure.
var children = map[string]func() error{
	"propagation-host":  childPropagationHost,
	"propagation-mount": childPropagationMount,
	"default-mounts":    childDefaultMounts,
	"symlink-attack":    childSymlinkAttack,
	"binds":             childBinds,
	"pivot":             childPivot,
	"ps":                childPS,
	"masks":             childMasks,
	"mask-attacks":      childMaskAttacks,
	"overlay":           childOverlay,
	"standin":           childStandIn,
}

func TestMain(m *testing.M) {
	if name := os.Getenv(childEnv); name != "" {
		f, ok := children[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown test child %q\n", name)
			os.Exit(2)
		}
		if err := f(); err != nil {
			fmt.Fprintf(os.Stderr, "test child %s: %v\n", name, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const childTimeout = 60 * time.Second

// childCmd prepares a re-exec of this test binary running child name.
func childCmd(ctx context.Context, name string, cloneflags uintptr, env ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+name), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: cloneflags, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	return cmd, nil
}

// runChild runs child name in new mount and PID namespaces and returns
// its stdout, failing the test if it fails or outlives childTimeout.
// Killing the child (PID 1 of its namespace) takes all its descendants.
func runChild(t *testing.T, name string, env ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	cmd, err := childCmd(ctx, name, syscall.CLONE_NEWNS|syscall.CLONE_NEWPID, env...)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Pdeathsig fires when the thread that started the child exits, so
	// that thread must stay this goroutine's until the child is reaped.
	runtime.LockOSThread()
	err = cmd.Run()
	runtime.UnlockOSThread()
	if err != nil {
		t.Fatalf("child %s: %v (ctx: %v)\nstdout:\n%s\nstderr:\n%s", name, err, ctx.Err(), stdout.String(), stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("child %s stderr:\n%s", name, stderr.String())
	}
	return stdout.Bytes()
}

func runChildJSON(t *testing.T, name string, v any, env ...string) {
	t.Helper()
	out := runChild(t, name, env...)
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("child %s output: %v\n%s", name, err, out)
	}
}

// hostMountsUnchanged snapshots the host's mount table now and fails the
// test if, when it ends, a mount under its temporary directories (where
// all of its roots and targets are) appeared or went. Mounts made by
// anything else on the host meanwhile are not the test's.
func hostMountsUnchanged(t *testing.T) {
	t.Helper()
	before := roottest.SnapshotMounts(t)
	scope := roottest.TestScope(t, nil)
	t.Cleanup(func() { roottest.CheckMounts(t, before, scope) })
}

// mountEntry is one line of /proc/self/mountinfo.
type mountEntry struct {
	Root, MountPoint, Options, Optional, FSType, Source, SuperOptions string
}

func (e mountEntry) hasOption(o string) bool {
	for _, x := range strings.Split(e.Options, ",") {
		if x == o {
			return true
		}
	}
	return false
}

func (e mountEntry) hasSuperOption(o string) bool {
	for _, x := range strings.Split(e.SuperOptions, ",") {
		if x == o {
			return true
		}
	}
	return false
}

func mustMountinfo(t *testing.T, data string) []mountEntry {
	t.Helper()
	out, err := parseMountinfo(data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func parseMountinfo(data string) ([]mountEntry, error) {
	var out []mountEntry
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		a, b := strings.Fields(pre), strings.Fields(post)
		if !ok || len(a) < 6 || len(b) < 3 {
			return nil, fmt.Errorf("bad mountinfo line %q", sc.Text())
		}
		out = append(out, mountEntry{
			Root: mountinfo.Unescape(a[3]), MountPoint: mountinfo.Unescape(a[4]), Options: a[5],
			Optional: strings.Join(a[6:], " "), FSType: b[0], Source: mountinfo.Unescape(b[1]), SuperOptions: b[2],
		})
	}
	return out, sc.Err()
}

// mountsUnder returns the entries whose mount point is dir or below it.
func mountsUnder(entries []mountEntry, dir string) []mountEntry {
	var out []mountEntry
	for _, e := range entries {
		if e.MountPoint == dir || strings.HasPrefix(e.MountPoint, dir+"/") {
			out = append(out, e)
		}
	}
	return out
}
