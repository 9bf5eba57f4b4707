package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// nameLockDir holds one lock file per container name. Container names
// never start with '.', so no name's own file under stagingDir can clash
// with it.
const nameLockDir = stagingDir + "/.names"

// errNameTaken is wrapped by lockName when another minispawn runs a
// container of the same name.
var errNameTaken = errors.New("a name runs one container at a time")

// nameLock is the exclusive right to a container name: an flock on
// nameLockDir/NAME, held by the minispawn that runs the container for the
// container's whole life. The kernel drops it when that minispawn ends,
// however it ends, so a free lock proves that no live minispawn owns the
// name, and whatever is left of an earlier run (an empty cgroup) is
// garbage.
type nameLock struct {
	f    *os.File
	path string
	// keep leaves the file in place at release: the container's cgroup
	// could not be removed, and the file is how a later start finds it
	// (leftover_linux.go).
	keep bool
}

// lockName takes the lock of name without waiting: a container of that
// name that is running is refused at once, with the pid of its minispawn.
func lockName(name string) (*nameLock, error) {
	if err := os.MkdirAll(nameLockDir, 0o700); err != nil {
		return nil, fmt.Errorf("name lock directory: %w", err)
	}
	path := filepath.Join(nameLockDir, name)
	for {
		l, err := tryLock(path)
		if err != nil || l != nil {
			return l, err
		}
		// The holder unlinked the file between our open and our flock:
		// the lock we got is on a file nobody else will look at.
	}
}

// tryLock opens and locks path; it returns nil, nil when the file it
// locked is no longer the one at path (its holder removed it on release).
func tryLock(path string) (*nameLock, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("name lock: open %s: %w", path, errnoErr(err))
	}
	f := os.NewFile(uintptr(fd), path)
	err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
	for err == unix.EINTR {
		err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
	}
	if err == unix.EWOULDBLOCK {
		holder := readHolder(f)
		f.Close()
		return nil, fmt.Errorf("container %q is running (minispawn%s holds %s): %w",
			filepath.Base(path), holder, path, errNameTaken)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("name lock: flock %s: %w", path, errnoErr(err))
	}
	var held, now unix.Stat_t
	if err := unix.Fstat(fd, &held); err != nil {
		f.Close()
		return nil, fmt.Errorf("name lock: fstat %s: %w", path, errnoErr(err))
	}
	if err := unix.Stat(path, &now); err != nil || now.Ino != held.Ino || now.Dev != held.Dev {
		f.Close()
		return nil, nil
	}
	// The holder's pid, for the message of a start that is refused.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &nameLock{f: f, path: path}, nil
}

// readHolder returns " pid N" from a lock file, or "" when it has none.
func readHolder(f *os.File) string {
	b := make([]byte, 16)
	n, _ := f.ReadAt(b, 0)
	pid := strings.TrimSpace(string(b[:n]))
	if _, err := strconv.Atoi(pid); err != nil {
		return ""
	}
	return " pid " + pid
}

// release removes the file (unless keep) and drops the lock, in that
// order: a start that opened the file meanwhile finds, once it has the
// lock, that the path no longer leads to it, and starts again (tryLock).
// A file left behind, unlocked, marks a container whose cgroup may
// remain: so does the file of a minispawn that was killed.
func (l *nameLock) release() {
	if l == nil {
		return
	}
	if !l.keep {
		os.Remove(l.path)
	}
	l.f.Close()
}
