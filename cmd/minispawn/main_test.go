package main

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/pid1"
	"github.com/minispawn/minispawn/init/roottest"
	"github.com/minispawn/minispawn/internal/version"
)

// binDir holds minispawn and miniinit built static for this test run.
var binDir string

func TestMain(m *testing.M) {
	if os.Getenv(sigconfEnv) != "" {
		os.Unsetenv(sigconfEnv)
		err := roottest.ExecWithSignals(sigconfIgnored, sigconfBlocked, os.Args[1], os.Args[1:], os.Environ())
		fmt.Fprintln(os.Stderr, "sigconf:", err)
		os.Exit(1)
	}
	// MINISPAWN_TEST_BINDIR names prebuilt static miniinit and minispawn,
	// for a machine without a Go toolchain (the VM test tier). They are
	// used as they are, and left in place.
	if dir := os.Getenv("MINISPAWN_TEST_BINDIR"); dir != "" {
		binDir = dir
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "minispawn-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := 1
	if err := buildBinaries(dir); err != nil {
		fmt.Fprintln(os.Stderr, "build binaries:", err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildBinaries(dir string) error {
	for _, pkg := range []string{"miniinit", "minispawn"} {
		args := []string{"build", "-trimpath", "-o", filepath.Join(dir, pkg)}
		if pkg == "miniinit" {
			args = append(args, "-ldflags="+pid1.EntryLDFlag)
		}
		cmd := exec.Command("go", append(args, "../"+pkg)...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	return nil
}

// TestBinariesAreStatic: miniinit runs inside arbitrary root filesystems
// and minispawn must not depend on the host's libc, so neither may have an
// ELF interpreter or needed libraries.
func TestBinariesAreStatic(t *testing.T) {
	for _, name := range []string{"miniinit", "minispawn"} {
		f, err := elf.Open(filepath.Join(binDir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s has an ELF interpreter: not statically linked", name)
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Errorf("%s needs shared libraries %v", name, libs)
		}
		f.Close()
	}
}

func TestOptionsRoundTrip(t *testing.T) {
	for _, o := range []options{
		{cmd: "run", config: "a.toml"},
		{cmd: "check", config: "/etc/minispawn/x.toml", init: "/usr/sbin/miniinit", verbose: true},
		{cmd: "run", config: "b.toml", dryRun: true},
		// Container flags with -c override the file (adhoc.go).
		{cmd: "run", config: "c.toml", name: "n", hostname: "h", memory: "32M", pids: 20,
			readOnly: true, cwd: "/tmp", env: listFlag{"A=1", "B="}},
		{cmd: "check", config: "c.toml", memory: "1G", tty: true},
		// ctl (ctl.go): a file or a name, -json, the command's words.
		{cmd: "ctl", config: "a.toml", ctlArgs: []string{"status"}},
		{cmd: "ctl", name: "web-1", json: true, ctlArgs: []string{"signal", "web", "SIGHUP"}},
		{cmd: "ctl", config: "a.toml", ctlArgs: []string{"logs", "db", "20"}},
	} {
		got, err := parseArgs(o.args(), new(bytes.Buffer))
		if err != nil {
			t.Fatalf("parseArgs(%q): %v", o.args(), err)
		}
		if !reflect.DeepEqual(*got, o) {
			t.Errorf("round trip of %+v gave %+v", o, *got)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frob", "-c", "x"}, {"-c", "x", "extra"}, {"-nope"},
		// ctl: no container, both forms, no command, an unknown one,
		// a missing argument; -json outside ctl.
		{"ctl", "status"}, {"ctl", "-c", "x", "-name", "y", "status"}, {"ctl", "-c", "x"},
		{"ctl", "-c", "x", "frob"}, {"ctl", "-c", "x", "stop"}, {"run", "-json", "-c", "x"},
		// Issue 16 items 13 and 15: flag values are checked as the
		// command line's (exit 2); unit takes no overrides.
		{"-c", "x", "--memory", "1Q"}, {"-c", "x", "--pids", "-1"}, {"-c", "x", "--env", "=v"},
		{"-c", "x", "--env", "MINISPAWN_TEST_UNSET_VARIABLE"},
		{"run", "--rootfs", "/", "--env", "MINISPAWN_TEST_UNSET_VARIABLE", "--", "true"},
		{"unit", "-c", "x", "--memory", "1G"}} {
		if _, err := parseArgs(args, new(bytes.Buffer)); err == nil {
			t.Errorf("parseArgs(%q) accepted", args)
		}
	}
	res := runMinispawn(t, 10*time.Second, "-c")
	if res.code != exitUsage {
		t.Errorf("minispawn -c: exit %d, want %d", res.code, exitUsage)
	}
}

// Every container flag maps to a key of the file and back: the key it sets
// is named by that flag in messages (issue 16 items 13 and 15).
func TestOverrideKeysRoundTrip(t *testing.T) {
	o := &options{name: "n", hostname: "h", memory: "32M", pids: 20, readOnly: true, cwd: "/w", env: listFlag{"A=1"}}
	doc := map[string]any{"workload": []map[string]any{{"name": "a"}, {"name": "b", "env": map[string]any{"A": "0", "Z": "z"}}}}
	if err := o.override(doc); err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{
		"--name": "name", "--hostname": "hostname", "--memory": "limits.memory", "--pids": "limits.pids",
		"--read-only": "rootfs.readonly", "--cwd": "workload[1].cwd", "--env": "workload[1].env.A",
	}
	for _, f := range o.overrideFlags() {
		key, ok := keys[f]
		if !ok {
			t.Errorf("flag %s sets no key this test knows", f)
			continue
		}
		if got := flagOfKey(key); got != f {
			t.Errorf("flagOfKey(%s) = %q, want %s", key, got, f)
		}
		if !hasKey(doc, key) {
			t.Errorf("%s did not set %s: %v", f, key, doc)
		}
	}
	if len(o.overrideFlags()) != len(keys) {
		t.Errorf("overrideFlags = %v, want the %d of %v", o.overrideFlags(), len(keys), keys)
	}
	for _, key := range []string{"workload[0].env_files", "limits.cpu", "rootfs.overlay", "names"} {
		if f := flagOfKey(key); f != "" {
			t.Errorf("flagOfKey(%s) = %s, want none", key, f)
		}
	}
	// The file's env stays where no flag sets it; the flag wins.
	env := doc["workload"].([]map[string]any)[1]["env"].(map[string]any)
	if env["A"] != "1" || env["Z"] != "z" {
		t.Errorf("env after --env A=1: %v", env)
	}
}

// hasKey reports whether the dotted key (workload[N] for an element) is set
// in doc.
func hasKey(doc map[string]any, key string) bool {
	var cur any = doc
	for _, part := range strings.Split(key, ".") {
		name, idx, indexed := strings.Cut(strings.TrimSuffix(part, "]"), "[")
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[name]; !ok {
			return false
		}
		if indexed {
			list, ok := cur.([]map[string]any)
			i := int(idx[0] - '0')
			if !ok || i >= len(list) {
				return false
			}
			cur = list[i]
		}
	}
	return true
}

func TestNamespaceTableRoundTrip(t *testing.T) {
	var all []string
	for _, ns := range namespaces {
		all = append(all, ns.name)
		f, err := nsFlags([]string{ns.name})
		if err != nil || f != ns.flag {
			t.Errorf("nsFlags(%s) = %#x, %v", ns.name, f, err)
		}
	}
	f, err := nsFlags(all)
	if err != nil {
		t.Fatal(err)
	}
	if got := nsNames(f); !reflect.DeepEqual(got, all) {
		t.Errorf("nsNames(nsFlags(%v)) = %v", all, got)
	}
	if _, err := nsFlags([]string{"time-travel"}); err == nil {
		t.Error("unknown namespace accepted")
	}
}

// result is one finished minispawn run.
type result struct {
	stdout, stderr string
	code           int
}

// runMinispawn runs the built minispawn with args, bounded by timeout.
func runMinispawn(t *testing.T, timeout time.Duration, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "minispawn"), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("minispawn %q did not finish within %v\nstdout:\n%s\nstderr:\n%s", args, timeout, &stdout, &stderr)
	}
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run minispawn: %v", err)
		}
		code = ee.ExitCode()
	}
	return result{stdout.String(), stderr.String(), code}
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "app.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// --version names the build: the commit Go recorded in the binary, or
// that there is none (internal/version; the -ldflags -X case is tested
// with miniinit).
func TestVersion(t *testing.T) {
	bin := filepath.Join(binDir, "minispawn")
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	res := runMinispawn(t, 10*time.Second, "--version")
	want := "minispawn version " + version.Of(info) + "\n"
	// Binaries prebuilt by the Makefile (MINISPAWN_TEST_BINDIR) carry
	// git describe's name, which -trimpath keeps out of the build info.
	named := os.Getenv("MINISPAWN_TEST_BINDIR") != "" && regexp.MustCompile(`^minispawn version [0-9A-Za-z.+-]+\n$`).MatchString(res.stdout)
	if res.code != 0 || (res.stdout != want && !named) {
		t.Errorf("--version: exit %d, %q, want %q", res.code, res.stdout, want)
	}
}

// minispawn still requires a rootfs, with the message it always gave,
// although miniinit reads the same file without one.
func TestRootfsRequired(t *testing.T) {
	cfg := writeConfig(t, "name = \"n\"\n[[workload]]\nname = \"w\"\ncommand = \"/bin/true\"\n")
	for _, args := range [][]string{{"check", "-c", cfg}, {"-c", cfg}} {
		res := runMinispawn(t, 20*time.Second, args...)
		want := cfg + ":1:1: rootfs: path (an existing directory) or build (a list of host binaries) is required"
		if res.code != exitSetup || !strings.Contains(res.stderr, want) {
			t.Errorf("minispawn %q: exit %d, stderr:\n%s\nwant %d and %q", args, res.code, res.stderr, exitSetup, want)
		}
	}
}

func TestCheckPrintsPlanWithoutRunning(t *testing.T) {
	res := runMinispawn(t, 20*time.Second, "check", "-c", "../../contrib/examples/demo.toml")
	if res.code != 0 {
		t.Fatalf("check: exit %d\n%s", res.code, res.stderr)
	}
	for _, want := range []string{
		"namespaces: pid mount uts ipc net cgroup",
		"pids.max",
		"mount -t proc",
		"pivot_root",
		"hostname minispawn-demo",
		"hello (main): /bin/sh -c",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, res.stdout)
		}
	}
}

func TestBadConfigNamesEveryProblem(t *testing.T) {
	cfg := writeConfig(t, `name = "bad name!"
colour = "blue"

[limits]
pids = "many"
`)
	res := runMinispawn(t, 10*time.Second, "-c", cfg)
	if res.code != exitSetup {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitSetup, res.stderr)
	}
	for _, want := range []string{cfg + ":1:", cfg + ":2:", cfg + ":5:"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks a problem at %q:\n%s", want, res.stderr)
		}
	}
}

func TestAdhocOptionsRoundTrip(t *testing.T) {
	o := options{cmd: "run", rootfs: "/srv/root", name: "x", hostname: "h", memory: "64M", pids: 9,
		readOnly: true, tty: true, cwd: "/tmp", env: listFlag{"A=1", "B=2"}, command: []string{"/bin/sh", "-c", "echo -n hi"}}
	got, err := parseArgs(o.args(), new(bytes.Buffer))
	if err != nil {
		t.Fatalf("parseArgs(%q): %v", o.args(), err)
	}
	if !reflect.DeepEqual(*got, o) {
		t.Errorf("round trip of %+v gave %+v", o, *got)
	}
}
