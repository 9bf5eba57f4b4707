package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/minispawn/minispawn/config"
	"github.com/minispawn/minispawn/init/roottest"
)

var updateUnits = flag.Bool("update-units", false, "rewrite testdata/unit/*.service from the current output")

const goldenExe = "/usr/local/bin/minispawn"

// goldenUnit renders the unit of testdata/unit/NAME.toml as if the file
// were /etc/minispawn/NAME.toml.
func goldenUnit(t *testing.T, file string) ([]byte, *config.Config) {
	t.Helper()
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	base := strings.TrimSuffix(filepath.Base(file), ".toml")
	if err := writeUnit(&b, cfg, goldenExe, "/etc/minispawn/"+base+".toml"); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), cfg
}

// TestUnitGolden: `minispawn unit` prints exactly the reviewed units in
// testdata/unit (go test -run UnitGolden -update-units to rewrite them,
// then read the diff).
func TestUnitGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/unit/*.toml")
	if len(files) == 0 {
		t.Fatal("no fixtures in testdata/unit")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			got, _ := goldenUnit(t, file)
			golden := strings.TrimSuffix(file, ".toml") + ".service"
			if *updateUnits {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update-units to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("unit differs from %s\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// TestUnitParsesBack: the printed unit reads back (go-systemd's parser)
// into the same options, header comment aside.
func TestUnitParsesBack(t *testing.T) {
	for _, file := range []string{"testdata/unit/minimal.toml", "testdata/unit/tuned.toml"} {
		text, cfg := goldenUnit(t, file)
		opts, err := unit.DeserializeOptions(bytes.NewReader(text))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		base := strings.TrimSuffix(filepath.Base(file), ".toml")
		if want := unitOptions(cfg, goldenExe, "/etc/minispawn/"+base+".toml"); !unit.AllMatch(opts, want) {
			t.Errorf("%s: read back %v, want %v", file, opts, want)
		}
	}
}

// TestUnitFollowsConfig checks the directives that come from the file.
func TestUnitFollowsConfig(t *testing.T) {
	_, cfg := goldenUnit(t, "testdata/unit/tuned.toml")
	get := func(name string) []string {
		var vs []string
		for _, o := range unitOptions(cfg, goldenExe, "/etc/minispawn/tuned.toml") {
			if o.Name == name {
				vs = append(vs, o.Value)
			}
		}
		return vs
	}
	for name, want := range map[string]string{
		"TimeoutStopSec":    "30s",    // stop_budget 25s + stopMargin 5s
		"TimeoutStartSec":   "150s",   // the slowest start_timeout 2m + 30s
		"WatchdogSec":       "1500ms", // [systemd] watchdog
		"Restart":           "always",
		"Slice":             "machine-db.slice",
		"RequiresMountsFor": `"/var/cache/minispawn/db 1"`,
		"Type":              "notify",
		"NotifyAccess":      "main",
		"Delegate":          "yes",
		"KillMode":          "mixed",
	} {
		if got := get(name); len(got) != 1 || got[0] != want {
			t.Errorf("%s=%q, want %q", name, got, want)
		}
	}
}

func TestUnitDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		13 * time.Second:        "13s",
		1500 * time.Millisecond: "1500ms",
		2 * time.Minute:         "120s",
	} {
		if got := unitDuration(d); got != want {
			t.Errorf("unitDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestExecLineQuoting(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"/usr/bin/minispawn", "-c", "/etc/minispawn/web.toml"}, "/usr/bin/minispawn -c /etc/minispawn/web.toml"},
		{[]string{"/opt/my apps/minispawn", "-c", `/etc/a"b\c.toml`}, `"/opt/my apps/minispawn" -c "/etc/a\"b\\c.toml"`},
		{[]string{"/bin/x", "100%", "$HOME"}, "/bin/x 100%% $$HOME"},
		{[]string{"/bin/x", ""}, `/bin/x ""`},
	} {
		if got := execLine(tc.args...); got != tc.want {
			t.Errorf("execLine(%q) = %s, want %s", tc.args, got, tc.want)
		}
	}
}

// TestUnitVerifies: systemd's own checker accepts the printed units with
// not one warning (systemd-analyze verify exits 0 on warnings, so any
// output fails). ExecStart= must name an existing binary for it: the one
// this test built.
func TestUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	roottest.Need(t, err == nil, "systemd-analyze (Debian package systemd)")
	exe, err := filepath.Abs(filepath.Join(binDir, "minispawn"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/unit/*.toml")
	dir := t.TempDir()
	var units []string
	for _, file := range files {
		cfg, err := config.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := writeUnit(&b, cfg, exe, "/etc/minispawn/x.toml"); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, unitName(cfg))
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		units = append(units, path)
	}
	out, err := exec.Command(analyze, append([]string{"verify", "--man=no"}, units...)...).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
