package hostlink

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Pair makes the channel: a SOCK_SEQPACKET socket pair, both ends
// close-on-exec. host stays with minispawn; child is handed to miniinit
// (os/exec's ExtraFiles clears close-on-exec in the child only).
func Pair() (host, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair AF_UNIX SOCK_SEQPACKET: %w", errno(err))
	}
	return os.NewFile(uintptr(fds[0]), "hostlink host"), os.NewFile(uintptr(fds[1]), "hostlink child"), nil
}

// Conn is one end of the channel.
type Conn struct {
	c   *net.UnixConn
	buf []byte
	oob []byte
}

// NewConn makes a Conn of f (a duplicate: f stays the caller's to close)
// and turns on SO_PASSCRED, so that Recv learns each sender's pid.
func NewConn(f *os.File) (*Conn, error) {
	nc, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("hostlink: use %s: %w", f.Name(), err)
	}
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		nc.Close()
		return nil, fmt.Errorf("hostlink: %s is a %T, not a unix socket", f.Name(), nc)
	}
	raw, err := uc.SyscallConn()
	if err == nil {
		cerr := raw.Control(func(fd uintptr) {
			err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PASSCRED, 1)
		})
		if err == nil {
			err = cerr
		}
	}
	if err != nil {
		uc.Close()
		return nil, fmt.Errorf("hostlink: setsockopt SO_PASSCRED: %w", errno(err))
	}
	return &Conn{
		c:   uc,
		buf: make([]byte, MaxMessage+1),
		oob: make([]byte, unix.CmsgSpace(unix.SizeofUcred)),
	}, nil
}

// FromFD makes a Conn of an inherited descriptor (miniinit's --host-fd).
// The descriptor is closed; the Conn holds a close-on-exec duplicate, so
// no workload inherits it.
func FromFD(fd int) (*Conn, error) {
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
		return nil, fmt.Errorf("hostlink: fd %d: %w", fd, errno(err))
	}
	f := os.NewFile(uintptr(fd), fmt.Sprintf("hostlink fd %d", fd))
	defer f.Close()
	return NewConn(f)
}

// Send sends one message.
func (c *Conn) Send(m Message) error {
	b, err := m.Encode()
	if err != nil {
		return err
	}
	if _, err := c.c.Write(b); err != nil {
		return fmt.Errorf("hostlink: send: %w", err)
	}
	return nil
}

// Sender is who sent a message, as the kernel vouches for it; Pid is in
// the receiver's PID namespace (0 when no credentials came with it).
type Sender struct {
	Pid      int
	Uid, Gid uint32
}

// Recv waits for the next message. It returns io.EOF once the peer's end
// is closed (the other process ended). A message that does not parse is
// returned as an error wrapping ErrMalformed, together with its sender;
// the channel stays usable.
func (c *Conn) Recv() (Message, Sender, error) {
	n, oobn, flags, _, err := c.c.ReadMsgUnix(c.buf, c.oob)
	// Go reads 0 bytes on a SOCK_SEQPACKET socket as io.EOF. End of file
	// it is, unless credentials came along: then it was an empty record,
	// which a process holding a copy of the peer's end could write to
	// fake one.
	if err != nil && !(errors.Is(err, io.EOF) && oobn > 0) {
		return nil, Sender{}, err
	}
	var who Sender
	if cmsgs, perr := unix.ParseSocketControlMessage(c.oob[:oobn]); perr == nil {
		for _, cm := range cmsgs {
			if cred, err := unix.ParseUnixCredentials(&cm); err == nil {
				who = Sender{Pid: int(cred.Pid), Uid: cred.Uid, Gid: cred.Gid}
			}
		}
	}
	if n == 0 {
		return nil, who, fmt.Errorf("%w: empty", ErrMalformed)
	}
	if n > MaxMessage || flags&unix.MSG_TRUNC != 0 {
		return nil, who, fmt.Errorf("%w: over %d bytes", ErrMalformed, MaxMessage)
	}
	m, err := Parse(c.buf[:n])
	if err != nil {
		return nil, who, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return m, who, nil
}

// ErrMalformed marks a received message that was dropped unread.
var ErrMalformed = errors.New("hostlink: malformed message")

// SetReadDeadline bounds the next Recv (tests; a zero time removes it).
func (c *Conn) SetReadDeadline(t time.Time) error { return c.c.SetReadDeadline(t) }

// Close closes this end; the peer then reads end of file.
func (c *Conn) Close() error { return c.c.Close() }

// errno names the errno of a failed system call ("EPERM") next to its
// text.
func errno(err error) error {
	var e unix.Errno
	if errors.As(err, &e) {
		return fmt.Errorf("%s (%w)", unix.ErrnoName(e), err)
	}
	return err
}
