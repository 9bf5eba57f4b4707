package supervise

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// fuzzSpecs exercise every feature at once: kinds, policies, dependency
// conditions, every readiness kind, health actions, timeouts.
func fuzzSpecs() []Spec {
	ms := time.Millisecond
	return []Spec{
		{Name: "setup", Kind: Oneshot, Restart: OnFailure, StartTimeout: 300 * ms, GiveUp: GiveUp{Failures: 3, Window: time.Second}},
		{Name: "db", Restart: Always, Ready: Readiness{Kind: ReadyNotify}, StartTimeout: 500 * ms,
			Requires: []Dep{{"setup", CondCompleted}}, Backoff: BackoffPolicy{Initial: 10 * ms, Max: 100 * ms, Jitter: 0.3, ResetAfter: 200 * ms},
			Health: Health{Interval: 100 * ms, Retries: 2, Action: ActionRestart}, StopTimeout: 200 * ms},
		{Name: "cache", Restart: OnFailure, Ready: Readiness{Kind: ReadyProbe, Interval: 50 * ms},
			After: []Dep{{"db", CondHealthy}}, Essential: true, GiveUp: GiveUp{Failures: 4}},
		{Name: "api", Restart: Always, Ready: Readiness{Kind: ReadyFD}, Requires: []Dep{{"db", CondReady}},
			Health: Health{Interval: 70 * ms, Action: ActionStop}, StopSignal: syscall.SIGQUIT},
		{Name: "web", Main: true, Restart: OnFailure, After: []Dep{{"api", CondStarted}, {"cache", CondReady}},
			SuccessCodes: []int{143}, GiveUp: GiveUp{Failures: 2, Window: time.Second}},
		{Name: "side", Restart: Always, Health: Health{Interval: 30 * ms, Action: ActionReport}},
	}
}

