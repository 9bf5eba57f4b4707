package main

import "testing"

func TestMachineName(t *testing.T) {
	for in, want := range map[string]string{"web-1": "web-1", "tools_1.2": "tools-1.2", "db": "db"} {
		if got := machineName(in); got != want {
			t.Errorf("machineName(%q) = %q, want %q", in, got, want)
		}
	}
}
