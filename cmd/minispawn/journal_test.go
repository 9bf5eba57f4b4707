package main

import (
	"bytes"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-systemd/v22/journal"
)

type sentEntry struct {
	msg  string
	prio journal.Priority
	vars map[string]string
}

// TestJournalHandlerEntries: priorities follow the levels, attributes
// become fields and stay in the text, the level filter holds.
func TestJournalHandlerEntries(t *testing.T) {
	var got []sentEntry
	var fallback bytes.Buffer
	h := &journalHandler{
		level: slog.LevelInfo,
		send: func(msg string, prio journal.Priority, vars map[string]string) error {
			got = append(got, sentEntry{msg, prio, vars})
			return nil
		},
		fallback: newLogger(&fallback, "minispawn", slog.LevelInfo).Handler(),
		warnOnce: new(sync.Once),
	}
	log := slog.New(h).With("container", "web")
	log.Debug("not sent: below the level")
	log.Info("container running", "pid", 42)
	log.Warn("remove the cgroup", "err", "EBUSY: device busy", "cgroup.path", "/sys/fs/cgroup/x")
	log.Error("setup failed")
	want := []sentEntry{
		{"container running container=web pid=42", journal.PriInfo,
			map[string]string{"SYSLOG_IDENTIFIER": "minispawn", "MINISPAWN_CONTAINER": "web", "MINISPAWN_PID": "42"}},
		{`remove the cgroup container=web err="EBUSY: device busy" cgroup.path=/sys/fs/cgroup/x`, journal.PriWarning,
			map[string]string{"SYSLOG_IDENTIFIER": "minispawn", "MINISPAWN_CONTAINER": "web",
				"MINISPAWN_ERR": "EBUSY: device busy", "MINISPAWN_CGROUP_PATH": "/sys/fs/cgroup/x"}},
		{"setup failed container=web", journal.PriErr,
			map[string]string{"SYSLOG_IDENTIFIER": "minispawn", "MINISPAWN_CONTAINER": "web"}},
	}
	if len(got) != len(want) {
		t.Fatalf("sent %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].msg != want[i].msg || got[i].prio != want[i].prio || !maps.Equal(got[i].vars, want[i].vars) {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if fallback.Len() != 0 {
		t.Errorf("fallback used: %q", fallback.String())
	}
}

// TestJournalHandlerFallback: when the journal refuses, the message goes
// to stderr, with one note why.
func TestJournalHandlerFallback(t *testing.T) {
	var fallback bytes.Buffer
	h := &journalHandler{
		level:    slog.LevelInfo,
		send:     func(string, journal.Priority, map[string]string) error { return errors.New("no journal") },
		fallback: newLogger(&fallback, "minispawn", slog.LevelInfo).Handler(),
		warnOnce: new(sync.Once),
	}
	log := slog.New(h)
	log.Info("one")
	log.Info("two")
	out := fallback.String()
	if strings.Count(out, "no journal") != 1 || !strings.Contains(out, "minispawn: one\n") || !strings.Contains(out, "minispawn: two\n") {
		t.Errorf("fallback output:\n%s", out)
	}
}

func TestJournalFieldNames(t *testing.T) {
	for in, want := range map[string]string{"err": "ERR", "cgroup.path": "CGROUP_PATH", "_x": "X", "Pid2": "PID2", "é": ""} {
		if got := journalField(in); got != want {
			t.Errorf("journalField(%q) = %q, want %q", in, got, want)
		}
	}
}
