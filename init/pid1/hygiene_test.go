package pid1

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/roottest"
)

type fdReport struct {
	Pid       int    `json:"pid"`
	ListenPid string `json:"listen_pid"`
	ListenFDs string `json:"listen_fds"`
	FDs       []int  `json:"fds"`
	Parent    []struct {
		FD      int    `json:"fd"`
		Target  string `json:"target"`
		CloExec bool   `json:"cloexec"`
	} `json:"parent_fds"`
}

// TestDescriptors: miniinit is started with three extra descriptors, 3, 4
// and 5, none close-on-exec. The workload must get 0-2 only, plus fd 3 when
// LISTEN_FDS=1 says it is a socket-activation descriptor for miniinit, in
// which case its LISTEN_PID must be the workload's own pid (the re-exec
// shim). miniinit itself must have closed 4 and 5 and hold nothing a child
// could inherit.
func TestDescriptors(t *testing.T) {
	for _, c := range []struct {
		name      string
		env       []string
		wantFDs   []int
		listenFDs string
	}{
		{"plain", nil, []int{0, 1, 2}, ""},
		{"listen-fds", []string{"LISTEN_FDS=1"}, []int{0, 1, 2, 3}, "1"},
		{"listen-fds-for-us", []string{"LISTEN_FDS=1", "LISTEN_PID=self"}, []int{0, 1, 2, 3}, "1"},
		// Meant for another process: not ours to pass on.
		{"listen-fds-for-other", []string{"LISTEN_FDS=1", "LISTEN_PID=1"}, []int{0, 1, 2}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			var files []*os.File
			for i := 3; i <= 5; i++ {
				f, err := os.Create(filepath.Join(dir, "fd"+strconv.Itoa(i)))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { f.Close() })
				files = append(files, f)
			}
			o := runOpts{extra: files, env: c.env}
			if slices.Contains(c.env, "LISTEN_PID=self") {
				// miniinit's pid is known only once started: go
				// through a shell that execs it with its own pid.
				o.env = []string{"LISTEN_FDS=1"}
			}
			args := []string{"-s", "--", bin.helper, "fds"}
			var r *miniRun
			if slices.Contains(c.env, "LISTEN_PID=self") {
				r = startMiniViaShell(t, o, `export LISTEN_PID=$$; exec "$@"`, args...)
			} else {
				r = startMini(t, o, args...)
			}
			if code := r.wait(30 * time.Second); code != 0 {
				t.Fatalf("exit code %d", code)
			}
			var rep fdReport
			if err := json.Unmarshal([]byte(r.stdout.String()), &rep); err != nil {
				t.Fatalf("helper output %q: %v", r.stdout.String(), err)
			}
			if !slices.Equal(rep.FDs, c.wantFDs) {
				t.Errorf("workload fds %v, want %v", rep.FDs, c.wantFDs)
			}
			if rep.ListenFDs != c.listenFDs {
				t.Errorf("workload LISTEN_FDS=%q, want %q", rep.ListenFDs, c.listenFDs)
			}
			wantPid := ""
			if c.listenFDs != "" {
				wantPid = strconv.Itoa(rep.Pid)
			}
			if rep.ListenPid != wantPid {
				t.Errorf("workload LISTEN_PID=%q, want %q (its pid is %d)", rep.ListenPid, wantPid, rep.Pid)
			}
			for _, p := range rep.Parent {
				if p.FD < 3 {
					continue
				}
				if !p.CloExec {
					t.Errorf("miniinit holds fd %d (%s) without close-on-exec", p.FD, p.Target)
				}
				base := filepath.Base(p.Target)
				if base == "fd4" || base == "fd5" || (base == "fd3" && c.listenFDs == "") {
					t.Errorf("miniinit kept inherited fd %d (%s) open", p.FD, p.Target)
				}
			}
		})
	}
}

