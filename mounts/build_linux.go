package mounts

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// stdDirs are created in every built root; /tmp is world-writable and
// sticky, /root private, as on a normal system.
var stdDirs = []struct {
	name string
	mode os.FileMode
}{
	{"proc", 0o555}, {"sys", 0o555}, {"dev", 0o755}, {"tmp", 0o777 | os.ModeSticky},
	{"etc", 0o755}, {"root", 0o700}, {"run", 0o755},
}

const (
	etcPasswd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
	etcGroup  = "root:x:0:\nnobody:x:65534:\n"
)

// BuildRoot makes a minimal root filesystem in dst (created if missing,
// refused if not empty) that can run binaries, which must be absolute host
// paths. For each binary it copies:
//
//   - the file itself, with every symlink met on the way reproduced with
//     the same contents (on merged-/usr Debian /bin/sh is /bin -> usr/bin
//     then sh -> dash), so every path that works on the host works inside;
//   - the loader named by PT_INTERP and, recursively, the libraries named
//     by DT_NEEDED, found as the loader would (see libResolver). A static
//     binary brings nothing else;
//   - for a "#!" script, its interpreter, handled the same way.
//
// Copies keep the permission bits but never setuid or setgid: a built
// root must not gain set-id entry points. The standard empty directories
// (proc, sys, dev, tmp, etc, root, run) and a minimal /etc/passwd and
// /etc/group (root and nobody) are added. Errors name the binary, the
// path and the errno.
//
// Libraries found only through ld.so.conf directories outside the
// loader's defaults are copied, but the root has no ld.so.cache to point
// the loader at them.
func BuildRoot(dst string, binaries []string) (*Manifest, error) {
	return buildRoot(dst, binaries, "/etc/ld.so.conf")
}

func buildRoot(dst string, binaries []string, ldSoConf string) (*Manifest, error) {
	for _, bin := range binaries {
		if !filepath.IsAbs(bin) {
			return nil, fmt.Errorf("mounts: binary %q: not an absolute path", bin)
		}
	}
	if err := prepareEmptyDir(dst); err != nil {
		return nil, fmt.Errorf("mounts: build root: %w", err)
	}
	res, err := newLibResolver(ldSoConf)
	if err != nil {
		return nil, fmt.Errorf("mounts: build root: %w", err)
	}
	b := &builder{dst: dst, res: res, done: map[string]bool{}, copied: map[string]bool{},
		m: &Manifest{Version: manifestVersion, Binaries: append([]string(nil), binaries...)}}
	if err := b.skeleton(); err != nil {
		return nil, fmt.Errorf("mounts: build root in %s: %w", dst, err)
	}
	for _, bin := range binaries {
		if err := b.addBinary(filepath.Clean(bin), 0); err != nil {
			return nil, fmt.Errorf("mounts: binary %s: %w", bin, err)
		}
	}
	return b.m, nil
}

