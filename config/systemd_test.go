package config

import (
	"cmp"
	"strings"
	"testing"
	"time"
)

// withSystemdDefaults is what Parse fills into a [systemd] table that sets
// nothing (for the good fixtures' expectations).
func withSystemdDefaults(s Systemd) Systemd {
	s.Notify = cmp.Or(s.Notify, "workloads")
	if s.Watchdog.Duration == 0 {
		s.Watchdog.Duration = 30 * time.Second
	}
	s.Restart = cmp.Or(s.Restart, "on-failure")
	s.Cgroup = cmp.Or(s.Cgroup, "auto")
	s.Slice = cmp.Or(s.Slice, "machine.slice")
	return s
}

const systemdBase = `name = "svc"
[rootfs]
path = "/srv/svc"
[[workload]]
name = "app"
command = "/bin/app"
`

func TestSystemdKeys(t *testing.T) {
	c, err := Parse("svc.toml", []byte(systemdBase+`
[systemd]
notify = "started"
watchdog = "0s"
restart = "always"
register = true
cgroup = "cgroupfs"
slice = "machine-web.slice"
`))
	if err != nil {
		t.Fatal(err)
	}
	want := Systemd{Notify: NotifyStarted, Restart: "always", Register: true, Cgroup: CgroupCgroupfs, Slice: "machine-web.slice"}
	if c.Systemd != want {
		t.Errorf("got %+v, want %+v (watchdog \"0s\" stays off)", c.Systemd, want)
	}
	c, err = Parse("svc.toml", []byte(systemdBase))
	if err != nil {
		t.Fatal(err)
	}
	if want := withSystemdDefaults(Systemd{}); c.Systemd != want {
		t.Errorf("defaults: got %+v, want %+v", c.Systemd, want)
	}
}

func TestSystemdRejects(t *testing.T) {
	for _, tc := range []struct{ table, want string }{
		{`notify = "ready"`, `"ready" is not a notify mode (want "workloads", "started")`},
		{`restart = "on-failures"`, `is not a Restart= value`},
		{`cgroup = "v2"`, `is not a cgroup driver (want "auto", "systemd", "cgroupfs")`},
		{`watchdog = "500ms"`, `systemd: watchdog 500ms is too short: at least 1s, or "0s" for none`},
		{`watchdog = "-1s"`, `too short`},
		{`slice = "machine"`, `must end in ".slice"`},
		{`slice = "-a.slice"`, `is not a valid slice name`},
		{`slice = "a/b.slice"`, `has '/'`},
		{`register = "yes"`, `must be`},
	} {
		_, err := Parse("svc.toml", []byte(systemdBase+"[systemd]\n"+tc.table+"\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error with %q", tc.table, err, tc.want)
		} else if !strings.Contains(err.Error(), "svc.toml:8:") {
			t.Errorf("%s: error not at its line: %v", tc.table, err)
		}
	}
}
