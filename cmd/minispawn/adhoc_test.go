package main

import (
	"fmt"
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
	roottest.CopyExec(t, "/bin/busybox", filepath.Join(root, "bin", "busybox"))
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

// Issue 16 item 13: the container flags given with -c override the file;
// none is ignored. The root is not written to with --read-only, and a
// bad value is the flag's error (exit 2), never a line of a file the user
// did not write (item 15).
func TestFlagsOverrideFile(t *testing.T) {
	roottest.Require(t)
	root := busyboxRoot(t)
	fileName := containerName(t)
	name := fileName + "-flag"
	cfg := writeConfig(t, fmt.Sprintf(`name = %q
hostname = "from-file"
[rootfs]
path = %q
[limits]
memory = "256M"
pids = 100
[[workload]]
name = "sh"
command = "/bin/sh"
cwd = "/"
env = { FOO = "file", BAR = "file" }
args = ["-c", "echo host=$(busybox hostname) foo=$FOO bar=$BAR pwd=$(pwd); busybox touch /x && echo wrote"]
`, fileName, root))
	flags := []string{"--name", name, "--hostname", "from-flag", "--memory", "64M", "--pids", "30",
		"--read-only", "--cwd", "/bin", "--env", "FOO=flag"}
	before := snapshotHost(t)
	res := runMinispawn(t, 60*time.Second, append([]string{"-c", cfg}, flags...)...)
	if want := "host=from-flag foo=flag bar=file pwd=/bin"; !strings.Contains(res.stdout, want) {
		t.Errorf("stdout %q, want %q\nstderr:\n%s", res.stdout, want, res.stderr)
	}
	if strings.Contains(res.stdout, "wrote") {
		t.Errorf("--read-only ignored: the root was written to")
	}
	if _, err := os.Stat(filepath.Join(root, "x")); err == nil {
		t.Errorf("--read-only ignored: %s/x exists", root)
	}
	checkNothingLeft(t, before, name, "")
	checkNothingLeft(t, before, fileName, "")

	plan := runMinispawn(t, 10*time.Second, append([]string{"check", "-c", cfg}, flags...)...)
	// The memory limit's file is memory.limit_in_bytes on v1, memory.max
	// on v2.
	memory := "minispawn/" + name + "/memory.limit_in_bytes = 67108864"
	if !strings.Contains(plan.stdout, memory) {
		memory = "minispawn/" + name + "/memory.max = 67108864"
	}
	for _, want := range []string{memory, "minispawn/" + name + "/pids.max = 30", "remount / read-only"} {
		if !strings.Contains(plan.stdout, want) {
			t.Errorf("check with flags does not show %q:\n%s%s", want, plan.stdout, plan.stderr)
		}
	}
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"--name", "café"}, `--name: name "café" has 'é'`},
		{[]string{"--env", "FOO"}, "--env FOO: FOO is not set"},
		{[]string{"--memory", "lots"}, `--memory "lots"`},
	} {
		res := runMinispawn(t, 10*time.Second, append([]string{"-c", cfg}, tc.args...)...)
		if res.code != exitUsage || !strings.Contains(res.stderr, tc.says) || strings.Contains(res.stderr, ":1:") {
			t.Errorf("%q: exit %d, want %d and %q\n%s", tc.args, res.code, exitUsage, tc.says, res.stderr)
		}
	}
	// With the variable set, --env NAME takes its value, as podman does.
	t.Setenv("FOO", "caller")
	res = runMinispawn(t, 60*time.Second, "-c", cfg, "--env", "FOO", "--name", name)
	if !strings.Contains(res.stdout, "foo=caller") {
		t.Errorf("--env FOO with FOO=caller: %q\n%s", res.stdout, res.stderr)
	}
}
