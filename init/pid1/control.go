package pid1

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/minispawn/minispawn/init/supervise"
)

// The control protocol (`miniinit ctl`, `miniinit health`, `minispawn
// ctl`): one JSON request per connection on the control socket, one JSON
// response, then the connection closes.
//
//	{"op": "status"}                          every workload's state
//	{"op": "start", "name": "web"}            start web (and what it requires)
//	{"op": "stop", "name": "web"}             stop web (and what requires it, first)
//	{"op": "restart", "name": "web"}          stop web, start it again at once
//	{"op": "signal", "name": "web", "signal": "SIGHUP"}
//	{"op": "logs", "name": "web", "lines": 50}
//	{"op": "health"}                          ok only when every essential (and
//	                                          the main) workload is ready and healthy
//	{"op": "reload"}                          read the configuration again; restart
//	                                          only the workloads whose definition changed
//
// Every response has "ok" and, when not ok, "error".

// ControlRequest is one request.
type ControlRequest struct {
	Op     string `json:"op"`
	Name   string `json:"name,omitempty"`
	Signal string `json:"signal,omitempty"`
	Lines  int    `json:"lines,omitempty"`
}

// ControlResponse is the answer to one request; only the fields of its op
// are set.
type ControlResponse struct {
	OK        bool               `json:"ok"`
	Error     string             `json:"error,omitempty"`
	Workloads []supervise.Status `json:"workloads,omitempty"`
	Shutdown  *supervise.Summary `json:"shutdown,omitempty"`
	Problems  []string           `json:"problems,omitempty"`
	Lines     []string           `json:"lines,omitempty"`
	Dropped   uint64             `json:"dropped,omitempty"`
	Changed   []string           `json:"changed,omitempty"`
	Added     []string           `json:"added,omitempty"`
	Removed   []string           `json:"removed,omitempty"`
}

// ctlRequest is a request on its way to the loop, with where the answer
// goes.
type ctlRequest struct {
	req   ControlRequest
	reply chan ControlResponse
}

// onControl answers a control request, on the loop's goroutine.
func (l *loop) onControl(c *ctlRequest) {
	if c.req.Op == "reload" && l.reloadViaHost(c) {
		return // answered once minispawn sends the file (hostlink_linux.go)
	}
	resp, err := l.control(c.req)
	l.reply(c, resp, err)
}

// reply answers c with resp, or err.
func (l *loop) reply(c *ctlRequest, resp ControlResponse, err error) {
	if err != nil {
		resp.Error = err.Error()
	} else {
		resp.OK = true
	}
	// A reload or a stop by request changes what minispawn should know.
	l.reportHost()
	c.reply <- resp // buffered: the connection's goroutine may have given up
}

func (l *loop) control(req ControlRequest) (ControlResponse, error) {
	var resp ControlResponse
	needName := func() error {
		switch {
		case req.Name == "":
			return fmt.Errorf("%s: which workload?", req.Op)
		case !l.m.Has(req.Name):
			return fmt.Errorf("no workload is named %q", req.Name)
		}
		return nil
	}
	switch req.Op {
	case "status":
		resp.Workloads = l.m.Status()
		if l.out != nil {
			dropped := l.out.dropped()
			for i := range resp.Workloads {
				d := dropped[resp.Workloads[i].Name]
				resp.Workloads[i].OutputDropped, resp.Workloads[i].OutputDroppedBytes = d.Lines, d.Bytes
			}
		}
		if sum, ok := l.m.Shutdown(); ok {
			resp.Shutdown = &sum
		}
	case "health":
		ok, problems := l.m.Healthy()
		resp.Problems = problems
		if !ok {
			return resp, &unhealthyError{problems}
		}
	case "start", "restart":
		if err := needName(); err != nil {
			return resp, err
		}
		if l.m.ShuttingDown() {
			return resp, errors.New("shutting down")
		}
		if req.Op == "start" {
			l.handle(supervise.StartRequested{Name: req.Name})
		} else {
			l.handle(supervise.RestartRequested{Name: req.Name})
		}
	case "stop":
		if err := needName(); err != nil {
			return resp, err
		}
		l.handle(supervise.StopRequested{Name: req.Name})
	case "signal":
		if err := needName(); err != nil {
			return resp, err
		}
		sig, err := ParseSignal(req.Signal)
		if err != nil {
			return resp, err
		}
		p := l.works[req.Name].cur
		if p == nil || !p.running {
			return resp, fmt.Errorf("%s is not running", req.Name)
		}
		l.signalWorkload(p, sig)
	case "logs":
		if err := needName(); err != nil {
			return resp, err
		}
		if l.out == nil {
			return resp, errors.New("output is not kept (not supervised)")
		}
		var direct bool
		resp.Lines, resp.Dropped, direct = l.out.tail(req.Name, req.Lines)
		if direct {
			return resp, fmt.Errorf("%s writes to the terminal directly (it reads it: stdin = \"inherit\"), so its output is not kept", req.Name)
		}
	case "reload":
		diff, err := l.reload(l.opts.Reload)
		if err != nil {
			return resp, err
		}
		resp.Changed, resp.Added, resp.Removed = diff.Changed, diff.Added, diff.Removed
	default:
		return resp, fmt.Errorf("unknown request %q (status, start, stop, restart, signal, logs, health, reload)", req.Op)
	}
	return resp, nil
}

