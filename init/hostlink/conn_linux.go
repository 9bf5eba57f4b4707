package hostlink

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"syscall"
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

// Conn is one end of the channel. It reads and writes the socket with
// recvmsg and sendmsg on a non-blocking descriptor held by an *os.File:
// the runtime's poller then parks a waiting Recv without a thread, and
// Close and deadlines wake it. (Package net would do the same, at the
// price of its resolver and all, linked into miniinit for one socket.)
type Conn struct {
	f      *os.File
	raw    syscall.RawConn
	closed atomic.Bool // set by Close: the RawConn's error then says nothing of os.ErrClosed
	buf    []byte
	oob    []byte
}

// maxFiles is the most descriptors one message may carry (SCM_RIGHTS);
// the protocol sends at most one (a configuration on RELOAD=1).
const maxFiles = 4

// NewConn makes a Conn of f (a duplicate: f stays the caller's to close)
// and turns on SO_PASSCRED, so that Recv learns each sender's pid.
func NewConn(f *os.File) (*Conn, error) {
	// 1. Duplicate close-on-exec through the RawConn, not f.Fd(), which
	//    would put f back in blocking mode.
	fd := -1
	rc, err := f.SyscallConn()
	if err == nil {
		cerr := rc.Control(func(ofd uintptr) {
			fd, err = unix.FcntlInt(ofd, unix.F_DUPFD_CLOEXEC, 0)
		})
		if err == nil {
			err = cerr
		}
	}
	if err != nil {
		return nil, fmt.Errorf("hostlink: use %s: fcntl F_DUPFD_CLOEXEC: %w", f.Name(), errno(err))
	}
	// 2. Check it is a unix socket of the kind Pair makes before anything
	//    is read: a wrong descriptor handed to miniinit fails here, by name.
	if dom, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN); err != nil || dom != unix.AF_UNIX {
		unix.Close(fd)
		if err == nil {
			err = fmt.Errorf("socket domain %d", dom)
		}
		return nil, fmt.Errorf("hostlink: %s is not a unix socket: %w", f.Name(), errno(err))
	}
	// 3. SO_PASSCRED before the first read, so no message comes without
	//    its sender; then non-blocking, which makes os.NewFile pollable.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("hostlink: setsockopt SO_PASSCRED: %w", errno(err))
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("hostlink: set %s non-blocking: %w", f.Name(), errno(err))
	}
	nf := os.NewFile(uintptr(fd), f.Name())
	raw, err := nf.SyscallConn()
	if err != nil {
		nf.Close()
		return nil, fmt.Errorf("hostlink: use %s: %w", f.Name(), err)
	}
	return &Conn{
		f:   nf,
		raw: raw,
		buf: make([]byte, MaxMessage+1),
		oob: make([]byte, unix.CmsgSpace(unix.SizeofUcred)+unix.CmsgSpace(4*maxFiles)),
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

// Send sends one message, with files (their descriptors, SCM_RIGHTS)
// when given; the files stay the caller's to close.
func (c *Conn) Send(m Message, files ...*os.File) error {
	b, err := m.Encode()
	if err != nil {
		return err
	}
	if len(files) > maxFiles {
		return fmt.Errorf("hostlink: %d files in one message, at most %d", len(files), maxFiles)
	}
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		oob = unix.UnixRights(fds...)
	}
	var serr error
	err = c.raw.Write(func(fd uintptr) bool {
		for {
			// MSG_NOSIGNAL: a peer that has gone is an error, never
			// a SIGPIPE, which miniinit would take for one sent to
			// it and forward to its workloads.
			serr = unix.Sendmsg(int(fd), b, oob, nil, unix.MSG_NOSIGNAL)
			if serr != unix.EINTR {
				return serr != unix.EAGAIN
			}
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("hostlink: send: %w", c.closedErr(err))
	}
	return nil
}

// Sender is who sent a message, as the kernel vouches for it; Pid is in
// the receiver's PID namespace (0 when no credentials came with it).
type Sender struct {
	Pid      int
	Uid, Gid uint32
}

// Recv waits for the next message, as RecvFiles does, and closes any
// descriptors that came with it.
func (c *Conn) Recv() (Message, Sender, error) {
	m, who, files, err := c.RecvFiles()
	for _, f := range files {
		f.Close()
	}
	return m, who, err
}

// RecvFiles waits for the next message and returns it with the files
// that came with it (close-on-exec, the caller's to close). It returns
// io.EOF once the peer's end is closed (the other process ended). A
// message that does not parse is returned as an error wrapping
// ErrMalformed, together with its sender and no files; the channel stays
// usable.
func (c *Conn) RecvFiles() (Message, Sender, []*os.File, error) {
	var n, oobn, flags int
	var rerr error
	// recvmsg itself, for MSG_CMSG_CLOEXEC: a descriptor received must
	// never be open without close-on-exec, or a process forked meanwhile
	// would inherit it.
	err := c.raw.Read(func(fd uintptr) bool {
		for {
			n, oobn, flags, _, rerr = unix.Recvmsg(int(fd), c.buf, c.oob, unix.MSG_CMSG_CLOEXEC)
			if rerr != unix.EINTR {
				return rerr != unix.EAGAIN
			}
		}
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, Sender{}, nil, fmt.Errorf("hostlink: receive: %w", c.closedErr(err))
	}
	var who Sender
	var files []*os.File
	if cmsgs, perr := unix.ParseSocketControlMessage(c.oob[:oobn]); perr == nil {
		for _, cm := range cmsgs {
			if cred, err := unix.ParseUnixCredentials(&cm); err == nil {
				who = Sender{Pid: int(cred.Pid), Uid: cred.Uid, Gid: cred.Gid}
			}
			if fds, err := unix.ParseUnixRights(&cm); err == nil {
				for _, fd := range fds {
					files = append(files, os.NewFile(uintptr(fd), "hostlink file"))
				}
			}
		}
	}
	drop := func(err error) (Message, Sender, []*os.File, error) {
		for _, f := range files {
			f.Close()
		}
		return nil, who, nil, err
	}
	switch {
	case n == 0 && oobn == 0:
		return nil, who, nil, io.EOF
	case n == 0:
		// An empty record reads as 0 bytes too, but carries the sender's
		// credentials: a process holding a copy of the peer's end could
		// write one to fake an end of file.
		return drop(fmt.Errorf("%w: empty", ErrMalformed))
	case n > MaxMessage || flags&unix.MSG_TRUNC != 0:
		return drop(fmt.Errorf("%w: over %d bytes", ErrMalformed, MaxMessage))
	case flags&unix.MSG_CTRUNC != 0:
		return drop(fmt.Errorf("%w: more than %d descriptors", ErrMalformed, maxFiles))
	}
	m, err := Parse(c.buf[:n])
	if err != nil {
		return drop(fmt.Errorf("%w: %w", ErrMalformed, err))
	}
	return m, who, files, nil
}

// ErrMalformed marks a received message that was dropped unread.
var ErrMalformed = errors.New("hostlink: malformed message")

// SetReadDeadline bounds the next Recv (tests; a zero time removes it):
// past it, Recv returns an error wrapping os.ErrDeadlineExceeded.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.f.SetReadDeadline(t) }

// Close closes this end; the peer then reads end of file. A Recv waiting
// on this end returns, with an error wrapping os.ErrClosed.
func (c *Conn) Close() error {
	c.closed.Store(true)
	return c.f.Close()
}

// closedErr is err of a failed read or write, made to wrap os.ErrClosed
// when this end was closed: a RawConn reports that with an error of the
// poller's own ("use of closed file") that os.ErrClosed does not match.
func (c *Conn) closedErr(err error) error {
	if c.closed.Load() && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("%w: %w", os.ErrClosed, err)
	}
	return errno(err)
}

// errno names the errno of a failed system call ("EPERM") next to its
// text.
func errno(err error) error {
	var e unix.Errno
	if errors.As(err, &e) {
		return fmt.Errorf("%s (%w)", unix.ErrnoName(e), err)
	}
	return err
}
