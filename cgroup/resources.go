package cgroup

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Resources are the limits of one container. Zero means no limit.
type Resources struct {
	// MemoryMax is the most memory, in bytes, the container may use
	// before the kernel reclaims and then OOM-kills inside it. The kernel
	// rounds it down to a whole page.
	MemoryMax int64
	// PidsMax is the most tasks (processes and threads) the container may
	// hold at once; fork and clone fail with EAGAIN beyond it.
	PidsMax int64
}

// knob is one row of the resource -> file table: which Resources field
// sets which file of which controller, on each hierarchy version.
type knob struct {
	// field names the Resources field, for messages.
	field      string
	controller string
	// file is the control file per version; "" when that version has
	// none (the limit is then not supported there).
	file map[Version]string
	// unlimited is how each version spells "no limit" when writing.
	unlimited map[Version]string
	get       func(Resources) int64
	set       func(*Resources, int64)
}

// knobs is the whole mapping. Plan writes the rows in this order, which is
// also the order controllers are visited in.
var knobs = []knob{
	{
		field:      "MemoryMax",
		controller: "memory",
		file:       map[Version]string{V1: "memory.limit_in_bytes", V2: "memory.max"},
		// v1 takes -1 for "unlimited" and reads it back as the largest
		// page-aligned int64; v2 takes and shows "max".
		unlimited: map[Version]string{V1: "-1", V2: "max"},
		get:       func(r Resources) int64 { return r.MemoryMax },
		set:       func(r *Resources, v int64) { r.MemoryMax = v },
	},
	{
		field:      "PidsMax",
		controller: "pids",
		file:       map[Version]string{V1: "pids.max", V2: "pids.max"},
		unlimited:  map[Version]string{V1: "max", V2: "max"},
		get:        func(r Resources) int64 { return r.PidsMax },
		set:        func(r *Resources, v int64) { r.PidsMax = v },
	},
}

// Validate reports every field that no hierarchy can accept: negative
// values. (Values too large for the running kernel, such as a pids limit
// above PID_MAX_LIMIT, are refused by the kernel at Create.)
func (r Resources) Validate() error {
	var errs []error
	for _, k := range knobs {
		if v := k.get(r); v < 0 {
			errs = append(errs, fmt.Errorf("cgroup limit %s = %d: negative (0 means no limit)", k.field, v))
		}
	}
	return errors.Join(errs...)
}

// format is the text written to k's file for value v (0 = no limit).
func (k knob) format(ver Version, v int64) string {
	if v == 0 {
		return k.unlimited[ver]
	}
	return strconv.FormatInt(v, 10)
}

// nearMaxInt64 is the smallest value read back from a limit file that
// still means "no limit": the kernel stores the largest page count and
// shows it in bytes, which is MaxInt64 rounded down to a page. 1 MiB of
// slack covers every page size.
const nearMaxInt64 = math.MaxInt64 - 1<<20

// parse reads back what the kernel shows in k's file: a number, or one of
// the "no limit" spellings, which parse to 0.
func (k knob) parse(ver Version, s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "max" || s == k.unlimited[ver] {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: unexpected value %q", k.file[ver], s)
	}
	if v >= nearMaxInt64 {
		return 0, nil
	}
	return v, nil
}
