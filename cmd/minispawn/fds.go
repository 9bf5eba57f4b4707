package main

import "strconv"

// The descriptors the second stage receives (os/exec ExtraFiles, from 3
// on), in this order; n is the number of sockets systemd passed
// (socket.go), 0 without socket activation:
//
//	3 .. 2+n   the sockets, at the numbers sd_listen_fds(3) promises:
//	           miniinit hands them on to the main workload as they are
//	3+n        the configuration bytes (miniinit --config-fd)
//	4+n        miniinit's end of the channel to minispawn (--host-fd;
//	           closed when miniinit does not take it)
//	5+n        the sealed copy of miniinit
//	6+n        parent -> child: the plan, sent once the child is in its
//	           cgroup
//	7+n        child -> parent: a setup error; EOF means miniinit was
//	           exec'd
//	8+n        the idmapped root tree, with a user namespace
//	           (userns_linux.go); closed without one
//	9+n        with -t, the socket over which the second stage sends the
//	           master of the pty it made (tty_linux.go)
//
// The sockets go first because their numbers are fixed by the protocol;
// the configuration and the channel follow because miniinit keeps them
// across exec, the rest is the second stage's own. The parent sets n once
// (setListenFDs) before it plans, and the second stage sets the same n
// from its argv (stage2Arg0 N) before it touches any descriptor.
var (
	fdConfig   = 3
	fdHost     = 4
	fdInit     = 5
	fdSync     = 6
	fdErr      = 7
	fdRootTree = 8
	fdConsole  = 9
)

// setListenFDs numbers the descriptors for n sockets before them.
func setListenFDs(n int) {
	fdConfig, fdHost, fdInit, fdSync, fdErr, fdRootTree, fdConsole = 3+n, 4+n, 5+n, 6+n, 7+n, 8+n, 9+n
}

// miniinitTakesHostFD says whether miniinit is given its end of the
// channel (--host-fd). Without it (kept for a miniinit built before the
// flag) minispawn sends READY=1 itself once miniinit runs, and the
// watchdog pings while the container lives.
const miniinitTakesHostFD = true

// initArgs is miniinit's command line: where to find the configuration,
// and the channel.
func initArgs(configName string) []string {
	// --zero-on-stop: a stop asked of the container (SIGTERM to
	// minispawn, systemctl stop) that ends in order exits 0, so the units
	// count only 0 as success and a workload's 143 stays a failure.
	a := []string{"--config-fd", strconv.Itoa(fdConfig), "--config-name", configName, "--zero-on-stop"}
	if miniinitTakesHostFD {
		a = append(a, "--host-fd", strconv.Itoa(fdHost))
	}
	return a
}
