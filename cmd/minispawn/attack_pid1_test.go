package main

import (
	"strings"
	"testing"

	"github.com/minispawn/minispawn/init/roottest"
)

// pid1Calls are the ways pid-access tries to reach another process.
var pid1Calls = []string{"pidfd_getfd", "kcmp", "process_vm_readv", "proc_mem", "proc_environ", "ptrace"}

// accessResults splits pid-access's report into call=outcome.
func accessResults(t *testing.T, line string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, f := range strings.Fields(line) {
		if k, v, ok := strings.Cut(f, "="); ok {
			got[k] = v
		}
	}
	for _, c := range pid1Calls {
		if got[c] == "" {
			t.Fatalf("no outcome for %s in %q", c, line)
		}
	}
	return got
}

// TestAttackTakePID1DescriptorsOrMemoryFails: root inside cannot take
// miniinit's descriptors (among them the channel to minispawn, which is
// root on the host), compare them, read its memory or environment, or
// trace it: miniinit is not dumpable, and root inside lacks
// CAP_SYS_PTRACE. That holds with the seccomp filter off too, and with a
// user namespace. The control: the same calls on a process the attack
// program started itself, which is dumpable, all work (with the filter
// off, since it refuses ptrace and process_vm_readv on any process).
func TestAttackTakePID1DescriptorsOrMemoryFails(t *testing.T) {
	roottest.Require(t)
	root := attackRoot(t)
	for _, c := range []struct{ name, security, tables string }{
		{"default", "", ""},
		{"seccomp-off", `seccomp = "off"`, ""},
		{"userns", "", usernsTable},
	} {
		got := attackNamed(t, containerName(t), root, "pid-access", "1", c.security, c.tables)
		res := accessResults(t, got)
		for _, call := range pid1Calls {
			if res[call] != "EPERM" && res[call] != "EACCES" {
				t.Errorf("%s: %s on PID 1: %s, want EPERM or EACCES (%s)", c.name, call, res[call], got)
			}
		}
	}
	got := attack(t, root, "pid-access", "child", `seccomp = "off"`)
	for call, r := range accessResults(t, got) {
		if r != "ok" {
			t.Errorf("control: %s on the attack program's own child: %s, want ok (%s)", call, r, got)
		}
	}
}
