package config

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestByteSizeUnmarshal(t *testing.T) {
	good := map[string]ByteSize{
		"0":                   0,
		"1":                   1,
		"1023":                1023,
		"1K":                  1 << 10,
		"512M":                512 << 20,
		"1G":                  1 << 30,
		"2T":                  2 << 40,
		"007K":                7 << 10,
		"8388607T":            8388607 << 40,
		"9223372036854775807": math.MaxInt64,
	}
	for in, want := range good {
		var b ByteSize
		if err := b.UnmarshalText([]byte(in)); err != nil || b != want {
			t.Errorf("%q: got %d, %v; want %d", in, b, err, want)
		}
	}
	bad := map[string]string{
		"":                    "is not a size",
		"K":                   "is not a size",
		"1k":                  "is not a size", // suffixes are upper case
		"1KB":                 "is not a size",
		"1KiB":                "is not a size",
		"1.5G":                "is not a size",
		"-1":                  "is not a size",
		"+1":                  "is not a size",
		" 1":                  "is not a size",
		"1 K":                 "is not a size",
		"0x10":                "is not a size",
		"1_000":               "is not a size",
		"8388608T":            "too large",
		"9223372036854775808": "too large",
	}
	for in, want := range bad {
		var b ByteSize
		err := b.UnmarshalText([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %d, %v; want an error with %q", in, b, err, want)
		}
	}
}

// TestByteSizeRoundTrip: the suffix table read both ways gives back the
// value, for every suffix and the values around each boundary.
func TestByteSizeRoundTrip(t *testing.T) {
	var sizes []ByteSize
	for _, u := range sizeUnits {
		for _, n := range []int64{1, 3, 1023, 1024} {
			sizes = append(sizes, ByteSize(n*u.bytes), ByteSize(n*u.bytes+1), ByteSize(n*u.bytes-1))
		}
	}
	sizes = append(sizes, 0, math.MaxInt64)
	for _, b := range sizes {
		text, err := b.MarshalText()
		if err != nil {
			t.Fatalf("%d: %v", b, err)
		}
		var back ByteSize
		if err := back.UnmarshalText(text); err != nil || back != b {
			t.Errorf("%d -> %q -> %d, %v", b, text, back, err)
		}
	}
	for b, want := range map[ByteSize]string{0: "0", 1023: "1023", 1024: "1K", 1536: "1536", 256 << 20: "256M", 1 << 40: "1T", 1 << 50: "1024T"} {
		if text, _ := b.MarshalText(); string(text) != want {
			t.Errorf("%d: got %q, want %q", b, text, want)
		}
	}
	if _, err := ByteSize(-1).MarshalText(); err == nil {
		t.Errorf("MarshalText of a negative size succeeded")
	}
}

func TestDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"5s": 5 * time.Second, "1m30s": 90 * time.Second, "250ms": 250 * time.Millisecond, "-1s": -time.Second, "0": 0} {
		var d Duration
		if err := d.UnmarshalText([]byte(in)); err != nil || d.Duration != want {
			t.Errorf("%q: got %v, %v; want %v", in, d, err, want)
		}
		text, _ := d.MarshalText()
		var back Duration
		if err := back.UnmarshalText(text); err != nil || back != d {
			t.Errorf("%v -> %q -> %v, %v", d, text, back, err)
		}
	}
	for _, in := range []string{"", "5", "5 s", "five seconds", "1d"} {
		var d Duration
		if err := d.UnmarshalText([]byte(in)); err == nil || !strings.Contains(err.Error(), "is not a duration") {
			t.Errorf("%q: got %v, %v; want an error", in, d, err)
		}
	}
}
