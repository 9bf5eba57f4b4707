package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// busyboxRoot makes a root directory holding only the static busybox, as
// /bin/busybox and /bin/sh.
func busyboxRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Fatalf("busybox-static is needed (contrib/scripts/deps.sh installs it): %v", err)
	}
	copyInto(t, "/bin/busybox", filepath.Join(root, "bin", "busybox"))
	if err := os.Symlink("busybox", filepath.Join(root, "bin", "sh")); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestAdhocRun(t *testing.T) {
	roottest.Require(t)
	root := busyboxRoot(t)
	name := containerName(t)
	before := snapshotHost(t)
	res := runMinispawn(t, 60*time.Second, "run", "--rootfs", root, "--name", name, "--pids", "16",
		"--env", "GREETING=hello", "--", "/bin/sh", "-c", `echo "$GREETING from $(busybox hostname)"; exit 4`)
	if res.code != 4 {
		t.Errorf("exit %d, want 4\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, "hello from "+name) {
		t.Errorf("stdout %q", res.stdout)
	}
	checkNothingLeft(t, before, name, "")

	dry := runMinispawn(t, 10*time.Second, "run", "--dry-run", "--rootfs", root, "--name", name, "--", "/bin/true")
	if dry.code != 0 || !strings.Contains(dry.stdout, "root: "+root) || !strings.Contains(dry.stdout, "main (main): /bin/true") {
		t.Errorf("dry run: exit %d\n%s%s", dry.code, dry.stdout, dry.stderr)
	}
}
