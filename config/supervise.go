package config

import (
	"slices"
	"syscall"

	"github.com/minispawn/minispawn/init/supervise"
)

// SuperviseSpecs turns the workloads of a Config that Parse returned into
// the specs of the supervision state machine, in file order. Only policy
// goes there; how to run each workload stays in the Workload.
func (c *Config) SuperviseSpecs() []supervise.Spec {
	main := c.MainWorkload()
	specs := make([]supervise.Spec, 0, len(c.Workloads))
	for i := range c.Workloads {
		w := &c.Workloads[i]
		s := supervise.Spec{
			Name:         w.Name,
			Main:         w == main,
			Essential:    w.Essential,
			SuccessCodes: slices.Clone(w.SuccessExitCodes),
			Backoff: supervise.BackoffPolicy{
				Initial:    w.Backoff.Initial.Duration,
				Max:        w.Backoff.Max.Duration,
				Multiplier: w.Backoff.Multiplier,
				Jitter:     w.Backoff.Jitter,
				ResetAfter: w.Backoff.ResetAfter.Duration,
			},
			GiveUp:       supervise.GiveUp{Failures: w.GiveUp.Failures, Window: w.GiveUp.Window.Duration},
			StartTimeout: w.StartTimeout.Duration,
			StopSignal:   w.StopSignal.Syscall(),
			StopTimeout:  w.StopTimeout.Duration,
			After:        depsSpec(w.After),
			Requires:     depsSpec(w.Requires),
		}
		if w.Kind == KindOneshot {
			s.Kind = supervise.Oneshot
		}
		switch w.Restart {
		case RestartOnFailure:
			s.Restart = supervise.OnFailure
		case RestartAlways:
			s.Restart = supervise.Always
		}
		switch w.Ready.Method() {
		case "notify":
			s.Ready.Kind = supervise.ReadyNotify
		case "fd":
			s.Ready.Kind = supervise.ReadyFD
		case "exec", "tcp", "http":
			s.Ready = supervise.Readiness{Kind: supervise.ReadyProbe, Interval: w.Ready.Interval.Duration, Timeout: w.Ready.Timeout.Duration}
		}
		if h := &w.Health; h.Method() != "" {
			s.Health = supervise.Health{Interval: h.Interval.Duration, Timeout: h.Timeout.Duration, Retries: h.Retries}
			switch h.Action {
			case ActionRestart:
				s.Health.Action = supervise.ActionRestart
			case ActionStop:
				s.Health.Action = supervise.ActionStop
			}
		}
		specs = append(specs, s)
	}
	return specs
}

var conditionSpecs = map[Condition]supervise.Condition{
	CondStarted:   supervise.CondStarted,
	CondReady:     supervise.CondReady,
	CondHealthy:   supervise.CondHealthy,
	CondCompleted: supervise.CondCompleted,
}

// depsSpec lists d by name, for a fixed order.
func depsSpec(d Deps) []supervise.Dep {
	var out []supervise.Dep
	for _, name := range sortedDeps(d) {
		out = append(out, supervise.Dep{Name: name, Cond: conditionSpecs[d[name]]})
	}
	return out
}

// Routes returns [init.signals] by signal number, for the machine's
// Options.Routes.
func (c *Config) Routes() map[syscall.Signal][]string {
	if len(c.Init.Signals) == 0 {
		return nil
	}
	out := map[syscall.Signal][]string{}
	for name, targets := range c.Init.Signals {
		if n, err := parseSignal(name); err == nil {
			out[syscall.Signal(n)] = slices.Clone(targets)
		}
	}
	return out
}
