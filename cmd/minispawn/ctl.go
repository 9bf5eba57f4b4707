package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/minispawn/minispawn/cgroup"
	"github.com/minispawn/minispawn/config"
	"github.com/minispawn/minispawn/init/pid1"
)

// minispawn ctl: miniinit's control commands, from the host.
//
//	minispawn ctl -c app.toml [-json] COMMAND [ARGS]
//	minispawn ctl -name NAME [-json] COMMAND [ARGS]
//
// The commands are miniinit ctl's (pid1.ControlCommands). minispawn finds
// the running container's PID 1 (ctl_linux.go) and connects to miniinit's
// control socket, init.control of the file (default /run/miniinit.sock),
// through that process's root. Exit codes as miniinit ctl's: 0 done (for
// health: healthy), 1 refused, failed, unhealthy or not reachable (a
// container that does not run is not healthy), 2 a bad command line.

// ctlTimeout bounds one request, from finding the container to the answer.
const ctlTimeout = 15 * time.Second

// exitCtlFailed is ctl's exit code for a refusal, an unhealthy answer or
// a container that cannot be reached.
const exitCtlFailed = 1

const ctlUsage = `usage: minispawn ctl -c FILE [-json] COMMAND [ARGS]
       minispawn ctl -name NAME [-json] COMMAND [ARGS]

` + pid1.ControlCommands

// checkCtl checks ctl's part of the command line: which container (a file
// or a name, one of them), and a command miniinit knows.
func (o *options) checkCtl() error {
	switch {
	case o.config != "" && o.name != "":
		return errors.New("ctl: -c and -name exclude each other")
	case o.config == "" && o.name == "":
		return errors.New("ctl: which container? -c FILE or -name NAME")
	case o.rootfs != "":
		return errors.New("ctl: --rootfs is for run")
	}
	_, err := pid1.ParseControlCommand(o.ctlArgs)
	if err != nil {
		return fmt.Errorf("ctl: %w", err)
	}
	return nil
}

// ctlTarget is the container a ctl command reaches: its name and its
// control socket's path inside its root.
type ctlTarget struct {
	name    string
	control string
}

// ctlTargetOf reads the target from the file -c names, or takes -name
// with the default socket.
func ctlTargetOf(o *options) (ctlTarget, error) {
	if o.config == "" {
		return ctlTarget{o.name, config.DefaultControl}, nil
	}
	cfg, err := config.Load(o.config)
	if err != nil {
		return ctlTarget{}, err
	}
	return ctlTarget{cfg.Name, cfg.Init.Control}, nil
}

// runCtl carries out `minispawn ctl` and returns its exit code.
func runCtl(o *options, stdout, stderr io.Writer) int {
	req, err := pid1.ParseControlCommand(o.ctlArgs)
	if err != nil {
		fmt.Fprintf(stderr, "minispawn ctl: %v\n%s", err, ctlUsage)
		return exitUsage
	}
	target, err := ctlTargetOf(o)
	if err != nil {
		fmt.Fprintf(stderr, "minispawn ctl: %v\n", err)
		return exitUsage
	}
	resp, err := controlContainer(target, req, ctlTimeout) // ctl_linux.go
	if err != nil {
		fmt.Fprintf(stderr, "minispawn ctl: %v\n", err)
		return exitCtlFailed
	}
	if o.json {
		b, _ := json.MarshalIndent(resp, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		pid1.PrintControlResponse(stdout, req, resp)
	}
	if !resp.OK {
		if resp.Error != "" {
			fmt.Fprintf(stderr, "minispawn ctl: %s\n", resp.Error)
		}
		return exitCtlFailed
	}
	return 0
}

// The container's PID 1, as the host sees it: the pure part of the search
// (ctl_linux.go walks /proc).
//
// A container's PID 1 is the one process that is both
//
//   - in the container's cgroup: a path ending in minispawn/NAME, or below
//     it (miniinit may move itself to a leaf), which minispawn makes in
//     every placement it has (minispawn/NAME at the hierarchy's root,
//     UNIT/minispawn/NAME under a unit that delegates, the same below the
//     transient scope minispawn-NAME.scope), on cgroup v1 and v2 alike;
//   - PID 1 of a PID namespace one level below the caller's: its NSpid
//     has one entry more than the caller's, and the last is 1. A PID 1 a
//     workload made in a namespace of its own (deeper), or a workload
//     itself (its last pid is not 1), does not count.
//
// Both are facts the kernel keeps and no process inside the container can
// change: it cannot leave its cgroup namespace's root, nor change its
// pids. Looking for a minispawn parent instead would trust a process
// name, and miss a container whose minispawn was renamed or replaced.

// nsPids reads the NSpid line of /proc/PID/status: the process's pid in
// each PID namespace, from the reader's own down to its innermost.
func nsPids(status string) ([]int, error) {
	for _, line := range strings.Split(status, "\n") {
		rest, ok := strings.CutPrefix(line, "NSpid:")
		if !ok {
			continue
		}
		var pids []int
		for _, f := range strings.Fields(rest) {
			n, err := strconv.Atoi(f)
			if err != nil {
				return nil, fmt.Errorf("NSpid %q: %w", rest, err)
			}
			pids = append(pids, n)
		}
		if len(pids) == 0 {
			return nil, errors.New("NSpid is empty")
		}
		return pids, nil
	}
	return nil, errors.New("no NSpid line (Linux 4.1 or later has one)")
}

// isContainerInit reports whether a process whose NSpid is pids is PID 1
// of a namespace one level below a reader whose own NSpid has depth
// entries.
func isContainerInit(pids []int, depth int) bool {
	return len(pids) == depth+1 && pids[len(pids)-1] == 1
}

// inContainerCgroup reports whether a /proc/PID/cgroup text puts the
// process in container name's cgroup, or below it, in any hierarchy.
func inContainerCgroup(cgroups, name string) bool {
	suffix := "/" + cgroup.Parent + "/" + name
	for _, line := range strings.Split(cgroups, "\n") {
		// "ID:CONTROLLERS:PATH"; the path may hold ':' itself.
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		p := parts[2]
		if strings.HasSuffix(p, suffix) || strings.Contains(p, suffix+"/") {
			return true
		}
	}
	return false
}

// errNoContainer: no container of that name runs here.
var errNoContainer = errors.New("no such container")

func noContainer(name string) error {
	return fmt.Errorf("container %q: %w runs here (no PID 1 in a cgroup .../%s/%s)", name, errNoContainer, cgroup.Parent, name)
}
