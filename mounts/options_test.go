package mounts

import (
	"strings"
	"testing"
)

// The table and its round-trip tests live in package options; this checks
// that the names here reach it, both ways, with this package's flags.
func TestOptionsWrappers(t *testing.T) {
	flags, data, err := ParseOptions("ro,nosuid,rbind,rslave,size=64k")
	if err != nil || flags != msRdonly|msNosuid|msBind|msSlave|msRec || data != "size=64k" {
		t.Fatalf("ParseOptions: %#x %q %v", flags, data, err)
	}
	if got := FormatOptions(flags, data); got != "ro,nosuid,rbind,rslave,size=64k" {
		t.Errorf("FormatOptions: %q", got)
	}
	if _, _, err := ParseOptions("bind,rslave"); err == nil {
		t.Error("ParseOptions accepted bind,rslave")
	}
	got := FormatOptions(msRdonly|msRec|0x40000000, "")
	if !strings.HasPrefix(got, "ro,") || !strings.Contains(got, "0x40004000") {
		t.Errorf("FormatOptions hides bits: %q", got)
	}
}
