package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/minispawn/minispawn/config"
)

// TestPickBase: a picked base is a pure function of the name, aligned to
// 65536 (or to the size rounded up to it), inside the pick block with the
// whole range, and names spread over the slots.
func TestPickBase(t *testing.T) {
	for _, size := range []uint32{1, 65536, 65537, 1 << 20, config.MaxUserNSSize} {
		slot := uint64(size+pickAlign-1) / pickAlign * pickAlign
		seen := map[uint32]bool{}
		const names = 2000
		for i := range names {
			name := fmt.Sprintf("web-%d", i)
			b := pickBase(name, size)
			if b != pickBase(name, size) {
				t.Fatalf("size %d: %s picked two bases", size, name)
			}
			if b < pickFirst || uint64(b)+uint64(size) > pickEnd {
				t.Errorf("size %d: %s: range %d+%d leaves [%d, %d)", size, name, b, size, pickFirst, pickEnd)
			}
			if (uint64(b)-pickFirst)%slot != 0 {
				t.Errorf("size %d: %s: base %#x not on a %#x slot", size, name, b, slot)
			}
			seen[b] = true
		}
		// A uniform hash fills slots*(1-(1-1/slots)^names) slots on
		// average (1933 of 28664 slots of 65536 for 2000 names); a bad
		// one puts many more names together.
		slots := float64((pickEnd - pickFirst) / slot)
		expect := slots * (1 - math.Pow(1-1/slots, names))
		if float64(len(seen)) < 0.95*expect {
			t.Errorf("size %d: %d names got only %d distinct bases (a uniform pick gives %.0f)", size, names, len(seen), expect)
		}
	}
	if pickBase("a", 65536) == pickBase("b", 65536) {
		t.Errorf("names a and b share a base") // holds for FNV-1a; pins the hash
	}
}

// TestIDMapping: the table becomes a mapping (or none), Outside maps ids
// inside the range only, and String says where the base came from.
func TestIDMapping(t *testing.T) {
	if m := newIDMapping(config.UserNS{}, "x"); m != nil {
		t.Errorf("disabled table gave %v", m)
	}
	m := newIDMapping(config.UserNS{Enabled: true, Base: 1879048192, Size: 65536}, "x")
	if *m != (IDMapping{Base: 1879048192, Size: 65536}) {
		t.Fatalf("explicit base: %+v", *m)
	}
	if got, want := m.String(), "0-65535 inside = 1879048192-1879113727 outside (base 0x70000000, set in the configuration)"; got != want {
		t.Errorf("String() = %q\nwant       %q", got, want)
	}
	for _, tc := range []struct {
		in, out uint32
		ok      bool
	}{{0, 1879048192, true}, {65534, 1879113726, true}, {65535, 1879113727, true}, {65536, 0, false}} {
		if out, ok := m.Outside(tc.in); out != tc.out || ok != tc.ok {
			t.Errorf("Outside(%d) = %d, %v; want %d, %v", tc.in, out, ok, tc.out, tc.ok)
		}
	}

	p := newIDMapping(config.UserNS{Enabled: true, Size: 1}, "web")
	if !p.Picked || p.Size != 1 || p.Base != pickBase("web", 1) || p.Last() != p.Base {
		t.Errorf("picked: %+v", *p)
	}
	want := fmt.Sprintf("0-0 inside = %d-%d outside (base %#x, picked from the name)", p.Base, p.Base, p.Base)
	if p.String() != want {
		t.Errorf("String() = %q, want %q", p.String(), want)
	}
	// A Config built by hand, not by Parse, has no size: the default.
	if d := newIDMapping(config.UserNS{Enabled: true}, "web"); d.Size != config.DefaultUserNSSize {
		t.Errorf("no size gave %d", d.Size)
	}
}

// TestPlanWithUserNS: the plan adds the user namespace to the clone and
// prints the mapping and how the root's ownership is handled, for each
// kind of root.
func TestPlanWithUserNS(t *testing.T) {
	for _, tc := range []struct {
		rootfs config.Rootfs
		want   string
	}{
		{config.Rootfs{Build: []string{"/bin/sh"}}, "4a. the tmpfs root is made inside the user namespace"},
		{config.Rootfs{Build: []string{"/bin/sh"}, Cache: "/var/cache/x"}, "4a. instead of a bind, the root is an idmapped copy"},
		{config.Rootfs{Path: "/srv/root", Overlay: true}, "4a. the overlay's lower layer is an idmapped copy of /srv/root's top mount"},
		{config.Rootfs{Path: "/srv/root"}, "4a. instead of a bind, the root is an idmapped copy of its mount tree (open_tree, mount_setattr MOUNT_ATTR_IDMAP) moved onto /run/minispawn"},
	} {
		c := &config.Config{Name: "web", Hostname: "web", File: "web.toml", Rootfs: tc.rootfs,
			UserNS: config.UserNS{Enabled: true, Size: 65536}}
		p := newPlan(c, nil, "/usr/sbin/miniinit")
		if !slices.Contains(p.Namespaces, "user") {
			t.Errorf("namespaces %v: no user namespace", p.Namespaces)
		}
		s := p.String()
		for _, w := range []string{
			"2. namespaces: pid mount uts ipc net cgroup user\n",
			"2a. user namespace: uid and gid " + p.UserNS.String() + "; root inside is uid " + fmt.Sprint(p.UserNS.Base) + " on the host",
			tc.want,
		} {
			if !strings.Contains(s, w) {
				t.Errorf("%+v: plan lacks %q:\n%s", tc.rootfs, w, s)
			}
		}
		// The step lines stay in order.
		if i, j := strings.Index(s, "\n4. root"), strings.Index(s, "\n4a. "); i < 0 || j < i || strings.Index(s, "\n5. ") < j {
			t.Errorf("4a is not between 4 and 5:\n%s", s)
		}
	}
	c := &config.Config{Name: "web", Hostname: "web", Rootfs: config.Rootfs{Path: "/r"}}
	if p := newPlan(c, nil, "/m"); p.UserNS != nil || slices.Contains(p.Namespaces, "user") || strings.Contains(p.String(), "user namespace") {
		t.Errorf("no [userns], yet: %v\n%s", p.UserNS, p.String())
	}
}

// TestSearchableBy: the class that matches decides, as in the kernel: an
// owner without x is refused even when others have it.
func TestSearchableBy(t *testing.T) {
	const id = 524288
	for _, tc := range []struct {
		mode, uid, gid uint32
		want           bool
	}{
		{0o755, 0, 0, true},
		{0o711, 0, 0, true},
		{0o700, 0, 0, false},
		{0o770, 0, 0, false},
		{0o700, id, 0, true},
		{0o607, id, 0, false}, // owner class matches and has no x
		{0o070, 0, id, true},
		{0o707, 0, id, false}, // group class matches and has no x
		{0o001, 1000, 1000, true},
	} {
		if got := searchableBy(tc.mode, tc.uid, tc.gid, id); got != tc.want {
			t.Errorf("searchableBy(%04o, %d:%d) = %v, want %v", tc.mode, tc.uid, tc.gid, got, tc.want)
		}
	}
}