func prepareEmptyDir(dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return pathError("mkdir", dst, err)
	}
	f, err := os.Open(dst)
	if err != nil {
		return pathError("open", dst, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if err != nil && err != io.EOF {
		return pathError("readdir", dst, err)
	}
	if len(names) > 0 {
		return &Error{Op: "build", Target: dst, Err: &reasonErr{unix.ENOTEMPTY, "destination is not empty"}}
	}
	return nil
}

type builder struct {
	dst    string
	res    *libResolver
	done   map[string]bool // real host paths whose dependencies are in
	copied map[string]bool // real host paths already copied
	m      *Manifest
}

func (b *builder) skeleton() error {
	for _, d := range stdDirs {
		p := filepath.Join(b.dst, d.name)
		if err := os.Mkdir(p, d.mode.Perm()); err != nil {
			return pathError("mkdir", p, err)
		}
		// Chmod because Mkdir is subject to the umask and drops the
		// sticky bit.
		if err := os.Chmod(p, d.mode); err != nil {
			return pathError("chmod", p, err)
		}
	}
	for name, content := range map[string]string{"etc/passwd": etcPasswd, "etc/group": etcGroup} {
		p := filepath.Join(b.dst, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return pathError("write", p, err)
		}
	}
	return nil
}

// addBinary copies an executable (or script) and, recursively, what it
// needs to run.
func (b *builder) addBinary(bin string, depth int) error {
	if depth > 4 {
		return fmt.Errorf("%s: interpreter chain too long", bin)
	}
	real, err := b.copyPath(bin)
	if err != nil {
		return err
	}
	if b.done[real] {
		return nil
	}
	b.done[real] = true
	exe, isELF, err := readELF(real)
	if err != nil {
		return err
	}
	if !isELF {
		interp, err := shebang(real)
		if err != nil || interp == "" {
			return err
		}
		return b.addBinary(interp, depth+1)
	}
	if exe.interp != "" {
		if _, err := b.copyPath(exe.interp); err != nil {
			return fmt.Errorf("loader %s: %w", exe.interp, err)
		}
	}
	return b.addLibs(real, exe, real, exe)
}

// addLibs copies the DT_NEEDED closure of one object.
func (b *builder) addLibs(objPath string, obj elfDeps, exePath string, exe elfDeps) error {
	for _, name := range obj.needed {
		lib, err := b.res.find(name, objPath, obj, exePath, exe)
		if err != nil {
			return err
		}
		real, err := b.copyPath(lib)
		if err != nil {
			return fmt.Errorf("library %s: %w", lib, err)
		}
		if b.done[real] {
			continue
		}
		b.done[real] = true
		deps, _, err := readELF(real)
		if err != nil {
			return err
		}
		if err := b.addLibs(real, deps, exePath, exe); err != nil {
			return err
		}
	}
	return nil
}

// copyPath reproduces host path p inside the root: directories on the
// way are created with the host's permissions, symlinks are recreated
// with identical contents and followed (on the host) for the rest of the
// path, and the regular file at the end is copied. It returns the host
// path of that file with no symlinks in it.
func (b *builder) copyPath(p string) (string, error) {
	for hops := 0; hops < 40; hops++ {
		comps := strings.Split(strings.TrimPrefix(filepath.Clean(p), "/"), "/")
		cur := "/"
		restarted := false
		for i, c := range comps {
			host := filepath.Join(cur, c)
			in := filepath.Join(b.dst, host)
			var st unix.Stat_t
			if err := unix.Lstat(host, &st); err != nil {
				return "", pathError("lstat", host, err)
			}
			last := i == len(comps)-1
			switch st.Mode & unix.S_IFMT {
			case unix.S_IFLNK:
				link, err := os.Readlink(host)
				if err != nil {
					return "", pathError("readlink", host, err)
				}
				if err := ensureSymlink(link, in); err != nil {
					return "", err
				}
				b.m.add(sourceFromStat(host, link, &st))
				if !filepath.IsAbs(link) {
					link = filepath.Join(cur, link)
				}
				p = filepath.Join(append([]string{link}, comps[i+1:]...)...)
				restarted = true
			case unix.S_IFDIR:
				if last {
					return "", &Error{Op: "copy", Target: host, Err: &reasonErr{unix.EISDIR, "not a regular file"}}
				}
				if err := ensureDir(in, os.FileMode(st.Mode&0o777)|stickyOf(st.Mode)); err != nil {
					return "", err
				}
			case unix.S_IFREG:
				if !last {
					return "", &Error{Op: "lstat", Target: host, Err: unix.ENOTDIR}
				}
				if !b.copied[host] {
					if err := b.copyFile(host, in); err != nil {
						return "", err
					}
					b.copied[host] = true
				}
				return host, nil
			default:
				return "", &Error{Op: "copy", Target: host, Err: &reasonErr{unix.EINVAL, "not a regular file"}}
			}
			if restarted {
				break
			}
			cur = host
		}
		if !restarted {
			return "", &Error{Op: "copy", Target: p, Err: unix.EINVAL}
		}
	}
	return "", &Error{Op: "copy", Target: p, Err: unix.ELOOP}
}

func stickyOf(mode uint32) os.FileMode {
	if mode&unix.S_ISVTX != 0 {
		return os.ModeSticky
	}
	return 0
}

func ensureDir(p string, mode os.FileMode) error {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err == nil {
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return &Error{Op: "mkdir", Target: p, Err: unix.EEXIST}
		}
		return nil
	}
	if err := os.Mkdir(p, mode.Perm()); err != nil {
		return pathError("mkdir", p, err)
	}
	if err := os.Chmod(p, mode); err != nil {
		return pathError("chmod", p, err)
	}
	return nil
}

func ensureSymlink(link, p string) error {
	err := os.Symlink(link, p)
	if err == nil {
		return nil
	}
	if existing, rerr := os.Readlink(p); rerr == nil && existing == link {
		return nil
	}
	return pathError("symlink", p, err)
}

// copyFile copies one regular file, recording in the manifest the
// metadata of exactly the file that was read (fstat on the open file).
func (b *builder) copyFile(src, dst string) error {
	in, err := os.OpenFile(src, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return pathError("open", src, err)
	}
	defer in.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(in.Fd()), &st); err != nil {
		return pathError("fstat", src, err)
	}
	perm := os.FileMode(st.Mode & 0o777) // no setuid/setgid/sticky
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, perm)
	if err != nil {
		return pathError("create", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if err := out.Chmod(perm); err != nil {
		out.Close()
		return pathError("chmod", dst, err)
	}
	if err := out.Close(); err != nil {
		return pathError("close", dst, err)
	}
	b.m.add(sourceFromStat(src, "", &st))
	return nil
}

// shebang returns the interpreter of a "#!" script, or "" for any other
// non-ELF file.
func shebang(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", pathError("open", p, err)
	}
	defer f.Close()
	line, err := bufio.NewReader(io.LimitReader(f, 256)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", pathError("read", p, err)
	}
	if !strings.HasPrefix(line, "#!") {
		return "", nil
	}
	fields := strings.Fields(line[2:])
	if len(fields) == 0 {
		return "", nil
	}
	if !filepath.IsAbs(fields[0]) {
		return "", fmt.Errorf("%s: interpreter %q is not an absolute path", p, fields[0])
	}
	return fields[0], nil
}
