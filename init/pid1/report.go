package pid1

import (
	"encoding/json"
	"fmt"
	"os"
)

// The end-of-run report (Options.Report, --report, init.report): one JSON
// object, written when miniinit is about to exit. Its fields are a stable
// interface; add, never rename.
//
//	{
//	  "exit_code": 143,                          what miniinit exits with (after -e)
//	  "mode": "pid1",                            or "subreaper"
//	  "main": {"name": "app", "pid": 7, "exit_code": 143, "signal": "SIGTERM"},
//	  "workloads": [ ...every workload, same shape as main... ],
//	  "shutdown": {
//	    "reason": "main-exited",                 or "main-start-failed"
//	    "detail": "main workload \"app\" killed by SIGTERM",
//	    "last_signal": "SIGTERM",                last signal forwarded while main ran
//	    "drain_seconds": 0.012                   from main's end to the last reap
//	  },
//	  "still_running": [{"pid": 9, "comm": "worker"}],   when main ended
//	  "sigkilled": []                                     at the grace deadline
//	}
type report struct {
	ExitCode     int              `json:"exit_code"`
	Mode         string           `json:"mode"`
	Main         workloadReport   `json:"main"`
	Workloads    []workloadReport `json:"workloads"`
	Shutdown     shutdownReport   `json:"shutdown"`
	StillRunning []procEntry      `json:"still_running"`
	Killed       []procEntry      `json:"sigkilled"`
}

type workloadReport struct {
	Name       string `json:"name"`
	Pid        int    `json:"pid,omitempty"`
	Running    bool   `json:"running,omitempty"`
	ExitCode   int    `json:"exit_code"`
	Signal     string `json:"signal,omitempty"`
	StartError string `json:"start_error,omitempty"`
}

type shutdownReport struct {
	Reason       string  `json:"reason"`
	Detail       string  `json:"detail"`
	LastSignal   string  `json:"last_signal,omitempty"`
	DrainSeconds float64 `json:"drain_seconds"`
}

// Shutdown reasons. The main workload alone decides when the run ends: a
// signal sent to miniinit is forwarded to it, never acted on directly.
const (
	reasonMainExited      = "main-exited"
	reasonMainStartFailed = "main-start-failed"
)

// report assembles the report from the loop's state.
func (l *loop) report(code int) report {
	r := report{
		ExitCode:     code,
		Mode:         "subreaper",
		Main:         workloadReportOf(l.main),
		StillRunning: []procEntry{},
		Killed:       []procEntry{},
	}
	if l.isPID1 {
		r.Mode = "pid1"
	}
	for _, p := range l.started {
		r.Workloads = append(r.Workloads, workloadReportOf(p))
	}
	if l.main.startErr != nil {
		r.Shutdown.Reason = reasonMainStartFailed
		r.Shutdown.Detail = fmt.Sprintf("main workload %q did not start: %v", l.main.w.Name, l.main.startErr)
	} else {
		r.Shutdown.Reason = reasonMainExited
		r.Shutdown.Detail = fmt.Sprintf("main workload %q %s", l.main.w.Name, describeStatus(l.main.status))
	}
	if l.lastSignal != 0 {
		r.Shutdown.LastSignal = SignalName(l.lastSignal)
	}
	if d := l.drain; d != nil {
		r.StillRunning, r.Killed = d.running, d.killed
		r.Shutdown.DrainSeconds = d.ended.Sub(d.began).Seconds()
	}
	return r
}

func workloadReportOf(p *process) workloadReport {
	w := workloadReport{Name: p.w.Name, Pid: p.pid, Running: p.running, ExitCode: p.code}
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
