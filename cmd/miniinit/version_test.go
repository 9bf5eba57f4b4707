package main

import (
	"debug/buildinfo"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/minispawn/minispawn/internal/version"
)

// --version names the build: the commit Go recorded in the binary when it
// was built from a git checkout (a clean clone, as CI's), or says there is
// none; and the release or commit a build gives with -ldflags -X, as the
// Makefile does from git describe.
func TestVersion(t *testing.T) {
	info, err := buildinfo.ReadFile(miniinitBin)
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := runBin(t, nil, "--version")
	if want := "miniinit version " + version.Of(info) + "\n"; code != 0 || out != want {
		t.Errorf("--version: exit %d, %q, want %q", code, out, want)
	}
	t.Logf("%s", out)

	tagged := filepath.Join(t.TempDir(), "miniinit")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-X github.com/minispawn/minispawn/internal/version.Set=v9.9.9-3-gabc1234-dirty", "-o", tagged, ".")
	build.Env = append(build.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	b, err := exec.Command(tagged, "--version").Output()
	if want := "miniinit version v9.9.9-3-gabc1234-dirty\n"; err != nil || string(b) != want {
		t.Errorf("--version of a build given its name: %q (%v), want %q", b, err, want)
	}
}
