package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// chmodChown changes, as root inside, the metadata of every node under
// /dev and of every path in the space-separated list arg to what it
// already is: a chmod to the same mode and a chown to the same owner,
// which changes nothing but the inode's ctime. Whether a host inode was
// reached is for the caller to see, from the host's side; the report
// lists what the kernel let through.
func chmodChown(arg string) error {
	paths := strings.Fields(arg)
	filepath.WalkDir("/dev", func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			paths = append(paths, p)
		}
		return nil
	})
	var changed []string
	tried := 0
	for _, p := range paths {
		var st unix.Stat_t
		if unix.Lstat(p, &st) != nil || st.Mode&unix.S_IFMT == unix.S_IFLNK {
			continue
		}
		tried++
		errMode := unix.Chmod(p, st.Mode&0o7777)
		errOwner := unix.Lchown(p, int(st.Uid), int(st.Gid))
		if errMode == nil || errOwner == nil {
			changed = append(changed, p)
		}
	}
	// Which of these were the host's inodes only the host can tell.
	return fmt.Errorf("%w: tried %d; changed: %s", errContained, tried, strings.Join(changed, " "))
}

// checkMasks checks each "KIND:PATH" item of arg as the container sees
// it: every kind is on a read-only mount; "file" reads as empty, "dir"
// lists nothing. Missing paths are counted, not failed (they depend on
// the kernel).
func checkMasks(arg string) error {
	var bad []string
	present, missing := 0, 0
	for _, item := range strings.Fields(arg) {
		kind, p, _ := strings.Cut(item, ":")
		if _, err := os.Lstat(p); err != nil {
			missing++
			continue
		}
		present++
		var sf unix.Statfs_t
		if err := unix.Statfs(p, &sf); err != nil || sf.Flags&unix.ST_RDONLY == 0 {
			bad = append(bad, p+" (writable mount)")
		}
		switch kind {
		case "file":
			if f, err := os.Open(p); err == nil {
				n, _ := io.Copy(io.Discard, f)
				f.Close()
				if n != 0 {
					bad = append(bad, fmt.Sprintf("%s (%d bytes)", p, n))
				}
			}
		case "dir":
			ents, err := os.ReadDir(p)
			if err != nil || len(ents) != 0 {
				bad = append(bad, fmt.Sprintf("%s (%d entries, %v)", p, len(ents), err))
			}
		}
	}
	fmt.Printf("present %d missing %d\n", present, missing)
	if len(bad) > 0 {
		fmt.Println("unmasked:", strings.Join(bad, ", "))
		return nil
	}
	return fmt.Errorf("%w: %d masked", errContained, present)
}
