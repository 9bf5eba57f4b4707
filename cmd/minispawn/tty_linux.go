package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// console is the pseudo-terminal a container gets with -t: the workload's
// stdio is the pty's slave side, and minispawn relays between the slave's
// master and the caller's own terminal, which it puts in raw mode so that
// every key (^C included) reaches the container's line discipline and
// the container's foreground process gets the signal.
type console struct {
	master, slave *os.File
	// restore puts the caller's terminal back as it was; nil when stdin
	// is not a terminal.
	restore func()
	copied  sync.WaitGroup
}

// openConsole allocates a pty. The slave is opened from the master with
// TIOCGPTPEER rather than by path, so no /dev/pts lookup can be raced.
func openConsole() (*console, error) {
	mfd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/ptmx: %w", errnoErr(err))
	}
	master := os.NewFile(uintptr(mfd), "/dev/ptmx")
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

// start makes the caller's terminal raw (when stdin is one), copies the
// window size, and starts relaying. Call it after the container started,
// with the parent's copy of the slave closed.
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
	// stdin -> container: not waited for; it ends when minispawn exits.
	go io.Copy(c.master, os.Stdin)
	c.copied.Add(1)
	go func() {
		defer c.copied.Done()
		// Ends with EIO once the last slave descriptor is closed.
		io.Copy(os.Stdout, c.master)
	}()
	return nil
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
