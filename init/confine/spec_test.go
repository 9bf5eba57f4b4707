package confine

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCapabilityTableRoundTrip(t *testing.T) {
	names := CapabilityNames()
	if len(names) != unix.CAP_LAST_CAP+1 {
		t.Fatalf("%d names, want %d (0..unix.CAP_LAST_CAP)", len(names), unix.CAP_LAST_CAP+1)
	}
	seen := map[string]bool{}
	for n, name := range names {
		if name == "" || seen[name] {
			t.Fatalf("capability %d: empty or duplicate name %q", n, name)
		}
		seen[name] = true
		for _, spelling := range []string{name, strings.ToLower(name), strings.TrimPrefix(name, "CAP_"), strings.ToLower(strings.TrimPrefix(name, "CAP_"))} {
			got, err := ParseCapability(spelling)
			if err != nil || got != n {
				t.Errorf("ParseCapability(%q) = %d, %v; want %d", spelling, got, err, n)
			}
		}
		if capName(n) != name {
			t.Errorf("capName(%d) = %q, want %q", n, capName(n), name)
		}
		if got := capSetOf(n).Names(); len(got) != 1 || got[0] != name {
			t.Errorf("capSetOf(%d).Names() = %v", n, got)
		}
	}
	// Spot checks against the kernel's numbering.
	for name, n := range map[string]int{"CAP_CHOWN": 0, "CAP_SYS_ADMIN": 21, "CAP_MKNOD": 27, "CAP_CHECKPOINT_RESTORE": 40} {
		if got, _ := ParseCapability(name); got != n {
			t.Errorf("%s = %d, want %d", name, got, n)
		}
	}
}

func TestParseCapabilityUnknown(t *testing.T) {
	_, err := ParseCapability("CAP_SYS_GOD")
	if err == nil {
		t.Fatal("accepted CAP_SYS_GOD")
	}
	for _, want := range []string{`"CAP_SYS_GOD"`, "valid: CAP_CHOWN, CAP_DAC_OVERRIDE", "CAP_CHECKPOINT_RESTORE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestDefaultCapabilitySet(t *testing.T) {
	want := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
		"CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"}
	if got := DefaultCapabilities(); !reflect.DeepEqual(got, want) {
		t.Fatalf("DefaultCapabilities() = %v, want %v", got, want)
	}
	set := Spec{}.keep()
	for _, c := range []int{unix.CAP_SYS_ADMIN, unix.CAP_MKNOD, unix.CAP_SYS_MODULE, unix.CAP_SYS_RAWIO, unix.CAP_SYS_PTRACE, unix.CAP_NET_ADMIN} {
		if set.has(c) {
			t.Errorf("default set keeps %s", capName(c))
		}
	}
	if (Spec{Capabilities: []string{}}).keep() != 0 {
		t.Error("an empty, non-nil list keeps something")
	}
	if got := (Spec{Capabilities: []string{"chown", "CAP_KILL"}}).keep(); got != capSetOf(unix.CAP_CHOWN, unix.CAP_KILL) {
		t.Errorf("keep of chown, CAP_KILL = %s", got)
	}
}

func TestCapSetString(t *testing.T) {
	// /proc/self/status prints CapBnd like this for the default set:
	// Docker's a80425fb less CAP_MKNOD (1<<27).
	if got := capSetOf(defaultCaps...).String(); got != "00000000800405fb" {
		t.Errorf("default set prints %s", got)
	}
	if upTo(40).String() != "000001ffffffffff" || upTo(63) != ^capSet(0) {
		t.Errorf("upTo: %s, %s", upTo(40), upTo(63))
	}
}

