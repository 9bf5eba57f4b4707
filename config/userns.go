package config

// Limits of the [userns] table.
const (
	// DefaultUserNSSize is userns.size when enabled and not set: the 16-bit
	// id space most root filesystems use, nobody (65534) included.
	DefaultUserNSSize = 65536
	// MaxUserNSSize bounds userns.size. 2^30 ids is far more than any root
	// filesystem uses, and leaves room to pick a base from the name.
	MaxUserNSSize = 1 << 30
	// MaxID is the highest valid uid and gid: (uid_t)-1, 4294967295,
	// means "no id" to the kernel and can never be mapped.
	MaxID = 1<<32 - 2
)

// checkUserNS applies the rules of [userns]: base and size only with
// enabled = true (a range that is silently unused would be a surprise);
// base at least 1, because base 0 maps root inside to root outside, which
// is what the table exists to prevent; the whole range within valid ids.
func checkUserNS(r *reporter, c *Config) {
	p := root.key("userns")
	u := &c.UserNS
	hasBase, hasSize := r.defined(p.key("base")), r.defined(p.key("size"))
	if !u.Enabled {
		if r.anyBad(p.key("enabled")) {
			return // "enabled must be true or false" says it all
		}
		for _, k := range []struct {
			key     string
			defined bool
		}{{"base", hasBase}, {"size", hasSize}} {
			if k.defined {
				r.errorf(p.key(k.key), "userns: %s has no effect without enabled = true", k.key)
			}
		}
		return
	}
	baseOK, sizeOK := true, true
	if hasBase && (u.Base < 1 || u.Base > MaxID) {
		r.errorf(p.key("base"), "userns: base %d is out of range: 1 to %d (0 would map root inside to root outside; omit base to pick one from the name)", u.Base, int64(MaxID))
		baseOK = false
	}
	if hasSize && (u.Size < 1 || u.Size > MaxUserNSSize) {
		r.errorf(p.key("size"), "userns: size %d is out of range: 1 to %d (omit it for %d)", u.Size, MaxUserNSSize, DefaultUserNSSize)
		sizeOK = false
	}
	size := u.Size
	if !hasSize {
		size = DefaultUserNSSize
	}
	if hasBase && baseOK && sizeOK && u.Base+size-1 > MaxID {
		r.errorf(p.key("base"), "userns: base %d with size %d ends at %d, past the highest id %d", u.Base, size, u.Base+size-1, int64(MaxID))
	}
}
