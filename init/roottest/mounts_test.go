package roottest

import (
	"reflect"
	"strings"
	"testing"
)

func TestScopeContains(t *testing.T) {
	s := Scope{Prefixes: []string{"/tmp/TestLeak", "/run/minispawn/"}, Names: []string{"t-web-42"}}
	for mp, want := range map[string]bool{
		"/tmp/TestLeak123/001/root/proc":                 true,
		"/tmp/TestLeaksub456/001":                        true, // a subtest's directory
		"/run/minispawn":                                 true,
		"/run/minispawn/root/dev":                        true,
		"/run/minispawnx":                                false,
		"/run/x/t-web-42.sock":                           true,
		"/sys/fs/cgroup/memory/minispawn/t-web-42":       true,
		"/tmp/TestOther789/001":                          false,
		"/var/lib/containers/storage/overlay/abc/merged": false,
		"/run/netns/netns-1234":                          false,
		"/":                                              false,
		"/tmp":                                           false,
	} {
		if got := s.Contains(mp); got != want {
			t.Errorf("Contains(%q) = %v, want %v", mp, got, want)
		}
	}
}

// line is a mountinfo line of a tmpfs on mp.
func line(id, mp string) string {
	return id + " 25 0:50 / " + mp + " rw,relatime shared:1 - tmpfs tmpfs rw"
}

func TestChangesInScopeOnly(t *testing.T) {
	s := Scope{Prefixes: []string{"/tmp/TestLeak"}}
	before := Mounts{line("1", "/"), line("2", "/tmp/TestLeak1/001/gone"), line("3", "/run/netns/a"), line("4", "/tmp/TestLeak1/001/stays")}
	after := Mounts{line("1", "/"), line("4", "/tmp/TestLeak1/001/stays"), line("5", "/run/netns/b"), line("6", "/tmp/TestLeak1/001/new\\040dir")}
	got := before.Changes(after, s)
	want := []string{"+ " + line("6", "/tmp/TestLeak1/001/new\\040dir"), "- " + line("2", "/tmp/TestLeak1/001/gone")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := before.Changes(before, Scope{Prefixes: []string{"/"}}); len(got) != 0 {
		t.Errorf("no change reported as %q", got)
	}
}

// TempPrefix covers the test's own temporary directories and its
// subtests'.
func TestTempPrefix(t *testing.T) {
	p := TempPrefix(t)
	if !strings.HasPrefix(t.TempDir(), p) {
		t.Errorf("%s is not under prefix %s", t.TempDir(), p)
	}
	t.Run("sub", func(t *testing.T) {
		if d := t.TempDir(); !strings.HasPrefix(d, p) {
			t.Errorf("subtest directory %s is not under prefix %s", d, p)
		}
	})
}
