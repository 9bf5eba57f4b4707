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
// goroutines and their 8 KiB buffers.

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
	outputChunk = 4 << 10
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
	var partial []byte // a line begun in an earlier read
	for {
		var n int
		var rerr error
		var buf *[]byte
		err := rc.Read(func(fd uintptr) bool {
			if buf == nil {
				buf = chunks.Get().(*[]byte)
			}
			n, rerr = unix.Read(int(fd), *buf)
			if rerr == unix.EAGAIN {
				chunks.Put(buf)
				buf = nil
				return false
			}
			return true
		})
		if n > 0 {
			partial = m.take(s, fd, append(partial, (*buf)[:n]...), false)
		}
		if buf != nil {
			chunks.Put(buf)
		}
		if err != nil || rerr != nil || n == 0 { // end of file, or an error
			if len(partial) > 0 {
				m.take(s, fd, partial, true)
			}
			return
		}
	}
}

// chunks are the readers' buffers, shared.
var chunks = sync.Pool{New: func() any { b := make([]byte, outputChunk); return &b }}

// take passes on the complete lines of b (all of b when flush), and
// returns what is left of an unfinished line. A line longer than
// outputChunk is passed on in pieces.
func (m *outputMux) take(s *outputStream, fd int, b []byte, flush bool) []byte {
	end := bytes.LastIndexByte(b, '\n') + 1
	if flush || end == 0 && len(b) >= outputChunk {
		end = len(b)
	}
	if end == 0 {
		return b
	}
	lines, rest := b[:end], b[end:]
	out := make([]byte, 0, len(lines)+bytes.Count(lines, []byte("\n"))*len(s.prefix)+len(s.prefix)+1)
	n := 0
	for len(lines) > 0 {
		line, after, found := bytes.Cut(lines, []byte("\n"))
		lines = after
		s.keep(line)
		out = append(append(append(out, s.prefix...), line...), '\n')
		n++
		if !found {
			break
		}
	}
	if !m.enqueue(s, outputBatch{fd: fd, b: out}) {
		s.dropped.Add(uint64(n))
	}
	// The unfinished line keeps its own array: b may be reused.
	return append([]byte(nil), rest...)
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

// keep adds a line to the tail.
func (s *outputStream) keep(line []byte) {
	if len(line) > tailLineMax {
		line = line[:tailLineMax]
	}
	c := append([]byte(nil), line...)
	s.mu.Lock()
	if len(s.tail) < tailLines {
		s.tail = append(s.tail, c)
	} else {
		s.tail[s.next] = c
		s.next = (s.next + 1) % tailLines
	}
	s.mu.Unlock()
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
