package mounts

import (
	"golang.org/x/sys/unix"
)

// MakePrivate makes every mount in the caller's mount namespace a
// recursive slave of its peer group (MS_REC|MS_SLAVE on "/"). It must be
// the first step after entering a new mount namespace and before any
// mount: a namespace made with CLONE_NEWNS starts with the host's shared
// peer groups, and any mount under a shared mount would appear on the
// host too. Slave rather than private keeps host mounts (a late USB disk,
// an NFS remount) flowing in, never out.
func MakePrivate() error {
	if err := unix.Mount("", "/", "", msRec|msSlave, ""); err != nil {
		return &Error{Op: "make-rslave", Target: "/", Err: err}
	}
	return nil
}

// PivotRoot makes root the caller's "/" and removes the host's tree from
// the mount namespace. Steps, in this order:
//
//  1. If root is not a mount point, bind it (recursively, so mounts made
//     by Apply come along) onto itself: pivot_root requires a mount point.
//  2. Change into root by descriptor and pivot_root(".", "."): the old root
//     ends up mounted on top of the new one, so no directory for it has to
//     exist inside the container.
//  3. Make the old root a recursive slave: otherwise, where it is still a
//     shared mount, the unmount below would propagate to the host.
//  4. Detach the old root (MNT_DETACH: lazily, as processes may still hold
//     files in it), leaving no path back to the host's files.
//  5. chdir("/") so the working directory is inside the new root.
//
// The caller must be in its own mount namespace (after MakePrivate).
func PivotRoot(root string) error {
	mounted, err := isMountRoot(root)
	if err != nil {
		return &Error{Op: "statx", Target: root, Err: err}
	}
	if !mounted {
		if err := unix.Mount(root, root, "", msBind|msRec, ""); err != nil {
			return &Error{Op: "mount", Source: root, Target: root, Err: err}
		}
	}
	fd, err := unix.Open(root, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &Error{Op: "open", Target: root, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Fchdir(fd); err != nil {
		return &Error{Op: "chdir", Target: root, Err: err}
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return &Error{Op: "pivot_root", Target: root, Err: err}
	}
	if err := unix.Mount("", ".", "", msRec|msSlave, ""); err != nil {
		return &Error{Op: "make-rslave", Target: "old root", Err: err}
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return &Error{Op: "umount", Target: "old root", Err: err}
	}
	if err := unix.Chdir("/"); err != nil {
		return &Error{Op: "chdir", Target: "/", Err: err}
	}
	return nil
}

// isMountRoot reports whether p is the root of a mount.
func isMountRoot(p string) (bool, error) {
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, p, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, &stx); err != nil {
		return false, err
	}
	if stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT == 0 {
		return false, unix.ENOSYS // kernel before 5.8: cannot tell
	}
	return stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0, nil
}

// RemountReadOnly makes the mount at path read-only with a bind remount,
// which changes only this mount, not the filesystem under it (that could
// be mounted read-write elsewhere on the host). Flags the mount already
// has (nosuid, nodev, noexec, ...) are kept. For a read-only container
// root, call it with "/" after PivotRoot, once every mount point exists.
func RemountReadOnly(path string) error {
	if err := remountBind(path, msRdonly); err != nil {
		return &Error{Op: "remount-ro", Target: path, Err: err}
	}
	return nil
}
