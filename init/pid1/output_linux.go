package pid1

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Workload output. Each supervised workload writes its stdout and stderr
// into pipes of its own; a copier goroutine per pipe reads them and writes
// what it read to miniinit's own stdout or stderr, keeping the last lines
// in memory (`miniinit ctl logs`) on the way.
//
// Output is data: by default every byte reaches miniinit's stdout or
// stderr, in order, unchanged. Without log_prefix a copier writes each
// read as it came (a 300,000-byte line, gzip output and a last line
// without a newline pass byte for byte). With log_prefix it is line-based
// by nature: it writes whole lines, each prefixed ("web: "); a final line
// without a newline gets one when the pipe closes, and a line longer than
// outputChunk is written as several prefixed lines.
//
// Back-pressure: a copier's write blocks for as long as the reader of
// miniinit's stdout takes. Meanwhile the copier does not read, the
// workload's pipe fills, and the workload's own write blocks, as it would
// on a slow stdout of its own. A stall stops only the copiers writing to
// the stalled descriptor and the workloads behind them: PID 1's event
// loop never writes output and never waits for a copier, so signals,
// reaping, probes and control go on. When the reader goes away (EPIPE) or
// the write fails otherwise, the copier closes its read end, so the
// workload's next write gets EPIPE or SIGPIPE, as without miniinit, and
// `| head -1` ends.
//
// Dropping is a choice a workload makes (log_overflow = "drop"): then a
// copier never waits for stdout. It queues what it reads for a writer
// goroutine of its own, at most dropQueueBytes, and drops what does not
// fit, whole reads at a time, counting lines and bytes; it warns when
// dropping starts and when output moves again. The counts are in `ctl
// status`, `ctl logs` and the report.
//
// Order: each pipe's bytes come out in the order written. Writes to one
// descriptor are serialised (outputSink), and a prefixed write holds only
// whole lines, so lines of different workloads never meet inside a line;
// between workloads, and between a workload's stdout and stderr, lines
// come out in the order their copiers wrote them, which is not
// necessarily the order the workloads wrote them in.
//
// Signals a write raises at its writer (SIGPIPE, SIGTTOU, SIGXFSZ) must
// not be taken for signals sent to miniinit, which forwards those (see
// log_linux.go): each write runs on a locked thread with them blocked. A
// failed write may leave one pending there; the copier then ends with
// its thread still locked, and the runtime ends the thread, signal and
// all.
//
// The pipes' read ends are non-blocking and served by Go's poller, so an
// idle workload costs no thread: ten workloads are twenty parked
// goroutines; a copier holds a read buffer only while its pipe has
// something to read. A write that waits holds a thread.

const (
	// outputChunk is how much a copier takes from its pipe at once;
	// large, so that a fast workload costs a few system calls per
	// megabyte. A prefixed line longer than this is written in pieces,
	// each a prefixed line of its own.
	outputChunk = 128 << 10
	// batchMax bounds (but for one line) what a prefixed write holds:
	// prefixes on many short lines make the output larger than the read.
	batchMax = outputChunk + outputChunk/4
	// outputPipe is the size asked of each workload pipe (the kernel
	// gives pages only as they are written).
	outputPipe = 256 << 10
	// dropQueueBytes bounds what a dropping workload's copier queues for
	// its writer; past it, output is dropped.
	dropQueueBytes = 512 << 10
	// pipeBuf is PIPE_BUF: a pipe takes a write of at most this whole or
	// not at all.
	pipeBuf = 4096
	// tailLines and tailLineMax bound what is kept of each workload's
	// output in memory: the last tailLines lines, each cut to
	// tailLineMax bytes.
	tailLines   = 100
	tailLineMax = 512
)

// outputMux is the copiers' shared state: the two descriptors and the
// per-workload bookkeeping.
type outputMux struct {
	log   *slog.Logger
	sinks [2]*outputSink // miniinit's stdout and stderr; one sink when they are the same file

	mu      sync.Mutex
	streams map[string]*outputStream
	pipes   map[*os.File]struct{} // read ends still open, for flush
	stopped bool                  // flush has stopped waiting for input

	readers sync.WaitGroup               // lossless copiers
	queued  sync.WaitGroup               // dropping workloads' writers
	queues  map[*dropQueue]*outputStream // dropping writers not yet ended, for flush
}

