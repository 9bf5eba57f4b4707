package pid1

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// stdinPipe gives miniinit a pipe as stdin (not /dev/null, which exec.Cmd
// would give it, and which a workload with stdin "null" gets too) and
// returns what /proc/PID/fd/0 of a process reading it shows.
func stdinPipe(t *testing.T) (*os.File, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	var st syscall.Stat_t
	if err := syscall.Fstat(int(r.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return r, fmt.Sprintf("pipe:[%d]", st.Ino)
}

// TestSupervisedStdinDefaults: in a configuration file every workload,
// the main one included, reads /dev/null unless it sets stdin =
// "inherit"; then it reads miniinit's stdin.
func TestSupervisedStdinDefaults(t *testing.T) {
	roottest.Require(t)
	in, pipe := stdinPipe(t)
	s := newSup(t, "", `
[[workload]]
name = "app"
main = true
command = "/bin/sh"
args = ["-c", "readlink /proc/self/fd/0 > DIR/app.tmp && mv DIR/app.tmp DIR/app; exec HELPER mark DIR/app-up"]
[[workload]]
name = "side"
kind = "oneshot"
command = "/bin/sh"
args = ["-c", "readlink /proc/self/fd/0 > DIR/side.tmp && mv DIR/side.tmp DIR/side"]
[[workload]]
name = "reader"
kind = "oneshot"
stdin = "inherit"
command = "/bin/sh"
args = ["-c", "readlink /proc/self/fd/0 > DIR/reader.tmp && mv DIR/reader.tmp DIR/reader"]
`)
	s.run = startMini(t, runOpts{setup: func(c *exec.Cmd) { c.Stdin = in }}, "-s", "-v", "-c", s.file)
	for name, want := range map[string]string{"app": "/dev/null", "side": "/dev/null", "reader": pipe} {
		if got := strings.TrimSpace(waitFile(t, filepath.Join(s.dir, name))); got != want {
			t.Errorf("%s's stdin is %s, want %s", name, got, want)
		}
	}
	waitFile(t, filepath.Join(s.dir, "app-up"))
	s.signal(syscall.SIGTERM)
	if code := s.run.wait(30 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// TestTiniModeInheritsStdin: `miniinit -- cmd` passes its stdin on, as
// tini does.
func TestTiniModeInheritsStdin(t *testing.T) {
	roottest.Require(t)
	in, pipe := stdinPipe(t)
	r := startMini(t, runOpts{setup: func(c *exec.Cmd) { c.Stdin = in }}, "-s", "--", "readlink", "/proc/self/fd/0")
	if code := r.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d\n%s", code, r.stderr.String())
	}
	if got := strings.TrimSpace(r.stdout.String()); got != pipe {
		t.Errorf("the workload's stdin is %s, want miniinit's, %s", got, pipe)
	}
}
