package pid1

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/internal/mountinfo"
)

// Tree tracking: which processes belong to a workload.
//
// Every workload's process leads a process group of its own, and its
// children stay in that group unless they leave it (setsid, setpgid: any
// daemon does). So in supervised mode, where miniinit can make cgroups,
// each workload also gets a cgroup of its own, which no process can leave
// without privileges miniinit's workloads should not have:
//
//	<cgroup2 mount>/<miniinit's cgroup>/miniinit.<pid>.<random>/<workload>.<n>
//
// (The pid alone would not do: see instanceID.)
// Processes are born into it (clone3 with CLONE_INTO_CGROUP), so no fork
// can slip out between a start and a move. A run reuses the last run's
// cgroup when that is empty and was never killed through cgroup.kill;
// otherwise it gets a fresh one (<n> is the run that made it): what an
// earlier run left is told apart, and a cgroup that had cgroup.kill
// written is never entered again (Linux 6.x SIGKILLs a child cloned into
// one: kill_seq). Reuse keeps a crash loop's restarts cheap: making and
// removing a cgroup costs more than the fork. A stop signal goes to the
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
	dir  string              // miniinit.<instance>, parent of the workloads' cgroups
	rel  string              // the same, as /proc/PID/cgroup shows it
	lock int                 // dir, open and flock'ed for as long as miniinit runs
	runs map[string]struct{} // every cgroup made and not yet removed, "<workload>.<n>"
	cur  map[string]*leaf    // each workload's current cgroup
	// probes counts the exec probes' cgroups made, for their names.
	probes uint64
}

// leaf is a workload's current cgroup.
type leaf struct {
	name    string // "<workload>.<n>"
	fd      int    // its open directory
	tainted bool   // cgroup.kill was written: never enter it again
}

// cgroupPrefix starts the name of every miniinit's cgroup parent:
// miniinit.<instance> (instanceID: pid and random bits), unique among
// the miniinits that share a cgroup tree, whatever their PID namespaces.
const cgroupPrefix = "miniinit."

// setupCgroups makes miniinit's cgroup parent, miniinit.<id>, and holds
// an exclusive flock on it for as long as miniinit runs: that lock, which
// the kernel drops when miniinit ends however it ends, is what tells
// another miniinit's start-up that this cgroup is not stale. A pid says
// nothing about that across PID namespaces.
func setupCgroups(id string) (*cgroupTree, error) {
	mount, err := cgroup2Mount()
	if err != nil {
		return nil, err
	}
	own, err := ownCgroup("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	removeStale(filepath.Join(mount, own))
	rel := filepath.Join(own, cgroupPrefix+id)
	dir := filepath.Join(mount, rel)
	for range 3 {
		fd, err := makeLocked(dir)
		if errors.Is(err, errRemovedMeanwhile) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &cgroupTree{dir: dir, rel: rel, lock: fd, runs: map[string]struct{}{}, cur: map[string]*leaf{}}, nil
	}
	return nil, fmt.Errorf("%s: removed by another miniinit's start-up, again and again", dir)
}

// errRemovedMeanwhile: a cgroup just made was removed before it was locked.
var errRemovedMeanwhile = errors.New("removed before it was locked")

// makeLocked makes dir, new, and returns it open and flock'ed. Another
// miniinit's start-up may find it between the mkdir and the lock, take it
// for stale and remove it: then it is made again (errRemovedMeanwhile).
func makeLocked(dir string) (int, error) {
	if err := unix.Mkdir(dir, 0o755); err != nil {
		return -1, sysErr("mkdir "+dir, err)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, sysErr("open "+dir, err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		unix.Close(fd)
		return -1, sysErr("flock "+dir, err)
	}
	var held, named unix.Stat_t
	if err := unix.Fstat(fd, &held); err != nil {
		unix.Close(fd)
		return -1, sysErr("fstat "+dir, err)
	}
	if err := unix.Stat(dir, &named); err != nil || named.Ino != held.Ino || named.Dev != held.Dev {
		unix.Close(fd)
		return -1, errRemovedMeanwhile
	}
	return fd, nil
}

// removeStale removes what a miniinit that was killed (SIGKILL leaves no
// chance to clean up) left in parent: the miniinit.<instance> cgroups that
// no miniinit holds the lock of. Only empty cgroups can be removed, so a
// cgroup that still holds a process stays; and one whose lock is held
// belongs to a miniinit that runs, whichever PID namespace it runs in, and
// is not touched, not even its empty workload cgroups between two runs.
func removeStale(parent string) {
	ents, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !e.IsDir() || !isInstanceCgroup(e.Name()) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		if unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) == nil {
			if subs, err := os.ReadDir(dir); err == nil {
				for _, sub := range subs {
					if sub.IsDir() {
						_ = unix.Rmdir(filepath.Join(dir, sub.Name()))
					}
				}
			}
			_ = unix.Rmdir(dir)
		}
		unix.Close(fd)
	}
}

