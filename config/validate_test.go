package config

import (
	"errors"
	"strings"
	"testing"
)

// problems parses doc and returns its problems as "line:col: message".
func problems(t *testing.T, doc string) []string {
	t.Helper()
	c, err := Parse("t.toml", []byte(doc))
	if err == nil {
		return nil
	}
	if c != nil {
		t.Errorf("Parse returned a Config with its error")
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error is %T, want Errors: %v", err, err)
	}
	var out []string
	for _, e := range errs {
		out = append(out, strings.TrimPrefix(e.Error(), "t.toml:"))
	}
	return out
}

// ok is the valid tail most cases share: a rootfs and one workload.
const ok = `
rootfs.path = "/srv"
[[workload]]
name = "w"
command = "/bin/w"
`

// A file only miniinit reads needs no rootfs; minispawn's still does, with
// the same message as ever. A rootfs that is there is checked either way.
func TestParseInitNeedsNoRootfs(t *testing.T) {
	doc := "name = \"n\"\n[[workload]]\nname = \"w\"\ncommand = \"/bin/w\"\n"
	c, err := ParseInit("t.toml", []byte(doc))
	if err != nil || c == nil || c.Workloads[0].Command != "/bin/w" {
		t.Fatalf("ParseInit: %v", err)
	}
	want := "t.toml:1:1: rootfs: path (an existing directory) or build (a list of host binaries) is required"
	if _, err := Parse("t.toml", []byte(doc)); err == nil || err.Error() != want {
		t.Errorf("Parse: %v, want %s", err, want)
	}
	bad := "name = \"n\"\nrootfs.path = \"srv\"\n[[workload]]\nname = \"w\"\ncommand = \"c\"\n"
	if _, err := ParseInit("t.toml", []byte(bad)); err == nil || !strings.Contains(err.Error(), `rootfs: path "srv" must be an absolute path`) {
		t.Errorf("ParseInit of a relative rootfs.path: %v", err)
	}
}

// limitsDoc is a valid document whose [limits] table, at line 6, has body.
func limitsDoc(body string) string { return `name = "n"` + ok + "[limits]\n" + body }

