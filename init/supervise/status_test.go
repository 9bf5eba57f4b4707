package supervise

import (
	"syscall"
	"testing"
	"time"
)

// TestHealthReasonClearedOnRecovery: with action report, the reason an
// unhealthy workload got ("unhealthy: 2 failed checks") goes once a check
// passes again; status used to keep it next to HEALTH healthy.
func TestHealthReasonClearedOnRecovery(t *testing.T) {
	spec := healthSpec(ActionReport)
	spec.Health.Retries = 2
	h := newHarness(t, []Spec{spec, {Name: "app", Main: true}}, Options{})
	h.do(Boot{})
	h.probeResult("web", false)
	h.advance(5 * time.Second)
	h.probeResult("web", false)
	if st := h.status("web"); st.Health != "unhealthy" || st.Reason != "unhealthy: 2 failed checks (exit 1)" {
		t.Fatalf("after two failed checks: %q, %q", st.Health, st.Reason)
	}
	h.advance(5 * time.Second)
	h.probeResult("web", true)
	if st := h.status("web"); st.Health != "healthy" || st.Reason != "" {
		t.Errorf("after recovery: health %q, reason %q", st.Health, st.Reason)
	}
}

// TestHealthOfStoppedOrFailed: a workload without a process reads as not
// checked ("unknown"), whatever its last check said: stopped by request
// (ctl stop web-b used to leave HEALTH healthy), failed, or completed.
func TestHealthOfStoppedOrFailed(t *testing.T) {
	stopped := healthSpec(ActionReport)
	failed := healthSpec(ActionReport)
	failed.Name, failed.Restart = "worker", Never
	h := newHarness(t, []Spec{stopped, failed, {Name: "app", Main: true}}, Options{})
	h.do(Boot{})
	h.probeResult("web", true)
	h.probeResult("worker", true)
	for _, name := range []string{"web", "worker"} {
		if got := h.status(name).Health; got != "healthy" {
			t.Fatalf("%s: health %q", name, got)
		}
	}
	h.do(StopRequested{Name: "web"})
	h.exit("web", KilledBy(syscall.SIGTERM))
	h.wantState("web", Stopped)
	h.exit("worker", ExitCode(3))
	h.wantState("worker", Failed)
	for _, name := range []string{"web", "worker"} {
		if got := h.status(name).Health; got != "unknown" {
			t.Errorf("%s, %s: health %q, want unknown", name, h.state(name), got)
		}
	}
}

// TestEndedBeforeItsStopSignal: a workload that ends by itself while it
// waits for its dependents to stop first was never sent its stop signal:
// its reason says how it ended, not "ended during stop".
func TestEndedBeforeItsStopSignal(t *testing.T) {
	h := newHarness(t, []Spec{
		{Name: "db"},
		{Name: "api", Requires: []Dep{{"db", CondStarted}}},
		{Name: "app", Main: true},
	}, Options{})
	h.do(Boot{})
	got := h.do(ShutdownRequested{Signal: syscall.SIGTERM})
	if has(got, "signal db") {
		t.Fatalf("db signalled before api ended: %q", got)
	}
	h.exit("db", ExitCode(0))
	h.wantState("db", Stopped)
	if st := h.status("db"); st.Reason != "exited with code 0 before its stop signal" || st.Killed {
		t.Errorf("db: %+v", st)
	}
	h.exit("api", KilledBy(syscall.SIGTERM))
	if r := h.status("api").Reason; r == "" {
		t.Errorf("api, stopped by its stop signal: no reason")
	}
}

// TestRemovedStatus: a workload a reload removed is, once forgotten,
// reported stopped with reason "removed by reload", never as the zero
// state (waiting); one removed before it started too.
func TestRemovedStatus(t *testing.T) {
	h := newHarness(t, []Spec{
		{Name: "old"},
		{Name: "later", Requires: []Dep{{"gate", CondCompleted}}},
		{Name: "gate", Kind: Oneshot},
		{Name: "app", Main: true},
	}, Options{})
	h.do(Boot{})
	h.wantState("later", Waiting)
	if _, err := h.m.Reload([]Spec{{Name: "gate", Kind: Oneshot}, {Name: "app", Main: true}}, nil); err != nil {
		t.Fatal(err)
	}
	h.exit("old", KilledBy(syscall.SIGTERM))
	h.do(ProbeDone{}) // any event: the machine forgets what has ended
	for _, name := range []string{"old", "later"} {
		if h.m.Has(name) {
			t.Fatalf("%s still known", name)
		}
		st, ok := h.m.Removed()[name]
		if !ok || st.State != Stopped || st.Reason != "removed by reload" {
			t.Errorf("%s: %+v", name, st)
		}
	}
	if st := h.m.Removed()["old"]; st.Exit == nil || st.Exit.Signal != syscall.SIGTERM || st.Run != 1 {
		t.Errorf("old's end lost: %+v", st)
	}
}
