package pid1

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Control clients as real callers misbehave: killed by a probe timeout at
// any moment, many at once, more than the backlog holds.

// recordMain is a main workload that writes down every signal it gets
// (DIR/rec), once it is ready to (DIR/rec-ready).
const recordMain = `
[[workload]]
name = "app"
command = "HELPER"
args = ["record", "DIR/rec", "DIR/rec-ready"]
env = { GODEBUG = "asyncpreemptoff=1" }
main = true
stop_timeout = "100ms"
`

// vanishSup starts a supervised run whose workloads die of a stray SIGPIPE
// (sleep, at its default action) or write down any signal they get
// (record), and returns it with the record file and the workloads' pids.
func vanishSup(t *testing.T) (*sup, string, map[string]int) {
	t.Helper()
	s := newSup(t, "", recordMain+`
[[workload]]
name = "sleep"
command = "/bin/sleep"
args = ["100000"]
`)
	s.start()
	waitFile(t, filepath.Join(s.dir, "rec-ready"))
	s.waitState("sleep", "running")
	return s, filepath.Join(s.dir, "rec"), s.pids()
}

// pids returns each workload's pid, as status says.
func (s *sup) pids() map[string]int {
	out := map[string]int{}
	for _, w := range s.ctl(ControlRequest{Op: "status"}).Workloads {
		out[w.Name] = w.Pid
	}
	return out
}

// checkUntouched fails the test unless every workload still runs as the
// same process and none received a signal.
func (s *sup) checkUntouched(rec string, pids map[string]int) {
	s.t.Helper()
	time.Sleep(50 * time.Millisecond) // a forwarded signal has long arrived
	for _, w := range s.ctl(ControlRequest{Op: "status"}).Workloads {
		if w.Pid != pids[w.Name] || w.Pid == 0 || (w.State.String() != "running" && w.State.String() != "ready") {
			s.t.Errorf("%s: %s pid %d (was %d), %s", w.Name, w.State, w.Pid, pids[w.Name], w.Reason)
		}
	}
	if got := recorded(s.t, rec); len(got) > 0 {
		s.t.Errorf("the workload received %v", names(got))
	}
	if strings.Contains(s.run.stderr.String(), "forwarding signal") {
		s.t.Errorf("miniinit forwarded a signal:\n%s", s.run.stderr.String())
	}
}

// rawClient connects to the control socket and does what step says
// before it closes: 0 nothing, 1 half a request, 2 the whole request, 3
// the whole request and a moment's wait, 4 the whole request and the
// answer's first byte.
func rawClient(t *testing.T, socket string, step int) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Error(err)
		return
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: socket}); err != nil {
		t.Errorf("connect: %v", err)
		return
	}
	req := []byte(`{"op":"status"}` + "\n")
	switch step {
	case 1:
		_, _ = unix.Write(fd, req[:5])
	case 2:
		_, _ = unix.Write(fd, req)
	case 3:
		_, _ = unix.Write(fd, req)
		time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
	case 4:
		_, _ = unix.Write(fd, req)
		_, _ = unix.Read(fd, make([]byte, 1))
	}
}

// TestControlClientVanishes is the scenario of a client that closes
// before it reads the answer (`socket.connect(); close()`, or `timeout -s
// KILL 0.00N miniinit health` as a HEALTHCHECK's timeout does): miniinit's
// answer then meets a closed socket, which used to raise SIGPIPE at
// miniinit, which forwarded it, and the workloads died of it. 10,000
// clients that vanish at every point of a request, raw ones and `miniinit
// health` processes SIGKILLed at random moments: every workload still runs
// as the same process, and none received a signal.
func TestControlClientVanishes(t *testing.T) {
	const raw, procs = 8000, 2000
	s, rec, pids := vanishSup(t)
	begin := time.Now()
	deadline := begin.Add(100 * time.Second)

	var wg sync.WaitGroup
	var next atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= raw && time.Now().Before(deadline); i = next.Add(1) {
				rawClient(t, s.socket, int(i%5))
			}
		}()
	}
	wg.Wait()
	s.checkUntouched(rec, pids)

	// The kill moments span a whole run of `miniinit health`: from
	// before its runtime has started to after its answer.
	var runs []time.Duration
	for range 10 {
		start := time.Now()
		if out, err := runHealth(s.socket); err != nil {
			t.Fatalf("miniinit health: %v\n%s", err, out)
		}
		runs = append(runs, time.Since(start))
	}
	slices.Sort(runs)
	span := 2 * runs[len(runs)/2]
	t.Logf("raw clients took %v; miniinit health takes %v (median), killed within %v", time.Since(begin).Round(time.Millisecond), runs[len(runs)/2], span)

	var killed, done atomic.Int64
	next.Store(0)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= procs && time.Now().Before(deadline); i = next.Add(1) {
				// One in ten is left to finish, so that answers are
				// written too, whatever the load.
				wait := rand.N(span)
				if i%10 == 0 {
					wait = 20 * time.Second
				}
				ctx, cancel := context.WithTimeout(context.Background(), wait)
				c := exec.CommandContext(ctx, bin.miniinit, "health", "-s", s.socket)
				c.Cancel = func() error { return c.Process.Signal(syscall.SIGKILL) }
				err := c.Run()
				switch {
				case err == nil:
					done.Add(1)
				case ctx.Err() != nil:
					killed.Add(1)
				default:
					t.Errorf("miniinit health, not killed: %v", err)
				}
				cancel()
			}
		}()
	}
	wg.Wait()
	if n := next.Load(); n < procs {
		t.Errorf("only %d of %d health processes ran in time", n, procs)
	}
	t.Logf("miniinit health: %d killed on the way, %d answered healthy", killed.Load(), done.Load())
	if killed.Load() == 0 {
		t.Error("no miniinit health was killed on the way: the test proves little")
	}
	s.checkUntouched(rec, pids)
	if r := s.ctl(ControlRequest{Op: "health"}); !r.OK {
		t.Errorf("health: %+v", r)
	}
	s.signal(syscall.SIGTERM)
	s.run.wait(30 * time.Second)
}

