package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/minispawn/minispawn/config"
	"github.com/minispawn/minispawn/init/pid1"
)

// The control client:
//
//	miniinit ctl [-s SOCKET | -c FILE] [--json] status
//	miniinit ctl ... start|stop|restart NAME
//	miniinit ctl ... signal NAME SIGNAL
//	miniinit ctl ... logs NAME [LINES]
//	miniinit ctl ... health
//	miniinit ctl ... reload
//	miniinit health [-s SOCKET | -c FILE]
//
// The socket is -s, else the init.control of the file -c names, else
// $MINIINIT_CONTROL, else config.DefaultControl. Exit codes: 0 done (for
// health: healthy), 1 refused, failed or unhealthy (also when miniinit
// cannot be reached: a HEALTHCHECK must not pass then), 2 a bad command
// line.

const ctlUsage = `usage: miniinit ctl [-s SOCKET | -c FILE] [--json] COMMAND
       miniinit health [-s SOCKET | -c FILE]

commands:
  status                  every workload's state, pid, restarts and health
  start NAME              start NAME (and what it requires)
  stop NAME               stop NAME (and, first, what requires it)
  restart NAME            stop NAME and start it again at once
  signal NAME SIGNAL      send SIGNAL to NAME's process group
  logs NAME [LINES]       the last lines NAME wrote (default all kept, 100)
  health                  exit 0 only when every essential and the main
                          workload is ready and healthy
  reload                  read the configuration file again; restart only
                          the workloads whose definition changed
`

// ctlTimeout bounds one request, connection to answer.
const ctlTimeout = 15 * time.Second

func runCtl(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	health := args[0] == "health"
	args = args[1:]
	var socket, file string
	asJSON := false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch a := args[0]; {
		case a == "-h" || a == "--help":
			fmt.Fprint(stdout, ctlUsage)
			return 0
		case a == "--json":
			asJSON = true
			args = args[1:]
		case (a == "-s" || a == "--socket" || a == "-c" || a == "--config") && len(args) > 1:
			if a == "-s" || a == "--socket" {
				socket = args[1]
			} else {
				file = args[1]
			}
			args = args[2:]
		default:
			fmt.Fprintf(stderr, "miniinit ctl: unknown option or missing value: %s\n%s", a, ctlUsage)
			return 2
		}
	}
	if health {
		args = append([]string{"health"}, args...)
	}
	req, err := ctlRequest(args)
	if err != nil {
		fmt.Fprintf(stderr, "miniinit ctl: %v\n%s", err, ctlUsage)
		return 2
	}
	path, err := ctlSocket(socket, file, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "miniinit ctl: %v\n", err)
		return 2
	}
	resp, err := pid1.Control(path, req, ctlTimeout)
	if err != nil {
		fmt.Fprintf(stderr, "miniinit ctl: %v\n", err)
		return 1
	}
	if asJSON {
		b, _ := json.MarshalIndent(resp, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		printResponse(stdout, req, resp)
	}
	if !resp.OK {
		if resp.Error != "" {
			fmt.Fprintf(stderr, "miniinit ctl: %s\n", resp.Error)
		}
		return 1
	}
	return 0
}

// ctlRequest reads a command and its arguments.
func ctlRequest(args []string) (pid1.ControlRequest, error) {
	if len(args) == 0 {
		return pid1.ControlRequest{}, errors.New("no command")
	}
	req := pid1.ControlRequest{Op: args[0]}
	want := map[string]int{"status": 0, "health": 0, "reload": 0, "start": 1, "stop": 1, "restart": 1, "signal": 2, "logs": 1}
	n, ok := want[req.Op]
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

// ctlSocket finds the control socket's path.
func ctlSocket(socket, file string, getenv func(string) string) (string, error) {
	switch {
	case socket != "":
		return socket, nil
	case file != "":
		cfg, err := config.Load(file)
		if err != nil {
			return "", err
		}
		return cfg.Init.Control, nil
	case getenv("MINIINIT_CONTROL") != "":
		return getenv("MINIINIT_CONTROL"), nil
	}
	return config.DefaultControl, nil
}

// printResponse writes resp for a person.
func printResponse(w io.Writer, req pid1.ControlRequest, resp pid1.ControlResponse) {
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
			fmt.Fprintf(w, "(%d lines were dropped while stdout was blocked)\n", resp.Dropped)
		}
	case "reload":
		if resp.OK {
			fmt.Fprintf(w, "reloaded; changed: %s\n", strings.Join(resp.Changed, " "))
		}
	}
}
