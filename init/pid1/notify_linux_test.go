package pid1

import (
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/roottest"
)

func TestParseNotify(t *testing.T) {
	got := parseNotify([]byte("READY=1\nSTATUS=warming up: 3/4\n\nnoequals\n=x\nSTATUS=ready\nERRNO=0"))
	want := map[string]string{"READY": "1", "STATUS": "ready", "ERRNO": "0"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// sendNotify sends payload to the abstract socket addr from this process,
// with fds attached, as sd_notify does.
func sendNotify(t *testing.T, addr, payload string, fds ...int) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(fd, []byte(payload), oob, &unix.SockaddrUnix{Name: addr}, 0); err != nil {
		t.Fatal(err)
	}
}

func receive(t *testing.T, n *notifySocket) notifyMsg {
	t.Helper()
	select {
	case m := <-n.out:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no datagram within 5s")
	}
	return notifyMsg{}
}

// TestNotifySocket: datagrams arrive with the kernel's word on the
// sender's pid, from this process and from a child.
func TestNotifySocket(t *testing.T) {
	n, err := listenNotify(notifyName(instanceID(os.Getpid())) + "/test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })

	sendNotify(t, n.addr, "READY=1\nSTATUS=up")
	m := receive(t, n)
	if m.pid != os.Getpid() || m.fields["READY"] != "1" || m.fields["STATUS"] != "up" {
		t.Errorf("got %v", m)
	}

	// From another process: the pid is that process's, whatever it
	// claims in the payload.
	cmd := exec.Command("python3", "-c", `
import socket, os, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"READY=1\nMAINPID=1", "\0" + sys.argv[1])
print(os.getpid())
`, n.addr[1:])
	out, err := cmd.Output()
	roottest.Need(t, err == nil, fmt.Sprintf("python3 (Debian package python3; %v)", err))
	m = receive(t, n)
	if fmt.Sprint(m.pid)+"\n" != string(out) {
		t.Errorf("sender pid %d, the sender says %s", m.pid, out)
	}
}

// TestNotifyBarrier: descriptors sent with a datagram reach the loop,
// whose closing them is what releases a sender waiting on BARRIER=1.
func TestNotifyBarrier(t *testing.T) {
	n, err := listenNotify(notifyName(instanceID(os.Getpid())) + "/barrier")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	sendNotify(t, n.addr, "BARRIER=1", p[1])
	unix.Close(p[1])
	m := receive(t, n)
	if m.fields["BARRIER"] != "1" || len(m.fds) != 1 {
		t.Fatalf("got %v", m)
	}
	// The barrier holds while the loop keeps the descriptor...
	fds := []unix.PollFd{{Fd: int32(p[0]), Events: unix.POLLIN}}
	if k, _ := unix.Poll(fds, 50); k != 0 {
		t.Fatalf("pipe ready before the barrier was released: %v", fds)
	}
	closeAll(m.fds)
	// ...and is released when it closes it.
	if k, _ := unix.Poll(fds, 5000); k != 1 || fds[0].Revents&unix.POLLHUP == 0 {
		t.Fatalf("barrier not released: %v", fds)
	}
}

// TestNotifyOversized: a datagram past the limit is dropped and counted.
func TestNotifyOversized(t *testing.T) {
	n, err := listenNotify(notifyName(instanceID(os.Getpid())) + "/big")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	big := make([]byte, notifyMax+10)
	for i := range big {
		big[i] = 'x'
	}
	sendNotify(t, n.addr, "STATUS="+string(big))
	sendNotify(t, n.addr, "READY=1")
	if m := receive(t, n); m.fields["READY"] != "1" {
		t.Errorf("got %v", m)
	}
	if n.dropped.Load() != 1 {
		t.Errorf("dropped %d, want 1", n.dropped.Load())
	}
}