// startMiniViaShell starts miniinit through /bin/sh running script with
// miniinit's command line as "$@", for what must be set just before exec.
func startMiniViaShell(t *testing.T, o runOpts, script string, args ...string) *miniRun {
	t.Helper()
	shArgs := append([]string{"-c", script, "sh", bin.miniinit}, args...)
	saved := bin.miniinit
	bin.miniinit = "/bin/sh"
	defer func() { bin.miniinit = saved }()
	return startMini(t, o, shArgs...)
}

// TestWorkingDirectory: the workload starts where miniinit was started
// (docker's WORKDIR); miniinit itself sits in "/", pinning nothing.
func TestWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	rec, ready := filepath.Join(dir, "rec"), filepath.Join(dir, "ready")
	r := startMini(t, runOpts{dir: dir, env: recordEnv}, "-s", "--", bin.helper, "record", rec, ready)
	helper, _ := strconv.Atoi(waitFile(t, ready))
	if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", r.pid())); err != nil || cwd != "/" {
		t.Errorf("miniinit's cwd is %q (%v), want /", cwd, err)
	}
	if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", helper)); err != nil || cwd != dir {
		t.Errorf("workload's cwd is %q (%v), want %s", cwd, err, dir)
	}
	_ = unix.Kill(helper, unix.SIGKILL)
	r.wait(10 * time.Second)

	// A relative command is found from that directory too.
	if err := os.Symlink(bin.helper, filepath.Join(dir, "h")); err != nil {
		t.Fatal(err)
	}
	code, r2 := runMini(t, runOpts{dir: dir}, "-s", "--", "./h", "pwd")
	if code != 0 || strings.TrimSpace(r2.stdout.String()) != dir {
		t.Errorf("./h pwd: code %d, output %q, want %s", code, r2.stdout.String(), dir)
	}
}

// TestProcessName: miniinit names itself, whatever its file is called (a
// memfd shows as a number).
func TestProcessName(t *testing.T) {
	dir := t.TempDir()
	odd := filepath.Join(dir, "3")
	roottest.CopyExec(t, bin.miniinit, odd)
	saved := bin.miniinit
	bin.miniinit = odd
	defer func() { bin.miniinit = saved }()
	rec, ready := filepath.Join(dir, "rec"), filepath.Join(dir, "ready")
	r := startMini(t, runOpts{env: recordEnv}, "-s", "--", bin.helper, "record", rec, ready)
	helper, _ := strconv.Atoi(waitFile(t, ready))
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", r.pid())); err != nil || strings.TrimSpace(string(b)) != "miniinit" {
		t.Errorf("comm is %q (%v), want miniinit", b, err)
	}
	_ = unix.Kill(helper, unix.SIGKILL)
	r.wait(10 * time.Second)
}

// procSelfScript prints $$ and what /proc/self resolves to in the same
// process (exec keeps the pid): equal only when /proc is the namespace's.
const procSelfScript = `echo $$; exec readlink /proc/self`

func procSelfAgrees(out string) bool {
	f := strings.Fields(out)
	return len(f) == 2 && f[0] == f[1]
}

// hostProcMounts counts the mounts on /proc this test process sees.
func hostProcMounts(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == "/proc" {
			n++
		}
	}
	return n
}

// TestProcMount: PID 1 of a new PID and mount namespace with the parent's
// /proc still in place mounts its own; the host's /proc is untouched.
func TestProcMount(t *testing.T) {
	roottest.Require(t)
	before := hostProcMounts(t)
	code, r := runMini(t, runOpts{pid1: true}, "-vv", "--", "/bin/sh", "-c", "cat /proc/1/comm; "+procSelfScript)
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	out := strings.Fields(r.stdout.String())
	if len(out) != 3 || out[0] != "miniinit" || !procSelfAgrees(out[1]+" "+out[2]) {
		t.Errorf("workload saw %q, want its own pid twice and /proc/1 = miniinit", r.stdout.String())
	}
	if !strings.Contains(r.stderr.String(), "mounted proc on /proc") {
		t.Errorf("no mount logged:\n%s", r.stderr.String())
	}
	if after := hostProcMounts(t); after != before {
		t.Errorf("host /proc mounts went from %d to %d", before, after)
	}
}

