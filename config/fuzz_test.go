package config

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

var errLine = regexp.MustCompile(`^fuzz\.toml:([0-9]+):([0-9]+): (.+)$`)

// FuzzParse feeds Parse arbitrary bytes, seeded with every fixture. It
// must never panic, and:
//   - every error is an Errors whose lines all read
//     "fuzz.toml:LINE:COL: message", with LINE and COL from 1 and
//     within the document;
//   - for any document BurntSushi/toml parses, the position index has an
//     entry of its own for every key, table and array element;
//   - a document Parse accepts has its defaults filled in, exactly one
//     main workload, and decodes to the same Config with toml.Decode.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/good", "testdata/bad"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.toml"))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte(trickyDoc))
	f.Add([]byte("\xef\xbb\xbfname = 'x'\r\n[[workload]]\r\nname = 'w'\r\ncommand = 'c'\r\nrootfs.path = '/'\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.toml", data)
		if err != nil {
			checkErrors(t, data, err)
		} else {
			checkAccepted(t, data, c)
		}

		var m map[string]any
		if _, err := toml.Decode(string(data), &m); err == nil {
			assertComplete(t, string(data), m, indexPositions(data))
		}
	})
}

func checkErrors(t *testing.T, data []byte, err error) {
	var errs Errors
	if !errors.As(err, &errs) || len(errs) == 0 {
		t.Fatalf("error is %T, want non-empty Errors: %v", err, err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(errs) {
		t.Fatalf("%d problems printed on %d lines:\n%s", len(errs), len(lines), err)
	}
	nlines := 1 + strings.Count(string(stripBOM(data)), "\n")
	for _, line := range lines {
		m := errLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("line not of the form name:LINE:COL: message: %q", line)
		}
		l, _ := strconv.Atoi(m[1])
		c, _ := strconv.Atoi(m[2])
		if l < 1 || c < 1 || l > nlines {
			t.Fatalf("position %d:%d out of range (the document has %d lines): %q", l, c, nlines, line)
		}
	}
}

func checkAccepted(t *testing.T, data []byte, c *Config) {
	if c == nil {
		t.Fatal("Parse returned neither a Config nor an error")
	}
	if c.File != "fuzz.toml" || c.Hostname == "" || c.Init.Grace.Duration <= 0 {
		t.Fatalf("defaults missing: %+v", c)
	}
	mains := 0
	for _, w := range c.Workloads {
		if w.Cwd == "" || w.Name == "" || w.Command == "" {
			t.Fatalf("workload not valid or not defaulted: %+v", w)
		}
		if w.Main {
			mains++
		}
	}
	if mains > 1 || (mains == 1) != (c.MainWorkload() != nil) || len(c.Workloads) == 1 && mains != 1 {
		t.Fatalf("%d main workloads among %d in an accepted config", mains, len(c.Workloads))
	}
	if err := agreesWithLibrary("fuzz.toml", data); err != nil {
		t.Fatalf("disagrees with toml.Decode: %v", err)
	}
}

var (
	nameOracle  = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$`)
	labelOracle = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	sizeOracle  = regexp.MustCompile(`^([0-9]+)([KMGT]?)$`)
)

// FuzzValues writes fuzzed values into a well-formed file (quoted by the
// library's own encoder) and compares Parse's verdict with an oracle
// written independently of validate.go, from the rules in doc.go: Parse
// must accept exactly the files the oracle calls valid, and then agree
// with toml.Decode.
func FuzzValues(f *testing.F) {
	f.Add("web-1", "web", "/srv/root", "/bin/sh", "-c", "PATH", "/bin", "/", "256M", int64(64), "5s")
	f.Add("a_b", "", "/", "sh", "", "A=B", "x", "/tmp/", "1K", int64(-1), "0s")
	f.Add(".x", "a..b", "srv", "", "\x00", "", "\x00", "", "1.5G", int64(0), "5")
	f.Fuzz(func(t *testing.T, name, hostname, rootfs, command, arg, envKey, envVal, cwd, memory string, pids int64, grace string) {
		doc := map[string]any{
			"name":   name,
			"rootfs": map[string]any{"path": rootfs},
			"limits": map[string]any{"memory": memory, "pids": pids},
			"init":   map[string]any{"grace": grace},
			"workload": []map[string]any{{
				"name": "w", "command": command, "args": []string{arg},
				"env": map[string]string{envKey: envVal}, "cwd": cwd,
			}},
		}
		if hostname != "" {
			doc["hostname"] = hostname
		}
		// A TOML file is UTF-8; the encoder would write such bytes as
		// they are, and the parser rightly refuse them.
		for _, s := range []string{name, hostname, rootfs, command, arg, envKey, envVal, cwd, memory, grace} {
			if !utf8.ValidString(s) {
				return // not an input this target is about
			}
		}
		var buf strings.Builder
		if err := toml.NewEncoder(&buf).Encode(doc); err != nil {
			return // the encoder cannot write these values: nothing to check
		}
		data := []byte(buf.String())
		c, err := Parse("fuzz.toml", data)
		want := nameOracle.MatchString(name) &&
			hostnameOracle(or(hostname, name)) &&
			absClean(rootfs) && absClean(cwd) &&
			command != "" && !strings.Contains(command+arg+envVal, "\x00") &&
			envKey != "" && !strings.ContainsAny(envKey, "=\x00") &&
			sizeOK(memory) && pids >= 0 && durationOK(grace)
		if (err == nil) != want {
			t.Fatalf("oracle says valid=%v, Parse says %v, for:\n%s", want, err, data)
		}
		if err != nil {
			checkErrors(t, data, err)
			return
		}
		checkAccepted(t, data, c)
	})
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func hostnameOracle(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if !labelOracle.MatchString(l) {
			return false
		}
	}
	return true
}

func absClean(s string) bool {
	return strings.HasPrefix(s, "/") && filepath.Clean(s) == s && !strings.Contains(s, "\x00")
}

func sizeOK(s string) bool {
	m := sizeOracle.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return false
	}
	shift := map[string]int{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[m[2]]
	return n <= (1<<63-1)>>shift
}

func durationOK(s string) bool {
	d, err := time.ParseDuration(s)
	return err == nil && d > 0
}
