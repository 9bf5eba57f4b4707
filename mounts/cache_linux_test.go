package mounts

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// myTrue copies /usr/bin/true to a directory of the test's own, setuid,
// so that tests can touch it.
func myTrue(t *testing.T) string {
	t.Helper()
	tool := filepath.Join(t.TempDir(), "mytrue")
	data, err := os.ReadFile("/usr/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tool, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tool, 0o755|fs.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	return tool
}

// touch moves path's mtime, which makes a cache built from it stale.
func touch(t *testing.T, path string) {
	t.Helper()
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
}

func buildCached(t *testing.T, cache string, bins ...string) *CachedRoot {
	t.Helper()
	r, err := BuildCached(cache, bins)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	names, err := readNames(dir)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// BuildCached reuses a current cache, rebuilds when a source changes or
// the binaries differ, and leaves no temporary siblings behind.
func TestBuildCached(t *testing.T) {
	tool := myTrue(t)
	parent := t.TempDir()
	cache := filepath.Join(parent, "cache")
	bins := []string{tool}

	r := buildCached(t, cache, bins...)
	copied := filepath.Join(r.Dir, tool)
	st, err := os.Stat(copied)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&fs.ModeSetuid != 0 {
		t.Errorf("%s kept setuid", copied)
	}
	if st, err := os.Stat(r.Dir); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("root %s: %v, %v; want mode 0755", r.Dir, st.Mode(), err)
	}
	sentinel := filepath.Join(r.Dir, "root", "sentinel")
	if err := os.WriteFile(sentinel, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r.Release()

	again := buildCached(t, cache, bins...)
	if again.Dir != r.Dir {
		t.Fatalf("second BuildCached = %q, want %q", again.Dir, r.Dir)
	}
	if _, err := os.Stat(sentinel); err != nil {
		t.Errorf("unchanged sources: cache was rebuilt (%v)", err)
	}
	again.Release()

	touch(t, tool)
	r2 := buildCached(t, cache, bins...)
	r2.Release()
	if _, err := os.Stat(sentinel); err == nil {
		t.Errorf("source touched: cache was reused")
	}
	m, err := readManifest(cache)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Current(); err != nil {
		t.Errorf("rebuilt manifest not current: %v", err)
	}
	if filepath.Join(cache, m.Root) != r2.Dir {
		t.Errorf("manifest names %s, the root built is %s", m.Root, r2.Dir)
	}

	sentinel = filepath.Join(r2.Dir, "root", "sentinel")
	if err := os.WriteFile(sentinel, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r3 := buildCached(t, cache, tool, "/bin/sh")
	r3.Release()
	if _, err := os.Stat(sentinel); err == nil {
		t.Errorf("binaries changed: cache was reused")
	}
	// A failing build keeps the previous cache.
	if _, err := BuildCached(cache, []string{"/nonexistent"}); err == nil {
		t.Errorf("BuildCached of a missing binary succeeded")
	}
	if _, err := os.Stat(filepath.Join(r3.Dir, "bin/sh")); err != nil {
		t.Errorf("failed rebuild damaged the previous cache: %v", err)
	}
	if got := dirNames(t, parent); !slices.Equal(got, []string{"cache"}) {
		t.Errorf("cache parent holds %v, want only cache", got)
	}
	if got, want := dirNames(t, cache), []string{cacheManifestName, filepath.Base(r3.Dir), filepath.Base(r3.Dir) + cacheOwnerSuffix}; !slices.Equal(got, want) {
		t.Errorf("cache holds %v, want %v", got, want)
	}
}

// Issue 16 item 1: a cache path that holds anything minispawn did not
// make (a directory with a file, a regular file) is refused, and what is
// there stays byte for byte.
func TestBuildCachedRefusesForeignPath(t *testing.T) {
	tool := myTrue(t)
	dir := t.TempDir()
	precious := filepath.Join(dir, "d")
	if err := os.Mkdir(precious, 0o755); err != nil {
		t.Fatal(err)
	}
	important := filepath.Join(precious, "important.txt")
	if err := os.WriteFile(important, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A manifest.json that is not one of ours does not make a cache.
	other := filepath.Join(dir, "other")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, cacheManifestName), []byte(`{"name": "npm"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{precious, file, other} {
		_, err := BuildCached(path, []string{tool})
		if !errors.Is(err, ErrNotCache) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("BuildCached(%s) = %v, want a refusal naming the path", path, err)
		}
	}
	for _, f := range []string{important, file} {
		if b, err := os.ReadFile(f); err != nil || string(b) != "precious\n" {
			t.Errorf("%s: %q, %v", f, b, err)
		}
	}
	if got := dirNames(t, precious); !slices.Equal(got, []string{"important.txt"}) {
		t.Errorf("%s holds %v", precious, got)
	}
	if got := dirNames(t, other); !slices.Equal(got, []string{cacheManifestName}) {
		t.Errorf("%s holds %v", other, got)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{"d", "f", "other"}) {
		t.Errorf("%s holds %v", dir, got)
	}
	// An empty directory is claimed, and then it is a cache.
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	buildCached(t, empty, tool).Release()
	buildCached(t, empty, tool).Release()
}

// Issue 16 item 2: a root in use is never removed or changed by a rebuild:
// the rebuild makes a new root beside it, and the old one goes when its
// last user releases it. Files of the user's inside stay meanwhile.
func TestBuildCachedKeepsRootInUse(t *testing.T) {
	tool := myTrue(t)
	cache := filepath.Join(t.TempDir(), "cache")
	a := buildCached(t, cache, tool)
	b := buildCached(t, cache, tool) // a second container on the same cache
	if a.Dir != b.Dir {
		t.Fatalf("two users of a current cache got %s and %s", a.Dir, b.Dir)
	}
	sentinel := filepath.Join(a.Dir, "root", "sentinel")
	if err := os.WriteFile(sentinel, []byte("a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	touch(t, tool)
	c := buildCached(t, cache, tool)
	if c.Dir == a.Dir {
		t.Fatalf("stale cache reused")
	}
	if _, err := os.Stat(sentinel); err != nil {
		t.Errorf("a rebuild removed a root in use: %v", err)
	}
	if _, err := os.Stat(filepath.Join(a.Dir, "dev")); err != nil {
		t.Errorf("a rebuild changed a root in use: %v", err)
	}
	a.Release()
	if _, err := os.Stat(sentinel); err != nil {
		t.Errorf("root removed while a second user holds it: %v", err)
	}
	b.Release()
	if _, err := os.Stat(a.Dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old root still there after its last user left: %v", err)
	}
	c.Release()
	if _, err := os.Stat(filepath.Join(c.Dir, tool)); err != nil {
		t.Errorf("the current root went with its user: %v", err)
	}
	if got := len(dirNames(t, cache)); got != 3 {
		t.Errorf("cache holds %v, want the manifest, one root and its marker", dirNames(t, cache))
	}
}

// A cache made before roots had generations (manifest.json without root,
// the root in rootfs) is used as it is, and replaced by a rebuild; its
// root, which carries no proof of who made it, is left where it is.
func TestBuildCachedLegacy(t *testing.T) {
	tool := myTrue(t)
	cache := filepath.Join(t.TempDir(), "cache")
	m, err := BuildRoot(filepath.Join(cache, cacheRootLegacy), []string{tool})
	if err != nil {
		t.Fatal(err)
	}
	b, err := MarshalManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cache, cacheManifestName), b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := buildCached(t, cache, tool)
	if r.Dir != filepath.Join(cache, cacheRootLegacy) {
		t.Errorf("legacy cache: root %s", r.Dir)
	}
	r.Release()
	touch(t, tool)
	buildCached(t, cache, tool).Release()
	if _, err := os.Stat(filepath.Join(cache, cacheRootLegacy, tool)); err != nil {
		t.Errorf("legacy root, unproven, removed by a rebuild: %v", err)
	}
}

// A manifest.json forged beside a directory named like a root does not
// make it minispawn's: naming no root, naming that directory, or listing
// it as owned without its marker, the cache is refused, naming the path,
// and nothing is touched; a marker with the wrong token proves nothing.
func TestBuildCachedRefusesForgedManifest(t *testing.T) {
	tool := myTrue(t)
	for _, forged := range []string{
		`{"version":1}`,
		`{"version":1,"root":"rootfs-1111"}`,
		`{"version":1,"binaries":["/bin/sh"],"root":"rootfs-1111"}`,
		`{"version":1,"root":"rootfs-1111","owned":{"rootfs-1111":"x"}}`,
		`{"version":1,"root":"rootfs-2222","owned":{"rootfs-2222":"x"}}`,
	} {
		cache := t.TempDir()
		if err := os.MkdirAll(filepath.Join(cache, "rootfs-1111"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cache, "rootfs-1111", "data"), []byte("precious\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cache, cacheManifestName), []byte(forged), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := BuildCached(cache, []string{tool})
		if !errors.Is(err, ErrNotCache) || !strings.Contains(err.Error(), cache) || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("manifest %s: BuildCached = %v, want a refusal naming the path", forged, err)
		}
		if b, err := os.ReadFile(filepath.Join(cache, "rootfs-1111", "data")); err != nil || string(b) != "precious\n" {
			t.Errorf("manifest %s: data %q, %v", forged, b, err)
		}
		if b, err := os.ReadFile(filepath.Join(cache, cacheManifestName)); err != nil || string(b) != forged {
			t.Errorf("manifest %s: now %q, %v", forged, b, err)
		}
	}
	// Into a real cache, a directory named like a root and a forged
	// entry in its manifest with a marker of the wrong token: collection
	// leaves both.
	cache := filepath.Join(t.TempDir(), "cache")
	buildCached(t, cache, tool).Release()
	m, err := readManifest(cache)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"rootfs-1111", "rootfs-2222"} {
		if err := os.MkdirAll(filepath.Join(cache, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cache, name, "data"), []byte("precious\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(cache, "rootfs-2222"+cacheOwnerSuffix), []byte("guess"), 0o644); err != nil {
		t.Fatal(err)
	}
	m.Owned["rootfs-2222"] = "0123456789abcdef0123456789abcdef"
	if err := writeManifest(cache, m); err != nil {
		t.Fatal(err)
	}
	touch(t, tool)
	buildCached(t, cache, tool).Release()
	for _, name := range []string{"rootfs-1111", "rootfs-2222"} {
		if b, err := os.ReadFile(filepath.Join(cache, name, "data")); err != nil || string(b) != "precious\n" {
			t.Errorf("%s: data %q, %v", name, b, err)
		}
	}
	if _, err := os.Stat(filepath.Join(cache, m.Root)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the old root made here was not collected: %v", err)
	}
}

// A build cut short (marker and manifest entry written, the root half
// made, the manifest naming no root yet) leaves a cache that is accepted,
// and the next build collects what it left.
func TestBuildCachedAfterBuildCutShort(t *testing.T) {
	tool := myTrue(t)
	cache := filepath.Join(t.TempDir(), "cache")
	if err := os.Mkdir(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	name, token, err := newRootName(cache)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeManifest(cache, &Manifest{Version: manifestVersion, Owned: map[string]string{name: token}}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(cache, name, "usr"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := buildCached(t, cache, tool)
	r.Release()
	root := filepath.Base(r.Dir)
	if got, want := dirNames(t, cache), []string{cacheManifestName, root, root + cacheOwnerSuffix}; !slices.Equal(got, want) {
		t.Errorf("cache holds %v, want %v", got, want)
	}
}
