package pid1

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// scanProc reads every /proc/PID/stat. Processes that exit during the walk
// are skipped, not errors.
func scanProc() ([]procEntry, error) {
	dir, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("read /proc: %w", err)
	}
	var out []procEntry
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		e, err := readStat(pid)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
				continue
			}
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func readStat(pid int) (procEntry, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procEntry{}, err
	}
	return parseStat(b)
}

// procIsOurs reports whether /proc shows this process's own PID namespace:
// /proc/self must name our own pid. Anything else (no /proc, or the /proc of
// an ancestor namespace, where we have another number) makes pids read there
// meaningless to kill(2).
func procIsOurs() bool {
	self, err := os.Readlink("/proc/self")
	return err == nil && self == strconv.Itoa(unix.Getpid())
}

// signalProc sends sig to the process e names, and only to it: the pid is
// pinned with a pidfd, then its start time is read again, so a pid that
// was reused since the scan is left alone. A process that is gone is not an
// error. Kernels without pidfd_open (before 5.3) fall back to kill(2).
func signalProc(e procEntry, sig unix.Signal) error {
	fd, err := unix.PidfdOpen(e.Pid, 0)
	if errors.Is(err, unix.ENOSYS) {
		return ignoreESRCH(unix.Kill(e.Pid, sig))
	}
	if err != nil {
		return ignoreESRCH(err)
	}
	defer unix.Close(fd)
	now, err := readStat(e.Pid)
	if err != nil || now.Start != e.Start {
		return nil // gone, or no longer the process we scanned
	}
	return ignoreESRCH(unix.PidfdSendSignal(fd, sig, nil, 0))
}

func ignoreESRCH(err error) error {
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	return err
}
