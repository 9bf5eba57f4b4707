package pid1

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
	"golang.org/x/sys/unix"
)

// Supervised mode, end to end: miniinit -c with real workloads (the test
// helper), real signals, sockets and probes, as a child subreaper. Every
// run is bounded by startMini's cleanup and the waits below.

// sup is one supervised run's directory, configuration and socket.
type sup struct {
	t      *testing.T
	dir    string
	file   string
	socket string
	report string
	run    *miniRun
}

// newSup writes a configuration: body (workloads and keys) after the
// container's name, a root, the control socket and the report.
// markApp is a main workload that marks its start in DIR/app and runs
// until its SIGTERM: the steady main of tests about other workloads.
const markApp = `
[[workload]]
name = "app"
command = "HELPER"
args = ["mark", "DIR/app"]
main = true
`

func newSup(t *testing.T, init, body string) *sup {
	t.Helper()
	dir := t.TempDir()
	s := &sup{t: t, dir: dir, file: filepath.Join(dir, "app.toml"), socket: filepath.Join(dir, "ctl.sock"), report: filepath.Join(dir, "report.json")}
	doc := fmt.Sprintf("name = \"t\"\nrootfs.path = \"/\"\n[init]\ncontrol = %q\nreport = %q\n%s\n%s", s.socket, s.report, init, body)
	doc = strings.ReplaceAll(doc, "HELPER", bin.helper)
	doc = strings.ReplaceAll(doc, "DIR", dir)
	if err := os.WriteFile(s.file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	// Registered before startMini's cleanup, so it runs after it (last
	// in, first out), once miniinit has ended: a miniinit the cleanup had
	// to kill had no chance to remove its cgroups, so the test does.
	t.Cleanup(func() {
		if s.run != nil {
			<-s.run.done
		}
		removeStale(cgroupParentForTest())
	})
	return s
}

func (s *sup) start(extra ...string) *miniRun {
	s.t.Helper()
	return s.startWith(runOpts{}, extra...)
}

// startWith starts miniinit with run options (PID 1 of a new namespace...).
func (s *sup) startWith(o runOpts, extra ...string) *miniRun {
	s.t.Helper()
	s.run = startMini(s.t, o, append([]string{"-s", "-v", "-c", s.file}, extra...)...)
	return s.run
}

// cgroupParentForTest is where this test process's miniinits make their
// cgroups ("" when there are none).
func cgroupParentForTest() string {
	mount, err := cgroup2Mount()
	if err != nil {
		return ""
	}
	own, err := ownCgroup("/proc/self/cgroup")
	if err != nil {
		return ""
	}
	return filepath.Join(mount, own)
}

// ctl sends one control request, waiting for the socket to appear.
func (s *sup) ctl(req ControlRequest) ControlResponse {
	s.t.Helper()
	waitFor(s.t, 10*time.Second, "the control socket", func() bool { _, err := os.Stat(s.socket); return err == nil })
	resp, err := Control(s.socket, req, 10*time.Second)
	if err != nil {
		s.t.Fatalf("control %v: %v", req, err)
	}
	return resp
}

// state returns a workload's state as status says.
func (s *sup) state(name string) string {
	for _, w := range s.ctl(ControlRequest{Op: "status"}).Workloads {
		if w.Name == name {
			return w.State.String()
		}
	}
	s.t.Fatalf("no workload %s in status", name)
	return ""
}

func (s *sup) waitState(name, want string) {
	s.t.Helper()
	waitFor(s.t, 10*time.Second, name+" "+want, func() bool { return s.state(name) == want })
}

func (s *sup) signal(sig syscall.Signal) {
	s.t.Helper()
	if err := syscall.Kill(s.run.pid(), sig); err != nil {
		s.t.Fatal(err)
	}
}

// lines reads a mark file's lines.
func lines(path string) []string {
	b, _ := os.ReadFile(path)
	return strings.Fields(strings.ReplaceAll(string(b), "\n", " | "))
}

func count(path, word string) int {
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), word+" ")
}

