package pid1

import (
	"slices"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSignalTableRoundTrip checks every row: the name parses back to the
// number, the number prints as the name, and for 1-31 the name is the one
// golang.org/x/sys/unix gives, so a typo or a swapped row cannot hide.
func TestSignalTableRoundTrip(t *testing.T) {
	for _, si := range signalTable {
		if got := SignalName(si.sig); got != si.name {
			t.Errorf("SignalName(%d) = %q, want %q", si.sig, got, si.name)
		}
		got, err := ParseSignal(si.name)
		if err != nil || got != si.sig {
			t.Errorf("ParseSignal(%q) = %d, %v; want %d", si.name, got, err, si.sig)
		}
		if si.sig < 32 {
			if want := unix.SignalName(si.sig); want != si.name {
				t.Errorf("row %d is named %q; x/sys/unix says %q", si.sig, si.name, want)
			}
		}
	}
}

// TestSignalTableComplete: one row per signal 1-64 but 32 and 33, in
// number order, none twice.
func TestSignalTableComplete(t *testing.T) {
	var want []syscall.Signal
	for s := syscall.Signal(1); s <= 64; s++ {
		if s != 32 && s != 33 {
			want = append(want, s)
		}
	}
	var got []syscall.Signal
	for _, si := range signalTable {
		got = append(got, si.sig)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("table rows %v, want %v", got, want)
	}
}

func TestClassify(t *testing.T) {
	want := map[syscall.Signal]action{
		unix.SIGCHLD: reap,
		unix.SIGURG:  notCaught,
		unix.SIGPROF: notCaught,
		unix.SIGKILL: notCaught,
		unix.SIGSTOP: notCaught,
		32:           notCaught,
		33:           notCaught,
		34:           notCaught,
		65:           notCaught,
		unix.SIGILL:  drop,
		unix.SIGTRAP: drop,
		unix.SIGABRT: drop,
		unix.SIGBUS:  drop,
		unix.SIGFPE:  drop,
		unix.SIGSEGV: drop,
		unix.SIGSYS:  drop,
	}
	for s := syscall.Signal(1); s <= 65; s++ {
		w, ok := want[s]
		if !ok {
			// Everything else is forwarded, job control and SIGPIPE
			// included, and the real-time signals.
			w = forward
		}
		if got := classify(s); got != w {
			t.Errorf("classify(%s) = %v, want %v", SignalName(s), got, w)
		}
	}
}

// TestIntakeExplicit: the list handed to signal.Notify is every caught row,
// and never SIGURG, SIGKILL or SIGSTOP.
func TestIntakeExplicit(t *testing.T) {
	in := intake()
	for _, s := range []syscall.Signal{unix.SIGURG, unix.SIGPROF, unix.SIGKILL, unix.SIGSTOP, 32, 33, 34} {
		if slices.Contains(in, s) {
			t.Errorf("intake contains %s", SignalName(s))
		}
	}
	for _, s := range []syscall.Signal{unix.SIGCHLD, unix.SIGTERM, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU, unix.SIGSEGV, unix.SIGPIPE, 35, 64} {
		if !slices.Contains(in, s) {
			t.Errorf("intake lacks %s", SignalName(s))
		}
	}
	if want := 64 - 2 - 5; len(in) != want {
		t.Errorf("intake has %d signals, want %d", len(in), want)
	}
}

func TestParseSignalSpellings(t *testing.T) {
	for in, want := range map[string]syscall.Signal{
		"SIGTERM": unix.SIGTERM, "TERM": unix.SIGTERM, "term": unix.SIGTERM, "15": unix.SIGTERM,
		"SIGKILL": unix.SIGKILL, "9": unix.SIGKILL, "usr1": unix.SIGUSR1,
		"SIGRTMIN": 34, "RTMIN+3": 37, "SIGRTMAX": 64, "SIGRTMAX-2": 62, "rtmax-30": 34, "64": 64,
	} {
		got, err := ParseSignal(in)
		if err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "SIG", "TERMINATE", "0", "65", "-1", "RTMAX-31", "RTMIN+31", "SIGRTMAX-x"} {
		if s, err := ParseSignal(bad); err == nil {
			t.Errorf("ParseSignal(%q) = %d, want an error", bad, s)
		}
	}
	if got := SignalName(33); got != "signal 33" {
		t.Errorf("SignalName(33) = %q", got)
	}
}
