package config

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Signal is a signal number, written by name ("SIGTERM", "TERM",
// "SIGRTMIN+3") or as a number from 1 to 64. It prints by its full name.
type Signal int

// Real-time signals as the C library numbers them: 32 and 33 are its own,
// so SIGRTMIN is 34 for every program a workload is likely to be.
const (
	sigRTMin  = 34
	sigRTMax  = 64
	maxSignal = 64
)

// UnmarshalText reads a signal name or number.
func (s *Signal) UnmarshalText(text []byte) error {
	n, err := parseSignal(string(text))
	if err != nil {
		return err
	}
	*s = Signal(n)
	return nil
}

// MarshalText writes s by name, so that UnmarshalText reads it back.
func (s Signal) MarshalText() ([]byte, error) {
	if s < 1 || s > maxSignal {
		return nil, fmt.Errorf("signal %d out of range 1 to %d", int(s), maxSignal)
	}
	return []byte(s.String()), nil
}

// String names s: "SIGTERM", "SIGRTMIN+3"; "signal N" outside 1 to 64.
func (s Signal) String() string {
	switch n := int(s); {
	case n == sigRTMin:
		return "SIGRTMIN"
	case n == sigRTMax:
		return "SIGRTMAX"
	case n > sigRTMin && n < sigRTMax:
		return "SIGRTMIN+" + strconv.Itoa(n-sigRTMin)
	case n >= 1 && n < 32:
		if name := unix.SignalName(syscall.Signal(n)); name != "" {
			return name
		}
	}
	return "signal " + strconv.Itoa(int(s))
}

// Syscall returns s as a syscall.Signal.
func (s Signal) Syscall() syscall.Signal { return syscall.Signal(s) }

func (*Signal) tomlWant() string { return `a signal name like "SIGTERM"` }

var errSignal = fmt.Errorf(`write a name like "SIGTERM", "TERM" or "SIGRTMIN+3", or a number from 1 to %d`, maxSignal)

// parseSignal reads "SIGTERM", "TERM", "SIGRTMIN+3", "RTMAX-2" or "15".
// Names are upper case, as kill(1) and the C headers write them.
func parseSignal(text string) (int, error) {
	if n, err := strconv.Atoi(text); err == nil {
		if n < 1 || n > maxSignal {
			return 0, fmt.Errorf("signal %d is out of range (%w)", n, errSignal)
		}
		return n, nil
	}
	name := text
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	for _, rt := range []struct {
		prefix string
		base   int
		sign   int
	}{{"SIGRTMIN", sigRTMin, 1}, {"SIGRTMAX", sigRTMax, -1}} {
		rest, ok := strings.CutPrefix(name, rt.prefix)
		if !ok {
			continue
		}
		if rest == "" {
			return rt.base, nil
		}
		op := "+"
		if rt.sign < 0 {
			op = "-"
		}
		digits, ok := strings.CutPrefix(rest, op)
		off, err := strconv.Atoi(digits)
		if !ok || err != nil || off < 0 || !allDigits(digits) {
			return 0, fmt.Errorf("%q is not a signal (%w)", text, errSignal)
		}
		if n := rt.base + rt.sign*off; n >= sigRTMin && n <= sigRTMax {
			return n, nil
		}
		return 0, fmt.Errorf("%q is past the real-time signals %d to %d", text, sigRTMin, sigRTMax)
	}
	if n := unix.SignalNum(name); n != 0 {
		return int(n), nil
	}
	return 0, fmt.Errorf("%q is not a signal (%w)", text, errSignal)
}
