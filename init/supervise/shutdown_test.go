package supervise

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// chain is db <- api <- web(main), plus a free-standing sidecar.
func chain() []Spec {
	return []Spec{
		{Name: "db", StopTimeout: 3 * time.Second},
		{Name: "api", Requires: []Dep{{"db", CondStarted}}, StopSignal: syscall.SIGQUIT, StopTimeout: 3 * time.Second},
		{Name: "web", Main: true, After: []Dep{{"api", CondStarted}}, StopSignal: syscall.SIGINT, StopTimeout: 3 * time.Second},
		{Name: "sidecar", StopTimeout: 3 * time.Second},
	}
}

// TestShutdownReverseOrder: on SIGTERM each workload gets its own stop
// signal only once everything that depends on it has ended; the exit code
// is the main workload's.
func TestShutdownReverseOrder(t *testing.T) {
	h := newHarness(t, chain(), Options{StopBudget: 8 * time.Second})
	h.do(Boot{})
	got := h.do(ShutdownRequested{Signal: syscall.SIGTERM})
	equal(t, "begin", got, []string{
		"shutdown signal code=143",
		"signal web run=1 SIGINT",
		"signal sidecar run=1 SIGTERM",
		"timer (budget) 00:00:08.000",
		"timer sidecar 00:00:03.000",
		"timer web 00:00:03.000",
	})
	h.advance(time.Second)
	equal(t, "sidecar ends", h.exit("sidecar", ExitCode(0)), []string{"timer sidecar off"})
	equal(t, "web ends", h.exit("web", ExitCode(0)), []string{"signal api run=1 SIGQUIT", "timer api 00:00:04.000", "timer web off"})
	h.advance(time.Second)
	equal(t, "api ends", h.exit("api", KilledBy(syscall.SIGQUIT)), []string{"signal db run=1 SIGTERM", "timer api off", "timer db 00:00:05.000"})
	equal(t, "db ends", h.exit("db", ExitCode(0)), []string{"drain code=0 until 00:00:08.000", "timer (budget) off", "timer db off"})
	for _, name := range []string{"db", "api", "web", "sidecar"} {
		h.wantState(name, Stopped)
	}
	sum, ok := h.m.Shutdown()
	if !ok || sum.Reason != "signal" || sum.Signal != "SIGTERM" || sum.Code != 0 || !sum.Drained {
		t.Errorf("summary %+v", sum)
	}
}

// TestShutdownBudget: stop timeouts are cut to the budget, and at its end
// everything still there is SIGKILLed and the drain begins at once.
func TestShutdownBudget(t *testing.T) {
	specs := chain()
	for i := range specs {
		specs[i].StopTimeout = time.Minute
	}
	h := newHarness(t, specs, Options{StopBudget: 5 * time.Second})
	h.do(Boot{})
	h.advance(time.Second)
	got := h.do(ShutdownRequested{Signal: syscall.SIGINT})
	equal(t, "begin", got, []string{
		"shutdown signal code=130",
		"signal web run=1 SIGINT",
		"signal sidecar run=1 SIGINT", // no stop_signal of its own: the one asked for
		"timer (budget) 00:00:06.000",
		"timer sidecar 00:00:06.000",
		"timer web 00:00:06.000",
	})
	h.advance(3 * time.Second)
	// web ends late: api's stop gets only what remains of the budget.
	equal(t, "web ends", h.exit("web", KilledBy(syscall.SIGINT)), []string{"signal api run=1 SIGQUIT", "timer api 00:00:06.000", "timer web off"})
	got = h.advance(2 * time.Second)
	// The budget's end kills everything left, db included, which never
	// had its stop signal (api had not ended), and begins the drain.
	equal(t, "budget", without(got, "timer"), []string{
		"kill db run=1 budget",
		"kill api run=1 budget",
		"kill sidecar run=1 budget",
		"drain code=130 until 00:00:06.000",
	})
	for _, s := range h.m.Status() {
		if want := s.Name != "web"; s.Killed != want {
			t.Errorf("%s: sigkilled %v, want %v", s.Name, s.Killed, want)
		}
	}
	if h.drain == nil || h.drain.Code != 130 {
		t.Errorf("drain %+v", h.drain)
	}
}

// TestShutdownBudgetKillsAll: with every stop timeout longer than the
// budget, the machine's own timer kills what is left.
func TestShutdownBudgetKillsAll(t *testing.T) {
	specs := []Spec{{Name: "a", StopTimeout: time.Hour}, {Name: "b", Main: true, After: []Dep{{"a", CondStarted}}, StopTimeout: time.Hour}}
	h := newHarness(t, specs, Options{StopBudget: 2 * time.Second})
	h.do(Boot{})
	h.do(ShutdownRequested{Signal: syscall.SIGTERM})
	got := h.advance(2 * time.Second)
	if !has(got, "kill b run=1 budget") || !has(got, "kill a run=1 budget") || !has(got, "drain code=143 until 00:00:02.000") {
		t.Errorf("at the budget's end: %q", got)
	}
}

