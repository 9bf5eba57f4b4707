package supervise

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"syscall"
	"time"
)

// Spec is what the machine knows of one workload: its policy, not how to
// run it (command, environment and the rest stay with the caller).
//
// The zero value of each field is the documented default, so a Spec with
// only a Name is a long-running workload that is never restarted, stopped
// with SIGTERM and killed DefaultStopTimeout later.
type Spec struct {
	// Name identifies the workload in events and decisions; unique.
	Name string
	// Kind is Longrun (the zero value) or Oneshot.
	Kind Kind
	// Main marks the workload whose end for good begins shutdown and
	// whose exit code becomes the container's. At most one.
	Main bool
	// Essential: when it fails for good, the container shuts down with
	// its code (see Report.ExitCode).
	Essential bool
	// Restart is when an ended process is started again. Zero: Never.
	Restart Restart
	// SuccessCodes are exit codes counted as success besides 0: they do
	// not trigger an on-failure restart nor count towards giving up, and
	// for the main workload they become exit code 0 (tini's -e).
	SuccessCodes []int
	// Backoff is the delay before each restart.
	Backoff BackoffPolicy
	// GiveUp is when restarting stops and the workload is failed.
	GiveUp GiveUp
	// StartTimeout bounds the time from a start until the workload is
	// ready (with a readiness check), until the exec is confirmed
	// (without), or for a oneshot until it completes. Zero: no limit.
	StartTimeout time.Duration
	// StopSignal is the first signal a stop sends. Zero: SIGINT in a
	// shutdown SIGINT asked for, else SIGTERM.
	StopSignal syscall.Signal
	// StopTimeout is how long a stop waits after StopSignal before
	// SIGKILL; during shutdown, never past the global stop budget.
	// Zero: DefaultStopTimeout.
	StopTimeout time.Duration
	// After orders the start: this workload starts once each listed one
	// meets its condition, or can no longer meet it (then it starts
	// anyway). It also orders the stop: this one stops first.
	After []Dep
	// Requires is After, and more: when a listed workload cannot meet
	// its condition (it failed, or was stopped), this one is not started
	// and fails, or, already running, is stopped and fails.
	Requires []Dep
	// Ready says how the workload tells that it is ready.
	Ready Readiness
	// Health, when Interval is set, probes the workload once it is
	// ready.
	Health Health
}

// DefaultStopTimeout is Spec.StopTimeout when it is zero.
const DefaultStopTimeout = 5 * time.Second

// Kind says whether a workload is meant to keep running or to finish.
type Kind int

const (
	// Longrun is a workload meant to run until stopped.
	Longrun Kind = iota
	// Oneshot is a workload meant to run to completion. It is
	// "starting" while it runs, and "completed" once it exits with
	// success; dependents waiting for "ready" or "completed" start then.
	Oneshot
)

var kindNames = []string{Longrun: "longrun", Oneshot: "oneshot"}

func (k Kind) String() string { return nameOf(kindNames, int(k), "kind") }

// Restart is a restart policy.
type Restart int

const (
	// Never restarts: the first end is final.
	Never Restart = iota
	// OnFailure restarts after an exit with a code not counted as
	// success, a death by signal, a failed start or a start timeout.
	OnFailure
	// Always restarts after any end that was not asked for.
	Always
)

var restartNames = []string{Never: "never", OnFailure: "on-failure", Always: "always"}

func (r Restart) String() string { return nameOf(restartNames, int(r), "restart") }

// BackoffPolicy is an exponential restart delay: Initial, then times Multiplier
// at each restart, at most Max, spread by ±Jitter (a fraction), and back to
// Initial once a process has run for ResetAfter.
//
// With Initial zero every restart is immediate: a crash-looping workload
// restarts as fast as it can be started (only GiveUp stops it).
type BackoffPolicy struct {
	Initial    time.Duration
	Max        time.Duration // zero: no cap
	Multiplier float64       // zero: 2
	Jitter     float64       // 0 to 1; zero: no jitter
	ResetAfter time.Duration // zero: never reset
}

// GiveUp fails a workload once Failures failures happened within Window.
// Failures zero never gives up. Window zero counts every failure since the
// workload was last started by request.
type GiveUp struct {
	Failures int
	Window   time.Duration
}

// Dep is one dependency: the workload Name must meet Cond.
type Dep struct {
	Name string
	Cond Condition
}

// Condition is what a dependency must reach before its dependent starts.
type Condition int

const (
	// CondStarted: its process has been started (exec succeeded).
	CondStarted Condition = iota
	// CondReady: it said it was ready (or, without a readiness check,
	// it was started; a oneshot: it completed).
	CondReady
	// CondHealthy: ready, and its last health check passed (without a
	// health check, the same as CondReady).
	CondHealthy
	// CondCompleted: it exited with success and will not be restarted.
	CondCompleted
)

var conditionNames = []string{CondStarted: "started", CondReady: "ready", CondHealthy: "healthy", CondCompleted: "completed"}

func (c Condition) String() string { return nameOf(conditionNames, int(c), "condition") }

// Readiness is how a workload tells that it is ready.
type Readiness struct {
	// Kind: ReadyNone (ready when started), ReadyNotify or ReadyFD
	// (the caller delivers a ReadyNotified event), or ReadyProbe (the machine
	// asks for probes every Interval, each bounded by Timeout).
	Kind     ReadyKind
	Interval time.Duration // ReadyProbe; zero: DefaultProbeInterval
	Timeout  time.Duration // ReadyProbe; zero: DefaultProbeTimeout
}

// ReadyKind is how readiness is learnt.
type ReadyKind int

