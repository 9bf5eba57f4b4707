package cgroup

import (
	"slices"
	"testing"
)

func TestParsePids(t *testing.T) {
	got, err := parsePids("12\n345\n0\n")
	if err != nil || !slices.Equal(got, []int{12, 345}) {
		t.Errorf("got %v, %v; want [12 345] (0 dropped)", got, err)
	}
	if got, err := parsePids(""); err != nil || len(got) != 0 {
		t.Errorf("empty: got %v, %v", got, err)
	}
	for _, in := range []string{"12\nx\n", "-3\n"} {
		if _, err := parsePids(in); err == nil {
			t.Errorf("parsePids(%q) succeeded", in)
		}
	}
}

func TestKeyedValue(t *testing.T) {
	v1 := "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"
	v2 := "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n"
	for _, tc := range []struct {
		text, key string
		want      int64
	}{
		{v1, "oom_kill", 3}, {v1, "under_oom", 0}, {v2, "oom_kill", 2}, {v2, "max", 12},
	} {
		if got, err := keyedValue(tc.text, tc.key); err != nil || got != tc.want {
			t.Errorf("keyedValue(%q) = %d, %v; want %d", tc.key, got, err, tc.want)
		}
	}
	if _, err := keyedValue(v1, "oom"); err == nil {
		t.Error("missing key: no error")
	}
	if _, err := keyedValue("oom_kill x\n", "oom_kill"); err == nil {
		t.Error("bad value: no error")
	}
}
