package config

import (
	"cmp"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// TestParseGood parses each good fixture to the exact Config, defaults
// included.
func TestParseGood(t *testing.T) {
	tests := map[string]Config{
		"minimal.toml": {
			Name: "app", Hostname: "app",
			Rootfs:    Rootfs{Path: "/srv/app"},
			Init:      Init{Grace: Duration{DefaultGrace}},
			Workloads: []Workload{{Name: "app", Command: "/bin/app", Cwd: "/", Main: true}},
		},
		"no-main.toml": {
			Name: "app", Hostname: "app",
			Rootfs: Rootfs{Path: "/srv"},
			Init:   Init{Grace: Duration{DefaultGrace}},
			Workloads: []Workload{
				{Name: "a", Command: "/bin/a", Cwd: "/"},
				{Name: "b", Command: "/bin/b", Cwd: "/"},
			},
		},
		"full.toml": {
			Name: "web-1", Hostname: "web",
			Rootfs: Rootfs{Path: "/srv/roots/web", ReadOnly: true},
			Limits: Limits{
				Memory: 256 << 20, MemoryHigh: 192 << 20, MemorySwap: 64 << 20, Pids: 64,
				CPU: CPUs{1500}, CPUWeight: 200, CpusetCpus: "0-1", CpusetMems: "0", IOWeight: 300,
				IOMax: []IOMax{{Major: 254, RBps: 10 << 20, WBps: 5 << 20}, {Major: 8, Minor: 16, RIOps: 100, WIOps: 50}},
			},
			Init: Init{Grace: Duration{90 * time.Second}, Report: "/run/report.json"},
			Workloads: []Workload{
				{
					Name: "web", Command: "/usr/bin/web",
					Args: []string{"--port", "8080", ""},
					Env:  map[string]string{"PORT": "8080", "odd key": "with = sign", "EMPTY": ""},
					Cwd:  "/srv", Main: true,
				},
				{Name: "logger", Command: "logger-daemon", Args: []string{}, Env: map[string]string{}, Cwd: "/"},
			},
		},
		"build.toml": {
			Name: "tools_1.2", Hostname: "tools",
			Rootfs: Rootfs{Build: []string{"/bin/sh", "/usr/bin/env"}, Cache: "/var/cache/minispawn/tools"},
			Limits: Limits{Memory: 1 << 30},
			Init:   Init{Grace: Duration{DefaultGrace}, Report: "-"},
			Workloads: []Workload{
				// main = false, but the only workload is main all the same.
				{Name: "shell", Command: "sh", Args: []string{"-c", `echo "hi"`}, Cwd: "/", Main: true},
			},
		},
		"styles.toml": {
			Name: "styles", Hostname: "styles",
			Rootfs: Rootfs{Path: "/"},
			Limits: Limits{Memory: 1 << 30, Pids: 16},
			Init:   Init{Grace: Duration{250 * time.Millisecond}},
			Workloads: []Workload{
				{Name: "a", Command: "/bin/a", Env: map[string]string{"HOME": "/root", "LC_ALL": "C.UTF-8"}, Cwd: "/"},
				{Name: "b", Command: "/bin/b", Env: map[string]string{"PATH": "/usr/bin:/bin"}, Cwd: "/", Main: true},
				{Name: "c", Command: "/bin/c", Env: map[string]string{"X": "1", "Y": "multi\nline"}, Cwd: "/"},
			},
		},
		"limits.toml": {
			Name: "batch", Hostname: "batch",
			Rootfs:    Rootfs{Path: "/srv/batch"},
			Limits:    Limits{Memory: 1 << 30, CPUMax: CPUMax{Quota: 20000, Period: 50000}, IOMax: []IOMax{}},
			Init:      Init{Grace: Duration{DefaultGrace}},
			Workloads: []Workload{{Name: "job", Command: "/bin/job", Cwd: "/", Main: true}},
		},
		"userns.toml": {
			Name: "isolated", Hostname: "isolated",
			Rootfs: Rootfs{Build: []string{"/bin/sh"}},
			Init:   Init{Grace: Duration{DefaultGrace}},
			// The size defaults; the base stays 0, picked by minispawn.
			UserNS:    UserNS{Enabled: true, Size: DefaultUserNSSize},
			Workloads: []Workload{{Name: "sh", Command: "/bin/sh", Cwd: "/", Main: true}},
		},
		"supervision.toml": {
			Name: "shop", Hostname: "shop",
			Rootfs: Rootfs{Path: "/srv/shop"},
			Init: Init{
				Grace: Duration{DefaultGrace}, StopBudget: Duration{20 * time.Second}, Control: "/run/shop/ctl.sock",
				Signals: map[string][]string{"SIGHUP": {"web"}, "USR1": {"web", "worker"}, "SIGRTMIN+3": {"db"}},
			},
			Workloads: []Workload{
				{
					Name: "migrate", Command: "/app/migrate", Cwd: "/", Kind: "oneshot", Restart: "on-failure",
					StartTimeout: Duration{2 * time.Minute}, GiveUp: GiveUp{Failures: 3},
				},
				{
					Name: "db", Command: "/usr/bin/postgres", Cwd: "/",
					EnvFiles: []string{"/etc/db.env", "/run/secrets/db.env"},
					Restart:  "always",
					Backoff: Backoff{
						Initial: Duration{0}, Max: Duration{10 * time.Second}, Multiplier: 1.5,
						Jitter: 0, ResetAfter: Duration{time.Minute},
					},
					GiveUp:     GiveUp{Failures: 5, Window: Duration{time.Minute}},
					StopSignal: 2, StopTimeout: Duration{30 * time.Second},
					Ready: Ready{Exec: []string{"pg_isready", "-q"}, Interval: Duration{500 * time.Millisecond}, Timeout: Duration{2 * time.Second}},
					Health: Health{
						TCP: "127.0.0.1:5432", Interval: Duration{5 * time.Second}, Timeout: Duration{time.Second},
						Retries: 2, Action: "restart",
					},
					User: "postgres", Group: "postgres", Groups: []string{"ssl-cert", "1001"},
					Umask: "0077", Rlimits: map[string]string{"nofile": "65536"}, NoNewPrivs: true,
					Capabilities: []string{"CAP_CHOWN", "net_bind_service"}, LogPrefix: true,
				},
				{
					Name: "web", Command: "/app/web", Cwd: "/", Main: true, Essential: true,
					SuccessExitCodes: []int{143, 3},
					Requires:         Deps{"db": "healthy", "migrate": "completed"},
					Ready:            Ready{Notify: true},
					Health: Health{
						HTTP: "http://127.0.0.1:8080/healthz", Interval: Duration{10 * time.Second},
						Timeout: Duration{2 * time.Second}, Retries: 3, Action: "stop",
					},
					Stdin: "inherit",
				},
				{
					Name: "worker", Command: "/app/worker", Cwd: "/",
					After: Deps{"web": "ready"}, Ready: Ready{FD: 3}, Restart: "on-failure", LogOverflow: "drop",
					Backoff: Backoff{
						Initial: Duration{time.Second}, Max: Duration{30 * time.Second}, Multiplier: 2,
						Jitter: 0.2, ResetAfter: Duration{30 * time.Second},
					},
				},
			},
		},
	}
	files, _ := filepath.Glob("testdata/good/*.toml")
	if len(files) != len(tests) {
		t.Errorf("%d good fixtures, %d expectations: keep them in step", len(files), len(tests))
	}
	for base, want := range tests {
		t.Run(base, func(t *testing.T) {
			file := filepath.Join("testdata/good", base)
			got, err := Load(file)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want.File = file
			want = withSupervisionDefaults(want)
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got  %+v\nwant %+v", *got, want)
			}
		})
	}
}

