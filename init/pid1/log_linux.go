package pid1

import (
	"bytes"
	"log/slog"
	"runtime"
	"sync"

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
type logWriter struct {
	fd      int
	prefix  []byte
	once    sync.Once
	started bool // set inside once: read only after once.Do
	lines   chan []byte
	done    chan struct{}
}

// newLogWriter returns a writer for fd. Its thread starts with the first
// line; Close stops it after writing everything queued.
func newLogWriter(fd int, prefix string) *logWriter {
	return &logWriter{fd: fd, prefix: []byte(prefix)}
}

// queue hands b to the writer thread, starting the thread if b is the
// first line. There is no handshake with the thread: it blocks the
// self-raised signals before it takes the first line off the queue, so no
// line is ever written without that protection.
func (w *logWriter) queue(b []byte) {
	w.once.Do(w.start)
	w.lines <- b
}

func (w *logWriter) start() {
	w.started = true
	w.lines, w.done = make(chan []byte, 1024), make(chan struct{})
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
	w.queue(b)
	return len(p), nil
}

// WriteRaw queues b as it is, without the prefix: the JSON report on
// stderr stays one parseable line.
func (w *logWriter) WriteRaw(b []byte) {
	w.queue(bytes.Clone(b))
}

// Close writes what is queued and stops the thread, if a line ever
// started it. Nothing may be logged after it.
func (w *logWriter) Close() {
	// Without a thread, a queue of its own to close: a stray line after
	// Close then fails as it would after the thread's end.
	w.once.Do(func() { w.lines = make(chan []byte) })
	close(w.lines)
	if w.started {
		<-w.done
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
	h := slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			// A PID 1's log lines are timestamped by whatever collects
			// them (journald, docker); a second clock is noise.
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	return slog.New(h), w
}
