package config

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/minispawn/minispawn/mounts"
)

// TestMountsGood parses the [[mount]] fixture to the exact tables, and
// checks the plan step each becomes, as `minispawn check` prints it.
func TestMountsGood(t *testing.T) {
	const file = "testdata/mounts/good.toml"
	c, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	want := []Mount{
		{Type: "bind", Source: "/srv/data", Target: "/data", Options: []string{"ro", "noexec"}},
		{Type: "bind", Source: "/srv/tools", Target: "/opt/tools", Options: []string{"rbind", "rslave", "suid", "dev"}},
		{Type: "tmpfs", Target: "/tmp", Size: 64 << 20, Mode: 0o1777, Options: []string{"noexec", "nr_inodes=4k", "huge=never"}},
		{Type: "tmpfs", Target: "/var/cache/app"},
	}
	if !reflect.DeepEqual(c.Mounts, want) {
		t.Errorf("mounts:\n got %+v\nwant %+v", c.Mounts, want)
	}
	if !c.Rootfs.Overlay || c.Rootfs.Path != "/srv/root" {
		t.Errorf("rootfs: %+v", c.Rootfs)
	}
	steps := []string{
		"mount -o ro,nosuid,nodev,noexec,bind /srv/data /data",
		"mount -o rbind,rslave /srv/tools /opt/tools",
		"mount -t tmpfs -o nosuid,nodev,noexec,mode=1777,size=64M,nr_inodes=4k,huge=never tmpfs /tmp",
		"mount -t tmpfs -o nosuid,nodev tmpfs /var/cache/app",
	}
	for i, m := range c.Mounts {
		step := stepOf(&m)
		if err := step.Validate(); err != nil {
			t.Errorf("step %d invalid: %v", i+1, err)
		}
		if got := step.String(); got != steps[i] {
			t.Errorf("step %d: %q, want %q", i+1, got, steps[i])
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := agreesWithLibrary(file, data); err != nil {
		t.Errorf("library decoder: %v", err)
	}
}

// TestMountRules: one table per rule, each problem at its key.
func TestMountRules(t *testing.T) {
	const head = "name = \"m\"\nrootfs.path = \"/r\"\n[[workload]]\nname = \"w\"\ncommand = \"c\"\n[[mount]]\n"
	for _, c := range []struct {
		mount, want string
	}{
		{`type = "bind"` + "\n" + `source = "/s"` + "\n" + `target = "/t/../u"`, `9:1: ... target "/t/../u" is not clean`},
		{`type = "bind"` + "\n" + `source = "/s"` + "\n" + `target = "/proc"`, `9:1: ... is in /proc or /sys`},
		{`type = "bind"` + "\n" + `source = "/s"` + "\n" + `target = "/sysx"` + "\n" + `options = ["ro", "rbind"]`, `10:1: ... "ro" with "rbind"`},
		{`type = "tmpfs"` + "\n" + `target = "/t"` + "\n" + `options = ["nr_inodes=1q"]`, `9:12: ... option "nr_inodes=1q" has a bad value`},
		{`type = "tmpfs"` + "\n" + `target = "/t"` + "\n" + `options = ["gid="]`, `9:12: ... option "gid=" has a bad value`},
		{`type = "tmpfs"` + "\n" + `target = "/t"` + "\n" + `mode = "77777"`, `9:1: ... "77777" is not a mode`},
		{`type = "tmpfs"` + "\n" + `target = "/t"` + "\n" + `mode = ""`, `9:1: ... "" is not a mode`},
	} {
		doc := head + c.mount + "\n"
		_, err := Parse("t.toml", []byte(doc))
		pos, msg, _ := strings.Cut(c.want, " ... ")
		if err == nil || !strings.Contains(err.Error(), "t.toml:"+pos) || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s\ngot  %v\nwant %s", doc, err, c.want)
		}
	}
	// Targets below /dev, and /sysx or /procfs, are fine.
	for _, target := range []string{"/dev/shm", "/dev/x/y", "/sysx", "/procfs", "/data"} {
		doc := head + fmt.Sprintf("type = \"tmpfs\"\ntarget = %q\n", target)
		if _, err := Parse("t.toml", []byte(doc)); err != nil {
			t.Errorf("target %s: %v", target, err)
		}
	}
}

// TestMountOptionsTable: every option the table allows is a flag name the
// mounts table knows (no typo can turn one into filesystem data), and
// each, alone, passes the rules and reaches the step's flags and back.
func TestMountOptionsTable(t *testing.T) {
	for typ, names := range mountFlagsAllowed {
		for _, o := range names {
			flags, data, err := mounts.ParseOptions(o)
			if err != nil || data != "" {
				t.Errorf("%s: %q is not a mount flag name: %v, data %q", typ, o, err, data)
				continue
			}
			m := Mount{Type: typ, Source: "/s", Target: "/t", Options: []string{o}}
			if o == "rprivate" || o == "rslave" || o == "runbindable" {
				// Recursive propagation needs a recursive bind.
				m.Options = []string{"rbind", o}
			}
			if p := m.optionProblems(); len(p) > 0 {
				t.Errorf("%s: %q alone refused: %v", typ, o, p)
				continue
			}
			step := stepOf(&m)
			// The option's own bits are in the step: what it sets is
			// set, what it clears is clear.
			if flags != 0 && step.Flags&flags != flags {
				t.Errorf("%s %q: step flags %s lack it", typ, o, mounts.FormatOptions(step.Flags, ""))
			}
			back, _, _ := mounts.ParseOptions(mounts.FormatOptions(step.Flags, step.Data))
			if back != step.Flags {
				t.Errorf("%s %q: step flags %#x do not round-trip (%#x)", typ, o, step.Flags, back)
			}
		}
	}
	// "suid" and "dev" lift the defaults; "rw" after "ro" wins.
	m := Mount{Type: "tmpfs", Target: "/t", Options: []string{"suid", "dev", "ro", "rw"}}
	if got := stepOf(&m).String(); got != "mount -t tmpfs tmpfs /t" {
		t.Errorf("lifted defaults: %q", got)
	}
	for data := range tmpfsDataAllowed {
		if _, d, _ := mounts.ParseOptions(data + "=1"); d != data+"=1" {
			t.Errorf("tmpfs option %s is taken for a flag", data)
		}
	}
}

func TestModeRoundTrip(t *testing.T) {
	for v := Mode(0); v <= 0o7777; v++ {
		text, err := v.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Mode
		if err := back.UnmarshalText(text); err != nil || back != v {
			t.Fatalf("%o -> %q -> %o, %v", uint32(v), text, uint32(back), err)
		}
	}
	for _, s := range []string{"755", "0755", "01777", "0"} {
		var m Mode
		if err := m.UnmarshalText([]byte(s)); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
	}
	for _, s := range []string{"", "8", "0o755", "+755", "-1", "10000", "000000", "7 55", "0x1ff"} {
		var m Mode
		if err := m.UnmarshalText([]byte(s)); err == nil {
			t.Errorf("%q accepted as %o", s, uint32(m))
		}
	}
	if _, err := Mode(0o10000).MarshalText(); err == nil {
		t.Errorf("mode 10000 marshalled")
	}
}

// stepOf is the plan step minispawn makes of m (cmd/minispawn's
// mountStep), so the steps can be checked where the rules are.
func stepOf(m *Mount) mounts.Mount {
	source, fstype, flags, data := m.Args()
	return mounts.Mount{Source: source, Target: m.Target, FSType: fstype, Flags: flags, Data: data}
}
