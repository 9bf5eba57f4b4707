package mounts

import "golang.org/x/sys/unix"

// Error is a failed setup step. Error() reads like
// "mount proc on /proc: EPERM", "pivot_root /x: EINVAL" or
// "mkdir /dev: EROFS": the operation, what it acted on, and the errno by
// its symbolic name. Target is the path the step names (inside the root
// for Apply's steps). errors.Is(err, unix.EPERM) works through Unwrap.
type Error struct {
	Op     string
	Source string
	Target string
	FSType string
	Err    error
}

func (e *Error) Error() string {
	s := e.Op
	if e.Op == "mount" && e.Source != "" {
		s += " " + e.Source + " on"
	}
	if e.Target != "" {
		s += " " + e.Target
	}
	return s + ": " + describe(e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// describe prints a bare errno by name (EPERM, not "operation not
// permitted") and any other error as it is.
func describe(err error) string {
	if errno, ok := err.(unix.Errno); ok {
		if name := unix.ErrnoName(errno); name != "" {
			return name
		}
	}
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// reasonErr is an errno with a short reason, printed "ELOOP (target is a
// symlink)", for failures the kernel's errno alone would not explain.
type reasonErr struct {
	errno  unix.Errno
	reason string
}

func (r *reasonErr) Error() string {
	name := unix.ErrnoName(r.errno)
	if name == "" {
		name = r.errno.Error()
	}
	return name + " (" + r.reason + ")"
}

func (r *reasonErr) Unwrap() error { return r.errno }
