package cgroup

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

var nameSeq atomic.Int64

// testName is a container name no other test or run uses.
func testName() string {
	return fmt.Sprintf("test-%d-%d", os.Getpid(), nameSeq.Add(1))
}

// hostLayout is Detect, for root tests.
func hostLayout(t *testing.T) *Layout {
	t.Helper()
	roottest.Require(t)
	l, err := Detect()
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	return l
}

// create makes a cgroup that the test's cleanup kills and removes; it
// fails the test if a directory is left.
func create(t *testing.T, l *Layout, name string, r Resources) *Cgroup {
	t.Helper()
	c, err := Create(l, name, r)
	if err != nil {
		t.Fatalf("Create(%q, %+v): %v", name, r, err)
	}
	t.Cleanup(func() {
		if err := c.Kill(); err != nil {
			t.Errorf("cleanup Kill: %v", err)
		}
		if err := c.Remove(); err != nil {
			t.Errorf("cleanup Remove: %v", err)
		}
		for _, p := range c.Paths() {
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("cleanup: %s left behind (%v)", p, err)
			}
		}
	})
	return c
}

// proc is a child process that waits on stdin before doing its work, so
// that the test can move it into a cgroup first.
type proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan struct{} // closed once reaped
}

// startGated starts argv (which must read one line of stdin before it
// does anything) and moves it into c. Cleanup kills and reaps it. Every
// child is bounded by a 60s context.
func startGated(t *testing.T, c *Cgroup, argv ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	// A pipe of our own rather than StdoutPipe: Wait, which runs
	// concurrently below, closes StdoutPipe's read end, and would cut
	// off a line the process wrote just before it exited.
	stdout, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		stdout.Close()
		cancel()
		t.Fatalf("start %v: %v", argv, err)
	}
	p := &proc{cmd: cmd, stdin: stdin, lines: make(chan string, 16), done: make(chan struct{})}
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			p.lines <- s.Text()
		}
		stdout.Close()
		close(p.lines)
	}()
	go func() {
		cmd.Wait() // the end state is in cmd.ProcessState
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			t.Errorf("pid %d not reaped 10s after SIGKILL", cmd.Process.Pid)
		}
	})
	if c != nil {
		if err := c.Add(cmd.Process.Pid); err != nil {
			t.Fatalf("Add(%d): %v", cmd.Process.Pid, err)
		}
	}
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// release lets the process go on past its gate.
func (p *proc) release(t *testing.T) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, "go\n"); err != nil {
		t.Fatalf("release pid %d: %v", p.pid(), err)
	}
}

func (p *proc) readLine(t *testing.T, within time.Duration) string {
	t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			t.Fatalf("pid %d: stdout closed before a line", p.pid())
		}
		return l
	case <-time.After(within):
		t.Fatalf("pid %d: no line within %v", p.pid(), within)
	}
	return ""
}

// wait reaps the process and returns its end state.
func (p *proc) wait(t *testing.T, within time.Duration) *os.ProcessState {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState
	case <-time.After(within):
		t.Fatalf("pid %d did not end within %v", p.pid(), within)
	}
	return nil
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// cgroupOf returns, from /proc/PID/cgroup, the path of pid's cgroup in the
// v1 hierarchy holding controller (or the v2 one, for "").
func cgroupOf(t *testing.T, pid int, controller string) string {
	t.Helper()
	text := readTrim(t, fmt.Sprintf("/proc/%d/cgroup", pid))
	for _, line := range strings.Split(text, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if controller == "" && parts[0] == "0" && parts[1] == "" {
			return parts[2]
		}
		for _, c := range strings.Split(parts[1], ",") {
			if controller != "" && c == controller {
				return parts[2]
			}
		}
	}
	t.Fatalf("/proc/%d/cgroup has no %q hierarchy:\n%s", pid, controller, text)
	return ""
}

// withInherited is r as Limits reads it back on l: on v1, an unset cpuset
// list is the one the cgroup inherited, which (under a fresh shared
// parent) is the root's.
func withInherited(t *testing.T, l *Layout, r Resources) Resources {
	t.Helper()
	mount, ok := l.Mounts["cpuset"]
	if l.Version != V1 || !ok {
		return r
	}
	parent := filepath.Join(mount, Parent)
	if r.CpusetCpus == "" {
		r.CpusetCpus = readTrim(t, filepath.Join(parent, "cpuset.cpus"))
	}
	if r.CpusetMems == "" {
		r.CpusetMems = readTrim(t, filepath.Join(parent, "cpuset.mems"))
	}
	return r
}
