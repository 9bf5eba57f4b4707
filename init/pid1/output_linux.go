package pid1

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Workload output. Each supervised workload writes its stdout and stderr
// into pipes of its own; a reader goroutine per pipe cuts the bytes into
// lines, prefixes them with the workload's name when asked ("web: "),
// keeps the last lines in memory (`miniinit ctl logs`), and queues them
// for one writer thread that writes them to miniinit's own stdout and
// stderr, in the order each pipe gave them.
//
// The policy when the container's stdout or stderr is slower than the
// workloads (a log driver behind, a terminal scrolling) or blocked (a full
// pipe nobody reads, a stopped terminal): the queue holds at most
// outputQueueBytes. A reader that finds it full waits for room, at most
// outputStall: a slow stdout slows the workloads down (as writing to it
// directly would), without losing a line. Past that wait the stream is
// taken for blocked: from then on its output is dropped, whole reads at a
// time, and counted per workload, without waiting, until the queue has
// drained to half; the writer says so on stderr, at most once a second
// ("miniinit: web: 1200 lines of output dropped"), and the report and
// `miniinit ctl logs` give the count. So a workload is never held up more
// than outputStall by a stdout that does not move, and PID 1's event loop
// (which never touches output) not at all.
//
// The writer runs on a thread of its own with the signals a write can
// raise blocked, as miniinit's log writer does (log_linux.go): an EPIPE
// on a closed stdout is an error to drop output on, not a SIGPIPE to
// forward to the workloads.
//
// The pipes' read ends are non-blocking and served by Go's poller, so an
// idle workload costs no thread: ten workloads are twenty parked
// goroutines and their 8 KiB stacks; a reader holds a read buffer only
// while its pipe has something to read.
//
// Throughput: a reader takes up to outputChunk at once and turns all the
// complete lines of it into one prefixed batch (one queue send, one write
// by the writer), the batches' arrays recycled through a pool; the tail
// takes only the last tailLines lines of each read, into arrays it reuses.
// So the cost per line is a newline search and two copies, and the
// system calls are per read of up to outputChunk, not per line. The
// pipes are made outputPipe large, so a workload writing fast is stopped
// less often.

const (
	// outputQueueBytes bounds the output waiting for the writer.
	outputQueueBytes = 512 << 10
	// outputStall is how long a reader waits for room in the queue
	// before its stream is taken for blocked and dropped.
	outputStall = 250 * time.Millisecond
	// noteEvery spaces the drop notices.
	noteEvery = time.Second
	// outputChunk is how much a reader takes from its pipe at once; a
	// line longer than this is passed on in pieces, each ending in a
	// newline.
	// Large, so that a fast workload costs a few system calls per
	// megabyte.
	outputChunk = 128 << 10
	// batchMax bounds (but for one line) what a reader queues at
	// once: room for a whole read and its prefixes, far below the queue.
	batchMax = outputChunk + outputChunk/4
	// outputPipe is the size asked of each workload pipe (the kernel
	// gives pages only as they are written).
	outputPipe = 256 << 10
	// tailLines and tailLineMax bound what is kept of each workload's
	// output in memory: the last tailLines lines, each cut to
	// tailLineMax bytes.
	tailLines   = 100
	tailLineMax = 512
)

// outputMux is the writer and the per-workload bookkeeping.
type outputMux struct {
	queue  chan outputBatch
	queued atomic.Int64  // bytes in queue
	room   chan struct{} // a token each time the writer frees room
	noted  time.Time     // the last drop notice (writer's)
	fds    [2]int        // miniinit's stdout and stderr

	mu      sync.Mutex
	streams map[string]*outputStream
	readers sync.WaitGroup
}

type outputBatch struct {
	fd      int
	b       []byte
	buf     *[]byte       // b's array, from batches: back there once written
	flushed chan struct{} // set on flush's marker only
}

// outputStream is one workload's bookkeeping, shared by its two readers.
type outputStream struct {
	name     string
	prefix   []byte
	dropped  atomic.Uint64 // lines
	dropping atomic.Bool   // taken for blocked: drop until the queue drains
	noted    uint64        // dropped lines already reported (writer's)
	mu       sync.Mutex
	tail     [][]byte // ring of the last lines
	next     int
}

// newOutputMux starts the writer for stdout and stderr (miniinit's fds 1
// and 2, or others in tests).
func newOutputMux(stdout, stderr int) *outputMux {
	m := &outputMux{
		queue:   make(chan outputBatch, 256),
		room:    make(chan struct{}, 1),
		fds:     [2]int{stdout, stderr},
		streams: map[string]*outputStream{},
	}
	ready := make(chan struct{})
	go m.write(ready)
	<-ready
	return m
}

