package mounts

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
	"golang.org/x/sys/unix"
)

// errName is how a child reports an outcome: "ok", an errno name, or the
// error text.
func errName(err error) string {
	if err == nil {
		return "ok"
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

// --- MakePrivate ---------------------------------------------------------

// childPropagationHost stands in for the host: it makes its own mount
// tree shared (after cutting it loose from the real host, so nothing can
// reach the real one), then starts two children in new mount namespaces
// that each mount a tmpfs, one after MakePrivate and one without. It
// reports which of the two mounts it can see.
func childPropagationHost() error {
	dir := os.Getenv("MOUNTS_TEST_DIR")
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / rprivate: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SHARED, ""); err != nil {
		return fmt.Errorf("make / rshared: %w", err)
	}
	rep := map[string]bool{}
	for _, v := range []struct {
		name    string
		private bool
	}{{"private", true}, {"control", false}} {
		target := filepath.Join(dir, v.name)
		if err := os.Mkdir(target, 0o755); err != nil {
			return err
		}
		visible, err := mountInChildAndLook(target, v.private)
		if err != nil {
			return fmt.Errorf("%s: %w", v.name, err)
		}
		rep[v.name] = visible
	}
	return json.NewEncoder(os.Stdout).Encode(rep)
}

// mountInChildAndLook runs childPropagationMount in a new mount namespace
// and, while its tmpfs is mounted, looks for it in this namespace.
func mountInChildAndLook(target string, private bool) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd, err := childCmd(ctx, "propagation-mount", syscall.CLONE_NEWNS,
		"MOUNTS_TEST_TARGET="+target, "MOUNTS_TEST_PRIVATE="+strconv.FormatBool(private))
	if err != nil {
		return false, err
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return false, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return false, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return false, err
	}
	line, rerr := bufio.NewReader(stdout).ReadString('\n')
	visible := false
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err == nil {
		var entries []mountEntry
		entries, err = parseMountinfo(string(data))
		visible = len(mountsUnder(entries, target)) > 0
	}
	stdin.Close() // lets the child exit
	werr := cmd.Wait()
	switch {
	case rerr != nil || line != "mounted\n":
		return false, fmt.Errorf("child said %q: %v (wait: %v)", line, rerr, werr)
	case err != nil:
		return false, err
	case werr != nil:
		return false, werr
	}
	return visible, nil
}

func childPropagationMount() error {
	if os.Getenv("MOUNTS_TEST_PRIVATE") == "true" {
		if err := MakePrivate(); err != nil {
			return err
		}
	}
	if err := unix.Mount("tmpfs", os.Getenv("MOUNTS_TEST_TARGET"), "tmpfs", 0, "size=16k"); err != nil {
		return fmt.Errorf("mount tmpfs: %w", err)
	}
	fmt.Println("mounted")
	_, err := io.Copy(io.Discard, os.Stdin) // held until the parent has looked
	return err
}

// A mount made after MakePrivate does not reach the namespace it was
// cloned from; the control (same mount, no MakePrivate) shows that it
// would have. The real host sees neither.
func TestMakePrivateStopsPropagation(t *testing.T) {
	roottest.Require(t)
	hostMountsUnchanged(t)
	dir := t.TempDir()
	var rep map[string]bool
	runChildJSON(t, "propagation-host", &rep, "MOUNTS_TEST_DIR="+dir)
	if !rep["control"] {
		t.Errorf("control mount without MakePrivate did not propagate: the check proves nothing (%v)", rep)
	}
	if rep["private"] {
		t.Errorf("mount made after MakePrivate propagated to the parent namespace (%v)", rep)
	}
	data, _ := os.ReadFile("/proc/self/mountinfo")
	if m := mountsUnder(mustMountinfo(t, string(data)), dir); len(m) > 0 {
		t.Errorf("host sees test mounts: %+v", m)
	}
}

// --- DefaultMounts -------------------------------------------------------

