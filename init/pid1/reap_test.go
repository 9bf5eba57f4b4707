package pid1

import (
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/supervise"
)

// testLoop is a loop that can start and reap in this process, without the
// process-wide setup of Run, for workloads ws.
func testLoop(t *testing.T, ws ...Workload) *loop {
	t.Helper()
	l := &loop{
		log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		self:     os.Getpid(),
		environ:  os.Environ(),
		startDir: "/",
		stdio:    []uintptr{0, 1, 2},
		devNull:  -1,
		procs:    map[int]*process{},
		probes:   map[int]*execProbe{},
		works:    map[string]*work{},
		events:   make(chan any, 16),
	}
	l.opts.Workloads = ws
	if err := l.setupSupervision(); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestExitBeforeRegistration is the race other Go reapers lose: the child
// exits before its starter has recorded the pid. Here the pid is registered
// only after the child is certainly dead. Because nothing but the loop
// waits, the child is still a zombie holding its status, and the next reap
// hands exit code 7 to the process that started it.
func TestExitBeforeRegistration(t *testing.T) {
	w := Workload{Name: "quick", Args: []string{"/bin/sh", "-c", "exit 7"}, Main: true}
	l := testLoop(t, w)
	// The machine decides the start; the test carries it out by hand,
	// late.
	if ds := l.m.Handle(supervise.Boot{}); len(ds) != 1 || ds[0].String() != "start quick run=1" {
		t.Fatalf("boot: %v", ds)
	}
	p := &process{w: w, run: 1}
	pid, err := l.spawn(p)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the unregistered child to become a zombie", func() bool {
		e, err := readStat(pid)
		return err == nil && e.State == 'Z'
	})

	p.pid, p.running = pid, true
	l.procs[pid], l.works["quick"].cur = p, p
	l.handle(supervise.Spawned{Name: "quick", Run: 1, Pid: pid})
	l.reap()
	if p.running || p.code != 7 {
		t.Fatalf("late-registered child: running=%v code=%d, want exited with 7", p.running, p.code)
	}
	if !l.done || l.code != 7 {
		t.Errorf("main ended and no child is left, but the loop is not done (done %v, code %d)", l.done, l.code)
	}
	if _, err := readStat(pid); err == nil {
		t.Errorf("pid %d still exists after the reap", pid)
	}
}

// TestStartRegistersBeforeReap goes through the start itself: whatever
// the child does, its status reaches the workload it belongs to, never the
// orphan path.
func TestStartRegistersBeforeReap(t *testing.T) {
	l := testLoop(t, Workload{Name: "quick", Args: []string{"/bin/sh", "-c", "exit 9"}, Main: true})
	l.handle(supervise.Boot{})
	p := l.works["quick"].cur
	if p == nil || p.startErr != nil {
		t.Fatalf("not started: %+v", p)
	}
	time.Sleep(20 * time.Millisecond) // let it die before the reap
	waitFor(t, 10*time.Second, "the reap", func() bool { l.reap(); return l.done })
	if p.code != 9 || l.code != 9 {
		t.Fatalf("code %d (loop %d), want 9", p.code, l.code)
	}
}

// TestChildExitsImmediately runs, end to end, a workload that exits at
// once, many times: every run must report its code.
func TestChildExitsImmediately(t *testing.T) {
	for i := range 100 {
		code, r := runMini(t, runOpts{}, "-s", "--", "/bin/sh", "-c", "exit 7")
		if code != 7 {
			t.Fatalf("run %d: exit code %d, want 7; stderr:\n%s", i, code, r.stderr.String())
		}
	}
	for i := range 100 {
		if code, r := runMini(t, runOpts{}, "-s", "--", "/bin/true"); code != 0 {
			t.Fatalf("run %d of true: exit code %d; stderr:\n%s", i, code, r.stderr.String())
		}
	}
}

// TestOrphans: 20,000 orphans made by double fork all get reaped; the
// helper, still running, counts zombies whose parent is miniinit and
// succeeds only when there are none.
func TestOrphans(t *testing.T) {
	forEachMode(t, func(t *testing.T, pid1 bool) {
		// 20,000 double forks take seconds on a quiet machine and minutes
		// on a loaded one: the bound only catches a hang.
		r := startMini(t, runOpts{pid1: pid1}, "-s", "--", bin.helper, "orphans", "20000")
		code := r.wait(5 * time.Minute)
		if code != 0 {
			t.Fatalf("exit code %d; helper said %q; stderr:\n%s", code, r.stdout.String(), r.stderr.String())
		}
		if !strings.Contains(r.stdout.String(), "orphans=20000 zombies=0") {
			t.Fatalf("helper said %q", r.stdout.String())
		}
		t.Logf("20000 orphans reaped in %v", r.elapsed)
	})
}

// TestWarnOnReap: -w names every orphan miniinit reaps, as tini -w does.
func TestWarnOnReap(t *testing.T) {
	code, r := runMini(t, runOpts{}, "-s", "-w", "--", "/bin/sh", "-c", "(true &); sleep 0.2")
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if !strings.Contains(r.stderr.String(), `level=WARN msg="reaped orphan"`) {
		t.Errorf("no warning for the orphan:\n%s", r.stderr.String())
	}
	code, r = runMini(t, runOpts{}, "-s", "--", "/bin/sh", "-c", "(true &); sleep 0.2")
	if code != 0 || strings.Contains(r.stderr.String(), "reaped orphan") {
		t.Errorf("without -w or -vv, orphans are reaped quietly: %d\n%s", code, r.stderr.String())
	}
}
