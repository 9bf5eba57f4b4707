package mounts

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/roottest"
)

// runChrooted runs argv inside root with chroot(2) and returns its
// output. chroot suffices here: these tests check the root's contents,
// not isolation.
func runChrooted(t *testing.T, root string, argv ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root}
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v in %s: %v\n%s", argv, root, err, out)
	}
	return string(out)
}

// walkRoot lists a root's regular files and symlinks (as "path -> link").
func walkRoot(t *testing.T, root string) (files, links []string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, root)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			links = append(links, rel+" -> "+l)
		case d.Type().IsRegular():
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, links
}

func childPS() error {
	root := os.Getenv("MOUNTS_TEST_ROOT")
	if err := MakePrivate(); err != nil {
		return err
	}
	if err := Apply(root, DefaultMounts()[:1]); err != nil { // proc only
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/ps", "-e", "-o", "pid=,comm=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root}
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

// A root built from dynamically linked host binaries runs each of them,
// by both the merged-/usr path and the historical one.
func TestBuildRootRunsBinaries(t *testing.T) {
	roottest.Require(t)
	hostMountsUnchanged(t)
	root := filepath.Join(t.TempDir(), "root")
	m, err := BuildRoot(root, []string{"/bin/sh", "/bin/ls", "/usr/bin/ps", "/bin/hostname"})
	if err != nil {
		t.Fatal(err)
	}

	if got := runChrooted(t, root, "/bin/sh", "-c", "echo ok from sh"); got != "ok from sh\n" {
		t.Errorf("/bin/sh: %q", got)
	}
	if got := runChrooted(t, root, "/usr/bin/sh", "-c", "echo ok from usr"); got != "ok from usr\n" {
		t.Errorf("/usr/bin/sh: %q", got)
	}
	top, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range top {
		want = append(want, e.Name())
	}
	if got := strings.Fields(runChrooted(t, root, "/bin/ls", "-1", "/")); !slices.Equal(got, want) {
		t.Errorf("ls / = %v, want %v", got, want)
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(runChrooted(t, root, "/bin/hostname")); got != host {
		t.Errorf("hostname = %q, want %q", got, host)
	}

	ps := string(runChild(t, "ps", "MOUNTS_TEST_ROOT="+root))
	exe, _ := os.Executable()
	comm := filepath.Base(exe)
	if len(comm) > 15 {
		comm = comm[:15]
	}
	lines := strings.Split(strings.TrimSpace(ps), "\n")
	if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "1 "+comm ||
		!strings.HasSuffix(strings.TrimSpace(lines[1]), " ps") {
		t.Errorf("ps in a new PID namespace: want PID 1 %s and ps only, got:\n%s", comm, ps)
	}

	// The path symlinks are the host's, the set-id bits are gone, and
	// the manifest covers what was copied.
	_, links := walkRoot(t, root)
	for _, l := range []string{"/bin", "/lib64", "/usr/bin/sh"} {
		hostLink, err := os.Readlink(l)
		if err != nil {
			continue // not a symlink on this host
		}
		if !slices.Contains(links, l+" -> "+hostLink) {
			t.Errorf("symlink %s -> %s not reproduced; root has %v", l, hostLink, links)
		}
	}
	files, _ := walkRoot(t, root)
	for _, f := range files {
		st, err := os.Lstat(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode()&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
			t.Errorf("%s keeps a set-id bit", f)
		}
		if !strings.HasPrefix(f, "/etc/") && !slices.ContainsFunc(m.Sources, func(s Source) bool { return s.Path == f }) {
			t.Errorf("copied %s is not in the manifest", f)
		}
	}
	if err := m.Current(); err != nil {
		t.Errorf("fresh manifest not current: %v", err)
	}
}

// A static binary needs nothing but itself.
func TestBuildRootStaticBinary(t *testing.T) {
	roottest.Require(t)
	const busybox = "/bin/busybox"
	_, err := os.Stat(busybox)
	roottest.Need(t, err == nil, busybox+" (Debian package busybox-static)")
	root := filepath.Join(t.TempDir(), "root")
	if _, err := BuildRoot(root, []string{busybox}); err != nil {
		t.Fatal(err)
	}
	files, _ := walkRoot(t, root)
	real, err := filepath.EvalSymlinks(busybox)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/etc/group", "/etc/passwd", real}
	slices.Sort(files)
	slices.Sort(want)
	if !slices.Equal(files, want) {
		t.Errorf("static root holds %v, want %v", files, want)
	}
	if got := runChrooted(t, root, busybox, "echo", "static ok"); got != "static ok\n" {
		t.Errorf("busybox echo: %q", got)
	}
}

// A "#!" script brings its interpreter.
func TestBuildRootScript(t *testing.T) {
	roottest.Require(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "hello")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho script ok\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "root")
	if _, err := BuildRoot(root, []string{script}); err != nil {
		t.Fatal(err)
	}
	if got := runChrooted(t, root, script); got != "script ok\n" {
		t.Errorf("script: %q", got)
	}
}

func TestBuildRootErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		bins []string
		want []string
	}{
		{[]string{"sh"}, []string{`binary "sh"`, "not an absolute path"}},
		{[]string{"/nonexistent/bin/tool"}, []string{"binary /nonexistent/bin/tool", "lstat /nonexistent: ENOENT"}},
		{[]string{"/usr/bin"}, []string{"binary /usr/bin", "EISDIR"}},
	} {
		_, err := BuildRoot(filepath.Join(dir, "r"+strings.ReplaceAll(c.bins[0], "/", "_")), c.bins)
		if err == nil {
			t.Errorf("BuildRoot(%v) succeeded", c.bins)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("BuildRoot(%v) = %q, want it to contain %q", c.bins, err, w)
			}
		}
	}
	full := filepath.Join(dir, "full")
	if err := os.MkdirAll(filepath.Join(full, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := BuildRoot(full, []string{"/bin/sh"}); err == nil || !strings.Contains(err.Error(), "ENOTEMPTY") {
		t.Errorf("BuildRoot into a non-empty dir: %v", err)
	}
}

func TestParseLdSoConf(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "ld.so.conf.d")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"ld.so.conf":            "# comment\ninclude ld.so.conf.d/*.conf\n/opt/a:/opt/b /opt/c # trailing\nhwcap 0 nosegneg\n",
		"ld.so.conf.d/b.conf":   "/b/lib\n",
		"ld.so.conf.d/a.conf":   "/a/lib,/a/lib2\n",
		"ld.so.conf.d/skip.txt": "/not/read\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := parseLdSoConf(filepath.Join(dir, "ld.so.conf"), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/a/lib", "/a/lib2", "/b/lib", "/opt/a", "/opt/b", "/opt/c"}
	if !slices.Equal(got, want) {
		t.Errorf("parseLdSoConf = %v, want %v", got, want)
	}
	if got, err := parseLdSoConf(filepath.Join(dir, "missing.conf"), 0); err != nil || got != nil {
		t.Errorf("missing conf: %v %v", got, err)
	}
}

func TestExpandOriginAndArchDirs(t *testing.T) {
	if got := expandOrigin("$ORIGIN/../lib:${ORIGIN}/x", "/opt/app/bin"); got != "/opt/app/bin/../lib:/opt/app/bin/x" {
		t.Errorf("expandOrigin = %q", got)
	}
	got := defaultLibDirs(2 /* ELFCLASS64 */, 62 /* EM_X86_64 */)
	want := []string{"/lib64", "/usr/lib64", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"}
	if !slices.Equal(got, want) {
		t.Errorf("defaultLibDirs(x86_64) = %v", got)
	}
	got = defaultLibDirs(2, 183 /* EM_AARCH64 */)
	if !slices.Contains(got, "/usr/lib/aarch64-linux-gnu") {
		t.Errorf("defaultLibDirs(aarch64) = %v", got)
	}
	_ = unix.EM_X86_64
}