// outputSink is one descriptor output is written to. Its lock keeps a
// write whole against the other copiers' writes.
type outputSink struct {
	fd   int
	name string // "stdout", "stderr"
	mu   sync.Mutex
}

// outputStream is one workload's bookkeeping, shared by its copiers and
// kept across runs.
type outputStream struct {
	name         string
	dropped      atomic.Uint64 // lines
	droppedBytes atomic.Uint64
	direct       atomic.Bool // the last run wrote to the terminal directly
	// writing is what a lossless copier has handed to a write that has
	// not returned: what is lost if miniinit exits before the reader
	// takes it.
	writing atomic.Int64
	mu      sync.Mutex
	tail    [][]byte // ring of the last lines
	next    int
}

// copier is one pipe's copier for one run.
type copier struct {
	m      *outputMux
	s      *outputStream
	sink   *outputSink
	prefix []byte
	q      *dropQueue // nil: lossless
	frag   []byte     // the tail's unfinished line (up to tailLineMax)
	// episode counts what one stretch of dropping lost, for its warning.
	episodeLines, episodeBytes uint64
	// episodeWrites is the writer's count of writes when the stretch
	// began: a read that finds room in the queue ends the stretch only
	// once the writer has written since, or output that does not move
	// would "move again" whenever a small read fits.
	episodeWrites uint64
}

// newOutputMux makes the copiers' shared state for stdout and stderr
// (miniinit's fds 1 and 2, or others in tests); log takes the warnings
// of dropping workloads.
func newOutputMux(stdout, stderr int, log *slog.Logger) *outputMux {
	m := &outputMux{
		log:     log,
		streams: map[string]*outputStream{},
		pipes:   map[*os.File]struct{}{},
		queues:  map[*dropQueue]*outputStream{},
	}
	m.sinks[0] = &outputSink{fd: stdout, name: "stdout"}
	m.sinks[1] = &outputSink{fd: stderr, name: "stderr"}
	if sameFile(stdout, stderr) {
		// 2>&1: one lock, or a stdout line and a stderr line could meet.
		m.sinks[1] = m.sinks[0]
	}
	return m
}

// sameFile reports whether two descriptors are the same file.
func sameFile(a, b int) bool {
	var sa, sb unix.Stat_t
	if unix.Fstat(a, &sa) != nil || unix.Fstat(b, &sb) != nil {
		return a == b
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// stream returns name's bookkeeping, made at its first run.
func (m *outputMux) stream(name string) *outputStream {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.streams[name]
	if s == nil {
		s = &outputStream{name: name}
		m.streams[name] = s
	}
	return s
}

// direct notes that this run of name writes to miniinit's descriptors
// itself (it reads a terminal), so `ctl logs` can say why it has nothing.
func (m *outputMux) direct(name string) {
	m.stream(name).direct.Store(true)
}

// open makes the pipes for one run of workload name and starts their
// copiers; it returns the write ends for the child's fds 1 and 2, which
// the caller closes once the child has them. prefix prefixes each line;
// drop makes the copiers drop rather than wait for a blocked stdout.
func (m *outputMux) open(name string, prefix, drop bool) (stdout, stderr *os.File, err error) {
	s := m.stream(name)
	s.direct.Store(false)
	var pfx []byte
	if prefix {
		pfx = []byte(name + ": ")
	}
	var r, w [2]*os.File
	for i := range w {
		if r[i], w[i], err = pipe(); err != nil {
			if i == 1 {
				r[0].Close()
				w[0].Close()
			}
			return nil, nil, err
		}
	}
	m.mu.Lock()
	for i := range r {
		m.pipes[r[i]] = struct{}{}
		if m.stopped {
			// A start after flush began: whatever it writes is read
			// only until the pipe runs dry.
			_ = r[i].SetReadDeadline(time.Now())
		}
	}
	m.mu.Unlock()
	for i := range r {
		c := &copier{m: m, s: s, sink: m.sinks[i], prefix: pfx}
		if drop {
			c.q = newDropQueue()
			m.mu.Lock()
			m.queues[c.q] = s
			m.mu.Unlock()
			m.queued.Add(1)
			go c.q.write(m, c.sink, s, r[i])
		}
		m.readers.Add(1)
		go c.run(r[i])
	}
	return w[0], w[1], nil
}

// pipe returns a pipe whose read end (only) is non-blocking: the child's
// end must block, as any stdout does.
func pipe() (r, w *os.File, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, sysErr("pipe", err)
	}
	if err := unix.SetNonblock(p[0], true); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return nil, nil, sysErr("pipe O_NONBLOCK", err)
	}
	// A pipe of outputPipe, where the kernel allows it (the size is
	// capped for unprivileged processes): fewer stops for a workload that
	// writes in bursts. Best effort: the default pipe works, slower.
	_, _ = unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, outputPipe)
	return os.NewFile(uintptr(p[0]), "output"), os.NewFile(uintptr(p[1]), "output"), nil
}