// unhealthyError is the health answer when something is not healthy.
type unhealthyError struct{ problems []string }

func (e *unhealthyError) Error() string {
	return fmt.Sprintf("not healthy: %d problem(s)", len(e.problems))
}

// reload reads the configuration again with load and hands the machine
// the new workloads, naming those whose definition changed. A running
// process keeps the definition it was started with until its next start.
func (l *loop) reload(load func() ([]Workload, map[syscall.Signal][]string, error)) (reloadDiff, error) {
	var diff reloadDiff
	if load == nil {
		return diff, errors.New("reload: miniinit was not started with a configuration file it can read again")
	}
	ws, routes, err := load()
	if err != nil {
		return diff, fmt.Errorf("reload: %w", err)
	}
	next := l.opts
	next.Workloads = ws
	if err := next.validate(); err != nil {
		return diff, fmt.Errorf("reload: %w", err)
	}
	if l.loaded == nil {
		l.loaded = map[string]bool{}
		for _, w := range l.opts.Workloads {
			l.loaded[w.Name] = true
		}
	}
	loaded := map[string]bool{}
	for _, w := range ws {
		loaded[w.Name] = true
		old, known := l.works[w.Name]
		switch {
		case !l.loaded[w.Name]:
			diff.Added = append(diff.Added, w.Name) // new, or put back
		case known && !reflect.DeepEqual(old.w, w):
			diff.Changed = append(diff.Changed, w.Name)
		}
	}
	for _, wk := range l.order {
		if l.loaded[wk.w.Name] && !loaded[wk.w.Name] {
			diff.Removed = append(diff.Removed, wk.w.Name)
		}
	}
	changed := diff.Changed
	for _, name := range diff.Added {
		// A workload put back keeps its old definition in l.works until
		// now: the machine restarts it when that definition differs.
		if old, known := l.works[name]; known && !reflect.DeepEqual(old.w, next.workload(name)) {
			changed = append(changed, name)
		}
	}
	ds, err := l.m.Reload(specs(ws), changed)
	if err != nil {
		return diff, fmt.Errorf("reload: %w", err)
	}
	l.loaded = loaded
	l.m.SetRoutes(routes)
	l.opts.Routes = routes
	// The new definitions take effect at each workload's next start.
	var order []*work
	l.main = nil
	for _, w := range ws {
		wk := l.works[w.Name]
		if wk == nil {
			wk = &work{}
			l.works[w.Name] = wk
		}
		wk.w = w
		order = append(order, wk)
		if w.Main {
			l.main = wk
		}
	}
	for _, wk := range l.order {
		if !containsWork(order, wk) {
			order = append(order, wk) // removed, still reported
		}
	}
	l.order = order
	l.log.Info("reloaded", "changed", diff.Changed, "added", diff.Added, "removed", diff.Removed, "workloads", len(ws))
	for _, d := range ds {
		l.do(d)
	}
	l.armTimer()
	return diff, nil
}

// reloadDiff is what a reload changed, by workload name: definitions
// changed, workloads added (or put back) and workloads removed.
type reloadDiff struct{ Changed, Added, Removed []string }

// String says what a reload did, as ctl prints it: "changed: a, b;
// added: c; removed: d", or "nothing changed".
func (d reloadDiff) String() string {
	var parts []string
	for _, p := range []struct {
		what  string
		names []string
	}{{"changed", d.Changed}, {"added", d.Added}, {"removed", d.Removed}} {
		if len(p.names) > 0 {
			parts = append(parts, p.what+": "+strings.Join(p.names, ", "))
		}
	}
	if len(parts) == 0 {
		return "nothing changed"
	}
	return strings.Join(parts, "; ")
}

// workload returns the definition of name in o, or the zero Workload.
func (o Options) workload(name string) Workload {
	for _, w := range o.Workloads {
		if w.Name == name {
			return w
		}
	}
	return Workload{}
}

func containsWork(ws []*work, w *work) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

// controlTimeout bounds one control connection: reading the request,
// the loop's answer, writing the response.
const controlTimeout = 10 * time.Second
