package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/bad/*.golden from the current output")

// TestGoldenBad parses every testdata/bad/*.toml and compares the whole
// error output, byte for byte, with the .golden file beside it. Run
// `go test ./config -run GoldenBad -update` to regenerate, then read the
// diff.
func TestGoldenBad(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			c, err := Load(file)
			if err == nil {
				t.Fatalf("Load succeeded: %+v", c)
			}
			if c != nil {
				t.Errorf("Load returned a Config with its error")
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error is %T, want non-empty Errors: %v", err, err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".toml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// TestGoldenManyAtOnce pins that one file shows many problems of every
// kind (unknown key, wrong type, bad value, rule) in one error.
func TestGoldenManyAtOnce(t *testing.T) {
	_, err := Load("testdata/bad/many.toml")
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %v", err)
	}
	if len(errs) < 15 {
		t.Errorf("got %d problems, want at least 15:\n%v", len(errs), err)
	}
	for _, want := range []string{"unknown key", "must be a string, not an integer", "is not a size", "is not a duration", "must be an absolute path", "only one workload may set main"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no problem mentions %q", want)
		}
	}
	for i := 1; i < len(errs); i++ {
		a, b := errs[i-1], errs[i]
		if a.Line > b.Line || a.Line == b.Line && a.Col > b.Col {
			t.Errorf("not sorted by position: %v before %v", a, b)
		}
	}
}
