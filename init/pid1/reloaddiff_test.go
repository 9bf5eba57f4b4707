package pid1

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadReportsAddedAndRemoved: a reload that adds a workload,
// removes one or puts one back used to answer "nothing changed" while it
// started or stopped them. The answer names each.
func TestReloadReportsAddedAndRemoved(t *testing.T) {
	const app = `
[[workload]]
name = "app"
command = "/bin/sleep"
args = ["1000"]
main = true
`
	const side = `
[[workload]]
name = "side"
command = "/bin/sleep"
args = ["1000"]
`
	const extra = `
[[workload]]
name = "extra"
command = "/bin/sleep"
args = ["1001"]
`
	s := newSup(t, "", app+side)
	s.start()
	s.waitState("side", "running")
	head, _, _ := strings.Cut(readString(t, s.file), "[[workload]]")
	reload := func(body string, want string, added, removed []string) {
		t.Helper()
		if err := os.WriteFile(s.file, []byte(head+body), 0o644); err != nil {
			t.Fatal(err)
		}
		r := s.ctl(ControlRequest{Op: "reload"})
		if !r.OK || len(r.Changed) != 0 || !slices.Equal(r.Added, added) || !slices.Equal(r.Removed, removed) {
			t.Fatalf("reload: %+v; want added %v, removed %v", r, added, removed)
		}
		var out bytes.Buffer
		PrintControlResponse(&out, ControlRequest{Op: "reload"}, r)
		if got := strings.TrimSpace(out.String()); got != want {
			t.Errorf("ctl prints %q, want %q", got, want)
		}
	}
	reload(app+side+extra, "reloaded; added: extra", []string{"extra"}, nil)
	s.waitState("extra", "running")
	reload(app+extra, "reloaded; removed: side", nil, []string{"side"})
	waitFor(t, 10*time.Second, "side's stop", func() bool {
		for _, w := range s.ctl(ControlRequest{Op: "status"}).Workloads {
			if w.Name == "side" && w.Pid != 0 {
				return false
			}
		}
		return true
	})
	reload(app+extra+side, "reloaded; added: side", []string{"side"}, nil)
	s.waitState("side", "running")
	reload(app+extra+side, "reloaded; nothing changed", nil, nil)
	s.signal(syscall.SIGTERM)
	s.run.wait(30 * time.Second)
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
