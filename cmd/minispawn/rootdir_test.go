package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/roottest"
)

// TestRootDirLeftUnchanged: the scenario. A busybox root without
// /proc, /sys, /dev or /run, with [[mount]] targets it lacks (/data,
// /deep/a/b, /etc/f.txt beside an existing /etc/hostname): after a run,
// writable and read-only, with a user namespace too, and after a SIGKILL
// of miniinit, the directory
// is exactly as it was (paths, modes, sizes, mtimes), while inside the
// container every mount was where the plan put it.
func TestRootDirLeftUnchanged(t *testing.T) {
	roottest.Require(t)
	for _, mode := range []string{"writable", "readonly", "sigkill", "userns", "userns-readonly"} {
		t.Run(mode, func(t *testing.T) {
			root := busyboxRoot(t)
			if strings.HasPrefix(mode, "userns") {
				// Root inside must reach the root: an idmapped mount of
				// a 0700 temporary directory is not enough.
				if err := os.Chmod(filepath.Dir(root), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, "etc", "hostname"), []byte("from-root\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			hostFile := filepath.Join(t.TempDir(), "f.txt")
			if err := os.WriteFile(hostFile, []byte("from-host\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			// Some time between the snapshot and the run, so a touched
			// mtime differs even on a coarse clock.
			before := treeDigest(t, root)
			time.Sleep(20 * time.Millisecond)

			keys, tables := "", ""
			if strings.HasSuffix(mode, "readonly") {
				keys = "readonly = true"
			}
			if strings.HasPrefix(mode, "userns") {
				tables = usernsTable
			}
			tables += fmt.Sprintf(`[[mount]]
type = "tmpfs"
target = "/data"
[[mount]]
type = "tmpfs"
target = "/deep/a/b"
[[mount]]
type = "bind"
source = %q
target = "/etc/f.txt"
`, hostFile)
			script := `busybox cat /etc/f.txt /etc/hostname
echo x > /data/x && echo "data-ok"
echo y > /deep/a/b/y && echo "deep-ok"
busybox ls /proc/self/fd >/dev/null && echo "proc-ok"
echo ready
`
			name := containerName(t)
			var out string
			if mode == "sigkill" {
				cfg := busyboxConfig(t, name, root, keys, tables, script+"exec busybox sleep 600")
				s := startMinispawn(t, cfg)
				proc, pid, err := findContainerInit(name)
				if err != nil {
					t.Fatal(err)
				}
				unix.Close(proc)
				if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				s.wait(t, 20*time.Second)
				out = strings.Join(s.seen, "\n")
			} else {
				res := runMinispawn(t, 60*time.Second, "-c", busyboxConfig(t, name, root, keys, tables, script))
				if res.code != 0 {
					t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
				}
				out = res.stdout
			}
			for _, want := range []string{"from-host", "from-root", "data-ok", "deep-ok", "proc-ok"} {
				if !strings.Contains(out, want) {
					t.Errorf("the container's output lacks %q:\n%s", want, out)
				}
			}
			if after := treeDigest(t, root); after != before {
				t.Errorf("the root directory changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// TestCtlTwoContainersOneRoot: two containers on one rootfs.path each have
// their own control socket: `ctl -name A status` shows A's workloads only,
// and a stop sent to B stops B's workload, never A's of the same name.
func TestCtlTwoContainersOneRoot(t *testing.T) {
	roottest.Require(t)
	root := busyboxRoot(t)
	nameA, nameB := containerName(t)+"-a", containerName(t)+"-b"
	cfgOf := func(name, only string) string {
		return writeConfig(t, fmt.Sprintf(`name = %q
rootfs.path = %q

[[workload]]
name = %q
command = "/bin/sh"
args = ["-c", "echo ready; exec busybox sleep 600"]

[[workload]]
name = "shared"
command = "/bin/busybox"
args = ["sleep", "600"]
`, name, root, only))
	}
	cfgA, cfgB := cfgOf(nameA, "only-in-a"), cfgOf(nameB, "only-in-b")
	sA := startMinispawn(t, cfgA)
	sB := startMinispawn(t, cfgB)
	ctl := func(args ...string) result {
		t.Helper()
		return runMinispawn(t, 30*time.Second, append([]string{"ctl"}, args...)...)
	}
	names := func(name string) []string {
		t.Helper()
		var ns []string
		for _, w := range ctlStatus(t, ctl("-name", name, "-json", "status")).Workloads {
			ns = append(ns, w.Name)
		}
		slices.Sort(ns)
		return ns
	}
	if got := names(nameA); !slices.Equal(got, []string{"only-in-a", "shared"}) {
		t.Errorf("ctl -name A status lists %v", got)
	}
	if got := names(nameB); !slices.Equal(got, []string{"only-in-b", "shared"}) {
		t.Errorf("ctl -name B status lists %v", got)
	}
	if res := ctl("-c", cfgB, "stop", "only-in-a"); res.code != 1 || !strings.Contains(res.stderr, `no workload is named "only-in-a"`) {
		t.Errorf("stop only-in-a through B: exit %d\n%s", res.code, res.stderr)
	}
	if res := ctl("-c", cfgB, "stop", "shared"); res.code != 0 {
		t.Fatalf("stop shared in B: exit %d\n%s", res.code, res.stderr)
	}
	waitCtl(t, "B's shared stopped", func() bool { return ctlState(t, ctl("-name", nameB, "-json", "status"), "shared") == "stopped" })
	for _, w := range []string{"only-in-a", "shared"} {
		if got := ctlState(t, ctl("-name", nameA, "-json", "status"), w); got != "running" {
			t.Errorf("A's %s is %s after a stop sent to B", w, got)
		}
	}
	for _, s := range []*started{sA, sB} {
		s.cmd.Process.Signal(syscall.SIGTERM)
		if code := s.wait(t, 20*time.Second); code != 0 {
			t.Errorf("exit %d after SIGTERM, want 0\nstderr:\n%s", code, s.stderr)
		}
	}
}

// TestCtlReadOnlyRoot: with readonly = true, miniinit's control socket is
// on the container's /run tmpfs: `minispawn ctl` reaches it from the
// host, and `miniinit health` and `miniinit ctl` inside, with no flag,
// find it too.
func TestCtlReadOnlyRoot(t *testing.T) {
	roottest.Require(t)
	root := busyboxRoot(t)
	roottest.CopyExec(t, filepath.Join(binDir, "miniinit"), filepath.Join(root, "bin", "miniinit"))
	name := containerName(t)
	before := treeDigest(t, root)
	cfg := writeConfig(t, fmt.Sprintf(`name = %q
rootfs.path = %q
rootfs.readonly = true

[[workload]]
name = "web"
command = "/bin/busybox"
args = ["sleep", "600"]

[[workload]]
name = "probe"
command = "/bin/sh"
args = ["-c", "/bin/miniinit health; echo health-exit=$?; /bin/miniinit ctl status | busybox grep -c '^web ' | busybox sed 's/^/web-lines=/'; echo ready; exec busybox sleep 600"]
`, name, root))
	s := startMinispawn(t, cfg)
	out := strings.Join(s.seen, "\n")
	for _, want := range []string{"health-exit=0", "web-lines=1"} {
		if !strings.Contains(out, want) {
			t.Errorf("inside, the output lacks %q:\n%s\nstderr:\n%s", want, out, s.stderr)
		}
	}
	if res := runMinispawn(t, 30*time.Second, "ctl", "-name", name, "health"); res.code != 0 {
		t.Errorf("ctl health: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if got := ctlState(t, runMinispawn(t, 30*time.Second, "ctl", "-c", cfg, "-json", "status"), "web"); got != "running" {
		t.Errorf("web is %s", got)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	if code := s.wait(t, 20*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0\nstderr:\n%s", code, s.stderr)
	}
	if strings.Contains(s.stderr.String(), "no control socket") {
		t.Errorf("miniinit had no control socket:\n%s", s.stderr)
	}
	if after := treeDigest(t, root); after != before {
		t.Errorf("the root directory changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
