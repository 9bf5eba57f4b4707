package main

import (
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/pid1"
)

func noEnv(string) (string, bool) { return "", false }

// envOf is an environment of exactly m.
func envOf(m map[string]string) lookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// sample gives one value for each flag that takes one.
var sample = map[string]string{
	"remap-exit":  "143",
	"pdeathsig":   "SIGKILL",
	"grace":       "1.5s",
	"report":      "/run/report.json",
	"config":      "/etc/app.toml",
	"config-fd":   "3",
	"config-name": "app.toml",
	"host-fd":     "4",
}

// TestFlagTableRoundTrip: every flag of the table, alone and all together,
// parses to a cli that renders (argv) to a command line that parses back
// to the same cli. The short and long spellings agree.
func TestFlagTableRoundTrip(t *testing.T) {
	var all []string
	for _, f := range flagTable {
		var lines [][]string
		val, hasVal := sample[f.long]
		if (f.arg != "") != hasVal {
			t.Fatalf("flag --%s: the test has no sample value for it (or one it does not take)", f.long)
		}
		long := []string{"--" + f.long}
		if hasVal {
			long = append(long, val)
		}
		lines = append(lines, long)
		if hasVal {
			lines = append(lines, []string{"--" + f.long + "=" + val})
		}
		if f.short != 0 {
			short := []string{"-" + string(f.short)}
			if hasVal {
				short = append(short, val)
				lines = append(lines, []string{"-" + string(f.short) + val})
			}
			lines = append(lines, short)
		}
		if f.long != "config-name" { // needs --config-fd; checked in the "all" line
			var first cli
			for i, line := range lines {
				if f.long != "config" && f.long != "config-fd" {
					line = append(line, "--", "cmd")
				}
				c := mustParse(t, line)
				if i == 0 {
					first = c
					if len(f.emit(&c)) == 0 {
						t.Errorf("%q set nothing that --%s emits", line, f.long)
					}
				} else if !reflect.DeepEqual(c, first) {
					t.Errorf("%q parses to %+v, but %q to %+v", line, c, lines[0], first)
				}
				roundTrip(t, c)
			}
		}
		switch f.long {
		case "config", "version", "help": // exclusive with the rest
		default:
			all = append(all, long...)
		}
	}
	all = append(all, "-v", "-e", "3")
	c, err := parseArgs(all, noEnv)
	if err != nil {
		t.Fatalf("%q: %v", all, err)
	}
	if c.verbosity != 2 || len(c.remap) != 2 || c.configFD != 3 || c.configName != "app.toml" {
		t.Errorf("%q parsed to %+v", all, c)
	}
	roundTrip(t, c)
}

func mustParse(t *testing.T, args []string) cli {
	t.Helper()
	c, err := parseArgs(args, noEnv)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return c
}

func roundTrip(t *testing.T, c cli) {
	t.Helper()
	back, err := parseArgs(c.argv(), noEnv)
	if err != nil {
		t.Errorf("argv %q does not parse: %v", c.argv(), err)
		return
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip through %q: got %+v, want %+v", c.argv(), back, c)
	}
}

