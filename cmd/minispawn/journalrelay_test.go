package main

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-systemd/v22/journal"

	"github.com/minispawn/minispawn/config"
)

func TestLineNamer(t *testing.T) {
	plan := &Plan{Name: "shop", Workloads: []config.Workload{
		{Name: "web", LogPrefix: true}, {Name: "db"},
	}}
	n := newLineNamer(plan)
	for _, tc := range []struct{ line, id, msg string }{
		{"web: listening on :8080", "web", "listening on :8080"},
		{`miniinit: not a record`, "miniinit", `not a record`},
		// db has no log_prefix: its lines (and one that names web without
		// the right) are the container's.
		{"db: ready to accept connections", "shop", "db: ready to accept connections"},
		{"plain line", "shop", "plain line"},
		{"web:no space", "shop", "web:no space"},
	} {
		e := n.entry([]byte(tc.line), "stderr")
		if e.identifier != tc.id || e.message != tc.msg || e.vars["SYSLOG_IDENTIFIER"] != tc.id ||
			e.vars["CONTAINER_NAME"] != "shop" || e.vars["MINISPAWN_STREAM"] != "stderr" || e.priority != journal.PriInfo {
			t.Errorf("entry(%q) = %+v, want identifier %q message %q", tc.line, e, tc.id, tc.msg)
		}
	}
}

// TestJournalRelayMovesLines: lines written to the relay's pipes arrive
// as entries, a long line in pieces, a last line without newline too; the
// fallback gets what the journal refuses.
func TestJournalRelayMovesLines(t *testing.T) {
	var mu sync.Mutex
	var got []string
	var fallback bytes.Buffer
	refuse := false
	j := &journalRelay{
		send: func(msg string, _ journal.Priority, vars map[string]string) error {
			mu.Lock()
			defer mu.Unlock()
			if refuse {
				return errors.New("journal gone")
			}
			got = append(got, vars["SYSLOG_IDENTIFIER"]+"|"+vars["MINISPAWN_STREAM"]+"|"+msg)
			return nil
		},
		fallback: &fallback,
		namer:    newLineNamer(&Plan{Name: "c", Workloads: []config.Workload{{Name: "web", LogPrefix: true}}}),
		log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, stream := range []string{"stdout", "stderr"} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		if stream == "stdout" {
			j.stdout = w
		} else {
			j.stderr = w
		}
		j.readers.Add(1)
		go j.relay(r, stream)
	}
	long := bytes.Repeat([]byte("x"), maxJournalLine+10)
	j.stdout.Write([]byte("web: one\nweb: two\n"))
	j.stderr.Write([]byte("oops\n"))
	j.stdout.Write(append(long, '\n'))
	j.stderr.Write([]byte("no newline at the end"))
	j.finish()
	want := map[string]bool{
		"web|stdout|one": true, "web|stdout|two": true, "c|stderr|oops": true,
		"c|stdout|" + string(long[:maxJournalLine]): true, "c|stdout|xxxxxxxxxx": true,
		"c|stderr|no newline at the end": true,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d: %q", len(got), len(want), got)
	}
	for _, g := range got {
		if !want[g] {
			t.Errorf("unexpected entry %.60q", g)
		}
	}
	if fallback.Len() != 0 {
		t.Errorf("fallback used: %q", fallback.String())
	}
	mu.Lock()
	refuse = true
	mu.Unlock()
	j.line(&pieces{n: j.namer}, []byte("web: lost?\n"), "stdout")
	if fallback.String() != "web: lost?\n" {
		t.Errorf("a refused line went to the fallback as %q", fallback.String())
	}
}

