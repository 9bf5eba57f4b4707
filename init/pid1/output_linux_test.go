package pid1

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// capture is a pipe standing for miniinit's stdout or stderr, read into
// a buffer by a goroutine; paused, nobody reads it.
type capture struct {
	r, w *os.File
	buf  bytes.Buffer
	done chan struct{}
}

func newCapture(t *testing.T, start bool) *capture {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &capture{r: r, w: w, done: make(chan struct{})}
	t.Cleanup(func() { w.Close(); r.Close() })
	if start {
		c.start()
	}
	return c
}

func (c *capture) start() {
	go func() {
		defer close(c.done)
		c.buf.ReadFrom(c.r)
	}()
}

// text closes the write end and returns all that was written.
func (c *capture) text(t *testing.T) string {
	t.Helper()
	c.w.Close()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Fatal("capture never ended")
	}
	return c.buf.String()
}

// writeTo writes s into w, closes it, as a workload would.
func writeTo(t *testing.T, w *os.File, s string) {
	t.Helper()
	if _, err := w.WriteString(s); err != nil {
		t.Fatal(err)
	}
	w.Close()
}

func TestOutputPrefixAndTail(t *testing.T) {
	out, errs := newCapture(t, true), newCapture(t, true)
	m := newOutputMux(int(out.w.Fd()), int(errs.w.Fd()))
	o, e, err := m.open("web", true)
	if err != nil {
		t.Fatal(err)
	}
	o2, e2, err := m.open("db", false)
	if err != nil {
		t.Fatal(err)
	}
	writeTo(t, o, "one\ntwo\nno newline at the end")
	writeTo(t, e, "oops\n")
	writeTo(t, o2, "plain\n")
	writeTo(t, e2, "")
	m.flush(5 * time.Second)
	if got, want := out.text(t), "web: one\nweb: two\nweb: no newline at the end\nplain\n"; got != want && got != "plain\n"+strings.TrimSuffix(want, "plain\n") {
		t.Errorf("stdout %q, want %q (in either workload order)", got, want)
	}
	if got := errs.text(t); got != "web: oops\n" {
		t.Errorf("stderr %q", got)
	}
	// stdout and stderr interleave in the tail as they were read: only
	// each stream's own order is fixed.
	tail, dropped := m.tail("web", 0)
	sorted := slices.Sorted(slices.Values(tail))
	if strings.Join(sorted, "|") != "no newline at the end|one|oops|two" || slices.Index(tail, "one") > slices.Index(tail, "two") {
		t.Errorf("tail %q", tail)
	}
	if dropped != 0 {
		t.Errorf("dropped %d", dropped)
	}
	if tail, _ := m.tail("web", 1); len(tail) != 1 {
		t.Errorf("tail 1: %q", tail)
	}
	if tail, _ := m.tail("nobody", 5); tail != nil {
		t.Errorf("tail of an unknown workload: %q", tail)
	}
}

// TestOutputTailBounded: only the last tailLines lines are kept, each
// cut to tailLineMax; a long line passes through whole, in pieces.
func TestOutputTailBounded(t *testing.T) {
	out, errs := newCapture(t, true), newCapture(t, true)
	m := newOutputMux(int(out.w.Fd()), int(errs.w.Fd()))
	o, e, _ := m.open("w", false)
	e.Close()
	var b strings.Builder
	for i := range 500 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	long := strings.Repeat("x", 3*outputChunk)
	b.WriteString(long + "\n")
	writeTo(t, o, b.String())
	m.flush(5 * time.Second)
	got := out.text(t)
	if !strings.HasPrefix(got, "line 0\nline 1\n") || strings.ReplaceAll(got, "\n", "") != strings.ReplaceAll(b.String(), "\n", "") {
		t.Errorf("output altered (%d bytes, want %d)", len(got), b.Len())
	}
	tail, _ := m.tail("w", 0)
	// The last 100 lines: the last numbered ones, then the long line's
	// pieces (as many as the reads cut it into), each cut in the tail.
	if len(tail) != tailLines || !strings.HasPrefix(tail[0], "line 4") {
		t.Errorf("tail has %d lines, from %q", len(tail), tail[0])
	}
	for _, l := range tail {
		if len(l) > tailLineMax {
			t.Fatalf("tail line of %d bytes", len(l))
		}
	}
	if last := tail[len(tail)-1]; last == "" || strings.Trim(last, "x") != "" {
		t.Errorf("last tail line %.20q...", last)
	}
}

