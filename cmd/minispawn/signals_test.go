package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
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

// signalAfterStart starts minispawn with args (container name), sends it
// sig after delay, and checks that it ends within 5 s as a stop that ends
// in order does (checkStopped), and leaves nothing behind.
func signalAfterStart(t *testing.T, what, name string, sig syscall.Signal, delay time.Duration, args ...string) {
	t.Helper()
	before := snapshotHost(t)
	cmd := exec.Command(filepath.Join(binDir, "minispawn"), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { stopAndCleanName(cmd, done, name) })
	time.Sleep(delay)
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s", what, err, &stderr)
	}
	endsBy(t, cmd, done, 5*time.Second)
	checkStopped(t, what, sig, cmd.ProcessState.Sys().(syscall.WaitStatus), stderr.String())
	checkNothingLeft(t, before, name, "")
}

// endsBy waits for cmd, started by the test, at most timeout.
func endsBy(t *testing.T, cmd *exec.Cmd, done <-chan struct{}, timeout time.Duration) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(timeout):
		t.Fatalf("minispawn %q still running %v after the signal", cmd.Args[1:], timeout)
	}
}

// checkStopped checks one start that got sig: it ended with 0, as a stop
// asked of minispawn that ends in order does (the workload died of the
// signal, or the setup was undone before it started), or died of sig
// itself (before minispawn catches signals: nothing exists yet); and it
// said nothing, or that the setup was interrupted, in words.
func checkStopped(t *testing.T, what string, sig syscall.Signal, ws syscall.WaitStatus, stderr string) {
	t.Helper()
	if !(ws.Exited() && ws.ExitStatus() == 0) && !(ws.Signaled() && ws.Signal() == sig) {
		t.Errorf("%s: %s, want exit 0 (or death by %v before minispawn catches it)\nstderr:\n%s", what, describeStatus(ws), sig, stderr)
	}
	name := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[sig]
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if line != "" && !strings.Contains(line, "setup interrupted by "+name+": the container was removed before its workloads started") {
			t.Errorf("%s: unexpected output %q", what, line)
		}
	}
}

// TestSignalJustAfterStart is issue 16's `minispawn run --rootfs R --
// sleep 1000 & kill -INT $!` with 0-5 ms between, many times, for SIGINT
// and SIGTERM: each start ends at once, with 0, whichever moment
// of the start-up the signal hit (before minispawn catches signals, during
// the setup, between miniinit's exec and its handlers, or after), and
// leaves nothing behind. A signal sent to miniinit before it had a handler
// was dropped by the kernel, and the container ran on.
func TestSignalJustAfterStart(t *testing.T) {
	roottest.Require(t)
	root := busyboxRoot(t)
	if err := os.Symlink("busybox", filepath.Join(root, "bin", "sleep")); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			for try := range 36 {
				delay := time.Duration(try%6) * time.Millisecond
				name := fmt.Sprintf("%s-%d", containerName(t), try)
				signalAfterStart(t, fmt.Sprintf("try %d, %v after the start", try, delay), name, sig, delay,
					"run", "--rootfs", root, "--name", name, "--", "sleep", "1000")
			}
		})
	}
}

// slowBuild lists the shell and sleep and enough other host binaries
// that building a root of them takes a while (about a second here).
func slowBuild(t *testing.T) string {
	t.Helper()
	ents, err := os.ReadDir("/usr/bin")
	if err != nil {
		t.Fatal(err)
	}
	bins := []string{"/bin/sh", "/bin/sleep"}
	for _, e := range ents {
		p := filepath.Join("/usr/bin", e.Name())
		if !e.Type().IsRegular() || len(bins) >= 60 {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		magic := make([]byte, 4)
		_, err = f.Read(magic)
		f.Close()
		if err == nil && string(magic) == "\x7fELF" {
			bins = append(bins, p)
		}
	}
	sort.Strings(bins[2:])
	for i, b := range bins {
		bins[i] = fmt.Sprintf("%q", b)
	}
	return "[" + strings.Join(bins, ", ") + "]"
}

// TestSignalDuringSlowBuild: SIGINT or SIGTERM while a slow rootfs.build
// runs (in the container, or on the host into rootfs.cache), or just
// after, ends the start-up promptly with 0 and a plain message.
// Before, a SIGINT at 0.6-0.9 s was lost (the container ran on), and a
// SIGTERM gave exit 2 and no word, or 125 and "interrupted by terminated
// during setup".
func TestSignalDuringSlowBuild(t *testing.T) {
	roottest.Require(t)
	build := slowBuild(t)
	for _, cached := range []bool{false, true} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			t.Run(fmt.Sprintf("cache=%v/%v", cached, sig), func(t *testing.T) {
				for _, at := range []time.Duration{300 * time.Millisecond, 600 * time.Millisecond, 900 * time.Millisecond} {
					name := containerName(t)
					cache := ""
					if cached {
						// A new cache each time: every start builds.
						cache = fmt.Sprintf("cache = %q", filepath.Join(t.TempDir(), "cache"))
					}
					cfg := writeConfig(t, fmt.Sprintf(`name = %q
[rootfs]
build = %s
%s
[[workload]]
name = "main"
command = "/bin/sh"
args = ["-c", "exec sleep 1000"]
`, name, build, cache))
					signalAfterStart(t, fmt.Sprintf("%v at %v", sig, at), name, sig, at, "-c", cfg)
				}
			})
		}
	}
}

// TestSighupReachesWorkloads: SIGHUP to minispawn is forwarded, as the
// README says (it was always taken as a reload, which an ad-hoc run
// refused): the workload of `minispawn run` gets it, and init.signals
// routes it to the workloads it names only.
func TestSighupReachesWorkloads(t *testing.T) {
	roottest.Require(t)
	hupScript := func(who string) string {
		return `trap 'echo ` + who + ` got HUP' HUP; echo ` + who + ` ready; while :; do sleep 0.05; done`
	}
	t.Run("run", func(t *testing.T) {
		name := containerName(t)
		s := startMinispawnArgs(t, name, "run", "--rootfs", busyboxRoot(t), "--name", name, "--", "/bin/sh", "-c", hupScript("main"))
		s.expect(t, "main ready", 30*time.Second)
		s.cmd.Process.Signal(syscall.SIGHUP)
		s.expect(t, "main got HUP", 10*time.Second)
	})
	t.Run("routed", func(t *testing.T) {
		name := containerName(t)
		cfg := writeConfig(t, fmt.Sprintf(`name = %q
[rootfs]
build = %s
[init]
signals = { SIGHUP = ["web"] }
%s%s`, name, testRootBinaries, shWorkload("web", hupScript("web"), true), shWorkload("other", hupScript("other"), false)))
		s := startMinispawnArgs(t, name, "-c", cfg)
		for _, want := range []string{"web ready", "other ready"} {
			if !slices.Contains(s.seen, want) {
				s.expect(t, want, 30*time.Second)
			}
		}
		s.cmd.Process.Signal(syscall.SIGHUP)
		s.expect(t, "web got HUP", 10*time.Second)
		// other's trap, had it been sent the signal too, runs within
		// one of its 50 ms sleeps of web's.
		time.Sleep(500 * time.Millisecond)
		s.cmd.Process.Signal(syscall.SIGTERM)
		s.wait(t, 20*time.Second)
		for line := range s.lines {
			s.seen = append(s.seen, line)
		}
		if slices.Contains(s.seen, "other got HUP") {
			t.Errorf("SIGHUP reached other, which init.signals does not name: %q", s.seen)
		}
	})
}
