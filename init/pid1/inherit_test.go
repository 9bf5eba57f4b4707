package pid1

import (
	"slices"
	"testing"
)

func TestSigStateRoundTrip(t *testing.T) {
	for _, s := range []sigState{{}, {blocked: 0x104008, ignored: 0x200402}, {blocked: ^uint64(0), ignored: 1 << 63}} {
		got, err := parseSigState(s.String())
		if err != nil || got != s {
			t.Errorf("parse(%q) = %v, %v", s.String(), got, err)
		}
	}
	if _, err := parseSigState("blocked=zz"); err == nil {
		t.Error("a malformed value parsed")
	}
}

func TestTakeSigState(t *testing.T) {
	s := sigState{blocked: 8, ignored: 2}
	env := []string{"A=1", signalsEnv + "=" + s.String(), "B=2"}
	rest, got, ok, err := takeSigState(env)
	if !ok || err != nil || got != s || !slices.Equal(rest, []string{"A=1", "B=2"}) {
		t.Errorf("got %v %v %v %q", got, ok, err, rest)
	}
	if rest, _, ok, _ := takeSigState([]string{"A=1"}); ok || !slices.Equal(rest, []string{"A=1"}) {
		t.Errorf("no variable: ok %v, rest %q", ok, rest)
	}
}
