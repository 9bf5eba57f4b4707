package cgroup

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// knob is one row of the resource -> file table: which Resources field
// sets which control file of which controller on each hierarchy version,
// and how its value is written and read back.
type knob struct {
	// field names the Resources field.
	field string
	// controller is the controller's v2 name ("io"; v1 calls it "blkio",
	// see controllerName).
	controller string
	// file is the control file per version; "" when that version has no
	// file of its own for the field because another row writes it (v2
	// cpu.max carries the period, v2 io.max every I/O count).
	file map[Version]string
	// optional files are missing from some kernels: memory.memsw.* without
	// swap accounting, memory.swap.max without swap, blkio.bfq.weight and
	// io.weight without BFQ or iocost, io.max without throttling. They are
	// written only when the limit is set (a new cgroup holds the default
	// already), so a host without them runs containers that do not ask
	// for them; Limits skips them when absent.
	optional bool
	// inheritV1 marks the v1 cpuset files: a new v1 cgroup has them empty
	// and admits no task until they are filled. Unset, the leaf copies
	// its parent's; the shared parent copies the root's when empty. (On
	// v2 an empty cpuset file means "all of the parent's".)
	inheritV1 bool
	// isSet reports whether r asks for this limit at all.
	isSet func(Resources) bool
	// values returns the texts to write, one write(2) each, in order;
	// none leaves the file as the kernel made it.
	values func(Version, Resources) []string
	// parse reads back what the kernel shows in the file into r. Rows are
	// parsed in table order, so a row may use what an earlier one set
	// (v1 swap is memsw minus the memory limit).
	parse func(Version, string, *Resources) error
}

