package supervise

import "time"

// probeWatchdog is added to a probe's timeout before the machine stops
// waiting for its result: the caller enforces the timeout, this only
// covers a result that never comes.
const probeWatchdog = time.Second

// startHealth begins health checks on a workload that has become ready
// (or running): the first at once, so that dependents waiting for
// "healthy" wait no longer than they must.
func (m *Machine) startHealth(u *unit, now time.Time) {
	if u.spec.Health.Interval > 0 {
		m.probe(u, now)
	}
}

// probe asks the caller for the probe u needs now: its readiness probe
// while it starts, its health check once it runs.
func (m *Machine) probe(u *unit, now time.Time) {
	var kind ProbeKind
	var timeout time.Duration
	switch {
	case u.state == Starting && u.spec.Ready.Kind == ReadyProbe && u.pid != 0:
		kind, timeout = ProbeReady, orDefault(u.spec.Ready.Timeout, DefaultProbeTimeout)
	case (u.state == Running || u.state == Ready) && u.spec.Health.Interval > 0:
		kind, timeout = ProbeHealth, orDefault(u.spec.Health.Timeout, DefaultProbeTimeout)
	default:
		return
	}
	m.nextProbe++
	u.probeID, u.probeKind = m.nextProbe, kind
	u.probeAt = now.Add(timeout + probeWatchdog)
	m.emit(Decision{Op: OpProbe, Name: u.spec.Name, Run: u.run, Probe: kind, ID: u.probeID, Timeout: timeout})
}

// probeDone takes the result of the probe in flight.
func (m *Machine) probeDone(u *unit, ok bool, detail string, now time.Time) {
	kind := u.probeKind
	u.probeID, u.probeDetail, u.probeAt = 0, detail, time.Time{}
	switch kind {
	case ProbeReady:
		if u.state != Starting {
			return
		}
		if ok {
			m.becomeReady(u, now)
			return
		}
		u.probeAt = now.Add(orDefault(u.spec.Ready.Interval, DefaultProbeInterval))
	case ProbeHealth:
		if u.state != Running && u.state != Ready {
			return
		}
		h := u.spec.Health
		u.probeAt = now.Add(h.Interval)
		if ok {
			if u.healthKnown && !u.healthy && h.Action == ActionReport && u.reason == u.healthWhy {
				u.reason = "" // recovered: the report no longer holds
			}
			u.healthKnown, u.healthy, u.healthFails = true, true, 0
			return
		}
		u.healthFails++
		if u.healthFails < max(h.Retries, 1) {
			return
		}
		wasHealthy := u.healthy || !u.healthKnown
		u.healthKnown, u.healthy = true, false
		if !wasHealthy {
			return // the action was taken when it became unhealthy
		}
		why := "unhealthy: " + plural(u.healthFails, "failed check")
		if detail != "" {
			why += " (" + detail + ")"
		}
		switch h.Action {
		case ActionReport:
			u.reason, u.healthWhy = why, why
		case ActionRestart:
			m.stop(u, thenFailure, why, now)
		case ActionStop:
			m.stop(u, thenFailed, why, now)
		}
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
