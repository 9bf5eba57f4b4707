package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// cachedRoot returns the root a cache's manifest names as current.
func cachedRoot(t *testing.T, cache string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cache, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Root string }
	if err := json.Unmarshal(b, &m); err != nil || m.Root == "" {
		t.Fatalf("cache manifest %s: root %q, %v", b, m.Root, err)
	}
	return filepath.Join(cache, m.Root)
}

// sleepCopy is a copy of /bin/sleep of the test's own, a build binary the
// test may touch.
func sleepCopy(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/bin/sleep")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "mysleep")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// cacheConfig is a container whose root is built from /bin/sh, /bin/cat and
// sleep, cached in cache. On SIGTERM the workload uses its root (/dev/null,
// /etc/passwd) and says "alive", then exits 0.
func cacheConfig(t *testing.T, name, cache, sleep string) string {
	script := fmt.Sprintf(`trap 'cat /etc/passwd >/dev/null && echo alive; exit 0' TERM
echo ready
while :; do %s 0.05; done`, sleep)
	return writeConfig(t, fmt.Sprintf(`name = %q
[rootfs]
build = ["/bin/sh", "/bin/cat", %q]
cache = %q
[[workload]]
name = "sh"
command = "/bin/sh"
args = ["-c", %q]
`, name, sleep, cache, script))
}

// expectCacheRefused runs a container whose root is built from /bin/sh
// and cached in cache, and checks that the start is refused, naming
// cache, before anything ran.
func expectCacheRefused(t *testing.T, cache, who string) {
	t.Helper()
	res := runMinispawn(t, 60*time.Second, "-c", echoCacheConfig(t, cache))
	if res.code != exitSetup || strings.Contains(res.stdout, "ran") ||
		!strings.Contains(res.stderr, cache) || !strings.Contains(res.stderr, "refusing") {
		t.Errorf("%s: exit %d, want %d and a refusal naming the path\nstdout:\n%s\nstderr:\n%s",
			who, res.code, exitSetup, res.stdout, res.stderr)
	}
}

// echoCacheConfig is a container whose root is built from /bin/sh and
// cached in cache, and whose workload says "ran".
func echoCacheConfig(t *testing.T, cache string) string {
	return writeConfig(t, fmt.Sprintf(`name = %q
[rootfs]
build = ["/bin/sh"]
cache = %q
[[workload]]
name = "sh"
command = "/bin/sh"
args = ["-c", "echo ran"]
`, containerName(t), cache))
}

// treeState lists every path under dir with its size and mtime.
func treeState(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		out = append(out, fmt.Sprintf("%s %d %d", p, fi.Size(), fi.ModTime().UnixNano()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// stopAlive ends a container of cacheConfig and checks that its root was
// whole until the end.
func stopAlive(t *testing.T, s *started, who string) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.expect(t, "alive", 15*time.Second)
	if code := s.wait(t, 15*time.Second); code != 0 {
		t.Errorf("%s: exit %d, want 0\nstderr:\n%s", who, code, s.stderr)
	}
}

// Issue 16 item 1: rootfs.cache naming a directory with a file in it, or a
// regular file, is refused; what is there stays as it was.
func TestCacheRefusesPathItDidNotMake(t *testing.T) {
	roottest.Require(t)
	dir := t.TempDir()
	d := filepath.Join(dir, "d")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "important.txt"), []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "f")
	if err := os.WriteFile(f, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := treeState(t, dir)
	for _, path := range []string{d, f} {
		expectCacheRefused(t, path, "cache = "+path)
	}
	if after := treeState(t, dir); !slices.Equal(before, after) {
		t.Errorf("refused caches changed:\nbefore %q\nafter  %q", before, after)
	}
	for _, p := range []string{filepath.Join(d, "important.txt"), f} {
		if b, err := os.ReadFile(p); err != nil || string(b) != "precious\n" {
			t.Errorf("%s: %q, %v", p, b, err)
		}
	}
}

// Issue 16 item 2, first scenario: A runs from a cache; a build binary is
// touched; the same file is started again. The second start is refused
// before it touches the cache, and A's root stays whole.
func TestCacheSecondStartOfRunningContainer(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	cache := filepath.Join(t.TempDir(), "cache")
	sleep := sleepCopy(t)
	cfg := cacheConfig(t, name, cache, sleep)
	a := startMinispawn(t, cfg)
	root := cachedRoot(t, cache)
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(sleep, later, later); err != nil {
		t.Fatal(err)
	}
	state := treeState(t, cache)
	res := runMinispawn(t, 60*time.Second, "-c", cfg)
	if res.code != exitSetup || !strings.Contains(res.stderr, "is running") {
		t.Errorf("second start: exit %d, want %d and that it is running\nstderr:\n%s", res.code, exitSetup, res.stderr)
	}
	if after := treeState(t, cache); !slices.Equal(state, after) {
		t.Errorf("a refused start changed the cache:\nbefore %q\nafter  %q", state, after)
	}
	// ctl reaches A (through its PID 1's root).
	if res := runMinispawn(t, 30*time.Second, "ctl", "-c", cfg, "status"); res.code != 0 {
		t.Errorf("ctl status of A: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	stopAlive(t, a, "A")
	// The next start rebuilds, and the old root goes.
	b := startMinispawn(t, cfg)
	if cachedRoot(t, cache) == root {
		t.Errorf("touched binary: cache not rebuilt")
	}
	stopAlive(t, b, "second run")
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("old root %s left after a rebuild with no user: %v", root, err)
	}
}

// Issue 16 item 2, second scenario: two containers share one cache; a
// build binary is touched while A runs, then B starts. B runs from a new
// root; A keeps its own, whole, until it ends (it used to die with 127).
func TestCacheSharedByTwoContainers(t *testing.T) {
	roottest.Require(t)
	cache := filepath.Join(t.TempDir(), "cache")
	sleep := sleepCopy(t)
	nameA := containerName(t) + "-a"
	a := startMinispawn(t, cacheConfig(t, nameA, cache, sleep))
	rootA := cachedRoot(t, cache)
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(sleep, later, later); err != nil {
		t.Fatal(err)
	}
	b := startMinispawn(t, cacheConfig(t, containerName(t)+"-b", cache, sleep))
	rootB := cachedRoot(t, cache)
	if rootB == rootA {
		t.Fatalf("touched binary: cache not rebuilt")
	}
	if _, err := os.Stat(filepath.Join(rootA, "dev")); err != nil {
		t.Errorf("A's root changed under it: %v", err)
	}
	stopAlive(t, a, "A")
	if _, err := os.Stat(rootA); !os.IsNotExist(err) {
		t.Errorf("A's old root %s left after A ended: %v", rootA, err)
	}
	stopAlive(t, b, "B")
	if _, err := os.Stat(filepath.Join(rootB, sleep)); err != nil {
		t.Errorf("the current root went with B: %v", err)
	}
}

// A manifest.json forged beside a user's directory named like a root
// (mkdir -p fk/rootfs-1111; echo precious > fk/rootfs-1111/data;
// echo '{"version":1}' > fk/manifest.json) does not make fk a cache:
// naming no root, or naming that directory, which minispawn did not make,
// the start is refused naming the path, and the user's data stays.
func TestCacheRefusesForgedManifest(t *testing.T) {
	roottest.Require(t)
	for _, forged := range []string{`{"version":1}`, `{"version":1,"root":"rootfs-1111"}`} {
		fk := filepath.Join(t.TempDir(), "fk")
		data := filepath.Join(fk, "rootfs-1111", "data")
		if err := os.MkdirAll(filepath.Dir(data), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(data, []byte("precious\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(fk, "manifest.json"), []byte(forged+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		before := treeState(t, fk)
		expectCacheRefused(t, fk, "manifest "+forged)
		if after := treeState(t, fk); !slices.Equal(before, after) {
			t.Errorf("manifest %s: refused cache changed:\nbefore %q\nafter  %q", forged, before, after)
		}
		if b, err := os.ReadFile(data); err != nil || string(b) != "precious\n" {
			t.Errorf("manifest %s: %s: %q, %v", forged, data, b, err)
		}
	}
}
