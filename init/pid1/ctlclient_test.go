package pid1

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/supervise"
)

// TestControlCommandRoundTrip: every command's words parse into a request
// whose Words give them back, and ControlCommands lists every command.
func TestControlCommandRoundTrip(t *testing.T) {
	for _, words := range [][]string{
		{"status"}, {"health"}, {"reload"},
		{"start", "web"}, {"stop", "web"}, {"restart", "web"},
		{"signal", "web", "SIGHUP"}, {"logs", "web"}, {"logs", "web", "20"},
	} {
		req, err := ParseControlCommand(words)
		if err != nil {
			t.Errorf("%q: %v", words, err)
			continue
		}
		if got := req.Words(); strings.Join(got, " ") != strings.Join(words, " ") {
			t.Errorf("%q parsed to %+v, which renders as %q", words, req, got)
		}
	}
	for op := range controlArity {
		if !strings.Contains(ControlCommands, "\n  "+op+" ") {
			t.Errorf("ControlCommands does not list %s", op)
		}
	}
}

func TestControlCommandErrors(t *testing.T) {
	for _, words := range [][]string{
		nil, {"frob"}, {"stop"}, {"stop", "a", "b"}, {"signal", "web"},
		{"logs", "web", "many"}, {"logs", "web", "0"}, {"status", "extra"},
	} {
		if req, err := ParseControlCommand(words); err == nil {
			t.Errorf("%q accepted as %+v", words, req)
		}
	}
}

func TestPrintControlResponse(t *testing.T) {
	var b bytes.Buffer
	PrintControlResponse(&b, ControlRequest{Op: "status"}, ControlResponse{OK: true, Workloads: []supervise.Status{
		{Name: "web", State: supervise.Ready, Pid: 42, Restarts: 1, Health: "healthy", Since: time.Now()},
		{Name: "job", State: supervise.Completed, Reason: "exited with code 0", Since: time.Now()},
	}})
	got := b.String()
	for _, want := range []string{"NAME  STATE", "web   ready      42   1", "job   completed  -", "exited with code 0"} {
		if !strings.Contains(got, want) {
			t.Errorf("status table lacks %q:\n%s", want, got)
		}
	}
	b.Reset()
	PrintControlResponse(&b, ControlRequest{Op: "health"}, ControlResponse{Problems: []string{"web: starting"}})
	if b.String() != "web: starting\n" {
		t.Errorf("health: %q", b.String())
	}
}

// TestPeerAllowed: root, miniinit's own uid, and a peer outside its PID
// namespace (pid 0: the host's minispawn ctl, whose uid a user namespace
// may not map) are answered; another user inside is not.
func TestPeerAllowed(t *testing.T) {
	for _, tc := range []struct {
		cred unix.Ucred
		want bool
	}{
		{unix.Ucred{Pid: 42, Uid: 0}, true},
		{unix.Ucred{Pid: 42, Uid: 1000}, true}, // miniinit's own
		{unix.Ucred{Pid: 0, Uid: 65534}, true}, // outside, unmapped
		{unix.Ucred{Pid: 42, Uid: 65534}, false},
		{unix.Ucred{Pid: 43, Uid: 33}, false},
	} {
		if got := peerAllowed(&tc.cred, 1000); got != tc.want {
			t.Errorf("peerAllowed(%+v) = %v", tc.cred, got)
		}
	}
}