// isInstanceCgroup reports whether name is a miniinit's cgroup parent as
// setupCgroups names it: miniinit.<pid>.<16 hex digits>. Older names
// (miniinit.<pid>) had no lock to tell a live one: they are left alone.
func isInstanceCgroup(name string) bool {
	rest, ok := strings.CutPrefix(name, cgroupPrefix)
	pid, token, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || pid == "" || len(token) != 16 {
		return false
	}
	if _, err := strconv.ParseUint(pid, 10, 32); err != nil {
		return false
	}
	_, err := strconv.ParseUint(token, 16, 64)
	return err == nil
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
				return mountinfo.Unescape(g[4]), nil
			}
		}
	}
	return "", errors.New("no cgroup2 hierarchy mounted")
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

// open returns the open directory of the cgroup run of workload name is
// to be born into, for CLONE_INTO_CGROUP: the last run's when it is empty
// and untainted, else a new one (and the old one goes, if empty).
func (t *cgroupTree) open(name string, run int) (int, error) {
	if c := t.cur[name]; c != nil {
		if !c.tainted && len(t.procs(name)) == 0 {
			return c.fd, nil
		}
		unix.Close(c.fd)
		delete(t.cur, name)
	}
	t.collect()
	leafName := runCgroup(name, run)
	dir := filepath.Join(t.dir, leafName)
	if err := unix.Mkdir(dir, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return 0, sysErr("mkdir "+dir, err)
	}
	t.runs[leafName] = struct{}{}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, sysErr("open "+dir, err)
	}
	t.cur[name] = &leaf{name: leafName, fd: fd}
	return fd, nil
}

// collect removes the cgroups of past runs that have emptied. One that
// was just killed usually is not empty yet (SIGKILL takes effect when its
// processes next run), so each start and each reaped orphan try again:
// a crash loop leaves no trail of empty cgroups behind it.
func (t *cgroupTree) collect() {
	for leafName := range t.runs {
		if c := t.cur[strings.TrimSuffix(leafName, filepath.Ext(leafName))]; c != nil && c.name == leafName {
			continue
		}
		if unix.Rmdir(filepath.Join(t.dir, leafName)) == nil {
			delete(t.runs, leafName)
		}
	}
}

// stale reports whether there are cgroups of past runs to collect.
func (t *cgroupTree) stale() bool { return len(t.runs) > len(t.cur) }

// procs lists the processes in workload name's current cgroup.
func (t *cgroupTree) procs(name string) []int {
	c := t.cur[name]
	if c == nil {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(t.dir, c.name, "cgroup.procs"))
	if err != nil {
		return nil
	}
	return parsePids(data)
}

// parsePids reads cgroup.procs. A process outside miniinit's PID
// namespace (one another miniinit, or the host, put there) is listed as 0:
// it is left out, never to reach kill(2), where 0 means miniinit's own
// process group.
func parsePids(data []byte) []int {
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}

