package supervise

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestConditions: a dependent starts exactly when its dependency meets
// the condition, for each condition.
func TestConditions(t *testing.T) {
	t.Run("started", func(t *testing.T) {
		h := newHarness(t, []Spec{
			{Name: "db", Ready: Readiness{Kind: ReadyNotify}},
			{Name: "app", Main: true, After: []Dep{{"db", CondStarted}}},
		}, Options{})
		// db's spawn is reported within the same round, so app follows.
		equal(t, "boot", h.do(Boot{}), []string{"start db run=1", "start app run=1"})
	})
	t.Run("ready by notify", func(t *testing.T) {
		h := newHarness(t, []Spec{
			{Name: "db", Ready: Readiness{Kind: ReadyNotify}},
			{Name: "app", Main: true, Requires: []Dep{{"db", CondReady}}},
		}, Options{})
		equal(t, "boot", h.do(Boot{}), []string{"start db run=1"})
		h.wantState("app", Waiting)
		equal(t, "ready", h.ready("db"), []string{"start app run=1"})
	})
	t.Run("ready without a check is running", func(t *testing.T) {
		h := newHarness(t, []Spec{
			{Name: "db"},
			{Name: "app", Main: true, Requires: []Dep{{"db", CondReady}}},
		}, Options{})
		equal(t, "boot", h.do(Boot{}), []string{"start db run=1", "start app run=1"})
	})
	t.Run("healthy", func(t *testing.T) {
		h := newHarness(t, []Spec{
			{Name: "db", Health: Health{Interval: 10 * time.Second, Retries: 2}},
			{Name: "app", Main: true, Requires: []Dep{{"db", CondHealthy}}},
		}, Options{})
		// The first check comes as soon as db runs.
		equal(t, "boot", h.do(Boot{}), []string{"start db run=1", "probe db health id=1 timeout=1s", "timer db 00:00:02.000"})
		equal(t, "check fails", without(h.probeResult("db", false), "timer"), nil)
		h.advance(10 * time.Second)
		equal(t, "check passes", without(h.probeResult("db", true), "timer"), []string{"start app run=1"})
	})
	t.Run("completed", func(t *testing.T) {
		h := newHarness(t, []Spec{
			{Name: "init", Kind: Oneshot},
			{Name: "app", Main: true, Requires: []Dep{{"init", CondCompleted}}},
		}, Options{})
		equal(t, "boot", h.do(Boot{}), []string{"start init run=1"})
		equal(t, "done", h.exit("init", ExitCode(0)), []string{"start app run=1"})
	})
}

// TestAfterVersusRequires: when a dependency fails for good, "after" starts
// the dependent anyway and "requires" fails it, naming the dependency.
func TestAfterVersusRequires(t *testing.T) {
	h := newHarness(t, []Spec{
		{Name: "db", Ready: Readiness{Kind: ReadyNotify}},
		{Name: "cache-warm", After: []Dep{{"db", CondReady}}},
		{Name: "api", Requires: []Dep{{"db", CondReady}}},
		{Name: "app", Main: true},
	}, Options{})
	h.do(Boot{})
	got := h.exit("db", ExitCode(1))
	equal(t, "db fails", got, []string{"start cache-warm run=1"})
	h.wantState("api", Failed)
	if r := h.status("api").Reason; r != "required workload db is failed" {
		t.Errorf("reason %q", r)
	}
}

// TestRequiredFailureStopsDependent: a running workload whose requirement
// fails for good is stopped, and is failed.
func TestRequiredFailureStopsDependent(t *testing.T) {
	h := newHarness(t, []Spec{
		{Name: "db"},
		{Name: "api", Requires: []Dep{{"db", CondStarted}}},
		{Name: "app", Main: true},
	}, Options{})
	h.do(Boot{})
	got := h.exit("db", KilledBy(syscall.SIGKILL))
	equal(t, "db dies", without(got, "timer"), []string{"signal api run=1 SIGTERM"})
	h.exit("api", KilledBy(syscall.SIGTERM))
	h.wantState("api", Failed)
	h.wantState("app", Running)
}

// TestStartOrderIsSpecOrder: workloads free to start start in the order
// they are written, dependencies permitting.
func TestStartOrderIsSpecOrder(t *testing.T) {
	h := newHarness(t, []Spec{
		{Name: "c", After: []Dep{{"b", CondReady}}},
		{Name: "a"},
		{Name: "b", After: []Dep{{"a", CondStarted}}, Ready: Readiness{Kind: ReadyFD}},
		{Name: "main", Main: true},
	}, Options{})
	// b waits for a's spawn, which the loop reports after carrying out
	// the whole first batch.
	equal(t, "boot", h.do(Boot{}), []string{"start a run=1", "start main run=1", "start b run=1"})
	equal(t, "b ready", h.ready("b"), []string{"start c run=1"})
}

func TestCheckSpecs(t *testing.T) {
	tests := []struct {
		name  string
		specs []Spec
		want  string
	}{
		{"ok", []Spec{{Name: "a"}, {Name: "b", Requires: []Dep{{"a", CondReady}}}}, ""},
		{"no name", []Spec{{}}, "workload #1: no name"},
		{"duplicate", []Spec{{Name: "a"}, {Name: "a"}}, `workload "a": name used twice`},
		{"two mains", []Spec{{Name: "a", Main: true}, {Name: "b", Main: true}}, "2 workloads are main"},
		{"unknown dep", []Spec{{Name: "a", After: []Dep{{"x", CondStarted}}}}, `workload "a": depends on unknown workload "x"`},
		{"self", []Spec{{Name: "a", Requires: []Dep{{"a", CondStarted}}}}, `workload "a": depends on itself`},
		{"cycle", []Spec{
			{Name: "a", After: []Dep{{"c", CondStarted}}},
			{Name: "b", Requires: []Dep{{"a", CondStarted}}},
			{Name: "c", After: []Dep{{"b", CondReady}}},
		}, "dependency cycle: a -> c -> b -> a"},
		{"oneshot always", []Spec{{Name: "a", Kind: Oneshot, Restart: Always}}, "a oneshot cannot restart always"},
		{"multiplier", []Spec{{Name: "a", Backoff: BackoffPolicy{Multiplier: 0.5}}}, "multiplier 0.5 must be at least 1"},
		{"jitter", []Spec{{Name: "a", Backoff: BackoffPolicy{Jitter: 1.5}}}, "jitter 1.5 must be between 0 and 1"},
		{"negative", []Spec{{Name: "a", StopTimeout: -1}}, "timeouts must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.specs, Options{})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