// TestAgreesWithLibraryDecoder decodes each good fixture with
// BurntSushi/toml's own decoder too: our walk must fill the same struct
// (before defaults), and the library must find no key it did not decode.
func TestAgreesWithLibraryDecoder(t *testing.T) {
	files, _ := filepath.Glob("testdata/good/*.toml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := agreesWithLibrary(file, data); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
}

// agreesWithLibrary checks a document that Parse accepts against
// toml.Decode into the same types.
func agreesWithLibrary(name string, data []byte) error {
	ours, err := Parse(name, data)
	if err != nil {
		return err
	}
	var lib Config
	md, err := toml.Decode(string(data), &lib)
	if err != nil {
		return errors.New("library decoder: " + err.Error())
	}
	if u := md.Undecoded(); len(u) > 0 {
		return errors.New("library left keys undecoded: " + keysString(u))
	}
	for _, k := range md.Keys() {
		if !inSchema(reflect.TypeOf(Config{}), k) {
			return errors.New("library saw a key outside the schema: " + k.String())
		}
	}
	lib.File = name
	// Which keys are written, from the library's own parse of the
	// document.
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return errors.New("library decoder: " + err.Error())
	}
	applyDefaults(&lib, func(p path) bool { _, ok := lookupRaw(raw, p); return ok })
	if !reflect.DeepEqual(*ours, lib) {
		return errors.New("decoders differ")
	}
	return nil
}

