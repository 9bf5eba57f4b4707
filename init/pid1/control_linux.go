package pid1

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// controlServer accepts control connections on a unix stream socket. The
// socket is made with mode 0600 and, on top, only a peer with miniinit's
// own uid (or root), or from outside miniinit's PID namespace, is answered
// (SO_PEERCRED: peerAllowed), so a workload running as another user cannot
// stop its neighbours.
//
// What a client can cost miniinit is bounded: at most controlConns
// connections are served at once (the rest wait in the backlog, and their
// clients in connect, until a slot frees); a connection has controlIdle to
// send its request and controlTimeout for the whole exchange; and an
// accept that fails for want of resources (EMFILE at the descriptor
// limit) is retried after a pause that doubles up to a second, not at once
// in a loop that would take a CPU.
type controlServer struct {
	path    string
	file    *os.File
	done    chan struct{}
	closing chan struct{}
	slots   chan struct{} // one token per connection being served
	made    []string      // directories made for the socket, outermost first
}

const (
	// controlBacklog is the listen backlog: connections the kernel holds
	// for miniinit to accept. A client that finds it full waits in
	// connect (Control).
	controlBacklog = 256
	// controlConns bounds the connections served at once.
	controlConns = 64
	// controlIdle is how long a connection may take to send its request:
	// long enough for a client on a machine under heavy load.
	controlIdle = 5 * time.Second
	// acceptPauseMax bounds the pause after a failed accept.
	acceptPauseMax = time.Second
)

// listenControl opens the socket at path (replacing a stale one) and
// starts accepting; requests go to l's event loop. The socket's directory
// is made (0755) when missing: a minimal root, as busybox's, often has no
// /run, and the socket is how `minispawn ctl` reaches miniinit.
func listenControl(path string, l *loop) (*controlServer, error) {
	var made []string
	var err error
	if l.opts.ControlPrivate {
		made, err = privateDir(filepath.Dir(path), true)
	} else {
		made, err = makeDirs(filepath.Dir(path), 0o755)
	}
	if err != nil {
		return nil, err
	}
	s, err := bindControl(path, l)
	if err != nil {
		removeDirs(made)
		return nil, err
	}
	s.made = made
	return s, nil
}

// makeDirs makes dir and its missing parents, as mkdir -p does, and
// returns those it made, outermost first, for removeDirs.
func makeDirs(dir string, mode uint32) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		var st unix.Stat_t
		if err := unix.Stat(d, &st); err == nil {
			if st.Mode&unix.S_IFMT != unix.S_IFDIR {
				return nil, sysErr("control socket directory "+d, unix.ENOTDIR)
			}
			break
		} else if !errors.Is(err, unix.ENOENT) || d == "/" {
			return nil, sysErr("stat "+d, err)
		}
		missing = append(missing, d)
	}
	var made []string
	for i := len(missing) - 1; i >= 0; i-- {
		switch err := unix.Mkdir(missing[i], mode); {
		case err == nil:
			made = append(made, missing[i])
		case !errors.Is(err, unix.EEXIST): // EEXIST: made meanwhile, not ours
			removeDirs(made)
			return nil, sysErr("mkdir "+missing[i], err)
		}
	}
	return made, nil
}

// PrivateDir checks that dir is a private directory of this process's
// effective user in a place others may write to (/tmp/miniinit-UID): a
// directory, not a symbolic link, owned by the user, that no one else may
// enter. With create it first makes dir with mode 0700 when missing. It
// is how the server and its clients agree that the control socket in it
// is the user's miniinit's and no one else's.
func PrivateDir(dir string, create bool) error {
	_, err := privateDir(dir, create)
	return err
}

