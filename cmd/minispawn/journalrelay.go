package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/coreos/go-systemd/v22/journal"
)

// The journal relay: when minispawn's stdout is the journal (a service's
// default), the container's output reaches it as entries whose
// SYSLOG_IDENTIFIER is the workload that wrote the line, so that
// `journalctl -u UNIT -t web` shows web's lines alone. miniinit names the
// writer at the start of each line of a workload with log_prefix = true
// ("web: ..."), and its own lines with "miniinit: "; minispawn takes the
// name off and makes it the identifier. Only names of workloads that set
// log_prefix count, so a workload without it cannot pass its lines off as
// another's; its lines, and any other, carry the container's name. A
// line longer than one entry goes in pieces, each with its line's name.
// miniinit's own log lines become entries of their level's priority.
// journalrelay_linux.go moves the bytes.

// journalLine is one line of the container's output as a journal entry.
type journalLine struct {
	message    string
	identifier string
	priority   journal.Priority
	vars       map[string]string
}

// lineNamer recognises the writer of a line of the container's output.
type lineNamer struct {
	container string
	prefixed  map[string]bool // workloads with log_prefix
}

// initName is the prefix of miniinit's own log lines.
const initName = "miniinit"

func newLineNamer(plan *Plan) *lineNamer {
	n := &lineNamer{container: plan.Name, prefixed: map[string]bool{initName: true}}
	for _, w := range plan.Workloads {
		if w.LogPrefix {
			n.prefixed[w.Name] = true
		}
	}
	return n
}

// entry makes the journal entry of line (without its newline), from
// stream "stdout" or "stderr". miniinit's own lines are slog records
// ("level=WARN msg=... key=value"): they become entries of their level's
// priority, with each attribute as a field (initRecord).
func (n *lineNamer) entry(line []byte, stream string) journalLine {
	id, msg := n.container, line
	if name, rest, ok := bytes.Cut(line, []byte(": ")); ok && n.prefixed[string(name)] {
		id, msg = string(name), rest
	}
	e := n.named(id, string(msg), journal.PriInfo, stream)
	if id == initName {
		initRecord(&e)
	}
	return e
}

// named is an entry of identifier id.
func (n *lineNamer) named(id, msg string, prio journal.Priority, stream string) journalLine {
	return journalLine{
		message:    msg,
		identifier: id,
		priority:   prio,
		vars: map[string]string{
			"SYSLOG_IDENTIFIER": id,
			"CONTAINER_NAME":    n.container,
			"MINISPAWN_STREAM":  stream,
		},
	}
}

// pieces names the entries of one stream, where a line longer than an
// entry comes in several pieces: every piece after the first is its
// line's continuation, with the first piece's identifier and priority
// (never parsed for a name of its own), so `journalctl -t web` has all
// of web's long line.
type pieces struct {
	n    *lineNamer
	cont *journalLine // the line's first entry, while the line goes on
}

// next is the entry of piece, as read: a whole line ends in '\n', a piece
// of a longer line does not.
func (p *pieces) next(piece []byte, stream string) journalLine {
	whole := len(piece) > 0 && piece[len(piece)-1] == '\n'
	if whole {
		piece = piece[:len(piece)-1]
	}
	var e journalLine
	if p.cont != nil {
		e = p.n.named(p.cont.identifier, string(piece), p.cont.priority, stream)
	} else {
		e = p.n.entry(piece, stream)
	}
	switch {
	case whole:
		p.cont = nil
	case p.cont == nil:
		first := e
		p.cont = &first
	}
	return e
}

// initRecord makes e, one of miniinit's lines, a structured entry when
// its text is a slog record as miniinit writes them: PRIORITY from the
// level (DEBUG 7, INFO 6, WARN 4, ERROR 3, as minispawn's own), the text
// "msg key=value...", and MINIINIT_KEY=value for each attribute. Any
// other text stays as it is, at info.
func initRecord(e *journalLine) {
	fields, ok := slogFields(e.message)
	if !ok || len(fields) < 2 || fields[0][0] != "level" || fields[1][0] != "msg" {
		return
	}
	var level slog.Level
	if level.UnmarshalText([]byte(fields[0][1])) != nil {
		return
	}
	var b strings.Builder
	b.WriteString(fields[1][1])
	for _, f := range fields[2:] {
		fmt.Fprintf(&b, " %s=%s", f[0], quoteValue(f[1]))
		e.vars["MINIINIT_"+journalField(f[0])] = f[1]
	}
	e.message, e.priority = b.String(), journalPriority(level)
}

// slogFields splits a line of slog's text format into its key=value
// pairs, unquoting quoted values (strconv.Quote's form). It reports false
// for text not in that form.
func slogFields(s string) ([][2]string, bool) {
	var out [][2]string
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 || strings.ContainsAny(s[:eq], " \"") {
			return nil, false
		}
		key, val := s[:eq], ""
		s = s[eq+1:]
		if strings.HasPrefix(s, `"`) {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, false
			}
			val, _ = strconv.Unquote(q)
			s = s[len(q):]
		} else {
			end := strings.IndexByte(s, ' ')
			if end < 0 {
				end = len(s)
			}
			val, s = s[:end], s[end:]
		}
		out = append(out, [2]string{key, val})
		if s != "" {
			if s[0] != ' ' {
				return nil, false
			}
			s = s[1:]
		}
	}
	return out, len(out) > 0
}
