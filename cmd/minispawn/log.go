package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// prefixHandler writes records as single lines "minispawn: message k=v",
// with the level named only when it is not INFO: the form people expect
// from a command-line tool's stderr, and what journald shows best.
type prefixHandler struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	level  slog.Leveler
	attrs  []slog.Attr
}

func newLogger(w io.Writer, prefix string, level slog.Leveler) *slog.Logger {
	return slog.New(&prefixHandler{mu: new(sync.Mutex), w: w, prefix: prefix, level: level})
}

func (h *prefixHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *prefixHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(h.prefix)
	b.WriteString(": ")
	if r.Level != slog.LevelInfo {
		b.WriteString(strings.ToLower(r.Level.String()))
		b.WriteString(": ")
	}
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%s", a.Key, quoteValue(a.Value.String()))
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *prefixHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

// WithGroup is not used by minispawn; groups are flattened.
func (h *prefixHandler) WithGroup(string) slog.Handler { return h }

func quoteValue(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"=") {
		return fmt.Sprintf("%q", s)
	}
	return s
}
