package pid1

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// The notify socket: systemd's readiness protocol (sd_notify(3)) for the
// workloads. miniinit opens one datagram socket per container and gives
// its address to every workload that reads readiness from it, in
// NOTIFY_SOCKET. A workload (or a helper it runs, such as systemd-notify)
// sends "READY=1", "STATUS=...", one assignment a line.
//
// Who sent a datagram is the kernel's word, not the sender's: SO_PASSCRED
// makes every datagram carry its sender's pid, and the loop accepts it
// only for the workload that pid belongs to (its process, its cgroup, or
// a descendant of its process: owner in readiness_linux.go); anything else
// is dropped. A sender in another PID namespace arrives as pid 0, and is
// dropped too.
//
// The socket has an abstract address ("@miniinit/notify/<pid>.<random>",
// see notifyName): no file to place on a root that may be read-only,
// nothing to clean up, and it lives in the container's network namespace
// only.
//
// BARRIER=1 (systemd-notify since v254 waits for it) sends a descriptor
// and waits until it is closed: the loop closes every descriptor that
// came with a datagram once it has acted on the datagram, which is what
// the barrier asks.

// notifyMax is the largest datagram taken, as systemd's own limit.
const notifyMax = 4096

// notifyMsg is one datagram, as the reader hands it to the loop.
type notifyMsg struct {
	pid    int               // sender, from SCM_CREDENTIALS; 0 if unknown
	fields map[string]string // its assignments; later ones win
	fds    []int             // descriptors it carried; the loop closes them
}

// notifySocket receives datagrams on a goroutine of its own and queues
// them for the loop, never blocking on a slow loop: when the queue is full
// a datagram is dropped and counted.
type notifySocket struct {
	addr    string // NOTIFY_SOCKET's value
	file    *os.File
	out     chan notifyMsg
	dropped atomic.Uint64
	done    chan struct{}
}

// listenNotify opens the socket at the abstract address name (without
// the leading '@') and starts reading.
func listenNotify(name string) (*notifySocket, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, sysErr("notify socket", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: "@" + name}); err != nil {
		unix.Close(fd)
		return nil, sysErr("bind notify socket @"+name, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
		unix.Close(fd)
		return nil, sysErr("notify socket SO_PASSCRED", err)
	}
	n := &notifySocket{
		addr: "@" + name,
		// A non-blocking descriptor goes to Go's poller, so the reader
		// parks without a thread and Close wakes it.
		file: os.NewFile(uintptr(fd), "@"+name),
		out:  make(chan notifyMsg, 64),
		done: make(chan struct{}),
	}
	go n.read()
	return n, nil
}

// read is the reader goroutine: it ends when the socket is closed.
func (n *notifySocket) read() {
	defer close(n.done)
	defer close(n.out)
	rc, err := n.file.SyscallConn()
	if err != nil {
		return
	}
	buf := make([]byte, notifyMax+1)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred)+unix.CmsgSpace(4*16))
	for {
		var nb, noob, flags int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			nb, noob, flags, _, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_CMSG_CLOEXEC)
			return rerr != unix.EAGAIN
		})
		if err != nil || errors.Is(rerr, os.ErrClosed) {
			return
		}
		if rerr != nil {
			continue // EINTR and the like; an error on a datagram socket ends nothing
		}
		msg := notifyMsg{}
		msg.pid, msg.fds = parseNotifyOOB(oob[:noob])
		if flags&unix.MSG_TRUNC != 0 || nb > notifyMax {
			closeAll(msg.fds)
			n.dropped.Add(1)
			continue
		}
		msg.fields = parseNotify(buf[:nb])
		select {
		case n.out <- msg:
		default:
			closeAll(msg.fds)
			n.dropped.Add(1)
		}
	}
}

// Close stops the reader and closes the socket.
func (n *notifySocket) Close() error {
	err := n.file.Close()
	<-n.done
	for m := range n.out {
		closeAll(m.fds)
	}
	return err
}

// parseNotifyOOB takes the sender's pid and any descriptors from a
// datagram's control messages.
func parseNotifyOOB(oob []byte) (pid int, fds []int) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, nil
	}
	for i := range msgs {
		m := &msgs[i]
		if m.Header.Level != unix.SOL_SOCKET {
			continue
		}
		switch m.Header.Type {
		case unix.SCM_CREDENTIALS:
			if cred, err := unix.ParseUnixCredentials(m); err == nil {
				pid = int(cred.Pid)
			}
		case unix.SCM_RIGHTS:
			if rights, err := unix.ParseUnixRights(m); err == nil {
				fds = append(fds, rights...)
			}
		}
	}
	return pid, fds
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// parseNotify reads a datagram's newline-separated assignments. Lines
// without '=' and empty keys are ignored, as sd_notify's receivers do.
func parseNotify(b []byte) map[string]string {
	fields := map[string]string{}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		k, v, ok := bytes.Cut(line, []byte("="))
		if !ok || len(k) == 0 {
			continue
		}
		fields[string(k)] = string(v)
	}
	return fields
}

// notifyName is the socket's abstract name for the miniinit instance id
// (instanceID): abstract names belong to a network namespace, which
// miniinits share in a pod, with --network host or container:X, and as
// plain subreapers on one host; each PID-1 miniinit sees itself as pid 1,
// so the pid alone would collide.
func notifyName(id string) string { return "miniinit/notify/" + id }

func (m notifyMsg) String() string {
	return fmt.Sprintf("pid %d %v (%d fds)", m.pid, m.fields, len(m.fds))
}
