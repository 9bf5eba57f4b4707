package supervise

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// TestZeroBackoffRestartsAtOnce: with no backoff a crash-looping workload
// is started again in the very Handle that took its exit: no timer, no
// sleep of any length.
func TestZeroBackoffRestartsAtOnce(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "loop", Restart: Always}, {Name: "app", Main: true}}, Options{})
	equal(t, "boot", h.do(Boot{}), []string{"start loop run=1", "start app run=1"})
	for run := 2; run <= 1000; run++ {
		got := h.exit("loop", ExitCode(1))
		equal(t, "after exit", got, []string{fmt.Sprintf("start loop run=%d", run)})
		if t.Failed() {
			return
		}
	}
	if s := h.status("loop"); s.Restarts != 999 || s.State != Running {
		t.Errorf("status %+v, want running with 999 restarts", s)
	}
	if _, ok := h.timers.Next(); ok {
		t.Errorf("a timer is armed with zero backoff")
	}
}

// TestBackoffSchedule: each failure doubles the delay up to the cap; the
// restart happens when the timer fires, not before.
func TestBackoffSchedule(t *testing.T) {
	ms := time.Millisecond
	spec := Spec{Name: "w", Restart: OnFailure, Backoff: BackoffPolicy{Initial: 100 * ms, Max: 500 * ms}}
	h := newHarness(t, []Spec{spec, {Name: "app", Main: true}}, Options{})
	h.do(Boot{})
	for i, want := range []time.Duration{100 * ms, 200 * ms, 400 * ms, 500 * ms, 500 * ms} {
		start := h.at()
		got := h.exit("w", ExitCode(2))
		equal(t, fmt.Sprintf("failure %d", i+1), got, []string{"timer w " + clockTime(epoch.Add(start+want))})
		h.wantState("w", Backoff)
		if got := without(h.advance(want-ms), "timer"); len(got) != 0 {
			t.Fatalf("failure %d: decided %q before the delay", i+1, got)
		}
		got = h.advance(ms)
		equal(t, fmt.Sprintf("restart %d", i+1), got, []string{fmt.Sprintf("start w run=%d", i+2)})
		h.wantState("w", Running)
	}
}

// TestBackoffResetAfterStablePeriod: a process that ran for reset_after
// starts the sequence over; one that did not keeps climbing.
func TestBackoffResetAfterStablePeriod(t *testing.T) {
	ms := time.Millisecond
	spec := Spec{Name: "w", Restart: Always, Backoff: BackoffPolicy{Initial: 100 * ms, ResetAfter: 10 * time.Second}}
	h := newHarness(t, []Spec{spec, {Name: "app", Main: true}}, Options{})
	h.do(Boot{})
	delays := func() time.Duration {
		h.exit("w", ExitCode(1))
		at, _ := h.timers.Next()
		d := at.Sub(h.clk.t)
		h.advance(d)
		return d
	}
	for i, want := range []time.Duration{100 * ms, 200 * ms, 400 * ms} {
		if got := delays(); got != want {
			t.Fatalf("short run %d: delay %v, want %v", i+1, got, want)
		}
	}
	h.advance(9999 * ms) // not quite stable
	if got := delays(); got != 800*ms {
		t.Fatalf("after 9.999s: delay %v, want 800ms", got)
	}
	h.advance(10 * time.Second) // stable
	if got := delays(); got != 100*ms {
		t.Fatalf("after a stable run: delay %v, want 100ms", got)
	}
	if got := delays(); got != 200*ms {
		t.Fatalf("then: delay %v, want 200ms", got)
	}
}

