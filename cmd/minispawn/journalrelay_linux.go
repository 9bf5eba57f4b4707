package main

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
)

// journalRelay carries the container's stdout and stderr to the journal,
// line by line (journalrelay.go says how lines are named).
type journalRelay struct {
	stdout, stderr *os.File // the write ends, for the container
	send           func(msg string, prio journal.Priority, vars map[string]string) error
	fallback       io.Writer // minispawn's stdout, for what the journal refuses
	namer          *lineNamer
	log            *slog.Logger
	readers        sync.WaitGroup
	refused        sync.Once
}

// maxJournalLine bounds one entry; a longer line goes in pieces.
const maxJournalLine = 16 << 10

// startJournalRelay starts the relay when minispawn's stdout is the
// journal and the container has no terminal of its own; else nil, and
// the container writes to minispawn's stdout and stderr directly.
func startJournalRelay(plan *Plan, log *slog.Logger) (*journalRelay, error) {
	if plan.TTY {
		return nil, nil
	}
	if ok, err := journal.StdoutIsJournalStream(); err != nil || !ok {
		return nil, nil
	}
	j := &journalRelay{send: journal.Send, fallback: os.Stdout, namer: newLineNamer(plan), log: log}
	for _, stream := range []string{"stdout", "stderr"} {
		r, w, err := os.Pipe()
		if err != nil {
			j.started()
			return nil, err
		}
		if stream == "stdout" {
			j.stdout = w
		} else {
			j.stderr = w
		}
		j.readers.Add(1)
		go j.relay(r, stream)
	}
	return j, nil
}

// relay reads one stream until every write end is closed.
func (j *journalRelay) relay(r *os.File, stream string) {
	defer j.readers.Done()
	defer r.Close()
	br := bufio.NewReaderSize(r, maxJournalLine)
	p := &pieces{n: j.namer}
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			j.line(p, line, stream)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// line sends one line, or one piece of a long one, as read (with its
// newline, if it has one); what the journal refuses goes to the fallback
// as it was read.
func (j *journalRelay) line(p *pieces, piece []byte, stream string) {
	e := p.next(piece, stream)
	if err := j.send(e.message, e.priority, e.vars); err != nil {
		j.refused.Do(func() { j.log.Warn("the journal refused the container's output; writing it to stdout", "err", err) })
		j.fallback.Write(piece)
	}
}

// started closes minispawn's copies of the write ends once the container
// holds its own, so that the relay sees the end of the output when the
// container is gone.
func (j *journalRelay) started() {
	for _, f := range []*os.File{j.stdout, j.stderr} {
		if f != nil {
			f.Close()
		}
	}
}

// finish waits, a moment at most, for the last lines: a process that
// outlived the container with a copy of its stdout must not hold
// minispawn.
func (j *journalRelay) finish() {
	j.started() // on a path that never started the container, too
	done := make(chan struct{})
	go func() { j.readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
}
