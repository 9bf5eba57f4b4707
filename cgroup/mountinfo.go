package cgroup

import (
	"fmt"
	"strings"

	"github.com/minispawn/minispawn/internal/mountinfo"
)

// mountEntry is the part of one /proc/PID/mountinfo line that detection
// needs.
type mountEntry struct {
	// Root is the directory of the filesystem mounted here ("/" unless a
	// subtree is bind-mounted, as in a container's cgroup namespace).
	Root       string
	MountPoint string
	FSType     string
	// SuperOptions are the per-superblock options; for a v1 cgroup mount
	// they name its controllers ("rw,memory").
	SuperOptions []string
}

// parseMountinfo parses the text of /proc/PID/mountinfo (proc(5)):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//	(1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
//
// Field 7 is zero or more optional fields, ended by the "-" of field 8.
func parseMountinfo(text string) ([]mountEntry, error) {
	var out []mountEntry
	for n, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if len(f) < 6 || sep < 0 || len(f) < sep+4 {
			return nil, fmt.Errorf("mountinfo line %d: malformed: %q", n+1, line)
		}
		out = append(out, mountEntry{
			Root:         mountinfo.Unescape(f[3]),
			MountPoint:   mountinfo.Unescape(f[4]),
			FSType:       f[sep+1],
			SuperOptions: strings.Split(f[sep+3], ","),
		})
	}
	return out, nil
}
