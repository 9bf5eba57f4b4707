package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Socket activation: sockets systemd passes minispawn (LISTEN_FDS, from a
// .socket unit) reach the container's main workload as fds 3..3+n-1, the
// numbers sd_listen_fds(3) promises. minispawn passes them to the second
// stage at those numbers (fds.go) with LISTEN_FDS=n, LISTEN_FDNAMES as
// given and LISTEN_PID=1, which is miniinit in the container's PID
// namespace; miniinit keeps them for the main workload and rewrites
// LISTEN_PID to that workload's pid (init/pid1, listen_linux.go).
type listenSockets struct {
	files []*os.File // nil in a dry run, which only counts
	n     int
	names string // LISTEN_FDNAMES as systemd gave it ("" when unset)
}

// listenEnv is what socket activation adds to the second stage's (and so
// miniinit's) environment.
func (l listenSockets) env() []string {
	if l.n == 0 {
		return nil
	}
	env := []string{"LISTEN_FDS=" + strconv.Itoa(l.n), "LISTEN_PID=1"}
	if l.names != "" {
		env = append(env, "LISTEN_FDNAMES="+l.names)
	}
	return env
}

// String is the plan's line for the sockets.
func (l listenSockets) String() string {
	if l.n == 0 {
		return "none"
	}
	s := fmt.Sprintf("%d from systemd, as fds 3-%d of the main workload", l.n, 2+l.n)
	if l.names != "" {
		s += " (" + strings.ReplaceAll(l.names, ":", ", ") + ")"
	}
	return s
}
