package pid1

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"syscall"
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

// testMux is a mux on the captures' descriptors whose warnings go to
// the returned buffer.
func testMux(out, errs *capture) (*outputMux, *syncBuffer) {
	var logs syncBuffer
	return newOutputMux(int(out.w.Fd()), int(errs.w.Fd()), slog.New(slog.NewTextHandler(&logs, nil))), &logs
}

// writeTo writes s into w, closes it, as a workload would.
func writeTo(t *testing.T, w *os.File, s string) {
	t.Helper()
	if _, err := w.WriteString(s); err != nil {
		t.Fatal(err)
	}
	w.Close()
}

// TestOutputPrefixAndTail: prefixed lines come out whole, each
// workload's in its order, the last unterminated one completed; lines of
// different workloads may come out in either order (they are written in
// the order their copiers have them whole: web's last line only once its
// pipe closes, possibly after db's line).
func TestOutputPrefixAndTail(t *testing.T) {
	out, errs := newCapture(t, true), newCapture(t, true)
	m, _ := testMux(out, errs)
	o, e, err := m.open("web", true, false)
	if err != nil {
		t.Fatal(err)
	}
	o2, e2, err := m.open("db", false, false)
	if err != nil {
		t.Fatal(err)
	}
	writeTo(t, o, "one\ntwo\nno newline at the end")
	writeTo(t, e, "oops\n")
	writeTo(t, o2, "plain\n")
	writeTo(t, e2, "")
	m.flush(5*time.Second, nil)
	got := out.text(t)
	var web, db []string
	for _, l := range strings.SplitAfter(got, "\n") {
		switch {
		case strings.HasPrefix(l, "web: "):
			web = append(web, l)
		case l != "":
			db = append(db, l)
		}
	}
	if strings.Join(web, "") != "web: one\nweb: two\nweb: no newline at the end\n" || strings.Join(db, "") != "plain\n" {
		t.Errorf("stdout %q: web %q, db %q", got, web, db)
	}
	if got := errs.text(t); got != "web: oops\n" {
		t.Errorf("stderr %q", got)
	}
	// stdout and stderr interleave in the tail as they were read: only
	// each stream's own order is fixed.
	tail, dropped, _ := m.tail("web", 0)
	sorted := slices.Sorted(slices.Values(tail))
	if strings.Join(sorted, "|") != "no newline at the end|one|oops|two" || slices.Index(tail, "one") > slices.Index(tail, "two") {
		t.Errorf("tail %q", tail)
	}
	if dropped != 0 {
		t.Errorf("dropped %d", dropped)
	}
	if tail, _, _ := m.tail("web", 1); len(tail) != 1 {
		t.Errorf("tail 1: %q", tail)
	}
	if tail, _, _ := m.tail("nobody", 5); tail != nil {
		t.Errorf("tail of an unknown workload: %q", tail)
	}
}

// TestOutputExactWithoutPrefix: without a prefix the bytes pass as they
// were written: a 300,000-byte line stays one line, binary output (every
// byte value, no final newline) and a last line without a newline are
// unchanged. The tail keeps the last lines, each cut to tailLineMax.
func TestOutputExactWithoutPrefix(t *testing.T) {
	for name, data := range map[string]string{
		"long line":  strings.Repeat("x", 300000) + "\n",
		"binary":     string(everyByte(3 << 20)),
		"no newline": "abc",
		"lines then long": func() string {
			var b strings.Builder
			for i := range 500 {
				fmt.Fprintf(&b, "line %d\n", i)
			}
			return b.String() + strings.Repeat("y", 3*outputChunk)
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			out, errs := newCapture(t, true), newCapture(t, true)
			m, _ := testMux(out, errs)
			o, e, _ := m.open("w", false, false)
			e.Close()
			writeTo(t, o, data)
			m.flush(5*time.Second, nil)
			if got := out.text(t); got != data {
				t.Errorf("output altered: %d bytes, want %d", len(got), len(data))
			}
			tail, _, _ := m.tail("w", 0)
			for _, l := range tail {
				if len(l) > tailLineMax {
					t.Fatalf("tail line of %d bytes", len(l))
				}
			}
			if name == "lines then long" {
				if len(tail) != tailLines || tail[0] != "line 401" || tail[len(tail)-1] != strings.Repeat("y", tailLineMax) {
					t.Errorf("tail: %d lines, %.20q ... %.20q", len(tail), tail[0], tail[len(tail)-1])
				}
			}
		})
	}
}

