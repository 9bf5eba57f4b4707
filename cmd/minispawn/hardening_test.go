package main

// Attacks on the container's filesystem floor, run in real containers.
// The workload is root with every capability (capabilities are dropped by
// a later layer), so each test shows the mount-level protection itself:
// a read-only mount refuses root too, a mask leaves nothing to read.
//
// Writes to host-global files are probed by opening for append and
// writing nothing (`: >> file`): that meets a read-only mount just the
// same (EROFS comes from open), and would change nothing on the host if
// the protection were ever missing.

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// probeFuncs are shell functions for the workloads below, each printing
// one line: "W path ok|<error>" for an open for writing, "R path N|absent"
// for the bytes read (at most 64), "L path N|absent" for the entries of a
// directory.
const probeFuncs = `w() { r=$( { : >> "$1"; } 2>&1 ) && echo "W $1 ok" || echo "W $1 $r"; }
r() { if [ -e "$1" ]; then echo "R $1 $(busybox head -c 64 "$1" | busybox wc -c)"; else echo "R $1 absent"; fi; }
l() { if [ -d "$1" ]; then echo "L $1 $(busybox ls -A "$1" | busybox wc -l)"; else echo "L $1 absent"; fi; }
`

// busyboxConfig is a container on the busybox root dir, running script
// under /bin/sh (after probeFuncs). rootfsKeys go into [rootfs], tables
// (such as [[mount]]) at the end.
func busyboxConfig(t *testing.T, name, root, rootfsKeys, tables, script string) string {
	t.Helper()
	return writeConfig(t, fmt.Sprintf(`name = %q
[rootfs]
path = %q
%s
[limits]
pids = 64
[[workload]]
name = "sh"
command = "/bin/sh"
args = ["-c", %q]
%s
`, name, root, rootfsKeys, probeFuncs+script, tables))
}

// probeLines returns the probe results in out, by "KIND path".
func probeLines(out string) map[string]string {
	res := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), " ", 3)
		if len(f) == 3 && (f[0] == "W" || f[0] == "R" || f[0] == "L") {
			res[f[0]+" "+f[1]] = f[2]
		}
	}
	return res
}

const erofs = "Read-only file system"

// runAttack runs a busybox container that must exit 0 and returns its
// probe results, checking that it left nothing behind.
func runAttack(t *testing.T, rootfsKeys, tables, script string) (map[string]string, result) {
	t.Helper()
	name := containerName(t)
	root := busyboxRoot(t)
	before := snapshotHost(t)
	res := runMinispawn(t, 60*time.Second, "-c", busyboxConfig(t, name, root, rootfsKeys, tables, script))
	if res.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	checkNothingLeft(t, before, name, "")
	return probeLines(res.stdout), res
}