// TestSupervisedZeroBackoff: with backoff zero a crash-looping workload
// restarts as fast as it can start; 200 failures (the give-up rule) take
// well under the second a single fixed sleep would cost per restart, and
// the essential workload's failure ends the container with its code.
func TestSupervisedZeroBackoff(t *testing.T) {
	s := newSup(t, "", `
[[workload]]
name = "app"
command = "HELPER"
args = ["sleeper", "DIR"]
main = true
[[workload]]
name = "flap"
command = "HELPER"
args = ["mark", "DIR/flap", "7"]
essential = true
restart = "always"
backoff = { initial = "0s" }
give_up = { failures = 200 }
`)
	start := time.Now()
	code := s.start().wait(60 * time.Second)
	if code != 7 {
		t.Fatalf("exit code %d, want 7 (the essential workload's)", code)
	}
	if n := count(filepath.Join(s.dir, "flap"), "start"); n != 200 {
		t.Errorf("%d starts, want 200", n)
	}
	elapsed := time.Since(start)
	t.Logf("200 starts and the shutdown in %v", elapsed)
	if elapsed > 20*time.Second {
		t.Errorf("took %v: restarts are not immediate", elapsed)
	}
	rp := readReport(t, s.report)
	if rp.Shutdown.Reason != "essential-failed" || rp.Shutdown.Workload != "flap" || rp.Workloads[1].Restarts != 199 || rp.Workloads[1].State != "failed" {
		t.Errorf("report %+v", rp)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "terminated")); err != nil {
		t.Errorf("main was not stopped with SIGTERM: %v", err)
	}
}