// TestOutputPrefixedLongLine: with a prefix, a line longer than
// outputChunk is written as prefixed lines of at most outputChunk bytes
// each, which hold the line's bytes in order; the tail keeps the line
// once, cut.
func TestOutputPrefixedLongLine(t *testing.T) {
	out, errs := newCapture(t, true), newCapture(t, true)
	m, _ := testMux(out, errs)
	o, e, _ := m.open("w", true, false)
	e.Close()
	long := string(bytes.Repeat([]byte("0123456789"), 3*outputChunk/10+7))
	writeTo(t, o, long+"\nafter\n")
	m.flush(5*time.Second, nil)
	pieces := strings.SplitAfter(out.text(t), "\n")
	var joined strings.Builder
	for _, p := range pieces[:len(pieces)-2] {
		body, ok := strings.CutPrefix(p, "w: ")
		if !ok || len(body) > outputChunk+1 {
			t.Fatalf("piece of %d bytes: %.20q", len(p), p)
		}
		joined.WriteString(strings.TrimSuffix(body, "\n"))
	}
	if joined.String() != long || len(pieces) < 5 || pieces[len(pieces)-2] != "w: after\n" {
		t.Errorf("%d pieces; the line's bytes changed", len(pieces))
	}
	if tail, _, _ := m.tail("w", 0); len(tail) != 2 || tail[0] != long[:tailLineMax] || tail[1] != "after" {
		t.Errorf("tail %.40q", tail)
	}
}

// everyByte returns n bytes in which every byte value occurs, in no
// simple pattern, the same on every call.
func everyByte(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{}).Read(b)
	return b
}

// TestOutputBlockedStdoutHoldsWorkload: with miniinit's stdout blocked,
// a workload writing a lot waits in its write (back-pressure), loses
// nothing, and goes on once stdout moves again.
func TestOutputBlockedStdoutHoldsWorkload(t *testing.T) {
	out, errs := newCapture(t, false), newCapture(t, true) // nobody reads stdout yet
	m, _ := testMux(out, errs)
	o, e, _ := m.open("chatty", true, false)
	e.Close()
	line := strings.Repeat("y", 99) + "\n"
	const total = 4 << 20 // far beyond the pipes
	done := make(chan error, 1)
	go func() {
		chunk := strings.Repeat(line, 100)
		var err error
		for n := 0; n < total && err == nil; n += len(chunk) {
			_, err = o.WriteString(chunk)
		}
		o.Close()
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the workload wrote 4 MiB to a blocked stdout (err %v)", err)
	case <-time.After(time.Second):
	}
	out.start() // stdout moves again
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the workload never finished once stdout moved")
	}
	m.flush(10*time.Second, nil)
	got := out.text(t)
	lines := (total + 100*len(line) - 1) / (100 * len(line)) * 100 // whole chunks
	if n := strings.Count(got, "chatty: "+line); n != lines || len(got) != lines*(len(line)+len("chatty: ")) {
		t.Errorf("%d whole lines of %d, %d bytes", n, lines, len(got))
	}
	if d := m.dropped(); len(d) != 0 {
		t.Errorf("dropped %v", d)
	}
}

// TestOutputDropMode: a workload with log_overflow = "drop" is never held
// up by a blocked stdout: what does not fit is dropped, whole lines,
// counted, with a warning when dropping starts and when output moves.
func TestOutputDropMode(t *testing.T) {
	out, errs := newCapture(t, false), newCapture(t, true) // nobody reads stdout yet
	m, logs := testMux(out, errs)
	o, e, _ := m.open("chatty", true, true)
	e.Close()
	line := strings.Repeat("y", 99) + "\n"
	const total = 8 << 20
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
	out.start() // stdout moves again
	m.flush(10*time.Second, nil)
	d := m.dropped()["chatty"]
	if d.Lines == 0 || d.Bytes != d.Lines*uint64(len(line)+len("chatty: ")) {
		t.Fatalf("dropped %+v", d)
	}
	got := out.text(t)
	lines := uint64((total + 100*len(line) - 1) / (100 * len(line)) * 100) // whole chunks
	if n := uint64(strings.Count(got, "chatty: "+line)); n+d.Lines != lines || strings.Count(got, "\n") != int(n) {
		t.Errorf("%d lines written + %d dropped != %d", n, d.Lines, lines)
	}
	if l := logs.String(); !strings.Contains(l, "output blocked: dropping it") || !strings.Contains(l, "stopped dropping output") || !strings.Contains(l, "workload=chatty") {
		t.Errorf("warnings: %q", l)
	}
	if _, dropped, _ := m.tail("chatty", 0); dropped != d.Lines {
		t.Errorf("tail says %d dropped", dropped)
	}
}

