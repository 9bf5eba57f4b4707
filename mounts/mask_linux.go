package mounts

import (
	"errors"
	"log/slog"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// existing resolves an in-root path that must already exist, creating
// nothing: the parent is resolved inside the root (symlinks in it stay
// inside), the final name is opened without following a symlink. It
// returns found == false, and no error, when either is missing; on
// success the caller closes t and fd.
func (r *rootDir) existing(p string) (t *target, fd int, found bool, err error) {
	dir := strings.TrimPrefix(path.Dir(p), "/")
	if dir == "" {
		dir = "."
	}
	parent, err := openat2(r.fd, dir, unix.O_PATH|unix.O_DIRECTORY, inRoot)
	if err == unix.ENOENT {
		return nil, -1, false, nil
	}
	if err != nil {
		return nil, -1, false, &Error{Op: "open", Target: path.Dir(p), Err: err}
	}
	t = &target{parent: parent, name: path.Base(p), shown: p}
	fd, err = t.lookup()
	if errors.Is(err, unix.ENOENT) {
		t.close()
		return nil, -1, false, nil
	}
	if err != nil {
		t.close()
		return nil, -1, false, err
	}
	return t, fd, true, nil
}

// mask hides an existing target: a directory under a fresh filesystem, a
// file under a bind of a checked device node from inside the root.
func (r *rootDir) mask(m Mount) error {
	t, fd, found, err := r.existing(m.Target)
	if err != nil || !found {
		if err == nil {
			slog.Debug("nothing to mask", "target", m.Target)
		}
		return err
	}
	defer t.close()
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &Error{Op: "stat", Target: m.Target, Err: err}
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR

	if m.FSType != "" {
		if !isDir {
			return &Error{Op: "mask", Target: m.Target, Err: &reasonErr{unix.ENOTDIR, "a filesystem masks directories only"}}
		}
		if err := unix.Mount(m.Source, procFD(fd), m.FSType, m.Flags&^(propagationFlags|msRec), m.Data); err != nil {
			return &Error{Op: "mount", Source: m.Source, Target: m.Target, FSType: m.FSType, Err: err}
		}
		return nil
	}

	if isDir {
		return &Error{Op: "mask", Target: m.Target, Err: &reasonErr{unix.EISDIR, "a device masks files only"}}
	}
	// The source is the container's node, not the host's: resolved inside
	// the root with no symlink anywhere on its path, then checked, so a
	// root whose /dev/null is something else cannot expose it here.
	src, err := openat2(r.fd, strings.TrimPrefix(m.Source, "/"), unix.O_PATH, inRoot|unix.RESOLVE_NO_SYMLINKS)
	if err == unix.ELOOP {
		err = &reasonErr{unix.ELOOP, "a symlink on the path of the mask's device"}
	}
	if err != nil {
		return &Error{Op: "open", Target: m.Source, Err: err}
	}
	defer unix.Close(src)
	if err := checkCharDevice(src, m.Source); err != nil {
		return err
	}
	if err := unix.Mount(procFD(src), procFD(fd), "", msBind, ""); err != nil {
		return &Error{Op: "mount", Source: m.Source, Target: m.Target, Err: err}
	}
	return remountAttrs(t, m)
}

// readOnly binds an existing target onto itself and remounts the bind with
// the step's attributes. A bind, not a remount of the filesystem: only
// this path changes, the rest of /proc stays as it is.
func (r *rootDir) readOnly(m Mount) error {
	t, fd, found, err := r.existing(m.Target)
	if err != nil || !found {
		if err == nil {
			slog.Debug("nothing to make read-only", "target", m.Target)
		}
		return err
	}
	defer t.close()
	err = unix.Mount(procFD(fd), procFD(fd), "", msBind, "")
	unix.Close(fd)
	if err != nil {
		return &Error{Op: "mount", Source: m.Source, Target: m.Target, Err: err}
	}
	return remountAttrs(t, m)
}

// remountAttrs applies the step's attribute flags to the mount just made
// on t, found by a fresh lookup (which crosses into the new mount).
func remountAttrs(t *target, m Mount) error {
	attrs := m.Flags & attrFlags
	if attrs == 0 {
		return nil
	}
	fd, err := t.lookup()
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := remountBind(procFD(fd), attrs); err != nil {
		return &Error{Op: "remount", Target: m.Target, Err: err}
	}
	return nil
}
