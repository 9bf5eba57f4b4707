package supervise

import (
	"math/rand/v2"
	"slices"
	"syscall"
	"time"
)

// DefaultStopBudget is Options.StopBudget when it is zero: under docker's
// default 10 s between its SIGTERM and its SIGKILL, with room to exit.
const DefaultStopBudget = 8 * time.Second

// Options configure a Machine. The zero value is usable.
type Options struct {
	// Clock is where the machine reads the time. Nil: SystemClock.
	Clock Clock
	// Rand returns numbers in [0, 1) for backoff jitter. Nil: a source
	// seeded at random; NewRand(seed) gives a repeatable one.
	Rand func() float64
	// StopBudget bounds the whole shutdown, from its first stop signal
	// to the exit: per-workload stop timeouts are cut to what remains
	// of it, and at its end everything left is SIGKILLed. Zero:
	// DefaultStopBudget.
	StopBudget time.Duration
	// Routes sends a signal miniinit receives to the named workloads
	// only (SIGHUP to "web", as a reload). A signal with no route goes
	// to every workload with a process.
	Routes map[syscall.Signal][]string
	// ZeroOnStop makes a stop asked from outside that ends in order
	// exit 0, not 128+n: a shutdown by ShutdownRequested, or the main
	// workload stopped by request, where the main workload ended by its
	// stop signal (or the shutdown's). A service manager that counts
	// only 0 as success then tells such a stop from a workload killed
	// by a signal, which keeps its 128+n (see exitCode).
	ZeroOnStop bool
}

// NewRand returns a repeatable jitter source for Options.Rand.
func NewRand(seed uint64) func() float64 {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)).Float64
}

// Machine decides, for every workload, what happens next. It holds no
// process, descriptor or timer: Handle takes one Event and returns the
// Decisions that follow, which the caller carries out in order, reporting
// their outcomes as further events. It is not safe for concurrent use; it
// is meant to be owned by one event loop.
type Machine struct {
	clock  Clock
	rand   func() float64
	budget time.Duration
	routes map[syscall.Signal][]string
	// zeroOnStop: Options.ZeroOnStop.
	zeroOnStop bool

	units  []*unit // in the order of the specs: starts and ties go by it
	byName map[string]*unit
	// removed holds the last status of each workload a reload removed
	// and that has since been forgotten, for the report.
	removed map[string]Status
	main    *unit

	booted    bool
	nextProbe uint64
	shut      *shutdown
	armed     map[string]time.Time // timers as last decided
	out       []Decision
}

// unit is one workload's record.
type unit struct {
	spec  Spec
	state State
	since time.Time // when state was entered
	want  bool      // wanted up: the target the machine steers to

	run       int // number of the current (or last) start, from 1
	pid       int // of run; 0 before Spawned and after the end
	startedAt time.Time
	attempt   int // restarts since the last reset: the backoff exponent
	fails     failures
	ended     bool // run has ended at least once, so exit is valid
	exit      Exit
	startErr  string
	reason    string // why the current state (stopped, failed...)
	text      string // last STATUS=
	killed    bool   // this run was SIGKILLed by a stop
	stopEnded bool   // this run ended after the machine's stop signal
	then      afterStop
	removed   bool // dropped by a reload; goes once it has ended

	restartAt, startBy, killAt, probeAt time.Time

	probeID     uint64 // of the probe in flight; 0 when none
	probeKind   ProbeKind
	probeDetail string
	healthKnown bool
	healthy     bool
	healthFails int
	healthWhy   string // the reason an unhealthy report set

	deps       []link  // what this one waits for
	dependents []*unit // those that wait for this one
}

type link struct {
	u        *unit
	cond     Condition
	required bool
}

// afterStop is what a stop leads to once the process has ended.
type afterStop int

const (
	thenStopped afterStop = iota // stopped, as asked
	thenRestart                  // start again at once (ctl restart, reload)
	thenFailure                  // a failure: restart by policy, or give up
	thenFailed                   // failed for good
)