// TestOutputBlockedStdoutDrops: with miniinit's stdout blocked, a
// workload writing a lot is never held up; what cannot be queued is
// dropped and counted, and said on stderr once stdout moves again.
func TestOutputBlockedStdoutDrops(t *testing.T) {
	out, errs := newCapture(t, false), newCapture(t, true) // nobody reads stdout yet
	m := newOutputMux(int(out.w.Fd()), int(errs.w.Fd()))
	o, e, _ := m.open("chatty", true)
	e.Close()
	line := strings.Repeat("y", 99) + "\n"
	const total = 8 << 20 // far beyond the pipe and the queue
	done := make(chan time.Duration)
	go func() {
		start := time.Now()
		chunk := strings.Repeat(line, 100)
		for n := 0; n < total; n += len(chunk) {
			if _, err := o.WriteString(chunk); err != nil {
				break
			}
		}
		o.Close()
		done <- time.Since(start)
	}()
	select {
	case d := <-done:
		t.Logf("8 MiB written in %v with stdout blocked", d)
	case <-time.After(20 * time.Second):
		t.Fatal("the workload was held up by a blocked stdout")
	}
	if q := m.queued.Load(); q > outputQueueBytes {
		t.Errorf("queue holds %d bytes, above the bound %d", q, outputQueueBytes)
	}
	out.start() // stdout moves again
	m.flush(10 * time.Second)
	_, dropped := m.tail("chatty", 0)
	if dropped == 0 {
		t.Fatal("nothing dropped")
	}
	got := out.text(t)
	lines := uint64((total + 100*len(line) - 1) / (100 * len(line)) * 100) // whole chunks
	if n := uint64(strings.Count(got, "\n")); n+dropped != lines {
		t.Errorf("%d lines written + %d dropped != %d", n, dropped, lines)
	}
	if note := errs.text(t); !strings.Contains(note, "miniinit: chatty: ") || !strings.Contains(note, "lines of output dropped") {
		t.Errorf("no drop notice on stderr: %q", note)
	}
	if d := m.dropped(); d["chatty"] != dropped {
		t.Errorf("dropped() %v", d)
	}
}

// TestOutputReadersPark: an idle workload's readers hold no thread (they
// wait in Go's poller).
func TestOutputReadersPark(t *testing.T) {
	out, errs := newCapture(t, true), newCapture(t, true)
	m := newOutputMux(int(out.w.Fd()), int(errs.w.Fd()))
	before := threads(t)
	var ws []*os.File
	for i := range 20 {
		o, e, err := m.open(fmt.Sprint("w", i), false)
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, o, e)
	}
	time.Sleep(100 * time.Millisecond)
	if after := threads(t); after > before+2 {
		t.Errorf("threads %d -> %d for 40 idle readers", before, after)
	}
	for _, w := range ws {
		w.Close()
	}
	m.flush(5 * time.Second)
}

func threads(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	roottest.Need(t, err == nil, fmt.Sprintf("/proc/self/task (%v)", err))
	return len(ents)
}

// TestOutputSlowStdoutLosesNothing: a stdout that is slower than the
// workload but moving applies back-pressure: every line arrives, none is
// dropped.
func TestOutputSlowStdoutLosesNothing(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	errs := newCapture(t, true)
	m := newOutputMux(int(w.Fd()), int(errs.w.Fd()))
	o, e, _ := m.open("steady", false)
	e.Close()
	const lines = 40000 // 4 MB: far past the queue and the pipe
	go func() {
		line := strings.Repeat("z", 99) + "\n"
		for range lines {
			if _, err := o.WriteString(line); err != nil {
				break
			}
		}
		o.Close()
	}()
	got := 0
	buf := make([]byte, 16<<10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for got < lines*100 {
			n, err := r.Read(buf)
			got += n
			if err != nil {
				return
			}
			time.Sleep(200 * time.Microsecond) // a slow reader, well under outputStall per read
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("read %d of %d bytes in 30s", got, lines*100)
	}
	m.flush(5 * time.Second)
	if _, dropped := m.tail("steady", 0); dropped != 0 || got != lines*100 {
		t.Errorf("read %d bytes of %d, %d lines dropped", got, lines*100, dropped)
	}
}

// BenchmarkOutputPrefixed: one workload's 128-byte lines through the mux
// with prefixes, to a pipe drained as fast as it fills (B8's path).
func BenchmarkOutputPrefixed(b *testing.B) {
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close(); w.Close() })
	go io.Copy(io.Discard, r)
	m := newOutputMux(int(w.Fd()), int(w.Fd()))
	o, e, err := m.open("w1", true)
	if err != nil {
		b.Fatal(err)
	}
	e.Close()
	chunk := []byte(strings.Repeat(strings.Repeat("b", 127)+"\n", 512)) // 64 KiB
	b.SetBytes(int64(len(chunk)))
	b.ResetTimer()
	for range b.N {
		if _, err := o.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	o.Close()
	m.flush(10 * time.Second)
	b.StopTimer()
	if d := m.dropped()["w1"]; d != 0 {
		b.Fatalf("%d lines dropped", d)
	}
}

// TestOutputSplitLinesAndShortLines: a line written in two parts, a
// read apart, gets one prefix; a read of many empty lines under a long
// prefix (output many times the read) is queued in bounded batches and
// arrives whole, nothing dropped.
func TestOutputSplitLinesAndShortLines(t *testing.T) {
	out, errs := newCapture(t, true), newCapture(t, true)
	m := newOutputMux(int(out.w.Fd()), int(errs.w.Fd()))
	name := strings.Repeat("n", 60)
	o, e, err := m.open(name, true)
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	if _, err := o.WriteString("hel"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the reader takes "hel" alone
	empties := strings.Repeat("\n", 2*outputChunk)
	writeTo(t, o, "lo\n"+empties)
	m.flush(10 * time.Second)
	pfx := name + ": "
	want := pfx + "hello\n" + strings.Repeat(pfx+"\n", len(empties))
	if got := out.text(t); got != want {
		t.Errorf("stdout: %d bytes, want %d; starts %.80q", len(got), len(want), got)
	}
	if d := m.dropped()[name]; d != 0 {
		t.Errorf("%d lines dropped", d)
	}
	if tail, _ := m.tail(name, 0); len(tail) != tailLines || tail[0] != "" {
		t.Errorf("tail: %d lines, first %q", len(tail), tail[0])
	}
}
