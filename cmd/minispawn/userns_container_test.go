package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/config"
	"github.com/minispawn/minispawn/init/roottest"
)

const usernsTable = "[userns]\nenabled = true\n"

// expectedBase is the host uid root inside gets for a container named
// name with the default [userns] table.
func expectedBase(name string) uint32 {
	return newIDMapping(config.UserNS{Enabled: true, Size: config.DefaultUserNSSize}, name).Base
}

// reportScript prints, inside the container, what the tests check: the
// maps, the credentials, the ownership of root files, and whether root
// inside can write a host-only sysctl. It needs only sh and cat.
const reportScript = `
echo "uid_map $(cat /proc/self/uid_map)"
echo "gid_map $(cat /proc/self/gid_map)"
while read -r k v rest; do
	case $k in Uid:|Gid:|Groups:) echo "status $k $v $rest";; esac
done </proc/self/status
ls -lnd /etc /etc/passwd /tmp
if echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then echo sysctl-written; else echo sysctl-denied; fi
`

// hostUIDs returns the real, effective, saved and fs uids of pid as the
// host sees them.
func hostUIDs(t *testing.T, pid int) []string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			return strings.Fields(rest)
		}
	}
	t.Fatalf("no Uid line for pid %d", pid)
	return nil
}

// checkReport asserts what reportScript printed for a container mapped
// at base: root inside is base outside, with no host groups, owns its
// root's files, and cannot use host root's powers.
func checkReport(t *testing.T, out string, base uint32) {
	t.Helper()
	for _, want := range []string{
		fmt.Sprintf("uid_map          0 %10d      65536", base),
		fmt.Sprintf("gid_map          0 %10d      65536", base),
		"status Uid: 0 0	0	0",
		"status Gid: 0 0	0	0",
		"sysctl-denied",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// No supplementary groups: minispawn's own (host root's) were dropped.
	// ls -lnd prints mode, links, uid, gid, size, date and the path: the
	// three paths belong to root inside.
	owned := 0
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "status Groups:"); ok && strings.TrimSpace(rest) != "" {
			t.Errorf("supplementary groups inside: %q", line)
		}
		f := strings.Fields(line)
		if len(f) < 9 || !slices.Contains([]string{"/etc", "/etc/passwd", "/tmp"}, f[len(f)-1]) {
			continue
		}
		if f[2] != "0" || f[3] != "0" {
			t.Errorf("not owned by root inside: %q", line)
		}
		owned++
	}
	if owned != 3 {
		t.Errorf("ls -lnd listed %d of the 3 paths:\n%s", owned, out)
	}
}

// containerPids lists the processes in the container's cgroup, on
// whichever hierarchy this host has (v1 pids, or v2).
func containerPids(t *testing.T, name string) []string {
	t.Helper()
	for _, d := range cgroupDirs(name) {
		if procs, err := os.ReadFile(filepath.Join(d, "cgroup.procs")); err == nil {
			return strings.Fields(string(procs))
		}
	}
	t.Fatalf("no cgroup.procs for %s in %v", name, cgroupDirs(name))
	return nil
}

// TestUserNSBuiltRoot: with [userns], root inside is an unprivileged uid
// on the host, for a root built on a tmpfs inside the namespace and for a
// cached root on the host's disk (idmapped). Signals, exit code and
// cleanup are as without the namespace.
func TestUserNSBuiltRoot(t *testing.T) {
	roottest.Require(t)
	for _, cached := range []bool{false, true} {
		t.Run(map[bool]string{false: "ephemeral", true: "cached"}[cached], func(t *testing.T) {
			name := containerName(t)
			base := expectedBase(name)
			cache := ""
			if cached {
				cache = fmt.Sprintf("cache = %q\n", filepath.Join(t.TempDir(), "cache"))
			}
			cfg := writeConfig(t, fmt.Sprintf(`name = %q
[rootfs]
build = %s
%s
%s
[[workload]]
name = "sh"
command = "/bin/sh"
args = ["-c", %q]
`, name, testRootBinaries, cache, usernsTable, reportScript+"echo ready; exec sleep 30"))
			before := snapshotHost(t)
			s := startMinispawn(t, cfg)

			// From the host, every process of the container runs as
			// base, none as root.
			pids := containerPids(t, name)
			if len(pids) < 2 {
				t.Errorf("cgroup holds %q, want miniinit and the workload", pids)
			}
			for _, p := range pids {
				pid, _ := strconv.Atoi(p)
				want := strconv.FormatUint(uint64(base), 10)
				if got := hostUIDs(t, pid); strings.Join(got, " ") != strings.Repeat(want+" ", 3)+want {
					t.Errorf("pid %d runs as host uids %v, want all %s", pid, got, want)
				}
			}

			s.cmd.Process.Signal(syscall.SIGTERM)
			if code := s.wait(t, 15*time.Second); code != 0 {
				t.Errorf("exit %d after SIGTERM, want 0 (a stop asked of minispawn)\nstderr:\n%s", code, s.stderr)
			}
			checkReport(t, strings.Join(s.seen, "\n"), base)
			if cached {
				// The cache on disk stays host root's: the mapping is
				// the mount's, not the files'.
				var st unix.Stat_t
				p := filepath.Join(cachedRoot(t, strings.Trim(strings.TrimPrefix(cache, "cache = "), "\"\n")), "etc", "passwd")
				if err := unix.Stat(p, &st); err != nil || st.Uid != 0 || st.Gid != 0 {
					t.Errorf("cached %s: uid %d gid %d (%v), want 0 0", p, st.Uid, st.Gid, err)
				}
			}
			checkNothingLeft(t, before, name, usernsHolderArg0)
		})
	}
}

