package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The word-valued keys of a workload. Each type takes exactly the words
// listed in its table; "" is only ever the unset value, which Parse
// replaces with the default.

// Kind is what a workload is meant to do: "longrun" (default), run until
// stopped, or "oneshot", run to completion.
type Kind string

// RestartPolicy is when an ended workload is started again: "never"
// (default), "on-failure" or "always".
type RestartPolicy string

// Condition is what a dependency must reach: "started", "ready",
// "healthy" or "completed" (exited with success, for good).
type Condition string

// HealthAction is what an unhealthy workload leads to: "report"
// (default), "restart" or "stop".
type HealthAction string

// Stdin is where a workload's standard input comes from: "null"
// (default, /dev/null) or "inherit" (miniinit's own).
type Stdin string

// LogOverflow is what happens to a workload's output when miniinit's
// stdout or stderr is slower than the workload: "block" (default) makes
// the workload wait, losing nothing; "drop" drops what does not fit in
// a bounded queue, counted.
type LogOverflow string

const (
	KindLongrun Kind = "longrun"
	KindOneshot Kind = "oneshot"

	RestartNever     RestartPolicy = "never"
	RestartOnFailure RestartPolicy = "on-failure"
	RestartAlways    RestartPolicy = "always"

	CondStarted   Condition = "started"
	CondReady     Condition = "ready"
	CondHealthy   Condition = "healthy"
	CondCompleted Condition = "completed"

	ActionReport  HealthAction = "report"
	ActionRestart HealthAction = "restart"
	ActionStop    HealthAction = "stop"

	StdinNull    Stdin = "null"
	StdinInherit Stdin = "inherit"

	OverflowBlock LogOverflow = "block"
	OverflowDrop  LogOverflow = "drop"
)

// The words of each type, in the order messages list them.
var (
	kinds      = []Kind{KindLongrun, KindOneshot}
	restarts   = []RestartPolicy{RestartNever, RestartOnFailure, RestartAlways}
	conditions = []Condition{CondStarted, CondReady, CondHealthy, CondCompleted}
	actions    = []HealthAction{ActionReport, ActionRestart, ActionStop}
	stdins     = []Stdin{StdinNull, StdinInherit}
	overflows  = []LogOverflow{OverflowBlock, OverflowDrop}
)

// word reads text as one of words, or says which it could have been.
func word[T ~string](what string, words []T, text []byte) (T, error) {
	if slices.Contains(words, T(text)) {
		return T(text), nil
	}
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = strconv.Quote(string(w))
	}
	return "", fmt.Errorf("%q is not a %s (want %s)", text, what, strings.Join(quoted, ", "))
}

func wantWords[T ~string](words []T) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = strconv.Quote(string(w))
	}
	return "one of " + strings.Join(quoted, ", ")
}

func (k *Kind) UnmarshalText(b []byte) (err error) { *k, err = word("kind", kinds, b); return err }
func (r *RestartPolicy) UnmarshalText(b []byte) (err error) {
	*r, err = word("restart policy", restarts, b)
	return err
}
func (c *Condition) UnmarshalText(b []byte) (err error) {
	*c, err = word("condition", conditions, b)
	return err
}
func (a *HealthAction) UnmarshalText(b []byte) (err error) {
	*a, err = word("health action", actions, b)
	return err
}
func (s *Stdin) UnmarshalText(b []byte) (err error) { *s, err = word("stdin", stdins, b); return err }
func (o *LogOverflow) UnmarshalText(b []byte) (err error) {
	*o, err = word("log_overflow", overflows, b)
	return err
}

func (k Kind) MarshalText() ([]byte, error)          { return []byte(k), nil }
func (r RestartPolicy) MarshalText() ([]byte, error) { return []byte(r), nil }
func (c Condition) MarshalText() ([]byte, error)     { return []byte(c), nil }
func (a HealthAction) MarshalText() ([]byte, error)  { return []byte(a), nil }
func (s Stdin) MarshalText() ([]byte, error)         { return []byte(s), nil }
func (o LogOverflow) MarshalText() ([]byte, error)   { return []byte(o), nil }

func (*Kind) tomlWant() string          { return wantWords(kinds) }
func (*RestartPolicy) tomlWant() string { return wantWords(restarts) }
func (*Condition) tomlWant() string     { return wantWords(conditions) }
func (*HealthAction) tomlWant() string  { return wantWords(actions) }
func (*Stdin) tomlWant() string         { return wantWords(stdins) }
func (*LogOverflow) tomlWant() string   { return wantWords(overflows) }

// Deps are a workload's dependencies: workload name = condition.
type Deps map[string]Condition

func (*Deps) tomlWant() string { return `a table of workload = condition, like { db = "ready" }` }