// privateDir is PrivateDir, returning dir in made when it made it.
func privateDir(dir string, create bool) (made []string, err error) {
	if create {
		switch err := unix.Mkdir(dir, 0o700); {
		case err == nil:
			made = []string{dir}
		case !errors.Is(err, unix.EEXIST):
			return nil, sysErr("mkdir "+dir, err)
		}
	}
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return nil, sysErr("control socket directory "+dir, err)
	}
	uid := uint32(unix.Geteuid())
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return nil, fmt.Errorf("control socket directory %s is not a directory (a link or a file): refusing it", dir)
	case st.Uid != uid:
		return nil, fmt.Errorf("control socket directory %s belongs to uid %d, not to uid %d: refusing it", dir, st.Uid, uid)
	case st.Mode&0o077 != 0:
		return nil, fmt.Errorf("control socket directory %s has mode %04o, open to others: refusing it (want 0700)", dir, st.Mode&0o7777)
	}
	return made, nil
}

// removeDirs removes the directories makeDirs made, innermost first, as
// far as they are empty: the root is left as miniinit found it unless a
// workload put something there.
func removeDirs(made []string) {
	for i := len(made) - 1; i >= 0; i-- {
		if unix.Rmdir(made[i]) != nil {
			return
		}
	}
}

// bindControl makes the socket at path, whose directory exists.
func bindControl(path string, l *loop) (*controlServer, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, sysErr("control socket", err)
	}
	var st unix.Stat_t
	if unix.Lstat(path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK {
		// Left by an earlier miniinit, if nobody answers on it; one that
		// answers belongs to a miniinit that still runs.
		if _, err := Control(path, ControlRequest{Op: "health"}, time.Second); err == nil {
			unix.Close(fd)
			return nil, fmt.Errorf("control socket %s: another miniinit answers on it", path)
		}
		_ = unix.Unlink(path)
	}
	// Bound under a temporary name and renamed once listening: a client
	// that sees the path can connect at once.
	tmp := path + ".new"
	_ = unix.Unlink(tmp)
	old := unix.Umask(0o077)
	err = unix.Bind(fd, &unix.SockaddrUnix{Name: tmp})
	unix.Umask(old)
	if err != nil {
		unix.Close(fd)
		return nil, sysErr("bind "+tmp, err)
	}
	if err := unix.Listen(fd, controlBacklog); err != nil {
		unix.Close(fd)
		_ = unix.Unlink(tmp)
		return nil, sysErr("listen "+tmp, err)
	}
	if err := unix.Rename(tmp, path); err != nil {
		unix.Close(fd)
		_ = unix.Unlink(tmp)
		return nil, sysErr("rename "+tmp+" to "+path, err)
	}
	s := &controlServer{
		path: path, file: os.NewFile(uintptr(fd), path),
		done: make(chan struct{}), closing: make(chan struct{}), slots: make(chan struct{}, controlConns),
	}
	go s.accept(l)
	return s, nil
}

func (s *controlServer) accept(l *loop) {
	defer close(s.done)
	rc, err := s.file.SyscallConn()
	if err != nil {
		return
	}
	self := unix.Getuid()
	var pause time.Duration
	for {
		// A slot first: at the cap, connections wait in the backlog.
		select {
		case s.slots <- struct{}{}:
		case <-s.closing:
			return
		}
		var nfd int
		var aerr error
		err := rc.Read(func(fd uintptr) bool {
			nfd, _, aerr = unix.Accept4(int(fd), unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK)
			return aerr != unix.EAGAIN
		})
		if err != nil {
			return // closed
		}
		if aerr != nil {
			<-s.slots
			switch {
			case errors.Is(aerr, unix.EINTR), errors.Is(aerr, unix.ECONNABORTED):
				continue // this connection only
			}
			// Out of descriptors or memory: the connection waits in
			// the backlog; so does miniinit, a while.
			pause = min(max(2*pause, 10*time.Millisecond), acceptPauseMax)
			l.log.Warn("control socket: accept failed; retrying", "err", sysErr("accept", aerr), "after", pause)
			select {
			case <-time.After(pause):
			case <-s.closing:
				return
			}
			continue
		}
		pause = 0
		cred, err := unix.GetsockoptUcred(nfd, unix.SOL_SOCKET, unix.SO_PEERCRED)
		if err != nil || !peerAllowed(cred, self) {
			unix.Close(nfd)
			<-s.slots
			continue
		}
		go func() {
			defer func() { <-s.slots }()
			serveControl(os.NewFile(uintptr(nfd), s.path), l)
		}()
	}
}

