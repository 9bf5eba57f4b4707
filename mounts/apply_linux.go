package mounts

import (
	"fmt"
	"log/slog"

	"golang.org/x/sys/unix"
)

// Apply performs plan inside root, in order. root is a host path; every
// Target is resolved inside it without letting a symlink lead out (see
// rootDir), missing directories are created, and an empty file is created
// as the mount point of a file or device bind. The whole plan is validated
// before anything is done. An Optional step that fails is logged with
// slog and skipped; any other failure stops Apply and names the step, the
// root and the errno. Mounts made before a failure are left in place:
// they live in the caller's private mount namespace and go with it.
//
// Apply mounts through /proc/self/fd/N, so the host's /proc must be
// mounted; call it before PivotRoot.
func Apply(root string, plan []Mount) error {
	return ApplyProtected(root, plan, nil)
}

// ApplyProtected is Apply that creates nothing on the mounts protect
// lists (by mount id, MountID): a target missing there is an error (EROFS)
// instead of a new directory or file in the user's root directory.
func ApplyProtected(root string, plan []Mount, protect []uint64) error {
	for i, m := range plan {
		if err := m.Validate(); err != nil {
			return fmt.Errorf("mounts: plan step %d: %w", i+1, err)
		}
	}
	r, err := openRoot(root)
	if err != nil {
		return fmt.Errorf("mounts: %w", err)
	}
	defer r.close()
	if len(protect) > 0 {
		r.protect = map[uint64]bool{}
		for _, id := range protect {
			r.protect[id] = true
		}
	}
	for i, m := range plan {
		err := r.apply(m)
		if err == nil {
			continue
		}
		if m.Optional {
			slog.Warn("optional mount step failed, continuing", "root", root, "step", m.String(), "err", err)
			continue
		}
		return fmt.Errorf("mounts: step %d (%s) in %s: %w", i+1, m, root, err)
	}
	return nil
}

func (r *rootDir) apply(m Mount) error {
	switch m.Kind {
	case KindSymlink:
		return r.symlink(m)
	case KindDevice:
		return r.device(m)
	case KindMask:
		return r.mask(m)
	case KindReadOnly:
		return r.readOnly(m)
	default:
		return r.mount(m)
	}
}

func (r *rootDir) symlink(m Mount) error {
	t, err := r.prepare(m.Target)
	if err != nil {
		return err
	}
	defer t.close()
	if fd, lerr := t.lookup(); lerr == nil {
		unix.Close(fd)
	} else if err := r.mayCreate(t.parent); err != nil {
		return &Error{Op: "symlink", Target: m.Target, Err: err}
	}
	err = unix.Symlinkat(m.Source, t.parent, t.name)
	if err == unix.EEXIST {
		// Idempotent for the same link; anything else in the way is an
		// error, not something to delete.
		buf := make([]byte, unix.PathMax)
		n, rerr := unix.Readlinkat(t.parent, t.name, buf)
		if rerr == nil && string(buf[:n]) == m.Source {
			return nil
		}
		err = &reasonErr{unix.EEXIST, "something else is at the link's path"}
	}
	if err != nil {
		return &Error{Op: "symlink", Target: m.Target, Err: err}
	}
	return nil
}

// device checks that the host node is a character device with the
// expected number, opened without following symlinks, then binds exactly
// that node (by descriptor) onto an empty file in the root.
func (r *rootDir) device(m Mount) error {
	src, err := unix.Open(m.Source, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &Error{Op: "open", Target: m.Source, Err: err}
	}
	defer unix.Close(src)
	if err := checkCharDevice(src, m.Source); err != nil {
		return err
	}
	return r.bind(m, src, true)
}

// checkCharDevice checks that the open file fd, known as name, is a
// character device and, when name is one of the standard nodes, that it
// has that node's number.
func checkCharDevice(fd int, name string) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &Error{Op: "stat", Target: name, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR {
		return &Error{Op: "check", Target: name, Err: &reasonErr{unix.ENODEV, "not a character device"}}
	}
	if want, ok := knownDevices[name]; ok {
		got := devNumber{unix.Major(st.Rdev), unix.Minor(st.Rdev)}
		if got != want {
			return &Error{Op: "check", Target: name, Err: &reasonErr{unix.ENODEV,
				fmt.Sprintf("device %d:%d, want %d:%d", got.major, got.minor, want.major, want.minor)}}
		}
	}
	return nil
}

