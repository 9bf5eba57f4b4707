package config

import (
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/supervise"
	"golang.org/x/sys/unix"
)

// TestSignalRoundTrip: every signal number prints as a name that reads
// back as the same number, and the names agree with x/sys.
func TestSignalRoundTrip(t *testing.T) {
	for n := 1; n <= 64; n++ {
		if n == 32 || n == 33 {
			continue // the C library's; no name
		}
		s := Signal(n)
		text, err := s.MarshalText()
		if err != nil {
			t.Fatalf("%d: %v", n, err)
		}
		var back Signal
		if err := back.UnmarshalText(text); err != nil || back != s {
			t.Errorf("%d -> %q -> %d, %v", n, text, back, err)
		}
		if n < 32 && string(text) != unix.SignalName(syscall.Signal(n)) {
			t.Errorf("%d is %q here, %q in x/sys", n, text, unix.SignalName(syscall.Signal(n)))
		}
	}
	for text, want := range map[string]int{
		"SIGTERM": 15, "TERM": 15, "15": 15, "SIGHUP": 1, "SIGRTMIN": 34, "RTMIN+3": 37,
		"SIGRTMAX": 64, "SIGRTMAX-2": 62, "SIGRTMIN+30": 64,
	} {
		var s Signal
		if err := s.UnmarshalText([]byte(text)); err != nil || int(s) != want {
			t.Errorf("%q: %d, %v; want %d", text, s, err, want)
		}
	}
	for _, text := range []string{"", "term", "SIG", "0", "65", "-1", "SIGRTMIN+31", "SIGRTMIN-1", "SIGRTMAX+1", "SIGRTMIN+", "SIGRTMIN+x", "SIGRTMIN++1", " SIGTERM"} {
		var s Signal
		if err := s.UnmarshalText([]byte(text)); err == nil {
			t.Errorf("%q accepted as %d", text, s)
		}
	}
}

// TestWordTables: every word of every table reads back as itself, and
// anything else is refused with the list of words.
func TestWordTables(t *testing.T) {
	check := func(name string, words []string, read func([]byte) (string, error)) {
		for _, w := range words {
			if got, err := read([]byte(w)); err != nil || got != w {
				t.Errorf("%s %q: %q, %v", name, w, got, err)
			}
		}
		for _, bad := range []string{"", strings.ToUpper(words[0]), words[0] + " ", "x"} {
			_, err := read([]byte(bad))
			if err == nil || !strings.Contains(err.Error(), `"`+words[0]+`"`) {
				t.Errorf("%s %q: %v", name, bad, err)
			}
		}
	}
	check("kind", []string{"longrun", "oneshot"}, func(b []byte) (string, error) {
		var v Kind
		err := v.UnmarshalText(b)
		m, _ := v.MarshalText()
		return string(m), err
	})
	check("restart", []string{"never", "on-failure", "always"}, func(b []byte) (string, error) {
		var v RestartPolicy
		err := v.UnmarshalText(b)
		m, _ := v.MarshalText()
		return string(m), err
	})
	check("condition", []string{"started", "ready", "healthy", "completed"}, func(b []byte) (string, error) {
		var v Condition
		err := v.UnmarshalText(b)
		m, _ := v.MarshalText()
		return string(m), err
	})
	check("action", []string{"report", "restart", "stop"}, func(b []byte) (string, error) {
		var v HealthAction
		err := v.UnmarshalText(b)
		m, _ := v.MarshalText()
		return string(m), err
	})
	check("stdin", []string{"null", "inherit"}, func(b []byte) (string, error) {
		var v Stdin
		err := v.UnmarshalText(b)
		m, _ := v.MarshalText()
		return string(m), err
	})
	// Every condition word has its machine condition.
	for _, c := range conditions {
		if _, ok := conditionSpecs[c]; !ok {
			t.Errorf("condition %q has no supervise condition", c)
		}
	}
}

func TestParseUmask(t *testing.T) {
	for text, want := range map[string]uint32{"022": 0o22, "0027": 0o27, "0777": 0o777, "000": 0} {
		if got, err := ParseUmask(text); err != nil || got != want {
			t.Errorf("%q: %o, %v", text, got, err)
		}
	}
	for _, text := range []string{"", "22", "0o22", "1777", "08", "00000", "-022"} {
		if _, err := ParseUmask(text); err == nil {
			t.Errorf("%q accepted", text)
		}
	}
}

