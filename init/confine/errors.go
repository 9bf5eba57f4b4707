package confine

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysErr names a failed step and, for a bare errno, its symbolic name:
// "confine: setresuid 65534: EPERM: operation not permitted". The errno
// stays wrapped, so errors.Is(err, unix.EPERM) holds.
func sysErr(err error, format string, a ...any) error {
	op := fmt.Sprintf(format, a...)
	var errno syscall.Errno
	if errors.As(err, &errno) && error(errno) == err {
		return fmt.Errorf("confine: %s: %s: %w", op, unix.ErrnoName(errno), err)
	}
	return fmt.Errorf("confine: %s: %w", op, err)
}