// TestOutputReaderGone: when miniinit's stdout has no reader any more,
// the workload's next write fails with EPIPE (as it would without
// miniinit), and the copier's own write raised no signal at miniinit.
func TestOutputReaderGone(t *testing.T) {
	for _, drop := range []bool{false, true} {
		t.Run(fmt.Sprint("drop=", drop), func(t *testing.T) {
			out, errs := newCapture(t, false), newCapture(t, true)
			out.r.Close() // the reader is gone
			m, logs := testMux(out, errs)
			o, e, _ := m.open("w", false, drop)
			e.Close()
			deadline := time.Now().Add(10 * time.Second)
			var err error
			for err == nil && time.Now().Before(deadline) {
				_, err = o.WriteString("x\n")
				time.Sleep(time.Millisecond)
			}
			if !errors.Is(err, syscall.EPIPE) {
				t.Fatalf("write: %v, want EPIPE", err)
			}
			o.Close()
			m.flush(5*time.Second, nil)
			if !strings.Contains(logs.String(), "broken pipe") {
				t.Errorf("no warning: %q", logs.String())
			}
		})
	}
}

// TestOutputReadersPark: an idle workload's readers hold no thread (they
// wait in Go's poller).
func TestOutputReadersPark(t *testing.T) {
	out, errs := newCapture(t, true), newCapture(t, true)
	m, _ := testMux(out, errs)
	before := threads(t)
	var ws []*os.File
	for i := range 20 {
		o, e, err := m.open(fmt.Sprint("w", i), false, false)
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
	m.flush(5*time.Second, nil)
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
	m := newOutputMux(int(w.Fd()), int(errs.w.Fd()), slog.Default())
	o, e, _ := m.open("steady", false, false)
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
			time.Sleep(200 * time.Microsecond) // a slow reader
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("read %d of %d bytes in 30s", got, lines*100)
	}
	m.flush(5*time.Second, nil)
	if _, dropped, _ := m.tail("steady", 0); dropped != 0 || got != lines*100 {
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
	m := newOutputMux(int(w.Fd()), int(w.Fd()), slog.Default())
	o, e, err := m.open("w1", true, false)
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
	m.flush(10*time.Second, nil)
	b.StopTimer()
	if d := m.dropped()["w1"]; d.Lines != 0 {
		b.Fatalf("%d lines dropped", d.Lines)
	}
}

// TestOutputSplitLinesAndShortLines: a line written in two parts, a
// read apart, gets one prefix; a read of many empty lines under a long
// prefix (output many times the read) is queued in bounded batches and
// arrives whole, nothing dropped.
func TestOutputSplitLinesAndShortLines(t *testing.T) {
	out, errs := newCapture(t, true), newCapture(t, true)
	m, _ := testMux(out, errs)
	name := strings.Repeat("n", 60)
	o, e, err := m.open(name, true, false)
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
	m.flush(10*time.Second, nil)
	pfx := name + ": "
	want := pfx + "hello\n" + strings.Repeat(pfx+"\n", len(empties))
	if got := out.text(t); got != want {
		t.Errorf("stdout: %d bytes, want %d; starts %.80q", len(got), len(want), got)
	}
	if d := m.dropped()[name]; d.Lines != 0 {
		t.Errorf("%d lines dropped", d.Lines)
	}
	if tail, _, _ := m.tail(name, 0); len(tail) != tailLines || tail[0] != "" {
		t.Errorf("tail: %d lines, first %q", len(tail), tail[0])
	}
}