// TestSupervisionChecks: rules whose exact message and position matter,
// and combinations that must pass.
func TestSupervisionChecks(t *testing.T) {
	const head = "name = \"n\"\nrootfs.path = \"/r\"\n"
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"zero backoff", head + "[[workload]]\nname = \"w\"\ncommand = \"c\"\nrestart = \"always\"\nbackoff = { initial = \"0s\" }\n", nil},
		{"initial above default max", head + "[[workload]]\nname = \"w\"\ncommand = \"c\"\nrestart = \"always\"\nbackoff = { initial = \"1m\" }\n", nil},
		{"healthy with a check", head + "[[workload]]\nname = \"db\"\ncommand = \"c\"\nhealth = { tcp = \"127.0.0.1:1\" }\n[[workload]]\nname = \"w\"\ncommand = \"c\"\nmain = true\nafter = { db = \"healthy\" }\n", nil},
		{"completed longrun that may end", head + "[[workload]]\nname = \"db\"\ncommand = \"c\"\nrestart = \"on-failure\"\n[[workload]]\nname = \"w\"\ncommand = \"c\"\nmain = true\nrequires = { db = \"completed\" }\n", nil},
		{"notify without probe keys", head + "[[workload]]\nname = \"w\"\ncommand = \"c\"\nready.notify = true\n", nil},
		{"notify false is no check", head + "[[workload]]\nname = \"w\"\ncommand = \"c\"\nready.notify = false\n",
			[]string{`6:1: workload "w": ready: set one of notify = true, fd, exec, tcp or http`}},
		{"probe keys on notify", head + "[[workload]]\nname = \"w\"\ncommand = \"c\"\nready = { notify = true, timeout = \"1s\" }\n",
			[]string{`6:26: workload "w": ready: timeout applies only to exec, tcp and http probes`}},
		{"control too long", head + "init.control = \"/" + strings.Repeat("x", 107) + "\"\n[[workload]]\nname = \"w\"\ncommand = \"c\"\n",
			[]string{"3:6: init: control is 108 bytes long; a unix socket path holds at most 103"}},
		{"signal by number", head + "init.signals = { 10 = [\"w\"] }\n[[workload]]\nname = \"w\"\ncommand = \"c\"\n", nil},
		{"two-node cycle", head + "[[workload]]\nname = \"a\"\ncommand = \"c\"\nmain = true\nafter = { b = \"started\" }\n[[workload]]\nname = \"b\"\ncommand = \"c\"\nrequires = { a = \"ready\" }\n",
			[]string{"11:14: dependency cycle: a -> b -> a (after and requires must not loop)"}},
		{"uid as a string", head + "[[workload]]\nname = \"w\"\ncommand = \"c\"\nuser = \"1000\"\ngroup = \"0\"\ngroups = [\"wheel\", \"www-data\", \"machine$\"]\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, tt.doc)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestSuperviseSpecs: the supervision fixture becomes machine specs the
// machine accepts, field by field.
func TestSuperviseSpecs(t *testing.T) {
	c, err := Load("testdata/good/supervision.toml")
	if err != nil {
		t.Fatal(err)
	}
	specs := c.SuperviseSpecs()
	if _, err := supervise.New(specs, supervise.Options{Routes: c.Routes()}); err != nil {
		t.Fatalf("the machine refuses the specs: %v", err)
	}
	db := specs[1]
	want := supervise.Spec{
		Name: "db", Restart: supervise.Always,
		Backoff:      supervise.BackoffPolicy{Initial: 0, Max: 10 * time.Second, Multiplier: 1.5, ResetAfter: time.Minute},
		GiveUp:       supervise.GiveUp{Failures: 5, Window: time.Minute},
		StopSignal:   syscall.SIGINT,
		StopTimeout:  30 * time.Second,
		Ready:        supervise.Readiness{Kind: supervise.ReadyProbe, Interval: 500 * time.Millisecond, Timeout: 2 * time.Second},
		Health:       supervise.Health{Interval: 5 * time.Second, Timeout: time.Second, Retries: 2, Action: supervise.ActionRestart},
		SuccessCodes: []int{},
	}
	if db.SuccessCodes == nil {
		want.SuccessCodes = nil
	}
	if !reflect.DeepEqual(db, want) {
		t.Errorf("db:\ngot  %+v\nwant %+v", db, want)
	}
	web := specs[2]
	if !web.Main || !web.Essential || web.Ready.Kind != supervise.ReadyNotify || web.Health.Action != supervise.ActionStop ||
		!reflect.DeepEqual(web.Requires, []supervise.Dep{{Name: "db", Cond: supervise.CondHealthy}, {Name: "migrate", Cond: supervise.CondCompleted}}) ||
		!reflect.DeepEqual(web.SuccessCodes, []int{143, 3}) {
		t.Errorf("web: %+v", web)
	}
	if specs[0].Kind != supervise.Oneshot || specs[0].StartTimeout != 2*time.Minute || specs[3].Ready.Kind != supervise.ReadyFD ||
		!reflect.DeepEqual(specs[3].After, []supervise.Dep{{Name: "web", Cond: supervise.CondReady}}) {
		t.Errorf("migrate %+v\nworker %+v", specs[0], specs[3])
	}
	routes := c.Routes()
	if !reflect.DeepEqual(routes, map[syscall.Signal][]string{syscall.SIGHUP: {"web"}, syscall.SIGUSR1: {"web", "worker"}, 37: {"db"}}) {
		t.Errorf("routes %v", routes)
	}
}

func TestProbeAddresses(t *testing.T) {
	for _, s := range []string{"127.0.0.1:5432", "localhost:80", "[::1]:8080", "0.0.0.0:1", "10.1.2.3:65535"} {
		if p := hostPortProblem(s); p != "" {
			t.Errorf("tcp %q: %s", s, p)
		}
	}
	for _, s := range []string{"", "127.0.0.1", ":80", "db:5432", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:+80", "::1:80", "[::1]", "[fe80::1%eth0]:80", "[127.0.0.1]:80"} {
		if hostPortProblem(s) == "" {
			t.Errorf("tcp %q accepted", s)
		}
	}
	for _, s := range []string{"http://127.0.0.1:8080/healthz", "http://localhost/", "http://localhost", "http://[::1]:80/a?b=c", "http://[::1]/x"} {
		if p := httpProblem(s); p != "" {
			t.Errorf("http %q: %s", s, p)
		}
	}
	for _, s := range []string{"https://127.0.0.1/", "http://example.com/", "http://u:p@127.0.0.1/", "http://127.0.0.1:0/", "http:///x", "http://127.0.0.1/a b", "http://127.0.0.1/#f", "ftp://127.0.0.1/"} {
		if httpProblem(s) == "" {
			t.Errorf("http %q accepted", s)
		}
	}
}
