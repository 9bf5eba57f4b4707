package mounts

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Layout of a cache directory: manifest.json names the current root, a
// directory rootfs-XXXX beside it (rootfs in caches made before roots had
// generations). A rebuild makes a new root under a new name and then
// replaces manifest.json by rename, so the switch is atomic and a root
// never changes its path, or its contents, while it exists. Each root made
// gets a marker file beside it, <root>.owner, holding a random token that
// the manifest records too (Manifest.Owned): the proof, checked before any
// removal, that minispawn made that directory.
const (
	cacheRootPrefix   = "rootfs-"
	cacheOwnerSuffix  = ".owner"
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
// (recognised by its manifest, which must name an existing root of its
// own, or, naming none, be alone with the roots it owns): anything else
// is refused with an error wrapping ErrNotCache, and nothing in it is
// touched. In a cache, only the manifest and the roots it lists as made
// here (Manifest.Owned) whose marker holds the recorded token are ever
// removed or replaced: never a directory merely named like a root.
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

	old, err := readManifest(cacheDir)
	if err != nil {
		return nil, fmt.Errorf("mounts: cache: %w", err)
	}
	m := old
	if reason := cacheValid(cacheDir, old, binaries); reason != nil {
		slog.Debug("building root", "cache", cacheDir, "reason", reason)
		if m, err = buildGeneration(cacheDir, old, binaries); err != nil {
			return nil, err
		}
	}
	r := &CachedRoot{Dir: filepath.Join(cacheDir, m.Root), cacheDir: cacheDir}
	if r.lock, err = lockRoot(r.Dir, unix.LOCK_SH); err != nil {
		return nil, fmt.Errorf("mounts: cache: %w", err)
	}
	collectRoots(cacheDir, m)
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
	collectRoots(r.cacheDir, m)
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
	names, rerr := readNames(dir)
	if rerr != nil {
		return rerr
	}
	m, err := readManifest(dir)
	if err == nil {
		if err := checkOwnRoot(dir, m, names); err != nil {
			return fmt.Errorf("%s: %w, %w: refusing to touch it (name a new or empty directory)", dir, err, ErrNotCache)
		}
		return nil
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

// checkOwnRoot returns nil when m, read from dir (listing names), is one
// minispawn wrote there: the root it names exists, is a directory, and is
// proven its own (listed in Owned with a matching marker; a cache from
// before markers: a manifest with the binaries and sources every build
// records); a manifest naming no root is alone with the roots it owns.
func checkOwnRoot(dir string, m *Manifest, names []string) error {
	if m.Root == "" {
		for _, n := range names {
			owned := m.Owned[strings.TrimSuffix(n, cacheOwnerSuffix)] != ""
			if n != cacheManifestName && n != cacheManifestNew && !owned {
				return fmt.Errorf("manifest names no root, yet %s is there", n)
			}
		}
		return nil
	}
	p := filepath.Join(dir, m.Root)
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return fmt.Errorf("the root the manifest names: %w", pathError("lstat", p, err))
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("the root the manifest names, %s, is not a directory", p)
	}
	if len(m.Owned) == 0 {
		if len(m.Binaries) == 0 || len(m.Sources) == 0 {
			return fmt.Errorf("the manifest names %s but records no build of it", p)
		}
		return nil
	}
	return checkOwner(dir, m, m.Root)
}

// checkOwner returns nil when root is listed in m.Owned and its marker in
// dir holds the token recorded there.
func checkOwner(dir string, m *Manifest, root string) error {
	token := m.Owned[root]
	if token == "" {
		return fmt.Errorf("%s is not among the roots the manifest records as made here", filepath.Join(dir, root))
	}
	p := filepath.Join(dir, root+cacheOwnerSuffix)
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("marker of %s: %w", root, pathError("open", p, err))
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	b := make([]byte, 256)
	n, _ := f.Read(b)
	if string(b[:n]) != token {
		return fmt.Errorf("marker %s does not hold the token the manifest records", p)
	}
	return nil
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

// buildGeneration builds a new root in cacheDir (locked), whose manifest
// is old, and makes it the current one. The new root's marker and its
// entry in the manifest are written before the directory is made, so that
// a build cut short at any point leaves nothing the manifest does not own,
// and the next collection removes what it left.
func buildGeneration(cacheDir string, old *Manifest, binaries []string) (*Manifest, error) {
	claimed := *old
	claimed.Owned = maps.Clone(old.Owned)
	if claimed.Owned == nil {
		claimed.Owned = map[string]string{}
	}
	name, token, err := newRootName(cacheDir)
	if err != nil {
		return nil, fmt.Errorf("mounts: cache: %w", err)
	}
	dir := filepath.Join(cacheDir, name)
	marker := dir + cacheOwnerSuffix
	claimed.Owned[name] = token
	if err := writeManifest(cacheDir, &claimed); err != nil {
		os.Remove(marker)
		return nil, fmt.Errorf("mounts: cache: %w", err)
	}
	made := false
	fail := func(err error) (*Manifest, error) {
		if made {
			os.RemoveAll(dir)
		}
		delete(claimed.Owned, name)
		if writeManifest(cacheDir, &claimed) == nil {
			os.Remove(marker)
		}
		return nil, fmt.Errorf("mounts: cache: %w", err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fail(pathError("mkdir", dir, err))
	}
	made = true
	// The umask may have narrowed it; a root must be searchable by every user.
	if err := os.Chmod(dir, 0o755); err != nil {
		return fail(pathError("chmod", dir, err))
	}
	m, err := BuildRoot(dir, binaries)
	if err != nil {
		return fail(err)
	}
	m.Root = name
	m.Owned = claimed.Owned
	if err := writeManifest(cacheDir, m); err != nil {
		return fail(err)
	}
	return m, nil
}

// newRootName picks a name for a new root that nothing in cacheDir
// (locked) has, rootfs- and random digits, and creates its marker holding
// a new random token.
func newRootName(cacheDir string) (name, token string, err error) {
	for range 100 {
		b := make([]byte, 20)
		if _, err := rand.Read(b); err != nil {
			return "", "", err
		}
		token = hex.EncodeToString(b[:16])
		name = cacheRootPrefix + strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[16:])), 10)
		if _, err := os.Lstat(filepath.Join(cacheDir, name)); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		p := filepath.Join(cacheDir, name+cacheOwnerSuffix)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", "", pathError("create", p, err)
		}
		_, err = f.WriteString(token)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(p)
			return "", "", pathError("write", p, err)
		}
		return name, token, nil
	}
	return "", "", fmt.Errorf("%s: no free name for a new root", cacheDir)
}

