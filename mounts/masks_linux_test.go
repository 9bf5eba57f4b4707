package mounts

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minispawn/minispawn/init/roottest"
	"golang.org/x/sys/unix"
)

// --- DefaultMasks ----------------------------------------------------------

type masksReport struct {
	Mountinfo string
	// Probes maps what was tried, on a path inside the root, to "ok", an
	// errno name, or (for reads) the number of bytes or entries seen.
	Probes map[string]string
	// OnHost says which masked paths this kernel has at all.
	OnHost map[string]bool
}

// probeRead reads a file and reports how many bytes it held.
func probeRead(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return errName(err)
	}
	return fmt.Sprintf("%d bytes", len(b))
}

// probeList reports how many entries a directory holds.
func probeList(p string) string {
	ents, err := os.ReadDir(p)
	if err != nil {
		return errName(err)
	}
	return fmt.Sprintf("%d entries", len(ents))
}

// probeOpenWrite opens p for writing and closes it without writing a byte:
// enough to meet a read-only mount (EROFS comes from open), and harmless
// on the host's /proc/sysrq-trigger should the protection ever be missing.
func probeOpenWrite(p string) string {
	fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
	}
	return errName(err)
}

func childMasks() error {
	root := os.Getenv("MOUNTS_TEST_ROOT")
	if err := MakePrivate(); err != nil {
		return err
	}
	if err := Apply(root, append(DefaultMounts(), DefaultMasks()...)); err != nil {
		return err
	}
	in := func(p string) string { return filepath.Join(root, p) }
	rep := masksReport{Probes: map[string]string{}, OnHost: map[string]bool{}}
	for _, m := range DefaultMasks() { // masks and read-only paths
		_, err := os.Lstat(m.Target)
		rep.OnHost[m.Target] = err == nil
	}
	pr := rep.Probes
	pr["write /proc/sys/kernel/hostname"] = errName(os.WriteFile(in("proc/sys/kernel/hostname"), []byte("x"), 0))
	pr["open /proc/sys/vm/drop_caches"] = probeOpenWrite(in("proc/sys/vm/drop_caches"))
	pr["open /proc/sysrq-trigger"] = probeOpenWrite(in("proc/sysrq-trigger"))
	pr["read /proc/sys/kernel/ostype"] = probeRead(in("proc/sys/kernel/ostype"))
	// The rest of /proc stays writable: only the listed paths are frozen.
	pr["write /proc/self/oom_score_adj"] = errName(os.WriteFile(in("proc/self/oom_score_adj"), []byte("0"), 0))
	for _, f := range maskedFiles {
		pr["read "+f] = probeRead(in(f))
		pr["open "+f] = probeOpenWrite(in(f))
	}
	for _, d := range maskedDirs {
		pr["list "+d] = probeList(in(d))
		pr["mkdir "+d+"/x"] = errName(os.Mkdir(in(d+"/x"), 0o755))
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	rep.Mountinfo = string(mi)
	return json.NewEncoder(os.Stdout).Encode(rep)
}

// TestDefaultMasksHold applies the default plan and the masks to a fresh
// root, as root with every capability, and checks what the masks promise:
// EROFS for writes to the read-only paths, nothing to read in the masked
// ones, and the rest of /proc untouched.
func TestDefaultMasksHold(t *testing.T) {
	roottest.Require(t)
	hostMountsUnchanged(t)
	root := t.TempDir()
	var rep masksReport
	runChildJSON(t, "masks", &rep, "MOUNTS_TEST_ROOT="+root)

	want := map[string]string{
		"write /proc/sys/kernel/hostname": "EROFS",
		"open /proc/sys/vm/drop_caches":   "EROFS",
		"read /proc/sys/kernel/ostype":    "6 bytes", // "Linux\n": readable still
		"write /proc/self/oom_score_adj":  "ok",
	}
	// Kernels without CONFIG_MAGIC_SYSRQ have no trigger to protect.
	want["open /proc/sysrq-trigger"] = "ENOENT"
	if rep.OnHost["/proc/sysrq-trigger"] {
		want["open /proc/sysrq-trigger"] = "EROFS"
	}
	for _, f := range maskedFiles {
		if rep.OnHost[f] {
			want["read "+f] = "0 bytes"
			want["open "+f] = "ok" // /dev/null takes writes and drops them
		} else {
			want["read "+f] = "ENOENT"
			want["open "+f] = "ENOENT"
		}
	}
	for _, d := range maskedDirs {
		if rep.OnHost[d] {
			want["list "+d] = "0 entries"
			want["mkdir "+d+"/x"] = "EROFS"
		} else {
			want["list "+d] = "ENOENT"
		}
	}
	for probe, w := range want {
		if got := rep.Probes[probe]; got != w {
			t.Errorf("%s: %s, want %s", probe, got, w)
		}
	}

	got := map[string]mountEntry{}
	for _, e := range mountsUnder(mustMountinfo(t, rep.Mountinfo), root) {
		got[strings.TrimPrefix(e.MountPoint, root)] = e
	}
	for _, p := range readOnlyPaths {
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		e, ok := got[p]
		if !ok || e.FSType != "proc" || !e.hasOption("ro") || !e.hasOption("nosuid") || !e.hasOption("nodev") || !e.hasOption("noexec") {
			t.Errorf("%s: want a read-only proc bind keeping nosuid,nodev,noexec: %+v", p, e)
		}
	}
	for _, f := range maskedFiles {
		if e, ok := got[f]; rep.OnHost[f] && (!ok || e.FSType != "devtmpfs" || e.Root != "/null") {
			t.Errorf("%s: want a bind of the null device: %+v", f, e)
		}
	}
	for _, d := range maskedDirs {
		if e, ok := got[d]; rep.OnHost[d] && (!ok || e.FSType != "tmpfs" || !e.hasOption("ro")) {
			t.Errorf("%s: want a read-only tmpfs: %+v", d, e)
		}
	}
	if got["/proc"].hasOption("ro") {
		t.Errorf("/proc itself became read-only: %+v", got["/proc"])
	}
}

// --- masks on hostile roots ----------------------------------------------

// childMaskAttacks applies mask steps to roots the parent prepared, each
// with something wrong, and reports each outcome.
func childMaskAttacks() error {
	base := os.Getenv("MOUNTS_TEST_BASE")
	if err := MakePrivate(); err != nil {
		return err
	}
	null := Mount{Kind: KindDevice, Source: "/dev/null", Target: "/dev/null", Flags: msBind}
	maskFile := func(p string) Mount {
		return Mount{Kind: KindMask, Source: "/dev/null", Target: p, Flags: msBind | msRdonly}
	}
	maskDir := func(p string) Mount {
		return Mount{Kind: KindMask, Source: "tmpfs", Target: p, FSType: "tmpfs", Flags: msRdonly, Data: "size=4k"}
	}
	readOnly := func(p string) Mount { return Mount{Kind: KindReadOnly, Source: p, Target: p, Flags: msBind | msRdonly} }
	res := map[string]string{}
	run := func(name string, plan []Mount) {
		err := Apply(filepath.Join(base, name), plan)
		res[name] = errName(err)
		if err != nil {
			res[name+".msg"] = err.Error()
		}
	}
	// The root's /dev/null is a symlink to the host's /dev/zero.
	run("null-link", []Mount{maskFile("/f")})
	// The root's /dev/null is a real node, but the wrong one (zero).
	run("null-swapped", []Mount{{Kind: KindDevice, Source: "/dev/zero", Target: "/dev/null", Flags: msBind}, maskFile("/f")})
	run("file-as-dir", []Mount{null, maskDir("/f")})
	run("dir-as-file", []Mount{null, maskFile("/d")})
	run("missing", []Mount{null, maskFile("/nope/f"), maskDir("/nope"), readOnly("/nope"), readOnly("/d/nope")})
	run("target-link", []Mount{null, readOnly("/l")})
	run("parent-link", []Mount{null, readOnly("/l/victim")})
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(attackReport{Results: res, Mountinfo: string(mi)})
}

// Masks never follow a symlink out of the root, never use a device node
// that is not the null device, and skip what is not there without
// creating it.
func TestMaskAttacks(t *testing.T) {
	roottest.Require(t)
	hostMountsUnchanged(t)
	base, host := t.TempDir(), t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(host, "victim"), []byte("host data"), 0o644))
	for _, name := range []string{"null-link", "null-swapped", "file-as-dir", "dir-as-file", "missing", "target-link", "parent-link"} {
		r := filepath.Join(base, name)
		must(os.MkdirAll(filepath.Join(r, "d"), 0o755))
		must(os.MkdirAll(filepath.Join(r, "dev"), 0o755))
		must(os.WriteFile(filepath.Join(r, "f"), []byte("secret"), 0o644))
		must(os.Symlink(host, filepath.Join(r, "l")))
	}
	must(os.Symlink("/dev/zero", filepath.Join(base, "null-link/dev/null")))

	var rep attackReport
	runChildJSON(t, "mask-attacks", &rep, "MOUNTS_TEST_BASE="+base)
	r := rep.Results
	for _, c := range []struct{ name, errno, msg string }{
		{"null-link", "ELOOP", "open /dev/null: ELOOP (a symlink on the path of the mask's device)"},
		{"null-swapped", "ENODEV", "check /dev/null: ENODEV (device 1:5, want 1:3)"},
		{"file-as-dir", "ENOTDIR", "mask /f: ENOTDIR (a filesystem masks directories only)"},
		{"dir-as-file", "EISDIR", "mask /d: EISDIR (a device masks files only)"},
		{"missing", "ok", ""},
		{"target-link", "ELOOP", "open /l: ELOOP (target is a symlink)"},
		// /l/victim resolves inside the root, to root/<host>/victim,
		// which does not exist: skipped, and the host file untouched.
		{"parent-link", "ok", ""},
	} {
		if r[c.name] != c.errno || !strings.Contains(r[c.name+".msg"], c.msg) {
			t.Errorf("%s: got %s %q, want %s containing %q", c.name, r[c.name], r[c.name+".msg"], c.errno, c.msg)
		}
	}
	entries := mustMountinfo(t, rep.Mountinfo)
	if m := mountsUnder(entries, host); len(m) > 0 {
		t.Errorf("a mount landed in the host directory: %+v", m)
	}
	for _, name := range []string{"missing", "parent-link"} {
		ms := mountsUnder(entries, filepath.Join(base, name))
		if len(ms) != 1 || ms[0].MountPoint != filepath.Join(base, name, "dev/null") {
			t.Errorf("%s: want only the /dev/null bind, got %+v", name, ms)
		}
	}
	if _, err := os.Lstat(filepath.Join(base, "missing/nope")); err == nil {
		t.Errorf("a skipped mask created its target")
	}
	names, _ := os.ReadDir(host)
	if len(names) != 1 {
		t.Errorf("host dir changed: %v", names)
	}
	if b, _ := os.ReadFile(filepath.Join(host, "victim")); string(b) != "host data" {
		t.Errorf("host file changed: %q", b)
	}
}