// TestProcAlreadyOurs: with /proc already mounted for the namespace
// (unshare --mount-proc, docker, runc) miniinit mounts nothing.
func TestProcAlreadyOurs(t *testing.T) {
	roottest.Require(t)
	saved := bin.miniinit
	bin.miniinit = "/usr/bin/unshare"
	code, r := runMini(t, runOpts{}, "--pid", "--fork", "--mount-proc", saved, "-vv", "--", "/bin/sh", "-c", procSelfScript)
	bin.miniinit = saved
	if code != 0 || !procSelfAgrees(r.stdout.String()) {
		t.Fatalf("exit code %d, workload saw %q", code, r.stdout.String())
	}
	if !strings.Contains(r.stderr.String(), "/proc already shows this PID namespace") {
		t.Errorf("stderr:\n%s", r.stderr.String())
	}
}

// TestProcSharedMountNamespace: PID 1 of a new PID namespace that shares
// the host's mount namespace (unshare -p without -m) must not mount: that
// would replace /proc for the whole machine. It warns and runs on.
func TestProcSharedMountNamespace(t *testing.T) {
	roottest.Require(t)
	before := hostProcMounts(t)
	t.Cleanup(func() {
		// Should the guard ever fail, give the machine its /proc back.
		for hostProcMounts(t) > before {
			if err := unix.Unmount("/proc", unix.MNT_DETACH); err != nil {
				t.Errorf("restore /proc: %v", err)
				return
			}
		}
	})
	code, r := runMini(t, runOpts{newPID: true}, "--", "/bin/sh", "-c", "exit 0")
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if !strings.Contains(r.stderr.String(), "not mounting /proc") {
		t.Errorf("no warning:\n%s", r.stderr.String())
	}
	if after := hostProcMounts(t); after != before {
		t.Fatalf("host /proc mounts went from %d to %d", before, after)
	}
}

// TestExitCodesEndToEnd: the exit-code rules, through the real binary.
func TestExitCodesEndToEnd(t *testing.T) {
	dir := t.TempDir()
	noexec := filepath.Join(dir, "noexec")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badInterp := filepath.Join(dir, "bad-interp")
	if err := os.WriteFile(badInterp, []byte("#!/nonexistent/interpreter\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"--", "/bin/sh", "-c", "exit 0"}, 0},
		{[]string{"--", "/bin/sh", "-c", "exit 1"}, 1},
		{[]string{"--", "/bin/sh", "-c", "exit 3"}, 3},
		{[]string{"--", "/bin/sh", "-c", "exit 255"}, 255},
		{[]string{"--", "/bin/sh", "-c", "kill -TERM $$"}, 143},
		{[]string{"--", "/bin/sh", "-c", "kill -KILL $$"}, 137},
		{[]string{"-e", "143", "--", "/bin/sh", "-c", "kill -TERM $$"}, 0},
		{[]string{"-e3", "-e", "4", "--", "/bin/sh", "-c", "exit 4"}, 0},
		{[]string{"-e", "3", "--", "/bin/sh", "-c", "exit 5"}, 5},
		{[]string{"--", "no-such-command"}, ExitNotFound},
		{[]string{"--", filepath.Join(dir, "missing")}, ExitNotFound},
		{[]string{"--", noexec}, ExitNotExecutable},
		{[]string{"--", dir}, ExitNotExecutable},
		{[]string{"--", badInterp}, ExitNotFound},
		{[]string{"--bogus"}, ExitSetup},
		{[]string{"-e", "256", "--", "true"}, ExitSetup},
		{[]string{}, ExitSetup},
		{[]string{"--version"}, 0},
		{[]string{"--help"}, 0},
		// Without "--", the first non-flag starts the command.
		{[]string{"/bin/sh", "-c", "exit 6"}, 6},
	} {
		args := append([]string{"-s"}, c.args...)
		if code, r := runMini(t, runOpts{}, args...); code != c.want {
			t.Errorf("miniinit %q: exit code %d, want %d; stderr:\n%s", args, code, c.want, r.stderr.String())
		}
	}
}