type defaultReport struct {
	Mountinfo  string
	DevEntries []string
	PtyNumber  int
	PtyErr     string
	PtsSlave   string
	OwnDevpts  bool
	NullWrite  string
	ZeroRead   string
	FullWrite  string
	MknodOpen  string
	SysMkdir   string
	ShmMode    string
}

func childDefaultMounts() error {
	root := os.Getenv("MOUNTS_TEST_ROOT")
	if err := MakePrivate(); err != nil {
		return err
	}
	if err := Apply(root, DefaultMounts()); err != nil {
		return err
	}
	var rep defaultReport
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	rep.Mountinfo = string(mi)
	ents, err := os.ReadDir(filepath.Join(root, "dev"))
	if err != nil {
		return err
	}
	for _, e := range ents {
		rep.DevEntries = append(rep.DevEntries, e.Name())
	}

	// /dev/ptmx must lead to this devpts instance's multiplexer.
	ptmx, err := unix.Open(filepath.Join(root, "dev/ptmx"), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err == nil {
		rep.PtyNumber, err = unix.IoctlGetInt(ptmx, unix.TIOCGPTN)
		_, serr := os.Stat(filepath.Join(root, "dev/pts", strconv.Itoa(rep.PtyNumber)))
		rep.PtsSlave = errName(serr)
		unix.Close(ptmx)
	}
	rep.PtyErr = errName(err)
	var inner, host unix.Stat_t
	if unix.Stat(filepath.Join(root, "dev/pts"), &inner) == nil && unix.Stat("/dev/pts", &host) == nil {
		rep.OwnDevpts = inner.Dev != host.Dev
	}

	rep.NullWrite = errName(os.WriteFile(filepath.Join(root, "dev/null"), []byte("x"), 0))
	rep.FullWrite = errName(os.WriteFile(filepath.Join(root, "dev/full"), []byte("x"), 0))
	if f, err := os.Open(filepath.Join(root, "dev/zero")); err != nil {
		rep.ZeroRead = errName(err)
	} else {
		b := make([]byte, 16)
		_, err := io.ReadFull(f, b)
		rep.ZeroRead = errName(err)
		if err == nil && slices.ContainsFunc(b, func(c byte) bool { return c != 0 }) {
			rep.ZeroRead = "nonzero"
		}
		f.Close()
	}
	// A node made with mknod in the nodev /dev tmpfs must be unusable.
	probe := filepath.Join(root, "dev/probe")
	if err := unix.Mknod(probe, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		rep.MknodOpen = "mknod: " + errName(err)
	} else {
		f, err := os.OpenFile(probe, os.O_WRONLY, 0)
		if err == nil {
			f.Close()
		}
		rep.MknodOpen = errName(err)
		os.Remove(probe)
	}
	rep.SysMkdir = errName(os.Mkdir(filepath.Join(root, "sys/probe"), 0o755))
	if st, err := os.Stat(filepath.Join(root, "dev/shm")); err == nil {
		rep.ShmMode = st.Mode().String()
	}
	return json.NewEncoder(os.Stdout).Encode(rep)
}

func TestApplyDefaultMounts(t *testing.T) {
	roottest.Require(t)
	hostMountsUnchanged(t)
	root := t.TempDir()
	var rep defaultReport
	runChildJSON(t, "default-mounts", &rep, "MOUNTS_TEST_ROOT="+root)

	got := map[string]mountEntry{}
	for _, e := range mountsUnder(mustMountinfo(t, rep.Mountinfo), root) {
		rel := strings.TrimPrefix(e.MountPoint, root)
		if _, dup := got[rel]; dup {
			t.Errorf("two mounts on %s", rel)
		}
		got[rel] = e
	}
	devices := []string{"null", "zero", "full", "random", "urandom", "tty"}
	want := map[string]string{"/proc": "proc", "/sys": "sysfs", "/dev": "tmpfs",
		"/dev/pts": "devpts", "/dev/shm": "tmpfs", "/dev/mqueue": "mqueue", "/run": "tmpfs"}
	for _, d := range devices {
		want["/dev/"+d] = "devtmpfs"
	}
	for p, fstype := range want {
		e, ok := got[p]
		if !ok {
			t.Errorf("no mount on %s", p)
			continue
		}
		if e.FSType != fstype {
			t.Errorf("%s: type %s, want %s", p, e.FSType, fstype)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected mount on %s: %+v", p, got[p])
		}
	}
	check := func(p string, ok bool, what string) {
		if !ok {
			t.Errorf("%s: %s (%+v)", p, what, got[p])
		}
	}
	for _, p := range []string{"/proc", "/sys", "/dev", "/dev/shm", "/dev/mqueue"} {
		e := got[p]
		check(p, e.hasOption("nosuid") && e.hasOption("nodev") && e.hasOption("noexec"), "want nosuid,nodev,noexec")
	}
	check("/sys", got["/sys"].hasOption("ro"), "sysfs must be read-only")
	check("/proc", got["/proc"].hasOption("rw"), "proc is read-write")
	check("/dev", got["/dev"].hasSuperOption("size=64k") && got["/dev"].hasSuperOption("mode=755"), "want size=64k,mode=755")
	check("/dev/pts", got["/dev/pts"].hasSuperOption("ptmxmode=666") && got["/dev/pts"].hasSuperOption("mode=620"), "want ptmxmode=666,mode=620")
	check("/dev/pts", got["/dev/pts"].hasOption("nosuid") && got["/dev/pts"].hasOption("noexec") && !got["/dev/pts"].hasOption("nodev"), "want nosuid,noexec and devices allowed")
	check("/dev/shm", got["/dev/shm"].hasSuperOption("size=65536k"), "want size=64m")
	if rep.ShmMode != "dtrwxrwxrwx" {
		t.Errorf("/dev/shm mode %s, want dtrwxrwxrwx", rep.ShmMode)
	}
	for _, d := range devices {
		check("/dev/"+d, got["/dev/"+d].Root == "/"+d, "must be a bind of the host node /dev/"+d)
	}

	wantEntries := []string{"fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero"}
	if !slices.Equal(rep.DevEntries, wantEntries) {
		t.Errorf("/dev holds %v, want exactly %v", rep.DevEntries, wantEntries)
	}
	if rep.PtyErr != "ok" || rep.PtsSlave != "ok" || !rep.OwnDevpts {
		t.Errorf("ptmx: open/TIOCGPTN %s, slave pts/%d %s, own devpts instance %v", rep.PtyErr, rep.PtyNumber, rep.PtsSlave, rep.OwnDevpts)
	}
	for what, c := range map[string][2]string{
		"write /dev/null":              {rep.NullWrite, "ok"},
		"read /dev/zero":               {rep.ZeroRead, "ok"},
		"write /dev/full":              {rep.FullWrite, "ENOSPC"},
		"open a mknod'ed node in /dev": {rep.MknodOpen, "EACCES"},
		"mkdir in read-only /sys":      {rep.SysMkdir, "EROFS"},
	} {
		if c[0] != c[1] {
			t.Errorf("%s: %s, want %s", what, c[0], c[1])
		}
	}
}

// --- symlinks planted in the root ---------------------------------------

type attackReport struct {
	Results   map[string]string
	Mountinfo string
}

// childSymlinkAttack applies plans to roots the parent has booby-trapped
// and reports each outcome and the resulting mount table.
func childSymlinkAttack() error {
	base, host := os.Getenv("MOUNTS_TEST_BASE"), os.Getenv("MOUNTS_TEST_HOST")
	if err := MakePrivate(); err != nil {
		return err
	}
	shm := []Mount{{Source: "shm", Target: "/dev/shm", FSType: "tmpfs", Data: "size=16k"}}
	dev := func(src, dst string) []Mount {
		return []Mount{{Kind: KindDevice, Source: src, Target: dst, Flags: msBind}}
	}
	res := map[string]string{}
	run := func(name string, plan []Mount) {
		err := Apply(filepath.Join(base, name), plan)
		res[name] = errName(err)
		if err != nil {
			res[name+".msg"] = err.Error()
		}
	}
	run("abs-dev", DefaultMounts())
	run("climb-dev", shm)
	run("final-link", dev("/dev/null", "/x/null"))
	run("dangling", shm)
	run("src-file", dev(filepath.Join(host, "victim"), "/dev/null"))
	run("src-link", dev(filepath.Join(base, "link-to-null"), "/dev/null"))
	// A host whose /dev/null was swapped (here only in this private
	// namespace) must be caught by the device number check.
	if err := unix.Mount("/dev/zero", "/dev/null", "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind /dev/zero over /dev/null in the test namespace: %w", err)
	}
	run("swapped-null", dev("/dev/null", "/dev/null"))
	run("optional", []Mount{
		{Source: "x", Target: "/a", FSType: "no-such-fs", Optional: true},
		{Source: "tmpfs", Target: "/b", FSType: "tmpfs", Data: "size=16k"},
	})
	run("required", []Mount{{Source: "x", Target: "/a", FSType: "no-such-fs"}})
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(attackReport{Results: res, Mountinfo: string(mi)})
}