// chunks are the copiers' read buffers, batches the prefixed writes'.
var (
	chunks  = sync.Pool{New: func() any { b := make([]byte, outputChunk); return &b }}
	batches = sync.Pool{New: func() any { b := make([]byte, 0, batchMax); return &b }}
)

// run copies the pipe r until every copy of its write end is closed (the
// workload and whatever it left running have all gone), a write fails,
// or flush has stopped waiting and the pipe is dry. After a failed write
// the goroutine ends locked to its thread (see outputSink.write).
func (c *copier) run(r *os.File) {
	defer func() {
		c.m.mu.Lock()
		delete(c.m.pipes, r)
		c.m.mu.Unlock()
		r.Close()
		if c.q != nil {
			c.q.close(c)
		}
		if len(c.frag) > 0 {
			c.s.push(c.frag)
		}
		c.m.readers.Done()
	}()
	rc, err := r.SyscallConn()
	if err != nil {
		return
	}
	// An unfinished prefixed line stays at the front of buf (k bytes) for
	// the next read to complete; while the pipe is empty and buf goes
	// back to the pool, it waits in partial.
	var (
		buf     *[]byte
		k       int
		partial []byte
		n       int
		rerr    error
	)
	read := func(fd uintptr) bool {
		if buf == nil {
			buf = chunks.Get().(*[]byte)
			k = copy(*buf, partial)
			partial = partial[:0]
		}
		for {
			n, rerr = unix.Read(int(fd), (*buf)[k:])
			if rerr != unix.EINTR {
				break
			}
		}
		if rerr == unix.EAGAIN {
			partial = append(partial, (*buf)[:k]...)
			chunks.Put(buf)
			buf, k = nil, 0
			return false
		}
		return true
	}
	dry := false // flush stopped the wait: read what is there, then end
	for {
		n, rerr = 0, nil
		var err error
		if dry {
			// The poller refuses to read past the deadline, and Fd
			// would make the pipe blocking: read through Control.
			if cerr := rc.Control(func(fd uintptr) { read(fd) }); cerr != nil {
				err = cerr
			}
		} else {
			err = rc.Read(read)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				dry = true
				continue
			}
		}
		if n > 0 {
			b := (*buf)[:k+n]
			rest, werr := c.take(b, false)
			k = copy(*buf, b[len(b)-rest:])
			if werr != nil {
				if c.q == nil {
					c.m.log.Warn("cannot write a workload's output: closing its pipe (its next write gets EPIPE)",
						"workload", c.s.name, "to", c.sink.name, "err", werr)
				}
				chunks.Put(buf)
				return
			}
		}
		if err != nil || rerr != nil || n == 0 { // end of file, an error, or dry
			if buf != nil {
				partial = append(partial, (*buf)[:k]...)
				chunks.Put(buf)
			}
			if len(partial) > 0 {
				_, _ = c.take(partial, true)
			}
			return
		}
	}
}