// FuzzMachine drives a machine with random events, as a well-behaved
// event loop would deliver them (exits only for live processes, results
// only for asked probes, timers at their deadlines), and checks the
// promises the machine makes to that loop:
//   - it never panics;
//   - runs of a workload are numbered 1, 2, 3... and a new run is never
//     started while the previous run's process is alive;
//   - signals and kills name a live process's run;
//   - nothing is started once the shutdown has begun;
//   - a drain is decided at most once, and once a shutdown was asked for,
//     it comes by the budget's end at the latest;
//   - a timer is never armed in the past.
func FuzzMachine(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Add([]byte("\x02\x02\x02\x02\x05\x05\x05\x09\x09\x09\x09"))
	f.Add([]byte("shutdown after a few exits: \x03\x13\x23\x0b\x0b"))
	f.Fuzz(func(t *testing.T, script []byte) {
		specs := fuzzSpecs()
		clk := &fakeClock{epoch}
		m, err := New(specs, Options{Clock: clk, Rand: NewRand(9), StopBudget: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		var timers Timers
		live := map[string]int{}    // name -> run with a live process
		runs := map[string]int{}    // name -> last run started
		pending := map[string]int{} // started, not yet spawned
		probes := map[string]Decision{}
		shutdown, drained, asked := false, false, false
		var askedAt, shutAt, drainAt time.Time
		pid := 1

		var replay func([]Decision)
		apply := func(ev Event) {
			if testing.Verbose() {
				t.Logf("%s %T%+v", clockTime(clk.t), ev, ev)
			}
			replay(m.Handle(ev))
		}
		replay = func(ds []Decision) {
			for _, d := range ds {
				if testing.Verbose() {
					t.Logf("%s  %v", clockTime(clk.t), d)
				}
				switch d.Op {
				case OpStart:
					if shutdown {
						t.Fatalf("start %s after the shutdown began", d.Name)
					}
					if d.Run != runs[d.Name]+1 {
						t.Fatalf("start %s run %d after run %d", d.Name, d.Run, runs[d.Name])
					}
					if _, ok := live[d.Name]; ok {
						t.Fatalf("start %s run %d while run %d lives", d.Name, d.Run, live[d.Name])
					}
					runs[d.Name] = d.Run
					pending[d.Name] = d.Run
				case OpSignal, OpKill:
					if live[d.Name] != d.Run {
						t.Fatalf("%v: run %d is not the live one (%d)", d, d.Run, live[d.Name])
					}
				case OpTimer:
					if !d.At.IsZero() && d.At.Before(clk.t) {
						t.Fatalf("%v armed in the past (now %v)", d, clockTime(clk.t))
					}
					timers.Set(d.Name, d.At)
				case OpProbe:
					probes[d.Name] = d
				case OpShutdown:
					shutdown, shutAt = true, clk.t
				case OpDrain:
					if drained {
						t.Fatalf("second drain %v", d)
					}
					if !shutdown {
						t.Fatalf("drain before any shutdown")
					}
					if clk.t.After(shutAt.Add(time.Second)) || d.At.After(shutAt.Add(time.Second)) {
						t.Fatalf("%v at %v: past the budget from %v", d, clockTime(clk.t), clockTime(shutAt))
					}
					drained, drainAt = true, clk.t
				}
			}
		}
		apply(Boot{})
		for _, b := range script {
			// Spawns are reported before anything else, as the loop
			// does right after carrying out a start.
			for name, run := range pending {
				delete(pending, name)
				if b%7 == 6 {
					apply(SpawnFailed{Name: name, Run: run, Code: 127, Err: "not found"})
					continue
				}
				pid++
				live[name] = run
				apply(Spawned{Name: name, Run: run, Pid: pid})
			}
			name := specs[int(b>>4)%len(specs)].Name
			switch b % 12 {
			case 0, 1:
				if run, ok := live[name]; ok {
					delete(live, name)
					apply(Exited{Name: name, Run: run, Exit: []Exit{ExitCode(0), ExitCode(1), KilledBy(syscall.SIGTERM)}[b%3]})
				}
			case 2:
				apply(ReadyNotified{Name: name, Run: live[name]})
			case 3:
				if d, ok := probes[name]; ok {
					delete(probes, name)
					apply(ProbeDone{Name: name, ID: d.ID, OK: b&0x40 != 0})
				}
			case 4, 5:
				next, ok := timers.Next()
				if ok {
					clk.t = next
				} else {
					clk.t = clk.t.Add(time.Duration(b) * time.Millisecond)
				}
				for _, n := range timers.Due(clk.t) {
					apply(TimerFired{Name: n})
				}
			case 6:
				if !asked {
					asked, askedAt = true, clk.t
				}
				apply(ShutdownRequested{Signal: syscall.SIGTERM})
			case 7:
				apply(StopRequested{Name: name})
			case 8:
				apply(StartRequested{Name: name})
			case 9:
				apply(RestartRequested{Name: name})
			case 10:
				apply(SignalReceived{Signal: syscall.SIGHUP})
			case 11:
				if b&0x80 == 0 {
					apply(StatusNotified{Name: name, Run: live[name], Text: fmt.Sprint(b)})
					break
				}
				// Reload: without "side" or with it, one workload
				// changed.
				next := fuzzSpecs()
				if b&0x40 != 0 {
					next = next[:len(next)-1]
				}
				ds, err := m.Reload(next, []string{name})
				if err != nil && !shutdown {
					t.Fatalf("reload: %v", err)
				}
				replay(ds)
			}
			for n := range runs {
				if !m.Has(n) {
					if _, ok := live[n]; ok {
						t.Fatalf("%s forgotten with a live process", n)
					}
					delete(runs, n)
					delete(pending, n)
				}
			}
			_ = m.Status()
			_, _ = m.Healthy()
		}
		// Run the clock to the budget's end: the drain must come.
		if asked {
			for range 1000 {
				next, ok := timers.Next()
				if !ok || drained {
					break
				}
				clk.t = next
				for _, n := range timers.Due(clk.t) {
					apply(TimerFired{Name: n})
				}
			}
			if !drained {
				t.Fatalf("no drain after a shutdown request at %v (now %v): %+v", clockTime(askedAt), clockTime(clk.t), m.Status())
			}
			if drainAt.After(askedAt.Add(time.Second)) {
				t.Fatalf("drain at %v, after the budget from the request at %v", clockTime(drainAt), clockTime(askedAt))
			}
		}
	})
}