// TestBackoffJitterSeeded: the same seed gives the same schedule.
func TestBackoffJitterSeeded(t *testing.T) {
	schedule := func(seed uint64) []time.Duration {
		spec := Spec{Name: "w", Restart: Always, Backoff: BackoffPolicy{Initial: time.Second, Max: time.Minute, Jitter: 0.5}}
		h := newHarness(t, []Spec{spec, {Name: "app", Main: true}}, Options{Rand: NewRand(seed)})
		h.do(Boot{})
		var out []time.Duration
		for range 6 {
			h.exit("w", ExitCode(1))
			at, _ := h.timers.Next()
			out = append(out, at.Sub(h.clk.t))
			h.advance(at.Sub(h.clk.t))
		}
		return out
	}
	a, b, c := schedule(3), schedule(3), schedule(4)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("seed 3 twice: %v and %v", a, b)
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Errorf("seeds 3 and 4 gave the same schedule %v", a)
	}
	plain := time.Second
	for i, d := range a {
		if d < plain/2 || d > plain*3/2 {
			t.Errorf("delay %d = %v outside ±50%% of %v", i, d, plain)
		}
		plain = min(2*plain, time.Minute)
	}
}

// TestGiveUp: the Nth failure within the window fails the workload; the
// same failures spread wider than the window never do.
func TestGiveUp(t *testing.T) {
	spec := Spec{Name: "w", Restart: Always, GiveUp: GiveUp{Failures: 3, Window: 10 * time.Second}}
	t.Run("within window", func(t *testing.T) {
		h := newHarness(t, []Spec{spec, {Name: "app", Main: true}}, Options{})
		h.do(Boot{})
		h.exit("w", ExitCode(1))
		h.advance(time.Second)
		h.exit("w", ExitCode(1))
		h.advance(time.Second)
		got := h.exit("w", ExitCode(1))
		if has(got, "start") {
			t.Errorf("restarted after the 3rd failure: %q", got)
		}
		h.wantState("w", Failed)
		if r := h.status("w").Reason; r != "exited with code 1; gave up after 3 failures within 10s" {
			t.Errorf("reason %q", r)
		}
	})
	t.Run("spread out", func(t *testing.T) {
		h := newHarness(t, []Spec{spec, {Name: "app", Main: true}}, Options{})
		h.do(Boot{})
		for range 20 {
			h.advance(6 * time.Second)
			h.exit("w", ExitCode(1))
			h.wantState("w", Running)
		}
	})
	t.Run("clean exits do not count", func(t *testing.T) {
		h := newHarness(t, []Spec{spec, {Name: "app", Main: true}}, Options{})
		h.do(Boot{})
		for range 10 {
			h.exit("w", ExitCode(0))
		}
		h.wantState("w", Running)
	})
	t.Run("spawn failures count", func(t *testing.T) {
		h := newHarness(t, []Spec{spec, {Name: "app", Main: true}}, Options{})
		h.nospawn["w"] = 127
		h.do(Boot{})
		h.wantState("w", Failed)
		if s := h.status("w"); s.Run != 3 || s.StartError != "not found" || s.Exit == nil || s.Exit.Code != 127 {
			t.Errorf("status %+v", s)
		}
	})
}

// TestRestartPolicies: which ends restart, which complete and which fail,
// for each policy.
func TestRestartPolicies(t *testing.T) {
	ends := []struct {
		name string
		exit Exit
	}{
		{"exit 0", ExitCode(0)},
		{"exit 3", ExitCode(3)},
		{"exit 42 (a success code)", ExitCode(42)},
		{"SIGSEGV", KilledBy(syscall.SIGSEGV)},
	}
	want := map[Restart][]State{
		Never:     {Completed, Failed, Completed, Failed},
		OnFailure: {Completed, Running, Completed, Running},
		Always:    {Running, Running, Running, Running},
	}
	for _, policy := range []Restart{Never, OnFailure, Always} {
		for i, e := range ends {
			t.Run(policy.String()+"/"+e.name, func(t *testing.T) {
				h := newHarness(t, []Spec{{Name: "w", Restart: policy, SuccessCodes: []int{42}}, {Name: "app", Main: true}}, Options{})
				h.do(Boot{})
				h.exit("w", e.exit)
				h.wantState("w", want[policy][i])
			})
		}
	}
}

