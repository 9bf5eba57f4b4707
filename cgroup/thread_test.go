package cgroup

import (
	"slices"
	"testing"
)

func TestParseThreadCgroups(t *testing.T) {
	text := "12:pids:/user.slice/x\n4:cpu,cpuacct:/\n1:name=systemd:/init.scope\n0::/other\n"
	got, err := parseThreadCgroups(text)
	if err != nil {
		t.Fatal(err)
	}
	want := []threadCgroup{
		{[]string{"pids"}, "/user.slice/x"},
		{[]string{"cpu", "cpuacct"}, "/"},
		{[]string{"name=systemd"}, "/init.scope"},
		{nil, "/other"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !slices.Equal(got[i].controllers, want[i].controllers) || got[i].path != want[i].path {
			t.Errorf("line %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	for c, wantPath := range map[string]string{"pids": "/user.slice/x", "cpuacct": "/", "cpu": "/"} {
		if p, ok := pathOf(got, c); !ok || p != wantPath {
			t.Errorf("pathOf(%q) = %q, %v; want %q", c, p, ok, wantPath)
		}
	}
	if _, ok := pathOf(got, "memory"); ok {
		t.Error("pathOf(memory) found a hierarchy that is not there")
	}
	for _, bad := range []string{"nocolons\n", "1:pids\n", "1:pids:relative\n", ":pids:/\n"} {
		if _, err := parseThreadCgroups(bad); err == nil {
			t.Errorf("parseThreadCgroups(%q): no error", bad)
		}
	}
}
