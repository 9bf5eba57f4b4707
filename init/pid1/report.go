package pid1

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/minispawn/minispawn/init/supervise"
)

// The end-of-run report (Options.Report, --report, init.report): one JSON
// object, written when miniinit is about to exit. Its fields are a stable
// interface; add, never rename.
//
//	{
//	  "exit_code": 143,                          what miniinit exits with (after -e)
//	  "mode": "pid1",                            or "subreaper"
//	  "main": {"name": "app", "pid": 7, "exit_code": 143, "signal": "SIGTERM"},
//	  "workloads": [ ...every workload, same shape as main, and:
//	    "state": "stopped",                      its final state (package supervise)
//	    "restarts": 2,                           starts after the first
//	    "reason": "stopped by request",          why that state, when not obvious
//	    "sigkilled": true,                       its last stop ended in SIGKILL
//	    "output_dropped": 120,                   lines of output dropped (log_overflow = "drop")
//	    "output_dropped_bytes": 12000            and their bytes
//	  ],
//	  "shutdown": {
//	    "reason": "main-exited",                 why the shutdown began: main-exited,
//	                                             main-start-failed, signal,
//	                                             essential-failed, nothing-left
//	    "detail": "main workload \"app\" killed by SIGTERM",
//	    "workload": "proxy",                     for main-* and essential-failed
//	    "last_signal": "SIGTERM",                last signal forwarded while main ran
//	                                             (the shutdown request's, supervised)
//	    "stop_seconds": 1.2,                     from the shutdown to the drain
//	    "drain_seconds": 0.012                   from the drain to the last reap
//	  },
//	  "still_running": [{"pid": 9, "comm": "worker"}],   when the drain began
//	  "sigkilled": []                                     at the drain's deadline
//	}
//
// "main" is absent when no workload is main.
type report struct {
	ExitCode     int              `json:"exit_code"`
	Mode         string           `json:"mode"`
	Main         *workloadReport  `json:"main,omitempty"`
	Workloads    []workloadReport `json:"workloads"`
	Shutdown     shutdownReport   `json:"shutdown"`
	StillRunning []procEntry      `json:"still_running"`
	Killed       []procEntry      `json:"sigkilled"`
}

type workloadReport struct {
	Name               string `json:"name"`
	Pid                int    `json:"pid,omitempty"`
	Running            bool   `json:"running,omitempty"`
	ExitCode           int    `json:"exit_code"`
	Signal             string `json:"signal,omitempty"`
	StartError         string `json:"start_error,omitempty"`
	State              string `json:"state,omitempty"`
	Restarts           int    `json:"restarts"`
	Reason             string `json:"reason,omitempty"`
	SigKilled          bool   `json:"sigkilled,omitempty"`
	OutputDropped      uint64 `json:"output_dropped,omitempty"`
	OutputDroppedBytes uint64 `json:"output_dropped_bytes,omitempty"`
}

type shutdownReport struct {
	Reason       string  `json:"reason"`
	Detail       string  `json:"detail"`
	Workload     string  `json:"workload,omitempty"`
	LastSignal   string  `json:"last_signal,omitempty"`
	StopSeconds  float64 `json:"stop_seconds"`
	DrainSeconds float64 `json:"drain_seconds"`
}

// Shutdown reasons. main-ended, the machine's, is split in two for the
// report, as before supervision: the main workload exited, or never
// started.
const (
	reasonMainExited      = "main-exited"
	reasonMainStartFailed = "main-start-failed"
)

