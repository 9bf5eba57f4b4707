package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// console is the pseudo-terminal a container gets with -t: the workload's
// stdio is the pty's slave side, and minispawn relays between its master
// and the caller's own terminal, which it puts in raw mode so that
// every key (^C included) reaches the container's line discipline and
// the container's foreground process gets the signal.
type console struct {
	// slave is set only between openPTY and its hand-over.
	master, slave *os.File
	// restore puts the caller's terminal back as it was; nil when stdin
	// is not a terminal.
	restore func()
	copied  sync.WaitGroup
	// hungUp makes hangup act once.
	hungUp sync.Once
	// gone is closed when reading the caller's terminal fails with EIO:
	// it hung up.
	gone     chan struct{}
	goneOnce sync.Once
}

// openPTY allocates a pty from the multiplexer at ptmx. The slave is
// opened from the master with TIOCGPTPEER rather than by path, so no
// /dev/pts lookup can be raced.
func openPTY(ptmx string) (*console, error) {
	mfd, err := unix.Open(ptmx, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", ptmx, errnoErr(err))
	}
	master := os.NewFile(uintptr(mfd), ptmx)
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, fmt.Errorf("unlock pty: %w", errnoErr(err))
	}
	sfd, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(mfd), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if errno != 0 {
		master.Close()
		return nil, fmt.Errorf("open pty slave (TIOCGPTPEER): %w", errnoErr(errno))
	}
	return &console{master: master, slave: os.NewFile(sfd, "pty slave")}, nil
}

// containerPTY is the second stage's part of -t, after pivot_root: the pty
// comes from the container's own devpts instance, so that inside, `tty`
// names it and /dev/pts lists it. The slave becomes the session's
// controlling terminal and stdin, stdout and stderr, with the caller's
// window size; the master goes to minispawn over sock (fdConsole) and is
// closed here, so nothing in the container holds it.
func containerPTY(sock int, size unix.Winsize) error {
	c, err := openPTY("/dev/pts/ptmx")
	if err != nil {
		return err
	}
	defer c.master.Close()
	defer c.slave.Close()
	sfd := int(c.slave.Fd())
	if size.Row != 0 || size.Col != 0 {
		if err := unix.IoctlSetWinsize(sfd, unix.TIOCSWINSZ, &size); err != nil {
			return fmt.Errorf("set the pty's window size: %w", errnoErr(err))
		}
	}
	// This process leads a session of its own (Setsid at the clone) and
	// has no controlling terminal yet.
	if err := unix.IoctlSetInt(sfd, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("make the pty the controlling terminal: %w", errnoErr(err))
	}
	for fd := 0; fd <= 2; fd++ {
		if err := unix.Dup3(sfd, fd, 0); err != nil {
			return fmt.Errorf("pty as fd %d: %w", fd, errnoErr(err))
		}
	}
	if err := unix.Sendmsg(sock, []byte{0}, unix.UnixRights(int(c.master.Fd())), nil, 0); err != nil {
		return fmt.Errorf("send the pty to minispawn: %w", errnoErr(err))
	}
	return unix.Close(sock)
}

// consoleChannel is the socket pair over which the second stage sends the
// pty's master (containerPTY); the child's end becomes fdConsole.
func consoleChannel() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair for the pty: %w", errnoErr(err))
	}
	return os.NewFile(uintptr(fds[0]), "pty channel"), os.NewFile(uintptr(fds[1]), "pty channel (child)"), nil
}

// receiveConsole takes the master the second stage sent. It was sent
// before miniinit's exec, which the caller has seen: it is waiting, and
// nothing here blocks.
func receiveConsole(ch *os.File) (*console, error) {
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(ch.Fd()), make([]byte, 1), oob, unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("receive the container's pty: %w", errnoErr(err))
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("receive the container's pty: no descriptor in the message (%v)", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("receive the container's pty: want one descriptor, got %d (%v)", len(fds), err)
	}
	return &console{master: os.NewFile(uintptr(fds[0]), "container pty")}, nil
}

// start makes the caller's terminal raw (when stdin is one), copies the
// window size, and starts relaying. Call it after the container started;
// minispawn never holds the slave.
func (c *console) start() error {
	in := int(os.Stdin.Fd())
	if old, err := unix.IoctlGetTermios(in, unix.TCGETS); err == nil {
		raw := *old
		// What cfmakeraw(3) does: no echo, no line editing, no signal
		// keys, no output processing; bytes pass through as they are.
		raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		raw.Oflag &^= unix.OPOST
		raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		raw.Cflag &^= unix.CSIZE | unix.PARENB
		raw.Cflag |= unix.CS8
		raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
		if err := unix.IoctlSetTermios(in, unix.TCSETS, &raw); err != nil {
			return fmt.Errorf("make the terminal raw: %w", errnoErr(err))
		}
		c.restore = func() { unix.IoctlSetTermios(in, unix.TCSETS, old) }
	}
	c.resize()
	c.gone = make(chan struct{})
	// stdin -> container: not waited for; it ends when minispawn exits,
	// or when the caller's terminal hangs up (reads fail with EIO): then
	// gone is closed.
	go func() {
		if _, err := io.Copy(c.master, os.Stdin); errors.Is(err, unix.EIO) {
			c.goneOnce.Do(func() { close(c.gone) })
		}
	}()
	c.copied.Add(1)
	go func() {
		defer c.copied.Done()
		// Ends with EIO once the last slave descriptor is closed.
		io.Copy(os.Stdout, c.master)
	}()
	return nil
}

// callerHungUp reports whether the caller's terminal (stdin) was hung
// up: the kernel then fails every operation on it with EIO, and does so
// before it sends SIGHUP.
func callerHungUp() bool {
	_, err := unix.IoctlGetTermios(int(os.Stdin.Fd()), unix.TCGETS)
	return errors.Is(err, unix.EIO)
}

// goneC is closed when the caller's terminal hung up (nil before start).
func (c *console) goneC() <-chan struct{} { return c.gone }

// hangup hangs up the container's terminal, as closing a terminal window
// hangs up a shell's: the workload's reads of the terminal end, and the
// kernel sends SIGHUP to the session's leader, miniinit, which passes it
// on. Once only.
func (c *console) hangup() {
	c.hungUp.Do(func() {
		// A descriptor of the slave, opened from the master: minispawn
		// keeps none, and holding one would keep the terminal alive.
		sfd, _, errno := unix.Syscall(unix.SYS_IOCTL, c.master.Fd(), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
		if errno != 0 {
			return
		}
		defer unix.Close(int(sfd))
		_, _, _ = unix.Syscall(unix.SYS_IOCTL, sfd, unix.TIOCVHANGUP, 0)
	})
}

// resize copies the caller's window size to the container's terminal; the
// kernel then sends SIGWINCH to the container's foreground process group.
func (c *console) resize() {
	ws, err := unix.IoctlGetWinsize(int(os.Stdin.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return
	}
	unix.IoctlSetWinsize(int(c.master.Fd()), unix.TIOCSWINSZ, ws)
}

// finish waits (briefly) for the container's last output, then restores
// the caller's terminal. It is safe to call more than once.
func (c *console) finish() {
	done := make(chan struct{})
	go func() { c.copied.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		// A process that inherited the slave outside the container
		// cannot exist (the container is gone), but never hang on it.
	}
	if c.restore != nil {
		c.restore()
		c.restore = nil
	}
	c.master.Close()
}
