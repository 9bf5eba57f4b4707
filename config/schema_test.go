package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// keysOf lists every key of the schema as a dotted name ("rootfs.path",
// "workload.env"), walking the Go types as decode does.
func keysOf(t reflect.Type, prefix string) []string {
	var out []string
	s := schemaOf(t)
	for _, k := range s.keys {
		ft := t.Field(s.fields[k]).Type
		out = append(out, prefix+k)
		for ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(reflect.TypeFor[wanter]()) {
			out = append(out, keysOf(ft, prefix+k+".")...)
		}
	}
	return out
}

// TestSchemaTags: every field of the file's types is a key (has a toml
// tag) or is marked "-". An untagged field would silently not be part of
// the format.
func TestSchemaTags(t *testing.T) {
	var check func(reflect.Type)
	check = func(typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Tag.Get("toml") == "" {
				t.Errorf("%s.%s has no toml tag", typ.Name(), f.Name)
			}
			ft := f.Type
			for ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(reflect.TypeFor[wanter]()) {
				check(ft)
			}
		}
	}
	check(reflect.TypeFor[Config]())
}

// TestDocExample: the annotated example in doc.go parses, and mentions
// every key of the schema, so the docs keep up with new keys.
func TestDocExample(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	// The example is the tab-indented block after "# The file".
	_, after, _ := strings.Cut(string(src), "// # The file\n")
	var lines []string
	started := false
	for _, line := range strings.Split(after, "\n") {
		if body, ok := strings.CutPrefix(line, "//\t"); ok {
			lines, started = append(lines, body), true
		} else if started && line != "//" {
			break
		} else if started {
			lines = append(lines, "")
		}
	}
	example := strings.Join(lines, "\n")
	if len(lines) < 20 {
		t.Fatalf("example not found in doc.go (%d lines)", len(lines))
	}
	if _, err := Parse("doc.go example", []byte(example)); err != nil {
		t.Errorf("the example does not parse:\n%v\n%s", err, example)
	}
	for _, key := range keysOf(reflect.TypeFor[Config](), "") {
		last := key[strings.LastIndex(key, ".")+1:]
		section := strings.SplitN(key, ".", 2)[0]
		// A key is documented by "key =" (possibly commented out),
		// a table by its header.
		re := regexp.MustCompile(`(?m)^(#\s*)?` + regexp.QuoteMeta(last) + ` = |^\[\[?` + regexp.QuoteMeta(section) + `\]\]?$`)
		if !strings.Contains(key, ".") {
			re = regexp.MustCompile(`(?m)^(#\s*)?` + regexp.QuoteMeta(key) + ` = |^\[\[?` + regexp.QuoteMeta(key) + `\]\]?$`)
		}
		if !re.MatchString(example) {
			t.Errorf("key %s is not in the doc.go example", key)
		}
	}
}
