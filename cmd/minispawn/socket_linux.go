package main

import (
	"os"
	"strconv"

	"github.com/coreos/go-systemd/v22/activation"
)

// listenFromSystemd takes the sockets systemd passed this process, and
// numbers the second stage's descriptors after them (setListenFDs). A dry
// run only counts them. Sockets meant for another process (LISTEN_PID
// not ours) are none of ours.
func listenFromSystemd(dryRun bool) listenSockets {
	var l listenSockets
	pid, err := strconv.Atoi(os.Getenv("LISTEN_PID"))
	if err != nil || pid != os.Getpid() {
		return l
	}
	l.names = os.Getenv("LISTEN_FDNAMES")
	if dryRun {
		if n, err := strconv.Atoi(os.Getenv("LISTEN_FDS")); err == nil && n > 0 {
			l.n = n
		}
	} else {
		// Files marks them close-on-exec and clears the variables: they
		// reach the container only through ExtraFiles and env().
		l.files = activation.Files(true)
		l.n = len(l.files)
	}
	setListenFDs(l.n)
	return l
}