func keysString(ks []toml.Key) string {
	var s []string
	for _, k := range ks {
		s = append(s, k.String())
	}
	return strings.Join(s, ", ")
}

// inSchema reports whether a key (as MetaData.Keys gives it: no array
// indices) names a field, exactly, case included.
func inSchema(t reflect.Type, k toml.Key) bool {
	for _, part := range k {
		for t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Map:
			t = t.Elem()
			continue
		case reflect.Struct:
		default:
			return false
		}
		i, ok := schemaOf(t).fields[part]
		if !ok {
			return false
		}
		t = t.Field(i).Type
	}
	return true
}

// withSupervisionDefaults fills in, where an expectation leaves them
// zero, the supervision defaults doc.go states, written out here rather
// than taken from applyDefaults, so that a changed default shows.
func withSupervisionDefaults(c Config) Config {
	if c.Init.StopBudget.Duration == 0 {
		c.Init.StopBudget.Duration = 8 * time.Second
	}
	if c.Init.Control == "" {
		c.Init.Control = "/run/miniinit.sock"
	}
	c.Init.LogOverflow = cmp.Or(c.Init.LogOverflow, "block")
	c.Systemd = withSystemdDefaults(c.Systemd) // systemd_test.go
	c.Workloads = slices.Clone(c.Workloads)
	for i := range c.Workloads {
		w := &c.Workloads[i]
		w.Kind = cmp.Or(w.Kind, "longrun")
		w.Restart = cmp.Or(w.Restart, "never")
		w.Stdin = cmp.Or(w.Stdin, "null")
		w.LogOverflow = cmp.Or(w.LogOverflow, c.Init.LogOverflow)
		if w.StopTimeout.Duration == 0 {
			w.StopTimeout.Duration = 5 * time.Second
		}
		if w.Backoff == (Backoff{}) {
			w.Backoff = Backoff{
				Initial: Duration{100 * time.Millisecond}, Max: Duration{30 * time.Second},
				Multiplier: 2, Jitter: 0.2, ResetAfter: Duration{30 * time.Second},
			}
		}
	}
	return c
}

func TestLoad(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.toml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want fs.ErrNotExist", err)
	}
	if err != nil && !strings.Contains(err.Error(), "missing.toml") {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestMainWorkload(t *testing.T) {
	one := &Config{Workloads: []Workload{{Name: "a"}}}
	if got := one.MainWorkload(); got != &one.Workloads[0] {
		t.Errorf("single workload: got %v", got)
	}
	two := &Config{Workloads: []Workload{{Name: "a"}, {Name: "b", Main: true}}}
	if got := two.MainWorkload(); got != &two.Workloads[1] {
		t.Errorf("two workloads: got %v", got)
	}
	if got := (&Config{Workloads: []Workload{{}, {}}}).MainWorkload(); got != nil {
		t.Errorf("none main: got %v, want nil", got)
	}
	c, err := Load("testdata/good/no-main.toml")
	if err != nil {
		t.Fatal(err)
	}
	if w := c.MainWorkload(); w != nil {
		t.Errorf("no-main.toml: main workload %v, want none", w)
	}
	for _, s := range c.SuperviseSpecs() {
		if s.Main {
			t.Errorf("no-main.toml: spec %s is main", s.Name)
		}
	}
	if got := (&Config{}).MainWorkload(); got != nil {
		t.Errorf("no workloads: got %v, want nil", got)
	}
	c, err = Load("testdata/good/styles.toml")
	if err != nil {
		t.Fatal(err)
	}
	if w := c.MainWorkload(); w == nil || w.Name != "b" {
		t.Errorf("styles.toml: main workload %v, want b", w)
	}
}

// TestDefaultsNotOverridden: written values win over defaults.
func TestDefaultsNotOverridden(t *testing.T) {
	c, err := Parse("t.toml", []byte(`name = "n"
hostname = "h"
rootfs.path = "/r"
init.grace = "1s"
[[workload]]
name = "w"
command = "c"
cwd = "/w"
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Hostname != "h" || c.Init.Grace.Duration != time.Second || c.Workloads[0].Cwd != "/w" || c.File != "t.toml" {
		t.Errorf("defaults overrode written values: %+v", c)
	}
}
