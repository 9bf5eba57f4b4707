// Package roottest is the single gate for tests that need root.
//
// A developer who runs the suite as an ordinary user sees those tests
// skipped, with the reason. When the CI environment variable is set (as the
// project's CI does), a missing privilege is a failure instead: nothing may
// skip silently there.
package roottest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Require stops the test unless the process runs as root. It skips for a
// developer and fails under CI.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("test needs root and CI is set: run the suite as root")
	}
	t.Skip("needs root (set CI=1 to make this a failure)")
}

// Need stops the test unless ok: the test needs something of the machine
// (a program, a kernel feature) that reason names. Like Require, it skips
// for a developer and fails under CI, where the project's own scripts
// install everything the suite needs.
func Need(t testing.TB, ok bool, reason string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set and this machine lacks what the test needs: %s", reason)
	}
	t.Skip("needs " + reason + " (set CI=1 to make this a failure)")
}

// WholeDisk returns "MAJ:MIN" of a whole disk of this machine (not a
// partition, loop or RAM device), which is what I/O limits take.
func WholeDisk(t testing.TB) string {
	t.Helper()
	ents, err := os.ReadDir("/sys/block")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, "loop") || strings.HasPrefix(n, "ram") || strings.HasPrefix(n, "zram") {
			continue
		}
		if dev, err := os.ReadFile(filepath.Join("/sys/block", n, "dev")); err == nil {
			return strings.TrimSpace(string(dev))
		}
	}
	t.Fatal("no whole disk in /sys/block")
	return ""
}
