package pid1

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Why miniinit's log lines go through a thread of their own.
//
// miniinit catches and forwards SIGPIPE, SIGTTOU, SIGTTIN and SIGXFSZ like
// any other signal. But the kernel also raises those at a process because of
// its own writes: SIGPIPE when stderr is a pipe nobody reads any more,
// SIGTTOU when stderr is a terminal with TOSTOP set and miniinit has handed
// the foreground to the workload, SIGXFSZ past RLIMIT_FSIZE. Forwarding
// those would punish the workload for miniinit's log line, and a caught
// SIGTTOU makes the kernel restart the write and raise it again, forever.
//
// Signals the kernel raises for a write are sent to the writing thread. So
// every write to fd 2 happens on one OS thread that has exactly those four
// signals blocked: there the write simply fails (EPIPE) or goes through
// (TOSTOP honours a blocked SIGTTOU), and the signal stays pending on that
// thread, unseen. A signal someone sends with kill(2) is directed at the
// process and lands on another thread, so it is still caught and forwarded.
// The thread never forks, so no workload inherits the blocked mask.
//
// The writer also never uses os.Stderr: os.File turns EPIPE on fd 1 or 2
// into a SIGPIPE of its own.

// selfRaised are the signals a write by miniinit can raise at miniinit.
var selfRaised = []unix.Signal{unix.SIGPIPE, unix.SIGTTIN, unix.SIGTTOU, unix.SIGXFSZ}

// logWriter queues log lines for the writer thread, which it starts with
// the first line: a run that logs nothing (the usual one, at the default
// level) never pays for the extra OS thread, nor for the queue.
//
// Logging never blocks the caller, PID 1's event loop above all: a stderr
// that does not move (a full pipe nobody reads, a stopped terminal) holds
// up the writer thread only. When the queue is full, lines are dropped and
// counted; the next line that finds room is preceded by one that says how
// many were lost.
type logWriter struct {
	fd     int
	prefix []byte
	note   func(dropped uint64) []byte // the line that reports a loss
	limit  *rateLimit                  // flushed by Close; nil: none

	once    sync.Once
	started bool // set inside once: read only after once.Do
	lines   chan []byte
	done    chan struct{}

	mu      sync.Mutex
	dropped uint64 // lines lost since the last one queued
	closed  bool
}

const (
	// logQueue is how many lines may wait for the writer thread.
	logQueue = 1024
	// logFinalWait bounds how long the last lines (the report, the
	// count of lines lost) wait for room, and Close for the writer.
	logFinalWait = time.Second
)

// newLogWriter returns a writer for fd. Its thread starts with the first
// line; Close stops it after writing everything queued.
func newLogWriter(fd int, prefix string) *logWriter {
	w := &logWriter{fd: fd, prefix: []byte(prefix)}
	w.note = func(n uint64) []byte {
		return fmt.Appendf(nil, "%slog lines dropped: stderr was blocked (%d lines)\n", w.prefix, n)
	}
	return w
}

// queue hands b to the writer thread, starting the thread if b is the
// first line, and drops it when the queue is full; with wait, it waits up
// to logFinalWait for room first. There is no handshake with the thread:
// it blocks the self-raised signals before it takes the first line off
// the queue, so no line is ever written without that protection.
func (w *logWriter) queue(b []byte, wait bool) {
	w.once.Do(w.start)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	var timeout <-chan time.Time
	if wait {
		t := time.NewTimer(logFinalWait)
		defer t.Stop()
		timeout = t.C
	}
	send := func(b []byte) bool {
		select {
		case w.lines <- b:
			return true
		default:
		}
		if timeout == nil {
			return false
		}
		select {
		case w.lines <- b:
			return true
		case <-timeout:
			return false
		}
	}
	if w.dropped > 0 {
		if !send(w.note(w.dropped)) {
			w.dropped++
			return
		}
		w.dropped = 0
	}
	if b != nil && !send(b) {
		w.dropped++
	}
}

func (w *logWriter) start() {
	w.started = true
	w.lines, w.done = make(chan []byte, logQueue), make(chan struct{})
	go func() {
		// Locked for good: when this goroutine returns, the thread exits
		// with it, and the signals pending on it go too.
		runtime.LockOSThread()
		var set unix.Sigset_t
		for _, s := range selfRaised {
			set.Val[(s-1)/64] |= 1 << ((uint(s) - 1) % 64)
		}
		// If blocking fails the writes still work; they lose only the
		// protection described above.
		_ = unix.PthreadSigmask(unix.SIG_BLOCK, &set, nil)
		for b := range w.lines {
			writeAll(w.fd, b)
		}
		close(w.done)
	}()
}

// Write queues one line; slog hands over a whole record per call.
func (w *logWriter) Write(p []byte) (int, error) {
	b := make([]byte, 0, len(w.prefix)+len(p))
	b = append(append(b, w.prefix...), p...)
	w.queue(b, false)
	return len(p), nil
}

// WriteRaw queues b as it is, without the prefix: the JSON report on
// stderr stays one parseable line. It waits for room a moment: the report
// is written once, at the end.
func (w *logWriter) WriteRaw(b []byte) {
	w.queue(bytes.Clone(b), true)
}

// flushRepeats writes the repeated lines left out so far (lograte.go).
func (w *logWriter) flushRepeats() {
	if w.limit != nil {
		w.limit.flush()
	}
}

// Close writes what is queued and stops the thread, if a line ever
// started it, waiting at most logFinalWait for a stderr that does not
// move. Lines logged after it are dropped.
func (w *logWriter) Close() {
	w.flushRepeats()
	w.once.Do(func() { w.lines = make(chan []byte) })
	w.mu.Lock()
	dropped := w.dropped > 0 && w.started
	w.mu.Unlock()
	if dropped {
		w.queue(nil, true) // the count of lines lost
	}
	w.mu.Lock()
	w.closed = true
	close(w.lines)
	w.mu.Unlock()
	if w.started {
		select {
		case <-w.done:
		case <-time.After(logFinalWait):
		}
	}
}

// writeAll writes b to fd, waiting out EAGAIN on a descriptor someone left
// non-blocking (writeFull, output_linux.go). Other errors drop the line: a
// log line is not worth a hang.
func writeAll(fd int, b []byte) {
	_ = writeFull(fd, b)
}

// newLogger returns miniinit's logger: "miniinit: level=WARN msg=..." lines
// on stderr, at the level verbosity selects, and its writer, which the
// caller closes last.
func newLogger(verbosity int) (*slog.Logger, *logWriter) {
	level := slog.LevelWarn
	switch {
	case verbosity >= 2:
		level = slog.LevelDebug
	case verbosity == 1:
		level = slog.LevelInfo
	}
	w := newLogWriter(2, "miniinit: ")
	opts := &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			// A PID 1's log lines are timestamped by whatever collects
			// them (journald, docker); a second clock is noise.
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}
	// The line that reports lost lines looks like every other.
	w.note = func(n uint64) []byte {
		var b bytes.Buffer
		r := slog.NewRecord(time.Now(), slog.LevelWarn, "log lines dropped: stderr was blocked", 0)
		r.AddAttrs(slog.Uint64("lines", n))
		_ = slog.NewTextHandler(&b, opts).Handle(context.Background(), r)
		return append(bytes.Clone(w.prefix), b.Bytes()...)
	}
	w.limit = newRateLimit(slog.NewTextHandler(w, opts), time.Now)
	return slog.New(w.limit), w
}
