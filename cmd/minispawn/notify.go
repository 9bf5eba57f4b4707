package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/minispawn/minispawn/init/hostlink"
)

// The relay: what of miniinit's messages (package hostlink) reaches the
// service manager. Pure: notify_linux.go does the sockets and timers.
//
// Only the container's PID 1 is heard, only on the channel minispawn made,
// and only these keys pass, each checked:
//
//	READY=1                 passed
//	STATUS=text             passed, cut to maxStatus bytes of printable text,
//	                        with "; restart to apply: limits, name" after a
//	                        reload that left changes for the next start
//	STOPPING=1              passed
//	RELOADING=1             passed with MONOTONIC_USEC= (Type=notify-reload
//	                        wants it)
//	EXTEND_TIMEOUT_USEC=N   passed, at most maxExtendTimeout
//	HEARTBEAT=N             kept: it feeds the watchdog, never systemd
//	RELOAD_ASKED=1          kept: minispawn answers with the file
//
// Everything else is dropped and logged: MAINPID= (systemd would then
// watch a process of the container instead of minispawn), FDSTORE=,
// WATCHDOG= (only minispawn pings, and only while PID 1 answers),
// NOTIFYACCESS=, BARRIER=, ERRNO=, and any key not known here.

// maxStatus bounds a relayed STATUS= line: `systemctl status` shows one
// line, and the container must not fill the manager's memory.
const maxStatus = 256

// maxExtendTimeout bounds EXTEND_TIMEOUT_USEC: a container may ask for
// more time to start or stop, but not to be waited for without end.
const maxExtendTimeout = time.Hour

// relay is the filter's state: the container PID 1's host pid, and what
// was last passed on (for minispawn's own status lines and tests).
type relay struct {
	initPid int
	ready   bool
	status  string // miniinit's last, as it sent it (cleaned)
	// pending are the keys of the file a reload did not apply
	// (config.RestartOnly).
	pending []string
}

// relayed is what one message from the channel leads to.
type relayed struct {
	// notify goes to the service manager; empty: nothing.
	notify hostlink.Message
	// beat is a heartbeat answer, when hasBeat.
	beat    uint64
	hasBeat bool
	// reloadAsked: miniinit asks for the file again.
	reloadAsked bool
	// dropped says, per dropped assignment (or for the whole message),
	// why; for the log.
	dropped []string
}

// fromInit filters one message that came from pid on the channel;
// monotonic is CLOCK_MONOTONIC now, for RELOADING=1.
func (r *relay) fromInit(m hostlink.Message, pid int, monotonic time.Duration) relayed {
	var out relayed
	if pid != r.initPid {
		out.dropped = []string{fmt.Sprintf("sender pid %d is not the container's init (pid %d): message %q dropped",
			pid, r.initPid, clipText(m.String(), 80))}
		return out
	}
	drop := func(f hostlink.Field, why string) {
		out.dropped = append(out.dropped, fmt.Sprintf("%s=%s: %s", f.Key, clipText(f.Value, 40), why))
	}
	pass := func(k, v string) { out.notify = append(out.notify, hostlink.Field{Key: k, Value: v}) }
	for _, f := range m {
		switch f.Key {
		case hostlink.Ready, hostlink.Stopping, hostlink.Reloading:
			if f.Value != "1" {
				drop(f, "only 1 is meaningful")
				continue
			}
			pass(f.Key, "1")
			switch f.Key {
			case hostlink.Ready:
				r.ready = true
			case hostlink.Reloading:
				r.ready = false
				pass("MONOTONIC_USEC", strconv.FormatInt(monotonic.Microseconds(), 10))
			}
		case hostlink.Status:
			s := cleanStatus(f.Value)
			r.status = s
			if len(r.pending) > 0 {
				s = cleanStatus(s + "; restart to apply: " + strings.Join(r.pending, ", "))
			}
			pass(hostlink.Status, s)
		case hostlink.ExtendTimeout:
			us, err := strconv.ParseUint(f.Value, 10, 64)
			if err != nil {
				drop(f, "not a number of microseconds")
				continue
			}
			if limit := uint64(maxExtendTimeout.Microseconds()); us > limit {
				us = limit
			}
			pass(hostlink.ExtendTimeout, strconv.FormatUint(us, 10))
		case hostlink.ReloadAsked:
			if f.Value != "1" {
				drop(f, "only 1 is meaningful")
				continue
			}
			out.reloadAsked = true
		case hostlink.Heartbeat:
			n, err := strconv.ParseUint(f.Value, 10, 64)
			if err != nil {
				drop(f, "not a heartbeat number")
				continue
			}
			out.beat, out.hasBeat = n, true
		default:
			drop(f, "not relayed to the service manager")
		}
	}
	return out
}

// cleanStatus makes s one line of printable text of at most maxStatus
// bytes: control characters become spaces, and a cut never splits a
// UTF-8 sequence.
func cleanStatus(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\ufffd"))
	if len(s) <= maxStatus {
		return s
	}
	cut := maxStatus
	for cut > 0 && s[cut]&0xc0 == 0x80 {
		cut--
	}
	return s[:cut]
}

// failureIn returns the failure a status line of miniinit's names, or
// "". During a shutdown for a failure miniinit says (pid1.hostViewOf)
//
//	stopping: essential workload "db" failed: killed by SIGTERM; waiting for web
//
// and, for a stop that was asked, only "stopping: waiting for web".
func failureIn(status string) string {
	rest, ok := strings.CutPrefix(status, "stopping: ")
	if !ok || strings.HasPrefix(rest, "waiting for ") {
		return ""
	}
	if i := strings.LastIndex(rest, "; waiting for "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// heartbeat is the watchdog's bookkeeping. With WatchdogSec=W systemd
// restarts the unit when no WATCHDOG=1 came for W. minispawn asks
// miniinit for a heartbeat every W/4 and pings systemd only while the
// last answer is younger than W/2: a PID 1 whose event loop hangs stops
// answering, the pings stop, and systemd acts at most 1.5 W after the
// last answer.
//
// Before the channel is live (setup, and a miniinit that does not speak
// it) there is nothing to ask: minispawn, which does the work then, pings
// for itself.
type heartbeat struct {
	interval time.Duration // systemd's WatchdogSec
	live     bool          // the channel carries heartbeats
	sent     uint64        // the last request's number
	answered uint64        // the last answered number
	at       time.Time     // when that answer came
}

// period is how often to tick: ask, and maybe ping.
func (h *heartbeat) period() time.Duration { return max(h.interval/4, time.Millisecond) }

// goLive starts counting on answers, from now: PID 1 has until W/2 to
// give the first one.
func (h *heartbeat) goLive(now time.Time) {
	h.live, h.at = true, now
}

// tick returns whether to ping the service manager now, and the number
// of the heartbeat request to send (0: none).
func (h *heartbeat) tick(now time.Time) (ping bool, request uint64) {
	if !h.live {
		return true, 0
	}
	h.sent++
	return h.fresh(now), h.sent
}

// answer records a heartbeat answer. Only a number that was asked for and
// is newer than the last answer counts, so a replayed or invented answer
// cannot keep a hung PID 1 alive.
func (h *heartbeat) answer(n uint64, now time.Time) bool {
	if n == 0 || n > h.sent || n <= h.answered {
		return false
	}
	h.answered, h.at = n, now
	return true
}

// fresh reports whether the last answer is younger than half the
// interval.
func (h *heartbeat) fresh(now time.Time) bool {
	return now.Sub(h.at) < h.interval/2
}