// write is the writer thread.
func (m *outputMux) write(ready chan struct{}) {
	runtime.LockOSThread() // for good: the blocked signals die with the thread
	var set unix.Sigset_t
	for _, s := range selfRaised {
		set.Val[(s-1)/64] |= 1 << ((uint(s) - 1) % 64)
	}
	_ = unix.PthreadSigmask(unix.SIG_BLOCK, &set, nil)
	close(ready)
	for b := range m.queue {
		if b.flushed != nil {
			m.noteDrops()
			close(b.flushed)
			continue
		}
		writeAll(b.fd, b.b)
		m.queued.Add(-int64(len(b.b)))
		if b.buf != nil {
			batches.Put(b.buf)
		}
		select {
		case m.room <- struct{}{}:
		default:
		}
		if time.Since(m.noted) >= noteEvery {
			m.noteDrops()
		}
	}
}

// noteDrops writes, on stderr, how much output each workload lost since
// the last note.
func (m *outputMux) noteDrops() {
	m.noted = time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.streams {
		if d := s.dropped.Load(); d != s.noted {
			writeAll(m.fds[1], []byte("miniinit: "+s.name+": "+strconv.FormatUint(d-s.noted, 10)+" lines of output dropped (stdout or stderr blocked)\n"))
			s.noted = d
		}
	}
}

// open makes the pipes for one run of workload name and starts their
// readers; it returns the write ends for the child's fds 1 and 2, which the
// caller closes once the child has them. The bookkeeping (tail, drop
// count) lives across runs.
func (m *outputMux) open(name string, prefix bool) (stdout, stderr *os.File, err error) {
	m.mu.Lock()
	s := m.streams[name]
	if s == nil {
		s = &outputStream{name: name}
		m.streams[name] = s
	}
	s.prefix = nil
	if prefix {
		s.prefix = []byte(name + ": ")
	}
	m.mu.Unlock()
	var w [2]*os.File
	for i := range w {
		r, wr, err := pipe()
		if err != nil {
			if i == 1 {
				w[0].Close()
			}
			return nil, nil, err
		}
		w[i] = wr
		m.readers.Add(1)
		go m.read(s, r, m.fds[i])
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

// read is one pipe's reader: until every copy of the write end is closed
// (the workload and whatever it left running have all gone). It holds a
// buffer only while there is something to read: an idle reader waits in
// the poller with nothing but its stack.
func (m *outputMux) read(s *outputStream, r *os.File, fd int) {
	defer m.readers.Done()
	defer r.Close()
	rc, err := r.SyscallConn()
	if err != nil {
		return
	}
	// An unfinished line stays at the front of buf (k bytes) for the
	// next read to complete; while the pipe is empty and buf goes back to
	// the pool, it waits in partial.
	var (
		buf     *[]byte
		k       int
		partial []byte
	)
	for {
		var n int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			if buf == nil {
				buf = chunks.Get().(*[]byte)
				k = copy(*buf, partial)
				partial = partial[:0]
			}
			n, rerr = unix.Read(int(fd), (*buf)[k:])
			if rerr == unix.EAGAIN {
				partial = append(partial, (*buf)[:k]...)
				chunks.Put(buf)
				buf, k = nil, 0
				return false
			}
			return true
		})
		if n > 0 {
			b := (*buf)[:k+n]
			if end := m.take(s, fd, b, false); end > 0 {
				k = copy(*buf, b[end:])
			} else {
				k = len(b)
			}
		}
		if err != nil || rerr != nil || n == 0 { // end of file, or an error
			if buf != nil {
				partial = append(partial, (*buf)[:k]...)
				chunks.Put(buf)
			}
			if len(partial) > 0 {
				m.take(s, fd, partial, true)
			}
			return
		}
	}
}

// chunks are the readers' buffers, shared; batches are the writer's.
var (
	chunks  = sync.Pool{New: func() any { b := make([]byte, outputChunk); return &b }}
	batches = sync.Pool{New: func() any { b := make([]byte, 0, batchMax); return &b }}
)