// report assembles the report from the loop's and the machine's state.
func (l *loop) report(code int) report {
	r := report{
		ExitCode:     code,
		Mode:         "subreaper",
		StillRunning: []procEntry{},
		Killed:       []procEntry{},
	}
	if l.isPID1 {
		r.Mode = "pid1"
	}
	var dropped map[string]outputDrops
	if l.out != nil {
		dropped = l.out.dropped()
	}
	status := map[string]supervise.Status{}
	for _, s := range l.m.Status() {
		status[s.Name] = s
	}
	for name, s := range l.m.Removed() {
		if _, ok := status[name]; !ok {
			status[name] = s // stopped, "removed by reload"
		}
	}
	for _, wk := range l.order {
		wr := workloadReportOf(wk, status[wk.w.Name])
		d := dropped[wk.w.Name]
		wr.OutputDropped, wr.OutputDroppedBytes = d.Lines, d.Bytes
		r.Workloads = append(r.Workloads, wr)
		if wk == l.main {
			r.Main = &r.Workloads[len(r.Workloads)-1]
		}
	}
	if r.Main != nil {
		m := *r.Main
		r.Main = &m
	}
	if sum, ok := l.m.Shutdown(); ok {
		r.Shutdown.Reason, r.Shutdown.Workload = sum.Reason, sum.Workload
		r.Shutdown.Detail = l.shutdownDetail(sum)
		if r.Shutdown.Reason == "main-ended" {
			r.Shutdown.Reason = reasonMainExited
			if p := l.main.cur; p == nil || p.startErr != nil {
				r.Shutdown.Reason = reasonMainStartFailed
			}
		}
		if l.drain != nil {
			r.Shutdown.StopSeconds = l.drain.began.Sub(sum.Began).Seconds()
		}
	}
	if l.lastSignal != 0 {
		r.Shutdown.LastSignal = SignalName(l.lastSignal)
	}
	if d := l.drain; d != nil {
		r.StillRunning, r.Killed = d.running, d.killed
		if len(d.running) > 0 || len(d.killed) > 0 {
			// A drain with nothing to do took no time worth reporting.
			r.Shutdown.DrainSeconds = d.ended.Sub(d.began).Seconds()
		}
	}
	return r
}

// shutdownDetail says in a sentence why the shutdown began.
func (l *loop) shutdownDetail(sum supervise.Summary) string {
	switch sum.Reason {
	case "main-ended":
		p := l.main.cur
		switch {
		case p == nil:
			return fmt.Sprintf("main workload %q never started", sum.Workload)
		case p.startErr != nil:
			return fmt.Sprintf("main workload %q did not start: %v", sum.Workload, p.startErr)
		case l.m.State(sum.Workload) == supervise.Failed:
			// Its reason says what failed: "not ready within start
			// timeout 2s", "required workload db is failed", or its exit.
			return fmt.Sprintf("main workload %q failed: %s", sum.Workload, l.reasonOf(sum.Workload))
		}
		return fmt.Sprintf("main workload %q %s", sum.Workload, describeStatus(p.status))
	case "essential-failed":
		return fmt.Sprintf("essential workload %q failed: %s", sum.Workload, l.reasonOf(sum.Workload))
	case "signal":
		return "asked to stop by " + sum.Signal
	case "nothing-left":
		if sum.Workload != "" {
			return fmt.Sprintf("every workload has ended; %q failed: %s", sum.Workload, l.reasonOf(sum.Workload))
		}
		return "every workload has ended"
	}
	return sum.Reason
}

func (l *loop) reasonOf(name string) string {
	for _, s := range l.m.Status() {
		if s.Name == name {
			return s.Reason
		}
	}
	return ""
}

func workloadReportOf(wk *work, st supervise.Status) workloadReport {
	w := workloadReport{Name: wk.w.Name, State: st.State.String(), Restarts: st.Restarts, Reason: st.Reason, SigKilled: st.Killed}
	p := wk.cur
	if p == nil {
		return w
	}
	w.Pid, w.Running, w.ExitCode = p.pid, p.running, p.code
	switch {
	case p.startErr != nil:
		w.StartError = p.startErr.Error()
	case !p.running && p.status.Signaled():
		w.Signal = SignalName(p.status.Signal())
	}
	return w
}

// writeReport writes the report where Options.Report says. A report that
// cannot be written is logged; it does not change the exit code.
func (l *loop) writeReport(code int) {
	if l.opts.Report == "" {
		return
	}
	b, err := json.Marshal(l.report(code))
	if err != nil {
		l.log.Error("encode report", "err", err)
		return
	}
	b = append(b, '\n')
	if l.opts.Report == "-" {
		l.logw.WriteRaw(b)
		return
	}
	if err := os.WriteFile(l.opts.Report, b, 0o644); err != nil {
		l.log.Error("write report", "err", err)
	}
}
