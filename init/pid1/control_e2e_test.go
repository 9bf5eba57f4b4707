package pid1

import (
	"context"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
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
