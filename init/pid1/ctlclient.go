package pid1

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The command-line side of the control protocol, shared by `miniinit ctl`
// (inside the container) and `minispawn ctl` (from the host), so that both
// take the same words and print the same answers.

// ControlCommands describes the commands ParseControlCommand reads, for
// usage messages.
const ControlCommands = `commands:
  status                  every workload's state, pid, restarts and health
  start NAME              start NAME (and what it requires)
  stop NAME               stop NAME (and, first, what requires it)
  restart NAME            stop NAME and start it again at once
  signal NAME SIGNAL      send SIGNAL to NAME's process group
  logs NAME [LINES]       the last lines NAME wrote (default all kept, 100)
  health                  exit 0 only when every essential and the main
                          workload is ready and healthy (every workload
                          when none is main or essential)
  reload                  read the configuration file again; restart only
                          the workloads whose definition changed
`

// controlArity is how many arguments each command takes (logs: one more,
// optional).
var controlArity = map[string]int{
	"status": 0, "health": 0, "reload": 0,
	"start": 1, "stop": 1, "restart": 1, "logs": 1,
	"signal": 2,
}

// ParseControlCommand reads a command and its arguments ("stop web",
// "logs web 20") into a request.
func ParseControlCommand(args []string) (ControlRequest, error) {
	if len(args) == 0 {
		return ControlRequest{}, errors.New("no command")
	}
	req := ControlRequest{Op: args[0]}
	n, ok := controlArity[req.Op]
	if !ok {
		return req, fmt.Errorf("unknown command %q", req.Op)
	}
	rest := args[1:]
	if req.Op == "logs" && len(rest) == 2 {
		lines, err := strconv.Atoi(rest[1])
		if err != nil || lines < 1 {
			return req, fmt.Errorf("logs: %q is not a number of lines", rest[1])
		}
		req.Lines, rest = lines, rest[:1]
	}
	if len(rest) != n {
		return req, fmt.Errorf("%s takes %d argument(s), got %d", req.Op, n, len(rest))
	}
	if n >= 1 {
		req.Name = rest[0]
	}
	if n == 2 {
		req.Signal = rest[1]
	}
	return req, nil
}

// Words renders req back into the words ParseControlCommand reads.
func (req ControlRequest) Words() []string {
	w := []string{req.Op}
	if req.Name != "" {
		w = append(w, req.Name)
	}
	if req.Signal != "" {
		w = append(w, req.Signal)
	}
	if req.Lines != 0 {
		w = append(w, strconv.Itoa(req.Lines))
	}
	return w
}

// PrintControlResponse writes resp to req for a person: a table for
// status, the problems for health, the lines for logs.
func PrintControlResponse(w io.Writer, req ControlRequest, resp ControlResponse) {
	switch req.Op {
	case "status":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSTATE\tPID\tRESTARTS\tHEALTH\tSINCE\tREASON")
		for _, s := range resp.Workloads {
			pid := "-"
			if s.Pid != 0 {
				pid = strconv.Itoa(s.Pid)
			}
			health := s.Health
			if health == "" {
				health = "-"
			}
			reason := s.Reason
			if s.Text != "" {
				reason = strings.TrimSpace(reason + " [" + s.Text + "]")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", s.Name, s.State, pid, s.Restarts, health,
				time.Since(s.Since).Round(time.Second), reason)
		}
		tw.Flush()
		for _, s := range resp.Workloads {
			if s.OutputDropped+s.OutputDroppedBytes > 0 {
				fmt.Fprintf(w, "%s: %d lines (%d bytes) of output dropped (log_overflow = \"drop\")\n", s.Name, s.OutputDropped, s.OutputDroppedBytes)
			}
		}
		if resp.Shutdown != nil {
			fmt.Fprintf(w, "shutting down: %s\n", resp.Shutdown.Reason)
		}
	case "health":
		if resp.OK {
			fmt.Fprintln(w, "healthy")
		}
		for _, p := range resp.Problems {
			fmt.Fprintln(w, p)
		}
	case "logs":
		for _, l := range resp.Lines {
			fmt.Fprintln(w, l)
		}
		if resp.Dropped > 0 {
			fmt.Fprintf(w, "(%d lines were dropped while stdout was blocked: log_overflow = \"drop\")\n", resp.Dropped)
		}
	case "reload":
		if resp.OK {
			fmt.Fprintf(w, "reloaded; %s\n", reloadDiff{resp.Changed, resp.Added, resp.Removed})
		}
	}
}
