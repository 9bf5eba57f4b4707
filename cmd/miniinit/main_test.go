package main

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/pid1"
)

// miniinitBin is the binary under test, built once by TestMain the way
// `make build` builds it: static, CGO_ENABLED=0.
var miniinitBin string

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "miniinit-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	miniinitBin = filepath.Join(dir, "miniinit")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-ldflags=-s -w "+pid1.EntryLDFlag, "-o", miniinitBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build miniinit: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// TestStaticBinary: miniinit runs in any root filesystem, so it needs no
// dynamic loader (no PT_INTERP) and no shared library (no DT_NEEDED).
func TestStaticBinary(t *testing.T) {
	f, err := elf.Open(miniinitBin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("miniinit has a PT_INTERP program header: it is dynamically linked")
		}
		if p.Type == elf.PT_DYNAMIC {
			t.Error("miniinit has a PT_DYNAMIC program header")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) != 0 {
		t.Errorf("miniinit needs shared libraries: %v", libs)
	}
	if fi, err := os.Stat(miniinitBin); err == nil {
		t.Logf("miniinit is %d bytes (-s -w)", fi.Size())
	}
}

// TestRunWithoutWorkload covers what run does before pid1.Run: help,
// version and usage errors, in this process.
func TestRunWithoutWorkload(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--version"}, noEnv, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "miniinit version ") {
		t.Errorf("--version: %d %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"-h"}, noEnv, &out, &errb); code != 0 || !strings.Contains(out.String(), "--remap-exit") {
		t.Errorf("-h: %d %q", code, out.String())
	}
	errb.Reset()
	if code := run([]string{"-q"}, noEnv, &out, &errb); code != pid1.ExitSetup || !strings.Contains(errb.String(), "miniinit: unknown option -q\nTry 'miniinit --help'.") {
		t.Errorf("-q: %d %q", code, errb.String())
	}
	errb.Reset()
	missing := filepath.Join(t.TempDir(), "missing.toml")
	if code := run([]string{"-c", missing}, noEnv, &out, &errb); code != pid1.ExitSetup || !strings.Contains(errb.String(), missing) {
		t.Errorf("-c missing: %d %q", code, errb.String())
	}
}

// runBin runs the built miniinit to the end, bounded, and returns its exit
// code, stdout and stderr.
func runBin(t *testing.T, setup func(*exec.Cmd), args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, miniinitBin, args...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if setup != nil {
		setup(cmd)
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("miniinit %q timed out; stderr:\n%s", args, stderr.String())
	}
	if cmd.ProcessState == nil {
		t.Fatalf("miniinit %q: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// twoWorkloads is a configuration with a main workload that exits 3 after
// a moment and a sidecar that finishes its work on SIGTERM. rootfs is for
// minispawn; miniinit ignores it.
func twoWorkloads(dir string) string {
	return fmt.Sprintf(`name = "demo"
rootfs.path = "/"

[init]
grace = "3s"
report = %q

[[workload]]
name = "app"
command = "sh"
args = ["-c", "echo \"$GREETING from $(pwd)\" > %s/app; sleep 0.2; exit 3"]
env = { GREETING = "hello" }
cwd = %q
main = true

[[workload]]
name = "sidecar"
command = "/bin/sh"
args = ["-c", "trap 'echo term > %s/sidecar; exit 0' TERM; while :; do sleep 0.05; done"]
`, filepath.Join(dir, "report.json"), dir, dir, dir)
}

type reportView struct {
	ExitCode  int `json:"exit_code"`
	Workloads []struct {
		Name     string `json:"name"`
		ExitCode int    `json:"exit_code"`
	} `json:"workloads"`
	Shutdown struct {
		Reason string `json:"reason"`
	} `json:"shutdown"`
}

// TestConfigFile: -c starts every workload; the main one decides the
// exit, the sidecar is drained with SIGTERM; env, cwd, grace and report
// come from the file.
func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "demo.toml")
	if err := os.WriteFile(file, []byte(twoWorkloads(dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runBin(t, nil, "-s", "-c", file)
	if code != 3 {
		t.Fatalf("exit code %d, want 3; stderr:\n%s", code, stderr)
	}
	checkTwoWorkloads(t, dir)
}

// A file that only miniinit reads needs no rootfs, which is minispawn's
// business: `miniinit -c /etc/app.toml` as an image's ENTRYPOINT (the
// issue's case, refused with 125 before); `miniinit ctl -c` reads such a
// file too.
func TestConfigFileWithoutRootfs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.toml")
	doc := strings.Replace(twoWorkloads(dir), "rootfs.path = \"/\"\n", "", 1)
	doc = strings.Replace(doc, "[init]\n", "[init]\ncontrol = \""+filepath.Join(dir, "ctl.sock")+"\"\n", 1)
	if strings.Contains(doc, "rootfs") {
		t.Fatalf("the file still names rootfs:\n%s", doc)
	}
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runBin(t, nil, "-s", "-c", file)
	if code != 3 {
		t.Fatalf("exit code %d, want 3; stderr:\n%s", code, stderr)
	}
	checkTwoWorkloads(t, dir)
	if got, err := ctlSocket("", file, noEnv); err != nil || got != filepath.Join(dir, "ctl.sock") {
		t.Errorf("ctl -c %s: socket %q, %v", file, got, err)
	}
}

// TestConfigFD: the configuration arrives on a descriptor, as minispawn
// passes it.
func TestConfigFD(t *testing.T) {
	dir := t.TempDir()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pw.WriteString(twoWorkloads(dir)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	defer pr.Close()
	code, _, stderr := runBin(t, func(c *exec.Cmd) { c.ExtraFiles = []*os.File{pr} },
		"-s", "--config-fd", "3", "--config-name", "demo.toml")
	if code != 3 {
		t.Fatalf("exit code %d, want 3; stderr:\n%s", code, stderr)
	}
	checkTwoWorkloads(t, dir)
}

func checkTwoWorkloads(t *testing.T, dir string) {
	t.Helper()
	if b, err := os.ReadFile(filepath.Join(dir, "app")); err != nil || strings.TrimSpace(string(b)) != "hello from "+dir {
		t.Errorf("main workload wrote %q (%v), want env and cwd from the file", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "sidecar")); err != nil || strings.TrimSpace(string(b)) != "term" {
		t.Errorf("sidecar's SIGTERM handler: %q (%v)", b, err)
	}
	var r reportView
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err == nil {
		err = json.Unmarshal(b, &r)
	}
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	if r.ExitCode != 3 || len(r.Workloads) != 2 || r.Workloads[0].Name != "app" || r.Workloads[1].Name != "sidecar" ||
		r.Workloads[1].ExitCode != 0 || r.Shutdown.Reason != "main-exited" {
		t.Errorf("report: %s", b)
	}
}

// TestBadConfig: every problem, at file:line:column, and exit 125.
func TestBadConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.toml")
	bad := "name = \"x\"\nrootfs.path = \"/\"\n\n[[workload]]\nname = \"a\"\ncomand = \"/bin/true\"\n[init]\ngrace = \"-1s\"\n"
	if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runBin(t, nil, "-c", file)
	if code != pid1.ExitSetup {
		t.Errorf("exit code %d, want %d", code, pid1.ExitSetup)
	}
	for _, want := range []string{file + ":4:", file + ":6:", "comand", "command is required", file + ":8:", "grace"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if !strings.HasPrefix(line, "miniinit: ") {
			t.Errorf("line without the miniinit: prefix: %q", line)
		}
	}
}
