package pid1

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// Output end to end: miniinit's stdout and stderr are pipes the test reads
// itself, as slowly as it likes (runOpts.setup replaces startMini's
// buffers), and the workloads are real processes.

// outPipes is a pipe for miniinit's stdout and, when both, one for its
// stderr (else stderr goes to startMini's buffer, for the test to read).
type outPipes struct {
	r, w []*os.File
}

func newOutPipes(t *testing.T, both bool) *outPipes {
	t.Helper()
	p := &outPipes{}
	for range map[bool]int{false: 1, true: 2}[both] {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close(); w.Close() })
		p.r, p.w = append(p.r, r), append(p.w, w)
	}
	return p
}

// setup gives the command the pipes' write ends.
func (p *outPipes) setup(c *exec.Cmd) {
	c.Stdout = p.w[0]
	if len(p.w) > 1 {
		c.Stderr = p.w[1]
	}
}

// started closes the write ends: the child has its copies.
func (p *outPipes) started() {
	for _, w := range p.w {
		w.Close()
	}
}

// TestOutputEveryByteSlowReader: 50 MB of every byte value, to stdout
// and stderr at once, through miniinit -- and miniinit -c, to a reader
// that reads nothing for 3 s and then reads slowly: both streams arrive
// whole (equal sha256), and the workload, which exits as soon as it has
// written, loses nothing to miniinit's exit. With -c the control socket
// answers during the stall.
func TestOutputEveryByteSlowReader(t *testing.T) {
	blob := bytes.Repeat(everyByte(1<<20), 50)
	want := fmt.Sprintf("%x", sha256.Sum256(blob))
	file := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(file, blob, 0o644); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("cat %s & cat %s >&2; wait", file, file)
	for _, mode := range []string{"--", "-c"} {
		t.Run(mode, func(t *testing.T) {
			p := newOutPipes(t, true)
			var r *miniRun
			var s *sup
			if mode == "--" {
				r = startMini(t, runOpts{setup: p.setup}, "-s", "--", "/bin/sh", "-c", script)
			} else {
				s = newSup(t, "", fmt.Sprintf("[[workload]]\nname = \"blob\"\ncommand = \"/bin/sh\"\nargs = [\"-c\", %q]\n", script))
				r = startMini(t, runOpts{setup: p.setup}, "-s", "-c", s.file)
				s.run = r
			}
			p.started()
			time.Sleep(3 * time.Second)
			if s != nil {
				if st := s.ctl(ControlRequest{Op: "status"}); !st.OK {
					t.Errorf("status during the stall: %+v", st)
				}
			}
			type sum struct {
				hash string
				n    int64
			}
			sums := make(chan sum, 2)
			for _, f := range p.r {
				go func() { h, n := roottest.SlowRead(f); sums <- sum{h, n} }()
			}
			for range 2 {
				if got := <-sums; got.hash != want || got.n != int64(len(blob)) {
					t.Errorf("read %d bytes (sha256 %.12s), want %d (%.12s)", got.n, got.hash, len(blob), want)
				}
			}
			if code := r.wait(60 * time.Second); code != 0 {
				t.Errorf("exit code %d", code)
			}
		})
	}
}

// TestOutputHeadEnds: `miniinit -c app.toml | head -1` ends: once the
// reader has gone, the workload's next write gets SIGPIPE, as without
// miniinit, and the container ends with 141, within a second.
func TestOutputHeadEnds(t *testing.T) {
	p := newOutPipes(t, false)
	s := newSup(t, "", `
[[workload]]
name = "ticker"
command = "/bin/sh"
args = ["-c", "while :; do echo x; sleep 0.1; done"]
`)
	r := startMini(t, runOpts{setup: p.setup}, "-s", "-c", s.file)
	s.run = r
	p.started()
	line, err := bufio.NewReader(p.r[0]).ReadString('\n')
	if err != nil || line != "x\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	p.r[0].Close() // head -1 has its line
	gone := time.Now()
	code := r.wait(30 * time.Second)
	if d := time.Since(gone); d > time.Second {
		t.Errorf("miniinit ended %v after its reader", d)
	}
	if code != 128+int(syscall.SIGPIPE) {
		t.Errorf("exit code %d, want 141 (SIGPIPE)", code)
	}
}

