package supervise

import (
	"syscall"
	"testing"
	"time"
)

func healthSpec(action HealthAction) Spec {
	return Spec{
		Name: "web", Restart: Always,
		Health: Health{Interval: 5 * time.Second, Timeout: 2 * time.Second, Retries: 3, Action: action},
	}
}

// TestHealthRetries: only Retries failed checks in a row make a workload
// unhealthy; a pass in between starts the count over.
func TestHealthRetries(t *testing.T) {
	h := newHarness(t, []Spec{healthSpec(ActionReport), {Name: "app", Main: true}}, Options{})
	h.do(Boot{})
	check := func(ok bool, want string) {
		t.Helper()
		h.probeResult("web", ok)
		if got := h.status("web").Health; got != want {
			t.Fatalf("at %v: health %q, want %q", h.at(), got, want)
		}
		// The next check comes one interval later.
		got := h.advance(5 * time.Second)
		if !has(got, "probe web health") {
			t.Fatalf("no check after an interval: %q", got)
		}
	}
	if got := h.status("web").Health; got != "unknown" {
		t.Fatalf("health before any check %q", got)
	}
	check(true, "healthy")
	check(false, "healthy")
	check(false, "healthy")
	check(true, "healthy")
	check(false, "healthy")
	check(false, "healthy")
	check(false, "unhealthy")
	h.wantState("web", Running) // action report: it keeps running
	if r := h.status("web").Reason; r != "unhealthy: 3 failed checks (exit 1)" {
		t.Errorf("reason %q", r)
	}
	check(true, "healthy")
}

// TestHealthActionRestart: unhealthy restarts the workload, and that
// counts as a failure (here with a backoff).
func TestHealthActionRestart(t *testing.T) {
	spec := healthSpec(ActionRestart)
	spec.Health.Retries = 1
	spec.Backoff = BackoffPolicy{Initial: time.Second}
	h := newHarness(t, []Spec{spec, {Name: "app", Main: true}}, Options{})
	h.do(Boot{})
	got := h.probeResult("web", false)
	equal(t, "unhealthy", without(got, "timer"), []string{"signal web run=1 SIGTERM"})
	got = h.exit("web", KilledBy(syscall.SIGTERM))
	h.wantState("web", Backoff)
	got = h.advance(time.Second)
	if !has(got, "start web run=2") {
		t.Errorf("no restart after the backoff: %q", got)
	}
}

// TestHealthActionStop: unhealthy stops the workload for good: failed, and
// for an essential one, the end of the container.
func TestHealthActionStop(t *testing.T) {
	spec := healthSpec(ActionStop)
	spec.Essential = true
	spec.Health.Retries = 2
	h := newHarness(t, []Spec{spec, {Name: "app", Main: true}}, Options{})
	h.do(Boot{})
	h.probeResult("web", false)
	h.advance(5 * time.Second)
	got := h.probeResult("web", false)
	equal(t, "unhealthy", without(got, "timer"), []string{"signal web run=1 SIGTERM"})
	got = h.exit("web", ExitCode(0))
	h.wantState("web", Failed)
	if !has(got, "shutdown essential-failed code=1") {
		t.Errorf("got %q", got)
	}
}

// TestHealthProbeWatchdog: a check whose result never comes counts as
// failed once its timeout and a margin have passed, and a late result is
// ignored.
func TestHealthProbeWatchdog(t *testing.T) {
	spec := healthSpec(ActionReport)
	spec.Health.Retries = 1
	h := newHarness(t, []Spec{spec, {Name: "app", Main: true}}, Options{})
	h.do(Boot{})
	lost := h.probes["web"]
	h.advance(2*time.Second + probeWatchdog)
	if got := h.status("web"); got.Health != "unhealthy" || got.Probe != "no result" {
		t.Errorf("status %+v", got)
	}
	h.do(ProbeDone{Name: "web", ID: lost.ID, OK: true})
	if got := h.status("web").Health; got != "unhealthy" {
		t.Errorf("a late result counted: %q", got)
	}
}

// TestReadyProbe: a readiness probe repeats every interval until it
// passes; a failing start is bounded by the start timeout.
func TestReadyProbe(t *testing.T) {
	spec := Spec{Name: "db", Ready: Readiness{Kind: ReadyProbe, Interval: 500 * time.Millisecond, Timeout: 200 * time.Millisecond}}
	h := newHarness(t, []Spec{spec, {Name: "app", Main: true, Requires: []Dep{{"db", CondReady}}}}, Options{})
	got := h.do(Boot{})
	if !has(got, "probe db ready id=1 timeout=200ms") {
		t.Fatalf("boot: %q", got)
	}
	for i := range 3 {
		h.advance(100 * time.Millisecond)
		h.probeResult("db", false)
		got = h.advance(500 * time.Millisecond)
		if !has(got, "probe db ready") {
			t.Fatalf("try %d: no new probe: %q", i, got)
		}
	}
	got = h.probeResult("db", true)
	equal(t, "ready", without(got, "timer"), []string{"start app run=1"})
	h.wantState("db", Ready)
}

// TestHealthy answers `miniinit health`: main and essential workloads
// must be ready and, with a check, healthy.
func TestHealthy(t *testing.T) {
	h := newHarness(t, []Spec{
		{Name: "app", Main: true, Ready: Readiness{Kind: ReadyNotify}},
		{Name: "proxy", Essential: true, Health: Health{Interval: time.Second}},
		{Name: "extra", Ready: Readiness{Kind: ReadyNotify}}, // neither: never counted
		{Name: "setup", Essential: true, Kind: Oneshot},
	}, Options{})
	h.do(Boot{})
	ok, why := h.m.Healthy()
	if ok || len(why) != 3 {
		t.Fatalf("healthy %v %q", ok, why)
	}
	if why[1] != "proxy: running, unhealthy (not yet checked)" {
		t.Errorf("line %q", why[1])
	}
	h.ready("app")
	h.probeResult("proxy", true)
	h.exit("setup", ExitCode(0))
	if ok, why := h.m.Healthy(); !ok {
		t.Errorf("not healthy: %q", why)
	}
	h.advance(time.Second)
	h.probeResult("proxy", false)
	if ok, why := h.m.Healthy(); ok || why[0] != "proxy: running, unhealthy" {
		t.Errorf("healthy %v %q", ok, why)
	}
}
