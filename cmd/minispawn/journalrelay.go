package main

import (
	"bytes"

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
// another's; its lines, and any other, carry the container's name.
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

func newLineNamer(plan *Plan) *lineNamer {
	n := &lineNamer{container: plan.Name, prefixed: map[string]bool{"miniinit": true}}
	for _, w := range plan.Workloads {
		if w.LogPrefix {
			n.prefixed[w.Name] = true
		}
	}
	return n
}

// entry makes the journal entry of line (without its newline), from
// stream "stdout" or "stderr".
func (n *lineNamer) entry(line []byte, stream string) journalLine {
	id, msg := n.container, line
	if name, rest, ok := bytes.Cut(line, []byte(": ")); ok && n.prefixed[string(name)] {
		id, msg = string(name), rest
	}
	return journalLine{
		message:    string(msg),
		identifier: id,
		priority:   journal.PriInfo,
		vars: map[string]string{
			"SYSLOG_IDENTIFIER": id,
			"CONTAINER_NAME":    n.container,
			"MINISPAWN_STREAM":  stream,
		},
	}
}