// New returns a machine for specs. It checks the contract stated on Spec
// (unique names, known and acyclic dependencies, at most one main, values
// in range) and reports every violation at once.
func New(specs []Spec, opts Options) (*Machine, error) {
	if err := checkSpecs(specs); err != nil {
		return nil, err
	}
	m := &Machine{
		clock:      opts.Clock,
		rand:       opts.Rand,
		budget:     opts.StopBudget,
		routes:     opts.Routes,
		zeroOnStop: opts.ZeroOnStop,
		byName:     map[string]*unit{},
		armed:      map[string]time.Time{},
	}
	if m.clock == nil {
		m.clock = SystemClock{}
	}
	if m.rand == nil {
		m.rand = NewRand(rand.Uint64())
	}
	if m.budget <= 0 {
		m.budget = DefaultStopBudget
	}
	now := m.clock.Now()
	for _, s := range specs {
		u := &unit{spec: s, state: Waiting, since: now}
		m.units = append(m.units, u)
		m.byName[s.Name] = u
	}
	m.link()
	return m, nil
}

// link resolves every unit's dependencies into pointers, both ways.
func (m *Machine) link() {
	for _, u := range m.units {
		u.deps, u.dependents = nil, nil
	}
	for _, u := range m.units {
		if u.spec.Main {
			m.main = u
		}
		add := func(ds []Dep, required bool) {
			for _, d := range ds {
				if v, ok := m.byName[d.Name]; ok {
					u.deps = append(u.deps, link{v, d.Cond, required})
					if !slices.Contains(v.dependents, u) {
						v.dependents = append(v.dependents, u)
					}
				}
			}
		}
		add(u.spec.After, false)
		add(u.spec.Requires, true)
	}
}

// Handle applies one event and returns what the caller must do, in order.
// It never blocks and never fails: an event that does not fit (stale,
// unknown name, late) changes nothing.
func (m *Machine) Handle(ev Event) []Decision {
	m.out = nil
	now := m.clock.Now()
	switch e := ev.(type) {
	case Boot:
		m.booted = true
		for _, u := range m.units {
			u.want = true
		}
	case Spawned:
		if u := m.current(e.Name, e.Run); u != nil && u.pid == 0 && !u.ended {
			m.spawned(u, e.Pid, now)
		}
	case SpawnFailed:
		if u := m.current(e.Name, e.Run); u != nil && u.pid == 0 && !u.ended {
			u.startErr = e.Err
			m.processEnded(u, Exit{Code: e.Code}, now)
		}
	case Exited:
		if u := m.current(e.Name, e.Run); u != nil && u.pid != 0 {
			m.processEnded(u, e.Exit, now)
		}
	case ReadyNotified:
		if u := m.current(e.Name, e.Run); u != nil && u.state == Starting && u.pid != 0 &&
			u.spec.Kind == Longrun && (u.spec.Ready.Kind == ReadyNotify || u.spec.Ready.Kind == ReadyFD) {
			m.becomeReady(u, now)
		}
	case StatusNotified:
		if u := m.current(e.Name, e.Run); u != nil {
			u.text = e.Text
		}
	case ProbeDone:
		if u := m.byName[e.Name]; u != nil && u.probeID != 0 && u.probeID == e.ID {
			m.probeDone(u, e.OK, e.Detail, now)
		}
	case TimerFired:
		m.timerFired(e.Name, now)
	case ShutdownRequested:
		if m.shut != nil {
			m.killAll("second-signal", now)
		} else {
			m.beginShutdown(now, reasonSignal, e.Signal, nil)
		}
	case SignalReceived:
		m.route(e.Signal)
	case StartRequested:
		if u := m.byName[e.Name]; u != nil && m.shut == nil && !u.removed {
			m.wantUp(u, now)
		}
	case StopRequested:
		if u := m.byName[e.Name]; u != nil {
			m.wantDown(u, "stopped by request")
		}
	case RestartRequested:
		if u := m.byName[e.Name]; u != nil && m.shut == nil && !u.removed {
			m.restart(u, now, "restarted by request")
		}
	}
	m.reconcile(now)
	m.syncTimers()
	out := m.out
	m.out = nil
	return out
}

// current returns the named unit if run is its current run.
func (m *Machine) current(name string, run int) *unit {
	if u := m.byName[name]; u != nil && u.run == run && run > 0 {
		return u
	}
	return nil
}

func (m *Machine) emit(d Decision) { m.out = append(m.out, d) }

func (m *Machine) setState(u *unit, st State, now time.Time) {
	if u.state != st {
		u.state, u.since = st, now
	}
}