// Symlinks planted in the root cannot move a mount out of it: targets
// are resolved inside the root, a target that is itself a symlink is
// refused, dangling links are not followed, and device sources are
// checked. The host directory the links point at stays untouched.
func TestApplySymlinkAttack(t *testing.T) {
	roottest.Require(t)
	hostMountsUnchanged(t)
	base, host := t.TempDir(), t.TempDir()
	victim := filepath.Join(host, "victim")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(victim, []byte("host data"), 0o644))
	root := func(name string) string {
		r := filepath.Join(base, name)
		must(os.MkdirAll(r, 0o755))
		return r
	}
	// abs-dev: root/dev -> the host dir, absolute.
	must(os.Symlink(host, filepath.Join(root("abs-dev"), "dev")))
	// climb-dev: root/dev -> ../../../..<host>, and that path exists inside
	// the root, so the mount succeeds, inside.
	climb := root("climb-dev")
	must(os.Symlink(strings.Repeat("../", 12)+strings.TrimPrefix(host, "/"), filepath.Join(climb, "dev")))
	must(os.MkdirAll(filepath.Join(climb, host), 0o755))
	// final-link: the mount point itself is a symlink to a host file.
	must(os.MkdirAll(filepath.Join(root("final-link"), "x"), 0o755))
	must(os.Symlink(victim, filepath.Join(base, "final-link/x/null")))
	// dangling: root/dev -> a missing host path; nothing may create it.
	must(os.Symlink(filepath.Join(host, "missing"), filepath.Join(root("dangling"), "dev")))
	root("src-file")
	root("src-link")
	root("swapped-null")
	root("optional")
	root("required")
	must(os.Symlink("/dev/null", filepath.Join(base, "link-to-null")))

	var rep attackReport
	runChildJSON(t, "symlink-attack", &rep, "MOUNTS_TEST_BASE="+base, "MOUNTS_TEST_HOST="+host)
	r := rep.Results
	for _, c := range []struct{ name, errno, msg string }{
		{"abs-dev", "ELOOP", "open /dev: ELOOP (target is a symlink)"},
		{"climb-dev", "ok", ""},
		{"final-link", "ELOOP", "open /x/null: ELOOP (target is a symlink)"},
		{"dangling", "ENOENT", "mkdir /dev: ENOENT (dangling symlink)"},
		{"src-file", "ENODEV", "not a character device"},
		{"src-link", "ENODEV", "not a character device"},
		{"swapped-null", "ENODEV", "device 1:5, want 1:3"},
		{"optional", "ok", ""},
		{"required", "ENODEV", "step 1 (mount -t no-such-fs x /a) in " + filepath.Join(base, "required") + ": mount x on /a: ENODEV"},
	} {
		if r[c.name] != c.errno || !strings.Contains(r[c.name+".msg"], c.msg) {
			t.Errorf("%s: got %s %q, want %s containing %q", c.name, r[c.name], r[c.name+".msg"], c.errno, c.msg)
		}
	}
	entries := mustMountinfo(t, rep.Mountinfo)
	if m := mountsUnder(entries, host); len(m) > 0 {
		t.Errorf("a mount landed in the host directory: %+v", m)
	}
	inside := filepath.Join(climb, host, "shm")
	if m := mountsUnder(entries, inside); len(m) != 1 || m[0].FSType != "tmpfs" {
		t.Errorf("climb-dev: want one tmpfs at %s (inside the root), got %+v", inside, m)
	}
	opt := filepath.Join(base, "optional")
	if len(mountsUnder(entries, opt+"/b")) != 1 || len(mountsUnder(entries, opt+"/a")) != 0 {
		t.Errorf("optional: want the step after the failed optional one done: %+v", mountsUnder(entries, opt))
	}
	names, err := os.ReadDir(host)
	must(err)
	if len(names) != 1 || names[0].Name() != "victim" {
		t.Errorf("host dir changed: %v", names)
	}
	if b, _ := os.ReadFile(victim); string(b) != "host data" {
		t.Errorf("host file changed: %q", b)
	}
}

