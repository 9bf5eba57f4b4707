package mounts

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func sourceFromStat(path, link string, st *unix.Stat_t) Source {
	return Source{
		Path:    path,
		Link:    link,
		Mode:    st.Mode,
		Size:    st.Size,
		MtimeNs: st.Mtim.Nano(),
		Dev:     st.Dev,
		Inode:   st.Ino,
	}
}

// Current re-reads every recorded source from the host and returns an
// error naming the first one that differs (or is gone). nil means a root
// built now from the same binaries would copy the same files.
func (m *Manifest) Current() error {
	if m.Version != manifestVersion {
		return fmt.Errorf("manifest version %d, want %d", m.Version, manifestVersion)
	}
	for _, s := range m.Sources {
		var st unix.Stat_t
		if err := unix.Lstat(s.Path, &st); err != nil {
			return pathError("lstat", s.Path, err)
		}
		link := ""
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			l, err := os.Readlink(s.Path)
			if err != nil {
				return pathError("readlink", s.Path, err)
			}
			link = l
		}
		if now := sourceFromStat(s.Path, link, &st); now != s {
			return fmt.Errorf("%s changed (size %d->%d, mtime %d->%d, inode %d->%d, link %q->%q)",
				s.Path, s.Size, now.Size, s.MtimeNs, now.MtimeNs, s.Inode, now.Inode, s.Link, now.Link)
		}
	}
	return nil
}

// pathError turns an os or unix error on a host path into an *Error that
// names the bare errno.
func pathError(op, path string, err error) error {
	if pe, ok := err.(*os.PathError); ok {
		err = pe.Err
	}
	if le, ok := err.(*os.LinkError); ok {
		err = le.Err
	}
	if se, ok := err.(*os.SyscallError); ok {
		err = se.Err
	}
	return &Error{Op: op, Target: path, Err: err}
}