// start begins a new run of u.
func (m *Machine) start(u *unit, now time.Time) {
	u.run++
	// reason stays: after a restart it says what the last run ended by.
	u.pid, u.ended, u.killed, u.stopEnded, u.startErr = 0, false, false, false, ""
	u.then = thenStopped
	u.restartAt, u.killAt, u.probeAt, u.startBy = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	u.probeID, u.healthKnown, u.healthy, u.healthFails, u.text = 0, false, false, 0, ""
	if t := u.spec.StartTimeout; t > 0 {
		u.startBy = now.Add(t)
	}
	m.setState(u, Starting, now)
	m.emit(Decision{Op: OpStart, Name: u.spec.Name, Run: u.run})
}

// spawned records the process of the current run.
func (m *Machine) spawned(u *unit, pid int, now time.Time) {
	u.pid, u.startedAt = pid, now
	switch {
	case u.state == Stopping:
		// A stop came between the start decision and the spawn.
		m.emitStop(u)
	case u.spec.Kind == Oneshot:
		// Starting until it completes.
	case u.spec.Ready.Kind == ReadyNone:
		u.startBy = time.Time{}
		m.setState(u, Running, now)
		m.startHealth(u, now)
	case u.spec.Ready.Kind == ReadyProbe:
		m.probe(u, now)
	}
}

// becomeReady moves a starting longrun to Ready.
func (m *Machine) becomeReady(u *unit, now time.Time) {
	u.startBy, u.probeAt, u.probeID = time.Time{}, time.Time{}, 0
	m.setState(u, Ready, now)
	m.startHealth(u, now)
}

// processEnded takes the end of u's current run, spawned or not.
func (m *Machine) processEnded(u *unit, exit Exit, now time.Time) {
	u.pid, u.ended, u.exit = 0, true, exit
	u.stopEnded = u.state == Stopping
	u.startBy, u.killAt, u.probeAt, u.probeID = time.Time{}, time.Time{}, time.Time{}, 0
	ok := u.success(exit) && u.startErr == ""
	if u.state == Stopping {
		switch {
		case m.shut != nil || !u.want && u.then != thenFailed:
			m.setState(u, Stopped, now)
		case u.then == thenRestart:
			m.setState(u, Waiting, now)
		case u.then == thenFailure:
			m.failure(u, now, u.reason)
		case u.then == thenFailed:
			m.setState(u, Failed, now)
		default:
			m.setState(u, Stopped, now)
		}
		return
	}
	switch {
	case m.shut != nil || !u.want:
		// Never sent its stop signal (it was waiting for its
		// dependents to stop first): it ended by itself.
		u.reason = describeExit(exit) + " before its stop signal"
		m.setState(u, Stopped, now)
	case ok && (u.spec.Kind == Oneshot || u.spec.Restart != Always):
		u.reason = describeExit(exit)
		m.setState(u, Completed, now)
	case ok:
		m.scheduleRestart(u, now)
	case u.startErr != "":
		m.failure(u, now, "start failed: "+u.startErr)
	default:
		m.failure(u, now, describeExit(exit))
	}
}

// success reports whether exit counts as success for u.
func (u *unit) success(exit Exit) bool {
	return exit.Code == 0 && exit.Signal == 0 || slices.Contains(u.spec.SuccessCodes, exit.Code)
}

// failure records a failure of u and restarts it by its policy, or fails
// it for good.
func (m *Machine) failure(u *unit, now time.Time, why string) {
	n := u.fails.add(now, u.spec.GiveUp)
	switch {
	case u.spec.Restart == Never:
		u.reason = why
		m.setState(u, Failed, now)
	case u.spec.GiveUp.exhausted(n):
		u.reason = why + "; gave up after " + plural(n, "failure")
		if w := u.spec.GiveUp.Window; w > 0 {
			u.reason += " within " + w.String()
		}
		m.setState(u, Failed, now)
	default:
		u.reason = why
		m.scheduleRestart(u, now)
	}
}

