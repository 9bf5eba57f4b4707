package supervise

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// epoch is where every fake clock starts: decisions print times as
// offsets from it ("timer web 00:00:01.500").
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

// harness plays the event loop for a machine: it keeps the timers the
// machine asks for, spawns what it is told to start (pids from 100 up,
// unless a workload is marked to fail its spawn), and advances a fake
// clock through the timers in deadline order.
type harness struct {
	t       *testing.T
	clk     *fakeClock
	m       *Machine
	timers  Timers
	pid     int
	runs    map[string]int // last run started, by workload
	pids    map[string]int // pid of the last spawn, by workload
	nospawn map[string]int // spawn fails with this code
	probes  map[string]Decision
	drain   *Decision
	all     []string // every decision so far
}

func newHarness(t *testing.T, specs []Spec, opts Options) *harness {
	t.Helper()
	h := &harness{t: t, clk: &fakeClock{epoch}, pid: 100, runs: map[string]int{}, pids: map[string]int{}, nospawn: map[string]int{}, probes: map[string]Decision{}}
	opts.Clock = h.clk
	if opts.Rand == nil {
		opts.Rand = NewRand(1)
	}
	m, err := New(specs, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.m = m
	return h
}

// do handles ev and everything it leads to (spawns), returning the
// decisions as strings.
func (h *harness) do(ev Event) []string {
	h.t.Helper()
	var out []string
	queue := []Event{ev}
	for len(queue) > 0 {
		ev, queue = queue[0], queue[1:]
		for _, d := range h.m.Handle(ev) {
			out = append(out, d.String())
			switch d.Op {
			case OpStart:
				h.runs[d.Name] = d.Run
				if code, ok := h.nospawn[d.Name]; ok {
					queue = append(queue, SpawnFailed{Name: d.Name, Run: d.Run, Code: code, Err: "not found"})
					continue
				}
				h.pid++
				h.pids[d.Name] = h.pid
				queue = append(queue, Spawned{Name: d.Name, Run: d.Run, Pid: h.pid})
			case OpTimer:
				h.timers.Set(d.Name, d.At)
			case OpProbe:
				h.probes[d.Name] = d
			case OpDrain:
				dd := d
				h.drain = &dd
			}
		}
	}
	h.all = append(h.all, out...)
	return out
}

// exit reports that name's current run ended with e.
func (h *harness) exit(name string, e Exit) []string {
	h.t.Helper()
	return h.do(Exited{Name: name, Run: h.runs[name], Exit: e})
}

func (h *harness) ready(name string) []string {
	h.t.Helper()
	return h.do(ReadyNotified{Name: name, Run: h.runs[name]})
}

// probeResult answers name's last probe.
func (h *harness) probeResult(name string, ok bool) []string {
	h.t.Helper()
	d, found := h.probes[name]
	if !found {
		h.t.Fatalf("no probe asked for %s", name)
	}
	delete(h.probes, name)
	return h.do(ProbeDone{Name: name, ID: d.ID, OK: ok, Detail: map[bool]string{true: "ok", false: "exit 1"}[ok]})
}

// advance moves the clock forward by d, firing every timer that comes
// due on the way, at its deadline, in order.
func (h *harness) advance(d time.Duration) []string {
	h.t.Helper()
	end := h.clk.t.Add(d)
	var out []string
	for {
		next, ok := h.timers.Next()
		if !ok || next.After(end) {
			break
		}
		if next.After(h.clk.t) {
			h.clk.t = next
		}
		for _, name := range h.timers.Due(h.clk.t) {
			out = append(out, h.do(TimerFired{Name: name})...)
		}
	}
	h.clk.t = end
	return out
}

// at returns the clock as an offset from epoch, for messages.
func (h *harness) at() time.Duration { return h.clk.t.Sub(epoch) }

func (h *harness) state(name string) State {
	for _, s := range h.m.Status() {
		if s.Name == name {
			return s.State
		}
	}
	h.t.Fatalf("no workload %s", name)
	return 0
}

func (h *harness) status(name string) Status {
	for _, s := range h.m.Status() {
		if s.Name == name {
			return s
		}
	}
	h.t.Fatalf("no workload %s", name)
	return Status{}
}

func (h *harness) wantState(name string, want State) {
	h.t.Helper()
	if got := h.state(name); got != want {
		h.t.Fatalf("at %v: %s is %s, want %s (%+v)", h.at(), name, got, want, h.status(name))
	}
}

// without drops the timer decisions, for tests about other things.
func without(ds []string, op string) []string {
	return slices.DeleteFunc(slices.Clone(ds), func(s string) bool { return strings.HasPrefix(s, op+" ") })
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}

// has reports whether ds holds a decision starting with prefix.
func has(ds []string, prefix string) bool {
	return slices.ContainsFunc(ds, func(s string) bool { return strings.HasPrefix(s, prefix) })
}
