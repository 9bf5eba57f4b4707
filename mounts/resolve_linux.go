package mounts

import (
	"errors"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// rootDir resolves paths inside a container root. Every lookup goes
// through openat2 with RESOLVE_IN_ROOT, so absolute symlinks and ".." in
// the root are interpreted as if the root were "/", and a symlink such as
// root/dev -> /tmp/host leads to root/tmp/host, never to the host's /tmp.
// Magic links (/proc/*/fd, /proc/*/root) are refused outright.
//
// Hand-written on openat2 (Linux >= 5.6) rather than a library: the
// operations needed are few, and every one is a single system call here.
type rootDir struct {
	fd int
	// protect are mounts nothing may be created on (ApplyProtected):
	// those of the user's root directory.
	protect map[uint64]bool
}

const inRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// beneathNoLinks is for a single name looked up in a directory already
// resolved inside the root: no symlink at all may be followed.
const beneathNoLinks = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

func openRoot(root string) (*rootDir, error) {
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &Error{Op: "open", Target: root, Err: err}
	}
	return &rootDir{fd: fd}, nil
}

func (r *rootDir) close() { unix.Close(r.fd) }

func openat2(dirfd int, name string, flags uint64, resolve uint64) (int, error) {
	for {
		fd, err := unix.Openat2(dirfd, name, &unix.OpenHow{Flags: flags | unix.O_CLOEXEC, Resolve: resolve})
		// EAGAIN: a concurrent rename or mount raced the lookup; the
		// kernel asks to retry.
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		return fd, err
	}
}

// procFD names an open file descriptor as a path mount(2) can take. The
// kernel follows the magic link to the exact file the descriptor holds, so
// the mount lands where the in-root lookup ended, whatever the tree looks
// like by then.
func procFD(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// mkdirAll makes every missing directory of dir, an absolute path inside
// the root, and returns an O_PATH descriptor of it. Existing components
// may be symlinks (resolved inside the root); a component that is a
// dangling symlink is refused rather than guessed at.
func (r *rootDir) mkdirAll(dir string) (int, error) {
	cur, err := openat2(r.fd, ".", unix.O_PATH|unix.O_DIRECTORY, inRoot)
	if err != nil {
		return -1, &Error{Op: "open", Target: "/", Err: err}
	}
	rel := strings.TrimPrefix(dir, "/")
	if rel == "" {
		return cur, nil
	}
	comps := strings.Split(rel, "/")
	for i, name := range comps {
		prefix := strings.Join(comps[:i+1], "/")
		shown := "/" + prefix
		fd, err := openat2(r.fd, prefix, unix.O_PATH|unix.O_DIRECTORY, inRoot)
		if err == unix.ENOENT {
			// cur is the real directory the lookup of the parent reached;
			// creating name in it by descriptor cannot be redirected.
			err = r.mayCreate(cur)
			if err == nil {
				err = unix.Mkdirat(cur, name, 0o755)
			}
			if err == unix.EEXIST {
				err = &reasonErr{unix.ENOENT, "dangling symlink"}
			}
			if err != nil {
				unix.Close(cur)
				return -1, &Error{Op: "mkdir", Target: shown, Err: err}
			}
			fd, err = openat2(cur, name, unix.O_PATH|unix.O_DIRECTORY, beneathNoLinks)
		}
		unix.Close(cur)
		if err != nil {
			return -1, &Error{Op: "open", Target: shown, Err: err}
		}
		cur = fd
	}
	return cur, nil
}

// errProtected: a path would be created in the user's root directory.
var errProtected = &reasonErr{unix.EROFS, "missing in the root directory, where minispawn creates nothing; it was there when the plan was made"}

// mayCreate refuses to create anything in dir when dir is on a protected
// mount.
func (r *rootDir) mayCreate(dir int) error {
	if len(r.protect) == 0 {
		return nil
	}
	id, err := mountIDOf(dir, "")
	if err != nil {
		return err
	}
	if r.protect[id] {
		return errProtected
	}
	return nil
}

// target is a mount point or link location being prepared: the resolved
// parent directory and the final name in it.
type target struct {
	parent int
	name   string
	shown  string // the in-root path, for errors
	r      *rootDir
}

// prepare resolves the parent of an in-root path, creating it as needed.
func (r *rootDir) prepare(p string) (*target, error) {
	parent, err := r.mkdirAll(path.Dir(p))
	if err != nil {
		return nil, err
	}
	return &target{parent: parent, name: path.Base(p), shown: p, r: r}, nil
}

func (t *target) close() { unix.Close(t.parent) }

// open returns an O_PATH descriptor of the final component, creating an
// empty directory or, with file set, an empty regular file when missing.
// The final component is never followed: a mount target that is a symlink
// is refused, as a symlink there is either a mistake or an attempt to
// redirect the mount.
func (t *target) open(file bool) (int, error) {
	fd, err := t.lookup()
	if err == nil || !errors.Is(err, unix.ENOENT) {
		return fd, err
	}
	if t.r != nil {
		if err := t.r.mayCreate(t.parent); err != nil {
			return -1, &Error{Op: "create", Target: t.shown, Err: err}
		}
	}
	if file {
		var cfd int
		cfd, err = unix.Openat(t.parent, t.name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
		if err == nil {
			unix.Close(cfd)
		}
	} else {
		err = unix.Mkdirat(t.parent, t.name, 0o755)
	}
	if err != nil && err != unix.EEXIST {
		op := "mkdir"
		if file {
			op = "create"
		}
		return -1, &Error{Op: op, Target: t.shown, Err: err}
	}
	return t.lookup()
}

// lookup opens the final component as it is now; a mount made on it since
// the last lookup is crossed into, so this also reaches a new mount's root.
func (t *target) lookup() (int, error) {
	fd, err := openat2(t.parent, t.name, unix.O_PATH, beneathNoLinks)
	if err == unix.ELOOP {
		err = &reasonErr{unix.ELOOP, "target is a symlink"}
	}
	if err != nil {
		return -1, &Error{Op: "open", Target: t.shown, Err: err}
	}
	return fd, nil
}
