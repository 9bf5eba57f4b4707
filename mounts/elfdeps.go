package mounts

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// elfDeps is what the dynamic loader needs to start one ELF file.
type elfDeps struct {
	class   elf.Class
	machine elf.Machine
	interp  string   // PT_INTERP, empty for static files and libraries
	needed  []string // DT_NEEDED, in order
	rpath   []string // DT_RPATH, ignored by the loader when runpath is set
	runpath []string // DT_RUNPATH
}

// readELF reads the loader-relevant headers of path. ok is false when the
// file is not ELF at all (a script, for instance).
func readELF(path string) (d elfDeps, ok bool, err error) {
	f, err := elf.Open(path)
	if err != nil {
		if _, isFmt := err.(*elf.FormatError); isFmt {
			return d, false, nil
		}
		return d, false, err
	}
	defer f.Close()
	d.class, d.machine = f.Class, f.Machine
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return d, true, fmt.Errorf("read PT_INTERP of %s: %w", path, err)
		}
		d.interp = string(bytes.TrimRight(b, "\x00"))
	}
	if f.Section(".dynamic") == nil && dynamicProg(f) == nil {
		return d, true, nil // static: no dynamic section, nothing to load
	}
	if d.needed, err = f.DynString(elf.DT_NEEDED); err != nil {
		return d, true, fmt.Errorf("read DT_NEEDED of %s: %w", path, err)
	}
	for _, tag := range []struct {
		t   elf.DynTag
		dst *[]string
	}{{elf.DT_RPATH, &d.rpath}, {elf.DT_RUNPATH, &d.runpath}} {
		vals, err := f.DynString(tag.t)
		if err != nil {
			return d, true, fmt.Errorf("read %v of %s: %w", tag.t, path, err)
		}
		for _, v := range vals {
			*tag.dst = append(*tag.dst, strings.Split(v, ":")...)
		}
	}
	return d, true, nil
}

func dynamicProg(f *elf.File) *elf.Prog {
	for _, p := range f.Progs {
		if p.Type == elf.PT_DYNAMIC {
			return p
		}
	}
	return nil
}

// multiarchTriplet is Debian's multiarch directory name for an ELF class
// and machine; empty when unknown.
func multiarchTriplet(c elf.Class, m elf.Machine) string {
	switch {
	case m == elf.EM_X86_64 && c == elf.ELFCLASS64:
		return "x86_64-linux-gnu"
	case m == elf.EM_X86_64 && c == elf.ELFCLASS32:
		return "x86_64-linux-gnux32"
	case m == elf.EM_386:
		return "i386-linux-gnu"
	case m == elf.EM_AARCH64:
		return "aarch64-linux-gnu"
	case m == elf.EM_ARM:
		return "arm-linux-gnueabihf"
	case m == elf.EM_RISCV && c == elf.ELFCLASS64:
		return "riscv64-linux-gnu"
	case m == elf.EM_PPC64:
		return "powerpc64le-linux-gnu"
	case m == elf.EM_S390:
		return "s390x-linux-gnu"
	case m == elf.EM_MIPS && c == elf.ELFCLASS64:
		return "mips64el-linux-gnuabi64"
	case m == elf.EM_LOONGARCH:
		return "loongarch64-linux-gnu"
	}
	return ""
}

// defaultLibDirs are the loader's built-in directories for an ELF class
// and machine, searched after DT_RUNPATH/DT_RPATH and ld.so.conf.
func defaultLibDirs(c elf.Class, m elf.Machine) []string {
	var dirs []string
	if c == elf.ELFCLASS64 {
		dirs = append(dirs, "/lib64", "/usr/lib64")
	} else {
		dirs = append(dirs, "/lib32", "/usr/lib32")
	}
	if t := multiarchTriplet(c, m); t != "" {
		dirs = append(dirs, "/lib/"+t, "/usr/lib/"+t)
	}
	return append(dirs, "/lib", "/usr/lib")
}

// parseLdSoConf returns the library directories named by an ld.so.conf
// file, following "include" globs (relative to the including file's
// directory) in sorted order and skipping comments and "hwcap" lines.
// Missing files are ignored, as ldconfig does.
func parseLdSoConf(path string, depth int) ([]string, error) {
	if depth > 8 {
		return nil, fmt.Errorf("ld.so.conf includes nested too deep at %s", path)
	}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var dirs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.FieldsFunc(line, func(r rune) bool {
			return r == ' ' || r == '\t' || r == ':' || r == ','
		})
		if len(fields) == 0 || fields[0] == "hwcap" {
			continue
		}
		if fields[0] == "include" {
			for _, pat := range fields[1:] {
				if !filepath.IsAbs(pat) {
					pat = filepath.Join(filepath.Dir(path), pat)
				}
				matches, err := filepath.Glob(pat)
				if err != nil {
					return nil, fmt.Errorf("%s: include %q: %w", path, pat, err)
				}
				sort.Strings(matches)
				for _, m := range matches {
					sub, err := parseLdSoConf(m, depth+1)
					if err != nil {
						return nil, err
					}
					dirs = append(dirs, sub...)
				}
			}
			continue
		}
		dirs = append(dirs, fields...)
	}
	return dirs, sc.Err()
}

// expandOrigin replaces $ORIGIN / ${ORIGIN} in a DT_RUNPATH or DT_RPATH
// entry with the directory of the object that carries it.
func expandOrigin(dir, origin string) string {
	dir = strings.ReplaceAll(dir, "${ORIGIN}", origin)
	return strings.ReplaceAll(dir, "$ORIGIN", origin)
}

// libResolver finds shared libraries the way the dynamic loader does,
// minus ld.so.cache: DT_RPATH (of the object, then of the executable that
// pulled it in) unless DT_RUNPATH is set, DT_RUNPATH, the ld.so.conf
// directories, then the loader's defaults. A candidate of the wrong ELF
// class or machine is skipped, as the loader skips it.
type libResolver struct {
	confDirs []string
}

func newLibResolver(ldSoConf string) (*libResolver, error) {
	dirs, err := parseLdSoConf(ldSoConf, 0)
	if err != nil {
		return nil, err
	}
	return &libResolver{confDirs: dirs}, nil
}

// find returns the host path of library name needed by the object at
// objPath (whose headers are obj); exe is the executable's headers and
// path, whose DT_RPATH also applies.
func (r *libResolver) find(name, objPath string, obj elfDeps, exePath string, exe elfDeps) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	var dirs []string
	origin := func(p string) string {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p)
	}
	if len(obj.runpath) == 0 {
		for _, d := range obj.rpath {
			dirs = append(dirs, expandOrigin(d, origin(objPath)))
		}
		if exePath != objPath {
			for _, d := range exe.rpath {
				dirs = append(dirs, expandOrigin(d, origin(exePath)))
			}
		}
	}
	for _, d := range obj.runpath {
		dirs = append(dirs, expandOrigin(d, origin(objPath)))
	}
	dirs = append(dirs, r.confDirs...)
	dirs = append(dirs, defaultLibDirs(obj.class, obj.machine)...)
	for _, d := range dirs {
		if d == "" {
			continue
		}
		cand := filepath.Join(d, name)
		if _, err := os.Stat(cand); err != nil {
			continue
		}
		cd, ok, err := readELF(cand)
		if err != nil || !ok || cd.class != obj.class || cd.machine != obj.machine {
			continue
		}
		return cand, nil
	}
	return "", fmt.Errorf("library %s needed by %s not found (searched %s)", name, objPath, strings.Join(dirs, ":"))
}
