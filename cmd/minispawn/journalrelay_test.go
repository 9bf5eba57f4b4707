package main

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
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
		{`miniinit: level=WARN msg="workload ended"`, "miniinit", `level=WARN msg="workload ended"`},
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
	j.line([]byte("web: lost?\n"), "stdout")
	if fallback.String() != "web: lost?\n" {
		t.Errorf("a refused line went to the fallback as %q", fallback.String())
	}
}
