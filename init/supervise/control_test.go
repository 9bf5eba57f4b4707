package supervise

import (
	"syscall"
	"testing"
	"time"
)

// TestStopRequestStopsDependentsFirst: stopping db stops what requires it
// first, and leaves what only comes after it running.
func TestStopRequestStopsDependentsFirst(t *testing.T) {
	h := newHarness(t, []Spec{
		{Name: "db"},
		{Name: "api", Requires: []Dep{{"db", CondStarted}}},
		{Name: "report", After: []Dep{{"db", CondStarted}}},
		{Name: "app", Main: true},
	}, Options{})
	h.do(Boot{})
	got := h.do(StopRequested{Name: "db"})
	equal(t, "stop db", without(got, "timer"), []string{"signal api run=1 SIGTERM"})
	got = h.exit("api", ExitCode(0))
	equal(t, "api ended", without(got, "timer"), []string{"signal db run=1 SIGTERM"})
	h.exit("db", ExitCode(0))
	h.wantState("db", Stopped)
	h.wantState("api", Stopped)
	h.wantState("report", Running)
	if h.m.ShuttingDown() {
		t.Error("stopping non-main workloads shut the container down")
	}
	if r := h.status("db").Reason; r != "stopped by request" {
		t.Errorf("reason %q", r)
	}
}

// TestStartRequest: starting a workload starts what it requires first,
// with a clean record; a completed requirement is not run again.
func TestStartRequest(t *testing.T) {
	h := newHarness(t, []Spec{
		{Name: "setup", Kind: Oneshot},
		{Name: "db", Requires: []Dep{{"setup", CondCompleted}}, Ready: Readiness{Kind: ReadyNotify}},
		{Name: "api", Requires: []Dep{{"db", CondReady}}},
		{Name: "app", Main: true},
	}, Options{})
	h.do(Boot{})
	h.exit("setup", ExitCode(0))
	h.ready("db")
	h.do(StopRequested{Name: "db"})
	h.exit("api", ExitCode(0))
	h.exit("db", ExitCode(0))
	got := h.do(StartRequested{Name: "api"})
	equal(t, "start api", without(got, "timer"), []string{"start db run=2"})
	equal(t, "db ready", h.ready("db"), []string{"start api run=2"})
	h.wantState("setup", Completed)
}

// TestStartRequestSkipsBackoff: a start request during a backoff starts
// the workload at once.
func TestStartRequestSkipsBackoff(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "w", Restart: Always, Backoff: BackoffPolicy{Initial: time.Hour}}, {Name: "app", Main: true}}, Options{})
	h.do(Boot{})
	h.exit("w", ExitCode(1))
	got := h.do(StartRequested{Name: "w"})
	equal(t, "start", got, []string{"start w run=2", "timer w off"})
}

// TestStartRequestRetriesFailed: a failed workload can be started again,
// with its give-up count reset.
func TestStartRequestRetriesFailed(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "w", Restart: OnFailure, GiveUp: GiveUp{Failures: 2}}, {Name: "app", Main: true}}, Options{})
	h.do(Boot{})
	h.exit("w", ExitCode(1))
	h.exit("w", ExitCode(1))
	h.wantState("w", Failed)
	equal(t, "start", h.do(StartRequested{Name: "w"}), []string{"start w run=3"})
	h.exit("w", ExitCode(1))
	h.wantState("w", Running) // one failure since the reset
}

// TestRestartRequest: a restart stops the workload and starts it again at
// once, with no backoff and no failure counted.
func TestRestartRequest(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "w", Restart: Never, StopSignal: syscall.SIGUSR2, Backoff: BackoffPolicy{Initial: time.Hour}}, {Name: "app", Main: true}}, Options{})
	h.do(Boot{})
	equal(t, "restart", without(h.do(RestartRequested{Name: "w"}), "timer"), []string{"signal w run=1 SIGUSR2"})
	equal(t, "ended", without(h.exit("w", KilledBy(syscall.SIGUSR2)), "timer"), []string{"start w run=2"})
	h.wantState("w", Running)
	// Restarting a stopped workload is a start.
	h.do(StopRequested{Name: "w"})
	h.exit("w", ExitCode(0))
	equal(t, "restart stopped", h.do(RestartRequested{Name: "w"}), []string{"start w run=3"})
}