// TestOneshot: a oneshot is starting while it runs, completed on success,
// and retried on failure when its policy says so.
func TestOneshot(t *testing.T) {
	h := newHarness(t, []Spec{
		{Name: "migrate", Kind: Oneshot, Restart: OnFailure},
		{Name: "app", Main: true, Requires: []Dep{{"migrate", CondCompleted}}},
	}, Options{})
	equal(t, "boot", h.do(Boot{}), []string{"start migrate run=1"})
	h.wantState("migrate", Starting)
	equal(t, "failure", h.exit("migrate", ExitCode(1)), []string{"start migrate run=2"})
	equal(t, "success", h.exit("migrate", ExitCode(0)), []string{"start app run=1"})
	h.wantState("migrate", Completed)
}

// TestStartTimeout: a workload not ready in time is stopped (its stop
// signal, then SIGKILL at its stop timeout) and that counts as a failure.
func TestStartTimeout(t *testing.T) {
	spec := Spec{
		Name: "w", Restart: OnFailure, StartTimeout: 5 * time.Second,
		StopSignal: syscall.SIGINT, StopTimeout: 2 * time.Second,
		Ready:  Readiness{Kind: ReadyNotify},
		GiveUp: GiveUp{Failures: 2},
	}
	h := newHarness(t, []Spec{spec, {Name: "app", Main: true}}, Options{})
	equal(t, "boot", h.do(Boot{}), []string{"start w run=1", "start app run=1", "timer w 00:00:05.000"})
	equal(t, "before", without(h.advance(4999*time.Millisecond), "timer"), nil)
	equal(t, "timeout", h.advance(time.Millisecond), []string{"signal w run=1 SIGINT", "timer w 00:00:07.000"})
	h.wantState("w", Stopping)
	equal(t, "kill", h.advance(2*time.Second), []string{"kill w run=1 stop-timeout"})
	equal(t, "ended", h.exit("w", KilledBy(syscall.SIGKILL)), []string{"start w run=2", "timer w 00:00:12.000"})
	if s := h.status("w"); s.Reason != "not ready within start timeout 5s" {
		t.Errorf("reason %q", s.Reason)
	}
	// Ready in time this run: the timeout is off.
	equal(t, "ready", h.ready("w"), []string{"timer w off"})
	h.wantState("w", Ready)
}

func TestOneshotStartTimeout(t *testing.T) {
	spec := Spec{Name: "job", Kind: Oneshot, StartTimeout: time.Second}
	h := newHarness(t, []Spec{spec, {Name: "app", Main: true, After: []Dep{{"job", CondCompleted}}}}, Options{})
	h.do(Boot{})
	got := h.advance(time.Second)
	equal(t, "timeout", without(got, "timer"), []string{"signal job run=1 SIGTERM"})
	got = h.exit("job", KilledBy(syscall.SIGTERM))
	h.wantState("job", Failed)
	// app only comes after job, so it starts anyway.
	equal(t, "app", without(got, "timer"), []string{"start app run=1"})
	if r := h.status("job").Reason; r != "not completed within start timeout 1s" {
		t.Errorf("reason %q", r)
	}
}

// TestStaleEvents: events from an earlier run, or for unknown names, or
// repeated, change nothing.
func TestStaleEvents(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "w", Restart: Always, Ready: Readiness{Kind: ReadyNotify}}, {Name: "app", Main: true}}, Options{})
	h.do(Boot{})
	h.exit("w", ExitCode(1)) // run 2 starts
	for _, ev := range []Event{
		Exited{Name: "w", Run: 1, Exit: ExitCode(1)},
		ReadyNotified{Name: "w", Run: 1},
		Spawned{Name: "w", Run: 2, Pid: 999},
		SpawnFailed{Name: "w", Run: 2, Code: 127},
		Exited{Name: "nope", Run: 1},
		ProbeDone{Name: "w", ID: 12345, OK: true},
		TimerFired{Name: "w"},
		TimerFired{Name: "nope"},
		Boot{},
	} {
		if got := h.do(ev); len(got) != 0 {
			t.Errorf("%T%+v decided %q", ev, ev, got)
		}
	}
	if s := h.status("w"); s.State != Starting || s.Run != 2 || s.Pid != h.pids["w"] {
		t.Errorf("status %+v", s)
	}
}
