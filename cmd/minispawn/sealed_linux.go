package main

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// sealedCopy returns a memfd holding the bytes of path (or of data when
// path is empty), sealed so that nobody, root included, can change it. The
// container runs miniinit from such a copy: a process inside that opens
// /proc/1/exe for writing reaches this memfd, never the host's binary
// (the attack class of CVE-2019-5736).
func sealedCopy(name, path string, data []byte) (*os.File, error) {
	f, src, err := openCopy(name, path)
	if err != nil {
		return nil, err
	}
	if err := fillAndSeal(f, src, name, path, data); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// sealedCopyLater is sealedCopy of path, with the copy made in the
// background: it returns the memfd at once, and wait, which returns when
// the copy is complete and sealed (the same error on every call). Copying
// miniinit takes a millisecond or two, which the steps between the memfd's
// creation and its first use (cgroup, clone, the second stage's start)
// hide. The caller must call wait before anyone may execute the copy, and
// before closing the file.
func sealedCopyLater(name, path string) (f *os.File, wait func() error, err error) {
	f, src, err := openCopy(name, path)
	if err != nil {
		return nil, nil, err
	}
	done := make(chan error, 1)
	go func() { done <- fillAndSeal(f, src, name, path, nil) }()
	return f, sync.OnceValue(func() error { return <-done }), nil
}

// openCopy makes the memfd, and opens path when there is one.
func openCopy(name, path string) (*os.File, *os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, nil, fmt.Errorf("memfd_create %s: %w", name, errnoErr(err))
	}
	f := os.NewFile(uintptr(fd), "memfd:"+name)
	if path == "" {
		return f, nil, nil
	}
	src, err := os.Open(path)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, src, nil
}

// fillAndSeal writes src (closing it), or data when src is nil, into f,
// seals f and rewinds it.
func fillAndSeal(f, src *os.File, name, path string, data []byte) error {
	if src != nil {
		err := copyFile(f, src)
		src.Close()
		if err != nil {
			return fmt.Errorf("copy %s into memfd: %w", path, err)
		}
	} else if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write memfd %s: %w", name, err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		return fmt.Errorf("seal memfd %s: %w", name, errnoErr(err))
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
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
