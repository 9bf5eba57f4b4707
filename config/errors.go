package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Error is one problem in a configuration file, at the line and column
// (both from 1; the column counts bytes, as Go's own tools do) of the key,
// value or table header it concerns.
type Error struct {
	File      string
	Line, Col int
	// Msg is one line, lower-case, without the position.
	Msg string
	// Key is the TOML key the problem concerns, dotted, array elements
	// by index ("limits.memory", "workload[0].env"); empty for a syntax
	// error. Callers that generate a file from other input (minispawn's
	// flags) use it to name that input instead of a position.
	Key string
}

// Error renders the problem as "file:line:col: message", the form editors
// and compilers use, so a terminal or an editor can jump to it.
func (e *Error) Error() string {
	return e.File + ":" + strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col) + ": " + e.Msg
}

// Errors is every problem Parse found in one file, sorted by position. Parse
// returns it (never empty) as its error; use errors.As to get at the list.
type Errors []*Error

// Error renders one problem per line, in file order, without a trailing
// newline.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// sort orders the problems by position. The sort is stable so problems at
// one position keep the order the checks found them in, which is fixed:
// the output is the same on every run, as golden tests need.
func (es Errors) sort() {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
}

// oneLine keeps a message to one line, whatever text it quotes, so that
// every line of Errors.Error starts with a position.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}