// TestOutputTenPrefixedWhole: ten prefixed workloads writing lines of up
// to 20,000 bytes at once, through 64 KiB writes that end mid-line: every
// line comes out whole, once, after its own prefix, each workload's in
// order.
func TestOutputTenPrefixedWhole(t *testing.T) {
	const n = 60
	var body strings.Builder
	for i := range 10 {
		fmt.Fprintf(&body, "[[workload]]\nname = \"w%d\"\ncommand = \"HELPER\"\nargs = [\"lines\", \"w%d\", \"%d\"]\nlog_prefix = true\n", i, i, n)
	}
	s := newSup(t, "", body.String())
	s.start()
	if code := s.run.wait(60 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	next := map[string]int{}
	for _, line := range strings.SplitAfter(s.run.stdout.String(), "\n") {
		if line == "" {
			continue
		}
		if err := wholeLine(line, next); err != nil {
			t.Fatalf("%v: %.100q", err, line)
		}
	}
	for i := range 10 {
		if w := fmt.Sprint("w", i); next[w] != n {
			t.Errorf("%s: %d lines of %d", w, next[w], n)
		}
	}
}

// wholeLine checks one prefixed line of the helper's lines mode: "wN: wN
// i SIZE " then one letter, SIZE bytes after the prefix, i the next
// line of wN.
func wholeLine(line string, next map[string]int) error {
	pfx, rest, ok := strings.Cut(line, ": ")
	f := strings.SplitN(rest, " ", 4)
	if !ok || len(f) != 4 || f[0] != pfx {
		return fmt.Errorf("not a whole line")
	}
	i, err1 := strconv.Atoi(f[1])
	size, err2 := strconv.Atoi(f[2])
	if err1 != nil || err2 != nil || len(rest) != size || i != next[pfx] {
		return fmt.Errorf("line %s of %s (want %d), %d bytes (want %s)", f[1], pfx, next[pfx], len(rest), f[2])
	}
	letter := string(rune('a' + i%26))
	if strings.Trim(strings.TrimSuffix(f[3], "\n"), letter) != "" {
		return fmt.Errorf("another line inside")
	}
	next[pfx]++
	return nil
}

// TestOutputStallKeepsLoop: while a workload is held up by a stdout
// nobody reads, the event loop goes on: a signal sent to miniinit
// reaches another workload within 100 ms, and the control socket
// answers. A workload with log_overflow = "drop" writing meanwhile is
// not held up: it drops, warns, and its counts are in ctl status and the
// report. Once stdout is read again everything else arrives.
func TestOutputStallKeepsLoop(t *testing.T) {
	p := newOutPipes(t, false)
	s := newSup(t, `signals = { SIGUSR1 = ["rec"] }`, `
[[workload]]
name = "yes"
command = "/usr/bin/yes"
[[workload]]
name = "dropper"
command = "HELPER"
args = ["spew", "2000000"]
log_overflow = "drop"
[[workload]]
name = "rec"
command = "HELPER"
args = ["record", "DIR/rec", "DIR/rec-ready"]
env = { GODEBUG = "asyncpreemptoff=1" }
`)
	r := startMini(t, runOpts{setup: p.setup}, "-s", "-c", s.file)
	s.run = r
	p.started()
	waitFile(t, filepath.Join(s.dir, "rec-ready"))
	s.waitState("dropper", "completed") // never held up
	var worst time.Duration
	for k := 1; k <= 5; k++ {
		sent := time.Now()
		s.signal(syscall.SIGUSR1)
		waitFor(t, 10*time.Second, "SIGUSR1 recorded", func() bool { return len(recorded(t, filepath.Join(s.dir, "rec"))) == k })
		worst = max(worst, time.Since(sent))
	}
	t.Logf("SIGUSR1 during the stall: forwarded within %v", worst)
	if worst > 100*time.Millisecond {
		t.Errorf("a signal during the stall took %v to reach the workload", worst)
	}
	var dropped uint64
	for _, w := range s.ctl(ControlRequest{Op: "status"}).Workloads {
		if w.Name == "dropper" {
			dropped = w.OutputDropped
		}
		if w.Name != "dropper" && w.OutputDropped != 0 {
			t.Errorf("%s dropped %d lines", w.Name, w.OutputDropped)
		}
	}
	if dropped == 0 {
		t.Errorf("dropper dropped nothing by ctl status")
	}
	go io.Copy(io.Discard, p.r[0]) // stdout moves again
	s.signal(syscall.SIGTERM)
	r.wait(30 * time.Second)
	rep := readReport(t, s.report)
	i := slices.IndexFunc(rep.Workloads, func(w workloadReport) bool { return w.Name == "dropper" })
	if i < 0 || rep.Workloads[i].OutputDropped != dropped || rep.Workloads[i].OutputDroppedBytes == 0 {
		t.Errorf("report: %+v, want %d lines dropped", rep.Workloads, dropped)
	}
	if e := r.stderr.String(); !strings.Contains(e, "output blocked: dropping it") || !strings.Contains(e, "stopped dropping output") {
		t.Errorf("no warnings on stderr:\n%s", e)
	}
}