// --- binds ----------------------------------------------------------------

type bindReport struct {
	Mountinfo, WriteDir, WriteFile, ReadFile string
}

func childBinds() error {
	root, src := os.Getenv("MOUNTS_TEST_ROOT"), os.Getenv("MOUNTS_TEST_SRC")
	if err := MakePrivate(); err != nil {
		return err
	}
	dirFlags, _, err := ParseOptions("bind,ro,nosuid,nodev,unbindable")
	if err != nil {
		return err
	}
	fileFlags, _, err := ParseOptions("bind,ro")
	if err != nil {
		return err
	}
	plan := []Mount{
		{Source: src, Target: "/data", Flags: dirFlags},
		{Source: filepath.Join(src, "file"), Target: "/etc/conf/file", Flags: fileFlags},
	}
	if err := Apply(root, plan); err != nil {
		return err
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	b, rerr := os.ReadFile(filepath.Join(root, "etc/conf/file"))
	rep := bindReport{
		Mountinfo: string(mi),
		WriteDir:  errName(os.WriteFile(filepath.Join(root, "data/new"), nil, 0o644)),
		WriteFile: errName(os.WriteFile(filepath.Join(root, "etc/conf/file"), []byte("changed"), 0)),
		ReadFile:  string(b) + errName(rerr),
	}
	return json.NewEncoder(os.Stdout).Encode(rep)
}

// Bind mounts get their attribute flags (by a bind remount) and their
// propagation (by a separate call); a file bind gets a file mount point.
func TestApplyBinds(t *testing.T) {
	roottest.Require(t)
	hostMountsUnchanged(t)
	root, src := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "file"), []byte("content"), 0o644); err != nil {
		t.Fatal(err)
	}
	var rep bindReport
	runChildJSON(t, "binds", &rep, "MOUNTS_TEST_ROOT="+root, "MOUNTS_TEST_SRC="+src)
	got := map[string]mountEntry{}
	for _, e := range mountsUnder(mustMountinfo(t, rep.Mountinfo), root) {
		got[strings.TrimPrefix(e.MountPoint, root)] = e
	}
	if len(got) != 2 {
		t.Fatalf("want two mounts, got %+v", got)
	}
	d := got["/data"]
	if !d.hasOption("ro") || !d.hasOption("nosuid") || !d.hasOption("nodev") || !strings.Contains(d.Optional, "unbindable") {
		t.Errorf("/data: want ro,nosuid,nodev and unbindable: %+v", d)
	}
	if f := got["/etc/conf/file"]; !f.hasOption("ro") || f.Root != filepath.Join(src, "file") {
		t.Errorf("/etc/conf/file: want a read-only bind of the file: %+v", f)
	}
	if rep.WriteDir != "EROFS" || rep.WriteFile != "EROFS" || rep.ReadFile != "contentok" {
		t.Errorf("through the binds: write dir %s, write file %s, read %q", rep.WriteDir, rep.WriteFile, rep.ReadFile)
	}
	// The host side stays writable and unchanged.
	if b, _ := os.ReadFile(filepath.Join(src, "file")); string(b) != "content" {
		t.Errorf("host file changed: %q", b)
	}
	if err := os.WriteFile(filepath.Join(src, "host-write"), nil, 0o644); err != nil {
		t.Errorf("host dir no longer writable: %v", err)
	}
}

