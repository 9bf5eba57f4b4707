package pid1

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"golang.org/x/sys/unix"
)

// procFlags are the usual flags for proc: nothing on it is a device, a
// setuid program or something to execute.
const procFlags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC

// ensureProc gives PID 1 a /proc of its own PID namespace. It is called only
// when miniinit is PID 1.
//
//   - /proc/self resolves to "1": /proc is already ours (docker, podman,
//     runc, unshare --mount-proc), nothing to do.
//   - nothing usable at /proc (a fresh root): mount proc there.
//   - /proc/self resolves to another number: this /proc belongs to an
//     ancestor PID namespace. Mounting over it is right only if that hides
//     nothing from processes outside our namespace, so it is skipped, with
//     a warning, when one of them shares our mount namespace (unshare -p
//     without -m) or when the mount under /proc propagates to other
//     namespaces (shared). Otherwise mount proc over it; if that fails,
//     warn and keep the old one.
//
// With no /proc at all, a failed mount is an error: the workloads and the
// drain need one.
func ensureProc(log *slog.Logger) error {
	self, err := os.Readlink("/proc/self")
	foreign := err == nil
	switch {
	case foreign && self == "1":
		log.Debug("/proc already shows this PID namespace")
		return nil
	case foreign:
		if why := foreignProcUnsafe(self); why != "" {
			log.Warn("not mounting /proc: "+why, "proc_self", self)
			return nil
		}
	default:
		if err := os.Mkdir("/proc", 0o555); err != nil && !errors.Is(err, fs.ErrExist) {
			return sysErr("mkdir /proc", err)
		}
	}
	if err := unix.Mount("proc", "/proc", "proc", procFlags, ""); err != nil {
		err = sysErr("mount proc on /proc (MS_NOSUID|MS_NODEV|MS_NOEXEC)", err)
		if foreign {
			// Workloads still have a /proc, only not their own.
			log.Warn("keeping the /proc of the parent PID namespace", "err", err)
			return nil
		}
		return err
	}
	if !procIsOurs() {
		return errors.New("mount proc on /proc: /proc/self still does not resolve to 1")
	}
	log.Debug("mounted proc on /proc")
	return nil
}

// foreignProcUnsafe explains why proc must not be mounted over a /proc that
// shows an ancestor PID namespace, in which miniinit is outsidePid; it
// returns "" when mounting is safe. That /proc is still good for one thing:
// seeing the processes outside our namespace.
//
// At this point miniinit is alone in its PID namespace, so every other
// process listed there is outside it. If one of them, the launcher waiting
// for miniinit (unshare, minispawn) excepted, shares our mount namespace, a
// new /proc would replace its /proc too: that is the "unshare -pf without
// -m" mistake, made on a host. And if the mount under /proc is shared, the
// new mount would propagate to other namespaces.
func foreignProcUnsafe(outsidePid string) string {
	me, err := readStatPath("/proc/" + outsidePid + "/stat")
	if err != nil {
		return fmt.Sprintf("cannot find our parent outside the PID namespace: %v", err)
	}
	ours, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return fmt.Sprintf("cannot read our mount namespace: %v", err)
	}
	if e, found := sharesMountNS(ours, me.Pid, me.PPid); found {
		return fmt.Sprintf("process %v, outside this PID namespace, shares our mount namespace, "+
			"so a new /proc would replace its /proc too; start miniinit in a new mount namespace "+
			"(unshare -m, CLONE_NEWNS) or with /proc already mounted (unshare --mount-proc)", e)
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Sprintf("cannot read mount propagation: %v", err)
	}
	if peer := sharedUnder(mi, "/proc"); peer != "" {
		return "the mount under /proc is shared (" + peer + "), so a new /proc would propagate " +
			"to other mount namespaces; make the mounts private first (mount --make-rprivate /)"
	}
	return ""
}

// sharesMountNS looks, in the foreign /proc, for a process other than self
// and parent whose mount namespace is ns. Processes it may not inspect
// (another user's, without privilege) are passed over: such a caller could
// not mount proc over theirs either.
func sharesMountNS(ns string, self, parent int) (procEntry, bool) {
	all, err := scanProc()
	if err != nil {
		return procEntry{Pid: -1, Comm: "unknown: " + err.Error()}, true
	}
	for _, e := range all {
		if e.Pid == self || e.Pid == parent {
			continue
		}
		if theirs, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", e.Pid)); err == nil && theirs == ns {
			return e, true
		}
	}
	return procEntry{}, false
}

func readStatPath(p string) (procEntry, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return procEntry{}, err
	}
	return parseStat(b)
}
