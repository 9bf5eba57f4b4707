package cgroup

import (
	"cmp"
	"errors"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"
)

// Limits reads back the limits in force, through the same table Plan
// writes with: what the kernel kept, after its rounding. A default reads
// back as 0, as Resources spells it; a cpuset list the cgroup inherited
// reads back as the list it holds; IOMax comes sorted by device. An
// optional file the kernel lacks (see knob.optional) is skipped.
func (c *Cgroup) Limits() (Resources, error) {
	var r Resources
	for _, k := range knobs {
		file := k.file[c.layout.Version]
		dir, ok := c.dirOf(k.controller)
		if file == "" || !ok {
			continue
		}
		p := filepath.Join(dir, file)
		text, err := readFile(p)
		if k.optional && errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return Resources{}, err
		}
		if err := k.parse(c.layout.Version, text, &r); err != nil {
			return Resources{}, &Error{Step: "parse", Path: p, Err: err}
		}
	}
	slices.SortFunc(r.IOMax, func(a, b IOMax) int {
		return cmp.Or(cmp.Compare(a.Major, b.Major), cmp.Compare(a.Minor, b.Minor))
	})
	return r, nil
}
