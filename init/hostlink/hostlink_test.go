package hostlink

import (
	"strings"
	"testing"
)

func TestParseEncodeRoundTrip(t *testing.T) {
	for _, m := range []Message{
		{{Ready, "1"}},
		{{Ready, "1"}, {Status, "3/3 workloads ready"}},
		{{Status, "stopping: waiting for db"}, {Stopping, "1"}},
		{{Reloading, "1"}, {"MONOTONIC_USEC", "123456"}},
		{{ExtendTimeout, "20000000"}},
		{{Heartbeat, "18446744073709551615"}},
		{{Status, ""}},                    // an empty status clears it
		{{Status, "a=b=c, with = signs"}}, // only the first '=' splits
	} {
		b, err := m.Encode()
		if err != nil {
			t.Fatalf("Encode(%v): %v", m, err)
		}
		got, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(%q): %v", b, err)
		}
		if got.String() != m.String() || len(got) != len(m) {
			t.Errorf("round trip of %q gave %q", m.String(), got.String())
		}
	}
}

func TestParseSkipsEmptyLinesAndKeepsOrder(t *testing.T) {
	m, err := Parse([]byte("\nSTATUS=a\n\nREADY=1\nSTATUS=b\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 3 || m[0] != (Field{Status, "a"}) || m[1] != (Field{Ready, "1"}) {
		t.Fatalf("parsed %#v", m)
	}
	if v, _ := m.Get(Status); v != "b" {
		t.Errorf("Get(STATUS) = %q, want the last assignment, b", v)
	}
	if _, ok := m.Get(Stopping); ok {
		t.Error("Get of an absent key reported it present")
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "empty message"},
		{"\n\n", "empty message"},
		{"READY", "not KEY=VALUE"},
		{"ready=1", "only A-Z"},
		{"=1", "empty key"},
		{"READY=1\nX Y=2", "only A-Z"},
		{"STATUS=a\x00b", "NUL"},
		{strings.Repeat("A", MaxMessage+1), "limit"},
	} {
		_, err := Parse([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", clip(tc.in), err, tc.want)
		}
	}
}

func TestEncodeRejects(t *testing.T) {
	for _, tc := range []struct {
		m    Message
		want string
	}{
		{nil, "empty message"},
		{Message{{Status, "two\nlines"}}, "newline"},
		{Message{{"lower", "1"}}, "only A-Z"},
		{Message{{Status, strings.Repeat("x", MaxMessage)}}, "limit"},
	} {
		if _, err := tc.m.Encode(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Encode(%q) = %v, want an error with %q", clip(tc.m.String()), err, tc.want)
		}
	}
}