// TestControlManyClients: 50 clients at once, each sending request after
// request, then 200 `miniinit ctl status` started in one burst: every
// request is answered. With the old backlog of 16 a client that found it
// full took its non-blocking connect's EAGAIN for a connection and failed
// with "transport endpoint is not connected" (314 of 925).
func TestControlManyClients(t *testing.T) {
	s, _, _ := vanishSup(t)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if r, err := Control(s.socket, ControlRequest{Op: "status"}, 30*time.Second); err != nil || !r.OK {
					failed.Add(1)
					t.Errorf("status: %v %+v", err, r.Error)
				}
			}
		}()
	}
	wg.Wait()
	cmds := make([]*exec.Cmd, 200)
	outs := make([]strings.Builder, len(cmds))
	for i := range cmds {
		cmds[i] = exec.Command(bin.miniinit, "ctl", "-s", s.socket, "status")
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("miniinit ctl status: %v\n%s", err, outs[i].String())
		}
	}
	s.signal(syscall.SIGTERM)
	s.run.wait(30 * time.Second)
}

// openFDs counts the descriptors pid holds.
func openFDs(t *testing.T, pid int) []int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	var fds []int
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err == nil {
			fds = append(fds, n)
		}
	}
	return fds
}

// dial connects to socket without sending anything; the descriptor
// blocks.
func dial(t *testing.T, socket string) int {
	t.Helper()
	fd, err := connectUnix(socket, time.Now().Add(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.SetNonblock(fd, false); err != nil {
		t.Fatal(err)
	}
	return fd
}

// TestControlIdleConnections: connections that never send a request are
// served controlConns at a time and closed after controlIdle, so miniinit
// never holds more than that many descriptors for them (it used to hold
// every one for 10 s), and a real request is answered once they are gone.
func TestControlIdleConnections(t *testing.T) {
	s, _, _ := vanishSup(t)
	pid := s.run.pid()
	base := len(openFDs(t, pid))
	const idle = controlConns + 20
	var fds []int
	for range idle {
		fds = append(fds, dial(t, s.socket))
	}
	most := 0
	closed := 0
	start := time.Now()
	for _, fd := range fds {
		// Each is answered (a bad request: it sent nothing in time)
		// and closed.
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 30}); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 4096)
		for {
			most = max(most, len(openFDs(t, pid))-base)
			n, err := unix.Read(fd, b)
			if n <= 0 || err != nil {
				if err != nil {
					t.Fatalf("idle connection: %v", err)
				}
				break
			}
		}
		closed++
	}
	t.Logf("%d idle connections closed in %v; at most %d descriptors more than before", closed, time.Since(start).Round(time.Millisecond), most)
	if most > controlConns+5 {
		t.Errorf("miniinit held %d descriptors more for %d idle connections, want at most about %d", most, idle, controlConns)
	}
	if r := s.ctl(ControlRequest{Op: "status"}); !r.OK {
		t.Errorf("status: %+v", r)
	}
	s.signal(syscall.SIGTERM)
	s.run.wait(30 * time.Second)
}

// cpuTicks returns the user and system time pid has used, in clock ticks.
func cpuTicks(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	u, _ := strconv.Atoi(f[11])
	s, _ := strconv.Atoi(f[12])
	return u + s
}

// TestControlAcceptAtFDLimit: at the descriptor limit, accept fails with
// EMFILE while the connection waits in the backlog; miniinit used to
// retry at once, forever, at ~105% CPU. It now pauses between tries: over
// two seconds of it, it uses a small fraction of a CPU, and once
// descriptors are free again the waiting request is answered.
func TestControlAcceptAtFDLimit(t *testing.T) {
	s, _, _ := vanishSup(t)
	pid := s.run.pid()
	var old unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, nil, &old); err != nil {
		t.Fatal(err)
	}
	// A limit of 0: no new descriptor can be made, whichever are free.
	lim := unix.Rlimit{Cur: 0, Max: old.Max}
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &lim, nil); err != nil {
		t.Fatal(err)
	}
	answered := make(chan error, 1)
	go func() {
		r, err := Control(s.socket, ControlRequest{Op: "status"}, 60*time.Second)
		if err == nil && !r.OK {
			err = errors.New(r.Error)
		}
		answered <- err
	}()
	time.Sleep(500 * time.Millisecond) // the client has connected: accept fails
	before, start := cpuTicks(t, pid), time.Now()
	time.Sleep(2 * time.Second)
	used := time.Duration(cpuTicks(t, pid)-before) * 10 * time.Millisecond // USER_HZ is 100
	wall := time.Since(start)
	t.Logf("at the descriptor limit: %v of CPU in %v", used, wall.Round(time.Millisecond))
	if used > wall/10 {
		t.Errorf("miniinit used %v of CPU in %v at the descriptor limit", used, wall)
	}
	select {
	case err := <-answered:
		t.Fatalf("answered at the descriptor limit: %v", err)
	default:
	}
	if !strings.Contains(s.run.stderr.String(), "EMFILE") {
		t.Error("no warning says accept failed with EMFILE")
	}
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &old, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-answered:
		if err != nil {
			t.Errorf("the waiting request: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the waiting request was not answered 10 s after the limit was raised")
	}
	s.signal(syscall.SIGTERM)
	s.run.wait(30 * time.Second)
}
