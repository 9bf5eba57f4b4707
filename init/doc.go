// Package init is not a package: Go reserves the name init for package
// initialisers, so a directory init/ cannot be imported under its own name.
// The directory is instead the home of the small packages miniinit is built
// from, each importable under a name of its own:
//
//   - init/pid1: the PID 1 duties (reaping, signal forwarding, draining,
//     exit codes), usable as PID 1 of a namespace or as a child subreaper.
//   - init/confine: confinement applied on one locked thread right before
//     exec (capabilities, uid/gid/groups, no_new_privs, rlimits, umask,
//     oom_score_adj, a seccomp filter generated in Go), container-wide by
//     minispawn and per workload by miniinit.
//   - init/supervise: the workloads' state machine (start order,
//     readiness, health, restarts with backoff, giving up, shutdown order
//     and budget, the exit code), pure: events in, decisions out, on an
//     injected clock, so that the PID 1 event loop stays the only owner of
//     processes and waits.
//   - init/hostlink: the channel between miniinit and minispawn on the
//     host (readiness, status, stop, reload, heartbeat), the only way the
//     container's state reaches the host's service manager.
//   - init/roottest: the one gate for tests that need root, shared by every
//     package of the module.
//
// This file exists only to carry that explanation; nothing imports it.
package init
