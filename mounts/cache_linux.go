package mounts

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Layout of a cache directory: manifest.json names the current root, a
// directory rootfs-XXXX beside it (rootfs in caches made before roots had
// generations). A rebuild makes a new root under a new name and then
// replaces manifest.json by rename, so the switch is atomic and a root
// never changes its path, or its contents, while it exists.
const (
	cacheRootPrefix   = "rootfs-"
	cacheRootLegacy   = "rootfs"
	cacheManifestName = "manifest.json"
	cacheManifestNew  = "manifest.json.new"
)

// ErrNotCache is wrapped by BuildCached when the cache path holds
// something that minispawn did not make: it refuses to touch it.
var ErrNotCache = errors.New("not a minispawn cache")

// CachedRoot is a root built by BuildCached, in use until Release. While
// it is in use no BuildCached, of this process or another, removes or
// changes it: a rebuild makes a new root beside it.
type CachedRoot struct {
	// Dir is the root directory. Its path stays valid until Release.
	Dir      string
	cacheDir string
	// lock is a descriptor of Dir, holding a shared flock: the mark that
	// the root is in use.
	lock *os.File
}

// BuildCached returns a root built by BuildRoot from binaries and kept in
// cacheDir, with the manifest it was built from. When the manifest lists
// the same binaries and every recorded host file is unchanged (size,
// mtime, inode, mode, link contents), the current root is returned as it
// is; otherwise a new one is built beside it and made current by renaming
// a new manifest over the old one. A failed build leaves the cache as it
// was.
//
// cacheDir must be absent, an empty directory, or a cache made here
// (recognised by its manifest): anything else is refused with an error
// wrapping ErrNotCache, and nothing in it is touched. In a cache, only
// the roots it made (rootfs, rootfs-*) and its manifest are ever removed
// or replaced.
//
// The root returned is in use until its Release: a root in use is never
// removed; one that is no longer current is removed by the first
// BuildCached or Release that finds it unused. Builders and users of the
// same cacheDir are serialised by an flock on cacheDir.
func BuildCached(cacheDir string, binaries []string) (*CachedRoot, error) {
	cacheDir = filepath.Clean(cacheDir)
	unlock, err := openCache(cacheDir)
	if errors.Is(err, ErrNotCache) {
		return nil, err // says it all, path included
	}
	if err != nil {
		return nil, fmt.Errorf("mounts: cache: %w", err)
	}
	defer unlock()

	m, reason := cacheValid(cacheDir, binaries)
	if reason != nil {
		slog.Debug("building root", "cache", cacheDir, "reason", reason)
		if m, err = buildGeneration(cacheDir, binaries); err != nil {
			return nil, err
		}
	}
	r := &CachedRoot{Dir: filepath.Join(cacheDir, m.Root), cacheDir: cacheDir}
	if r.lock, err = lockRoot(r.Dir, unix.LOCK_SH); err != nil {
		return nil, fmt.Errorf("mounts: cache: %w", err)
	}
	collectRoots(cacheDir, m.Root)
	return r, nil
}

// Release ends the use of the root. If it is no longer the cache's
// current root and nobody else uses it, it is removed now.
func (r *CachedRoot) Release() error {
	if r == nil || r.lock == nil {
		return nil
	}
	r.lock.Close()
	r.lock = nil
	unlock, err := lockDir(r.cacheDir)
	if err != nil {
		return fmt.Errorf("mounts: cache: %w", err)
	}
	defer unlock()
	m, err := readManifest(r.cacheDir)
	if err != nil {
		return fmt.Errorf("mounts: cache %s: %w", r.cacheDir, err)
	}
	collectRoots(r.cacheDir, m.Root)
	return nil
}

