package options

import (
	"strings"
	"testing"
)

// Every table entry survives a round trip, and the names that set flags
// come back as themselves.
func TestOptionsRoundTripEveryEntry(t *testing.T) {
	for _, o := range table {
		flags, data, err := Parse(o.name)
		if err != nil {
			t.Fatalf("Parse(%q): %v", o.name, err)
		}
		if data != "" {
			t.Errorf("Parse(%q): data %q, want none", o.name, data)
		}
		if flags != o.set {
			t.Errorf("Parse(%q) = %#x, want %#x", o.name, flags, o.set)
		}
		s := Format(flags, data)
		if o.set != 0 && s != o.name {
			t.Errorf("Format(Parse(%q)) = %q", o.name, s)
		}
		back, backData, err := Parse(s)
		if err != nil || back != flags || backData != data {
			t.Errorf("round trip of %q via %q: %#x %q %v", o.name, s, back, backData, err)
		}
	}
}

// Pairs and realistic sets round-trip too, with data kept in order.
func TestOptionsRoundTripCombinations(t *testing.T) {
	for _, a := range table {
		for _, b := range table {
			in := a.name + "," + b.name + ",size=64k,mode=755"
			flags, data, err := Parse(in)
			if err != nil {
				continue // refused combinations are tested separately
			}
			if data != "size=64k,mode=755" {
				t.Fatalf("Parse(%q) data = %q", in, data)
			}
			out := Format(flags, data)
			f2, d2, err := Parse(out)
			if err != nil || f2 != flags || d2 != data {
				t.Errorf("%q -> %#x -> %q -> %#x %q %v", in, flags, out, f2, d2, err)
			}
		}
	}
}

// Each name maps to the right kernel flag. Expected values are written
// out independently of the table, so a swapped row (rshared/rslave) fails.
func TestOptionsMapToKernelFlags(t *testing.T) {
	const (
		rdonly, nosuid, nodev, noexec = 0x1, 0x2, 0x4, 0x8
		bind, rec                     = 0x1000, 0x4000
		unbindable, private           = 0x20000, 0x40000
		slave, shared                 = 0x80000, 0x100000
	)
	want := map[string]uintptr{
		"ro": rdonly, "rw": 0, "nosuid": nosuid, "nodev": nodev, "noexec": noexec,
		"sync": 0x10, "remount": 0x20, "mand": 0x40, "dirsync": 0x80, "nosymfollow": 0x100,
		"noatime": 0x400, "nodiratime": 0x800, "bind": bind, "rbind": bind | rec,
		"move": 0x2000, "silent": 0x8000, "relatime": 0x200000, "strictatime": 0x1000000,
		"lazytime": 0x2000000,
		"private":  private, "rprivate": private | rec,
		"shared": shared, "rshared": shared | rec,
		"slave": slave, "rslave": slave | rec,
		"unbindable": unbindable, "runbindable": unbindable | rec,
		"suid": 0, "dev": 0, "exec": 0, "async": 0, "nomand": 0, "symfollow": 0,
		"atime": 0, "diratime": 0, "norelatime": 0, "nostrictatime": 0, "nolazytime": 0, "loud": 0,
	}
	for _, o := range table {
		w, ok := want[o.name]
		if !ok {
			t.Errorf("option %q has no expected value in this test", o.name)
			continue
		}
		if got, _, _ := Parse(o.name); got != w {
			t.Errorf("%q = %#x, want %#x", o.name, got, w)
		}
	}
	if len(want) != len(table) {
		t.Errorf("test expects %d options, table has %d", len(want), len(table))
	}
	// Negations clear what their positive set earlier in the string.
	for _, c := range []struct{ in string }{{"ro,rw"}, {"nosuid,suid"}, {"nodev,dev"}, {"noexec,exec"}, {"noatime,atime"}} {
		if f, _, _ := Parse(c.in); f != 0 {
			t.Errorf("%q = %#x, want 0", c.in, f)
		}
	}
}

func TestParseOptionsRefusesAmbiguity(t *testing.T) {
	for _, in := range []string{"bind,rslave", "rbind,slave", "private,shared", "rslave,rprivate"} {
		if _, _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) accepted an ambiguous set", in)
		}
	}
	for _, in := range []string{"rbind,rslave", "bind,slave", "slave,slave", "", "ro,,nosuid"} {
		if _, _, err := Parse(in); err != nil {
			t.Errorf("Parse(%q): %v", in, err)
		}
	}
}

func TestFormatOptionsShowsUnknownBits(t *testing.T) {
	got := Format(Rdonly|Rec|0x40000000, "")
	if !strings.HasPrefix(got, "ro,") || !strings.Contains(got, "0x40004000") {
		t.Errorf("Format hides bits: %q", got)
	}
}