// take passes on the complete lines of b (all of b when flush; a line
// longer than outputChunk is passed on in pieces, each given a newline),
// and returns how much of b it took: the rest is an unfinished line. b is
// not kept.
func (m *outputMux) take(s *outputStream, fd int, b []byte, flush bool) int {
	end := bytes.LastIndexByte(b, '\n') + 1
	switch {
	case flush:
		end = len(b)
	case end == 0 && len(b) >= outputChunk:
		// A piece keeps its last byte back, so the line's last piece
		// (its newline, at least) is never empty.
		end = len(b) - 1
	}
	if end == 0 {
		return 0
	}
	lines := b[:end]
	// n lines, each ending in a newline but perhaps the last (a flush, a
	// piece), which is given one. Only the last tailLines can stay in
	// the tail: the others are skipped.
	n := bytes.Count(lines, []byte("\n"))
	if lines[len(lines)-1] != '\n' {
		n++
	}
	all, skip, kept := lines, n-tailLines, 0
	if len(s.prefix) == 0 {
		for ; skip > 0; skip-- {
			kept += bytes.IndexByte(lines[kept:], '\n') + 1
		}
	}
	// Batches of whole lines, each at most about batchMax: prefixes
	// on many short lines must not make one larger than the queue.
	for len(lines) > 0 {
		ob := batches.Get().(*[]byte)
		out, count := (*ob)[:0], 0
		if len(s.prefix) == 0 {
			out, count, lines = append(out, lines...), n, nil
		}
		for len(lines) > 0 && len(out) < batchMax {
			if skip == 0 {
				kept = len(all) - len(lines)
			}
			skip--
			i := bytes.IndexByte(lines, '\n') + 1
			if i == 0 {
				i = len(lines)
			}
			out = append(append(out, s.prefix...), lines[:i]...)
			lines = lines[i:]
			count++
		}
		if out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
		*ob = out
		if !m.enqueue(s, outputBatch{fd: fd, b: out, buf: ob}) {
			s.dropped.Add(uint64(count))
			batches.Put(ob)
		}
	}
	s.keep(all[kept:])
	return end
}

// enqueue queues b for the writer under the policy above, and reports
// whether it did (false: b is to be dropped).
func (m *outputMux) enqueue(s *outputStream, b outputBatch) bool {
	if s.dropping.Load() {
		if m.queued.Load() > outputQueueBytes/2 {
			return false
		}
		s.dropping.Store(false)
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if m.queued.Load()+int64(len(b.b)) <= outputQueueBytes {
			select {
			case m.queue <- b:
				m.queued.Add(int64(len(b.b)))
				return true
			default:
			}
		}
		if timer == nil {
			timer = time.NewTimer(outputStall)
		}
		select {
		case <-m.room:
		case <-timer.C:
			s.dropping.Store(true)
			return false
		}
	}
}

// keep adds the lines of b (each ending in a newline but perhaps the
// last) to the tail, copying them into the arrays of the lines they
// replace (tail copies what it returns, under mu).
func (s *outputStream) keep(b []byte) {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		line, rest, more := bytes.Cut(b, []byte("\n"))
		if len(line) > tailLineMax {
			line = line[:tailLineMax]
		}
		if len(s.tail) < tailLines {
			s.tail = append(s.tail, append([]byte(nil), line...))
		} else {
			s.tail[s.next] = append(s.tail[s.next][:0], line...)
			s.next = (s.next + 1) % tailLines
		}
		if !more {
			return
		}
		b = rest
	}
}

// tail returns up to n of the last lines of name's output, oldest first
// (stdout and stderr interleaved as they were read), and how many lines
// were dropped.
func (m *outputMux) tail(name string, n int) ([]string, uint64) {
	m.mu.Lock()
	s := m.streams[name]
	m.mu.Unlock()
	if s == nil {
		return nil, 0
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
	return out, s.dropped.Load()
}

// dropped returns the lines of output dropped so far, by workload.
func (m *outputMux) dropped() map[string]uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]uint64{}
	for name, s := range m.streams {
		if d := s.dropped.Load(); d > 0 {
			out[name] = d
		}
	}
	return out
}

// flush waits, at most timeout in all, for the readers to finish (every
// copy of every pipe's write end closed: the workloads and whatever they
// left have gone) and for the writer to write what they queued. A process
// that survived with a pipe, or a stdout that stays blocked, cannot hold
// miniinit's exit longer than that.
func (m *outputMux) flush(timeout time.Duration) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	readers := make(chan struct{})
	go func() { m.readers.Wait(); close(readers) }()
	select {
	case <-readers:
	case <-timer.C:
		return
	}
	done := make(chan struct{})
	select {
	case m.queue <- outputBatch{flushed: done}:
	case <-timer.C:
		return
	}
	select {
	case <-done:
	case <-timer.C:
	}
}