const (
	ReadyNone ReadyKind = iota
	ReadyNotify
	ReadyFD
	ReadyProbe
)

var readyNames = []string{ReadyNone: "none", ReadyNotify: "notify", ReadyFD: "fd", ReadyProbe: "probe"}

func (k ReadyKind) String() string { return nameOf(readyNames, int(k), "ready") }

// Default probe timing, for readiness probes and health checks.
const (
	DefaultProbeInterval = time.Second
	DefaultProbeTimeout  = time.Second
)

// Health is a periodic check of a ready workload. It is off when Interval
// is zero.
type Health struct {
	Interval time.Duration
	Timeout  time.Duration // zero: DefaultProbeTimeout
	// Retries is how many failed checks in a row make the workload
	// unhealthy. Zero: 1.
	Retries int
	// Action is what unhealthy leads to.
	Action HealthAction
}

// HealthAction is what happens to an unhealthy workload.
type HealthAction int

const (
	// ActionReport only marks it unhealthy (status, `miniinit health`).
	ActionReport HealthAction = iota
	// ActionRestart stops it and starts it again; this counts as a
	// failure for backoff and giving up.
	ActionRestart
	// ActionStop stops it for good: it is failed.
	ActionStop
)

var actionNames = []string{ActionReport: "report", ActionRestart: "restart", ActionStop: "stop"}

func (a HealthAction) String() string { return nameOf(actionNames, int(a), "action") }

func nameOf(names []string, i int, what string) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("%s(%d)", what, i)
}

// checkSpecs verifies the contract of New: names unique and not empty,
// dependencies known and acyclic, at most one main, values in range. It
// reports every problem at once.
func checkSpecs(specs []Spec) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	index := map[string]int{}
	mains := 0
	for i, s := range specs {
		switch _, dup := index[s.Name]; {
		case s.Name == "":
			bad("workload #%d: no name", i+1)
		case dup:
			bad("workload %q: name used twice", s.Name)
		default:
			index[s.Name] = i
		}
		if s.Main {
			mains++
		}
	}
	if mains > 1 {
		bad("%d workloads are main; at most one may be", mains)
	}
	for _, s := range specs {
		who := fmt.Sprintf("workload %q", s.Name)
		if s.Kind < Longrun || s.Kind > Oneshot {
			bad("%s: unknown kind %d", who, s.Kind)
		}
		if s.Restart < Never || s.Restart > Always {
			bad("%s: unknown restart policy %d", who, s.Restart)
		}
		if s.Kind == Oneshot && s.Restart == Always {
			bad("%s: a oneshot cannot restart always (it would never complete)", who)
		}
		b := s.Backoff
		if b.Initial < 0 || b.Max < 0 || b.ResetAfter < 0 {
			bad("%s: backoff durations must not be negative", who)
		}
		if b.Multiplier != 0 && (b.Multiplier < 1 || math.IsInf(b.Multiplier, 0) || math.IsNaN(b.Multiplier)) {
			bad("%s: backoff multiplier %v must be at least 1", who, b.Multiplier)
		}
		if !(b.Jitter >= 0 && b.Jitter <= 1) {
			bad("%s: backoff jitter %v must be between 0 and 1", who, b.Jitter)
		}
		if s.GiveUp.Failures < 0 || s.GiveUp.Window < 0 {
			bad("%s: give-up failures and window must not be negative", who)
		}
		if s.StartTimeout < 0 || s.StopTimeout < 0 {
			bad("%s: timeouts must not be negative", who)
		}
		if s.StopSignal < 0 || s.StopSignal > maxSignal {
			bad("%s: stop signal %d out of range", who, s.StopSignal)
		}
		if s.Ready.Kind < ReadyNone || s.Ready.Kind > ReadyProbe || s.Ready.Interval < 0 || s.Ready.Timeout < 0 {
			bad("%s: bad readiness %+v", who, s.Ready)
		}
		h := s.Health
		if h.Interval < 0 || h.Timeout < 0 || h.Retries < 0 || h.Action < ActionReport || h.Action > ActionStop {
			bad("%s: bad health check %+v", who, h)
		}
		for _, d := range slices.Concat(s.After, s.Requires) {
			switch _, ok := index[d.Name]; {
			case d.Name == s.Name:
				bad("%s: depends on itself", who)
			case !ok:
				bad("%s: depends on unknown workload %q", who, d.Name)
			}
			if d.Cond < CondStarted || d.Cond > CondCompleted {
				bad("%s: unknown condition %d for %q", who, d.Cond, d.Name)
			}
		}
	}
	if len(errs) == 0 {
		if cycle := findCycle(specs, index); cycle != nil {
			bad("dependency cycle: %s", joinArrow(cycle))
		}
	}
	return errors.Join(errs...)
}

// findCycle returns the names along one dependency cycle, first name
// repeated at the end, or nil when there is none.
func findCycle(specs []Spec, index map[string]int) []string {
	const (
		unseen = iota
		onPath
		done
	)
	mark := make([]int, len(specs))
	var path []string
	var visit func(i int) []string
	visit = func(i int) []string {
		mark[i] = onPath
		path = append(path, specs[i].Name)
		for _, d := range slices.Concat(specs[i].After, specs[i].Requires) {
			j := index[d.Name]
			switch mark[j] {
			case onPath:
				start := slices.Index(path, d.Name)
				return append(slices.Clone(path[start:]), d.Name)
			case unseen:
				if c := visit(j); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		mark[i] = done
		return nil
	}
	for i := range specs {
		if mark[i] == unseen {
			if c := visit(i); c != nil {
				return c
			}
		}
	}
	return nil
}

func joinArrow(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += " -> "
		}
		s += n
	}
	return s
}
