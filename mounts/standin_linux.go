package mounts

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// maxStandInEntries bounds the bind mounts one stand-in makes: a
// directory with more entries than this is better given the missing
// target by hand than mirrored mount by mount.
const maxStandInEntries = 1024

// FindMissingIn is FindMissing on the root directory root, looking paths
// up inside it as Apply does (symlinks resolved in the root).
func FindMissingIn(root string, plan []Mount) (Missing, error) {
	r, err := openRoot(root)
	if err != nil {
		return Missing{}, err
	}
	defer r.close()
	return FindMissing(plan, r)
}

// Exists reports whether the in-root path p exists, its final component
// not followed.
func (r *rootDir) Exists(p string) (bool, error) {
	return r.found(p, unix.O_PATH|unix.O_NOFOLLOW)
}

// IsDir reports whether the in-root path p leads to a directory.
func (r *rootDir) IsDir(p string) (bool, error) {
	ok, err := r.found(p, unix.O_PATH|unix.O_DIRECTORY)
	if errors.Is(err, unix.ENOTDIR) {
		return false, nil
	}
	return ok, err
}

func (r *rootDir) found(p string, flags uint64) (bool, error) {
	fd, err := openat2(r.fd, inRootName(p), flags, inRoot)
	switch {
	case err == nil:
		unix.Close(fd)
		return true, nil
	case errors.Is(err, unix.ENOENT):
		return false, nil
	}
	return false, &Error{Op: "open", Target: p, Err: err}
}

// MountID is the id of the mount p is on (statx STATX_MNT_ID, Linux 5.8).
func MountID(p string) (uint64, error) {
	fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, &Error{Op: "open", Target: p, Err: err}
	}
	defer unix.Close(fd)
	return mountIDOf(fd, p)
}

func mountIDOf(fd int, shown string) (uint64, error) {
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &stx); err != nil {
		return 0, &Error{Op: "statx", Target: shown, Err: err}
	}
	if stx.Mask&unix.STATX_MNT_ID == 0 {
		return 0, &Error{Op: "statx", Target: shown, Err: &reasonErr{unix.ENOSYS, "no mount id: Linux 5.8 or later is needed"}}
	}
	return stx.Mnt_id, nil
}

// StandIn covers the directory dir of root (an in-root path) with a tmpfs
// that stands in for it: the tmpfs gets dir's owner and mode, and each
// entry of dir appears in it as it is, a bind mount of the entry
// (directories recursively, with the mounts below them) or a copy of a
// symlink. Missing mount targets can then be made in dir, on the tmpfs,
// without writing to the root. What the container changes inside an entry
// reaches the root; a name it makes, removes or renames directly in dir
// is the tmpfs's and goes with the mount namespace (renaming over a bound
// entry fails with EBUSY).
//
// It returns the ids of the bind mounts made, which reach the root's
// files, for ApplyProtected. The tmpfs exists only in the caller's mount
// namespace; call this after MakePrivate and before Apply.
func StandIn(root, dir string) ([]uint64, error) {
	r, err := openRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.close()
	fail := func(op, p string, err error) ([]uint64, error) {
		return nil, fmt.Errorf("stand-in for %s: %w", dir, &Error{Op: op, Target: p, Err: err})
	}
	dfd, err := openat2(r.fd, inRootName(dir), unix.O_PATH|unix.O_DIRECTORY, inRoot)
	if err != nil {
		return fail("open", dir, err)
	}
	defer unix.Close(dfd)
	var st unix.Stat_t
	if err := unix.Fstat(dfd, &st); err != nil {
		return fail("stat", dir, err)
	}
	list, err := unix.Openat(dfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fail("open", dir, err)
	}
	lf := os.NewFile(uintptr(list), dir)
	names, err := lf.Readdirnames(maxStandInEntries + 1)
	lf.Close()
	if err != nil && err != io.EOF {
		return fail("list", dir, err)
	}
	if len(names) > maxStandInEntries {
		return fail("list", dir, &reasonErr{unix.E2BIG, fmt.Sprintf("more than %d entries to mirror: make the missing mount targets in it yourself", maxStandInEntries)})
	}
	// Every entry is opened before the tmpfs covers dir: by descriptor,
	// not followed, so what is bound is exactly what was there.
	type entry struct {
		name string
		fd   int
		st   unix.Stat_t
	}
	var ents []entry
	defer func() {
		for _, e := range ents {
			unix.Close(e.fd)
		}
	}()
	for _, n := range names {
		fd, err := openat2(dfd, n, unix.O_PATH|unix.O_NOFOLLOW, beneathNoLinks)
		if errors.Is(err, unix.ENOENT) {
			continue // removed meanwhile
		}
		if err != nil {
			return fail("open", joinIn(dir, n), err)
		}
		e := entry{name: n, fd: fd}
		ents = append(ents, e)
		if err := unix.Fstat(fd, &ents[len(ents)-1].st); err != nil {
			return fail("stat", joinIn(dir, n), err)
		}
	}

	data := fmt.Sprintf("mode=%o,uid=%d,gid=%d,size=1m", st.Mode&0o7777, st.Uid, st.Gid)
	if err := unix.Mount("tmpfs", procFD(dfd), "tmpfs", msNosuid|msNodev, data); err != nil {
		return nil, fmt.Errorf("stand-in for %s: %w", dir, &Error{Op: "mount", Source: "tmpfs", Target: dir, FSType: "tmpfs", Err: err})
	}
	// A fresh lookup reaches the tmpfs just mounted.
	tfd, err := openat2(r.fd, inRootName(dir), unix.O_PATH|unix.O_DIRECTORY, inRoot)
	if dir == "/" {
		// The root's own descriptor is below the new mount: look it up
		// again by the path it was opened with.
		tfd, err = unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return fail("open", dir, err)
	}
	defer unix.Close(tfd)
	var ids []uint64
	for _, e := range ents {
		p := joinIn(dir, e.name)
		if e.st.Mode&unix.S_IFMT == unix.S_IFLNK {
			buf := make([]byte, unix.PathMax)
			n, err := unix.Readlinkat(e.fd, "", buf)
			if err != nil {
				return fail("readlink", p, err)
			}
			if err := unix.Symlinkat(string(buf[:n]), tfd, e.name); err != nil {
				return fail("symlink", p, err)
			}
			if err := unix.Fchownat(tfd, e.name, int(e.st.Uid), int(e.st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return fail("chown", p, err)
			}
			continue
		}
		t := &target{parent: tfd, name: e.name, shown: p}
		fd, err := t.open(e.st.Mode&unix.S_IFMT != unix.S_IFDIR)
		if err != nil {
			return nil, fmt.Errorf("stand-in for %s: %w", dir, err)
		}
		err = unix.Mount(procFD(e.fd), procFD(fd), "", msBind|msRec, "")
		unix.Close(fd)
		if err != nil {
			return nil, fmt.Errorf("stand-in for %s: %w", dir, &Error{Op: "bind", Source: p, Target: p, Err: err})
		}
		fd, err = t.lookup()
		if err != nil {
			return nil, fmt.Errorf("stand-in for %s: %w", dir, err)
		}
		id, err := mountIDOf(fd, p)
		unix.Close(fd)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// inRootName is an in-root path as openat2 takes it relative to the root.
func inRootName(p string) string {
	if p == "/" {
		return "."
	}
	return strings.TrimPrefix(p, "/")
}

// joinIn names entry name of the in-root directory dir.
func joinIn(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}