// scheduleRestart puts u in backoff, or back to waiting at once when the
// delay is zero: no fixed sleep anywhere, so with a zero backoff a
// crash-looping workload restarts as fast as it can start.
func (m *Machine) scheduleRestart(u *unit, now time.Time) {
	b := u.spec.Backoff
	if b.ResetAfter > 0 && !u.startedAt.IsZero() && now.Sub(u.startedAt) >= b.ResetAfter {
		u.attempt = 0
	}
	r := 0.5
	if b.Jitter > 0 {
		r = m.rand()
	}
	d := b.Delay(u.attempt, r)
	u.attempt++
	if d <= 0 {
		m.setState(u, Waiting, now)
		return
	}
	u.restartAt = now.Add(d)
	m.setState(u, Backoff, now)
}

// stop sends u its stop signal (when it has a process) and arms the kill.
func (m *Machine) stop(u *unit, then afterStop, why string, now time.Time) {
	u.then, u.reason = then, why
	u.startBy, u.probeAt, u.probeID = time.Time{}, time.Time{}, 0
	m.setState(u, Stopping, now)
	timeout := u.spec.StopTimeout
	if timeout <= 0 {
		timeout = DefaultStopTimeout
	}
	u.killAt = now.Add(timeout)
	if m.shut != nil && m.shut.deadline.Before(u.killAt) {
		u.killAt = m.shut.deadline
	}
	if u.killAt.Before(now) {
		u.killAt = now
	}
	if u.pid != 0 {
		m.emitStop(u)
	}
}

// emitStop sends u's stop signal, marked as such (Reason "stop") with the
// time its tree is SIGKILLed at the latest (At): the caller follows it
// with SIGCONT and gives what the process leaves behind until then.
func (m *Machine) emitStop(u *unit) {
	m.emit(Decision{Op: OpSignal, Name: u.spec.Name, Run: u.run, Signal: m.stopSignal(u), Reason: ReasonStop, At: u.killAt})
}

// stopSignal is the first signal of u's stop: its own StopSignal, else
// the signal that asked the container to shut down when that was SIGINT
// (a ^C reaches the workload as SIGINT, as it does without a supervisor),
// else SIGTERM.
func (m *Machine) stopSignal(u *unit) syscall.Signal {
	if u.spec.StopSignal != 0 {
		return u.spec.StopSignal
	}
	if m.shut != nil && m.shut.reason == reasonSignal && m.shut.signal == syscall.SIGINT {
		return syscall.SIGINT
	}
	return syscall.SIGTERM
}

// kill SIGKILLs u's tree, once per run.
func (m *Machine) kill(u *unit, why string) {
	if u.pid == 0 || u.killed {
		return
	}
	u.killed = true
	m.emit(Decision{Op: OpKill, Name: u.spec.Name, Run: u.run, Reason: why})
}

// route delivers a signal miniinit received, by the routing table.
func (m *Machine) route(sig syscall.Signal) {
	targets, routed := m.routes[sig]
	for _, u := range m.units {
		if u.pid != 0 && (!routed || slices.Contains(targets, u.spec.Name)) {
			m.emit(Decision{Op: OpSignal, Name: u.spec.Name, Run: u.run, Signal: sig})
		}
	}
}

// timerFired acts on every deadline of name that has passed.
func (m *Machine) timerFired(name string, now time.Time) {
	delete(m.armed, name) // fired: whatever is due next must be armed anew
	if name == "" {
		if m.shut != nil && !m.shut.drained && !now.Before(m.shut.deadline) {
			m.killAll("budget", now)
		}
		return
	}
	u := m.byName[name]
	if u == nil {
		return
	}
	due := func(t time.Time) bool { return !t.IsZero() && !now.Before(t) }
	if due(u.restartAt) && u.state == Backoff {
		u.restartAt = time.Time{}
		m.setState(u, Waiting, now)
	}
	if due(u.startBy) && u.state == Starting {
		u.startBy = time.Time{}
		why := "not ready within start timeout " + u.spec.StartTimeout.String()
		if u.spec.Kind == Oneshot {
			why = "not completed within start timeout " + u.spec.StartTimeout.String()
		}
		m.stop(u, thenFailure, why, now)
	}
	if due(u.killAt) && u.state == Stopping {
		u.killAt = time.Time{}
		m.kill(u, "stop-timeout")
	}
	if due(u.probeAt) {
		u.probeAt = time.Time{}
		if u.probeID != 0 {
			// The caller never answered: a lost result counts as a
			// failed probe, so a hung prober cannot freeze the checks.
			m.probeDone(u, false, "no result", now)
		} else {
			m.probe(u, now)
		}
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return itoa(n) + " " + what + "s"
}