// knobs is the whole mapping. Plan writes the rows in this order, which is
// also the order controllers are visited in, and the order that keeps
// every write valid on a fresh cgroup: memory before memory+swap (v1 wants
// memsw >= memory at every moment), the period before the quota.
var knobs = []knob{
	limitKnob("MemoryMax", "memory", "memory.limit_in_bytes", "memory.max", false,
		func(r Resources) int64 { return r.MemoryMax }, func(r *Resources, v int64) { r.MemoryMax = v }),
	{
		field: "MemorySwap", controller: "memory", optional: true,
		file:  map[Version]string{V1: "memory.memsw.limit_in_bytes", V2: "memory.swap.max"},
		isSet: func(r Resources) bool { return r.MemorySwap != 0 },
		values: func(ver Version, r Resources) []string {
			switch {
			case r.MemorySwap == 0:
				return nil
			case ver == V1:
				return []string{itoa(r.MemoryMax + r.MemorySwap)}
			}
			return []string{itoa(r.MemorySwap)}
		},
		parse: func(ver Version, s string, r *Resources) error {
			v, err := parseLimit(s)
			if ver == V1 && v != 0 {
				v -= r.MemoryMax
			}
			r.MemorySwap = v
			return err
		},
	},
	// v1 has no memory.high; soft_limit_in_bytes is the nearest: both are
	// the level the kernel reclaims the cgroup down to without killing.
	// It only acts under host-wide memory pressure (Resources.MemoryHigh).
	limitKnob("MemoryHigh", "memory", "memory.soft_limit_in_bytes", "memory.high", false,
		func(r Resources) int64 { return r.MemoryHigh }, func(r *Resources, v int64) { r.MemoryHigh = v }),
	limitKnob("PidsMax", "pids", "pids.max", "pids.max", false,
		func(r Resources) int64 { return r.PidsMax }, func(r *Resources, v int64) { r.PidsMax = v }),
	{
		field: "CPUPeriod", controller: "cpu",
		file:  map[Version]string{V1: "cpu.cfs_period_us"},
		isSet: func(r Resources) bool { return r.CPUPeriod != 0 },
		values: func(_ Version, r Resources) []string {
			return []string{itoa(orDefault(r.CPUPeriod, DefaultCPUPeriod))}
		},
		parse: func(_ Version, s string, r *Resources) error {
			v, err := parseDefault(s, DefaultCPUPeriod)
			r.CPUPeriod = v
			return err
		},
	},
	{
		field: "CPUQuota", controller: "cpu",
		file:  map[Version]string{V1: "cpu.cfs_quota_us", V2: "cpu.max"},
		isSet: func(r Resources) bool { return r.CPUQuota != 0 },
		values: func(ver Version, r Resources) []string {
			quota := itoa(r.CPUQuota)
			if r.CPUQuota == 0 {
				quota = map[Version]string{V1: "-1", V2: "max"}[ver]
			}
			if ver == V1 {
				return []string{quota}
			}
			// v2: "$QUOTA $PERIOD" in one file.
			return []string{quota + " " + itoa(orDefault(r.CPUPeriod, DefaultCPUPeriod))}
		},
		parse: func(ver Version, s string, r *Resources) error {
			if ver == V1 {
				v, err := parseLimit(s)
				r.CPUQuota = v
				return err
			}
			f := strings.Fields(s)
			if len(f) != 2 {
				return fmt.Errorf("want \"QUOTA PERIOD\", got %q", strings.TrimSpace(s))
			}
			q, err := parseLimit(f[0])
			if err != nil {
				return err
			}
			p, err := parseDefault(f[1], DefaultCPUPeriod)
			r.CPUQuota, r.CPUPeriod = q, p
			return err
		},
	},
	{
		field: "CPUWeight", controller: "cpu",
		file:  map[Version]string{V1: "cpu.shares", V2: "cpu.weight"},
		isSet: func(r Resources) bool { return r.CPUWeight != 0 },
		values: func(ver Version, r Resources) []string {
			w := orDefault(r.CPUWeight, defaultWeight)
			if ver == V1 {
				return []string{itoa(sharesOf(w))}
			}
			return []string{itoa(w)}
		},
		parse: func(ver Version, s string, r *Resources) error {
			v, err := parseInt(s)
			if ver == V1 {
				v = weightOf(v)
			}
			if v == defaultWeight {
				v = 0
			}
			r.CPUWeight = v
			return err
		},
	},
	cpusetKnob("CpusetCpus", "cpuset.cpus", func(r Resources) string { return r.CpusetCpus }, func(r *Resources, v string) { r.CpusetCpus = v }),
	cpusetKnob("CpusetMems", "cpuset.mems", func(r Resources) string { return r.CpusetMems }, func(r *Resources, v string) { r.CpusetMems = v }),
	{
		field: "IOWeight", controller: "io", optional: true,
		file:  map[Version]string{V1: "blkio.bfq.weight", V2: "io.weight"},
		isSet: func(r Resources) bool { return r.IOWeight != 0 },
		values: func(_ Version, r Resources) []string {
			if r.IOWeight == 0 {
				return nil
			}
			return []string{itoa(r.IOWeight)}
		},
		parse: func(_ Version, s string, r *Resources) error {
			// "default 100" then per-device "MAJ:MIN N" lines (v2, and v1
			// on some kernels), or a bare "100" (v1 on others).
			first, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
			first = strings.TrimPrefix(first, "default ")
			v, err := parseInt(first)
			if v == defaultWeight {
				v = 0
			}
			r.IOWeight = v
			return err
		},
	},
	ioMaxKnob(ioMaxFields[0], "blkio.throttle.read_bps_device", true),
	ioMaxKnob(ioMaxFields[1], "blkio.throttle.write_bps_device", false),
	ioMaxKnob(ioMaxFields[2], "blkio.throttle.read_iops_device", false),
	ioMaxKnob(ioMaxFields[3], "blkio.throttle.write_iops_device", false),
}

// defaultWeight is the kernel's default cpu.weight and io.weight, and
// what 1024 cpu.shares stands for.
const defaultWeight = 100

// sharesOf converts a v2 weight (1..10000, default 100) to v1 cpu.shares
// linearly, so that the defaults meet: 100 -> 1024. (The other common
// conversion maps weight 100 to 2597 shares, making a container that sets
// nothing 2.5 times heavier than its default siblings on v1.) The range
// lands in 10..102400, inside the kernel's 2..262144.
func sharesOf(weight int64) int64 { return weight * 1024 / defaultWeight }

