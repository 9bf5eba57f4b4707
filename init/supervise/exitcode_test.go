package supervise

import (
	"syscall"
	"testing"
	"time"
)

// The exit code of a shutdown for a failure is the failure's: never the
// 128+n of a stop signal the machine sent itself, never 0. A service
// manager that counts only 0 (and with ZeroOnStop, an orderly stop asked
// from outside) as success sees every one of these as a failure.

// dbWeb is an essential db, never restarted, and the main web after it.
func dbWeb(db Spec) []Spec {
	db.Name, db.Essential = "db", true
	return []Spec{db, {Name: "web", Main: true, After: []Dep{{"db", CondStarted}}}}
}

// drainCode runs the shutdown begun to its drain (web and any other
// workload end on their stop signal) and returns the drain's code.
func drainCode(t *testing.T, h *harness, begun []string) int {
	t.Helper()
	if !has(begun, "shutdown ") && !h.m.ShuttingDown() {
		t.Fatalf("no shutdown: %q", begun)
	}
	for _, s := range h.m.Status() {
		if s.Pid != 0 {
			h.exit(s.Name, KilledBy(syscall.SIGTERM))
		}
	}
	if h.drain == nil {
		t.Fatalf("no drain; statuses %+v", h.m.Status())
	}
	return h.drain.Code
}

// TestFailureCodeEssentialKilledFromOutside: an essential workload killed
// by a SIGTERM from outside the container's stop fails the container with
// its own 143, with ZeroOnStop too: that is no stop anyone asked for.
func TestFailureCodeEssentialKilledFromOutside(t *testing.T) {
	for _, zero := range []bool{false, true} {
		h := newHarness(t, dbWeb(Spec{}), Options{ZeroOnStop: zero})
		h.do(Boot{})
		got := h.exit("db", KilledBy(syscall.SIGTERM))
		if !has(got, "shutdown essential-failed code=143") {
			t.Errorf("zero=%v: %q", zero, got)
		}
		if code := drainCode(t, h, got); code != 143 {
			t.Errorf("zero=%v: drain code %d, want 143", zero, code)
		}
	}
}

// TestFailureCodeMainKilledFromOutside: the main workload killed by a
// SIGTERM nobody asked the container for keeps its 143 under ZeroOnStop.
func TestFailureCodeMainKilledFromOutside(t *testing.T) {
	h := newHarness(t, dbWeb(Spec{}), Options{ZeroOnStop: true})
	h.do(Boot{})
	got := h.exit("web", KilledBy(syscall.SIGTERM))
	if !has(got, "shutdown main-ended code=143") {
		t.Errorf("%q", got)
	}
	if code := drainCode(t, h, got); code != 143 {
		t.Errorf("drain code %d, want 143", code)
	}
}

// TestFailureCodeMainStartTimeout: the main workload not ready within its
// start timeout is stopped with SIGTERM by the machine: the container
// fails with 1, not the 143 of that SIGTERM.
func TestFailureCodeMainStartTimeout(t *testing.T) {
	for _, zero := range []bool{false, true} {
		h := newHarness(t, []Spec{{Name: "web", Main: true, StartTimeout: 2 * time.Second, Ready: Readiness{Kind: ReadyNotify}}}, Options{ZeroOnStop: zero})
		h.do(Boot{})
		equal(t, "timeout", without(h.advance(2*time.Second), "timer"), []string{"signal web run=1 SIGTERM"})
		got := h.exit("web", KilledBy(syscall.SIGTERM))
		h.wantState("web", Failed)
		if !has(got, "shutdown main-ended code=1") || !has(got, "drain code=1 ") {
			t.Errorf("zero=%v: %q", zero, got)
		}
		if s := h.status("web"); s.Reason != "not ready within start timeout 2s" {
			t.Errorf("reason %q", s.Reason)
		}
	}
}

// TestFailureCodeEssentialStartTimeout: an essential workload that does
// not start in time fails the container with 1 during its start.
func TestFailureCodeEssentialStartTimeout(t *testing.T) {
	h := newHarness(t, dbWeb(Spec{StartTimeout: time.Second, Ready: Readiness{Kind: ReadyNotify}}), Options{ZeroOnStop: true})
	h.do(Boot{})
	h.advance(time.Second)
	got := h.exit("db", KilledBy(syscall.SIGTERM))
	if !has(got, "shutdown essential-failed code=1") {
		t.Errorf("%q", got)
	}
	if code := drainCode(t, h, got); code != 1 {
		t.Errorf("drain code %d, want 1", code)
	}
}

