package pid1

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// Why miniinit writes to sockets with sendAll only.
//
// A write to a stream socket whose peer has gone (a `miniinit health` that
// a probe timeout killed before it read its answer, an HTTP server that
// reset the probe's connection, minispawn gone from the other end of the
// host link) makes the kernel raise SIGPIPE at the writing thread.
// miniinit catches SIGPIPE to forward it, as tini does, and os/signal says
// nothing of where a signal came from: a SIGPIPE raised by one of
// miniinit's own writes would reach every workload, and most programs die
// of it. With MSG_NOSIGNAL the write fails with EPIPE and no signal is
// raised, on whatever thread the goroutine runs. Writes to descriptors
// that are not sockets (stdout and stderr) run on threads that block the
// signals a write raises: see log_linux.go.

// sendAll writes all of b to f, a connected stream socket on Go's poller,
// with MSG_NOSIGNAL, honouring f's deadline. A peer that has gone is an
// EPIPE (or ECONNRESET) error, never a signal.
func sendAll(f *os.File, b []byte) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	for len(b) > 0 {
		var n int
		var serr error
		err := rc.Write(func(fd uintptr) bool {
			for {
				n, serr = unix.SendmsgN(int(fd), b, nil, nil, unix.MSG_NOSIGNAL)
				if !errors.Is(serr, unix.EINTR) {
					return !errors.Is(serr, unix.EAGAIN)
				}
			}
		})
		if err == nil {
			err = serr
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
