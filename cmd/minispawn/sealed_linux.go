package main

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// sealedCopy returns a memfd holding the bytes of path (or of data when
// path is empty), sealed so that nobody, root included, can change it. The
// container runs miniinit from such a copy: a process inside that opens
// /proc/1/exe for writing reaches this memfd, never the host's binary
// (the attack class of CVE-2019-5736).
func sealedCopy(name, path string, data []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create %s: %w", name, errnoErr(err))
	}
	f := os.NewFile(uintptr(fd), "memfd:"+name)
	if path != "" {
		src, err := os.Open(path)
		if err != nil {
			f.Close()
			return nil, err
		}
		err = copyFile(f, src)
		src.Close()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("copy %s into memfd: %w", path, err)
		}
	} else if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, fmt.Errorf("write memfd %s: %w", name, err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal memfd %s: %w", name, errnoErr(err))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// copyFile copies all of src to dst with sendfile(2): the kernel copies
// page cache to page cache, where io.Copy falls back (copy_file_range
// refuses a memfd as a cross-device target) to a loop of 32 KiB reads and
// writes, about a hundred of each for miniinit. A source sendfile cannot
// read (EINVAL, ENOSYS) is copied with io.Copy from where sendfile
// stopped.
func copyFile(dst, src *os.File) error {
	for {
		n, err := unix.Sendfile(int(dst.Fd()), int(src.Fd()), nil, 1<<30)
		switch {
		case err == unix.EINTR || err == unix.EAGAIN:
			continue
		case err == unix.EINVAL || err == unix.ENOSYS:
			_, err = io.Copy(dst, src)
			return err
		case err != nil:
			return errnoErr(err)
		case n == 0:
			return nil
		}
	}
}

// errnoErr names an errno the way setup errors are written here
// ("EPERM: operation not permitted") while keeping it matchable with
// errors.Is.
type errnoError struct{ errno unix.Errno }

func (e errnoError) Error() string {
	if n := unix.ErrnoName(e.errno); n != "" {
		return n
	}
	return e.errno.Error()
}

func (e errnoError) Unwrap() error { return e.errno }

func errnoErr(err error) error {
	if en, ok := err.(unix.Errno); ok {
		return errnoError{en}
	}
	return err
}
