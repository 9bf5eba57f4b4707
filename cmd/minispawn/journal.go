package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/coreos/go-systemd/v22/journal"
)

// journalHandler sends minispawn's own messages to the journal as
// structured entries, when stderr is the journal anyway (a service's
// default): each with its priority (debug 7, info 6, warn 4, error 3), so
// `journalctl -p warning` finds minispawn's warnings, and each attribute
// as a field of its own (MINISPAWN_ERR=..., MINISPAWN_PATH=...) besides
// the readable text. A message the journal does not take goes to the
// fallback handler (stderr), so nothing is lost.
type journalHandler struct {
	level    slog.Leveler
	attrs    []slog.Attr
	send     func(msg string, prio journal.Priority, vars map[string]string) error
	fallback slog.Handler
	warnOnce *sync.Once
}

// newServiceLogger is minispawn's logger: structured journal entries when
// stderr is the journal (JOURNAL_STREAM names it), else lines on stderr
// (newLogger).
func newServiceLogger(stderr io.Writer, level slog.Leveler) *slog.Logger {
	lines := newLogger(stderr, "minispawn", level)
	if ok, err := journal.StderrIsJournalStream(); err != nil || !ok {
		return lines
	}
	return slog.New(&journalHandler{level: level, send: journal.Send, fallback: lines.Handler(), warnOnce: new(sync.Once)})
}

func (h *journalHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *journalHandler) Handle(ctx context.Context, r slog.Record) error {
	text, vars := journalEntry(r, h.attrs)
	if err := h.send(text, journalPriority(r.Level), vars); err != nil {
		h.warnOnce.Do(func() {
			h.fallback.Handle(ctx, slog.NewRecord(r.Time, slog.LevelWarn, "the journal refused an entry; logging to stderr instead: "+err.Error(), 0))
		})
		return h.fallback.Handle(ctx, r)
	}
	return nil
}

func (h *journalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	c.fallback = h.fallback.WithAttrs(as)
	return &c
}

// WithGroup is not used by minispawn; groups are flattened.
func (h *journalHandler) WithGroup(string) slog.Handler { return h }

// journalPriority maps slog levels to syslog priorities.
func journalPriority(l slog.Level) journal.Priority {
	switch {
	case l >= slog.LevelError:
		return journal.PriErr
	case l >= slog.LevelWarn:
		return journal.PriWarning
	case l >= slog.LevelInfo:
		return journal.PriInfo
	}
	return journal.PriDebug
}

// journalEntry is the text of r (as the stderr lines have it, without
// the "minispawn: " prefix, which the journal's identifier gives) and its
// fields: SYSLOG_IDENTIFIER, and MINISPAWN_KEY for each attribute.
func journalEntry(r slog.Record, attrs []slog.Attr) (string, map[string]string) {
	vars := map[string]string{"SYSLOG_IDENTIFIER": "minispawn"}
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		v := a.Value.String()
		fmt.Fprintf(&b, " %s=%s", a.Key, quoteValue(v))
		vars["MINISPAWN_"+journalField(a.Key)] = v
		return true
	}
	for _, a := range attrs {
		add(a)
	}
	r.Attrs(add)
	return b.String(), vars
}

// journalField makes key a valid journal field name: upper case letters,
// digits and '_', not starting with '_' (those are the journal's own).
func journalField(key string) string {
	f := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, key)
	return strings.TrimLeft(f, "_")
}