// openCache makes cacheDir if it is absent, locks it, and checks that it
// is empty or a cache made here; an empty one is claimed with a manifest
// that names no root yet, so that a build cut short still leaves a
// directory recognised as a cache.
func openCache(cacheDir string) (unlock func(), err error) {
	parent := filepath.Dir(cacheDir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, pathError("mkdir", parent, err)
	}
	if err := os.Mkdir(cacheDir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, pathError("mkdir", cacheDir, err)
	}
	st, err := os.Stat(cacheDir)
	if err != nil {
		return nil, pathError("stat", cacheDir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is a file, %w: refusing to replace it (name a new or empty directory)", cacheDir, ErrNotCache)
	}
	if unlock, err = lockDir(cacheDir); err != nil {
		return nil, err
	}
	if err := claimCache(cacheDir); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// claimCache returns nil when dir (locked) holds a manifest made here, or
// writes one when dir is empty; otherwise it refuses.
func claimCache(dir string) error {
	_, err := readManifest(dir)
	if err == nil {
		return nil
	}
	names, rerr := readNames(dir)
	if rerr != nil {
		return rerr
	}
	if len(names) > 0 {
		shown := names
		if len(shown) > 3 {
			shown = append(shown[:3:3], "...")
		}
		return fmt.Errorf("%s holds files minispawn did not make (%s) and no manifest of a minispawn cache (%v), %w: refusing to touch it (name a new or empty directory)",
			dir, strings.Join(shown, ", "), err, ErrNotCache)
	}
	return writeManifest(dir, &Manifest{Version: manifestVersion})
}

// readManifest reads dir's manifest; a file that is not one made here is
// an error.
func readManifest(dir string) (*Manifest, error) {
	p := filepath.Join(dir, cacheManifestName)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, pathError("read", p, err)
	}
	m, err := UnmarshalManifest(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if m.Version < 1 {
		return nil, fmt.Errorf("%s: no manifest version", p)
	}
	if m.Root == "" && len(m.Binaries) > 0 {
		m.Root = cacheRootLegacy // made before roots had generations
	}
	if m.Root != "" && !isCacheRoot(m.Root) {
		return nil, fmt.Errorf("%s: root %q is not a name this cache gives its roots", p, m.Root)
	}
	return m, nil
}

// writeManifest replaces dir's manifest atomically.
func writeManifest(dir string, m *Manifest) error {
	b, err := MarshalManifest(m)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, cacheManifestNew)
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return pathError("write", tmp, err)
	}
	p := filepath.Join(dir, cacheManifestName)
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return pathError("rename", p, err)
	}
	return nil
}

// buildGeneration builds a new root in cacheDir (locked) and makes it the
// current one.
func buildGeneration(cacheDir string, binaries []string) (*Manifest, error) {
	dir, err := os.MkdirTemp(cacheDir, cacheRootPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("mounts: cache: %w", pathError("mkdtemp", cacheDir, err))
	}
	// MkdirTemp makes 0700; a root must be searchable by every user.
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("mounts: cache: %w", pathError("chmod", dir, err))
	}
	m, err := BuildRoot(dir, binaries)
	if err == nil {
		m.Root = filepath.Base(dir)
		err = writeManifest(cacheDir, m)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("mounts: cache: %w", err)
	}
	return m, nil
}

// cacheValid returns the manifest of cacheDir and nil when it names a root
// built from binaries that is still current, or the reason it is not.
func cacheValid(cacheDir string, binaries []string) (*Manifest, error) {
	m, err := readManifest(cacheDir)
	if err != nil {
		return nil, err
	}
	if m.Root == "" {
		return nil, errors.New("no root built yet")
	}
	if !slices.Equal(m.Binaries, binaries) {
		return nil, fmt.Errorf("binaries differ: cached %q", m.Binaries)
	}
	if _, err := os.Stat(filepath.Join(cacheDir, m.Root)); err != nil {
		return nil, err
	}
	return m, m.Current()
}

// isCacheRoot reports whether name is one that BuildCached gives roots.
func isCacheRoot(name string) bool {
	return name == cacheRootLegacy || strings.HasPrefix(name, cacheRootPrefix) && !strings.Contains(name, "/")
}

// collectRoots removes, from cacheDir (locked), the roots other than
// current that nobody uses: an exclusive flock on one succeeds only when
// no user holds its shared one, and users take theirs under the cache's
// lock, so none can start using it meanwhile. Failures are logged: a root
// left behind costs space, not correctness.
func collectRoots(cacheDir, current string) {
	names, err := readNames(cacheDir)
	if err != nil {
		slog.Warn("list cache", "dir", cacheDir, "err", err)
		return
	}
	for _, name := range names {
		if name == current || !isCacheRoot(name) {
			continue
		}
		dir := filepath.Join(cacheDir, name)
		lock, err := lockRoot(dir, unix.LOCK_EX|unix.LOCK_NB)
		if errors.Is(err, unix.EWOULDBLOCK) {
			slog.Debug("old cached root still in use", "dir", dir)
			continue
		}
		if err != nil {
			slog.Warn("old cached root", "err", err)
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			slog.Warn("remove old cached root", "dir", dir, "err", err)
		}
		lock.Close()
	}
}

// lockRoot opens dir and takes an flock of kind how on it.
func lockRoot(dir string, how int) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &Error{Op: "open", Target: dir, Err: err}
	}
	if err := flock(fd, how); err != nil {
		unix.Close(fd)
		return nil, &Error{Op: "flock", Target: dir, Err: err}
	}
	return os.NewFile(uintptr(fd), dir), nil
}

func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, pathError("open", dir, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, pathError("readdir", dir, err)
	}
	slices.Sort(names)
	return names, nil
}

// lockDir takes an exclusive flock on a directory and returns its release.
func lockDir(dir string) (func(), error) {
	f, err := lockRoot(dir, unix.LOCK_EX)
	if err != nil {
		return nil, err
	}
	// Closing the descriptor releases the lock.
	return func() { f.Close() }, nil
}

// flock is flock(2), retried on EINTR.
func flock(fd, how int) error {
	for {
		err := unix.Flock(fd, how)
		if err != unix.EINTR {
			return err
		}
	}
}
