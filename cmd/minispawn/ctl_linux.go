package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/pid1"
)

// controlContainer sends req to the miniinit of container target and
// returns its answer.
//
//  1. Find the container's PID 1 (see ctl.go for the rule), holding its
//     /proc directory open: every later step reads through it, so a pid
//     reused meanwhile by another process fails (ESRCH) rather than
//     leading elsewhere.
//  2. Open the control socket in that process's root with openat2 and
//     RESOLVE_IN_ROOT: the container owns its root, and a symlink it
//     plants (/run -> /host/path) must resolve inside that root, never on
//     the host, as /proc/PID/root/run/... would.
//  3. Connect through /proc/self/fd/N, the opened socket: the path is
//     short whatever the pid and init.control (sun_path holds 108 bytes).
func controlContainer(target ctlTarget, req pid1.ControlRequest, timeout time.Duration) (pid1.ControlResponse, error) {
	var resp pid1.ControlResponse
	// 1.
	proc, pid, err := findContainerInit(target.name)
	if err != nil {
		return resp, err
	}
	defer unix.Close(proc)
	who := fmt.Sprintf("container %q (PID 1 is %d here)", target.name, pid)
	// 2.
	sock, err := openInRoot(proc, target.control)
	if err != nil {
		return resp, fmt.Errorf("%s: control socket %s: %w", who, target.control, err)
	}
	defer unix.Close(sock)
	// 3.
	resp, err = pid1.Control("/proc/self/fd/"+strconv.Itoa(sock), req, timeout)
	if err != nil {
		return resp, fmt.Errorf("%s: control socket %s: %w", who, target.control, err)
	}
	return resp, nil
}

// findContainerInit walks /proc for container name's PID 1 and returns
// its /proc directory, open (O_PATH), and its pid.
func findContainerInit(name string) (int, int, error) {
	self, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1, 0, fmt.Errorf("read /proc/self/status: %w", err)
	}
	mine, err := nsPids(string(self))
	if err != nil {
		return -1, 0, fmt.Errorf("/proc/self/status: %w", err)
	}
	dir, err := os.Open("/proc")
	if err != nil {
		return -1, 0, err
	}
	entries, err := dir.Readdirnames(-1)
	dir.Close()
	if err != nil {
		return -1, 0, fmt.Errorf("list /proc: %w", err)
	}
	var fds, pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e)
		if err != nil || pid <= 0 {
			continue
		}
		fd, err := unix.Open("/proc/"+e, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			continue // gone
		}
		if isInitOf(fd, name, len(mine)) {
			fds, pids = append(fds, fd), append(pids, pid)
			continue
		}
		unix.Close(fd)
	}
	switch len(fds) {
	case 0:
		return -1, 0, noContainer(name)
	case 1:
		return fds[0], pids[0], nil
	}
	for _, fd := range fds {
		unix.Close(fd)
	}
	return -1, 0, fmt.Errorf("container %q: %d processes look like its PID 1 (pids %v); is it run twice, under different units?", name, len(pids), pids)
}

// isInitOf reads one process's status and cgroup through its /proc
// directory fd and applies the rule. A process that cannot be read (it
// exited meanwhile) is not it.
func isInitOf(proc int, name string, depth int) bool {
	status, err := readAt(proc, "status")
	if err != nil {
		return false
	}
	pids, err := nsPids(status)
	if err != nil || !isContainerInit(pids, depth) {
		return false
	}
	cgroups, err := readAt(proc, "cgroup")
	return err == nil && inContainerCgroup(cgroups, name)
}

// readAt reads file name in directory dir.
func readAt(dir int, name string) (string, error) {
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	b, err := io.ReadAll(f)
	return string(b), err
}

// openInRoot opens path (absolute, as the container sees it) in the root
// of the process whose /proc directory is proc, as an O_PATH descriptor,
// and checks that it is a socket.
func openInRoot(proc int, path string) (int, error) {
	root, err := unix.Openat(proc, "root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open its root: %w", errnoErr(err))
	}
	defer unix.Close(root)
	how := &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	var fd int
	for try := 0; try < 10; try++ {
		// EAGAIN: a rename in the root raced with the lookup.
		fd, err = unix.Openat2(root, strings.TrimLeft(path, "/"), how)
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) {
			break
		}
	}
	switch {
	case errors.Is(err, unix.ENOSYS):
		return -1, errors.New("openat2 is needed (Linux 5.6 or later) to open it safely")
	case errors.Is(err, unix.ENOENT):
		return -1, fmt.Errorf("open: %w (is miniinit running there with a configuration file, and is init.control this path?)", errnoErr(err))
	case err != nil:
		return -1, fmt.Errorf("open: %w", errnoErr(err))
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("stat: %w", errnoErr(err))
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		unix.Close(fd)
		return -1, errors.New("not a socket")
	}
	return fd, nil
}