// TestChecks runs each rule on its own, with the exact message and
// position expected; "" in want means the document is valid.
func TestChecks(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		// name
		{"name valid", "name = \"a-b_c.1\"\nhostname = \"h\"" + ok, nil},
		{"name missing", ok, []string{`1:1: name is required (letters, digits, '-', '_' and '.', at most 64)`}},
		{"name empty", `name = ""` + ok, []string{`1:1: name is required (letters, digits, '-', '_' and '.', at most 64)`}},
		{"name charset", `name = "a/b"` + ok, []string{`1:1: name "a/b" has '/'; only letters, digits, '-', '_' and '.' are allowed`}},
		{"name non-ascii", `name = "café"` + ok, []string{`1:1: name "café" has 'é'; only letters, digits, '-', '_' and '.' are allowed`}},
		{"name leading dot", `name = ".."` + ok, []string{`1:1: name ".." must not start with '.'`}},
		{"name 64", `name = "` + strings.Repeat("a", 64) + `"` + "\nhostname = \"h\"" + ok, nil},
		{"name 65", `name = "` + strings.Repeat("a", 65) + `"` + ok, []string{`1:1: name "` + strings.Repeat("a", 65) + `" is 65 bytes long; at most 64 are allowed`}},

		// hostname
		{"hostname valid", "name = \"n\"\nhostname = \"a-1.example\"" + ok, nil},
		{"hostname underscore", "name = \"n\"\nhostname = \"a_b\"" + ok, []string{`2:1: hostname "a_b" has '_'; only letters, digits, '-' and '.' are allowed`}},
		{"hostname empty", "name = \"n\"\nhostname = \"\"" + ok, []string{`2:1: hostname must not be empty (omit it to use name)`}},
		{"hostname dash", "name = \"n\"\nhostname = \"a.-b\"" + ok, []string{`2:1: hostname "a.-b" has label "-b" starting or ending with '-'`}},
		{"hostname trailing dot", "name = \"n\"\nhostname = \"a.\"" + ok, []string{`2:1: hostname "a." has an empty label; labels are separated by single dots`}},
		{"hostname long label", "name = \"n\"\nhostname = \"" + strings.Repeat("a", 64) + "\"" + ok, []string{`2:1: hostname "` + strings.Repeat("a", 64) + `" has a label of 64 bytes; at most 63 are allowed`}},
		{"hostname 65", "name = \"n\"\nhostname = \"" + strings.Repeat("a.", 32) + "a\"" + ok, []string{`2:1: hostname "` + strings.Repeat("a.", 32) + `a" is 65 bytes long; at most 64 are allowed`}},
		{"hostname from name", `name = "a_b"` + ok, []string{`1:1: name "a_b" is not a valid hostname (it has '_'; only letters, digits, '-' and '.' are allowed); set hostname`}},
		{"hostname set, name with _", "name = \"a_b\"\nhostname = \"ab\"" + ok, nil},

		// rootfs
		{"rootfs path and build", "name = \"n\"\nrootfs = { path = \"/a\", build = [\"/b\"] }\n[[workload]]\nname = \"w\"\ncommand = \"c\"\n",
			[]string{`2:25: rootfs: set path or build, not both (path uses an existing directory, build makes a root from host binaries)`}},
		{"rootfs neither", "name = \"n\"\n[rootfs]\nreadonly = false\n[[workload]]\nname = \"w\"\ncommand = \"c\"\n",
			[]string{`2:1: rootfs: path (an existing directory) or build (a list of host binaries) is required`}},
		{"rootfs relative", "name = \"n\"\nrootfs.path = \"srv\"\n[[workload]]\nname = \"w\"\ncommand = \"c\"\n",
			[]string{`2:8: rootfs: path "srv" must be an absolute path`}},
		{"rootfs unclean", "name = \"n\"\nrootfs.path = \"/srv/\"\n[[workload]]\nname = \"w\"\ncommand = \"c\"\n",
			[]string{`2:8: rootfs: path "/srv/" is not clean; write "/srv"`}},
		{"rootfs nul", "name = \"n\"\nrootfs.path = \"/s\\u0000\"\n[[workload]]\nname = \"w\"\ncommand = \"c\"\n",
			[]string{`2:8: rootfs: path "/s\x00" must not contain NUL`}},
		{"build entries", "name = \"n\"\nrootfs.build = [\"/ok\", \"rel\", \"/a/./b\"]\n[[workload]]\nname = \"w\"\ncommand = \"c\"\n",
			[]string{`2:24: rootfs: build #2 "rel" must be an absolute path`, `2:31: rootfs: build #3 "/a/./b" is not clean; write "/a/b"`}},
		{"build empty", "name = \"n\"\nrootfs.build = []\n[[workload]]\nname = \"w\"\ncommand = \"c\"\n",
			[]string{`2:8: rootfs: build must list at least one binary`}},
		{"cache with build", "name = \"n\"\nrootfs.build = [\"/b\"]\nrootfs.cache = \"/c\"\n[[workload]]\nname = \"w\"\ncommand = \"c\"\n", nil},
		{"cache without build", "name = \"n\"\nrootfs.path = \"/p\"\nrootfs.cache = \"/c\"\n[[workload]]\nname = \"w\"\ncommand = \"c\"\n",
			[]string{`3:8: rootfs: cache needs build (it keeps a built root; path is used as it is)`}},
		{"cache relative", "name = \"n\"\nrootfs.build = [\"/b\"]\nrootfs.cache = \"c\"\n[[workload]]\nname = \"w\"\ncommand = \"c\"\n",
			[]string{`3:8: rootfs: cache "c" must be an absolute path`}},

		// limits
		{"limits valid", `name = "n"` + "\nlimits = { memory = \"6M\", pids = 0 }" + ok, nil},
		{"memory negative", `name = "n"` + "\nlimits.memory = -1" + ok, []string{`2:8: limits: memory must not be negative (0 or no key means no limit)`}},
		{"memory bad", `name = "n"` + "\nlimits.memory = \"1KB\"" + ok, []string{`2:8: limits: memory "1KB" is not a size (write a number of bytes, optionally with a suffix K, M, G or T for powers of 1024, as in "256M" or 1073741824)`}},
		{"pids negative", `name = "n"` + "\nlimits.pids = -5" + ok, []string{`2:8: limits: pids must not be negative (0 or no key means no limit)`}},
		{"all limits valid", limitsDoc("memory = \"1G\"\nmemory_high = \"1G\"\nmemory_swap = 0\ncpu = \"0.01\"\ncpu_weight = 10000\n" +
			"cpuset_cpus = \"0,2-3\"\ncpuset_mems = \"0\"\nio_weight = 1\nio_max = [\"8:0 rbps=1M\", \"8:16 wiops=5\"]\n"), nil},
		{"cpu_max valid", `name = "n"` + "\nlimits.cpu_max = \"1000 1000\"" + ok, nil},
		{"memory_high above memory", limitsDoc("memory = \"64M\"\nmemory_high = \"128M\"\n"),
			[]string{`8:1: limits: memory_high (134217728) is above memory (67108864): it would never act`}},
		// Issue 16 item 11: limits too small to start miniinit.
		{"limits too small", limitsDoc("memory = \"1K\"\nmemory_high = 100\npids = 2\n"), []string{
			`7:1: limits: memory = 1024 bytes is less than a container needs to start (at least 6M: miniinit and minispawn's second stage)`,
			`8:1: limits: memory_high = 100 bytes is less than a container needs to start (at least 6M: miniinit and minispawn's second stage)`,
			`9:1: limits: pids = 2 is less than a container needs to start (at least 16: miniinit's own threads count, about 10)`}},
		{"limits at the minimums", limitsDoc("memory = \"6M\"\npids = 16\n"), nil},
		{"memory_swap alone", `name = "n"` + "\nlimits.memory_swap = \"1M\"" + ok,
			[]string{`2:8: limits: memory_swap needs memory (it is the swap allowed on top of the memory limit)`}},
		{"memory_swap overflow", `name = "n"` + "\nlimits = { memory = \"8388607T\", memory_swap = \"8388607T\" }" + ok,
			[]string{`2:33: limits: memory + memory_swap is more than 9223372036854775807 bytes`}},
		{"memory_high negative", `name = "n"` + "\nlimits.memory_high = -1" + ok, []string{`2:8: limits: memory_high must not be negative (0 or no key means no limit)`}},
		{"cpu too small", `name = "n"` + "\nlimits.cpu = \"0.005\"" + ok, []string{`2:8: limits: cpu must be at least "0.01" (the kernel's smallest quota, 1000us per 100000us)`}},
		{"cpu float", `name = "n"` + "\nlimits.cpu = 0.5" + ok, []string{`2:8: limits: cpu must be a number of CPUs as a string, like "0.5", not a float`}},
		{"cpu integer", `name = "n"` + "\nlimits.cpu = 2" + ok, []string{`2:8: limits: cpu must be a number of CPUs as a string, like "0.5", not an integer`}},
		{"cpu bad", `name = "n"` + "\nlimits.cpu = \"half\"" + ok, []string{`2:8: limits: cpu "half" is not a number of CPUs (write digits with at most 3 decimals, as in "0.5" or "2")`}},
		{"cpu and cpu_max", limitsDoc("cpu = \"1\"\ncpu_max = \"1000\"\n"),
			[]string{`8:1: limits: set cpu or cpu_max, not both (cpu = "0.5" is cpu_max = "50000 100000")`}},
		{"cpu_max ranges", `name = "n"` + "\nlimits.cpu_max = \"999 1000001\"" + ok,
			[]string{`2:8: limits: cpu_max quota 999 is below the kernel's minimum of 1000 microseconds`, `2:8: limits: cpu_max period 1000001 is out of range: 1000 to 1000000 microseconds`}},
		{"cpu_max bad", `name = "n"` + "\nlimits.cpu_max = \"max 100000\"" + ok,
			[]string{`2:8: limits: cpu_max "max 100000" is not "QUOTA PERIOD" (two whole numbers of microseconds, as in "50000 100000")`}},
		{"weights out of range", `name = "n"` + "\nlimits = { cpu_weight = 10001, io_weight = -1 }" + ok,
			[]string{`2:12: limits: cpu_weight 10001 is out of range: 1 to 10000 (0 or no key means the default, 100)`, `2:32: limits: io_weight -1 is out of range: 1 to 10000 (0 or no key means the default, 100)`}},
		{"cpuset lists", limitsDoc("cpuset_cpus = \"3-1\"\ncpuset_mems = \"\"\n"),
			[]string{`7:1: limits: cpuset_cpus "3-1" has "3-1", not a range N-M with N <= M (write numbers and ranges, as in "0-3,8")`, `8:1: limits: cpuset_mems must not be empty (omit it for all memory nodes)`}},
		{"io_max duplicate", `name = "n"` + "\nlimits.io_max = [\"8:0 rbps=1\", \"8:0 wbps=1\"]" + ok,
			[]string{`2:32: limits: io_max #2: device 8:0 is already limited by io_max #1`}},
		{"io_max bad", `name = "n"` + "\nlimits.io_max = [\"sda rbps=1M\"]" + ok,
			[]string{`2:18: limits: io_max #1 "sda rbps=1M" has no device number: "sda" is not MAJ:MIN (write "MAJ:MIN" then one or more of rbps=, wbps= (bytes per second, like "1M"), riops=, wiops= (operations per second), as in "8:0 rbps=1M wiops=100")`}},

		// init
		{"grace valid", `name = "n"` + "\ninit.grace = \"100ms\"" + ok, nil},
		{"grace zero", `name = "n"` + "\ninit.grace = \"0s\"" + ok, []string{`2:6: init: grace must be positive, got "0s" (omit it for the default 5s)`}},
		{"grace negative", `name = "n"` + "\ninit.grace = \"-1s\"" + ok, []string{`2:6: init: grace must be positive, got "-1s" (omit it for the default 5s)`}},
		{"grace integer", `name = "n"` + "\ninit.grace = 5" + ok, []string{`2:6: init: grace must be a duration like "5s", not an integer`}},
		{"report stderr", `name = "n"` + "\ninit.report = \"-\"" + ok, nil},
		{"report relative", `name = "n"` + "\ninit.report = \"r.json\"" + ok, []string{`2:6: init: report "r.json" must be an absolute path (or "-" for stderr)`}},

		// workloads
		{"no workload", "name = \"n\"\nrootfs.path = \"/r\"\n", []string{`1:1: at least one [[workload]] is required`}},
		{"empty workload array", "name = \"n\"\nrootfs.path = \"/r\"\nworkload = []\n", []string{`3:1: at least one [[workload]] is required`}},
		{"workload name missing", "name = \"n\"\nrootfs.path = \"/r\"\n[[workload]]\ncommand = \"c\"\n",
			[]string{`3:1: workload #1: name is required (letters, digits, '-', '_' and '.', unique)`}},
		{"workload name charset", "name = \"n\"\nrootfs.path = \"/r\"\n[[workload]]\nname = \"a b\"\ncommand = \"c\"\n",
			[]string{`4:1: workload "a b": name has ' '; only letters, digits, '-', '_' and '.' are allowed`}},
		{"workload name dot", "name = \"n\"\nrootfs.path = \"/r\"\n[[workload]]\nname = \".w\"\ncommand = \"c\"\n",
			[]string{`4:1: workload ".w": name must not start with '.'`}},
		{"workload duplicate", "name = \"n\"\nrootfs.path = \"/r\"\n[[workload]]\nname = \"a\"\ncommand = \"c\"\nmain = true\n[[workload]]\nname = \"a\"\ncommand = \"c\"\n",
			[]string{`8:1: workload "a": name is already used by the workload at line 3; names must be unique`}},
		{"command missing", "name = \"n\"\nrootfs.path = \"/r\"\n[[workload]]\nname = \"w\"\n",
			[]string{`3:1: workload "w": command is required (an absolute path, or a name looked up in PATH)`}},
		{"command nul", "name = \"n\"\nrootfs.path = \"/r\"\n[[workload]]\nname = \"w\"\ncommand = \"a\\u0000\"\n",
			[]string{`5:1: workload "w": command must not contain NUL`}},
		{"args nul", "name = \"n\"\nrootfs.path = \"/r\"\n[[workload]]\nname = \"w\"\ncommand = \"c\"\nargs = [\"a\", \"\\u0000\"]\n",
			[]string{`6:14: workload "w": args #2 must not contain NUL`}},
		{"cwd relative", "name = \"n\"\nrootfs.path = \"/r\"\n[[workload]]\nname = \"w\"\ncommand = \"c\"\ncwd = \"tmp\"\n",
			[]string{`6:1: workload "w": cwd "tmp" must be an absolute path`}},
		{"cwd empty", "name = \"n\"\nrootfs.path = \"/r\"\n[[workload]]\nname = \"w\"\ncommand = \"c\"\ncwd = \"\"\n",
			[]string{`6:1: workload "w": cwd must not be empty`}},
		{"env keys", "name = \"n\"\nrootfs.path = \"/r\"\n[[workload]]\nname = \"w\"\ncommand = \"c\"\nenv = { \"\" = \"a\", \"B=C\" = \"d\", OK = \"x\" }\n",
			[]string{`6:9: workload "w": env has an empty variable name`, `6:19: workload "w": env name "B=C" must not contain '=' or NUL`}},
		{"env value nul", "name = \"n\"\nrootfs.path = \"/r\"\n[[workload]]\nname = \"w\"\ncommand = \"c\"\n[workload.env]\nA = \"\\u0000\"\n",
			[]string{`7:1: workload "w": env value of A must not contain NUL`}},
		{"one workload main false", "name = \"n\"\nrootfs.path = \"/r\"\n[[workload]]\nname = \"w\"\ncommand = \"c\"\nmain = false\n", nil},
		{"several none main", "name = \"n\"\nrootfs.path = \"/r\"\n[[workload]]\nname = \"a\"\ncommand = \"c\"\n[[workload]]\nname = \"b\"\ncommand = \"c\"\n", nil},
		{"several one main", "name = \"n\"\nrootfs.path = \"/r\"\n[[workload]]\nname = \"a\"\ncommand = \"c\"\n[[workload]]\nname = \"b\"\ncommand = \"c\"\nmain = true\n", nil},
		{"two mains", "name = \"n\"\nrootfs.path = \"/r\"\n[[workload]]\nname = \"a\"\ncommand = \"c\"\nmain = true\n[[workload]]\nname = \"b\"\ncommand = \"c\"\nmain = true\n",
			[]string{`10:1: workload "b": only one workload may set main = true; it is already set at line 6`}},
		// A wrong type must not also raise the rules that read its value.
		{"bad type hides rule", "name = \"n\"\nrootfs.path = \"/r\"\n[[workload]]\nname = \"a\"\ncommand = \"c\"\nmain = 1\n[[workload]]\nname = \"b\"\ncommand = 2\n",
			[]string{`6:1: workload "a": main must be true or false, not an integer`, `9:1: workload "b": command must be a string, not an integer`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, tt.doc)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("doc:\n%s\ngot:\n%s\nwant:\n%s", tt.doc, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// Issue 16 item 15: a character outside a name's set is shown whole, as
// typed, not its first byte as Latin-1.
func TestFirstNotIn(t *testing.T) {
	for _, c := range []struct {
		s, extra, want string
		bad            bool
	}{
		{"web-1.a", ".", "", false},
		{"café", ".", "'é'", true},
		{"日本", "", "'日'", true},
		{"a\xc3", "", `'\xc3'`, true},
		{"a:b", ".", "':'", true},
		{"a:b", ".:", "", false},
	} {
		got, bad := firstNotIn(c.s, c.extra)
		if got != c.want || bad != c.bad {
			t.Errorf("firstNotIn(%q, %q) = %s, %v; want %s, %v", c.s, c.extra, got, bad, c.want, c.bad)
		}
	}
}