// TestRestartMainDoesNotEnd: restarting the main workload is not its end.
func TestRestartMainDoesNotEnd(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "app", Main: true}}, Options{})
	h.do(Boot{})
	h.do(RestartRequested{Name: "app"})
	got := h.exit("app", KilledBy(syscall.SIGTERM))
	equal(t, "restarted", without(got, "timer"), []string{"start app run=2"})
	if h.m.ShuttingDown() {
		t.Error("restarting main shut the container down")
	}
}

// TestRequestsDuringShutdown: start and restart are refused once the
// shutdown has begun.
func TestRequestsDuringShutdown(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "app", Main: true}, {Name: "w"}}, Options{})
	h.do(Boot{})
	h.do(ShutdownRequested{Signal: syscall.SIGTERM})
	h.exit("w", ExitCode(0))
	for _, ev := range []Event{StartRequested{Name: "w"}, RestartRequested{Name: "w"}} {
		if got := h.do(ev); len(got) != 0 {
			t.Errorf("%T: %q", ev, got)
		}
	}
}

// TestSignalRouting: a routed signal goes only to its workloads; an
// unrouted one to every workload with a process.
func TestSignalRouting(t *testing.T) {
	routes := map[syscall.Signal][]string{syscall.SIGHUP: {"web", "gone"}, syscall.SIGUSR1: {"worker"}}
	h := newHarness(t, []Spec{
		{Name: "web"}, {Name: "worker"}, {Name: "job", Kind: Oneshot},
		{Name: "app", Main: true},
	}, Options{Routes: routes})
	h.do(Boot{})
	h.exit("job", ExitCode(0))
	equal(t, "HUP", h.do(SignalReceived{Signal: syscall.SIGHUP}), []string{"signal web run=1 SIGHUP"})
	equal(t, "USR1", h.do(SignalReceived{Signal: syscall.SIGUSR1}), []string{"signal worker run=1 SIGUSR1"})
	equal(t, "WINCH", h.do(SignalReceived{Signal: syscall.SIGWINCH}), []string{
		"signal web run=1 SIGWINCH", "signal worker run=1 SIGWINCH", "signal app run=1 SIGWINCH",
	})
}

// TestStatusText: STATUS= is kept until the next run.
func TestStatusText(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "w", Restart: Always}, {Name: "app", Main: true}}, Options{})
	h.do(Boot{})
	h.do(StatusNotified{Name: "w", Run: 1, Text: "warming caches"})
	if got := h.status("w").Text; got != "warming caches" {
		t.Errorf("text %q", got)
	}
	h.exit("w", ExitCode(1))
	if got := h.status("w").Text; got != "" {
		t.Errorf("text %q after restart", got)
	}
}

func TestTimers(t *testing.T) {
	var tm Timers
	if _, ok := tm.Next(); ok {
		t.Fatal("empty Timers has a next")
	}
	tm.Set("b", epoch.Add(2*time.Second))
	tm.Set("a", epoch.Add(3*time.Second))
	tm.Set("", epoch.Add(time.Second))
	tm.Set("a", epoch.Add(2*time.Second)) // replaces
	tm.Set("c", epoch.Add(time.Second))
	tm.Set("c", time.Time{}) // cancels
	if next, _ := tm.Next(); !next.Equal(epoch.Add(time.Second)) {
		t.Errorf("next %v", next)
	}
	equal(t, "due at 1s", tm.Due(epoch.Add(time.Second)), []string{""})
	equal(t, "due at 5s", tm.Due(epoch.Add(5*time.Second)), []string{"a", "b"})
	if _, ok := tm.Next(); ok {
		t.Error("timers left")
	}
}

// TestStopSignalMarked: the first signal of a stop says so and carries
// the stop's kill deadline, which the caller needs to send SIGCONT after
// it and to kill the run's whole tree on time; a routed signal does not.
func TestStopSignalMarked(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "a", StopTimeout: 3 * time.Second}, {Name: "m", Main: true}}, Options{})
	h.do(Boot{})
	h.advance(time.Second)
	var stop []Decision
	for _, d := range h.m.Handle(StopRequested{Name: "a"}) {
		if d.Op == OpSignal {
			stop = append(stop, d)
		}
	}
	if len(stop) != 1 || stop[0].Reason != ReasonStop || !stop[0].At.Equal(epoch.Add(4*time.Second)) {
		t.Errorf("stop signal %+v, want one with reason %q and the kill deadline", stop, ReasonStop)
	}
	for _, d := range h.m.Handle(SignalReceived{Signal: syscall.SIGHUP}) {
		if d.Op == OpSignal && d.Reason != "" {
			t.Errorf("routed signal marked: %+v", d)
		}
	}
}