func onHost(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func TestAttackWriteSysrqTriggerFails(t *testing.T) {
	roottest.Require(t)
	got, res := runAttack(t, "", "", `w /proc/sysrq-trigger
busybox grep ' /proc/sysrq-trigger ' /proc/self/mountinfo; true`)
	w := got["W /proc/sysrq-trigger"]
	if !onHost("/proc/sysrq-trigger") {
		// A kernel without CONFIG_MAGIC_SYSRQ has no trigger at all
		// (busybox words ENOENT on create as "nonexistent directory").
		if !strings.Contains(w, "nonexistent") {
			t.Errorf("no trigger on the host, but inside: %q", w)
		}
		return
	}
	if !strings.Contains(w, erofs) {
		t.Errorf("opening /proc/sysrq-trigger for writing: %q, want %s\n%s", w, erofs, res.stdout)
	}
	if !strings.Contains(res.stdout, " ro,") {
		t.Errorf("/proc/sysrq-trigger is not a read-only mount:\n%s", res.stdout)
	}
}

func TestAttackWriteProcSysFails(t *testing.T) {
	roottest.Require(t)
	hostCore, err := os.ReadFile("/proc/sys/kernel/core_pattern")
	if err != nil {
		t.Fatal(err)
	}
	// hostname is the UTS namespace's own, so it is really written to;
	// the others are host-wide and only opened.
	got, res := runAttack(t, "", "", `r=$( { echo evil > /proc/sys/kernel/hostname; } 2>&1 ) && echo "W hostname ok" || echo "W hostname $r"
echo "host=$(busybox hostname)"
for f in kernel/core_pattern kernel/modprobe vm/drop_caches net/ipv4/ip_forward fs/file-max; do w /proc/sys/$f; done
r=$( { busybox mkdir /proc/sys/kernel/x; } 2>&1 ) && echo "W mkdir ok" || echo "W mkdir $r"`)
	for _, k := range []string{"W hostname", "W /proc/sys/kernel/core_pattern", "W /proc/sys/kernel/modprobe",
		"W /proc/sys/vm/drop_caches", "W /proc/sys/net/ipv4/ip_forward", "W /proc/sys/fs/file-max"} {
		if p := strings.TrimPrefix(k, "W "); strings.HasPrefix(p, "/") && !onHost(p) {
			continue // not on this kernel (kernel/modprobe needs CONFIG_MODULES)
		}
		if !strings.Contains(got[k], erofs) {
			t.Errorf("%s: %q, want %s", k, got[k], erofs)
		}
	}
	if got["W mkdir"] == "ok" {
		t.Errorf("mkdir in /proc/sys succeeded")
	}
	if strings.Contains(res.stdout, "host=evil") {
		t.Errorf("hostname changed through /proc/sys:\n%s", res.stdout)
	}
	if after, _ := os.ReadFile("/proc/sys/kernel/core_pattern"); string(after) != string(hostCore) {
		t.Errorf("host core_pattern changed: %q -> %q", hostCore, after)
	}
}

func TestAttackReadMaskedProcFilesGetsNothing(t *testing.T) {
	roottest.Require(t)
	files := []string{"/proc/kcore", "/proc/kallsyms", "/proc/keys", "/proc/key-users", "/proc/timer_list",
		"/proc/sched_debug", "/proc/latency_stats", "/proc/timer_stats"}
	dirs := []string{"/proc/acpi", "/proc/asound", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"}
	var script strings.Builder
	for _, f := range files {
		fmt.Fprintf(&script, "r %s\n", f)
	}
	for _, d := range dirs {
		fmt.Fprintf(&script, "l %s\n", d)
	}
	got, res := runAttack(t, "", "", script.String())
	checked := 0
	for _, f := range files {
		want := "absent" // this kernel does not have it: nothing to leak
		if onHost(f) {
			want, checked = "0", checked+1
		}
		if g := got["R "+f]; g != want && !(want == "absent" && g == "0") {
			t.Errorf("read %s: %q, want %s", f, g, want)
		}
	}
	for _, d := range dirs {
		want := "absent"
		if onHost(d) {
			want, checked = "0", checked+1
		}
		if g := got["L "+d]; g != want && !(want == "absent" && g == "0") {
			t.Errorf("list %s: %q entries, want %s", d, g, want)
		}
	}
	// /proc/keys and /sys/firmware exist on every kernel this runs on.
	if checked < 2 {
		t.Errorf("only %d masked paths exist on this host; the test proves little\n%s", checked, res.stdout)
	}
}

func TestAttackWriteUnderSysFails(t *testing.T) {
	roottest.Require(t)
	got, _ := runAttack(t, "", "", `w /sys/kernel/uevent_helper
w /sys/kernel/mm/transparent_hugepage/enabled
w /sys/power/state
w /sys/new-file
r=$( { busybox mkdir /sys/x; } 2>&1 ) && echo "W mkdir ok" || echo "W mkdir $r"
r=$( { busybox mkdir /sys/firmware/x; } 2>&1 ) && echo "W mkdir-firmware ok" || echo "W mkdir-firmware $r"`)
	for _, f := range []string{"/sys/kernel/uevent_helper", "/sys/kernel/mm/transparent_hugepage/enabled", "/sys/power/state", "/sys/new-file"} {
		if !onHost(f) && f != "/sys/new-file" {
			continue
		}
		if !strings.Contains(got["W "+f], erofs) {
			t.Errorf("open %s for writing: %q, want %s", f, got["W "+f], erofs)
		}
	}
	for _, k := range []string{"W mkdir", "W mkdir-firmware"} {
		if !strings.Contains(got[k], erofs) {
			t.Errorf("%s: %q, want %s", k, got[k], erofs)
		}
	}
}

// treeDigest summarizes a directory tree: every path, its type, mode,
// size and mtime and, for regular files, a hash of the content; a
// directory made, a file touched or a socket left shows as a difference.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(&b, "%s %v %d %d", rel, fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		if fi.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %x", h.Sum(nil))
		} else if fi.Mode()&os.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			b.WriteString(" -> " + target)
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The image for the root tests: busybox plus a file and a directory to
// attack, and the mount points Apply would create, so that the digest
// taken before the first run is comparable with the one after.
func attackImage(t *testing.T) string {
	t.Helper()
	root := busyboxRoot(t)
	for _, d := range []string{"etc", "proc", "sys", "dev"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// writesScript tries every kind of write to the root.
const writesScript = `r=$( { echo new > /newfile; } 2>&1 ) && echo "W newfile ok" || echo "W newfile $r"
r=$( { echo "evil:x:0:0::/:/bin/sh" >> /etc/passwd; } 2>&1 ) && echo "W passwd ok" || echo "W passwd $r"
r=$( { busybox mkdir /etc/new; } 2>&1 ) && echo "W mkdir ok" || echo "W mkdir $r"
r=$( { busybox chmod 4755 /bin/busybox; } 2>&1 ) && echo "W chmod ok" || echo "W chmod $r"
r=$( { busybox rm /bin/sh; } 2>&1 ) && echo "W rm ok" || echo "W rm $r"
if [ -e /newfile ]; then echo "R newfile $(busybox cat /newfile)"; else echo "R newfile absent"; fi
`

func TestAttackOverlayRootWritesDoNotReachHost(t *testing.T) {
	roottest.Require(t)
	root := attackImage(t)
	before := treeDigest(t, root)
	// Two runs: the writes of the first are gone for the second as well.
	for run := 1; run <= 2; run++ {
		name := containerName(t)
		snap := snapshotHost(t)
		res := runMinispawn(t, 60*time.Second, "-c", busyboxConfig(t, name, root, "overlay = true", "", writesScript))
		if res.code != 0 {
			t.Fatalf("run %d: exit %d\n%s%s", run, res.code, res.stdout, res.stderr)
		}
		got := probeLines(res.stdout)
		for _, k := range []string{"W newfile", "W passwd", "W mkdir", "W chmod", "W rm"} {
			if got[k] != "ok" {
				t.Errorf("run %d: %s inside the overlay: %q, want ok (the root takes writes)", run, k, got[k])
			}
		}
		if got["R newfile"] != "new" {
			t.Errorf("run %d: /newfile reads %q inside, want what was written", run, got["R newfile"])
		}
		if after := treeDigest(t, root); after != before {
			t.Errorf("run %d: the host directory changed:\nbefore:\n%s\nafter:\n%s", run, before, after)
		}
		// The host's staging directory holds only the name locks of the
		// containers running now (other tests' among them): this run's
		// lock file must be gone, and nothing else may be there.
		if left, _ := os.ReadDir(stagingDir); len(left) > 1 || len(left) == 1 && left[0].Name() != filepath.Base(nameLockDir) {
			t.Errorf("run %d: %s holds %v on the host", run, stagingDir, left)
		}
		if _, err := os.Lstat(filepath.Join(nameLockDir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("run %d: the name lock of %s stays on the host (%v)", run, name, err)
		}
		checkNothingLeft(t, snap, name, "")
	}
}

func TestAttackWriteReadOnlyRootFails(t *testing.T) {
	roottest.Require(t)
	root := attackImage(t)
	before := treeDigest(t, root)
	name := containerName(t)
	snap := snapshotHost(t)
	res := runMinispawn(t, 60*time.Second, "-c", busyboxConfig(t, name, root, "readonly = true", "",
		writesScript+`r=$( { echo ok > /dev/shm/x; } 2>&1 ) && echo "W shm ok" || echo "W shm $r"`))
	if res.code != 0 {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	got := probeLines(res.stdout)
	for _, k := range []string{"W newfile", "W passwd", "W mkdir", "W chmod", "W rm"} {
		if !strings.Contains(got[k], erofs) {
			t.Errorf("%s on the read-only root: %q, want %s", k, got[k], erofs)
		}
	}
	// Only the root is read-only: the container's tmpfs mounts are not.
	if got["W shm"] != "ok" {
		t.Errorf("write to /dev/shm: %q, want ok", got["W shm"])
	}
	if after := treeDigest(t, root); after != before {
		t.Errorf("the host directory changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	checkNothingLeft(t, snap, name, "")
}

// TestAttackPlantedSymlinkDoesNotRedirectMount: an image plants symlinks
// to a host directory where minispawn or a [[mount]] mounts. Every mount
// is resolved inside the root: minispawn either fails with an error that
// names the path and the reason, or mounts inside the root; the host
// directory and the host's mount table never change.
func TestAttackPlantedSymlinkDoesNotRedirectMount(t *testing.T) {
	roottest.Require(t)
	for _, c := range []struct {
		name   string
		plant  func(root, host string) error
		tables string
		// wantErr is in minispawn's error when setup must fail; empty
		// when the mount must land inside the root instead.
		wantErr string
		script  string
		inside  string // expected in the workload's output
	}{
		{
			name:    "dev-to-host",
			plant:   func(root, host string) error { return os.Symlink(host, filepath.Join(root, "dev")) },
			wantErr: "open /dev: ELOOP (target is a symlink)",
		},
		{
			name:    "proc-to-host",
			plant:   func(root, host string) error { return os.Symlink(host, filepath.Join(root, "proc")) },
			wantErr: "open /proc: ELOOP (target is a symlink)",
		},
		{
			name:    "mount-target-to-host",
			plant:   func(root, host string) error { return os.Symlink(host, filepath.Join(root, "data")) },
			tables:  "[[mount]]\ntype = \"tmpfs\"\ntarget = \"/data\"\n",
			wantErr: "open /data: ELOOP (target is a symlink)",
		},
		{
			name:    "mount-parent-to-host",
			plant:   func(root, host string) error { return os.Symlink(host, filepath.Join(root, "data")) },
			tables:  "[[mount]]\ntype = \"tmpfs\"\ntarget = \"/data/x\"\n",
			wantErr: "mkdir /data: ENOENT (dangling symlink)",
		},
		{
			// The link's target also exists inside the root: the
			// mount lands there, in the image, not on the host.
			name: "mount-parent-to-host-path-inside",
			plant: func(root, host string) error {
				if err := os.MkdirAll(filepath.Join(root, host), 0o755); err != nil {
					return err
				}
				return os.Symlink(strings.Repeat("../", 10)+strings.TrimPrefix(host, "/"), filepath.Join(root, "data"))
			},
			tables: "[[mount]]\ntype = \"bind\"\nsource = \"/etc/hostname\"\ntarget = \"/data/bound\"\noptions = [\"ro\"]\n" +
				"[[mount]]\ntype = \"tmpfs\"\ntarget = \"/data/x\"\n",
			script: "echo marker > /data/x/marker && busybox cat /data/x/marker; busybox grep -c '' /data/bound",
			inside: "marker\n1\n",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			root, host := busyboxRoot(t), t.TempDir()
			if err := c.plant(root, host); err != nil {
				t.Fatal(err)
			}
			name := containerName(t)
			snap := snapshotHost(t)
			script := c.script
			if script == "" {
				script = "echo ran"
			}
			res := runMinispawn(t, 60*time.Second, "-c", busyboxConfig(t, name, root, "", c.tables, script))
			if c.wantErr != "" {
				if res.code != exitSetup || !strings.Contains(res.stderr, c.wantErr) {
					t.Errorf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", res.code, exitSetup, c.wantErr, res.stdout, res.stderr)
				}
				if strings.Contains(res.stdout, "ran") {
					t.Errorf("the workload ran")
				}
			} else if res.code != 0 || !strings.Contains(res.stdout, c.inside) {
				t.Errorf("exit %d, want 0 and %q\nstdout:\n%s\nstderr:\n%s", res.code, c.inside, res.stdout, res.stderr)
			}
			if ents, _ := os.ReadDir(host); len(ents) != 0 {
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
				}
				t.Errorf("the host directory gained %v", names)
			}
			checkNothingLeft(t, snap, name, "")
		})
	}
}

// TestConfigMountsBindAndTmpfs: the [[mount]] options do what they say in
// a real container: ro and rw binds, nosuid and nodev by default, noexec,
// a tmpfs with its size and mode.
func TestConfigMountsBindAndTmpfs(t *testing.T) {
	roottest.Require(t)
	roSrc, rwSrc := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(roSrc, "in"), []byte("from host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tables := fmt.Sprintf(`[[mount]]
type = "bind"
source = %q
target = "/ro"
options = ["ro"]
[[mount]]
type = "bind"
source = %q
target = "/srv/rw"
[[mount]]
type = "tmpfs"
target = "/scratch"
size = "1M"
mode = "0710"
options = ["noexec"]
`, roSrc, rwSrc)
	got, res := runAttack(t, "", tables, `busybox cat /ro/in
w /ro/new
w /srv/rw/new
echo written > /srv/rw/new
printf '#!/bin/sh\necho hi\n' > /scratch/x.sh && busybox chmod 755 /scratch/x.sh && { /scratch/x.sh 2>/dev/null && echo "W exec ok" || echo "W exec refused"; }
busybox stat -c 'L mode %a' /scratch
busybox grep -E ' /(ro|srv/rw|scratch) ' /proc/self/mountinfo`)
	if !strings.Contains(res.stdout, "from host") {
		t.Errorf("ro bind does not show the host file:\n%s", res.stdout)
	}
	if !strings.Contains(got["W /ro/new"], erofs) || got["W /srv/rw/new"] != "ok" {
		t.Errorf("writes: ro bind %q, rw bind %q", got["W /ro/new"], got["W /srv/rw/new"])
	}
	if b, _ := os.ReadFile(filepath.Join(rwSrc, "new")); string(b) != "written\n" {
		t.Errorf("a write to the rw bind did not reach the host: %q", b)
	}
	if ents, _ := os.ReadDir(roSrc); len(ents) != 1 {
		t.Errorf("the ro bind's source changed: %v", ents)
	}
	if got["W exec"] != "refused" || got["L mode"] != "710" {
		t.Errorf("tmpfs: exec %q (want refused), mode %q (want 710)\n%s", got["W exec"], got["L mode"], res.stdout)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(res.stdout, "\n") {
		if f := strings.Fields(l); len(f) > 5 && strings.HasPrefix(f[4], "/") && slices.Contains([]string{"/ro", "/srv/rw", "/scratch"}, f[4]) {
			lines[f[4]] = l
		}
	}
	for target, want := range map[string][]string{
		"/ro":      {" ro,", "nosuid", "nodev"},
		"/srv/rw":  {" rw,", "nosuid", "nodev"},
		"/scratch": {"nosuid", "nodev", "noexec", "size=1024k", "mode=710"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[target], w) {
				t.Errorf("%s: mountinfo %q lacks %q", target, lines[target], w)
			}
		}
	}
}