// --- PivotRoot -----------------------------------------------------------

const pivotScript = `echo "hello from sh pid $$"
if (: > /probe) 2>/dev/null; then echo root=rw; else echo root=ro; fi
echo "ls:" $(ls /)
echo ---mountinfo
cat /proc/self/mountinfo
`

func childPivot() error {
	root := os.Getenv("MOUNTS_TEST_ROOT")
	if err := MakePrivate(); err != nil {
		return err
	}
	if err := Apply(root, DefaultMounts()); err != nil {
		return err
	}
	if err := PivotRoot(root); err != nil {
		return err
	}
	if err := RemountReadOnly("/"); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", pivotScript)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

// After Apply, PivotRoot and RemountReadOnly, a shell from a BuildRoot
// root runs as a low PID, cannot write the root, sees only the root's
// entries and only the container's mounts: the host tree is gone.
func TestPivotRootRunsShell(t *testing.T) {
	roottest.Require(t)
	hostMountsUnchanged(t)
	root := filepath.Join(t.TempDir(), "root")
	if _, err := BuildRoot(root, []string{"/bin/sh", "/bin/ls", "/bin/cat"}); err != nil {
		t.Fatal(err)
	}
	top, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var wantLs []string
	for _, e := range top {
		wantLs = append(wantLs, e.Name())
	}
	out := string(runChild(t, "pivot", "MOUNTS_TEST_ROOT="+root))
	head, mi, ok := strings.Cut(out, "---mountinfo\n")
	if !ok {
		t.Fatalf("no mountinfo in output:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(head), "\n")
	if len(lines) != 3 {
		t.Fatalf("unexpected output:\n%s", out)
	}
	var pid int
	if _, err := fmt.Sscanf(lines[0], "hello from sh pid %d", &pid); err != nil || pid < 2 || pid > 100 {
		t.Errorf("first line %q: want a small PID from the new PID namespace", lines[0])
	}
	if lines[1] != "root=ro" {
		t.Errorf("root writable after RemountReadOnly: %q", lines[1])
	}
	if got := strings.Fields(strings.TrimPrefix(lines[2], "ls:")); !slices.Equal(got, wantLs) {
		t.Errorf("ls / = %v, want the built root's %v", got, wantLs)
	}
	var points []string
	for _, e := range mustMountinfo(t, mi) {
		points = append(points, e.MountPoint)
		if e.MountPoint == "/" && !e.hasOption("ro") {
			t.Errorf("/ is not read-only: %+v", e)
		}
	}
	slices.Sort(points)
	want := []string{"/", "/dev", "/dev/full", "/dev/mqueue", "/dev/null", "/dev/pts", "/dev/random", "/dev/shm",
		"/dev/tty", "/dev/urandom", "/dev/zero", "/proc", "/run", "/sys"}
	if !slices.Equal(points, want) {
		t.Errorf("mounts inside = %v, want exactly %v", points, want)
	}
}