func TestRlimitTableRoundTrip(t *testing.T) {
	names := RlimitNames()
	if len(names) != 16 {
		t.Fatalf("%d rlimit names, want the 16 Linux has: %v", len(names), names)
	}
	seen := map[int]string{}
	for _, name := range names {
		for _, spelling := range []string{name, "RLIMIT_" + strings.ToUpper(name), strings.ToUpper(name)} {
			r, err := ParseRlimit(spelling)
			if err != nil {
				t.Fatalf("ParseRlimit(%q): %v", spelling, err)
			}
			if rlimitName(r) != name {
				t.Errorf("rlimitName(ParseRlimit(%q)) = %q", spelling, rlimitName(r))
			}
		}
		r, _ := ParseRlimit(name)
		if other, dup := seen[r]; dup {
			t.Errorf("%s and %s are both resource %d", name, other, r)
		}
		seen[r] = name
	}
	if r, _ := ParseRlimit("nofile"); r != unix.RLIMIT_NOFILE {
		t.Errorf("nofile = %d", r)
	}
	_, err := ParseRlimit("files")
	if err == nil || !strings.Contains(err.Error(), "valid: as, core, cpu") {
		t.Errorf("ParseRlimit(files): %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestSpecValidate(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default(): %v", err)
	}
	if err := (Spec{}).Validate(); err != nil {
		t.Fatalf("zero Spec: %v", err)
	}
	for _, c := range []struct {
		what string
		spec Spec
		want []string
	}{
		{"unknown cap", Spec{Capabilities: []string{"CAP_CHOWN", "CAP_FLY"}}, []string{`capabilities: unknown capability "CAP_FLY"`, "valid: CAP_CHOWN"}},
		{"all and a list", Spec{AllCapabilities: true, Capabilities: []string{}}, []string{"exclude each other"}},
		{"unknown rlimit", Spec{Rlimits: map[string]Rlimit{"files": {1, 2}}}, []string{`rlimits: unknown rlimit "files"`, "valid: as, core"}},
		{"soft above hard", Spec{Rlimits: map[string]Rlimit{"nofile": {2048, 1024}}}, []string{"nofile: soft limit 2048 above hard limit 1024"}},
		{"oom", Spec{OOMScoreAdj: ptr(1001)}, []string{"oom_score_adj 1001"}},
		{"uid -1", Spec{UID: ptr(^uint32(0))}, []string{"uid 4294967295"}},
		{"gid -1", Spec{GID: ptr(^uint32(0))}, []string{"gid 4294967295"}},
		{"umask", Spec{Umask: ptr(uint32(0o1777))}, []string{"umask 01777"}},
		{"seccomp", Spec{Seccomp: &SeccompProfile{Name: "x", Rules: []SeccompRule{{Syscalls: []string{"mout"}, Action: ActAllow}}}}, []string{`seccomp profile "x"`}},
		{"several at once", Spec{Capabilities: []string{"X"}, Rlimits: map[string]Rlimit{"y": {}}}, []string{`"X"`, `"y"`}},
	} {
		err := c.spec.Validate()
		if err == nil {
			t.Errorf("%s: no error", c.what)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.what, err, w)
			}
		}
	}
}

func TestSpecString(t *testing.T) {
	s := Default()
	s.UID, s.GID, s.Groups = ptr(uint32(65534)), ptr(uint32(65534)), []uint32{27, 100}
	s.Umask = ptr(uint32(0o027))
	s.OOMScoreAdj = ptr(500)
	s.Rlimits = map[string]Rlimit{"nofile": {1024, 4096}, "core": {0, Unlimited}}
	got := s.String()
	want := ` 1. umask 0027
 2. rlimit core: soft 0, hard unlimited
 3. rlimit nofile: soft 1024, hard 4096
 4. oom_score_adj 500
 5. capabilities: drop all but the default set: CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID CAP_KILL CAP_NET_BIND_SERVICE CAP_SETFCAP CAP_SETGID CAP_SETPCAP CAP_SETUID CAP_SYS_CHROOT
 6. supplementary groups: 27 100
 7. gid 65534
 8. uid 65534
 9. effective and permitted capabilities = bounding set; inheritable and ambient cleared
10. no_new_privs on
11. seccomp ` + DefaultSeccomp().Summary() + "\n"
	if got != want {
		t.Errorf("String():\n%s\nwant:\n%s", got, want)
	}

	// Without no_new_privs the filter moves before the drop.
	early := Spec{Seccomp: DefaultSeccomp(), Capabilities: []string{}}.Plan()
	if !strings.HasPrefix(early[3], "seccomp default (") || !strings.Contains(early[3], "before the capability drop") || early[4] != "capabilities: drop all" {
		t.Errorf("plan without no_new_privs: %q", early)
	}
	if last := early[len(early)-1]; last != "no_new_privs off" {
		t.Errorf("plan without no_new_privs ends with %q", last)
	}
	zero := Spec{AllCapabilities: true}.Plan()
	for _, w := range []string{"umask unchanged", "rlimits unchanged", "capabilities: keep all", "supplementary groups: none", "uid unchanged", "seccomp off"} {
		if !strings.Contains(strings.Join(zero, "\n"), w) {
			t.Errorf("plan %q lacks %q", zero, w)
		}
	}
}

// TestSpecJSONRoundTrip: a Spec travels between processes (minispawn's
// plan) as JSON.
func TestSpecJSONRoundTrip(t *testing.T) {
	s := Default()
	s.UID, s.Groups, s.Rlimits = ptr(uint32(7)), []uint32{1, 2}, map[string]Rlimit{"nofile": {1, Unlimited}}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Spec
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Fatalf("round trip changed the spec:\n%s\n%s", s, back)
	}
}