func TestParseArgs(t *testing.T) {
	for _, c := range []struct {
		args []string
		want cli
	}{
		{[]string{"--", "sleep", "1"}, cli{configFD: -1, command: []string{"sleep", "1"}}},
		// The first non-flag starts the command; its flags are its own.
		{[]string{"-s", "app", "-g", "--", "-x"}, cli{configFD: -1, subreaper: true, command: []string{"app", "-g", "--", "-x"}}},
		{[]string{"-sgvv", "-e143", "-e", "0", "-p", "term", "--", "a"}, cli{
			configFD: -1, subreaper: true, group: true, verbosity: 2, remap: []int{143, 0}, pdeath: syscall.SIGTERM, command: []string{"a"},
		}},
		{[]string{"--grace=250ms", "--report", "-", "a"}, cli{configFD: -1, grace: 250 * time.Millisecond, report: "-", command: []string{"a"}}},
		{[]string{"-c", "x.toml"}, cli{configFD: -1, config: "x.toml"}},
		{[]string{"--config-fd", "3", "--config-name", "app.toml"}, cli{configFD: 3, configName: "app.toml"}},
		{[]string{"--version", "junk"}, cli{configFD: -1, version: true, command: []string{"junk"}}},
		{[]string{"-h"}, cli{configFD: -1, help: true}},
		{[]string{"-", "x"}, cli{configFD: -1, command: []string{"-", "x"}}},
	} {
		got, err := parseArgs(c.args, noEnv)
		if err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", c.args, got, c.want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "no command"},
		{[]string{"-s"}, "no command"},
		{[]string{"-x", "cmd"}, "unknown option -x"},
		{[]string{"--nope", "cmd"}, "unknown option --nope"},
		{[]string{"-e"}, "-e needs a CODE"},
		{[]string{"-e", "256", "cmd"}, "exit code 0-255"},
		{[]string{"-e", "x", "cmd"}, "exit code 0-255"},
		{[]string{"-p", "SIGNOPE", "cmd"}, "unknown signal"},
		{[]string{"--grace", "0s", "cmd"}, "positive duration"},
		{[]string{"--grace", "5", "cmd"}, "positive duration"},
		{[]string{"--report=", "cmd"}, "empty file name"},
		{[]string{"--version=1"}, "takes no value"},
		{[]string{"--grace"}, "--grace needs a DURATION"},
		{[]string{"-c", "a.toml", "--", "cmd"}, "both a configuration and a command"},
		{[]string{"-c", "a.toml", "--config-fd", "3"}, "exclusive"},
		{[]string{"--config-name", "x", "cmd"}, "--config-name names"},
		{[]string{"--config-fd", "-1"}, "descriptor number"},
	} {
		_, err := parseArgs(c.args, noEnv)
		if _, ok := err.(usageError); !ok || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want a usage error saying %q", c.args, err, c.want)
		}
	}
}

// TestTiniEnvironment: tini's variables work as its users expect.
func TestTiniEnvironment(t *testing.T) {
	env := map[string]string{"TINI_SUBREAPER": "1", "TINI_KILL_PROCESS_GROUP": "1", "TINI_VERBOSITY": "3"}
	c, err := parseArgs([]string{"cmd"}, envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if !c.subreaper || !c.group || c.verbosity != 2 {
		t.Errorf("got %+v", c)
	}
	c, _ = parseArgs([]string{"cmd"}, envOf(map[string]string{"TINI_VERBOSITY": "1"}))
	if c.verbosity != 0 {
		t.Errorf("TINI_VERBOSITY=1 is tini's default, got verbosity %d", c.verbosity)
	}
	// Set counts, as in tini (getenv != NULL): empty included.
	c, _ = parseArgs([]string{"cmd"}, envOf(map[string]string{"TINI_SUBREAPER": "", "TINI_KILL_PROCESS_GROUP": ""}))
	if !c.subreaper || !c.group {
		t.Errorf("TINI_SUBREAPER= and TINI_KILL_PROCESS_GROUP= (set, empty): subreaper %v, group %v, want both", c.subreaper, c.group)
	}
	if c, _ = parseArgs([]string{"cmd"}, noEnv); c.subreaper || c.group {
		t.Errorf("unset: got %+v", c)
	}
}

func TestUsageListsEveryFlag(t *testing.T) {
	u := usage()
	for _, f := range flagTable {
		if !strings.Contains(u, "--"+f.long) {
			t.Errorf("usage lacks --%s", f.long)
		}
	}
}

func TestOptionsFromCommandLine(t *testing.T) {
	c := mustParse(t, []string{"-g", "-e", "143", "--grace", "2s", "-p", "KILL", "--", "/usr/bin/app", "-x"})
	o, err := c.options()
	if err != nil {
		t.Fatal(err)
	}
	want := pid1.Options{
		GroupSignals:      true,
		RemapToZero:       []int{143},
		Grace:             2 * time.Second,
		ParentDeathSignal: syscall.SIGKILL,
		Workloads:         []pid1.Workload{{Name: "app", Args: []string{"/usr/bin/app", "-x"}, Main: true}},
	}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("got %+v\nwant %+v", o, want)
	}
}
