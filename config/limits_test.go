package config

import (
	"strings"
	"testing"
)

// Each [limits] type reads what it writes: MarshalText then UnmarshalText
// gives the value back, and the accepted spellings parse to what they
// mean.
func TestCPUsText(t *testing.T) {
	for in, milli := range map[string]int64{
		"0.5": 500, "2": 2000, "1.25": 1250, "0.01": 10, "0.001": 1, "007": 7000, "3.000": 3000, "1048576": 1048576000,
	} {
		var c CPUs
		if err := c.UnmarshalText([]byte(in)); err != nil || c.Milli != milli {
			t.Errorf("%q: got %d, %v; want %d", in, c.Milli, err, milli)
			continue
		}
		out, _ := c.MarshalText()
		var back CPUs
		if err := back.UnmarshalText(out); err != nil || back != c {
			t.Errorf("%q: MarshalText gave %q, which reads back as %+v, %v", in, out, back, err)
		}
	}
	for _, bad := range []string{"", ".5", "1.", "0.0001", "-1", "+1", "1e3", "half", " 1", "1,5", "1048577"} {
		var c CPUs
		if err := c.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q accepted as %d", bad, c.Milli)
		}
	}
	if q := (CPUs{Milli: 200}).Quota(); q != 20000 {
		t.Errorf(`"0.2" is a quota of %d, want 20000`, q)
	}
}

func TestCPUMaxText(t *testing.T) {
	for in, want := range map[string]CPUMax{
		"50000 100000": {50000, 100000}, "20000": {20000, CPUPeriod}, " 1000  1000 ": {1000, 1000},
	} {
		var m CPUMax
		if err := m.UnmarshalText([]byte(in)); err != nil || m != want {
			t.Errorf("%q: got %+v, %v; want %+v", in, m, err, want)
			continue
		}
		out, _ := m.MarshalText()
		var back CPUMax
		if err := back.UnmarshalText(out); err != nil || back != m {
			t.Errorf("%q: MarshalText gave %q, which reads back as %+v, %v", in, out, back, err)
		}
	}
	for _, bad := range []string{"", "max", "max 100000", "1 2 3", "-5 100000", "5 -1", "0x10", "99999999999999999999"} {
		var m CPUMax
		if err := m.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q accepted as %+v", bad, m)
		}
	}
}

func TestIOMaxText(t *testing.T) {
	for in, want := range map[string]IOMax{
		"8:0 rbps=1M":                                    {Major: 8, RBps: 1 << 20},
		"254:16 wbps=512K riops=10 wiops=20":             {Major: 254, Minor: 16, WBps: 512 << 10, RIOps: 10, WIOps: 20},
		"259:0 rbps=1 wbps=2 riops=3 wiops=4":            {Major: 259, RBps: 1, WBps: 2, RIOps: 3, WIOps: 4},
		"8:0   wiops=100":                                {Major: 8, WIOps: 100},
		"4294967295:4294967295 rbps=9223372036854775807": {Major: 1<<32 - 1, Minor: 1<<32 - 1, RBps: 1<<63 - 1},
	} {
		var m IOMax
		if err := m.UnmarshalText([]byte(in)); err != nil || m != want {
			t.Errorf("%q: got %+v, %v; want %+v", in, m, err, want)
			continue
		}
		out, _ := m.MarshalText()
		var back IOMax
		if err := back.UnmarshalText(out); err != nil || back != m {
			t.Errorf("%q: MarshalText gave %q, which reads back as %+v, %v", in, out, back, err)
		}
	}
	for bad, why := range map[string]string{
		"8:0":                 "is not a device limit",
		"sda rbps=1M":         `"sda" is not MAJ:MIN`,
		"8:x rbps=1":          "is not MAJ:MIN",
		"8:0 speed=1":         `unknown limit "speed"`,
		"8:0 rbps=1 rbps=2":   "sets rbps twice",
		"8:0 rbps=1MB":        "rbps=1MB, not a size",
		"8:0 riops=1K":        "riops=1K, not a whole number",
		"8:0 wiops=-1":        "not a whole number",
		"8:0 rbps=0":          "rbps=0 (omit a count",
		"8:0 rbps":            "rbps=, not a size",
		"4294967296:0 rbps=1": "is not MAJ:MIN",
	} {
		var m IOMax
		err := m.UnmarshalText([]byte(bad))
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: got %+v, %v; want an error saying %q", bad, m, err, why)
		}
	}
}

func TestListProblem(t *testing.T) {
	for _, ok := range []string{"0", "0-1", "0,2-5,7", "3-3", "65535"} {
		if p := listProblem(ok); p != "" {
			t.Errorf("%q: %s", ok, p)
		}
	}
	for _, bad := range []string{"", "1,", ",1", "-1", "2-1", "0 - 1", "a", "1-", "0-70000", "+1", "1-+2"} {
		if listProblem(bad) == "" {
			t.Errorf("%q accepted", bad)
		}
	}
}
