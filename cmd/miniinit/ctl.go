package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
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
// The socket is -s, else the init.control of the file -c names, else the
// default of controlpath.go ($MINIINIT_CONTROL, /run/miniinit.sock for
// root, a directory of the user's own for others). Exit codes: 0 done (for
// health: healthy), 1 refused, failed or unhealthy (also when miniinit
// cannot be reached: a HEALTHCHECK must not pass then), 2 a bad command
// line.

const ctlUsage = `usage: miniinit ctl [-s SOCKET | -c FILE] [--json] COMMAND
       miniinit health [-s SOCKET | -c FILE]

` + pid1.ControlCommands

// ctlTimeout bounds one request, connection to answer.
const ctlTimeout = 15 * time.Second

func runCtl(args []string, env lookupEnv, stdout, stderr io.Writer) int {
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
	req, err := pid1.ParseControlCommand(args)
	if err != nil {
		fmt.Fprintf(stderr, "miniinit ctl: %v\n%s", err, ctlUsage)
		return 2
	}
	path, err := ctlSocket(socket, file, env)
	if err != nil {
		fmt.Fprintf(stderr, "miniinit ctl: %v\n", err)
		return 2
	}
	if socket == "" && file == "" {
		// The default: in a per-user directory of $TMPDIR, it must be the
		// user's own, or the answer could be anyone's.
		if p, private := processControl(env); private && p == path {
			if err := pid1.PrivateDir(filepath.Dir(path), false); err != nil {
				fmt.Fprintf(stderr, "miniinit ctl: %v\n", err)
				return 1
			}
		}
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
		pid1.PrintControlResponse(stdout, req, resp)
	}
	if !resp.OK {
		if resp.Error != "" {
			fmt.Fprintf(stderr, "miniinit ctl: %s\n", resp.Error)
		}
		return 1
	}
	return 0
}

// ctlSocket finds the control socket's path.
func ctlSocket(socket, file string, env lookupEnv) (string, error) {
	switch {
	case socket != "":
		return socket, nil
	case file != "":
		cfg, err := config.LoadInit(file)
		if err != nil {
			return "", err
		}
		return cfg.Init.Control, nil
	}
	path, _ := processControl(env)
	return path, nil
}
