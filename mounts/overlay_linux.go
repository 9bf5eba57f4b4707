package mounts

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// OverlayRoot makes a root whose writes are discarded: an overlay with
// lower as its only, never written, lower layer, and its upper and work
// directories on a fresh tmpfs mounted on dir. It returns the overlay's
// mount point, dir/root, ready for Apply and PivotRoot.
//
// The tmpfs exists only in the caller's mount namespace: call this after
// MakePrivate in a new one. Whatever the container writes lands on it and
// vanishes with the namespace, however the container ends; lower is not
// changed. dir is created (0700) if missing, and stays empty on the host.
// Mounts below lower are not part of the overlay, as with any overlay.
//
// The steps, in this order:
//
//  1. Open lower first: a lower below dir stays reachable once the tmpfs
//     covers dir. All three directories are named to overlayfs as
//     /proc/self/fd/N, so no path needs escaping in the options (',' and
//     ':' are separators there).
//  2. Mount the tmpfs on dir (nosuid, nodev: nothing on it is meant to be
//     used except through the overlay, whose own mount decides).
//  3. Make upper (with lower's owner and mode, which the merged root
//     shows), work and root.
//  4. Mount the overlay on dir/root.
func OverlayRoot(lower, dir string) (string, error) {
	lfd, err := unix.Open(lower, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", &Error{Op: "open", Target: lower, Err: err}
	}
	defer unix.Close(lfd)
	var st unix.Stat_t
	if err := unix.Fstat(lfd, &st); err != nil {
		return "", &Error{Op: "stat", Target: lower, Err: err}
	}

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", msNosuid|msNodev, "mode=0700"); err != nil {
		return "", &Error{Op: "mount", Source: "tmpfs", Target: dir, FSType: "tmpfs", Err: err}
	}

	upper, work, root := filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "root")
	for _, d := range []string{upper, work, root} {
		if err := unix.Mkdir(d, 0o700); err != nil {
			return "", &Error{Op: "mkdir", Target: d, Err: err}
		}
	}
	if err := unix.Chown(upper, int(st.Uid), int(st.Gid)); err != nil {
		return "", &Error{Op: "chown", Target: upper, Err: err}
	}
	if err := unix.Chmod(upper, st.Mode&0o7777); err != nil {
		return "", &Error{Op: "chmod", Target: upper, Err: err}
	}

	ufd, err := unix.Open(upper, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", &Error{Op: "open", Target: upper, Err: err}
	}
	defer unix.Close(ufd)
	wfd, err := unix.Open(work, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", &Error{Op: "open", Target: work, Err: err}
	}
	defer unix.Close(wfd)
	data := "lowerdir=" + procFD(lfd) + ",upperdir=" + procFD(ufd) + ",workdir=" + procFD(wfd)
	if err := unix.Mount("overlay", root, "overlay", 0, data); err != nil {
		return "", &Error{Op: "mount", Source: "overlay", Target: root, FSType: "overlay", Err: err}
	}
	return root, nil
}
