package hostlink

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The test binary doubles as a peer process: with this variable set, it
// sends its message on fd 3 and exits.
const peerEnv = "HOSTLINK_TEST_PEER_SEND"

func TestMain(m *testing.M) {
	if msg := os.Getenv(peerEnv); msg != "" {
		c, err := FromFD(3)
		if err == nil {
			err = c.Send(Message{{Status, msg}})
		}
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func pair(t *testing.T) (host, child *Conn, childFile *os.File) {
	t.Helper()
	hf, cf, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hf.Close(); cf.Close() })
	if host, err = NewConn(hf); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { host.Close() })
	if child, err = NewConn(cf); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Close() })
	host.SetReadDeadline(time.Now().Add(10 * time.Second))
	child.SetReadDeadline(time.Now().Add(10 * time.Second))
	return host, child, cf
}

// TestSendRecvBothWays: messages cross in both directions with their
// boundaries, and each carries the sender's pid.
func TestSendRecvBothWays(t *testing.T) {
	host, child, _ := pair(t)
	want := []Message{{{Ready, "1"}, {Status, "1/1 workloads ready"}}, {{Stopping, "1"}}}
	for _, m := range want {
		if err := child.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range want {
		got, who, err := host.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != m.String() {
			t.Errorf("received %q, want %q", got, m)
		}
		if who.Pid != os.Getpid() || who.Uid != uint32(os.Getuid()) {
			t.Errorf("sender %+v, want pid %d uid %d", who, os.Getpid(), os.Getuid())
		}
	}
	if err := host.Send(Message{{Heartbeat, "7"}}); err != nil {
		t.Fatal(err)
	}
	got, _, err := child.Recv()
	if err != nil || got.String() != "HEARTBEAT=7" {
		t.Fatalf("child received %q, %v", got, err)
	}
}

// TestSenderPidIsTheKernels: a second process holding the same end is told
// apart by its pid, which it cannot choose.
func TestSenderPidIsTheKernels(t *testing.T) {
	host, _, childFile := pair(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), peerEnv+"=from another process")
	cmd.ExtraFiles = []*os.File{childFile}
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("peer: %v", err)
	}
	m, who, err := host.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Get(Status); v != "from another process" {
		t.Errorf("received %q", m)
	}
	if who.Pid != cmd.Process.Pid {
		t.Errorf("sender pid %d, want the peer's %d", who.Pid, cmd.Process.Pid)
	}
}

// TestEOFWhenPeerGone: once every copy of the other end is closed, Recv
// reports io.EOF (how minispawn learns that miniinit is gone).
func TestEOFWhenPeerGone(t *testing.T) {
	host, child, childFile := pair(t)
	child.Close()
	childFile.Close()
	if _, _, err := host.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("Recv after the peer closed: %v, want io.EOF", err)
	}
}

// TestSendToGonePeerRaisesNothing: a Send after the other end has gone
// fails, and raises no SIGPIPE: miniinit catches SIGPIPE to forward it to
// its workloads, and would take one raised by its own send (minispawn
// SIGKILLed) for one sent to it. (A SOCK_SEQPACKET send gives EPIPE
// without a signal today; MSG_NOSIGNAL makes that not depend on the
// socket type.)
func TestSendToGonePeerRaisesNothing(t *testing.T) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGPIPE)
	defer signal.Stop(sigs)
	host, child, childFile := pair(t)
	child.Close()
	childFile.Close()
	if err := host.Send(Message{{Status, "x"}}); err == nil {
		t.Fatal("Send to a peer that has gone succeeded")
	}
	select {
	case s := <-sigs:
		t.Fatalf("Send raised %v", s)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestMalformedIsDroppedAndChannelStays: garbage written straight to the
// socket (an empty record too, which must not read as end of file) is
// reported and skipped; the next message still arrives.
func TestMalformedIsDroppedAndChannelStays(t *testing.T) {
	host, _, childFile := pair(t)
	fd := int(childFile.Fd())
	for _, raw := range [][]byte{[]byte("not a message"), make([]byte, MaxMessage+100), {}} {
		if _, err := unix.Write(fd, raw); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, _, err := host.Recv(); !errors.Is(err, ErrMalformed) {
			t.Fatalf("Recv of garbage: %v, want ErrMalformed", err)
		}
	}
	if _, err := unix.Write(fd, []byte("READY=1\n")); err != nil {
		t.Fatal(err)
	}
	m, _, err := host.Recv()
	if err != nil || m.String() != "READY=1" {
		t.Fatalf("after garbage: %q, %v", m, err)
	}
}

func TestFromFDBadDescriptor(t *testing.T) {
	if _, err := FromFD(987654); err == nil || !errors.Is(err, unix.EBADF) {
		t.Fatalf("FromFD of a closed fd: %v, want EBADF", err)
	}
}

// TestFilePassing: a file crosses with its message, arrives close-on-exec
// and reads what was written; Recv closes files nobody asked for.
func TestFilePassing(t *testing.T) {
	host, child, _ := pair(t)
	f, err := os.CreateTemp(t.TempDir(), "config")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("name = \"x\"\n"); err != nil {
		t.Fatal(err)
	}
	if err := host.Send(Message{{Reload, "1"}}, f); err != nil {
		t.Fatal(err)
	}
	m, _, files, err := child.RecvFiles()
	if err != nil || m.String() != "RELOAD=1" || len(files) != 1 {
		t.Fatalf("got %q, %d files, %v", m, len(files), err)
	}
	defer files[0].Close()
	flags, err := unix.FcntlInt(files[0].Fd(), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("received descriptor flags %#x, %v: want close-on-exec", flags, err)
	}
	b := make([]byte, 64)
	n, _ := files[0].ReadAt(b, 0)
	if string(b[:n]) != "name = \"x\"\n" {
		t.Errorf("received file reads %q", b[:n])
	}
	if err := host.Send(Message{{Reload, "1"}}, f, f, f, f, f); err == nil {
		t.Error("five files in one message were sent")
	}
}

// TestCloseAndDeadlineWakeRecv: a Recv waiting on an idle channel returns
// at its deadline (os.ErrDeadlineExceeded) and when its own end is closed
// meanwhile (os.ErrClosed, which minispawn's reader takes as the end);
// a Send after Close says os.ErrClosed too.
func TestCloseAndDeadlineWakeRecv(t *testing.T) {
	host, _, _ := pair(t)
	host.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, _, err := host.Recv(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Recv past its deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	host.SetReadDeadline(time.Now().Add(10 * time.Second))
	done := make(chan error, 1)
	go func() { _, _, err := host.Recv(); done <- err }()
	time.Sleep(50 * time.Millisecond) // let Recv park in the poller
	host.Close()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Fatalf("Recv after Close: %v, want os.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake a waiting Recv")
	}
	if err := host.Send(Message{{Status, "x"}}); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Send after Close: %v, want os.ErrClosed", err)
	}
}

// TestNewConnRefusesNonSocket: a descriptor that is not a unix socket
// (a pipe) is refused by name before anything is read from it.
func TestNewConnRefusesNonSocket(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	c, err := NewConn(r)
	if err == nil {
		c.Close()
		t.Fatal("NewConn accepted a pipe")
	}
	if !strings.Contains(err.Error(), "not a unix socket") || !strings.Contains(err.Error(), "ENOTSOCK") {
		t.Errorf("error does not say what is wrong: %v", err)
	}
}
