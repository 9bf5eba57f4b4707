package pid1

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Repeated log lines are collapsed. A workload that fails to start with
// restart = "always" and no backoff fails thousands of times a second, each
// time with the same ERROR line; written out, those lines fill a log
// driver's disk and bury everything else. So each kind of line (its level,
// message and attributes, but a pid or a run number) is written at most
// rateBurst times per rateWindow; the rest are counted, and the next line
// of that kind that is written carries suppressed=N: N lines like it were
// left out since the last one.
// What was left out at the very end is said when the logger is flushed.
// Debug lines (-vv, asked for in full) are not limited.

const (
	rateWindow = time.Second
	rateBurst  = 5
	// rateKeys bounds the kinds remembered; beyond it, kinds whose window
	// has passed are forgotten.
	rateKeys = 1024
)

// rateKey is a kind of line: its level, message and attributes, but for
// those that differ from one occurrence to the next (varying).
type rateKey struct {
	level slog.Level
	text  string
}

// varying are the attributes left out of a line's kind.
var varying = map[string]bool{"pid": true, "run": true}

func keyOf(r slog.Record) rateKey {
	b := []byte(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		if !varying[a.Key] {
			b = append(append(append(append(b, 0), a.Key...), '='), a.Value.String()...)
		}
		return true
	})
	return rateKey{r.Level, string(b)}
}

type rateEntry struct {
	start      time.Time // of the current window
	n          int       // lines written in it
	suppressed int       // lines left out since the last one written
	last       slog.Record
}

// rateState is shared by a handler and those derived from it.
type rateState struct {
	mu   sync.Mutex
	now  func() time.Time
	keys map[rateKey]*rateEntry
}

// rateLimit wraps a handler with the limit above.
type rateLimit struct {
	next slog.Handler
	st   *rateState
}

func newRateLimit(next slog.Handler, now func() time.Time) *rateLimit {
	return &rateLimit{next: next, st: &rateState{now: now, keys: map[rateKey]*rateEntry{}}}
}

func (h *rateLimit) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *rateLimit) WithAttrs(as []slog.Attr) slog.Handler {
	return &rateLimit{next: h.next.WithAttrs(as), st: h.st}
}

func (h *rateLimit) WithGroup(name string) slog.Handler {
	return &rateLimit{next: h.next.WithGroup(name), st: h.st}
}

func (h *rateLimit) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo {
		return h.next.Handle(ctx, r)
	}
	k := keyOf(r)
	now := h.st.now()
	h.st.mu.Lock()
	e := h.st.keys[k]
	if e == nil {
		if !h.st.forget(now) {
			h.st.mu.Unlock()
			return h.next.Handle(ctx, r) // too many kinds to tell apart
		}
		e = &rateEntry{start: now}
		h.st.keys[k] = e
	}
	if now.Sub(e.start) >= rateWindow {
		e.start, e.n = now, 0
	}
	if e.n >= rateBurst {
		e.suppressed++
		e.last = r.Clone()
		h.st.mu.Unlock()
		return nil
	}
	e.n++
	n := e.suppressed
	e.suppressed, e.last = 0, slog.Record{}
	h.st.mu.Unlock()
	if n > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed", n))
	}
	return h.next.Handle(ctx, r)
}

// forget makes room for a new kind when there are too many: it drops
// the kinds whose window has passed and that have nothing left to say. It
// reports whether there is room. Called with mu held.
func (st *rateState) forget(now time.Time) bool {
	if len(st.keys) < rateKeys {
		return true
	}
	for k, e := range st.keys {
		if e.suppressed == 0 && now.Sub(e.start) >= rateWindow {
			delete(st.keys, k)
		}
	}
	return len(st.keys) < rateKeys
}

// flush writes, for each kind with lines left out, the last of them with
// their count: the end of a crash loop is not lost.
func (h *rateLimit) flush() {
	h.st.mu.Lock()
	var out []slog.Record
	for _, e := range h.st.keys {
		if e.suppressed > 0 {
			r := e.last
			if e.suppressed > 1 {
				r.AddAttrs(slog.Int("suppressed", e.suppressed-1))
			}
			out = append(out, r)
			e.suppressed, e.last = 0, slog.Record{}
		}
	}
	h.st.mu.Unlock()
	slices.SortFunc(out, func(a, b slog.Record) int { return a.Time.Compare(b.Time) })
	for _, r := range out {
		_ = h.next.Handle(context.Background(), r)
	}
}
