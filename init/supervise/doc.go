// Package supervise decides the life of miniinit's workloads: when each
// starts, restarts, counts as ready or healthy, stops, fails for good, and
// when the container shuts down and with what exit code. It is pure: no
// process, signal, descriptor or timer of its own. The PID 1 event loop
// owns all of those (and is the only caller of wait4); it feeds the
// Machine events and carries out the decisions it returns:
//
//	events in                          decisions out
//	  Boot                               start(name, run)
//	  Spawned / SpawnFailed (run)        signal(name, run, sig)
//	  Exited (run, code or signal)       kill(name, run, why)      SIGKILL the tree
//	  ReadyNotified / StatusNotified     timer(name, at)           one per workload
//	  ProbeDone (id, ok)                 probe(name, kind, id, timeout)
//	  TimerFired (name)                  shutdown(reason, code)
//	  ShutdownRequested (signal)         drain(code, until)        all workloads ended
//	  SignalReceived (signal)
//	  Start/Stop/RestartRequested (name)
//
// Time comes from an injected Clock, jitter from an injected source, so
// tests drive the machine with a fake clock and no processes at all.
//
// Vocabulary: a workload is what the configuration names; a process is
// one run of it. Runs are numbered from 1; an event naming a run other than
// the current one is stale and ignored, so a late exit, probe result or
// readiness message can never touch a newer process.
//
// # States
//
//	           Boot / start request
//	                  │
//	                  ▼          dependencies met
//	               waiting ─────────────────────────▶ starting ◀──────────┐
//	                  │ ▲                              │   │    spawn,    │
//	requirement       │ │ backoff over,                │   │    no check  │
//	failed ──▶ failed │ │ or zero backoff              │   ▼              │
//	                  │ └──────── backoff ◀── failure ─┤ running          │
//	                  │                                │   (health)       │
//	                  │            ready (notify, fd,  ▼                  │
//	                  │            probe) ──────────▶ ready (health)      │
//	                  │                                                   │
//	 stop / shutdown: anything with a process ──▶ stopping ──▶ stopped    │
//	                                                  └── restart ────────┘
//	 an end with success (no restart): completed
//	 restarts not allowed, or given up: failed
//
// A oneshot stays starting while it runs and ends completed (success) or
// by its restart policy. A workload with no readiness check goes from
// starting to running as soon as its spawn is reported; one with a check
// waits in starting for it, bounded by its start timeout.
//
// # Restarts
//
// After an end that was not asked for, the restart policy decides: never,
// on-failure (an exit code not counted as success, a signal, a failed
// spawn, a start timeout, an unhealthy restart) or always. Each restart
// waits Backoff.Delay(n): Initial × Multiplier^n, capped, jittered, with n
// back to 0 once a process has run for ResetAfter. A zero Initial restarts
// at once, in the same Handle that took the exit: there is no fixed sleep
// anywhere. GiveUp fails the workload on the Nth failure within a window.
//
// # Order
//
// A workload starts once each workload it lists (After, Requires) meets
// its condition: started, ready, healthy or completed. A dependency that
// can no longer meet it (failed, or stopped on request) is ignored by
// After and fails the dependent under Requires; a running workload whose
// requirement fails is stopped and failed. Stops go the other way: a
// workload is sent its stop signal only once every workload that depends
// on it and is also going down has ended.
//
// # Shutdown
//
// The shutdown begins on ShutdownRequested, when the main workload ends
// for good, when an essential workload fails for good, or, with no main
// workload, when every workload has ended for good: completed, failed or
// stopped, with no restart pending. Every workload
// is then stopped in reverse dependency order, each with its stop signal,
// and SIGKILLed after its stop timeout, but never later than the end of
// the stop budget, which is counted from the first stop: at that point the
// machine kills everything left and decides the drain at once. A second
// shutdown request does the same immediately. The drain decision carries
// the exit code (see exitCode in shutdown.go): the main workload's, the
// failed essential workload's, or, with no main workload, 0 when nothing
// failed and otherwise the first failed workload's (as an essential
// one's).
//
// # Readiness and health
//
// Notify and fd readiness arrive as ReadyNotified; probes (exec, TCP,
// HTTP: the caller's business) are asked for with OpProbe every interval
// until one passes. Health checks run from the moment a workload is ready
// (or running), every interval; Retries failures in a row make it
// unhealthy, and the action then reports it, restarts it (a failure) or
// stops it (failed). A probe whose result never comes counts as failed.
package supervise
