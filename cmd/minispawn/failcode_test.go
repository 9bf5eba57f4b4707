package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// A container that ends because a workload failed must look failed to
// systemd, which (without SuccessExitStatus=143) counts only 0 as
// success: minispawn exits with the failure's code, and its last STATUS=
// and an error line say which workload failed and why; a stop asked of
// minispawn exits 0. The scenarios are the issue's, run with
// $NOTIFY_SOCKET as under systemd.

// failConfig: db (essential) and web (main), both sleeping; marker is in
// db's command line, to find it from the host.
func failConfig(t *testing.T, name, marker, top, extraDB, extraWeb string) string {
	return writeConfig(t, fmt.Sprintf(`name = %q
%s
[rootfs]
build = %s
[[workload]]
name = "db"
command = "/bin/sleep"
args = [%q]
essential = true
%s
[[workload]]
name = "web"
command = "/bin/sleep"
args = ["1002"]
main = true
%s
`, name, top, testRootBinaries, marker, extraDB, extraWeb))
}

// failRun starts the container, does what kill says once it is up (or
// nothing), and returns minispawn's exit code, its output and the last
// STATUS= it sent.
func failRun(t *testing.T, cfg string, up func(t *testing.T) bool, kill func(t *testing.T)) (int, string, string) {
	t.Helper()
	rec := newNotifyRecorder(t)
	cmd, out := startService(t, cfg, rec)
	if kill != nil {
		deadline := time.Now().Add(30 * time.Second)
		for !up(t) {
			if time.Now().After(deadline) {
				t.Fatalf("the container never came up\n%s", out)
			}
			time.Sleep(50 * time.Millisecond)
		}
		kill(t)
	}
	_ = cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	got := rec.until(t, "cleaning up", 5*time.Second)
	last := ""
	for _, m := range got {
		for _, line := range strings.Split(m.text, "\n") {
			if s, ok := strings.CutPrefix(line, "STATUS="); ok {
				last = s
			}
		}
	}
	return code, out.String(), last
}

func TestFailCodeUnderService(t *testing.T) {
	roottest.Require(t)
	for _, c := range []struct {
		name, top, db, web string
		kill               bool // SIGTERM to db from the host
		stop               bool // SIGTERM to minispawn
		want               int
		why                string
	}{
		{name: "essential killed from outside", kill: true, want: 143,
			why: `essential workload "db" failed: killed by SIGTERM`},
		{name: "main start timeout", top: "[systemd]\nnotify = \"started\"",
			web: "ready = { exec = [\"/bin/sh\", \"-c\", \"exit 1\"], interval = \"100ms\" }\nstart_timeout = \"700ms\"", want: 1,
			why: `main workload "web" failed: not ready within start timeout 700ms`},
		{name: "essential start timeout",
			db: "ready = { exec = [\"/bin/sh\", \"-c\", \"exit 1\"], interval = \"100ms\" }\nstart_timeout = \"700ms\"", want: 1,
			why: `essential workload "db" failed: not ready within start timeout 700ms`},
		{name: "health stop", db: `health = { exec = ["/bin/sh", "-c", "exit 1"], interval = "200ms", retries = 2, action = "stop" }`, want: 1,
			why: `essential workload "db" failed: unhealthy: 2 failed checks`},
		{name: "stop asked", stop: true, want: 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := containerName(t)
			before := snapshotHost(t)
			marker := fmt.Sprintf("1001.%d", rand.IntN(1e9))
			cfg := failConfig(t, name, marker, c.top, c.db, c.web)
			up := func(t *testing.T) bool { return len(findProcs(marker)) == 1 && len(findProcs("1002")) > 0 }
			var act func(t *testing.T)
			var self int
			switch {
			case c.kill:
				act = func(t *testing.T) { syscall.Kill(findProcs(marker)[0], syscall.SIGTERM) }
			case c.stop:
				act = func(t *testing.T) {
					for _, p := range findProcs(cfg) {
						self = p
						syscall.Kill(p, syscall.SIGTERM)
					}
				}
			}
			code, out, last := failRun(t, cfg, up, act)
			if c.stop && self == 0 {
				t.Fatal("minispawn not found")
			}
			if code != c.want {
				t.Errorf("exit %d, want %d\n%s", code, c.want, out)
			}
			if c.why == "" {
				if strings.Contains(last, "failed") || strings.Contains(out, "container failed") {
					t.Errorf("a stop that was asked reads as a failure: STATUS=%q\n%s", last, out)
				}
			} else {
				if !strings.Contains(last, "container exited (") || !strings.Contains(last, "): "+c.why) {
					t.Errorf("last STATUS=%q, want the failure %q", last, c.why)
				}
				if !strings.Contains(out, "minispawn: error: container failed: "+c.why) {
					t.Errorf("no error line naming the failure %q:\n%s", c.why, out)
				}
			}
			checkNothingLeft(t, before, name, marker)
		})
	}
}

// TestWatchdogAbort: systemd's watchdog ends a unit whose pings stopped
// (its PID 1 hung) with SIGABRT. minispawn logs one error line instead of
// the Go runtime's crash dump, kills the container and removes its
// cgroups (v1 ones included), so the next start finds nothing to clean.
func TestWatchdogAbort(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	before := snapshotHost(t)
	rec := newNotifyRecorder(t)
	cfg := failConfig(t, name, fmt.Sprintf("1001.%d", rand.IntN(1e9)), "", "", "")
	cmd, out := startService(t, cfg, rec, "WATCHDOG_USEC=400000")
	rec.until(t, "READY=1", 30*time.Second)
	// The hang: miniinit stops answering, so the pings stop.
	// The thread that cloned it is its parent: any of minispawn's.
	var kids []byte
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", cmd.Process.Pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		kids = append(kids, b...)
	}
	init, _ := strconv.Atoi(strings.Fields(string(kids) + " 0")[0])
	if init == 0 {
		t.Fatalf("miniinit's pid not found among minispawn's children")
	}
	syscall.Kill(init, syscall.SIGSTOP)
	time.Sleep(time.Second)
	if err := cmd.Process.Signal(syscall.SIGABRT); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitAbort {
		t.Errorf("exit %d, want %d\n%s", code, exitAbort, out)
	}
	var abortLines []string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, "SIGABRT") {
			abortLines = append(abortLines, line)
		}
	}
	if len(abortLines) != 1 || !strings.HasPrefix(abortLines[0], "minispawn: error: aborted by SIGABRT") {
		t.Errorf("want one error line about SIGABRT, got %q", abortLines)
	}
	if strings.Contains(out.String(), "goroutine ") {
		t.Errorf("a Go trace:\n%s", out)
	}
	checkNothingLeft(t, before, name, "")
}
