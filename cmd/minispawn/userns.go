package main

import (
	"fmt"
	"hash/fnv"

	"github.com/minispawn/minispawn/config"
)

// The range bases are picked from: the block of ids Linux distributions
// leave to containers (above the 16-bit ids host users and groups get,
// below 0x70000000), cut into slots aligned to 65536 so a container's ids
// read as base+N in hex.
const (
	pickFirst = 0x00080000 // 524288
	pickEnd   = 0x70000000 // 1879048192, not included
	pickAlign = 0x10000    // 65536
)

// IDMapping is a container's user namespace: uid and gid N inside, for
// 0 <= N < Size, are Base+N on the host. Root inside is Base outside, an
// unprivileged id with no rights over the host's files.
type IDMapping struct {
	Base uint32
	Size uint32
	// Picked says Base was derived from the container's name rather than
	// written in the configuration.
	Picked bool
}

// newIDMapping turns a validated [userns] table into a mapping; nil when
// the table is off. An unset base is picked from the container's name.
func newIDMapping(u config.UserNS, name string) *IDMapping {
	if !u.Enabled {
		return nil
	}
	size := uint32(u.Size)
	if size == 0 { // a Config that did not go through Parse
		size = config.DefaultUserNSSize
	}
	if u.Base != 0 {
		return &IDMapping{Base: uint32(u.Base), Size: size}
	}
	return &IDMapping{Base: pickBase(name, size), Size: size, Picked: true}
}

// pickBase derives a base from the container's name: the same name gets
// the same range every time, so files a container leaves in a host
// directory keep their owner from one run to the next, and different
// names spread over the slots. A slot is size rounded up to 65536, so the
// range never crosses into the next slot; sizes above the whole pick
// block (config caps size well below it) get its first slot.
//
// Two names can still land on the same slot (1 in 28664 for two
// containers of 65536 ids); a range that must be exclusive is written as
// userns.base.
func pickBase(name string, size uint32) uint32 {
	slot := (uint64(size) + pickAlign - 1) / pickAlign * pickAlign
	if slot == 0 {
		slot = pickAlign
	}
	slots := (pickEnd - pickFirst) / slot
	if slots == 0 {
		return pickFirst
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	return uint32(pickFirst + h.Sum64()%slots*slot)
}

// Last is the highest host id of the range.
func (m *IDMapping) Last() uint32 { return m.Base + m.Size - 1 }

// Outside returns the host id of id inside, and whether id is mapped.
func (m *IDMapping) Outside(id uint32) (uint32, bool) {
	if id >= m.Size {
		return 0, false
	}
	return m.Base + id, true
}

// String reads like "0-65535 inside = 524288-589823 outside (base
// 0x80000, picked from the name)".
func (m *IDMapping) String() string {
	how := "set in the configuration"
	if m.Picked {
		how = "picked from the name"
	}
	return fmt.Sprintf("0-%d inside = %d-%d outside (base %#x, %s)", m.Size-1, m.Base, m.Last(), m.Base, how)
}

// planLines are the plan's lines for the user namespace: the mapping, as
// part of step 2, and how the root filesystem's ownership is handled, as
// part of step 4.
func (m *IDMapping) planLines(root RootPlan) (ns, rootLine string) {
	ns = fmt.Sprintf("2a. user namespace: uid and gid %s; root inside is uid %d on the host, "+
		"with no supplementary groups; the other namespaces belong to it", m, m.Base)
	switch {
	case root.Dir == "" && !root.Cache:
		rootLine = fmt.Sprintf("4a. the tmpfs root is made inside the user namespace: its files belong to root inside (uid %d outside)", m.Base)
	case root.Overlay:
		rootLine = fmt.Sprintf("4a. the overlay's lower layer is an idmapped copy of %s's top mount "+
			"(open_tree, mount_setattr MOUNT_ATTR_IDMAP) moved onto %s, where the overlay's tmpfs then covers it: "+
			"files owned by host id N show as N inside", root.Dir, stagingDir)
	default:
		rootLine = fmt.Sprintf("4a. instead of a bind, the root is an idmapped copy of its mount tree "+
			"(open_tree, mount_setattr MOUNT_ATTR_IDMAP) moved onto %s: its files owned by host id N show as N inside; "+
			"mounts below it come along unmapped, their host-owned files show as %d (nobody) inside", stagingDir, overflowID)
	}
	return ns, rootLine
}

// overflowID is what the kernel shows for an id that has no mapping in
// the viewer's user namespace (/proc/sys/kernel/overflowuid, 65534 unless
// changed).
const overflowID = 65534

// searchableBy reports whether a directory with permission bits mode,
// owned by uid:gid, may be searched by host id id acting as both uid and
// gid with no supplementary groups: the credentials of root inside a
// container, seen from the host. The owner class decides when it matches,
// then the group class, then others, as the kernel does without ACLs.
func searchableBy(mode, uid, gid, id uint32) bool {
	switch {
	case uid == id:
		return mode&0o100 != 0
	case gid == id:
		return mode&0o010 != 0
	}
	return mode&0o001 != 0
}
