package config

import (
	"fmt"
	"strings"
	"testing"
)

// TestUserNSBounds pins the edges of [userns]: the smallest and largest
// accepted base and size, and the first value past each.
func TestUserNSBounds(t *testing.T) {
	for _, tc := range []struct {
		table   string
		wantErr string // "" means accepted
	}{
		{"enabled = true", ""},
		{"enabled = false", ""},
		{"enabled = true\nbase = 1\nsize = 1", ""},
		{fmt.Sprintf("enabled = true\nbase = %d\nsize = 1", MaxID), ""},
		{fmt.Sprintf("enabled = true\nbase = %d\nsize = 2", MaxID), "past the highest id"},
		{fmt.Sprintf("enabled = true\nbase = %d", MaxID-DefaultUserNSSize+1), ""},
		{fmt.Sprintf("enabled = true\nbase = %d", MaxID-DefaultUserNSSize+2), "with size 65536 ends at 4294967295"},
		{fmt.Sprintf("enabled = true\nbase = %d", MaxID+1), "base 4294967295 is out of range"},
		{"enabled = true\nbase = -1", "base -1 is out of range"},
		{fmt.Sprintf("enabled = true\nsize = %d", MaxUserNSSize), ""},
		{fmt.Sprintf("enabled = true\nsize = %d", MaxUserNSSize+1), "size 1073741825 is out of range"},
		{"enabled = true\nsize = -5", "size -5 is out of range"},
		{"size = 10", "size has no effect without enabled = true"},
	} {
		doc := "name = \"u\"\nrootfs.path = \"/r\"\n[[workload]]\nname = \"w\"\ncommand = \"/w\"\n[userns]\n" + tc.table + "\n"
		c, err := Parse("u.toml", []byte(doc))
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%q: rejected: %v", tc.table, err)
		case tc.wantErr != "" && err == nil:
			t.Errorf("%q: accepted, want an error with %q", tc.table, tc.wantErr)
		case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
			t.Errorf("%q: error %q, want %q", tc.table, err, tc.wantErr)
		case err == nil && c.UserNS.Enabled && (c.UserNS.Size < 1 || c.UserNS.Size > MaxUserNSSize):
			t.Errorf("%q: accepted with size %d", tc.table, c.UserNS.Size)
		case err == nil && !c.UserNS.Enabled && c.UserNS != (UserNS{}):
			t.Errorf("%q: disabled but defaulted to %+v", tc.table, c.UserNS)
		}
	}
}
