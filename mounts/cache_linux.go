package mounts

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"
)

// Layout of a cache directory: the root and the manifest it was built
// from live side by side, so that one rename swaps both at once.
const (
	cacheRootName     = "rootfs"
	cacheManifestName = "manifest.json"
)

// BuildCached returns the path of a root built by BuildRoot from
// binaries, kept at cacheDir/rootfs with its manifest at
// cacheDir/manifest.json. When the manifest lists the same binaries and
// every recorded host file is unchanged (size, mtime, inode, mode, link
// contents), the cached root is returned as it is. Otherwise a new one is
// built in a temporary sibling of cacheDir and swapped in atomically with
// renameat2(RENAME_EXCHANGE) (a plain rename the first time), and the old
// one is removed; a failed build leaves the previous cache untouched.
//
// Builders of the same cacheDir are serialised by an flock on its parent
// directory. A container still running from a replaced root loses the
// files of that root (they are removed), so callers rebuild between
// containers, not under them.
func BuildCached(cacheDir string, binaries []string) (string, error) {
	cacheDir = filepath.Clean(cacheDir)
	parent := filepath.Dir(cacheDir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("mounts: cache: %w", pathError("mkdir", parent, err))
	}
	unlock, err := lockDir(parent)
	if err != nil {
		return "", fmt.Errorf("mounts: cache: %w", err)
	}
	defer unlock()

	root := filepath.Join(cacheDir, cacheRootName)
	reason := cacheValid(cacheDir, binaries)
	if reason == nil {
		return root, nil
	}
	slog.Debug("building root", "cache", cacheDir, "reason", reason)

	tmp, err := os.MkdirTemp(parent, filepath.Base(cacheDir)+".new-*")
	if err != nil {
		return "", fmt.Errorf("mounts: cache: %w", pathError("mkdtemp", parent, err))
	}
	keepTmp := false
	defer func() {
		if !keepTmp {
			os.RemoveAll(tmp)
		}
	}()
	m, err := BuildRoot(filepath.Join(tmp, cacheRootName), binaries)
	if err != nil {
		return "", err
	}
	b, err := MarshalManifest(m)
	if err != nil {
		return "", fmt.Errorf("mounts: cache: %w", err)
	}
	mp := filepath.Join(tmp, cacheManifestName)
	if err := os.WriteFile(mp, b, 0o644); err != nil {
		return "", fmt.Errorf("mounts: cache: %w", pathError("write", mp, err))
	}

	err = unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, cacheDir, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.ENOENT) {
		// First build: nothing to exchange with.
		err = unix.Rename(tmp, cacheDir)
		keepTmp = err == nil
	}
	if err != nil {
		return "", fmt.Errorf("mounts: cache: %w", &Error{Op: "rename", Source: tmp, Target: cacheDir, Err: err})
	}
	// After an exchange tmp holds the old cache, removed by the deferred
	// RemoveAll.
	return root, nil
}

// cacheValid returns nil when cacheDir holds a root built from binaries
// that is still current, or the reason it is not.
func cacheValid(cacheDir string, binaries []string) error {
	b, err := os.ReadFile(filepath.Join(cacheDir, cacheManifestName))
	if err != nil {
		return err
	}
	m, err := UnmarshalManifest(b)
	if err != nil {
		return err
	}
	if !slices.Equal(m.Binaries, binaries) {
		return fmt.Errorf("binaries differ: cached %q", m.Binaries)
	}
	if _, err := os.Stat(filepath.Join(cacheDir, cacheRootName)); err != nil {
		return err
	}
	return m.Current()
}

// lockDir takes an exclusive flock on a directory and returns its release.
func lockDir(dir string) (func(), error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &Error{Op: "open", Target: dir, Err: err}
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, &Error{Op: "flock", Target: dir, Err: err}
	}
	// Closing the descriptor releases the lock.
	return func() { unix.Close(fd) }, nil
}