// take writes the complete lines of b (all of b when flush, or when
// there is no prefix; a prefixed line longer than outputChunk in pieces,
// each given a newline), and returns the length of the unfinished line
// left at b's end for the next read to complete. b is not kept. A write
// error leaves the goroutine locked to its thread: it must end.
func (c *copier) take(b []byte, flush bool) (int, error) {
	end := len(b)
	if len(c.prefix) > 0 && !flush {
		end = bytes.LastIndexByte(b, '\n') + 1
		if end == 0 && len(b) >= outputChunk {
			// A piece keeps its last byte back, so the line's last
			// piece (its newline, at least) is never empty.
			end = len(b) - 1
		}
	}
	if end == 0 {
		return len(b), nil
	}
	c.keep(b[:end], flush)
	if len(c.prefix) == 0 {
		return 0, c.put(b[:end], false)
	}
	lines := b[:end]
	// Writes of whole lines, each at most about batchMax.
	for len(lines) > 0 {
		ob := batches.Get().(*[]byte)
		out := (*ob)[:0]
		for len(lines) > 0 && len(out) < batchMax {
			i := bytes.IndexByte(lines, '\n') + 1
			if i == 0 {
				i = len(lines)
			}
			out = append(append(out, c.prefix...), lines[:i]...)
			lines = lines[i:]
		}
		if out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
		*ob = out
		err := c.put(out, true)
		if c.q == nil {
			batches.Put(ob)
		}
		if err != nil {
			return 0, err
		}
	}
	return len(b) - end, nil
}

// put writes b (lossless), or queues it for the writer (dropping); pooled
// says b is a batch from the pool, which the queue then owns.
func (c *copier) put(b []byte, pooled bool) error {
	if c.q == nil {
		c.s.writing.Add(int64(len(b)))
		err := c.sink.write(b)
		if err == nil {
			c.s.writing.Add(-int64(len(b)))
		}
		return err
	}
	if !pooled {
		ob := batches.Get().(*[]byte)
		*ob = append((*ob)[:0], b...)
		b = *ob
	}
	if c.q.broken.Load() {
		return errPipeGone
	}
	if c.q.offer(b) {
		if c.episodeLines+c.episodeBytes > 0 && c.q.writes.Load() != c.episodeWrites {
			c.noteStopped("output moves again")
		}
		return nil
	}
	nl := uint64(bytes.Count(b, []byte("\n")))
	if c.episodeLines+c.episodeBytes == 0 {
		c.episodeWrites = c.q.writes.Load()
		c.m.log.Warn("output blocked: dropping it (log_overflow = \"drop\")", "workload", c.s.name, "to", c.sink.name)
	}
	c.episodeLines += nl
	c.episodeBytes += uint64(len(b))
	c.s.dropped.Add(nl)
	c.s.droppedBytes.Add(uint64(len(b)))
	ob := b[:0]
	batches.Put(&ob)
	return nil
}

// noteStopped warns that a stretch of dropping is over, why, and what it
// lost.
func (c *copier) noteStopped(why string) {
	c.m.log.Warn("stopped dropping output: "+why, "workload", c.s.name, "to", c.sink.name,
		"dropped_lines", c.episodeLines, "dropped_bytes", c.episodeBytes)
	c.episodeLines, c.episodeBytes = 0, 0
}

// errPipeGone: a dropping workload's writer found its descriptor closed.
var errPipeGone = errors.New("the descriptor's reader is gone")

// write writes b whole to the sink, for as long as its reader takes,
// on a locked thread with the self-raised signals blocked. On success
// the thread is as it was; on an error it stays locked, with the signal
// the write raised pending, and the caller's goroutine must end.
func (k *outputSink) write(b []byte) error {
	return k.writeEach(b, len(b), nil)
}

// writeEach is write in pieces of at most piece bytes, calling done with
// each once it is written.
func (k *outputSink) writeEach(b []byte, piece int, done func([]byte)) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	runtime.LockOSThread()
	var set, old unix.Sigset_t
	for _, s := range selfRaised {
		set.Val[(s-1)/64] |= 1 << ((uint(s) - 1) % 64)
	}
	masked := unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old) == nil
	for len(b) > 0 {
		n := min(piece, len(b))
		if err := writeFull(k.fd, b[:n]); err != nil {
			return err
		}
		if done != nil {
			done(b[:n])
		}
		b = b[n:]
	}
	if masked {
		_ = unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
	}
	runtime.UnlockOSThread()
	return nil
}

// writeFull writes b to fd, waiting out EAGAIN on a descriptor someone
// left non-blocking, and returns the first other error.
func writeFull(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
			if _, err := unix.Poll(pfd, -1); err != nil && !errors.Is(err, unix.EINTR) {
				return err
			}
			continue
		case err != nil:
			return err
		}
		b = b[n:]
	}
	return nil
}