// kill SIGKILLs everything in workload name's current cgroup, if anything
// is there (the cgroup is then tainted).
func (t *cgroupTree) kill(name string) {
	if c := t.cur[name]; c != nil && t.killLeaf(c.name) {
		c.tainted = true
	}
}

// killLeaf SIGKILLs everything in the cgroup leafName, if anything is
// there: cgroup.kill (Linux 5.14), which it reports, else each process
// listed, a few rounds, for what forks meanwhile.
func (t *cgroupTree) killLeaf(leafName string) (written bool) {
	procs := func() []int {
		data, err := os.ReadFile(filepath.Join(t.dir, leafName, "cgroup.procs"))
		if err != nil {
			return nil
		}
		return parsePids(data)
	}
	if len(procs()) == 0 {
		return false
	}
	if err := os.WriteFile(filepath.Join(t.dir, leafName, "cgroup.kill"), []byte("1"), 0); err == nil {
		return true
	}
	for range 3 {
		pids := procs()
		if len(pids) == 0 {
			return false
		}
		for _, pid := range pids {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	}
	return false
}

// newProbe makes the cgroup of an exec probe, ".probe.<n>" (no workload
// name starts with '.'), and returns its name and open directory.
func (t *cgroupTree) newProbe() (string, int, error) {
	t.probes++
	name := ".probe." + strconv.FormatUint(t.probes, 10)
	dir := filepath.Join(t.dir, name)
	if err := unix.Mkdir(dir, 0o755); err != nil {
		return "", -1, sysErr("mkdir "+dir, err)
	}
	t.runs[name] = struct{}{}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", -1, sysErr("open "+dir, err)
	}
	return name, fd, nil
}

// endProbe SIGKILLs what is left in a probe's cgroup, closes it and
// removes it, now if it is empty, else when collect finds it so.
func (t *cgroupTree) endProbe(name string, fd int) {
	t.killLeaf(name)
	unix.Close(fd)
	if unix.Rmdir(filepath.Join(t.dir, name)) == nil {
		delete(t.runs, name)
	}
}

// owner names the workload whose cgroup holds pid (as /proc numbers it),
// or "".
func (t *cgroupTree) owner(pid int) string {
	if pid <= 0 {
		return ""
	}
	own, err := ownCgroup("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return ""
	}
	rest, ok := strings.CutPrefix(own, t.rel+"/")
	if !ok {
		return ""
	}
	leafName, _, _ := strings.Cut(rest, "/")
	for name, c := range t.cur {
		if c.name == leafName {
			return name
		}
	}
	return ""
}

// remove removes the cgroups and the parent; one still holding a process
// (that survived SIGKILL) stays.
func (t *cgroupTree) remove() {
	for _, c := range t.cur {
		unix.Close(c.fd)
	}
	for leafName := range t.runs {
		_ = unix.Rmdir(filepath.Join(t.dir, leafName))
	}
	_ = unix.Rmdir(t.dir)
	unix.Close(t.lock)
}

// The loop's side.

// cgroupFD returns the cgroup run of workload name is to be born into,
// for CLONE_INTO_CGROUP, when there are cgroups. The tree keeps it open.
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
	if l.cgroups == nil || !l.current(p) {
		return
	}
	for _, pid := range l.cgroups.procs(p.w.Name) {
		if pgid, err := unix.Getpgid(pid); err == nil && pgid == p.pid {
			continue
		}
		_ = unix.Kill(pid, sig)
	}
}

// sweepCgroup SIGKILLs everything left in p's cgroup.
func (l *loop) sweepCgroup(p *process) {
	if l.cgroups != nil && l.current(p) {
		l.cgroups.kill(p.w.Name)
	}
}

// current reports whether p is its workload's latest run, whose cgroup is
// the current one.
func (l *loop) current(p *process) bool {
	wk := l.works[p.w.Name]
	return wk != nil && wk.cur == p
}
