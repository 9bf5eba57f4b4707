package supervise

import (
	"errors"
	"syscall"
	"testing"
	"time"
)

// TestReload: only changed workloads restart; new ones start; removed
// ones stop and are forgotten.
func TestReload(t *testing.T) {
	old := []Spec{
		{Name: "db"},
		{Name: "api", Requires: []Dep{{"db", CondStarted}}},
		{Name: "old"},
		{Name: "job", Kind: Oneshot},
		{Name: "web", Main: true},
	}
	h := newHarness(t, old, Options{})
	h.do(Boot{})
	h.exit("job", ExitCode(0))
	next := []Spec{
		{Name: "db"},
		{Name: "api", Requires: []Dep{{"db", CondStarted}}, StopSignal: syscall.SIGQUIT}, // spec changed
		{Name: "job", Kind: Oneshot},
		{Name: "web", Main: true},
		{Name: "new", After: []Dep{{"db", CondStarted}}},
	}
	ds, err := h.m.Reload(next, []string{"job"}) // job's command changed
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.String())
	}
	// api is stopped with its old stop signal; "old" is stopped; job,
	// completed, runs again; new starts.
	equal(t, "reload", without(got, "timer"), []string{
		"signal api run=1 SIGTERM", "start job run=2", "start new run=1", "signal old run=1 SIGTERM",
	})
	h.runs["job"], h.runs["new"] = 2, 1
	equal(t, "api ended", without(h.exit("api", KilledBy(syscall.SIGTERM)), "timer"), []string{"start api run=2"})
	h.exit("old", ExitCode(0))
	if h.m.Has("old") {
		t.Error("removed workload still known")
	}
	for _, s := range h.m.Status() {
		if s.Name == "db" || s.Name == "web" {
			if s.Run != 1 {
				t.Errorf("unchanged %s restarted: %+v", s.Name, s)
			}
		}
	}
}

// TestReloadRefused: a bad set of specs, or a reload during shutdown,
// changes nothing.
func TestReloadRefused(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "a", Main: true}}, Options{})
	h.do(Boot{})
	if _, err := h.m.Reload([]Spec{{Name: "a", After: []Dep{{"x", CondStarted}}}}, nil); err == nil {
		t.Error("unknown dependency accepted")
	}
	if s := h.status("a"); s.State != Running || s.Run != 1 {
		t.Errorf("status %+v", s)
	}
	h.do(ShutdownRequested{Signal: syscall.SIGTERM})
	if _, err := h.m.Reload([]Spec{{Name: "a", Main: true}}, nil); !errors.Is(err, ErrShuttingDown) {
		t.Errorf("reload during shutdown: %v", err)
	}
}

// TestReloadStoppedStaysStopped: a workload stopped by request is not
// started by a reload, even if changed.
func TestReloadStoppedStaysStopped(t *testing.T) {
	h := newHarness(t, []Spec{{Name: "a"}, {Name: "m", Main: true}}, Options{})
	h.do(Boot{})
	h.do(StopRequested{Name: "a"})
	h.exit("a", ExitCode(0))
	ds, err := h.m.Reload([]Spec{{Name: "a", StopTimeout: time.Second}, {Name: "m", Main: true}}, []string{"a"})
	if err != nil || len(ds) != 0 {
		t.Errorf("reload: %v %v", ds, err)
	}
	h.wantState("a", Stopped)
}

// TestReloadBackWhileStopping: a workload removed by a reload and put
// back by the next one while its process is still stopping starts once
// that process has ended, and later reloads leave it running. (It stayed
// stopped for good.)
func TestReloadBackWhileStopping(t *testing.T) {
	with := []Spec{{Name: "a", StopTimeout: 5 * time.Second}, {Name: "m", Main: true}}
	h := newHarness(t, with, Options{})
	h.do(Boot{})
	ds, err := h.m.Reload([]Spec{{Name: "m", Main: true}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "removed", without(strs(ds), "timer"), []string{"signal a run=1 SIGTERM"})
	ds, err = h.m.Reload(with, nil)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "put back while stopping", without(strs(ds), "timer"), nil)
	h.wantState("a", Stopping)
	equal(t, "old process ended", without(h.exit("a", KilledBy(syscall.SIGTERM)), "timer"), []string{"start a run=2"})
	h.wantState("a", Running)
	ds, err = h.m.Reload(with, nil)
	if err != nil || len(ds) != 0 {
		t.Errorf("a later reload: %v %v", ds, err)
	}
	h.wantState("a", Running)
}

func strs(ds []Decision) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.String())
	}
	return out
}
