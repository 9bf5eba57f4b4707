package pid1

import (
	"os/exec"
	"strings"
	"testing"
)

// The "not PID 1" warning appears only when nothing says that a child
// subreaper is what was meant: not with -s, not with TINI_SUBREAPER set
// (empty included, as tini reads it), not when the parent already made
// miniinit a child subreaper before executing it.
func TestNotPID1Warning(t *testing.T) {
	const warning = "not PID 1: running as a child subreaper"
	viaSubreaper := func(c *exec.Cmd) {
		c.Args = append([]string{bin.helper, "subreaper", c.Path}, c.Args...)
		c.Path = bin.helper
	}
	for _, tc := range []struct {
		name string
		o    runOpts
		args []string
		warn bool
	}{
		{"plain", runOpts{}, nil, true},
		{"-s", runOpts{}, []string{"-s"}, false},
		{"TINI_SUBREAPER=1", runOpts{env: []string{"TINI_SUBREAPER=1"}}, nil, false},
		{"TINI_SUBREAPER empty", runOpts{env: []string{"TINI_SUBREAPER="}}, nil, false},
		{"already a subreaper", runOpts{setup: viaSubreaper}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "--", "/bin/true")
			code, r := runMini(t, tc.o, args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, r.stderr.String())
			}
			if got := strings.Contains(r.stderr.String(), warning); got != tc.warn {
				t.Errorf("warning shown %v, want %v; stderr:\n%s", got, tc.warn, r.stderr.String())
			}
		})
	}
}
