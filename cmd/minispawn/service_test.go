package main

// minispawn and miniinit together as systemd sees them, without systemd:
// a unixgram socket as $NOTIFY_SOCKET records what minispawn sends.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// notifyRecorder collects every datagram sent to it, with its arrival
// time, until closed.
type notifyRecorder struct {
	path string
	msgs chan stamped
}

type stamped struct {
	at   time.Time
	text string
}

func newNotifyRecorder(t *testing.T) *notifyRecorder {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	r := &notifyRecorder{path: path, msgs: make(chan stamped, 1024)}
	go func() {
		buf := make([]byte, 8192)
		for {
			n, err := c.Read(buf)
			if err != nil {
				close(r.msgs)
				return
			}
			r.msgs <- stamped{time.Now(), string(buf[:n])}
		}
	}()
	t.Cleanup(func() { c.Close() })
	return r
}

// until returns the messages up to and including the first that
// contains want, or fails after timeout.
func (r *notifyRecorder) until(t *testing.T, want string, timeout time.Duration) []stamped {
	t.Helper()
	var got []stamped
	deadline := time.After(timeout)
	for {
		select {
		case m, ok := <-r.msgs:
			if !ok {
				t.Fatalf("notify socket closed before %q; got %q", want, texts(got))
			}
			got = append(got, m)
			if strings.Contains(m.text, want) {
				return got
			}
		case <-deadline:
			t.Fatalf("no %q within %v; got %q", want, timeout, texts(got))
		}
	}
}

func texts(ms []stamped) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.text)
	}
	return out
}

// serviceConfig is a container of two workloads: db becomes ready
// (exec probe) only after dbDelay; web, the main one, starts after db is
// ready, is ready once its SIGTERM trap is set, and stops cleanly.
func serviceConfig(t *testing.T, name, dbDelay string) string {
	return writeConfig(t, fmt.Sprintf(`name = %q
[rootfs]
build = %s
[limits]
memory = "128M"
pids = 64
[[workload]]
name = "db"
command = "/bin/sh"
args = ["-c", "sleep %s; : > /tmp/db.ready; echo db ready; exec sleep 1000"]
essential = true
ready = { exec = ["/bin/sh", "-c", "test -e /tmp/db.ready"], interval = "100ms" }
[[workload]]
name = "web"
command = "/bin/sh"
args = ["-c", "trap 'echo web stopping; exit 0' TERM; : > /tmp/web.ready; echo web serving; while :; do sleep 0.1; done"]
main = true
after = { db = "ready" }
ready = { exec = ["/bin/sh", "-c", "test -e /tmp/web.ready"], interval = "100ms" }
`, name, testRootBinaries, dbDelay))
}

// startService runs minispawn -c cfg with $NOTIFY_SOCKET (and extra
// environment) and returns it running; the cleanup kills it.
func startService(t *testing.T, cfg string, rec *notifyRecorder, env ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "minispawn"), "-c", cfg)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "NOTIFY_SOCKET=" + rec.path}, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The test may have waited for it already.
		if cmd.ProcessState == nil {
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			stopAndClean(cmd, done, cfg)
		}
		cancel()
	})
	return cmd, &out
}