// peerAllowed says whether a control connection's peer is answered: root,
// miniinit's own uid, or a process outside miniinit's PID namespace, whose
// pid the kernel then reports as 0. The last is the host's `minispawn ctl`
// reaching a container with a user namespace, where host root has no uid
// inside (it shows as the overflow uid): every workload is in miniinit's
// namespace or below it, where pids are always visible, and a process
// outside could connect only with write access to the 0600 socket, which
// takes privilege over the container.
func peerAllowed(cred *unix.Ucred, self int) bool {
	return cred.Uid == 0 || int(cred.Uid) == self || cred.Pid == 0
}

// serveControl answers one connection.
func serveControl(f *os.File, l *loop) {
	defer f.Close()
	begin := time.Now()
	_ = f.SetDeadline(begin.Add(controlIdle))
	var resp ControlResponse
	line, err := bufio.NewReaderSize(f, 4096).ReadSlice('\n')
	_ = f.SetDeadline(begin.Add(controlTimeout))
	var req ControlRequest
	if err == nil {
		err = json.Unmarshal(line, &req)
	}
	if err != nil {
		resp.Error = "bad request: " + err.Error()
	} else {
		c := &ctlRequest{req: req, reply: make(chan ControlResponse, 1)}
		select {
		case l.events <- c:
			select {
			case resp = <-c.reply:
			case <-time.After(controlTimeout):
				resp.Error = "miniinit did not answer in time"
			}
		case <-time.After(controlTimeout):
			resp.Error = "miniinit is busy"
		}
	}
	b, _ := json.Marshal(resp)
	_ = sendAll(f, append(b, '\n')) // a client that has gone costs nothing
}

// Close stops accepting and removes the socket, and the directories made
// for it.
func (s *controlServer) Close() error {
	close(s.closing)
	err := s.file.Close()
	<-s.done
	_ = unix.Unlink(s.path)
	removeDirs(s.made)
	return err
}

// Control sends one request to the control socket at path and returns
// the response. A response that says not ok comes back with a nil error:
// the caller decides (`miniinit health` exits 1).
func Control(path string, req ControlRequest, timeout time.Duration) (ControlResponse, error) {
	var resp ControlResponse
	deadline := time.Now().Add(timeout)
	fd, err := connectUnix(path, deadline)
	if err != nil {
		return resp, err
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	_ = f.SetDeadline(deadline)
	b, err := json.Marshal(req)
	if err != nil {
		return resp, err
	}
	if err := sendAll(f, append(b, '\n')); err != nil {
		return resp, fmt.Errorf("send to %s: %w", path, err)
	}
	line, err := bufio.NewReaderSize(f, 1<<20).ReadSlice('\n')
	if err != nil {
		return resp, fmt.Errorf("read from %s: %w", path, err)
	}
	if err := json.Unmarshal(line, &resp); err != nil {
		return resp, fmt.Errorf("read from %s: %w", path, err)
	}
	return resp, nil
}

// connectUnix connects a stream socket to the unix socket at path before
// deadline and returns it non-blocking, for Go's poller. The connect
// itself blocks: when the listener's backlog is full, a blocking connect
// waits for room (SO_SNDTIMEO bounds the wait), where a non-blocking one
// fails with EAGAIN, which is no connection at all.
func connectUnix(path string, deadline time.Time) (int, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, sysErr("socket", err)
	}
	for {
		left := time.Until(deadline)
		if left <= 0 {
			err = unix.EAGAIN
			break
		}
		tv := unix.NsecToTimeval(left.Nanoseconds())
		if err = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv); err != nil {
			break
		}
		// EINTR: a signal (the Go runtime's own) cut the wait short.
		if err = unix.Connect(fd, &unix.SockaddrUnix{Name: path}); !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if errors.Is(err, unix.EAGAIN) {
		unix.Close(fd)
		return -1, fmt.Errorf("connect %s: no room in its backlog until the timeout (%w)", path, err)
	}
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		unix.Close(fd)
		return -1, sysErr("connect "+path, err)
	}
	return fd, nil
}
