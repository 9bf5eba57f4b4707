package pid1

import (
	"fmt"
	"strings"
	"time"

	"github.com/minispawn/minispawn/init/supervise"
)

// What miniinit tells minispawn about the container (package hostlink),
// worked out from the machine's statuses. Pure; hostlink_linux.go sends
// it.

// hostView is the container as the service manager should see it.
type hostView struct {
	// ready: every main and essential workload is ready (with neither,
	// every workload): a longrun running or ready, a oneshot completed.
	ready bool
	// readyN of total workloads count as ready.
	readyN, total int
	// stopping: the shutdown has begun.
	stopping bool
	// status is the line for `systemctl status`.
	status string
}

// maxNamesInStatus bounds the names a status line lists.
const maxNamesInStatus = 4

// isUp reports whether a workload in st counts as ready.
func isUp(st supervise.Status) bool {
	return st.State == supervise.Running || st.State == supervise.Ready || st.State == supervise.Completed
}

// hostViewOf describes the container from its workloads' statuses.
//
//	starting   "1/3 workloads ready; waiting for db (starting), web (waiting)"
//	ready      "3/3 workloads ready"
//	degraded   "2/3 workloads ready; worker failed"  (not essential: still ready)
//	stopping   "stopping: waiting for db, web"
//	failing    "stopping: essential workload \"db\" failed: killed by SIGTERM; waiting for web"
//
// failure, when the shutdown is for a failure, says which workload failed
// and why (the report's shutdown detail); "" for a stop that was asked.
func hostViewOf(sts []supervise.Status, shuttingDown bool, failure string) hostView {
	v := hostView{total: len(sts), stopping: shuttingDown}
	if shuttingDown {
		var waiting []string
		for _, st := range sts {
			if st.Pid != 0 {
				waiting = append(waiting, st.Name)
			}
		}
		v.status = "stopping"
		sep := ": "
		if failure != "" {
			v.status += sep + failure
			sep = "; "
		}
		if len(waiting) > 0 {
			v.status += sep + "waiting for " + listNames(waiting)
		}
		return v
	}
	anyKey := false
	for _, st := range sts {
		if st.Main || st.Essential {
			anyKey = true
		}
	}
	v.ready = true
	var notUp []string
	for _, st := range sts {
		up := isUp(st)
		if up {
			v.readyN++
		} else {
			notUp = append(notUp, st.Name+" ("+st.State.String()+")")
		}
		if !up && (st.Main || st.Essential || !anyKey) {
			v.ready = false
		}
	}
	v.status = fmt.Sprintf("%d/%d workloads ready", v.readyN, v.total)
	if len(notUp) > 0 {
		if v.ready {
			v.status += "; not ready: " + listNames(notUp)
		} else {
			v.status += "; waiting for " + listNames(notUp)
		}
	}
	return v
}

func listNames(names []string) string {
	if len(names) > maxNamesInStatus {
		return strings.Join(names[:maxNamesInStatus], ", ") + fmt.Sprintf(" and %d more", len(names)-maxNamesInStatus)
	}
	return strings.Join(names, ", ")
}

// minExtend is the least a start that progresses asks more time for.
const minExtend = 30 * time.Second

// extendFor is how much more time to ask the service manager for when a
// start progresses (one more workload ready, the container not yet): the
// longest start_timeout among the workloads still not up, and at least
// minExtend.
func extendFor(sts []supervise.Status, timeouts map[string]time.Duration) time.Duration {
	d := minExtend
	for _, st := range sts {
		if !isUp(st) {
			d = max(d, timeouts[st.Name])
		}
	}
	return d
}
