package pid1

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

func TestWorkloadEnv(t *testing.T) {
	got := workloadEnv([]string{"A=1", "PATH=/bin", "B=2"}, []string{"B=3", "C=4", "A=5"})
	want := []string{"A=5", "PATH=/bin", "B=3", "C=4"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// No PATH anywhere: the default, before the workload's own entries.
	got = workloadEnv([]string{"HOME=/"}, []string{"X=1"})
	want = []string{"HOME=/", "PATH=" + DefaultPath, "X=1"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// The workload's PATH wins over the default.
	got = workloadEnv(nil, []string{"PATH=/opt"})
	if getenv(got, "PATH") != "/opt" || len(got) != 1 {
		t.Errorf("got %q", got)
	}
	if got := withoutKeys([]string{"LISTEN_FDS=1", "A=1", "LISTEN_PID=3"}, listenKeys...); !slices.Equal(got, []string{"A=1"}) {
		t.Errorf("withoutKeys: %q", got)
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	bin, noexec, sub := filepath.Join(dir, "bin"), filepath.Join(dir, "noexec"), filepath.Join(dir, "sub")
	for _, d := range []string{bin, noexec, sub} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string, mode os.FileMode) {
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(bin, "tool"), 0o755)
	write(filepath.Join(noexec, "tool"), 0o644)
	write(filepath.Join(noexec, "only-here"), 0o644)
	if err := os.Mkdir(filepath.Join(sub, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}

	// The first executable match wins, past a non-executable one.
	if p, err := lookPath("tool", noexec+":"+bin, "/"); err != nil || p != filepath.Join(bin, "tool") {
		t.Errorf("lookPath(tool) = %q, %v", p, err)
	}
	// Found only without the x bit: EACCES, exit 126. Root may execute a
	// file with any x bit, but not one with none.
	if _, err := lookPath("only-here", bin+":"+noexec, "/"); startErrorCode(err) != ExitNotExecutable || !errors.Is(err, syscall.EACCES) {
		t.Errorf("lookPath(only-here) err = %v, want EACCES (126)", err)
	}
	if _, err := lookPath("missing", bin+":"+noexec+":/nonexistent:"+filepath.Join(bin, "tool"), "/"); startErrorCode(err) != ExitNotFound {
		t.Errorf("lookPath(missing) err = %v, want not found (127)", err)
	}
	if _, err := lookPath("adir", sub, "/"); startErrorCode(err) != ExitNotFound {
		t.Errorf("lookPath(adir) err = %v: a directory in PATH is not a command", err)
	}
	// With a slash: used as it is, checked.
	if p, err := lookPath(filepath.Join(bin, "tool"), "", "/tmp"); err != nil || p != filepath.Join(bin, "tool") {
		t.Errorf("absolute: %q, %v", p, err)
	}
	if _, err := lookPath(filepath.Join(sub, "adir"), "", "/"); startErrorCode(err) != ExitNotExecutable {
		t.Errorf("directory by path: %v, want 126", err)
	}
	if _, err := lookPath(filepath.Join(dir, "nope"), "", "/"); startErrorCode(err) != ExitNotFound {
		t.Errorf("missing by path: %v, want 127", err)
	}
	if _, err := lookPath("", bin, "/"); startErrorCode(err) != ExitNotFound {
		t.Errorf("empty: %v, want 127", err)
	}
	// Relative names and PATH entries count from the workload's
	// directory, not miniinit's (which is "/").
	want := filepath.Join(bin, "tool")
	for _, c := range []struct{ file, path string }{
		{"./bin/tool", ""}, {"bin/tool", ""}, {"tool", "bin"}, {"tool", ":bin"}, {"tool", "noexec:bin"},
	} {
		if p, err := lookPath(c.file, c.path, dir); err != nil || p != want {
			t.Errorf("lookPath(%q, PATH=%q, dir) = %q, %v; want %q", c.file, c.path, p, err, want)
		}
	}
	if p, err := lookPath("tool", ":", bin); err != nil || p != want {
		t.Errorf("empty PATH entry is the working directory: %q, %v", p, err)
	}
}
