package config

import "time"

// applyDefaults is the one place defaults are filled in, into a Config that
// has passed validation; defined says whether a key is written in the file
// (a few keys take an explicit zero, which a default must not replace).
// Each default is also stated on its field.
//
//	hostname                  = name
//	init.grace                = DefaultGrace (5s)
//	init.stop_budget          = DefaultStopBudget (8s)
//	init.control              = DefaultControl (/run/miniinit.sock)
//	workload.cwd              = "/"
//	workload.main             = true, when there is exactly one workload
//	workload.kind             = "longrun"
//	workload.restart          = "never"
//	workload.stop_signal      stays 0: SIGTERM, or SIGINT when a SIGINT
//	                            began the shutdown (package supervise)
//	workload.stop_timeout     = DefaultStopTimeout (5s)
//	workload.stdin            = "null"
//	init.log_overflow         = "block"
//	workload.log_overflow     = init.log_overflow
//	workload.backoff          = 100ms initial (unless written, "0s" too),
//	                            30s max, multiplier 2, jitter 0.2,
//	                            reset_after 30s
//	workload.ready            interval 1s, timeout 1s (probes only)
//	workload.health           interval 10s, timeout 2s, retries 3,
//	                            action "report" (when there is a check)
//	userns.size               = DefaultUserNSSize (65536), when enabled
//	systemd                   notify "workloads", watchdog 30s (unless
//	                            written, "0s" too), restart "on-failure",
//	                            cgroup "auto", slice "machine.slice"
//
// userns.base stays 0 when not set: the base is picked from the name by
// minispawn, which owns the policy for choosing ranges.
func applyDefaults(c *Config, defined func(path) bool) {
	if c.Hostname == "" {
		c.Hostname = c.Name
	}
	if c.Init.Grace.Duration == 0 {
		c.Init.Grace.Duration = DefaultGrace
	}
	setDuration(&c.Init.StopBudget, DefaultStopBudget)
	if c.Init.Control == "" {
		c.Init.Control = DefaultControl
	}
	if c.UserNS.Enabled && c.UserNS.Size == 0 {
		c.UserNS.Size = DefaultUserNSSize
	}
	for i := range c.Workloads {
		w := &c.Workloads[i]
		wp := root.key("workload").index(i)
		if w.Cwd == "" {
			w.Cwd = "/"
		}
		w.Kind = cmpOr(w.Kind, KindLongrun)
		w.Restart = cmpOr(w.Restart, RestartNever)
		setDuration(&w.StopTimeout, DefaultStopTimeout)
		b := &w.Backoff
		if !defined(wp.key("backoff").key("initial")) {
			b.Initial.Duration = DefaultBackoffInitial
		}
		setDuration(&b.Max, DefaultBackoffMax)
		if b.Multiplier == 0 {
			b.Multiplier = DefaultBackoffMultiplier
		}
		if !defined(wp.key("backoff").key("jitter")) {
			b.Jitter = DefaultBackoffJitter
		}
		setDuration(&b.ResetAfter, DefaultBackoffResetAfter)
		if m := w.Ready.Method(); m == "exec" || m == "tcp" || m == "http" {
			setDuration(&w.Ready.Interval, DefaultReadyInterval)
			setDuration(&w.Ready.Timeout, DefaultReadyTimeout)
		}
		if h := &w.Health; h.Method() != "" {
			setDuration(&h.Interval, DefaultHealthInterval)
			setDuration(&h.Timeout, DefaultHealthTimeout)
			if h.Retries == 0 {
				h.Retries = DefaultHealthRetries
			}
			h.Action = cmpOr(h.Action, ActionReport)
		}
	}
	// With one workload there is nothing to choose between: it is main.
	// With several, validation has made sure at most one says so.
	if len(c.Workloads) == 1 {
		c.Workloads[0].Main = true
	}
	// stdin: /dev/null unless the file asks, the main workload included:
	// a service must not read, or hold, whatever stdin minispawn or
	// miniinit was given. Interactive use says so (`minispawn run`
	// writes stdin = "inherit" for its one workload).
	for i := range c.Workloads {
		w := &c.Workloads[i]
		w.Stdin = cmpOr(w.Stdin, StdinNull)
	}
	// Output: lossless unless the file chooses to drop.
	c.Init.LogOverflow = cmpOr(c.Init.LogOverflow, OverflowBlock)
	for i := range c.Workloads {
		w := &c.Workloads[i]
		w.LogOverflow = cmpOr(w.LogOverflow, c.Init.LogOverflow)
	}
	applySystemdDefaults(c, defined) // systemd.go
}

func setDuration(d *Duration, def time.Duration) {
	if d.Duration == 0 {
		d.Duration = def
	}
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// MainWorkload returns the workload whose exit ends the container, or nil
// when there is none (several workloads, none marked main).
func (c *Config) MainWorkload() *Workload {
	for i := range c.Workloads {
		if c.Workloads[i].Main {
			return &c.Workloads[i]
		}
	}
	if len(c.Workloads) == 1 {
		return &c.Workloads[0]
	}
	return nil
}