// cacheValid returns nil when m, cacheDir's manifest, names a root built
// from binaries that is still current, or the reason it is not.
func cacheValid(cacheDir string, m *Manifest, binaries []string) error {
	if m.Root == "" {
		return errors.New("no root built yet")
	}
	if !slices.Equal(m.Binaries, binaries) {
		return fmt.Errorf("binaries differ: cached %q", m.Binaries)
	}
	if _, err := os.Stat(filepath.Join(cacheDir, m.Root)); err != nil {
		return err
	}
	return m.Current()
}

// isCacheRoot reports whether name is one that BuildCached gives roots:
// rootfs, or rootfs- and the digits MkdirTemp adds.
func isCacheRoot(name string) bool {
	if name == cacheRootLegacy {
		return true
	}
	digits, ok := strings.CutPrefix(name, cacheRootPrefix)
	return ok && digits != "" && strings.Trim(digits, "0123456789") == ""
}

// collectRoots removes, from cacheDir (locked), the roots m owns other
// than its current one that nobody uses, and drops them from the
// manifest. A root is removed only after its marker proves it was made
// here, and only when an exclusive flock on it succeeds, which happens
// only when no user holds its shared one; users take theirs under the
// cache's lock, so none can start using it meanwhile. A directory named
// like a root that the manifest does not own is never touched. Failures
// are logged: a root left behind costs space, not correctness.
func collectRoots(cacheDir string, m *Manifest) {
	var removed []string
	for _, name := range slices.Sorted(maps.Keys(m.Owned)) {
		if name == m.Root {
			continue
		}
		dir := filepath.Join(cacheDir, name)
		if err := checkOwner(cacheDir, m, name); err != nil {
			slog.Warn("old cached root not removed", "dir", dir, "err", err)
			continue
		}
		lock, err := lockRoot(dir, unix.LOCK_EX|unix.LOCK_NB)
		if errors.Is(err, unix.EWOULDBLOCK) {
			slog.Debug("old cached root still in use", "dir", dir)
			continue
		}
		if errors.Is(err, unix.ENOENT) {
			err = nil // removed already, by a run cut short after
		} else if err != nil {
			slog.Warn("old cached root", "err", err)
			continue
		} else {
			err = os.RemoveAll(dir)
			lock.Close()
		}
		if err != nil {
			slog.Warn("remove old cached root", "dir", dir, "err", err)
			continue
		}
		delete(m.Owned, name)
		removed = append(removed, name)
	}
	if len(removed) == 0 {
		return
	}
	if err := writeManifest(cacheDir, m); err != nil {
		slog.Warn("cache manifest", "dir", cacheDir, "err", err)
		return
	}
	// The markers go last: a manifest still listing a root keeps its
	// marker, and a marker the manifest no longer lists proves nothing.
	for _, name := range removed {
		os.Remove(filepath.Join(cacheDir, name+cacheOwnerSuffix))
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
