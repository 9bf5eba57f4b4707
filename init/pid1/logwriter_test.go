package pid1

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// smallPipe returns a pipe that holds one page.
func smallPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	if _, err := unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, 4096); err != nil {
		t.Fatal(err)
	}
	return r, w
}

// TestLogWriterDropsRatherThanBlocks: with stderr full, logging returns
// at once, whatever the number of lines; the lines that did not fit are
// dropped, and once stderr moves again, one line in their place says how
// many. Every line is accounted for, and what arrives is in order.
func TestLogWriterDropsRatherThanBlocks(t *testing.T) {
	r, w := smallPipe(t)
	lw := newLogWriter(int(w.Fd()), "p: ")
	const n = 5000
	done := make(chan struct{})
	go func() {
		for i := range n {
			fmt.Fprintf(lw, "line %d\n", i)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("logging blocked on a full stderr")
	}
	got := make(chan string)
	go func() { b, _ := io.ReadAll(r); got <- string(b) }()
	waitFor(t, 10*time.Second, "the writer to empty its queue", func() bool { return len(lw.lines) == 0 })
	fmt.Fprintf(lw, "after\n")
	lw.Close()
	<-lw.done // before w's number can be reused
	w.Close()
	lines := strings.Split(strings.TrimSuffix(<-got, "\n"), "\n")
	next, notes := 0, 0 // the line expected next; notices seen
	for i, l := range lines {
		var k int
		switch {
		case l == "p: after" && i == len(lines)-1:
		case sscan(l, "p: line %d", &k) && k == next:
			next++
		case sscan(l, "p: log lines dropped: stderr was blocked (%d lines)", &k) && k > 0 && i < len(lines)-1:
			next += k
			notes++
		default:
			t.Fatalf("line %d: %q (expected line %d); around: %q", i, l, next, lines[max(0, i-3):min(len(lines), i+3)])
		}
	}
	if next != n || notes == 0 || lines[len(lines)-1] != "p: after" {
		t.Errorf("%d of %d lines accounted for, %d notices, the last line %q", next, n, notes, lines[len(lines)-1])
	}
}

func sscan(s, format string, v *int) bool {
	_, err := fmt.Sscanf(s, format, v)
	return err == nil
}

// TestLogWriterCloseIsBounded: Close does not wait for ever for a stderr
// that never moves.
func TestLogWriterCloseIsBounded(t *testing.T) {
	r, w := smallPipe(t)
	lw := newLogWriter(int(w.Fd()), "p: ")
	for i := range 2000 {
		fmt.Fprintf(lw, "line %d\n", i)
	}
	lw.WriteRaw([]byte("{}\n"))
	start := time.Now()
	lw.Close()
	if d := time.Since(start); d > 4*logFinalWait { // two waits of logFinalWait, and a loaded machine
		t.Errorf("Close took %v", d)
	}
	fmt.Fprintf(lw, "after close\n") // dropped, not a panic
	// The writer thread still waits on w: let it finish before w's
	// number can be reused.
	go func() { _, _ = io.Copy(io.Discard, r) }()
	<-lw.done
}