// weightOf inverts sharesOf: the smallest weight w with sharesOf(w) >=
// shares, which gives back exactly the weight sharesOf was given.
func weightOf(shares int64) int64 {
	return min(max((shares*defaultWeight+1023)/1024, 1), MaxWeight)
}

// limitKnob is a row for a plain int64 limit that has a file on both
// versions: the number, or "no limit" for 0 (-1 on v1 memory files, "max"
// elsewhere).
func limitKnob(field, controller, v1File, v2File string, optional bool, get func(Resources) int64, set func(*Resources, int64)) knob {
	unlimited := map[Version]string{V1: "max", V2: "max"}
	if strings.HasPrefix(v1File, "memory.") {
		unlimited[V1] = "-1"
	}
	return knob{
		field: field, controller: controller, optional: optional,
		file:  map[Version]string{V1: v1File, V2: v2File},
		isSet: func(r Resources) bool { return get(r) != 0 },
		values: func(ver Version, r Resources) []string {
			switch v := get(r); {
			case v != 0:
				return []string{itoa(v)}
			case optional:
				return nil
			}
			return []string{unlimited[ver]}
		},
		parse: func(_ Version, s string, r *Resources) error {
			v, err := parseLimit(s)
			set(r, v)
			return err
		},
	}
}

// cpusetKnob is a row for a cpuset list, which v1 inherits (inheritV1).
func cpusetKnob(field, file string, get func(Resources) string, set func(*Resources, string)) knob {
	return knob{
		field: field, controller: "cpuset", inheritV1: true,
		file:  map[Version]string{V1: file, V2: file},
		isSet: func(r Resources) bool { return get(r) != "" },
		values: func(_ Version, r Resources) []string {
			if get(r) == "" {
				return nil
			}
			return []string{get(r)}
		},
		parse: func(_ Version, s string, r *Resources) error {
			set(r, strings.TrimSpace(s))
			return nil
		},
	}
}

// ioField is one count of IOMax, by its io.max key.
type ioField struct {
	key string
	get func(IOMax) int64
	set func(*IOMax, int64)
}

// ioMaxFields are the keys of a v2 io.max line, in the kernel's order.
var ioMaxFields = []ioField{
	{"rbps", func(m IOMax) int64 { return m.RBps }, func(m *IOMax, v int64) { m.RBps = v }},
	{"wbps", func(m IOMax) int64 { return m.WBps }, func(m *IOMax, v int64) { m.WBps = v }},
	{"riops", func(m IOMax) int64 { return m.RIOps }, func(m *IOMax, v int64) { m.RIOps = v }},
	{"wiops", func(m IOMax) int64 { return m.WIOps }, func(m *IOMax, v int64) { m.WIOps = v }},
}

