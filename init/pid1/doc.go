// Package pid1 is miniinit: a small init for containers, usable as PID 1 of
// a PID namespace (minispawn, runc, docker run --init, podman run --init) and
// as a plain process, where it acts as a child subreaper. Linux only.
//
// Vocabulary: a workload is a command miniinit is told to run; a process is
// a running instance. Exactly one workload is the main one, except that a
// configuration file may name none (see "Supervision").
//
// # Duties
//
// Run performs, in this order (run.go has the reasons for the order):
//
//   - name itself "miniinit" (prctl PR_SET_NAME);
//   - make itself non-dumpable (prctl PR_SET_DUMPABLE 0), so that no
//     workload without CAP_SYS_PTRACE takes its descriptors, compares
//     them, reads its memory or environment, or traces it;
//   - catch every signal it may be sent, through one os/signal channel;
//   - set the parent-death signal, when asked (-p);
//   - become a child subreaper when it is not PID 1, warning once unless
//     asked to (-s, TINI_SUBREAPER) or made one already by its parent;
//   - start workloads where it was started, and move itself to "/";
//   - as PID 1, mount proc on /proc unless /proc already shows its
//     namespace (and never over a /proc that processes outside the
//     namespace use: proc_linux.go);
//   - close inherited descriptors above 2, keeping LISTEN_FDS ones for the
//     main workload, whose LISTEN_PID it rewrites (listen_linux.go);
//   - start the workloads, each in its own process group, the main one in
//     the terminal's foreground when miniinit holds it, each with the
//     signal mask and ignored signals miniinit was started with (none
//     under minispawn; inherit.go);
//   - forward signals, reap every child, and when the main workload ends,
//     drain the rest (drain.go) and exit with the main workload's code.
//
// # One reaper
//
// Exactly one piece of code waits for children: reapAll, a wait4(-1,
// WNOHANG) loop, called only by the event loop. The same goroutine starts
// every workload (syscall.ForkExec; nothing ever calls os/exec's Wait or
// os.Process.Wait). So there is no race between a start and a reap: a child
// that exits before miniinit has registered its pid stays a zombie, holding
// its status, until the loop registers it and reaps again. Statuses of pids
// miniinit did not start (orphans) are logged at debug level (warning with
// -w) and dropped.
//
// The same rule makes signalling safe: a workload's pid cannot be reused
// while miniinit has not reaped it, and only the loop reaps, so the loop can
// signal its workloads by pid without a lock (compare dinit's reaper lock).
// Processes miniinit did not start are signalled only in the drain, through
// pidfds, after checking their start time.
//
// # Signals
//
// The policy is one table (signals_linux.go), registered as an explicit
// list, never signal.Notify's catch-all form:
//
//	SIGCHLD                         reap (a doorbell; never forwarded)
//	SIGILL SIGTRAP SIGABRT SIGBUS   dropped: caught so that "kill -SEGV 1"
//	SIGFPE SIGSEGV SIGSYS           cannot crash PID 1; a real fault still does
//	SIGURG                          not caught: the Go runtime's own (preemption)
//	SIGPROF                         not caught: the Go runtime's (profiler);
//	                                os/signal cannot deliver it
//	SIGKILL SIGSTOP                 cannot be caught
//	32, 33, SIGRTMIN (34)           not caught: the C library's, and the Go
//	                                runtime leaves them at their default action
//	everything else: the rest of    forwarded to each running workload, or to
//	1-31, SIGRTMIN+1..SIGRTMAX      its process group with -g
//
// SIGTSTP, SIGTTIN and SIGTTOU are caught, so they never stop miniinit, and
// forwarded. Signals the kernel raises at miniinit because of its own writes
// (SIGPIPE, SIGTTOU, SIGTTIN, SIGXFSZ) are never forwarded: writes to
// stdout and stderr run on threads that block them (log_linux.go), and
// writes to sockets (control answers, probes) use MSG_NOSIGNAL
// (send_linux.go), so a client that vanishes mid-request costs nothing.
// A SIGPIPE sent to miniinit with kill(2) is still forwarded, as tini
// forwards it.
//
// # Exit codes
//
// The main workload's code by the shell's rules: N for exit(N), 128+n for
// death by signal n, 127 for a command not found, 126 for one that could
// not be run; -e remaps listed codes to 0. miniinit's own failures before
// any workload ran exit 125 (exitcode.go).
//
// # The drain
//
// tini, dumb-init and catatonit exit the moment the main workload does; the
// kernel then SIGKILLs the rest. miniinit sends SIGTERM to every remaining
// process (orphans included), returns as soon as none is left, and sends
// SIGKILL at a grace deadline (default 5 s). See drain.go.
//
// # Supervision
//
// With a configuration file (Options.Supervised) the workloads are
// supervised: package init/supervise's state machine decides every start,
// restart, stop and the exit code, and the event loop, still the only
// owner of processes and waits, carries its decisions out (supervision.go)
// and feeds it what happened: spawns, exits, readiness, probe results,
// timers, signals and control requests. Differences from the tini mode:
//
//   - SIGTERM and SIGINT begin the ordered shutdown: workloads stop in
//     reverse dependency order, each with its stop signal and, after its
//     stop timeout, SIGKILL, all within the stop budget; then the drain
//     (its grace cut to what the budget leaves). A second SIGTERM or
//     SIGINT skips to SIGKILL. Other signals go to the workloads the
//     routing table names, or to all.
//   - Signals go to a workload's process group, and, where cgroup v2 is
//     writable, to its cgroup: each run of a workload is born into a cgroup
//     of its own (tree_linux.go), which setsid and double forks cannot
//     leave. When a workload's process ends by itself, what it left in
//     its group and cgroup is SIGKILLed.
//   - Readiness comes from the notify socket (notify_linux.go: one
//     datagram socket, SO_PASSCRED, a datagram counts only for the
//     workload whose process, group or cgroup sent it), a line on a
//     descriptor (readiness_linux.go) or probes (probe.go); health checks
//     are probes too.
//   - Output goes through pipes and a copier per pipe (output_linux.go):
//     every byte by default, with back-pressure on the workload (never on
//     the loop), line prefixes, an in-memory tail; dropping, counted, only
//     where a workload chose it (log_overflow = "drop"). At exit the
//     loop waits for the last output while answering control and
//     signals, bounded by the stop budget once SIGTERM has come
//     (run.go, flushOutput).
//   - With no main workload the run ends at SIGTERM or SIGINT, at an
//     essential workload's failure, or once every workload has ended for
//     good; the exit code is 0 unless one failed (package supervise).
//   - The control socket (control.go) answers `miniinit ctl`, `miniinit
//     health` and, from the host, `minispawn ctl`; its directory is made
//     when the root lacks it.
//   - A workload with a user, groups, umask, rlimits, no_new_privs or
//     capabilities starts through the exec stage (confine_linux.go), and
//     so do its exec probes.
//   - The report has every workload's state, restarts and reason.
package pid1
