package cgroup

import (
	"path/filepath"
)

// Limits reads back the limits in force, through the same table Plan
// writes with: what the kernel kept, after its rounding.
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
		if err != nil {
			return Resources{}, err
		}
		v, err := k.parse(c.layout.Version, text)
		if err != nil {
			return Resources{}, &Error{Step: "parse", Path: p, Err: err}
		}
		k.set(&r, v)
	}
	return r, nil
}
