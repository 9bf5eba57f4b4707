package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/roottest"
	"github.com/minispawn/minispawn/mounts"
)

// maskPaths lists the default masks as the attack program's check-masks
// items: "ro:", "file:" or "dir:" and the path.
func maskPaths() []string {
	var items []string
	for _, m := range mounts.DefaultMasks() {
		kind := "ro"
		switch {
		case m.Kind == mounts.KindMask && m.FSType != "":
			kind = "dir"
		case m.Kind == mounts.KindMask:
			kind = "file"
		}
		items = append(items, kind+":"+m.Target)
	}
	return items
}

// hostCtimes stats each path on the host and returns its inode's ctime,
// for the paths that exist.
func hostCtimes(t *testing.T, paths []string) map[string]unix.Timespec {
	t.Helper()
	got := map[string]unix.Timespec{}
	for _, p := range paths {
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err == nil {
			got[p] = st.Ctim
		}
	}
	return got
}

// TestAttackChangeHostInodesThroughDevAndMasksFails: root inside chmods
// and chowns, each to what it already is, every node under /dev and every
// masked or read-only path. None of the host's inodes behind them (the
// device nodes /dev binds, the /dev/null the file masks bind, the shared
// sysfs nodes) changes its ctime, with and without a user namespace. The
// control is a plain read-write bind of a scratch host file, which the
// same attack does change.
func TestAttackChangeHostInodesThroughDevAndMasksFails(t *testing.T) {
	roottest.Require(t)
	hostPaths := []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}
	var targets []string
	for _, m := range mounts.DefaultMasks() {
		targets = append(targets, m.Target)
		if strings.HasPrefix(m.Target, "/sys/") {
			// sysfs is one tree for every mount of it.
			hostPaths = append(hostPaths, m.Target)
		}
	}
	for _, userns := range []bool{false, true} {
		t.Run(fmt.Sprintf("userns=%v", userns), func(t *testing.T) {
			root := attackRoot(t)
			dir := t.TempDir()
			// Searchable by root inside when that is an unprivileged
			// uid, as a bind source must be.
			for _, d := range []string{dir, filepath.Dir(dir)} {
				if err := os.Chmod(d, 0o711); err != nil {
					t.Fatal(err)
				}
			}
			scratch := filepath.Join(dir, "scratch")
			if err := os.WriteFile(scratch, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, "scratch"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			security, extra := "", ""
			name := containerName(t)
			if userns {
				// Root inside owns the scratch file, as it would a
				// directory the host hands it.
				base := int(expectedBase(name))
				if err := os.Chown(scratch, base, base); err != nil {
					t.Fatal(err)
				}
				extra = usernsTable
			}
			extra += fmt.Sprintf("[[mount]]\ntype = \"bind\"\nsource = %q\ntarget = \"/scratch\"\n", scratch)
			before := hostCtimes(t, append(hostPaths, scratch))
			got := attackNamed(t, name, root, "chmod-chown", strings.Join(append(targets, "/scratch"), " "), security, extra)
			after := hostCtimes(t, append(hostPaths, scratch))
			for _, p := range hostPaths {
				if b, ok := before[p]; ok && after[p] != b {
					t.Errorf("host inode %s changed: ctime %v -> %v (%s)", p, b, after[p], got)
				}
			}
			t.Logf("%s", got)
			if after[scratch] == before[scratch] {
				t.Errorf("control: the read-write bind of a host file kept its ctime; the attack did not run? %s", got)
			}
		})
	}
}

// TestAttackReadMaskedPathsFails: every path of the default masks that
// this kernel has is, inside, on a read-only mount, and the masked ones
// read as empty; /sys/dev/block lists none of the host's disks. The
// control is the host's own /sys/dev/block, which does.
func TestAttackReadMaskedPathsFails(t *testing.T) {
	roottest.Require(t)
	got := attack(t, attackRoot(t), "check-masks", strings.Join(maskPaths(), " "), "")
	mustBlock(t, got, "masked")
	ents, err := os.ReadDir("/sys/dev/block")
	if err != nil || len(ents) == 0 {
		t.Errorf("control: the host's /sys/dev/block lists nothing (%v)", err)
	}
}
