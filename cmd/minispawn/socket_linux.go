package main

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
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
		l.files = listenFiles(l.names)
		l.n = len(l.files)
	}
	setListenFDs(l.n)
	return l
}

// listenFiles is sd_listen_fds(3) read by hand: fds 3..3+LISTEN_FDS-1,
// named from LISTEN_FDNAMES. Hand-written rather than go-systemd's
// activation package because that one imports crypto/tls (for its TLS
// listeners), whose package inits every minispawn start paid for, twice
// (parent and second stage). It marks the fds close-on-exec and clears
// the variables: they reach the container only through ExtraFiles and
// env(), never by inheritance.
func listenFiles(names string) []*os.File {
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		os.Unsetenv(k)
	}
	if err != nil || n <= 0 {
		return nil
	}
	var nameOf []string
	if names != "" {
		nameOf = strings.Split(names, ":")
	}
	files := make([]*os.File, 0, n)
	for i := range n {
		fd := 3 + i // SD_LISTEN_FDS_START
		unix.CloseOnExec(fd)
		name := "LISTEN_FD_" + strconv.Itoa(fd)
		if i < len(nameOf) {
			name = nameOf[i]
		}
		files = append(files, os.NewFile(uintptr(fd), name))
	}
	return files
}
