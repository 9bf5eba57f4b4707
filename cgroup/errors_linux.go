package cgroup

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// Error is a failed step on one path. Its text is "STEP PATH: ERRNO", with
// the errno by name ("write /sys/fs/cgroup/pids/minispawn/demo/pids.max:
// EINVAL"); Unwrap gives the underlying error, so errors.Is(err,
// unix.EINVAL) works.
type Error struct {
	Step string // mkdir, write, read, rmdir, open
	Path string
	Err  error
}

func (e *Error) Error() string { return e.Step + " " + e.Path + ": " + errText(e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// errText names an errno by its constant ("EBUSY") and leaves other errors
// as they are.
func errText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if name := unix.ErrnoName(errno); name != "" {
			return name
		}
	}
	return err.Error()
}

// ErrRunning is wrapped by Create when the container's cgroup already
// holds processes.
var ErrRunning = errors.New("cgroup in use")
