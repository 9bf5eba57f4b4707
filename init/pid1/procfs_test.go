package pid1

import (
	"fmt"
	"slices"
	"testing"
)

func TestParseStat(t *testing.T) {
	// comm may contain spaces and parentheses: it ends at the last ')'.
	line := "4242 (a) b (c) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100\n"
	e, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := procEntry{Pid: 4242, Comm: "a) b (c", PPid: 17, Pgrp: 4242, Sid: 4242, State: 'S', Start: 987654}
	if e != want {
		t.Errorf("got %+v, want %+v", e, want)
	}
	// With flags and the pending signals: PF_EXITING, or SIGKILL
	// pending, is dying; SIGTERM pending is not.
	long := func(flags, pending int) string {
		return fmt.Sprintf("7 (c) R 1 7 7 0 -1 %d 0 0 0 0 0 0 0 0 20 0 1 0 500 1000 100 0 0 0 0 0 0 %d 0 0 0\n", flags, pending)
	}
	for _, c := range []struct {
		flags, pending int
		dying          bool
	}{{4194560, 0, false}, {4194560 | pfExiting, 0, true}, {4194560, 1 << 8, true}, {4194560, 1 << 14, false}} {
		e, err := parseStat([]byte(long(c.flags, c.pending)))
		if err != nil || e.Dying != c.dying || e.Start != 500 {
			t.Errorf("flags %#x pending %#x: %+v, %v; want dying %v", c.flags, c.pending, e, err, c.dying)
		}
	}
	for _, bad := range []string{"", "12 comm S 1", "x (c) S 1 2", "12 (c) S 1 2 3", "12 (c) S x 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q): want an error", bad)
		}
	}
}

func TestDescendantsAndAlive(t *testing.T) {
	all := []procEntry{
		{Pid: 1, PPid: 0, State: 'S'},
		{Pid: 10, PPid: 1, State: 'S'},  // miniinit (root of the walk)
		{Pid: 11, PPid: 10, State: 'S'}, // child
		{Pid: 12, PPid: 11, State: 'S'}, // grandchild
		{Pid: 13, PPid: 10, State: 'Z'}, // zombie child: dead already
		{Pid: 20, PPid: 1, State: 'S'},  // unrelated
		{Pid: 21, PPid: 20, State: 'S'}, // unrelated child
		{Pid: 30, PPid: 31, State: 'S'}, // a cycle (inconsistent snapshot)
		{Pid: 31, PPid: 30, State: 'S'},
	}
	pids := func(es []procEntry) (out []int) {
		for _, e := range es {
			out = append(out, e.Pid)
		}
		return out
	}
	if got := pids(descendants(all, 10)); !slices.Equal(got, []int{11, 12}) {
		t.Errorf("descendants(10) = %v, want [11 12]", got)
	}
	if got := pids(alive(all, 1)); !slices.Equal(got, []int{10, 11, 12, 20, 21, 30, 31}) {
		t.Errorf("alive(1) = %v", got)
	}
}

func TestSharedUnder(t *testing.T) {
	mi := []byte(`22 27 0:21 / /proc rw,relatime shared:12 - proc proc rw
27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 27 0:30 / /proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw
31 27 0:31 / /pro\134c rw master:3 - tmpfs x rw
`)
	if got := sharedUnder(mi, "/proc"); got != "shared:12" {
		t.Errorf("sharedUnder(/proc) = %q, want shared:12", got)
	}
	// /proc not a mount point: the mount holding it (/) counts.
	noProc := []byte("27 1 254:0 / / rw shared:1 - ext4 /dev/vda rw\n")
	if got := sharedUnder(noProc, "/proc"); got != "shared:1" {
		t.Errorf("got %q, want shared:1", got)
	}
	private := []byte("27 1 254:0 / / rw - ext4 /dev/vda rw\n22 27 0:21 / /proc rw - proc proc rw\n")
	if got := sharedUnder(private, "/proc"); got != "" {
		t.Errorf("private: got %q", got)
	}
	// The last of several mounts on one point is the visible one.
	stacked := []byte("22 27 0:21 / /proc rw shared:5 - proc proc rw\n40 22 0:40 / /proc rw - proc proc rw\n")
	if got := sharedUnder(stacked, "/proc"); got != "" {
		t.Errorf("stacked: got %q", got)
	}
	if isPathPrefix("/pro", "/proc") || !isPathPrefix("/", "/proc") || !isPathPrefix("/proc", "/proc") {
		t.Error("isPathPrefix")
	}
}
