package pid1

import (
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/supervise"
)

func TestHostViewOf(t *testing.T) {
	st := func(name string, s supervise.State, main, essential bool, pid int) supervise.Status {
		return supervise.Status{Name: name, State: s, Main: main, Essential: essential, Pid: pid}
	}
	for _, tc := range []struct {
		name     string
		sts      []supervise.Status
		shutting bool
		failure  string
		ready    bool
		readyN   int
		status   string
	}{
		{"starting", []supervise.Status{
			st("migrate", supervise.Completed, false, false, 0),
			st("db", supervise.Starting, false, true, 10),
			st("web", supervise.Waiting, true, false, 0),
		}, false, "", false, 1, "1/3 workloads ready; waiting for db (starting), web (waiting)"},
		{"ready", []supervise.Status{
			st("migrate", supervise.Completed, false, false, 0),
			st("db", supervise.Ready, false, true, 10),
			st("web", supervise.Running, true, false, 11),
		}, false, "", true, 3, "3/3 workloads ready"},
		{"a non-essential one failed: still ready", []supervise.Status{
			st("db", supervise.Ready, false, true, 10),
			st("web", supervise.Ready, true, false, 11),
			st("worker", supervise.Failed, false, false, 0),
		}, false, "", true, 2, "2/3 workloads ready; not ready: worker (failed)"},
		{"no main, no essential: all must be up", []supervise.Status{
			st("a", supervise.Running, false, false, 10),
			st("b", supervise.Backoff, false, false, 0),
		}, false, "", false, 1, "1/2 workloads ready; waiting for b (backoff)"},
		{"stopping", []supervise.Status{
			st("db", supervise.Stopping, false, true, 10),
			st("web", supervise.Stopped, true, false, 0),
			st("cache", supervise.Running, false, false, 12),
		}, true, "", false, 0, "stopping: waiting for db, cache"},
		{"stopped", []supervise.Status{st("web", supervise.Stopped, true, false, 0)}, true, "", false, 0, "stopping"},
		{"many names are cut", []supervise.Status{
			st("a", supervise.Starting, true, false, 1), st("b", supervise.Starting, false, false, 2),
			st("c", supervise.Starting, false, false, 3), st("d", supervise.Starting, false, false, 4),
			st("e", supervise.Starting, false, false, 5), st("f", supervise.Starting, false, false, 6),
		}, false, "", false, 0, "0/6 workloads ready; waiting for a (starting), b (starting), c (starting), d (starting) and 2 more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := hostViewOf(tc.sts, tc.shutting, tc.failure)
			if v.ready != tc.ready || v.readyN != tc.readyN || v.status != tc.status || v.stopping != tc.shutting {
				t.Errorf("got %+v\nwant ready=%v readyN=%d stopping=%v status %q", v, tc.ready, tc.readyN, tc.shutting, tc.status)
			}
		})
	}
}

func TestExtendFor(t *testing.T) {
	sts := []supervise.Status{
		{Name: "db", State: supervise.Starting},
		{Name: "web", State: supervise.Waiting},
		{Name: "done", State: supervise.Ready},
	}
	timeouts := map[string]time.Duration{"db": 90 * time.Second, "web": 10 * time.Second, "done": time.Hour}
	if got := extendFor(sts, timeouts); got != 90*time.Second {
		t.Errorf("extendFor = %v, want the longest start_timeout of those not up (90s)", got)
	}
	if got := extendFor(sts, nil); got != minExtend {
		t.Errorf("without start timeouts: %v, want %v", got, minExtend)
	}
}