func (r *rootDir) mount(m Mount) error {
	if m.Flags&msBind != 0 {
		// The source is a host path from the caller's configuration; it
		// is opened once and bound by descriptor so that what was checked
		// is what gets mounted.
		src, err := unix.Open(m.Source, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return &Error{Op: "open", Target: m.Source, Err: err}
		}
		defer unix.Close(src)
		var st unix.Stat_t
		if err := unix.Fstat(src, &st); err != nil {
			return &Error{Op: "stat", Target: m.Source, Err: err}
		}
		return r.bind(m, src, st.Mode&unix.S_IFMT != unix.S_IFDIR)
	}

	t, err := r.prepare(m.Target)
	if err != nil {
		return err
	}
	defer t.close()
	fd, err := t.open(false)
	if err != nil {
		return err
	}
	err = unix.Mount(m.Source, procFD(fd), m.FSType, m.Flags&^(propagationFlags|msRec), m.Data)
	unix.Close(fd)
	if err != nil {
		return &Error{Op: "mount", Source: m.Source, Target: m.Target, FSType: m.FSType, Err: err}
	}
	return propagate(t, m)
}

// bind mounts the open source onto the target, then applies attribute
// flags with a bind remount (a bind ignores them on creation) and any
// propagation change with a third call, each on a fresh lookup of the
// target so the call reaches the new mount, not the directory under it.
func (r *rootDir) bind(m Mount, src int, file bool) error {
	t, err := r.prepare(m.Target)
	if err != nil {
		return err
	}
	defer t.close()
	fd, err := t.open(file)
	if err != nil {
		return err
	}
	err = unix.Mount(procFD(src), procFD(fd), "", msBind|m.Flags&msRec, "")
	unix.Close(fd)
	if err != nil {
		return &Error{Op: "mount", Source: m.Source, Target: m.Target, Err: err}
	}
	if err := remountAttrs(t, m); err != nil {
		return err
	}
	return propagate(t, m)
}

func propagate(t *target, m Mount) error {
	prop := m.Flags & propagationFlags
	if prop == 0 {
		return nil
	}
	fd, err := t.lookup()
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Mount("", procFD(fd), "", prop|m.Flags&msRec, ""); err != nil {
		return &Error{Op: "make-" + FormatOptions(prop|m.Flags&msRec, ""), Target: m.Target, Err: err}
	}
	return nil
}

// statfsToMS maps statfs f_flags (ST_*) to mount flags. The values are
// from <sys/statvfs.h>; two of them differ from their MS_ twins.
var statfsToMS = []struct{ st, ms uintptr }{
	{0x1, msRdonly},       // ST_RDONLY
	{0x2, msNosuid},       // ST_NOSUID
	{0x4, msNodev},        // ST_NODEV
	{0x8, msNoexec},       // ST_NOEXEC
	{0x400, msNoatime},    // ST_NOATIME
	{0x800, msNodiratime}, // ST_NODIRATIME
	{0x1000, msRelatime},  // ST_RELATIME
	{0x2000, msNosymfollow},
}

// remountBind sets attrs on the mount at p while keeping the restrictive
// flags it already has. Keeping them matters twice: dropping nosuid or
// nodev from a bind of a host mount would loosen it, and in a user
// namespace the kernel refuses (EPERM) to clear flags it has locked.
func remountBind(p string, attrs uintptr) error {
	var sfs unix.Statfs_t
	if err := unix.Statfs(p, &sfs); err != nil {
		return err
	}
	keep := uintptr(0)
	for _, f := range statfsToMS {
		if uintptr(sfs.Flags)&f.st != 0 {
			keep |= f.ms
		}
	}
	// Only the restrictive bits are kept; atime behaviour follows attrs
	// when it names one, the existing mount's otherwise.
	keep &= msRdonly | msNosuid | msNodev | msNoexec | msNosymfollow | msNoatime | msNodiratime | msRelatime
	if attrs&(msNoatime|msRelatime|msStrictatime) != 0 {
		keep &^= msNoatime | msRelatime
	}
	return unix.Mount("", p, "", msRemount|msBind|keep|attrs, "")
}
