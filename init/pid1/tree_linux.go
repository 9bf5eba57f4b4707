package pid1

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Tree tracking: which processes belong to a workload.
//
// Every workload's process leads a process group of its own, and its
// children stay in that group unless they leave it (setsid, setpgid: any
// daemon does). So in supervised mode, where miniinit can make cgroups,
// each workload also gets a cgroup of its own, which no process can leave
// without privileges miniinit's workloads should not have:
//
//	<cgroup2 mount>/<miniinit's cgroup>/miniinit.<pid>/<workload>.<run>
//
// Processes are born into it (clone3 with CLONE_INTO_CGROUP), so no fork
// can slip out between a start and a move. Each run gets a fresh cgroup:
// what an earlier run left is told apart, and a cgroup that had
// cgroup.kill written is never entered again (Linux 6.x SIGKILLs a child
// cloned into one: kill_seq). A stop signal goes to the
// process group and to every process in the cgroup; a kill (and the sweep
// when a workload's process ends) writes cgroup.kill, which reaches them
// all at once. Only the cgroup v2 hierarchy is used, and only for tracking
// (no controller is enabled), so it works in a hybrid host's "unified"
// mount as in a pure v2 one.
//
// Where there is no writable cgroup2 mount (a container without one, a
// read-only /sys/fs/cgroup), only the process group is used, and a
// process that left it is reached only by the drain at shutdown.

// cgroupTree is the workloads' cgroups, nil when there are none.
type cgroupTree struct {
	dir  string              // miniinit.<pid>, parent of the workloads' cgroups
	rel  string              // the same, as /proc/PID/cgroup shows it
	runs map[string]struct{} // every run's cgroup made, "<workload>.<run>"
}

// setupCgroups makes miniinit's cgroup parent, or says why it cannot.
func setupCgroups(self int) (*cgroupTree, error) {
	mount, err := cgroup2Mount()
	if err != nil {
		return nil, err
	}
	own, err := ownCgroup("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	rel := filepath.Join(own, "miniinit."+strconv.Itoa(self))
	dir := filepath.Join(mount, rel)
	if err := unix.Mkdir(dir, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, sysErr("mkdir "+dir, err)
	}
	return &cgroupTree{dir: dir, rel: rel, runs: map[string]struct{}{}}, nil
}

// cgroup2Mount finds the cgroup v2 hierarchy in /proc/self/mountinfo.
func cgroup2Mount() (string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		// "36 35 0:30 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw"
		pre, post, ok := bytes.Cut(line, []byte(" - "))
		if !ok {
			continue
		}
		if f := strings.Fields(string(post)); len(f) > 0 && f[0] == "cgroup2" {
			if g := strings.Fields(string(pre)); len(g) > 4 {
				return unescapeMount(g[4]), nil
			}
		}
	}
	return "", errors.New("no cgroup2 hierarchy mounted")
}

// unescapeMount undoes mountinfo's octal escapes ("\040" for a space).
func unescapeMount(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ownCgroup reads a process's cgroup v2 path ("0::/a/b") from file.
func ownCgroup(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
			return rest, nil
		}
	}
	return "", errors.New(file + ": no cgroup v2 line")
}

func runCgroup(name string, run int) string { return name + "." + strconv.Itoa(run) }

// open makes the cgroup of run of workload name and returns its open
// directory, for CLONE_INTO_CGROUP; the caller closes it. The cgroups of
// the workload's earlier runs go, if empty.
func (t *cgroupTree) open(name string, run int) (int, error) {
	for prev := 1; prev < run; prev++ {
		if _, ok := t.runs[runCgroup(name, prev)]; ok && unix.Rmdir(filepath.Join(t.dir, runCgroup(name, prev))) == nil {
			delete(t.runs, runCgroup(name, prev))
		}
	}
	dir := filepath.Join(t.dir, runCgroup(name, run))
	if err := unix.Mkdir(dir, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return 0, sysErr("mkdir "+dir, err)
	}
	t.runs[runCgroup(name, run)] = struct{}{}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, sysErr("open "+dir, err)
	}
	return fd, nil
}

// procs lists the processes in the cgroup of run of workload name.
func (t *cgroupTree) procs(name string, run int) []int {
	data, err := os.ReadFile(filepath.Join(t.dir, runCgroup(name, run), "cgroup.procs"))
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// kill SIGKILLs everything in the cgroup of run of workload name:
// cgroup.kill (Linux 5.14), else each process listed, a few rounds, for
// what forks meanwhile.
func (t *cgroupTree) kill(name string, run int) {
	if _, ok := t.runs[runCgroup(name, run)]; !ok {
		return
	}
	if err := os.WriteFile(filepath.Join(t.dir, runCgroup(name, run), "cgroup.kill"), []byte("1"), 0); err == nil {
		return
	}
	for range 3 {
		pids := t.procs(name, run)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	}
}

// owner names the workload and run whose cgroup holds pid ("" if none).
func (t *cgroupTree) owner(pid int) (string, int) {
	own, err := ownCgroup("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return "", 0
	}
	rest, ok := strings.CutPrefix(own, t.rel+"/")
	if !ok {
		return "", 0
	}
	leaf, _, _ := strings.Cut(rest, "/")
	i := strings.LastIndexByte(leaf, '.')
	if i < 0 {
		return "", 0
	}
	run, err := strconv.Atoi(leaf[i+1:])
	if err != nil {
		return "", 0
	}
	return leaf[:i], run
}

// remove removes the runs' cgroups and the parent; one still holding a
// process (that survived SIGKILL) stays.
func (t *cgroupTree) remove() {
	for leaf := range t.runs {
		_ = unix.Rmdir(filepath.Join(t.dir, leaf))
	}
	_ = unix.Rmdir(t.dir)
}

// The loop's side.

// cgroupFD opens the cgroup of run of workload name, for
// CLONE_INTO_CGROUP, when there are cgroups; the caller closes it.
func (l *loop) cgroupFD(name string, run int) (int, bool) {
	if l.cgroups == nil {
		return 0, false
	}
	fd, err := l.cgroups.open(name, run)
	if err != nil {
		l.log.Warn("no cgroup for workload; tracking it by process group only", "workload", name, "err", err)
		return 0, false
	}
	return fd, true
}

// signalCgroup sends sig to the processes of p's cgroup that left p's
// process group (the group itself had it already).
func (l *loop) signalCgroup(p *process, sig syscall.Signal) {
	if l.cgroups == nil {
		return
	}
	for _, pid := range l.cgroups.procs(p.w.Name, p.run) {
		if pgid, err := unix.Getpgid(pid); err == nil && pgid == p.pid {
			continue
		}
		_ = unix.Kill(pid, sig)
	}
}

// sweepCgroup SIGKILLs everything left in p's cgroup.
func (l *loop) sweepCgroup(p *process) {
	if l.cgroups != nil {
		l.cgroups.kill(p.w.Name, p.run)
	}
}

// cgroupOwner returns the running process whose cgroup holds pid.
func (l *loop) cgroupOwner(pid int) *process {
	if l.cgroups == nil {
		return nil
	}
	name, run := l.cgroups.owner(pid)
	if wk := l.works[name]; wk != nil && wk.cur != nil && wk.cur.running && wk.cur.run == run {
		return wk.cur
	}
	return nil
}
