package pid1

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysErr names a failed step and, for a bare errno, its symbolic name:
// "mount proc on /proc: EPERM: operation not permitted". The errno stays
// wrapped, so errors.Is(err, unix.EPERM) holds.
func sysErr(op string, err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) && error(errno) == err {
		return fmt.Errorf("%s: %s: %w", op, unix.ErrnoName(errno), err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
