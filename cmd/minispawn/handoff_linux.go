package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/hostlink"
)

// The hand-off of signals from minispawn to miniinit.
//
// A PID namespace's init ignores every signal it has no handler for, even
// one sent from the parent namespace, and the kernel drops it: a SIGTERM
// that reached miniinit between its exec and the moment it catches
// signals was lost, and one that came while the Go runtime ran but before
// miniinit asked for signals ended it with exit 2. So minispawn sends the
// container nothing until miniinit says, over the channel
// (SIGNALS_CAUGHT=1, before it starts any workload), that it catches
// signals. Until then:
//
//   - SIGINT or SIGTERM before miniinit was executed ends the setup: the
//     second stage is killed, nothing ran, and minispawn exits 0, as for
//     any stop that ends in order (interrupted).
//   - SIGINT or SIGTERM after the exec is held and sent as soon as
//     miniinit catches signals (milliseconds later; its workloads have
//     not started, and it begins its shutdown at once). A second one
//     does not wait: the container is killed, as a second one SIGKILLs a
//     running container.
//   - SIGABRT (systemd's watchdog) is never held: at any point it ends
//     the setup, the container killed, with exitAbort (abortMessage).
//   - Every other signal is held and sent afterwards, in order.

// interrupted is a setup cut short by a signal to minispawn: nothing ran,
// and minispawn exits 0, as a stop asked of a running container that
// ends in order does (miniinit's --zero-on-stop).
type interrupted struct{ sig unix.Signal }

func (e *interrupted) Error() string {
	if e.sig == unix.SIGABRT {
		return abortMessage
	}
	return fmt.Sprintf("setup interrupted by %s: the container was removed before its workloads started", unix.SignalName(e.sig))
}

func (e *interrupted) code() int {
	if e.sig == unix.SIGABRT {
		return exitAbort
	}
	return 0
}

// startup is what awaitInit watches.
type startup struct {
	// setupDone gets the error pipe's content at its end of file: empty
	// when miniinit was executed, else the second stage's error.
	setupDone chan []byte
	// caught is closed when miniinit catches signals; nil without a
	// channel, when the exec is all there is to wait for.
	caught <-chan struct{}
	// waited gets the container's wait status; awaitInit puts back what
	// it takes, for the caller's loop.
	waited chan syscall.WaitStatus
	sigs   <-chan os.Signal
	// onStop is told of each SIGINT or SIGTERM as it comes (the service
	// manager hears STOPPING=1 at once).
	onStop func(os.Signal)
	// held are the signals to send once miniinit catches them.
	held []os.Signal
}

// poll takes the signals that came so far, before anything was cloned: a
// SIGINT or SIGTERM ends the setup there (a long step, such as building
// a cached root, cannot be cut short, but nothing more is started after
// it); others are held.
func (st *startup) poll() error {
	for {
		select {
		case s := <-st.sigs:
			if s == unix.SIGABRT {
				return &interrupted{unix.SIGABRT}
			}
			if s == unix.SIGINT || s == unix.SIGTERM {
				st.onStop(s)
				return &interrupted{s.(unix.Signal)}
			}
			st.held = append(st.held, s)
		default:
			return nil
		}
	}
}

// awaitInit waits until miniinit catches signals, and returns the signals
// held meanwhile, to be sent now. ended says the container ended first
// (its status is back in waited). The error is a setup failure, or an
// *interrupted: the caller then kills the container.
func (st *startup) awaitInit() (held []os.Signal, ended bool, err error) {
	held = st.held
	execd := false
	stops := 0
	// done takes the error pipe's content; it reports whether the
	// second stage failed.
	done := func(msg []byte) error {
		execd = true
		if len(msg) > 0 {
			st.waited <- <-st.waited // it is dying: wait, and keep the status
			return setupMessage(msg)
		}
		return nil
	}
	for {
		var caught <-chan struct{}
		if execd {
			caught = st.caught
			if caught == nil {
				return held, false, nil
			}
		}
		setupDone := st.setupDone
		if execd {
			setupDone = nil
		}
		select {
		case msg := <-setupDone:
			if err := done(msg); err != nil {
				return nil, true, err
			}
		case <-caught:
			return held, false, nil
		case ws := <-st.waited:
			st.waited <- ws
			if !execd {
				if err := done(<-st.setupDone); err != nil {
					return nil, true, err
				}
			}
			return held, true, nil
		case s := <-st.sigs:
			if s == unix.SIGABRT {
				return nil, false, &interrupted{unix.SIGABRT}
			}
			if s != unix.SIGINT && s != unix.SIGTERM {
				held = append(held, s)
				continue
			}
			st.onStop(s)
			if !execd {
				// The exec may have happened a moment ago, its
				// end of file not yet read.
				select {
				case msg := <-st.setupDone:
					if err := done(msg); err != nil {
						return nil, true, err
					}
				default:
				}
			}
			if !execd || stops > 0 {
				return nil, false, &interrupted{s.(unix.Signal)}
			}
			stops++
			held = append(held, s)
		}
	}
}

// awaitCaught reads the channel until the container's init (host pid
// pid) says it catches signals, and closes the returned channel then. It
// is the channel's only reader until that moment, and stops reading at
// it; if the channel ends first (the container died), the returned
// channel stays open.
func awaitCaught(conn *hostlink.Conn, pid int, log *slog.Logger) <-chan struct{} {
	if conn == nil {
		return nil
	}
	caught := make(chan struct{})
	go func() {
		for {
			m, who, err := conn.Recv()
			if errors.Is(err, hostlink.ErrMalformed) {
				continue
			}
			if err != nil {
				return
			}
			if v, ok := m.Get(hostlink.SignalsCaught); ok && v == "1" && who.Pid == pid {
				close(caught)
				return
			}
			log.Warn("dropped a message from the container sent before its init caught signals", "pid", who.Pid, "message", clipText(m.String(), 80))
		}
	}()
	return caught
}

// setupMessage is the second stage's error, as it wrote it.
func setupMessage(msg []byte) error {
	return errors.New(string(bytes.TrimSpace(msg)))
}