// TestSecondSignalKills: a second SIGTERM or SIGINT during the shutdown
// skips to SIGKILL for everything, and to the drain with a deadline of now.
func TestSecondSignalKills(t *testing.T) {
	h := newHarness(t, chain(), Options{})
	h.do(Boot{})
	h.do(ShutdownRequested{Signal: syscall.SIGTERM})
	h.advance(500 * time.Millisecond)
	got := h.do(ShutdownRequested{Signal: syscall.SIGINT})
	equal(t, "second", without(got, "timer"), []string{
		"kill db run=1 second-signal",
		"kill api run=1 second-signal",
		"kill web run=1 second-signal",
		"kill sidecar run=1 second-signal",
		"drain code=143 until 00:00:00.500",
	})
	h.exit("web", KilledBy(syscall.SIGKILL))
	if sum, _ := h.m.Shutdown(); sum.Code != 137 {
		t.Errorf("code %d, want 137: the main workload's own, even after the drain began", sum.Code)
	}
}

// TestMainEnds: the main workload's end for good begins the shutdown with
// its exit code.
func TestMainEnds(t *testing.T) {
	h := newHarness(t, chain(), Options{})
	h.do(Boot{})
	got := h.exit("web", ExitCode(3))
	equal(t, "main ends", without(got, "timer"), []string{"shutdown main-ended code=3", "signal api run=1 SIGQUIT", "signal sidecar run=1 SIGTERM"})
	h.exit("api", ExitCode(0))
	h.exit("sidecar", ExitCode(0))
	got = h.exit("db", KilledBy(syscall.SIGTERM))
	if !has(got, "drain code=3 ") {
		t.Errorf("drain: %q", got)
	}
}

// TestMainSuccessCodes: a main exit code listed as success becomes 0
// (tini's -e).
func TestMainSuccessCodes(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "java", Main: true, SuccessCodes: []int{143}}}, Options{})
	h.do(Boot{})
	h.do(ShutdownRequested{Signal: syscall.SIGTERM})
	got := h.exit("java", KilledBy(syscall.SIGTERM))
	equal(t, "end", without(got, "timer"), []string{"drain code=0 until 00:00:08.000"})
}

// TestMainRestartsBeforeEnding: a main workload with a restart policy
// ends the container only when it ends for good.
func TestMainRestartsBeforeEnding(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "app", Main: true, Restart: OnFailure, GiveUp: GiveUp{Failures: 2}}}, Options{})
	h.do(Boot{})
	equal(t, "first failure", h.exit("app", ExitCode(1)), []string{"start app run=2"})
	got := h.exit("app", ExitCode(7))
	equal(t, "gives up", without(got, "timer"), []string{"shutdown main-ended code=7", "drain code=7 until 00:00:08.000"})
}

// TestMainStartFails: a main workload that cannot be started ends the
// container with its start error's code.
func TestMainStartFails(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "app", Main: true}, {Name: "side"}}, Options{})
	h.nospawn["app"] = 127
	got := h.do(Boot{})
	if !has(got, "shutdown main-ended code=127") {
		t.Errorf("got %q", got)
	}
	h.exit("side", KilledBy(syscall.SIGTERM))
	if h.drain == nil || h.drain.Code != 127 {
		t.Errorf("drain %+v", h.drain)
	}
}

// TestEssentialFails: an essential workload failing for good shuts the
// container down with its code; a non-essential one does not.
func TestEssentialFails(t *testing.T) {
	h := newHarness(t, []Spec{
		{Name: "app", Main: true},
		{Name: "logger"},
		{Name: "proxy", Essential: true, Restart: OnFailure, GiveUp: GiveUp{Failures: 2}},
	}, Options{})
	h.do(Boot{})
	h.exit("logger", ExitCode(1))
	if h.m.ShuttingDown() {
		t.Fatal("a non-essential failure shut down the container")
	}
	h.exit("proxy", KilledBy(syscall.SIGSEGV))
	got := h.exit("proxy", KilledBy(syscall.SIGSEGV))
	if !has(got, "shutdown essential-failed code=139") {
		t.Fatalf("got %q", got)
	}
	got = h.exit("app", KilledBy(syscall.SIGTERM))
	if !has(got, "drain code=139 ") {
		t.Errorf("drain: %q", got)
	}
	if sum, _ := h.m.Shutdown(); sum.Workload != "proxy" || sum.Reason != "essential-failed" {
		t.Errorf("summary %+v", sum)
	}
}

// TestEssentialFallbackCode: an essential workload that fails without a
// failing code of its own gives ExitEssentialFallback.
func TestEssentialFallbackCode(t *testing.T) {
	h := newHarness(t, []Spec{
		{Name: "db"},
		{Name: "proxy", Essential: true, Requires: []Dep{{"db", CondReady}}},
	}, Options{})
	h.nospawn["db"] = 126
	got := h.do(Boot{})
	if !has(got, "shutdown essential-failed code=1") || !has(got, "drain code=1 ") {
		t.Errorf("got %q", got)
	}
}

