package supervise

import (
	"syscall"
	"testing"
	"time"
)

// Without a main workload the container runs until a shutdown request,
// an essential failure, or until every workload has ended for good.

// TestNothingLeftAllSucceeded: a oneshot that completed and a longrun
// stopped by request have both ended for good, and neither failed: 0.
func TestNothingLeftAllSucceeded(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "job", Kind: Oneshot}, {Name: "srv"}}, Options{})
	h.do(Boot{})
	if got := h.exit("job", ExitCode(0)); has(got, "shutdown") {
		t.Fatalf("shut down while srv runs: %q", got)
	}
	h.do(StopRequested{Name: "srv"})
	got := h.exit("srv", KilledBy(syscall.SIGTERM))
	equal(t, "end", without(got, "timer"), []string{"shutdown nothing-left code=0", "drain code=0 until 00:00:08.000"})
	if sum, _ := h.m.Shutdown(); sum.Workload != "" {
		t.Errorf("summary names %q; nothing failed", sum.Workload)
	}
}

// TestNothingLeftWaitsForRestart: a workload in backoff, or waiting to
// start again, has not ended for good; once it gives up, it has.
func TestNothingLeftWaitsForRestart(t *testing.T) {
	h := newHarness(t, []Spec{
		{Name: "job", Kind: Oneshot},
		{Name: "flaky", Restart: OnFailure, Backoff: BackoffPolicy{Initial: time.Second}, GiveUp: GiveUp{Failures: 2}},
	}, Options{})
	h.do(Boot{})
	h.exit("job", ExitCode(0))
	if got := h.exit("flaky", ExitCode(3)); has(got, "shutdown") {
		t.Fatalf("shut down with a restart pending: %q", got)
	}
	h.wantState("flaky", Backoff)
	if got := h.advance(time.Second); has(got, "shutdown") || !has(got, "start flaky run=2") {
		t.Fatalf("after the backoff: %q", got)
	}
	got := h.exit("flaky", KilledBy(syscall.SIGSEGV))
	equal(t, "end", without(got, "timer"), []string{"shutdown nothing-left code=139", "drain code=139 until 00:00:09.000"})
}

// TestNothingLeftFallbackCode: a failed workload that never ran gives
// ExitEssentialFallback, as an essential one would; the first failed in
// spec order decides.
func TestNothingLeftFallbackCode(t *testing.T) {
	h := newHarness(t, []Spec{
		{Name: "db", Kind: Oneshot},
		{Name: "app", Requires: []Dep{{"db", CondCompleted}}},
	}, Options{})
	h.nospawn["db"] = 127
	got := h.do(Boot{})
	// db failed with 127 and app, which requires it, never ran: db is
	// first, so 127.
	if !has(got, "shutdown nothing-left code=127") {
		t.Errorf("got %q", got)
	}
	h2 := newHarness(t, []Spec{
		{Name: "app", Requires: []Dep{{"db", CondCompleted}}},
		{Name: "db", Kind: Oneshot},
	}, Options{})
	h2.nospawn["db"] = 127
	if got := h2.do(Boot{}); !has(got, "shutdown nothing-left code=1") {
		t.Errorf("app first: got %q", got)
	}
}

// TestNothingLeftEssential: an essential failure still ends a container
// without main at once, the others being stopped.
func TestNothingLeftEssential(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "a"}, {Name: "b", Essential: true}}, Options{})
	h.do(Boot{})
	got := h.exit("b", ExitCode(4))
	equal(t, "shutdown", without(got, "timer"), []string{"shutdown essential-failed code=4", "signal a run=1 SIGTERM"})
	got = h.exit("a", KilledBy(syscall.SIGTERM))
	if !has(got, "drain code=4 ") {
		t.Errorf("got %q", got)
	}
}

// TestHealthyWithoutKeyWorkloads: with neither main nor essential
// workloads, every workload must be up for `health`.
func TestHealthyWithoutKeyWorkloads(t *testing.T) {
	h := newHarness(t, []Spec{
		{Name: "a", Ready: Readiness{Kind: ReadyNotify}},
		{Name: "b"},
		{Name: "setup", Kind: Oneshot},
	}, Options{})
	h.do(Boot{})
	ok, why := h.m.Healthy()
	equal(t, "at boot", why, []string{"a: starting", "setup: starting"})
	if ok {
		t.Error("healthy before a is ready")
	}
	h.ready("a")
	h.exit("setup", ExitCode(0))
	if ok, why := h.m.Healthy(); !ok {
		t.Errorf("not healthy: %q", why)
	}
	h.do(StopRequested{Name: "b"})
	h.exit("b", KilledBy(syscall.SIGTERM))
	if ok, why := h.m.Healthy(); ok || len(why) != 1 || why[0] != "b: stopped" {
		t.Errorf("with b stopped: %v %q", ok, why)
	}
}