// TestServiceReadyWaitsForWorkloads: READY=1 comes only once miniinit
// reports every essential workload ready (db needs 1.5s), with a status
// line a person can read before and after; SIGTERM gives STOPPING=1 and
// "stopping: waiting for ..." lines, and a clean exit.
func TestServiceReadyWaitsForWorkloads(t *testing.T) {
	roottest.Require(t)
	before := snapshotHost(t)
	name := containerName(t)
	rec := newNotifyRecorder(t)
	t0 := time.Now()
	cmd, out := startService(t, serviceConfig(t, name, "1.5"), rec)
	got := rec.until(t, "READY=1", 30*time.Second)
	ready := got[len(got)-1]
	if d := ready.at.Sub(t0); d < 1500*time.Millisecond {
		t.Errorf("READY=1 after %v, before db could be ready (1.5s)", d)
	}
	if !strings.Contains(ready.text, "STATUS=2/2 workloads ready") {
		t.Errorf("READY=1 came with %q, want STATUS=2/2 workloads ready", ready.text)
	}
	all := strings.Join(texts(got), "\n")
	for _, want := range []string{
		"STATUS=setting up container " + name,
		"STATUS=0/2 workloads ready; waiting for db (starting), web (waiting)",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q before READY=1:\n%s", want, all)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stop := strings.Join(texts(rec.until(t, "STATUS=stopping", 10*time.Second)), "\n")
	if !strings.Contains(stop, "STOPPING=1") {
		t.Errorf("no STOPPING=1 on SIGTERM:\n%s", stop)
	}
	err := cmd.Wait()
	if err != nil {
		t.Errorf("minispawn after SIGTERM: %v (want exit 0: web stops cleanly)\n%s", err, out)
	}
	checkNothingLeft(t, before, name, name)
}

// TestServiceProgressExtendsTimeout: while a start progresses (one
// workload up, the essential one not yet), minispawn asks the manager
// for more time.
func TestServiceProgressExtendsTimeout(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	rec := newNotifyRecorder(t)
	cfg := writeConfig(t, fmt.Sprintf(`name = %q
[rootfs]
build = %s
[[workload]]
name = "quick"
command = "/bin/sleep"
args = ["1000"]
[[workload]]
name = "slow"
command = "/bin/sh"
args = ["-c", "sleep 1; : > /tmp/up; exec sleep 1000"]
main = true
start_timeout = "45s"
ready = { exec = ["/bin/sh", "-c", "test -e /tmp/up"], interval = "100ms" }
`, name, testRootBinaries))
	startService(t, cfg, rec)
	got := strings.Join(texts(rec.until(t, "READY=1", 30*time.Second)), "\n")
	if !strings.Contains(got, "EXTEND_TIMEOUT_USEC=45000000") {
		t.Errorf("no EXTEND_TIMEOUT_USEC=45000000 (slow's start_timeout) once quick was up:\n%s", got)
	}
}

// TestServiceWatchdogFollowsMiniinit: with a watchdog, minispawn pings
// while miniinit answers heartbeats; a frozen miniinit (SIGSTOP: a hung
// PID 1) stops the pings.
func TestServiceWatchdogFollowsMiniinit(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	rec := newNotifyRecorder(t)
	// WATCHDOG_PID must be minispawn's own pid: sh sets it, then
	// becomes minispawn.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := shellConfig(t, name, "exec sleep 1000", "")
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", `WATCHDOG_PID=$$ exec "$0" -c "$1"`, filepath.Join(binDir, "minispawn"), cfg)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "NOTIFY_SOCKET=" + rec.path, "WATCHDOG_USEC=400000"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { stopAndClean(cmd, done, cfg) })
	rec.until(t, "READY=1", 30*time.Second)
	pings := func(d time.Duration) int {
		n := 0
		deadline := time.After(d)
		for {
			select {
			case m := <-rec.msgs:
				if m.text == "WATCHDOG=1" {
					n++
				}
			case <-deadline:
				return n
			}
		}
	}
	if n := pings(time.Second); n < 4 {
		t.Fatalf("%d pings in 1s with WatchdogSec=400ms while miniinit answers, want ~10\n%s", n, &out)
	}
	init := miniinitPid(t, cmd.Process.Pid)
	if err := syscall.Kill(init, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(init, syscall.SIGCONT)
	pings(300 * time.Millisecond) // the last answer ages past interval/2
	if n := pings(time.Second); n != 0 {
		t.Fatalf("%d pings in 1s while miniinit was frozen, want none", n)
	}
	syscall.Kill(init, syscall.SIGCONT)
	if n := pings(time.Second); n < 3 {
		t.Fatalf("%d pings in 1s after miniinit thawed, want ~10", n)
	}
}

// miniinitPid finds the container's PID 1 (host pid): the child of
// minispawn named miniinit.
func miniinitPid(t *testing.T, minispawn int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if err != nil {
				continue
			}
			// "PID (COMM) STATE PPID ...": the name may hold spaces.
			i := bytes.LastIndexByte(stat, ')')
			j := bytes.IndexByte(stat, '(')
			f := strings.Fields(string(stat[i+1:]))
			if j < 0 || i < j || len(f) < 2 || string(stat[j+1:i]) != "miniinit" {
				continue
			}
			if ppid, _ := strconv.Atoi(f[1]); ppid == minispawn {
				return pid
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no miniinit child of minispawn %d", minispawn)
	return 0
}

// forgeEnv makes TestForgerHelper, run as a workload inside a container,
// send the service manager's most dangerous messages to the notify
// socket it was given (miniinit's), then wait.
const forgeEnv = "MINISPAWN_TEST_FORGE"

// TestForgerHelper is not a test: it is the body of the forging workload,
// and returns at once in a normal run.
func TestForgerHelper(t *testing.T) {
	if os.Getenv(forgeEnv) == "" {
		return
	}
	addr := &net.UnixAddr{Name: os.Getenv("NOTIFY_SOCKET"), Net: "unixgram"}
	c, err := net.DialUnix("unixgram", nil, addr)
	if err != nil {
		fatalHelper(err)
	}
	for _, m := range []string{
		"MAINPID=1\nSTATUS=forged by a workload\nFDSTORE=1\nWATCHDOG=trigger\nNOTIFYACCESS=all",
		"READY=1",
	} {
		if _, err := c.Write([]byte(m)); err != nil {
			fatalHelper(err)
		}
	}
	time.Sleep(time.Hour)
}

// TestServiceForgedNotifyDropped: a workload inside the container sends
// MAINPID=, STATUS=, FDSTORE=, WATCHDOG=trigger and READY=1 on the notify
// socket it has. Its READY=1 makes it ready (that is what the socket is
// for), so the container becomes ready; nothing else it said reaches the
// host's manager.
func TestServiceForgedNotifyDropped(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	rec := newNotifyRecorder(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, fmt.Sprintf(`name = %q
[rootfs]
build = ["/bin/sh", %q]
[[workload]]
name = "liar"
command = %q
args = ["-test.run=^TestForgerHelper$"]
env = { %s = "1", MINISPAWN_TEST_BINDIR = "/nonexistent" }
ready = { notify = true }
`, name, self, self, forgeEnv))
	cmd, out := startService(t, cfg, rec)
	got := rec.until(t, "READY=1", 30*time.Second)
	// A little longer, for anything sent after READY=1.
	time.Sleep(300 * time.Millisecond)
	for len(rec.msgs) > 0 {
		got = append(got, <-rec.msgs)
	}
	all := strings.Join(texts(got), "\n")
	for _, bad := range []string{"forged by a workload", "MAINPID", "FDSTORE", "WATCHDOG=trigger", "NOTIFYACCESS"} {
		if strings.Contains(all, bad) {
			t.Errorf("%s reached the host's manager:\n%s", bad, all)
		}
	}
	if !strings.Contains(all, "STATUS=1/1 workloads ready") {
		t.Errorf("the container did not become ready through the workload's own READY=1:\n%s\n%s", all, out)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
}

// TestServiceReloadSendsTheFile: `minispawn ctl -c FILE reload` (the
// units' ExecReload) makes miniinit ask minispawn for the file, which
// minispawn reads again and hands over; miniinit restarts the workloads
// whose definition changed: RELOADING=1, then READY=1 with the count. A
// broken file is refused on the host, before the container hears of it.
func TestServiceReloadSendsTheFile(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	rec := newNotifyRecorder(t)
	cfg := serviceConfig(t, name, "0")
	cmd, out := startService(t, cfg, rec)
	rec.until(t, "READY=1", 30*time.Second)

	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), "echo web serving", "echo web v2 serving", 1)
	if err := os.WriteFile(cfg, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := runMinispawn(t, 30*time.Second, "ctl", "-c", cfg, "reload"); res.code != 0 || res.stdout != "reloaded; changed: web\n" {
		t.Errorf("ctl reload: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	got := texts(rec.until(t, "STATUS=reloaded", 20*time.Second))
	all := strings.Join(got, "\n")
	if !strings.Contains(all, "RELOADING=1\nMONOTONIC_USEC=") || !strings.Contains(got[len(got)-1], "READY=1\nSTATUS=reloaded: 1 workload(s) changed") {
		t.Errorf("reload of an edited file:\n%s\n%s", all, out)
	}

	// The limits and the name wait for a restart: the reload says so, at
	// warning priority and in every status line after it.
	limited := strings.Replace(strings.Replace(edited, `memory = "128M"`, `memory = "256M"`, 1), fmt.Sprintf("name = %q", name), fmt.Sprintf("name = %q", name+"x"), 1)
	if err := os.WriteFile(cfg, []byte(limited), 0o644); err != nil {
		t.Fatal(err)
	}
	// -name: the file now names another container.
	if res := runMinispawn(t, 30*time.Second, "ctl", "-name", name, "reload"); res.code != 0 {
		t.Errorf("ctl reload: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	got = texts(rec.until(t, "STATUS=reloaded", 20*time.Second))
	if last := got[len(got)-1]; !strings.Contains(last, "STATUS=reloaded: 0 workload(s) changed; restart to apply: name, hostname, limits") {
		t.Errorf("reload of changed limits and name: %q", last)
	}

	if err := os.WriteFile(cfg, []byte(edited+"\nbogus = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// -name: ctl reaches the container without reading the file.
	if res := runMinispawn(t, 30*time.Second, "ctl", "-name", name, "reload"); res.code != exitCtlFailed || !strings.Contains(res.stderr, "bogus") {
		t.Errorf("ctl reload of a broken file: exit %d\nstderr:\n%s", res.code, res.stderr)
	}
	got = texts(rec.until(t, "STATUS=reload refused", 10*time.Second))
	if all := strings.Join(got, "\n"); strings.Contains(all, "RELOADING") || !strings.Contains(all, "bogus") {
		t.Errorf("reload of a broken file:\n%s", all)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if want := "minispawn: warn: reload: not applied until the container restarts: name, hostname, limits"; !strings.Contains(out.String(), want) {
		t.Errorf("no %q:\n%s", want, out)
	}
}