// TestNothingLeft: with no main workload, the container ends when every
// workload has completed or failed; a failure gives its code.
func TestNothingLeft(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "a", Kind: Oneshot}, {Name: "b", Kind: Oneshot}}, Options{})
	h.do(Boot{})
	h.exit("a", ExitCode(0))
	got := h.exit("b", ExitCode(2))
	equal(t, "end", without(got, "timer"), []string{"shutdown nothing-left code=2", "drain code=2 until 00:00:08.000"})
	if sum, _ := h.m.Shutdown(); sum.Workload != "b" {
		t.Errorf("summary %+v, want b named", sum)
	}
}

// TestNoMainSignal: with no main workload a SIGTERM shutdown exits 0.
func TestNoMainSignal(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "a"}, {Name: "b"}}, Options{})
	h.do(Boot{})
	h.do(ShutdownRequested{Signal: syscall.SIGTERM})
	h.exit("a", KilledBy(syscall.SIGTERM))
	got := h.exit("b", KilledBy(syscall.SIGTERM))
	if !has(got, "drain code=0 ") {
		t.Errorf("got %q", got)
	}
}

// TestShutdownBeforeStart: workloads still waiting or in backoff when the
// shutdown begins are never started.
func TestShutdownBeforeStart(t *testing.T) {
	h := newHarness(t, []Spec{
		{Name: "db", Ready: Readiness{Kind: ReadyNotify}},
		{Name: "app", Main: true, Requires: []Dep{{"db", CondReady}}},
		{Name: "flaky", Restart: Always, Backoff: BackoffPolicy{Initial: time.Second}},
	}, Options{})
	h.do(Boot{})
	h.exit("flaky", ExitCode(1))
	h.wantState("flaky", Backoff)
	h.do(ShutdownRequested{Signal: syscall.SIGTERM})
	h.wantState("app", Stopped)
	h.wantState("flaky", Stopped)
	got := h.exit("db", KilledBy(syscall.SIGTERM))
	if !has(got, "drain code=143 ") {
		t.Errorf("got %q", got)
	}
	if got := without(h.advance(time.Minute), "timer"); len(got) != 0 {
		t.Errorf("after the drain: %q", got)
	}
}

// TestStopDuringSpawn: a stop decided between a start and its spawn is
// signalled as soon as the spawn is reported.
func TestStopDuringSpawn(t *testing.T) {
	clk := &fakeClock{epoch}
	m, err := New([]Spec{{Name: "app", Main: true}}, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ds := m.Handle(Boot{})
	if len(ds) != 1 || ds[0].Op != OpStart {
		t.Fatalf("boot: %v", ds)
	}
	m.Handle(ShutdownRequested{Signal: syscall.SIGTERM})
	ds = m.Handle(Spawned{Name: "app", Run: 1, Pid: 5})
	if len(ds) == 0 || ds[0].String() != "signal app run=1 SIGTERM" {
		t.Errorf("after spawn: %v", ds)
	}
}

// TestStopTimeoutThenNext: a workload that ignores its stop signal is
// SIGKILLed at its own stop timeout, and the shutdown moves on to what it
// depended on, within the budget.
func TestStopTimeoutThenNext(t *testing.T) {
	h := newHarness(t, []Spec{
		{Name: "db", StopTimeout: 4 * time.Second},
		{Name: "app", Main: true, Requires: []Dep{{"db", CondStarted}}, StopTimeout: 2 * time.Second},
	}, Options{StopBudget: 5 * time.Second})
	h.do(Boot{})
	h.do(ShutdownRequested{Signal: syscall.SIGTERM})
	equal(t, "app's timeout", without(h.advance(2*time.Second), "timer"), []string{"kill app run=1 stop-timeout"})
	got := h.exit("app", KilledBy(syscall.SIGKILL))
	// db's 4s would pass the budget: it is cut to the 3s left.
	equal(t, "db's turn", got, []string{"signal db run=1 SIGTERM", "timer db 00:00:05.000"})
	got = h.exit("db", ExitCode(0))
	if !has(got, "drain code=137 until 00:00:05.000") {
		t.Errorf("got %q", got)
	}
	if s := h.status("app"); !s.Killed || s.Exit == nil || s.Exit.Signal != syscall.SIGKILL {
		t.Errorf("app %+v", s)
	}
}

// TestShutdownStopSignalFollowsSigint: a workload without a stop signal
// of its own is stopped with SIGINT when SIGINT began the shutdown (a ^C
// reaches it as one, as without a supervisor), with SIGTERM otherwise; one
// with its own always gets that.
func TestShutdownStopSignalFollowsSigint(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		want []string
	}{
		{syscall.SIGINT, []string{"signal app run=1 SIGINT", "signal own run=1 SIGQUIT"}},
		{syscall.SIGTERM, []string{"signal app run=1 SIGTERM", "signal own run=1 SIGQUIT"}},
	} {
		h := newHarness(t, []Spec{{Name: "app", Main: true}, {Name: "own", StopSignal: syscall.SIGQUIT}}, Options{})
		h.do(Boot{})
		var got []string
		for _, d := range h.do(ShutdownRequested{Signal: tc.sig}) {
			if strings.HasPrefix(d, "signal ") {
				got = append(got, d)
			}
		}
		equal(t, tc.sig.String(), got, tc.want)
	}
}
