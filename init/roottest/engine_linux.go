package roottest

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// Engine stands for an unrelated program on the same host (a container
// engine) that mounts and unmounts while a test runs, under a directory
// of its own in /run: what a leak check must not blame on the test.
type Engine struct {
	// Dir holds all its mounts.
	Dir string
	// Gone is the mount made by NewEngine and removed by Churn.
	Gone string
	// Made are the mounts Churn made: a shm tmpfs, an overlay on it, a
	// netns file bound from /proc/self/ns/net.
	Made []string
}

// NewEngine makes the engine's directory with one mount on it (Gone);
// everything goes when t ends.
func NewEngine(t testing.TB) *Engine {
	t.Helper()
	dir, err := os.MkdirTemp("/run", "engine-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	e := &Engine{Dir: dir, Gone: MountTmpfs(t, filepath.Join(dir, "old-shm"))}
	return e
}

// Churn unmounts Gone and makes the mounts of Made.
func (e *Engine) Churn(t testing.TB) {
	t.Helper()
	if err := unix.Unmount(e.Gone, 0); err != nil {
		t.Fatalf("unmount %s: %v", e.Gone, err)
	}
	shm := MountTmpfs(t, filepath.Join(e.Dir, "shm"))
	for _, d := range []string{"lower", "upper", "work", "merged"} {
		if err := os.Mkdir(filepath.Join(shm, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	merged := filepath.Join(shm, "merged")
	opts := "lowerdir=" + shm + "/lower,upperdir=" + shm + "/upper,workdir=" + shm + "/work"
	mount(t, "overlay", merged, "overlay", 0, opts)
	netns := filepath.Join(e.Dir, "netns")
	if err := os.WriteFile(netns, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	mount(t, "/proc/self/ns/net", netns, "", unix.MS_BIND, "")
	e.Made = []string{shm, merged, netns}
}

// MountTmpfs makes directory dir and mounts a tmpfs on it in the host's
// mount namespace, unmounted when t ends. It returns dir.
func MountTmpfs(t testing.TB, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	mount(t, "tmpfs", dir, "tmpfs", 0, "")
	return dir
}

func mount(t testing.TB, src, target, fstype string, flags uintptr, data string) {
	t.Helper()
	if err := unix.Mount(src, target, fstype, flags, data); err != nil {
		t.Fatalf("mount %s on %s: %v", src, target, err)
	}
	t.Cleanup(func() { unix.Unmount(target, unix.MNT_DETACH) })
}
