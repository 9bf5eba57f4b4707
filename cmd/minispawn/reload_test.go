package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// reloadConfig is a container whose main workload says "ready" and whose
// side workload prints "side VERSION" at each start.
func reloadConfig(name, version, extra string) string {
	return fmt.Sprintf(`name = %q
[rootfs]
build = %s
[[workload]]
name = "main"
command = "/bin/sh"
args = ["-c", "echo ready; exec sleep 1000"]
main = true
[[workload]]
name = "side"
command = "/bin/sh"
args = ["-c", "echo side %s; exec sleep 1000"]
%s`, name, testRootBinaries, version, extra)
}

// TestCtlReloadReadsTheCurrentFile is issue 16's `minispawn ctl -c FILE
// reload`: it works the first time (it failed: "not started with a
// configuration file it can read again"), and every reload applies the
// file as it is then, naming what changed (after one SIGHUP it applied
// the copy that SIGHUP had sent, and said "changed: " with nothing). A
// broken edit is refused with the file's own error, and the container
// runs on.
func TestCtlReloadReadsTheCurrentFile(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	cfg := writeConfig(t, reloadConfig(name, "v1", ""))
	s := startMinispawn(t, cfg)
	if !slices.Contains(s.seen, "side v1") { // side may speak before main
		s.expect(t, "side v1", 30*time.Second)
	}

	reload := func(want string, args ...string) {
		t.Helper()
		res := runMinispawn(t, 30*time.Second, append([]string{"ctl"}, append(args, "reload")...)...)
		if res.code != 0 || strings.TrimSpace(res.stdout) != want {
			t.Fatalf("ctl %v reload: exit %d, stdout %q, want %q\nstderr:\n%s", args, res.code, res.stdout, want, res.stderr)
		}
	}
	reload("reloaded; nothing changed", "-c", cfg)
	for _, v := range []string{"v2", "v3"} {
		if err := os.WriteFile(cfg, []byte(reloadConfig(name, v, "")), 0o644); err != nil {
			t.Fatal(err)
		}
		reload("reloaded; changed: side", "-c", cfg)
		s.expect(t, "side "+v, 20*time.Second)
	}
	// A broken file: ctl -name reaches the container without reading
	// it, and minispawn refuses to hand it over.
	if err := os.WriteFile(cfg, []byte(reloadConfig(name, "v5", "bogus = 1\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runMinispawn(t, 30*time.Second, "ctl", "-name", name, "reload")
	if res.code != exitCtlFailed || !strings.Contains(res.stderr, "reload refused: "+cfg) || !strings.Contains(res.stderr, `"bogus"`) {
		t.Errorf("reload of a broken file: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := s.wait(t, 20*time.Second); code != 0 {
		t.Errorf("exit %d after the stop\nstderr:\n%s", code, s.stderr)
	}
	for line := range s.lines {
		s.seen = append(s.seen, line)
	}
	for _, line := range s.seen {
		if line == "side v5" {
			t.Errorf("a file that was never reloaded was applied: %q", line)
		}
	}
}