// TestSupervisedNotify: a workload becomes ready by READY=1 on
// NOTIFY_SOCKET, its STATUS= shows in status, its dependent starts only
// then, and a READY=1 from a process that is not the workload's is
// ignored.
func TestSupervisedNotify(t *testing.T) {
	s := newSup(t, "", `
[[workload]]
name = "db"
command = "/bin/sh"
args = ["-c", "echo $NOTIFY_SOCKET > DIR/sock; touch DIR/db-up; while [ ! -e DIR/go ]; do sleep 0.02; done; exec HELPER notify warm"]
ready = { notify = true }
[[workload]]
name = "web"
command = "HELPER"
args = ["mark", "DIR/web"]
main = true
requires = { db = "ready" }
`)
	s.start()
	waitFile(t, filepath.Join(s.dir, "db-up"))
	// Not the workload's: the test itself claims db is ready.
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	addr := strings.TrimSpace(waitFile(t, filepath.Join(s.dir, "sock")))
	if err := unix.Sendto(fd, []byte("READY=1"), 0, &unix.SockaddrUnix{Name: addr}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if st := s.state("db"); st != "starting" {
		t.Fatalf("db is %s after a stranger's READY=1, want starting", st)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "web")); err == nil {
		t.Fatal("web started before db was ready")
	}
	if err := os.WriteFile(filepath.Join(s.dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFile(t, filepath.Join(s.dir, "web"))
	s.waitState("db", "ready")
	for _, w := range s.ctl(ControlRequest{Op: "status"}).Workloads {
		if w.Name == "db" && w.Text != "warm" {
			t.Errorf("db's status text %q, want warm", w.Text)
		}
	}
	if !strings.Contains(s.run.stderr.String(), "no workload's: dropped") {
		t.Errorf("the stranger's datagram was not reported as dropped:\n%s", s.run.stderr.String())
	}
	s.signal(syscall.SIGTERM)
	if code := s.run.wait(30 * time.Second); code != 0 {
		t.Errorf("exit code %d, want 0 (web's, stopped cleanly)", code)
	}
}

// TestSupervisedReadyFD: readiness by a line on a descriptor (s6).
func TestSupervisedReadyFD(t *testing.T) {
	s := newSup(t, "", `
[[workload]]
name = "db"
command = "/bin/sh"
args = ["-c", "while [ ! -e DIR/go ]; do sleep 0.02; done; exec HELPER readyfd 5"]
ready = { fd = 5 }
[[workload]]
name = "web"
command = "HELPER"
args = ["mark", "DIR/web"]
main = true
after = { db = "ready" }
`)
	s.start()
	s.waitState("db", "starting")
	time.Sleep(200 * time.Millisecond)
	if s.state("web") != "waiting" {
		t.Fatal("web did not wait for db")
	}
	os.WriteFile(filepath.Join(s.dir, "go"), nil, 0o644)
	waitFile(t, filepath.Join(s.dir, "web"))
	if st := s.state("db"); st != "ready" {
		t.Errorf("db is %s", st)
	}
	s.signal(syscall.SIGTERM)
	s.run.wait(30 * time.Second)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestSupervisedProbesAndHealth: readiness by TCP and exec probes, an
// HTTP health check, `health` answering only when every essential
// workload is ready and healthy, and the restart action of an unhealthy
// workload.
func TestSupervisedProbesAndHealth(t *testing.T) {
	port := freePort(t)
	s := newSup(t, "", fmt.Sprintf(`
[[workload]]
name = "api"
command = "/bin/sh"
args = ["-c", "sleep 0.3; exec HELPER serve 127.0.0.1:%[1]d"]
essential = true
ready = { tcp = "127.0.0.1:%[1]d", interval = "50ms" }
health = { http = "http://127.0.0.1:%[1]d/healthz", interval = "100ms" }
[[workload]]
name = "worker"
command = "HELPER"
args = ["mark", "DIR/worker"]
essential = true
restart = "on-failure"
backoff = { initial = "0s" }
ready = { exec = ["test", "-e", "DIR/worker-ready"], interval = "50ms" }
health = { exec = ["test", "-e", "DIR/alive"], interval = "100ms", retries = 2, action = "restart" }
[[workload]]
name = "app"
command = "HELPER"
args = ["sleeper", "DIR"]
main = true
requires = { api = "healthy", worker = "ready" }
`, port))
	os.WriteFile(filepath.Join(s.dir, "alive"), nil, 0o644)
	s.start()
	waitFile(t, filepath.Join(s.dir, "worker"))
	if resp := s.ctl(ControlRequest{Op: "health"}); resp.OK {
		t.Fatal("healthy before anything was ready")
	}
	os.WriteFile(filepath.Join(s.dir, "worker-ready"), nil, 0o644)
	waitFile(t, filepath.Join(s.dir, "sleeper.pid"))
	waitFor(t, 10*time.Second, "health", func() bool { return s.ctl(ControlRequest{Op: "health"}).OK })

	// worker turns unhealthy: two failed checks, then it is restarted.
	os.Remove(filepath.Join(s.dir, "alive"))
	waitFor(t, 10*time.Second, "worker's restart", func() bool { return count(filepath.Join(s.dir, "worker"), "start") >= 2 })
	if n := count(filepath.Join(s.dir, "worker"), "term"); n < 1 {
		t.Errorf("worker was not stopped with SIGTERM before its restart: %v", lines(filepath.Join(s.dir, "worker")))
	}
	if resp := s.ctl(ControlRequest{Op: "health"}); resp.OK {
		t.Errorf("healthy while worker restarts: %+v", resp)
	}
	os.WriteFile(filepath.Join(s.dir, "alive"), nil, 0o644)
	waitFor(t, 10*time.Second, "health again", func() bool { return s.ctl(ControlRequest{Op: "health"}).OK })

	// The command-line answer, as a HEALTHCHECK runs it.
	if out, err := runHealth(s.socket); err != nil {
		t.Errorf("miniinit health: %v\n%s", err, out)
	}
	s.signal(syscall.SIGTERM)
	if code := s.run.wait(30 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func runHealth(socket string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin.miniinit, "health", "-s", socket).CombinedOutput()
	return string(out), err
}

// TestSupervisedSignalRouting: a routed signal reaches only its
// workloads; an unrouted one reaches all; SIGTERM is the shutdown.
func TestSupervisedSignalRouting(t *testing.T) {
	s := newSup(t, `signals = { SIGHUP = ["web"] }`, `
[[workload]]
name = "web"
command = "HELPER"
args = ["record", "DIR/web", "DIR/web-ready"]
main = true
env = { GODEBUG = "asyncpreemptoff=1" }
[[workload]]
name = "other"
command = "HELPER"
args = ["record", "DIR/other", "DIR/other-ready"]
env = { GODEBUG = "asyncpreemptoff=1" }
`)
	s.start()
	waitFile(t, filepath.Join(s.dir, "web-ready"))
	waitFile(t, filepath.Join(s.dir, "other-ready"))
	s.signal(syscall.SIGHUP)
	s.signal(syscall.SIGUSR1)
	waitFor(t, 10*time.Second, "USR1 at both", func() bool {
		return len(recorded(t, filepath.Join(s.dir, "web"))) >= 2 && len(recorded(t, filepath.Join(s.dir, "other"))) >= 1
	})
	// (two signals pending at once may be delivered in either order)
	if got := slices.Sorted(slices.Values(names(recorded(t, filepath.Join(s.dir, "web"))))); strings.Join(got, " ") != "SIGHUP SIGUSR1" {
		t.Errorf("web got %v, want SIGHUP and SIGUSR1", got)
	}
	if got := names(recorded(t, filepath.Join(s.dir, "other"))); strings.Join(got, " ") != "SIGUSR1" {
		t.Errorf("other got %v, want SIGUSR1 only", got)
	}
	s.signal(syscall.SIGTERM)
	// record catches SIGTERM and goes on: the stop timeout kills them.
	code := s.run.wait(30 * time.Second)
	if code != 137 {
		t.Errorf("exit code %d, want 137 (web SIGKILLed at its stop timeout)", code)
	}
}

// TestSupervisedTreeStop: stopping a workload stops all of it, including
// a process that left its process group and session by double fork; it
// is still in the workload's cgroup.
func TestSupervisedTreeStop(t *testing.T) {
	roottest.Require(t)
	s := newSup(t, "", `
[[workload]]
name = "app"
command = "HELPER"
args = ["mark", "DIR/app"]
main = true
[[workload]]
name = "d"
command = "HELPER"
args = ["escape", "DIR"]
`)
	s.start()
	pidText := waitFile(t, filepath.Join(s.dir, "sleeper.pid"))
	sleeper, _ := strconv.Atoi(strings.TrimSpace(pidText))
	if strings.Contains(s.run.stderr.String(), "no cgroups for the workloads") {
		t.Fatalf("no cgroups here; stderr:\n%s", s.run.stderr.String())
	}
	if sid, _ := unix.Getsid(sleeper); sid != sleeper {
		t.Fatalf("the sleeper did not leave its session (sid %d)", sid)
	}
	if resp := s.ctl(ControlRequest{Op: "stop", Name: "d"}); !resp.OK {
		t.Fatalf("stop: %+v", resp)
	}
	waitFile(t, filepath.Join(s.dir, "terminated"))
	s.waitState("d", "stopped")
	waitFor(t, 10*time.Second, "the sleeper to be gone", func() bool { return unix.Kill(sleeper, 0) != nil })
	if s.state("app") != "running" {
		t.Error("stopping d touched app")
	}
	s.signal(syscall.SIGTERM)
	s.run.wait(30 * time.Second)
}

// TestSupervisedBudget: a workload that ignores its stop signal, with a
// stop timeout far past the budget, is SIGKILLed when the budget ends,
// and miniinit exits within it.
func TestSupervisedBudget(t *testing.T) {
	s := newSup(t, `stop_budget = "1s"`, `
[[workload]]
name = "app"
command = "HELPER"
args = ["sleeper", "DIR", "ignore-term"]
main = true
stop_timeout = "1m"
`)
	s.start()
	waitFile(t, filepath.Join(s.dir, "sleeper.pid"))
	start := time.Now()
	s.signal(syscall.SIGTERM)
	code := s.run.wait(30 * time.Second)
	took := time.Since(start)
	if code != 137 {
		t.Errorf("exit code %d, want 137", code)
	}
	if took < 900*time.Millisecond || took > 3*time.Second {
		t.Errorf("shutdown took %v, want the 1s budget", took)
	}
	rp := readReport(t, s.report)
	if !rp.Workloads[0].SigKilled || rp.Shutdown.Reason != "signal" || rp.Shutdown.LastSignal != "SIGTERM" {
		t.Errorf("report %+v", rp)
	}
}

// TestSupervisedSecondSignal: a second SIGTERM skips to SIGKILL at once.
func TestSupervisedSecondSignal(t *testing.T) {
	s := newSup(t, `stop_budget = "1m"`, `
[[workload]]
name = "app"
command = "HELPER"
args = ["sleeper", "DIR", "ignore-term"]
main = true
stop_timeout = "1m"
`)
	s.start()
	waitFile(t, filepath.Join(s.dir, "sleeper.pid"))
	s.signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	s.signal(syscall.SIGINT)
	code := s.run.wait(30 * time.Second)
	if code != 137 {
		t.Errorf("exit code %d, want 137", code)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v after the second signal", took)
	}
}

// TestSupervisedOrderAndDrain: the shutdown stops workloads in reverse
// dependency order, then drains an orphan one of them left behind.
func TestSupervisedOrderAndDrain(t *testing.T) {
	s := newSup(t, "", `
[[workload]]
name = "db"
command = "HELPER"
args = ["mark", "DIR/order"]
[[workload]]
name = "api"
command = "HELPER"
args = ["mark", "DIR/order"]
requires = { db = "started" }
[[workload]]
name = "web"
command = "/bin/sh"
args = ["-c", "HELPER daemon DIR; exec HELPER mark DIR/order"]
main = true
after = { api = "started" }
`)
	s.start()
	waitFor(t, 10*time.Second, "three starts", func() bool { return count(filepath.Join(s.dir, "order"), "start") == 3 })
	s.signal(syscall.SIGTERM)
	if code := s.run.wait(30 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	// Starts db, api, web; stops web, api, db, each once the one before
	// has ended: miniinit's log says in which order.
	var started, ended []string
	for _, line := range strings.Split(s.run.stderr.String(), "\n") {
		if _, rest, ok := strings.Cut(line, `msg="started workload" workload=`); ok {
			started = append(started, strings.Fields(rest)[0])
		}
		if _, rest, ok := strings.Cut(line, `msg="workload ended" workload=`); ok {
			ended = append(ended, strings.Fields(rest)[0])
		}
	}
	if strings.Join(started, " ") != "db api web" || strings.Join(ended, " ") != "web api db" {
		t.Errorf("started %v, ended %v; want db api web, then web api db", started, ended)
	}
	if n := count(filepath.Join(s.dir, "order"), "term"); n != 3 {
		t.Errorf("%d workloads stopped by SIGTERM, want 3", n)
	}
	// The sleeper the daemon left was drained, after the workloads.
	if _, err := os.Stat(filepath.Join(s.dir, "terminated")); err != nil {
		t.Errorf("the orphan was not drained: %v", err)
	}
	rp := readReport(t, s.report)
	if len(rp.StillRunning) != 1 || rp.Shutdown.Reason != "signal" {
		t.Errorf("report %+v", rp)
	}
}

// TestSupervisedOutput: output reaches miniinit's stdout, prefixed when
// asked, and its tail is kept for `ctl logs`.
func TestSupervisedOutput(t *testing.T) {
	s := newSup(t, "", `
[[workload]]
name = "app"
command = "HELPER"
args = ["sleeper", "DIR"]
main = true
[[workload]]
name = "chatty"
command = "HELPER"
args = ["spew", "1000"]
log_prefix = true
[[workload]]
name = "plain"
command = "/bin/sh"
args = ["-c", "echo to-stdout; echo to-stderr >&2"]
`)
	s.start()
	s.waitState("chatty", "completed")
	s.waitState("plain", "completed")
	resp := s.ctl(ControlRequest{Op: "logs", Name: "chatty", Lines: 3})
	if strings.Join(resp.Lines, "|") != "line 997|line 998|line 999" {
		t.Errorf("logs %q", resp.Lines)
	}
	s.signal(syscall.SIGTERM)
	s.run.wait(30 * time.Second)
	out := s.run.stdout.String()
	if !strings.Contains(out, "chatty: line 0\n") || !strings.Contains(out, "chatty: line 999\n") || strings.Count(out, "chatty: line ") != 1000 {
		t.Errorf("prefixed output missing or incomplete: %d lines", strings.Count(out, "chatty: line "))
	}
	if !strings.Contains(out, "\nto-stdout\n") && !strings.HasPrefix(out, "to-stdout\n") {
		t.Errorf("unprefixed stdout missing:\n%.300s", out)
	}
	if !strings.Contains(s.run.stderr.String(), "to-stderr\n") {
		t.Errorf("stderr missing")
	}
}

// TestSupervisedControl: status, stop, start, restart, signal and reload
// through the socket; reload restarts only what changed.
func TestSupervisedControl(t *testing.T) {
	s := newSup(t, "", `
[[workload]]
name = "app"
command = "HELPER"
args = ["mark", "DIR/app"]
main = true
[[workload]]
name = "side"
command = "HELPER"
args = ["mark", "DIR/side"]
[[workload]]
name = "rec"
command = "HELPER"
args = ["record", "DIR/rec", "DIR/rec-ready"]
env = { GODEBUG = "asyncpreemptoff=1" }
`)
	s.start()
	waitFile(t, filepath.Join(s.dir, "rec-ready"))
	s.waitState("side", "running")
	if r := s.ctl(ControlRequest{Op: "stop", Name: "side"}); !r.OK {
		t.Fatal(r.Error)
	}
	s.waitState("side", "stopped")
	if r := s.ctl(ControlRequest{Op: "start", Name: "side"}); !r.OK {
		t.Fatal(r.Error)
	}
	s.waitState("side", "running")
	// (the helper writes its line once its SIGTERM handler is in place)
	waitFor(t, 10*time.Second, "side's second start", func() bool { return count(filepath.Join(s.dir, "side"), "start") == 2 })
	if r := s.ctl(ControlRequest{Op: "restart", Name: "side"}); !r.OK {
		t.Fatal(r.Error)
	}
	waitFor(t, 10*time.Second, "side's third start", func() bool { return count(filepath.Join(s.dir, "side"), "start") == 3 })
	if r := s.ctl(ControlRequest{Op: "signal", Name: "rec", Signal: "USR2"}); !r.OK {
		t.Fatal(r.Error)
	}
	waitFor(t, 10*time.Second, "USR2", func() bool { return len(recorded(t, filepath.Join(s.dir, "rec"))) == 1 })
	for _, bad := range []ControlRequest{{Op: "stop", Name: "nope"}, {Op: "bogus"}, {Op: "signal", Name: "rec", Signal: "SIGNOPE"}} {
		if r := s.ctl(bad); r.OK || r.Error == "" {
			t.Errorf("%+v: %+v", bad, r)
		}
	}

	// Reload with side's arguments changed: side restarts, app does not.
	b, _ := os.ReadFile(s.file)
	edited := strings.Replace(string(b), `"`+s.dir+`/side"]`, `"`+s.dir+`/side", "x"]`, 1)
	if edited == string(b) {
		t.Fatal("the edit changed nothing")
	}
	os.WriteFile(s.file, []byte(edited), 0o644)
	appStarts := count(filepath.Join(s.dir, "app"), "start")
	r := s.ctl(ControlRequest{Op: "reload"})
	if !r.OK || strings.Join(r.Changed, ",") != "side" {
		t.Fatalf("reload: %+v", r)
	}
	waitFor(t, 10*time.Second, "side's restart", func() bool { return count(filepath.Join(s.dir, "side"), "start") == 4 })
	if count(filepath.Join(s.dir, "app"), "start") != appStarts {
		t.Error("reload restarted app, which did not change")
	}
	s.signal(syscall.SIGTERM)
	s.run.wait(30 * time.Second)
}

// TestSupervisedConfine: user, group, groups, umask, rlimits,
// no_new_privs and capabilities reach the workload through the exec
// stage; a user that does not exist keeps the workload from starting.
func TestSupervisedConfine(t *testing.T) {
	roottest.Require(t)
	// nobody must reach the helper and the file it writes: both go to a
	// directory open to all (the test's own are 0700).
	open, err := os.MkdirTemp("", "pid1-confine-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(open) })
	helper := filepath.Join(open, "testhelper")
	if err := os.WriteFile(helper, must(os.ReadFile(bin.helper)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	s := newSup(t, "", `
[[workload]]
name = "app"
command = "HELPER"
args = ["sleeper", "DIR"]
main = true
[[workload]]
name = "confined"
kind = "oneshot"
command = "`+helper+`"
args = ["ids", "`+open+`/ids"]
user = "nobody"
group = "65534"
groups = ["0", "44"]
umask = "0027"
rlimits = { nofile = "123:456" }
no_new_privs = true
capabilities = ["CAP_NET_BIND_SERVICE"]
env = { HOME = "/elsewhere" }
[[workload]]
name = "shell"
kind = "oneshot"
command = "/bin/sh"
args = ["-c", "echo $(ulimit -Sn):$(ulimit -Hn) > `+open+`/limits.tmp && mv `+open+`/limits.tmp `+open+`/limits"]
user = "nobody"
rlimits = { nofile = "123:456" }
[[workload]]
name = "ghost"
kind = "oneshot"
command = "HELPER"
args = ["ids", "DIR/ghost"]
user = "no-such-user-here"
`)
	s.start()
	got := waitFile(t, filepath.Join(open, "ids"))
	for _, want := range []string{
		"uid 65534 65534 65534 65534", "gid 65534 65534 65534 65534", "groups 0 44", "umask 0027",
		"nonewprivs 1", "capbnd 0000000000000400", "home /elsewhere",
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("ids lack %q:\n%s", want, got)
		}
	}
	// (a Go program raises its own soft nofile limit: the hard one tells)
	if !strings.Contains(got, ":456\n") {
		t.Errorf("ids lack the hard nofile limit 456:\n%s", got)
	}
	if got := strings.TrimSpace(waitFile(t, filepath.Join(open, "limits"))); got != "123:456" {
		t.Errorf("a shell's nofile limits %q, want 123:456", got)
	}
	s.waitState("ghost", "failed")
	for _, w := range s.ctl(ControlRequest{Op: "status"}).Workloads {
		if w.Name == "ghost" && (w.Exit == nil || w.Exit.Code != 126 || !strings.Contains(w.StartError, "no-such-user-here")) {
			t.Errorf("ghost: %+v", w)
		}
	}
	s.signal(syscall.SIGTERM)
	s.run.wait(30 * time.Second)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
