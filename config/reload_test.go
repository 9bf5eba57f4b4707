package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

const reloadBase = `name = "shop"
[rootfs]
path = "/srv/shop"
[limits]
memory = "64M"
[init]
stop_budget = "8s"
signals = { SIGHUP = ["web"] }
[[workload]]
name = "web"
command = "/bin/web"
`

// TestRestartOnly: each edit a reload cannot apply is named by its key;
// the workloads, init.signals and init.log_overflow are applied, so they
// are not.
func TestRestartOnly(t *testing.T) {
	running, err := Parse("shop.toml", []byte(reloadBase))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		old, new string
		want     []string
	}{
		{`memory = "64M"`, `memory = "128M"`, []string{"limits"}},
		{`name = "shop"`, `name = "shop2"`, []string{"name", "hostname"}},
		{`name = "shop"`, "name = \"shop\"\nhostname = \"other\"", []string{"hostname"}},
		{`path = "/srv/shop"`, `path = "/srv/other"`, []string{"rootfs"}},
		{`stop_budget = "8s"`, `stop_budget = "9s"`, []string{"init.stop_budget"}},
		{`name = "shop"`, "name = \"shop\"\n[systemd]\nwatchdog = \"10s\"", []string{"systemd"}},
		{`name = "shop"`, "name = \"shop\"\n[security]\noom_score_adj = 100", []string{"security"}},
		{`name = "shop"`, "name = \"shop\"\n[[mount]]\ntype = \"tmpfs\"\ntarget = \"/scratch\"", []string{"mount"}},
		{`memory = "64M"`, "memory = \"128M\"\npids = 32", []string{"limits"}},
		// Applied by the reload: nothing to restart for.
		{`command = "/bin/web"`, `command = "/bin/web2"`, nil},
		{`SIGHUP = ["web"]`, `SIGUSR1 = ["web"]`, nil},
		{`stop_budget = "8s"`, "stop_budget = \"8s\"\nlog_overflow = \"drop\"", nil},
		{"", "", nil},
	} {
		text := strings.Replace(reloadBase, tc.old, tc.new, 1)
		edited, err := Parse("shop.toml", []byte(text))
		if err != nil {
			t.Fatalf("%q -> %q: %v", tc.old, tc.new, err)
		}
		if got := RestartOnly(running, edited); !slices.Equal(got, tc.want) {
			t.Errorf("%q -> %q: %q, want %q", tc.old, tc.new, got, tc.want)
		}
	}
}

// TestRestartOnlyCoversConfig: RestartOnly compares every part of Config
// but the workloads, which a reload applies; a new field must be added
// there (or here, if a reload applies it).
func TestRestartOnlyCoversConfig(t *testing.T) {
	var top, init []string
	for f := range reflect.TypeFor[Config]().Fields() {
		top = append(top, f.Name)
	}
	for f := range reflect.TypeFor[Init]().Fields() {
		init = append(init, f.Name)
	}
	wantTop := []string{"Name", "Hostname", "Rootfs", "Limits", "Security", "Init", "UserNS", "Workloads", "Mounts", "Systemd", "File"}
	wantInit := []string{"Grace", "Report", "StopBudget", "Control", "Signals", "LogOverflow"}
	if !slices.Equal(top, wantTop) || !slices.Equal(init, wantInit) {
		t.Errorf("Config has %q, Init %q: see what RestartOnly compares", top, init)
	}
}