// TestFailureCodeHealthStop: an essential workload stopped as unhealthy
// (action stop) that dies of the stop's SIGTERM fails the container
// with 1.
func TestFailureCodeHealthStop(t *testing.T) {
	spec := healthSpec(ActionStop)
	spec.Essential, spec.Health.Retries = true, 1
	h := newHarness(t, []Spec{spec, {Name: "app", Main: true}}, Options{ZeroOnStop: true})
	h.do(Boot{})
	equal(t, "unhealthy", without(h.probeResult("web", false), "timer"), []string{"signal web run=1 SIGTERM"})
	got := h.exit("web", KilledBy(syscall.SIGTERM))
	if !has(got, "shutdown essential-failed code=1") {
		t.Errorf("%q", got)
	}
	if code := drainCode(t, h, got); code != 1 {
		t.Errorf("drain code %d, want 1", code)
	}
}

// TestFailureCodeRequiredFailed: the main workload stopped because a
// workload it requires failed fails the container with 1.
func TestFailureCodeRequiredFailed(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "db"}, {Name: "web", Main: true, Requires: []Dep{{"db", CondStarted}}}}, Options{ZeroOnStop: true})
	h.do(Boot{})
	equal(t, "db fails", without(h.exit("db", ExitCode(5)), "timer"), []string{"signal web run=1 SIGTERM"})
	got := h.exit("web", KilledBy(syscall.SIGTERM))
	if !has(got, "shutdown main-ended code=1") || !has(got, "drain code=1 ") {
		t.Errorf("%q", got)
	}
}

// TestZeroOnStop: with ZeroOnStop a stop asked from outside that ends in
// order exits 0: the main workload dies of its stop signal, exits with the
// 128+n of a shell that caught it, or never started; an exit code of its
// own, or a SIGKILL at the budget's end, still comes through. Without it
// the code is the main workload's, as tini's.
func TestZeroOnStop(t *testing.T) {
	main := Spec{Name: "web", Main: true, StopTimeout: time.Second}
	for _, c := range []struct {
		name string
		zero bool
		exit Exit
		want int
	}{
		{"killed by SIGTERM", true, KilledBy(syscall.SIGTERM), 0},
		{"shell exits 143", true, ExitCode(143), 0},
		{"exits 3", true, ExitCode(3), 3},
		{"SIGKILLed", true, KilledBy(syscall.SIGKILL), 137},
		{"tini's rule", false, KilledBy(syscall.SIGTERM), 143},
	} {
		h := newHarness(t, []Spec{main}, Options{ZeroOnStop: c.zero})
		h.do(Boot{})
		h.do(ShutdownRequested{Signal: syscall.SIGTERM})
		if got := h.exit("web", c.exit); !has(got, "drain code="+itoa(c.want)+" ") {
			t.Errorf("%s: %q, want code %d", c.name, got, c.want)
		}
	}
	// SIGINT: the main workload, with no stop signal of its own, gets
	// the shutdown's.
	h := newHarness(t, []Spec{main}, Options{ZeroOnStop: true})
	h.do(Boot{})
	if got := h.do(ShutdownRequested{Signal: syscall.SIGINT}); !has(got, "shutdown signal code=0") || !has(got, "signal web run=1 SIGINT") {
		t.Errorf("SIGINT: %q", got)
	}
	if got := h.exit("web", KilledBy(syscall.SIGINT)); !has(got, "drain code=0 ") {
		t.Errorf("SIGINT: %q", got)
	}
	// Never started: the stop came while it waited for db.
	h = newHarness(t, []Spec{{Name: "db", Ready: Readiness{Kind: ReadyNotify}}, {Name: "web", Main: true, After: []Dep{{"db", CondReady}}}}, Options{ZeroOnStop: true})
	h.do(Boot{})
	h.do(ShutdownRequested{Signal: syscall.SIGTERM})
	if got := h.exit("db", KilledBy(syscall.SIGTERM)); !has(got, "drain code=0 ") {
		t.Errorf("never started: %q", got)
	}
	// The main workload stopped by request (ctl stop) ends the container
	// as a stop.
	h = newHarness(t, []Spec{main}, Options{ZeroOnStop: true})
	h.do(Boot{})
	h.do(StopRequested{Name: "web"})
	if got := h.exit("web", KilledBy(syscall.SIGTERM)); !has(got, "shutdown main-ended code=0") || !has(got, "drain code=0 ") {
		t.Errorf("ctl stop: %q", got)
	}
}