// TestJournalRelayLongLineKeepsName: the line, 108,893 bytes from
// workload long (log_prefix), reaches the journal in pieces that all
// carry SYSLOG_IDENTIFIER=long and together are the whole line; a piece
// that happens to start like another workload's prefix is still long's,
// and the next line is named afresh.
func TestJournalRelayLongLineKeepsName(t *testing.T) {
	var got []journalLine
	j := &journalRelay{
		send: func(msg string, prio journal.Priority, vars map[string]string) error {
			got = append(got, journalLine{message: msg, identifier: vars["SYSLOG_IDENTIFIER"], priority: prio})
			return nil
		},
		namer: newLineNamer(&Plan{Name: "c", Workloads: []config.Workload{{Name: "long", LogPrefix: true}, {Name: "web", LogPrefix: true}}}),
		log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	j.stdout = w
	j.readers.Add(1)
	go j.relay(r, "stdout")
	line := bytes.Repeat([]byte("0123456789abcdef"), 108893/16+1)[:108893]
	// Where the second piece begins, text that looks like web's prefix.
	copy(line[maxJournalLine-len("long: "):], "web: forged")
	// As miniinit writes it: the prefix, then the line (the reader drains
	// the pipe meanwhile).
	w.Write([]byte("long: "))
	w.Write(append(line, '\n'))
	w.Write([]byte("web: next\n"))
	j.finish()
	if len(got) < 2 {
		t.Fatalf("got %d entries, want the long line in pieces and the next", len(got))
	}
	var whole []byte
	for i, e := range got[:len(got)-1] {
		if e.identifier != "long" || e.priority != journal.PriInfo {
			t.Errorf("piece %d of %d (%d bytes): identifier %q, priority %d; want long, info", i, len(got)-1, len(e.message), e.identifier, e.priority)
		}
		whole = append(whole, e.message...)
	}
	if !bytes.Equal(whole, line) {
		t.Errorf("the pieces make %d bytes, not the line's %d", len(whole), len(line))
	}
	if last := got[len(got)-1]; last.identifier != "web" || last.message != "next" {
		t.Errorf("the line after: %+v", last)
	}
}

// TestInitRecord: miniinit's slog lines become entries of their level's
// priority, the message and attributes as text and each attribute as a
// MINIINIT_ field; other text of miniinit's stays as it is, at info.
func TestInitRecord(t *testing.T) {
	n := newLineNamer(&Plan{Name: "c"})
	for _, tc := range []struct {
		line, msg string
		prio      journal.Priority
		vars      map[string]string
	}{
		{`miniinit: level=WARN msg="SIGKILL to workload" workload=db why=stop-timeout`, "SIGKILL to workload workload=db why=stop-timeout", journal.PriWarning,
			map[string]string{"MINIINIT_WORKLOAD": "db", "MINIINIT_WHY": "stop-timeout"}},
		{`miniinit: level=ERROR msg="write report" err="open /x: permission denied"`, `write report err="open /x: permission denied"`, journal.PriErr,
			map[string]string{"MINIINIT_ERR": "open /x: permission denied"}},
		{`miniinit: level=INFO msg=exiting code=143`, "exiting code=143", journal.PriInfo, map[string]string{"MINIINIT_CODE": "143"}},
		{`miniinit: level=DEBUG msg="a \"quoted\" word"`, `a "quoted" word`, journal.PriDebug, nil},
		{`miniinit: level=WARN+2 msg=x`, "x", journal.PriWarning, nil},
		// Not records: as they are, at info.
		{`miniinit: warning: something`, "warning: something", journal.PriInfo, nil},
		{`miniinit: level=LOUD msg=x`, "level=LOUD msg=x", journal.PriInfo, nil},
		{`miniinit: msg=x level=ERROR`, "msg=x level=ERROR", journal.PriInfo, nil},
		{`miniinit: level=ERROR msg="unterminated`, `level=ERROR msg="unterminated`, journal.PriInfo, nil},
	} {
		e := n.entry([]byte(tc.line), "stderr")
		if e.identifier != "miniinit" || e.message != tc.msg || e.priority != tc.prio {
			t.Errorf("%q: identifier %q message %q priority %d; want message %q priority %d", tc.line, e.identifier, e.message, e.priority, tc.msg, tc.prio)
		}
		for k, v := range tc.vars {
			if e.vars[k] != v {
				t.Errorf("%q: %s=%q, want %q", tc.line, k, e.vars[k], v)
			}
		}
	}
}

// TestInitLogLinesAreRecords: the lines miniinit really writes (-vv, a
// short run) are all records the relay reads as such, so none reaches the
// journal as raw "level=... msg=..." text at the wrong priority.
func TestInitLogLinesAreRecords(t *testing.T) {
	cmd := exec.Command(filepath.Join(binDir, "miniinit"), "-s", "-vv", "--", "/bin/sh", "-c", "exit 3")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		t.Fatal("miniinit exited 0, want the workload's 3")
	}
	n := newLineNamer(&Plan{Name: "c"})
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) < 3 {
		t.Fatalf("only %d lines from miniinit -vv:\n%s", len(lines), &stderr)
	}
	for _, line := range lines {
		e := n.entry([]byte(line), "stderr")
		if e.identifier != "miniinit" || strings.HasPrefix(e.message, "level=") || e.vars["MINISPAWN_STREAM"] != "stderr" {
			t.Errorf("%q was not read as miniinit's record: %+v", line, e)
		}
	}
}
