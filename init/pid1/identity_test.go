package pid1

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestResolveIdentity(t *testing.T) {
	dir := t.TempDir()
	passwd, group := filepath.Join(dir, "passwd"), filepath.Join(dir, "group")
	os.WriteFile(passwd, []byte("root:x:0:0:root:/root:/bin/sh\n# comment\nwww-data:x:33:33:www:/var/www:/usr/sbin/nologin\nbroken\n"), 0o644)
	os.WriteFile(group, []byte("root:x:0:\nwww-data:x:33:\nssl-cert:x:110:www-data,postgres\nadm:x:4:syslog,www-data\n"), 0o644)
	u := func(n uint32) *uint32 { return &n }
	tests := []struct {
		user, grp string
		groups    []string
		want      identity
		err       bool
	}{
		{"www-data", "", nil, identity{uid: u(33), gid: u(33), groups: []uint32{110, 4}, home: "/var/www"}, false},
		{"www-data", "ssl-cert", []string{}, identity{uid: u(33), gid: u(110), groups: nil, home: "/var/www"}, false},
		{"1000", "", nil, identity{uid: u(1000)}, false},
		{"33", "0", []string{"adm", "7"}, identity{uid: u(33), gid: u(0), groups: []uint32{4, 7}, home: "/var/www"}, false},
		{"", "adm", nil, identity{gid: u(4)}, false},
		{"nobody", "", nil, identity{}, true},
		{"", "nogroup", nil, identity{}, true},
		{"root", "", []string{"nope"}, identity{}, true},
	}
	for _, tt := range tests {
		got, err := resolveIdentity(passwd, group, tt.user, tt.grp, tt.groups)
		if (err != nil) != tt.err {
			t.Errorf("%q %q %q: error %v", tt.user, tt.grp, tt.groups, err)
			continue
		}
		if !tt.err && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q %q %q: got %+v, want %+v", tt.user, tt.grp, tt.groups, got, tt.want)
		}
	}
}