// TestUserNSPathRootAndHostFiles: a directory root owned by host root,
// under a 0700 directory, is seen through an idmapped mount: root inside
// owns it, and what it writes there lands on disk as root's. A host
// directory mounted below the root comes along unmapped: inside, id -u is
// 0, yet a host-root-owned 0600 file there can be neither read, written
// nor chowned; and a file made in its world-writable subdirectory belongs
// on the host to the base uid, not to root.
func TestUserNSPathRootAndHostFiles(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	base := expectedBase(name)
	root := busyboxRoot(t)
	if st, err := os.Stat(filepath.Dir(root)); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("want the root under a 0700 directory: %v %v", st.Mode(), err)
	}
	write := func(p, data string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "rootsecret"), "root-owned\n", 0o600)
	// The root is a shared mount, as / is on a systemd host: the copy the
	// container gets must not propagate its mounts back here (the host
	// snapshot below would show them).
	shareMount(t, root)

	host := t.TempDir()
	write(filepath.Join(host, "secret"), "host-only\n", 0o600)
	drop := filepath.Join(host, "drop")
	if err := os.Mkdir(drop, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(drop, 0o777) // past the umask
	mnt := filepath.Join(root, "host")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(host, mnt, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind %s on %s: %v", host, mnt, err)
	}
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })

	script := `
bb=/bin/busybox
echo "id $($bb id -u) $($bb id -g)"
echo "uid_map $($bb cat /proc/self/uid_map)"
$bb stat -c 'owner %u:%g %n' /bin/busybox /rootsecret /host/secret /host/drop
$bb cat /rootsecret
$bb cat /host/secret 2>/dev/null && echo host-read || echo host-read-denied
{ echo owned >>/host/secret; } 2>/dev/null && echo host-write || echo host-write-denied
$bb chown 0:0 /host/secret 2>/dev/null && echo host-chown || echo host-chown-denied
$bb chmod 666 /host/secret 2>/dev/null && echo host-chmod || echo host-chmod-denied
echo made >/host/drop/made && $bb stat -c 'owner %u:%g %n' /host/drop/made
echo made >/bin/rootmade && echo root-write
exit 4
`
	before := snapshotHost(t)
	cfg := dirShellConfig(t, name, root, usernsTable, script)
	res := runMinispawn(t, 60*time.Second, "-c", cfg)
	if res.code != 4 {
		t.Fatalf("exit %d, want the workload's 4\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{
		"id 0 0",
		fmt.Sprintf("uid_map          0 %10d      65536", base),
		"owner 0:0 /bin/busybox",
		"owner 0:0 /rootsecret",
		"root-owned", // root inside reads its own root's 0600 file
		fmt.Sprintf("owner %d:%d /host/secret", overflowID, overflowID),
		fmt.Sprintf("owner %d:%d /host/drop", overflowID, overflowID),
		"host-read-denied", "host-write-denied", "host-chown-denied", "host-chmod-denied",
		"owner 0:0 /host/drop/made",
		"root-write",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\nstdout:\n%s\nstderr:\n%s", want, res.stdout, res.stderr)
		}
	}

	// On the host: the host file is untouched; the file made in the host
	// directory belongs to base; the one made in the root to root.
	if data, err := os.ReadFile(filepath.Join(host, "secret")); err != nil || string(data) != "host-only\n" {
		t.Errorf("host secret now %q (%v)", data, err)
	}
	for _, f := range []struct {
		path string
		uid  uint32
		mode uint32
	}{
		{filepath.Join(host, "secret"), 0, 0o600},
		{filepath.Join(drop, "made"), base, 0},
		// In /bin: the bare root gets a stand-in for / (no /proc...), where
		// a name made directly in / is the stand-in's.
		{filepath.Join(root, "bin", "rootmade"), 0, 0},
	} {
		var st unix.Stat_t
		if err := unix.Stat(f.path, &st); err != nil {
			t.Errorf("stat %s: %v", f.path, err)
			continue
		}
		if st.Uid != f.uid || st.Gid != f.uid {
			t.Errorf("%s is owned by %d:%d on the host, want %d:%d", f.path, st.Uid, st.Gid, f.uid, f.uid)
		}
		if f.mode != 0 && st.Mode&0o7777 != f.mode {
			t.Errorf("%s has mode %o, want %o", f.path, st.Mode&0o7777, f.mode)
		}
	}
	checkNothingLeft(t, before, name, usernsHolderArg0)
}

