package cgroup

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Control files are written with one write(2) each: the kernel parses the
// whole buffer of a single write, and a short or split write would be a
// different request. No O_CREAT or O_TRUNC: cgroupfs files exist or the
// write is wrong.

func writeFile(path, value string) error {
	fd, err := retryEINTR(func() (int, error) {
		return unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return &Error{Step: "write", Path: path, Err: err}
	}
	defer unix.Close(fd)
	n, err := retryEINTR(func() (int, error) { return unix.Write(fd, []byte(value)) })
	if err != nil {
		return &Error{Step: "write", Path: path, Err: err}
	}
	if n != len(value) {
		return &Error{Step: "write", Path: path, Err: io.ErrShortWrite}
	}
	return nil
}

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", &Error{Step: "read", Path: path, Err: unwrapPathError(err)}
	}
	return string(b), nil
}

// readPids reads the cgroup.procs of dir.
func readPids(dir string) ([]int, error) {
	p := filepath.Join(dir, "cgroup.procs")
	text, err := readFile(p)
	if err != nil {
		return nil, err
	}
	pids, err := parsePids(text)
	if err != nil {
		return nil, &Error{Step: "read", Path: p, Err: err}
	}
	return pids, nil
}

func mkdir(path string) error {
	if err := unix.Mkdir(path, 0o755); err != nil {
		return &Error{Step: "mkdir", Path: path, Err: err}
	}
	return nil
}

func rmdir(path string) error {
	if err := unix.Rmdir(path); err != nil {
		return &Error{Step: "rmdir", Path: path, Err: err}
	}
	return nil
}

func exists(path string) (bool, error) {
	var st unix.Stat_t
	err := unix.Stat(path, &st)
	switch err {
	case nil:
		return true, nil
	case unix.ENOENT:
		return false, nil
	}
	return false, &Error{Step: "stat", Path: path, Err: err}
}

func retryEINTR(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != unix.EINTR {
			return n, err
		}
	}
}

// unwrapPathError drops os.PathError's own op and path: Error carries both.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// joinPids formats pids for messages: "123, 456".
func joinPids(pids []int) string {
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// subtree returns dir and every cgroup below it, parents before children
// (in cgroupfs every subdirectory is a cgroup). A missing dir gives none:
// whoever asked about it finds it empty.
func subtree(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, nil
		}
		return nil, &Error{Step: "readdir", Path: dir, Err: unwrapPathError(err)}
	}
	out := []string{dir}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		below, err := subtree(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, below...)
	}
	return out, nil
}

// pidsUnder returns the pids in dir and every cgroup below it, unsorted.
func pidsUnder(dir string) ([]int, error) {
	dirs, err := subtree(dir)
	if err != nil {
		return nil, err
	}
	var all []int
	for _, d := range dirs {
		pids, err := readPids(d)
		if errors.Is(err, unix.ENOENT) {
			continue // removed while we walked
		}
		if err != nil {
			return nil, err
		}
		all = append(all, pids...)
	}
	return all, nil
}