// ioMaxKnob is the row of one I/O count. v1 has a file per count ("MAJ:MIN
// N" per device); v2 has one file, io.max, for all four, which the row
// with carriesV2 writes: one line per device, "MAJ:MIN rbps=N wbps=N",
// naming only the counts that are limited.
func ioMaxKnob(count ioField, v1File string, carriesV2 bool) knob {
	get, set := count.get, count.set
	k := knob{
		field: "IOMax " + count.key, controller: "io", optional: true,
		file: map[Version]string{V1: v1File},
		isSet: func(r Resources) bool {
			return slices.ContainsFunc(r.IOMax, func(m IOMax) bool { return get(m) != 0 })
		},
		values: func(ver Version, r Resources) []string {
			var out []string
			for _, m := range r.IOMax {
				if ver == V1 {
					if get(m) != 0 {
						out = append(out, m.Device()+" "+itoa(get(m)))
					}
					continue
				}
				line := m.Device()
				for _, f := range ioMaxFields {
					if f.get(m) != 0 {
						line += " " + f.key + "=" + itoa(f.get(m))
					}
				}
				out = append(out, line)
			}
			return out
		},
		parse: func(ver Version, s string, r *Resources) error {
			for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
				f := strings.Fields(line)
				if len(f) == 0 {
					continue
				}
				m := ioMaxOf(r, f[0])
				if m == nil {
					return fmt.Errorf("bad device %q", f[0])
				}
				if ver == V1 {
					if len(f) != 2 {
						return fmt.Errorf("bad line %q", line)
					}
					v, err := parseLimit(f[1])
					if err != nil {
						return err
					}
					set(m, v)
					continue
				}
				for _, kv := range f[1:] {
					name, val, _ := strings.Cut(kv, "=")
					i := slices.IndexFunc(ioMaxFields, func(x ioField) bool { return x.key == name })
					if i < 0 {
						return fmt.Errorf("bad field %q", kv)
					}
					v, err := parseLimit(val)
					if err != nil {
						return err
					}
					ioMaxFields[i].set(m, v)
				}
			}
			// A device whose every count reads back unlimited (v2 keeps
			// such lines until the device goes) has no limit.
			r.IOMax = slices.DeleteFunc(r.IOMax, func(m IOMax) bool { return m == IOMax{Major: m.Major, Minor: m.Minor} })
			if len(r.IOMax) == 0 {
				r.IOMax = nil
			}
			return nil
		},
	}
	if carriesV2 {
		k.file[V2] = "io.max"
	}
	return k
}

// ioMaxOf returns r's entry for device "MAJ:MIN", adding it when new, or
// nil when dev is not a device number.
func ioMaxOf(r *Resources, dev string) *IOMax {
	ma, mi, ok := strings.Cut(dev, ":")
	major, err1 := strconv.ParseUint(ma, 10, 32)
	minor, err2 := strconv.ParseUint(mi, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return nil
	}
	for i := range r.IOMax {
		if r.IOMax[i].Major == uint32(major) && r.IOMax[i].Minor == uint32(minor) {
			return &r.IOMax[i]
		}
	}
	r.IOMax = append(r.IOMax, IOMax{Major: uint32(major), Minor: uint32(minor)})
	return &r.IOMax[len(r.IOMax)-1]
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// orDefault is v, or def when v is 0 (unset).
func orDefault(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}

// nearMaxInt64 is the smallest value read back from a limit file that
// still means "no limit": the kernel stores the largest page count and
// shows it in bytes, which is MaxInt64 rounded down to a page. 1 MiB of
// slack covers every page size.
const nearMaxInt64 = math.MaxInt64 - 1<<20

// parseLimit reads a limit as the kernel shows it: a number, or a "no
// limit" spelling ("max", -1, or the near-MaxInt64 of v1 memory files),
// which parses to 0.
func parseLimit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "max" || s == "-1" {
		return 0, nil
	}
	v, err := parseInt(s)
	if v >= nearMaxInt64 {
		return 0, err
	}
	return v, err
}

// parseDefault reads a number that parses to 0 when it is def.
func parseDefault(s string, def int64) (int64, error) {
	v, err := parseInt(s)
	if v == def {
		return 0, err
	}
	return v, err
}

func parseInt(s string) (int64, error) {
	s = strings.TrimSpace(s)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("unexpected value %q", s)
	}
	return v, nil
}

// limitKeys are the keys of minispawn's [limits] table that set each
// Resources field: messages name what the user wrote, not a Go field.
var limitKeys = map[string]string{
	"MemoryMax": "memory", "MemoryHigh": "memory_high", "MemorySwap": "memory_swap",
	"PidsMax": "pids", "CPUPeriod": "cpu_max", "CPUQuota": "cpu (or cpu_max)",
	"CPUWeight": "cpu_weight", "CpusetCpus": "cpuset_cpus", "CpusetMems": "cpuset_mems",
	"IOWeight": "io_weight",
}

// limitName is how messages name the limit a row applies: limits.io_weight,
// limits.io_max (rbps).
func (k knob) limitName() string {
	if count, ok := strings.CutPrefix(k.field, "IOMax "); ok {
		return "limits.io_max (" + count + ")"
	}
	if key, ok := limitKeys[k.field]; ok {
		return "limits." + key
	}
	return k.field
}