// dropQueue is what a dropping workload's copier hands its writer.
type dropQueue struct {
	ch     chan []byte
	bytes  atomic.Int64  // queued or being written
	lines  atomic.Int64  // the newlines in bytes
	broken atomic.Bool   // the writer's write failed: it ended
	writes atomic.Uint64 // the writer's writes so far
}

func newDropQueue() *dropQueue {
	return &dropQueue{ch: make(chan []byte, 256)}
}

// offer queues b if it fits, and reports whether it did.
func (q *dropQueue) offer(b []byte) bool {
	if q.bytes.Load()+int64(len(b)) > dropQueueBytes {
		return false
	}
	nl := int64(bytes.Count(b, []byte("\n")))
	q.bytes.Add(int64(len(b)))
	q.lines.Add(nl)
	select {
	case q.ch <- b:
		return true
	default:
		q.bytes.Add(-int64(len(b)))
		q.lines.Add(-nl)
		return false
	}
}

// done takes b, written or not, off the queue's counts.
func (q *dropQueue) done(b []byte) {
	q.bytes.Add(-int64(len(b)))
	q.lines.Add(-int64(bytes.Count(b, []byte("\n"))))
}

// close ends the queue; the writer writes what is in it and ends.
func (q *dropQueue) close(c *copier) {
	close(q.ch)
	if c.episodeLines+c.episodeBytes > 0 {
		c.noteStopped("the workload's output ended")
	}
}

// write is a dropping workload's writer. After a failed write it closes
// the pipe's read end, so the workload's next write fails as the
// copier's would, and ends locked to its thread (see sink.write).
func (q *dropQueue) write(m *outputMux, k *outputSink, s *outputStream, r *os.File) {
	defer func() {
		m.mu.Lock()
		delete(m.queues, q)
		m.mu.Unlock()
		m.queued.Done()
	}()
	for b := range q.ch {
		if q.broken.Load() {
			q.done(b)
			continue
		}
		// In pieces of PIPE_BUF, each counted off the queue once
		// written: a pipe takes such a write whole or not at all, so
		// what flush counts as dropped at exit was not delivered.
		err := k.writeEach(b, pipeBuf, q.done)
		q.writes.Add(1)
		ob := b[:0]
		batches.Put(&ob)
		if err != nil {
			q.broken.Store(true)
			m.log.Warn("cannot write a workload's output: closing its pipe (its next write gets EPIPE)",
				"workload", s.name, "to", k.name, "err", err)
			// Closing the read end under the copier wakes it with an
			// error; it then ends too.
			_ = r.SetReadDeadline(time.Now())
			for range q.ch { // let the copier finish without blocking
			}
			return // locked: the thread ends
		}
	}
}

// keep adds the bytes of b to the tail: complete lines, and the rest to
// the copier's unfinished line (all of it when flush). Only the last
// tailLines lines of b are looked at.
func (c *copier) keep(b []byte, flush bool) {
	last := bytes.LastIndexByte(b, '\n')
	if last < 0 {
		c.frag = appendCut(c.frag, b)
		if flush {
			c.s.push(c.frag)
			c.frag = c.frag[:0]
		}
		return
	}
	complete, rest := b[:last+1], b[last+1:]
	// Skip all but the last tailLines complete lines.
	start := len(complete)
	for i := 0; i < tailLines && start > 0; i++ {
		j := bytes.LastIndexByte(complete[:start-1], '\n')
		start = j + 1
	}
	if start > 0 {
		c.frag = c.frag[:0] // its line ended among the skipped ones
	}
	c.s.mu.Lock()
	for lines := complete[start:]; len(lines) > 0; {
		i := bytes.IndexByte(lines, '\n')
		line := lines[:i]
		lines = lines[i+1:]
		if len(c.frag) > 0 {
			c.frag = appendCut(c.frag, line)
			c.s.pushLocked(c.frag)
			c.frag = c.frag[:0]
			continue
		}
		c.s.pushLocked(line)
	}
	c.s.mu.Unlock()
	c.frag = appendCut(c.frag, rest)
	if flush && len(rest) > 0 {
		c.s.push(c.frag)
		c.frag = c.frag[:0]
	}
}

// appendCut appends b to frag, up to tailLineMax in all.
func appendCut(frag, b []byte) []byte {
	if room := tailLineMax - len(frag); len(b) > room {
		b = b[:max(room, 0)]
	}
	return append(frag, b...)
}