// shareMount bind-mounts dir onto itself as a shared mount, in the host's
// mount namespace, for the test's duration.
func shareMount(t *testing.T, dir string) {
	t.Helper()
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind %s onto itself: %v", dir, err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if err := unix.Mount("", dir, "", unix.MS_SHARED, ""); err != nil {
		t.Fatalf("make %s shared: %v", dir, err)
	}
}

// TestUserNSRefusesUnmappableRoot: a directory root on a filesystem that
// cannot be idmapped (ramfs) is refused before anything runs, with an
// error that names the filesystem, the errno and what to do instead.
func TestUserNSRefusesUnmappableRoot(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	root := t.TempDir()
	if err := unix.Mount("ramfs", root, "ramfs", 0, "mode=0755"); err != nil {
		t.Fatalf("mount ramfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(root, unix.MNT_DETACH) })
	if err := os.Mkdir(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	before := snapshotHost(t)
	cfg := writeConfig(t, fmt.Sprintf(`name = %q
rootfs.path = %q
%s
[[workload]]
name = "sh"
command = "/bin/sh"
`, name, root, usernsTable))
	res := runMinispawn(t, 30*time.Second, "-c", cfg)
	if res.code != exitSetup {
		t.Errorf("exit %d, want %d\n%s", res.code, exitSetup, res.stderr)
	}
	for _, want := range []string{"(ramfs) cannot be idmapped", "mount_setattr MOUNT_ATTR_IDMAP " + root + ": EINVAL", "rootfs.build without cache"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
		}
	}
	checkNothingLeft(t, before, name, usernsHolderArg0)
}

// TestUserNSExitCodes: exit codes pass through the user namespace as
// they do without it, and a killed container leaves nothing.
func TestUserNSExitCodes(t *testing.T) {
	roottest.Require(t)
	checkExitCodes(t, usernsTable, usernsHolderArg0)
}

// TestUserNSSigkillOfMinispawn: the container still dies with minispawn
// when its first process changed credentials inside the user namespace
// (a credential change clears the parent-death signal unless it is set
// again after, as the clone does).
func TestUserNSSigkillOfMinispawn(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	marker := fmt.Sprintf("%d.%d", 5000+os.Getpid()%1000, time.Now().UnixNano()%1000)
	s := startMinispawn(t, shellConfig(t, name, "echo ready; exec sleep "+marker, usernsTable))
	pids := waitForProcs(t, marker, 1)
	if len(pids) != 1 {
		t.Fatalf("workload not found running: %v", pids)
	}
	if uids := hostUIDs(t, pids[0]); uids[0] != strconv.FormatUint(uint64(expectedBase(name)), 10) {
		t.Errorf("workload runs as host uid %s, want %d", uids[0], expectedBase(name))
	}
	killAndWaitOut(t, s, name, marker)
	// A killed minispawn cannot remove its cgroup; the next run of the
	// same name does, and then nothing is left.
	before := snapshotHost(t)
	if res := runMinispawn(t, 60*time.Second, "-c", shellConfig(t, name, "exit 0", usernsTable)); res.code != 0 {
		t.Fatalf("next run: exit %d\n%s", res.code, res.stderr)
	}
	checkNothingLeft(t, before, name, marker)
}

// TestUserNSOverlayRoot: with rootfs.overlay, the overlay's lower layer
// is the idmapped root: root inside owns the files and may change them,
// and the changes never reach the directory on the host.
func TestUserNSOverlayRoot(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	root := busyboxRoot(t)
	secret := filepath.Join(root, "rootsecret")
	if err := os.WriteFile(secret, []byte("root-owned\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	shareMount(t, root)
	script := `
bb=/bin/busybox
echo "id $($bb id -u) $($bb id -g)"
$bb stat -c 'owner %u:%g %n' /bin/busybox /rootsecret
echo changed >/rootsecret && $bb cat /rootsecret
echo new >/newfile && $bb stat -c 'owner %u:%g %n' /newfile
exit 7
`
	cfg := writeConfig(t, fmt.Sprintf(`name = %q
[rootfs]
path = %q
overlay = true
%s
[[workload]]
name = "sh"
command = "/bin/sh"
args = ["-c", %q]
`, name, root, usernsTable, script))
	before := snapshotHost(t)
	res := runMinispawn(t, 60*time.Second, "-c", cfg)
	if res.code != 7 {
		t.Fatalf("exit %d, want the workload's 7\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{"id 0 0", "owner 0:0 /bin/busybox", "owner 0:0 /rootsecret", "changed", "owner 0:0 /newfile"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s\nstderr:\n%s", want, res.stdout, res.stderr)
		}
	}
	if data, err := os.ReadFile(secret); err != nil || string(data) != "root-owned\n" {
		t.Errorf("host file now %q (%v): the overlay let a write through", data, err)
	}
	if _, err := os.Stat(filepath.Join(root, "newfile")); !os.IsNotExist(err) {
		t.Errorf("file made inside reached the host directory: %v", err)
	}
	checkNothingLeft(t, before, name, usernsHolderArg0)
}

// TestUserNSBinds: a [[mount]] bind of a host directory under a user
// namespace. Inside, root (id -u 0) sees the host's files unmapped: it
// can neither read nor chown a host-root-owned 0600 file; what it makes
// in the writable bind is its own inside and the base uid's on the host,
// never root's; a read-only bind refuses writes. A source above which a
// directory is closed to the base uid is refused before anything runs.
func TestUserNSBinds(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	base := expectedBase(name)

	// The test's temporary directories are opened to others' search;
	// "closed" is the 0700 host-root directory the source sits in.
	top := t.TempDir()
	for _, d := range []string{filepath.Dir(top), top} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	parent := filepath.Join(top, "closed")
	if err := os.Mkdir(parent, 0o700); err != nil {
		t.Fatal(err)
	}
	host := filepath.Join(parent, "shared")
	if err := os.Mkdir(host, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(host, 0o777) // past the umask
	if err := os.WriteFile(filepath.Join(host, "secret"), []byte("host-only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bind := func(extra string) string {
		return fmt.Sprintf("[[mount]]\ntype = \"bind\"\nsource = %q\ntarget = \"/data\"\n%s\n[[mount]]\ntype = \"bind\"\nsource = %q\ntarget = \"/ro\"\noptions = [\"ro\"]\n", host, extra, host)
	}
	script := `
echo "uid_map $(cat /proc/self/uid_map)"
ls -lnd /data /data/secret
cat /data/secret 2>/dev/null && echo read || echo read-denied
echo made >/data/made && ls -ln /data/made
echo x >/ro/other 2>/dev/null && echo ro-written || echo ro-denied
exit 0
`

	// Closed: the parent directory is 0700 root's.
	before := snapshotHost(t)
	res := runMinispawn(t, 30*time.Second, "-c", shellConfig(t, name, script, usernsTable+bind("")))
	if res.code != exitSetup || !strings.Contains(res.stderr, fmt.Sprintf("cannot search %s (mode 0700, owner 0:0)", parent)) {
		t.Errorf("unreachable source: exit %d, want %d and the directory named\n%s", res.code, exitSetup, res.stderr)
	}
	checkNothingLeft(t, before, name, usernsHolderArg0)

	// Open: others may search the parent (not list it).
	if err := os.Chmod(parent, 0o711); err != nil {
		t.Fatal(err)
	}
	res = runMinispawn(t, 60*time.Second, "-c", shellConfig(t, name, script, usernsTable+bind("")))
	if res.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	lines := strings.Split(res.stdout, "\n")
	owner := func(suffix string) string {
		for _, l := range lines {
			if f := strings.Fields(l); len(f) >= 9 && f[len(f)-1] == suffix {
				return f[2] + ":" + f[3]
			}
		}
		return "(not listed)"
	}
	nobody := fmt.Sprintf("%d:%d", overflowID, overflowID)
	for path, want := range map[string]string{"/data": nobody, "/data/secret": nobody, "/data/made": "0:0"} {
		if got := owner(path); got != want {
			t.Errorf("inside, %s is owned by %s, want %s\n%s", path, got, want, res.stdout)
		}
	}
	for _, want := range []string{fmt.Sprintf("uid_map          0 %10d      65536", base), "read-denied", "ro-denied"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(host, "made"), &st); err != nil || st.Uid != base || st.Gid != base {
		t.Errorf("file made inside is %d:%d on the host (%v), want %d:%d", st.Uid, st.Gid, err, base, base)
	}
	if _, err := os.Stat(filepath.Join(host, "other")); !os.IsNotExist(err) {
		t.Errorf("the read-only bind let a file through: %v", err)
	}
	checkNothingLeft(t, before, name, usernsHolderArg0)
}
