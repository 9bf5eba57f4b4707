package pid1

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// TestControlSocketDirMade: a control socket whose directory is missing
// (a root without /run) gets it made, 0755, answers, and the directories
// made for it go away with miniinit; one whose directory cannot be made
// is only a warning.
func TestControlSocketDirMade(t *testing.T) {
	roottest.Require(t)
	dir := t.TempDir()
	socket := filepath.Join(dir, "run", "sub", "miniinit.sock")
	file := filepath.Join(dir, "app.toml")
	doc := fmt.Sprintf(`name = "t"
rootfs.path = "/"
init.control = %q
[[workload]]
name = "app"
command = %q
args = ["sleeper", %q]
`, socket, bin.helper, dir)
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startMini(t, runOpts{}, "-s", "-v", "-c", file)
	waitFile(t, filepath.Join(dir, "sleeper.pid"))
	waitFor(t, 10*time.Second, "the control socket", func() bool { _, err := os.Stat(socket); return err == nil })
	resp, err := Control(socket, ControlRequest{Op: "status"}, 10*time.Second)
	if err != nil || !resp.OK || len(resp.Workloads) != 1 {
		t.Fatalf("status: %+v, %v", resp, err)
	}
	for _, d := range []string{filepath.Join(dir, "run"), filepath.Dir(socket)} {
		st, err := os.Stat(d)
		// 0755, less whatever the umask takes away.
		if err != nil || !st.IsDir() || st.Mode().Perm()&^0o755 != 0 || st.Mode().Perm()&0o700 != 0o700 {
			t.Errorf("%s: %v, mode %v, want a directory, 0755", d, err, st.Mode())
		}
	}
	if err := syscall.Kill(r.pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(30 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if strings.Contains(r.stderr.String(), "no control socket") {
		t.Errorf("warned about the control socket:\n%s", r.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "run")); !os.IsNotExist(err) {
		t.Errorf("the directories made for the socket are still there: %v", err)
	}

	// Under a regular file no directory can be made: a warning that
	// says which step failed, and the workload runs anyway.
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	doc = fmt.Sprintf(`name = "t"
rootfs.path = "/"
init.control = %q
[[workload]]
name = "app"
command = %q
args = ["mark", %q, "0"]
`, filepath.Join(blocker, "run", "miniinit.sock"), bin.helper, filepath.Join(dir, "mark"))
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	code, r2 := runMini(t, runOpts{}, "-s", "-c", file)
	if code != 0 {
		t.Errorf("exit code %d\n%s", code, r2.stderr.String())
	}
	if got := r2.stderr.String(); !strings.Contains(got, `msg="no control socket"`) || !strings.Contains(got, "ENOTDIR") {
		t.Errorf("no warning naming the failed step:\n%s", got)
	}
}
