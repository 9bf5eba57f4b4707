package pid1

import (
	"fmt"
	"strings"
)

// What workloads inherit of miniinit's signal state.
//
// A program started by a shell or a supervisor inherits two things about
// signals: the mask of blocked ones (kept across fork and exec) and the set
// of ignored ones (SIG_IGN survives exec; caught signals go back to their
// default). `nohup cmd` relies on the second, and so does every parent that
// starts a child with some signals blocked on purpose. tini hands both to
// its child unchanged, and so does miniinit: a workload starts with the
// mask and the ignored set miniinit itself was started with. miniinit still
// catches every signal it needs (os/signal unblocks and catches them in
// miniinit alone), so nothing of its own work changes.
//
// The Go runtime changes both before any of miniinit's code runs: it
// installs its own handler for most signals (a SIG_IGN it found is lost,
// but for SIGHUP and SIGINT) and unblocks the signals it needs on every
// thread. So the state is read before the runtime starts, by an entry
// point of miniinit's own (entry_linux_*.s, chosen with the linker flag
// -E=miniinit_rt0 that the Makefile passes). A binary built without it
// still works, and hands on what the runtime left visible: the ignored
// SIGHUP, SIGINT, SIGTSTP, SIGTTIN, SIGTTOU and SIGCONT, and the blocked
// signals the runtime does not need.
//
// Under minispawn (a channel to it is open) workloads start with nothing
// blocked and nothing ignored, as in any container engine: what the
// second stage's own runtime left on its thread is no one's intent.

// EntryLDFlag is the linker flag that makes miniinit read the signal state
// it was started with before the Go runtime changes it. Every build of
// miniinit should pass it (go build -ldflags=-E=miniinit_rt0).
const EntryLDFlag = "-E=miniinit_rt0"

// sigState is a signal mask and an ignored set, bit n-1 for signal n, as
// the kernel shows them in /proc/PID/status (SigBlk, SigIgn).
type sigState struct {
	blocked, ignored uint64
}

func (s sigState) zero() bool { return s == sigState{} }

// signalsEnv carries a sigState to the shims (listen_linux.go,
// confine_linux.go), which apply it just before they execute the
// workload, and drop the variable.
const signalsEnv = "MINIINIT_SIGNALS"

func (s sigState) String() string {
	return fmt.Sprintf("blocked=%016x ignored=%016x", s.blocked, s.ignored)
}

// parseSigState reads what String wrote.
func parseSigState(v string) (sigState, error) {
	var s sigState
	if _, err := fmt.Sscanf(v, "blocked=%x ignored=%x", &s.blocked, &s.ignored); err != nil {
		return sigState{}, fmt.Errorf("%s=%q: %w", signalsEnv, v, err)
	}
	return s, nil
}

// takeSigState removes signalsEnv from env and returns its state; ok is
// false when env has none.
func takeSigState(env []string) (rest []string, s sigState, ok bool, err error) {
	for _, kv := range env {
		if v, found := strings.CutPrefix(kv, signalsEnv+"="); found {
			s, err = parseSigState(v)
			ok = true
			continue
		}
		rest = append(rest, kv)
	}
	return rest, s, ok, err
}
