package mounts

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/roottest"
)

func childStandIn() error {
	root := os.Getenv("MOUNTS_TEST_ROOT")
	if err := MakePrivate(); err != nil {
		return err
	}
	if err := unix.Mount(root, root, "", msBind|msRec, ""); err != nil {
		return err
	}
	id, err := MountID(root)
	if err != nil {
		return err
	}
	plan := []Mount{{Source: "tmpfs", Target: "/data/sub", FSType: "tmpfs"}}
	pr := map[string]string{}
	// Without a stand-in, the missing target is refused, not made.
	pr["unprotected"] = errName(ApplyProtected(root, plan, []uint64{id}))
	ids, err := StandIn(root, "/")
	if err != nil {
		return err
	}
	pr["apply"] = errName(ApplyProtected(root, plan, append(ids, id)))
	ents, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	pr["names"] = strings.Join(names, " ")
	link, err := os.Readlink(filepath.Join(root, "ln"))
	pr["link"] = link + " " + errName(err)
	b, err := os.ReadFile(filepath.Join(root, "etc/hostname"))
	pr["hostname"] = string(b) + errName(err)
	if st, err := os.Stat(root); err == nil {
		pr["mode"] = st.Mode().String()
	}
	pr["write in etc"] = errName(os.WriteFile(filepath.Join(root, "etc/new"), []byte("kept"), 0o644))
	pr["write top"] = errName(os.WriteFile(filepath.Join(root, "top"), []byte("gone"), 0o644))
	pr["rename over"] = errName(os.Rename(filepath.Join(root, "top"), filepath.Join(root, "file")))
	return json.NewEncoder(os.Stdout).Encode(pr)
}

// TestStandInMirrorsAndProtects: Apply refuses to make a missing target
// in a protected root; a stand-in for / shows the root's entries as they
// are (a file, a directory, a symlink, the mode), takes the target, lets
// writes inside an entry reach the root and keeps names made directly in
// / off it. The directory on the host has only the write made inside
// /etc.
func TestStandInMirrorsAndProtects(t *testing.T) {
	roottest.Require(t)
	hostMountsUnchanged(t)
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Mkdir(filepath.Join(root, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(root, "etc/hostname"), []byte("box\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "file"), []byte("f"), 0o600))
	must(os.Symlink("/nowhere", filepath.Join(root, "ln")))
	must(os.Chmod(root, 0o751))

	var pr map[string]string
	runChildJSON(t, "standin", &pr, "MOUNTS_TEST_ROOT="+root)
	for probe, w := range map[string]string{
		"unprotected":  "EROFS",
		"apply":        "ok",
		"names":        "data etc file ln",
		"link":         "/nowhere ok",
		"hostname":     "box\nok",
		"mode":         "drwxr-x--x",
		"write in etc": "ok",
		"write top":    "ok",
		"rename over":  "EBUSY",
	} {
		if pr[probe] != w {
			t.Errorf("%s: %q, want %q", probe, pr[probe], w)
		}
	}
	ents, err := os.ReadDir(root)
	must(err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "etc file ln" {
		t.Errorf("the root holds %q, want %q", got, "etc file ln")
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/new")); string(b) != "kept" {
		t.Errorf("a write inside /etc did not reach the root: %q", b)
	}
}