// --- OverlayRoot -----------------------------------------------------------

type overlayReport struct {
	Root      string
	Mountinfo string
	Probes    map[string]string
}

func childOverlay() error {
	lower, staging := os.Getenv("MOUNTS_TEST_LOWER"), os.Getenv("MOUNTS_TEST_STAGING")
	if err := MakePrivate(); err != nil {
		return err
	}
	root, err := OverlayRoot(lower, staging)
	if err != nil {
		return err
	}
	in := func(p string) string { return filepath.Join(root, p) }
	pr := map[string]string{}
	pr["write new"] = errName(os.WriteFile(in("new"), []byte("new"), 0o644))
	pr["rewrite kept"] = errName(os.WriteFile(in("kept"), []byte("changed"), 0o644))
	pr["remove gone"] = errName(os.Remove(in("gone")))
	pr["mkdir dir/sub"] = errName(os.Mkdir(in("dir/sub"), 0o755))
	b, err := os.ReadFile(in("kept"))
	pr["read kept"] = string(b) + " " + errName(err)
	if st, err := os.Stat(root); err == nil {
		pr["root mode"] = st.Mode().String()
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(overlayReport{Root: root, Mountinfo: string(mi), Probes: pr})
}

// TestOverlayRootDiscardsWrites: inside, the overlay root takes writes
// like any directory; outside, the lower directory is exactly as before,
// the staging directory is empty and no mount is left. The lower's name
// holds ',' and ':', which overlayfs options could not carry as a path.
func TestOverlayRootDiscardsWrites(t *testing.T) {
	roottest.Require(t)
	hostMountsUnchanged(t)
	lower := filepath.Join(t.TempDir(), "image,with:odd name")
	staging := filepath.Join(t.TempDir(), "staging")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(lower, "dir"), 0o755))
	must(os.WriteFile(filepath.Join(lower, "kept"), []byte("original"), 0o644))
	must(os.WriteFile(filepath.Join(lower, "gone"), []byte("still here"), 0o644))
	must(os.Chmod(lower, 0o751))

	var rep overlayReport
	runChildJSON(t, "overlay", &rep, "MOUNTS_TEST_LOWER="+lower, "MOUNTS_TEST_STAGING="+staging)
	for probe, w := range map[string]string{
		"write new": "ok", "rewrite kept": "ok", "remove gone": "ok", "mkdir dir/sub": "ok",
		"read kept": "changed ok", "root mode": "drwxr-x--x",
	} {
		if got := rep.Probes[probe]; got != w {
			t.Errorf("inside: %s: %q, want %q", probe, got, w)
		}
	}
	ms := mountsUnder(mustMountinfo(t, rep.Mountinfo), staging)
	if len(ms) != 2 || ms[0].FSType != "tmpfs" || ms[1].FSType != "overlay" || ms[1].MountPoint != rep.Root {
		t.Errorf("inside: want a tmpfs on the staging dir and the overlay on its root/, got %+v", ms)
	}

	var names []string
	ents, err := os.ReadDir(lower)
	must(err)
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"dir", "gone", "kept"}) {
		t.Errorf("lower now holds %v, want dir gone kept", names)
	}
	for file, want := range map[string]string{"kept": "original", "gone": "still here"} {
		if b, _ := os.ReadFile(filepath.Join(lower, file)); string(b) != want {
			t.Errorf("lower/%s = %q, want %q", file, b, want)
		}
	}
	if sub, _ := os.ReadDir(filepath.Join(lower, "dir")); len(sub) != 0 {
		t.Errorf("lower/dir gained %v", sub)
	}
	if left, _ := os.ReadDir(staging); len(left) != 0 {
		t.Errorf("staging dir on the host holds %v, want it empty", left)
	}
}
