// Package hostlink is the channel between miniinit, PID 1 of a minispawn
// container, and minispawn on the host: how the container's readiness,
// status, stop and reload reach the service manager that started
// minispawn, and how minispawn learns that PID 1 still answers.
//
// # Why a channel of its own
//
// minispawn is the service systemd watches (Type=notify, NotifyAccess=main).
// The host's $NOTIFY_SOCKET never enters the container: anything inside
// could then tell systemd READY=1, MAINPID=, FDSTORE=1 or WATCHDOG=trigger.
// Instead minispawn makes a socket pair before the container exists and
// hands one end to miniinit as an inherited descriptor (never a path the
// container could reach). minispawn relays to systemd only what arrives on
// this channel from the container's PID 1, and only the keys it knows.
// Workloads have their own notify socket, provided by miniinit, which
// turns their messages into the container-wide state it reports here.
//
// # Wire format
//
// A SOCK_SEQPACKET socket pair: messages keep their boundaries, arrive in
// order, and a dead peer reads as end of file (a datagram pair would
// not). The receiving end sets SO_PASSCRED, so the kernel attaches the
// sender's pid to every message: a process that got hold of a copy of
// miniinit's descriptor is still told apart from miniinit.
//
// A message is the sd_notify(3) text format: newline-separated KEY=VALUE
// assignments, at most MaxMessage bytes.
//
//	from miniinit                     meaning
//	SIGNALS_CAUGHT=1                  miniinit catches signals now: minispawn
//	                                  may send what it held back (always the
//	                                  first message, before any workload starts)
//	READY=1                           every essential workload is ready (again,
//	                                  after RELOADING=1)
//	STATUS=3/3 workloads ready        one line for `systemctl status`
//	STOPPING=1                        the container began to shut down
//	RELOADING=1                       a reload began (READY=1 ends it)
//	EXTEND_TIMEOUT_USEC=20000000      a slow start or stop still progresses
//	HEARTBEAT=N                       the answer to minispawn's HEARTBEAT=N
//	RELOAD_ASKED=1                    a reload was asked of miniinit (ctl
//	                                  reload): minispawn reads the file again
//
//	from minispawn                    meaning
//	HEARTBEAT=N                       answer with HEARTBEAT=N from the event
//	                                  loop (a hung PID 1 stays silent)
//	RELOAD=1                          reload, with the file's current content
//	                                  as a descriptor (the answer to
//	                                  RELOAD_ASKED=1)
//	RELOAD_REFUSED="why"              the answer to RELOAD_ASKED=1 when the
//	                                  file cannot be read again or is wrong
//	                                  (a Go-quoted string: it may span lines)
package hostlink

import (
	"errors"
	"fmt"
	"strings"
)

// MaxMessage bounds one message, both ways. sd_notify messages are small;
// a bound keeps a misbehaving peer from making the other side allocate.
const MaxMessage = 4096

// The keys of the protocol.
const (
	Ready         = "READY"
	Status        = "STATUS"
	Stopping      = "STOPPING"
	Reloading     = "RELOADING"
	ExtendTimeout = "EXTEND_TIMEOUT_USEC"
	Heartbeat     = "HEARTBEAT"
	Reload        = "RELOAD"
	SignalsCaught = "SIGNALS_CAUGHT"
	ReloadAsked   = "RELOAD_ASKED"
	ReloadRefused = "RELOAD_REFUSED"
)

// Field is one KEY=VALUE assignment.
type Field struct{ Key, Value string }

// Message is one message: its assignments, in order.
type Message []Field

// Get returns the value of the last assignment of key, as sd_notify
// receivers read repeated keys.
func (m Message) Get(key string) (string, bool) {
	for i := len(m) - 1; i >= 0; i-- {
		if m[i].Key == key {
			return m[i].Value, true
		}
	}
	return "", false
}

// String is the wire text: one KEY=VALUE per line, no trailing newline.
func (m Message) String() string {
	var b strings.Builder
	for i, f := range m {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(f.Key)
		b.WriteByte('=')
		b.WriteString(f.Value)
	}
	return b.String()
}

// Encode checks m and returns its wire form. A value may not hold a
// newline (it would start a new assignment) and the whole must fit
// MaxMessage.
func (m Message) Encode() ([]byte, error) {
	if len(m) == 0 {
		return nil, errors.New("hostlink: empty message")
	}
	for _, f := range m {
		if err := checkKey(f.Key); err != nil {
			return nil, err
		}
		if strings.ContainsAny(f.Value, "\n\x00") {
			return nil, fmt.Errorf("hostlink: value of %s holds a newline or NUL", f.Key)
		}
	}
	s := m.String()
	if len(s) > MaxMessage {
		return nil, fmt.Errorf("hostlink: message of %d bytes is over the %d-byte limit", len(s), MaxMessage)
	}
	return []byte(s), nil
}

// Parse reads one message. Empty lines are skipped (a trailing newline is
// usual); any other line must be KEY=VALUE with a key of upper-case
// letters, digits and '_', as sd_notify keys are. A malformed line fails
// the whole message: a relay must not guess what a sender meant.
func Parse(b []byte) (Message, error) {
	if len(b) > MaxMessage {
		return nil, fmt.Errorf("hostlink: message of %d bytes is over the %d-byte limit", len(b), MaxMessage)
	}
	var m Message
	for line := range strings.SplitSeq(string(b), "\n") {
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("hostlink: line %q is not KEY=VALUE", clip(line))
		}
		if err := checkKey(k); err != nil {
			return nil, err
		}
		if strings.IndexByte(v, 0) >= 0 {
			return nil, fmt.Errorf("hostlink: value of %s holds NUL", k)
		}
		m = append(m, Field{k, v})
	}
	if len(m) == 0 {
		return nil, errors.New("hostlink: empty message")
	}
	return m, nil
}

func checkKey(k string) error {
	if k == "" {
		return errors.New("hostlink: empty key")
	}
	for _, c := range []byte(k) {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("hostlink: key %q: only A-Z, 0-9 and _ are allowed", clip(k))
		}
	}
	return nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
