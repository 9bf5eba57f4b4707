package main

import (
	"errors"
	"log/slog"
	"os"

	"github.com/minispawn/minispawn/cgroup"
)

// removeLeftovers removes the empty cgroups of containers that no longer
// run, whatever their names: those of minispawns that were SIGKILLed
// before they could clean up, which nothing else would remove (an ad-hoc
// name never comes back).
//
// They are found by their name locks (namelock_linux.go): a minispawn
// that ends normally removes its cgroup, then its lock file; one that is
// killed leaves the file, unlocked. So a lock file that can be locked
// names a container that no longer runs, and only its cgroups are
// candidates: a cgroup without a lock file (one made by other means, a
// test's) is never touched, nor one whose lock is held (its container runs
// or is being set up: a new cgroup is empty until its first process
// joins), nor one that holds a process. The lock is held while the cgroup
// goes, so no start of that name meets a half-removed one. own is the
// caller's container, whose lock it holds.
func removeLeftovers(layout *cgroup.Layout, own string, log *slog.Logger) {
	entries, err := os.ReadDir(nameLockDir)
	if err != nil {
		log.Debug("list name locks", "err", err)
		return
	}
	for _, e := range entries {
		name := e.Name()
		if name == own || !e.Type().IsRegular() || cgroup.ValidName(name) != nil {
			continue
		}
		lock, err := lockName(name)
		if err != nil {
			continue // it runs, or is starting
		}
		removed, err := cgroup.RemoveLeftover(layout, name)
		// Unless it is all gone, the file stays for a later start to
		// look again.
		lock.keep = err != nil
		lock.release()
		switch {
		case errors.Is(err, cgroup.ErrRunning):
			// Processes without a minispawn: the container is still
			// dying.
			log.Debug("leftover cgroup still holds processes", "container", name, "err", err)
		case err != nil:
			log.Warn("remove the empty cgroup of a container that no longer runs", "container", name, "err", err)
		case len(removed) > 0:
			log.Info("removed the empty cgroup of a container that no longer runs", "container", name)
		}
	}
}