// push adds one line to the tail.
func (s *outputStream) push(line []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pushLocked(line)
}

// pushLocked adds one line (cut to tailLineMax), copying it into the
// array of the line it replaces.
func (s *outputStream) pushLocked(line []byte) {
	if len(line) > tailLineMax {
		line = line[:tailLineMax]
	}
	if len(s.tail) < tailLines {
		s.tail = append(s.tail, append([]byte(nil), line...))
		return
	}
	s.tail[s.next] = append(s.tail[s.next][:0], line...)
	s.next = (s.next + 1) % tailLines
}

// tail returns up to n of the last lines of name's output, oldest first
// (stdout and stderr interleaved as they were read), how many lines were
// dropped, and whether its last run wrote to the terminal directly (then
// there is nothing to keep).
func (m *outputMux) tail(name string, n int) ([]string, uint64, bool) {
	m.mu.Lock()
	s := m.streams[name]
	m.mu.Unlock()
	if s == nil {
		return nil, 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all := append(append([][]byte(nil), s.tail[s.next:]...), s.tail[:s.next]...)
	if n > 0 && n < len(all) {
		all = all[len(all)-n:]
	}
	out := make([]string, len(all))
	for i, l := range all {
		out[i] = string(l)
	}
	return out, s.dropped.Load(), s.direct.Load()
}

// outputDrops is what a dropping workload lost.
type outputDrops struct{ Lines, Bytes uint64 }

// dropped returns the output dropped so far, by workload.
func (m *outputMux) dropped() map[string]outputDrops {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]outputDrops{}
	for name, s := range m.streams {
		if d := (outputDrops{s.dropped.Load(), s.droppedBytes.Load()}); d != (outputDrops{}) {
			out[name] = d
		}
	}
	return out
}

// flush returns once every copier has written everything it read, and
// reports whether it did: it waits for the pipes' ends (every copy of
// every write end closed: the workloads and whatever they left have
// gone), at most wait; then it stops waiting for input, so a pipe a
// survivor still holds is read only until it is dry. The lossless writes
// take as long as the reader of stdout does (miniinit exits only once all
// output is delivered), or until stop is closed (the stop budget ran
// out): then flush returns false at once, and what was not written is
// abandoned (undelivered says how much). A dropping workload's queue,
// which never waits for its reader, gets at most wait more; what is then
// still queued is counted as dropped, with a warning.
func (m *outputMux) flush(wait time.Duration, stop <-chan struct{}) bool {
	done := make(chan struct{})
	go func() { m.readers.Wait(); close(done) }()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-done:
	case <-stop:
		m.discardQueues()
		return false
	case <-timer.C:
		m.mu.Lock()
		m.stopped = true
		for r := range m.pipes {
			_ = r.SetReadDeadline(time.Now())
		}
		m.mu.Unlock()
		select {
		case <-done:
		case <-stop:
			m.discardQueues()
			return false
		}
	}
	queued := make(chan struct{})
	go func() { m.queued.Wait(); close(queued) }()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-queued:
	case <-t.C:
		m.discardQueues()
	case <-stop:
		m.discardQueues()
		return false
	}
	return true
}

// discardQueues counts what the dropping workloads' writers still hold
// as dropped, and warns about it: miniinit exits without it. A write in
// progress is counted whole: its reader had not taken any of it, or the
// write would have returned.
func (m *outputMux) discardQueues() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for q, s := range m.queues {
		delete(m.queues, q)
		lines, n := q.lines.Swap(0), q.bytes.Swap(0)
		if n <= 0 {
			continue
		}
		s.dropped.Add(uint64(max(lines, 0)))
		s.droppedBytes.Add(uint64(n))
		m.log.Warn("output dropped at exit: its reader did not take it (log_overflow = \"drop\")",
			"workload", s.name, "dropped_lines", lines, "dropped_bytes", n)
	}
}

// undelivered returns, by workload, the bytes of lossless output that a
// write has not delivered (the write still waits for the reader).
func (m *outputMux) undelivered() map[string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int64{}
	for name, s := range m.streams {
		if n := s.writing.Load(); n > 0 {
			out[name] = n
		}
	}
	return out
}
