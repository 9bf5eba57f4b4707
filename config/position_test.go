package config

import (
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// p builds a path from keys and (int) indices, for tests.
func p(steps ...any) path {
	var out path
	for _, s := range steps {
		switch s := s.(type) {
		case string:
			out = out.key(s)
		case int:
			out = out.index(s)
		}
	}
	return out
}

// trickyDoc has every way of writing keys and tables the position index
// must handle; it also seeds FuzzParse.
const trickyDoc = "" +
	"a = 1 # comment with [brackets] and = signs\n" + // 1
	"b.c.d = \"x#y\"\n" + // 2
	"\"q.k\" = 'lit'\n" + // 3
	"\"esc\\u0041\" = \"\\\"]\"\n" + // 4
	"ml = \"\"\"\n" + // 5
	"[not.a.table]\n" + // 6
	"k = \"\"\"\"\"\n" + // 7: the string ends here, with two quotes in it
	"arr = [ 1, [2, 3], { x = 1 } ]\n" + // 8
	"[[w]]\n" + // 9
	"name = 'first'\n" + // 10
	"  [w.env]\n" + // 11
	"  K = 'v'\n" + // 12
	"[[w]]\n" + // 13
	"in = { a.b = 1, c = { d = 2 } }\n" + // 14
	"[[w.sub]]\n" + // 15
	"[[w.sub]]\n" + // 16
	"s = 1\n" + // 17
	"[t.u]\n" + // 18
	"[t]\n" + // 19
	"v = 1979-05-27 07:32:00\n" + // 20
	"ws = [\n" + // 21
	"  { n = 1 },\n" + // 22
	"  { n = 2 },\n" + // 23
	"]\n" // 24

func TestPositions(t *testing.T) {
	const doc = trickyDoc
	var m map[string]any
	if _, err := toml.Decode(doc, &m); err != nil {
		t.Fatalf("test document is not valid TOML: %v", err)
	}
	ps := indexPositions([]byte(doc))
	tests := []struct {
		path path
		want pos
	}{
		{p("a"), pos{1, 1}},
		{p("b"), pos{2, 1}},
		{p("b", "c"), pos{2, 3}},
		{p("b", "c", "d"), pos{2, 5}},
		{p("q.k"), pos{3, 1}},
		{p("escA"), pos{4, 1}},
		{p("ml"), pos{5, 1}},
		{p("arr"), pos{8, 1}},
		{p("arr", 0), pos{8, 9}},
		{p("arr", 1), pos{8, 12}},
		{p("arr", 1, 1), pos{8, 16}},
		{p("arr", 2), pos{8, 20}},
		{p("arr", 2, "x"), pos{8, 22}},
		{p("w"), pos{9, 1}},
		{p("w", 0), pos{9, 1}},
		{p("w", 0, "name"), pos{10, 1}},
		{p("w", 0, "env"), pos{11, 3}},
		{p("w", 0, "env", "K"), pos{12, 3}},
		{p("w", 1), pos{13, 1}},
		{p("w", 1, "in"), pos{14, 1}},
		{p("w", 1, "in", "a"), pos{14, 8}},
		{p("w", 1, "in", "a", "b"), pos{14, 10}},
		{p("w", 1, "in", "c", "d"), pos{14, 23}},
		{p("w", 1, "sub", 0), pos{15, 1}},
		{p("w", 1, "sub", 1), pos{16, 1}},
		{p("w", 1, "sub", 1, "s"), pos{17, 1}},
		{p("t", "u"), pos{18, 1}},
		{p("t"), pos{19, 1}}, // explicit header wins over the implicit parent
		{p("t", "v"), pos{20, 1}},
		{p("t", "ws", 0, "n"), pos{22, 5}},
		{p("t", "ws", 1), pos{23, 3}},
		// Not written: the nearest written ancestor, or the file start.
		{p("w", 1, "command"), pos{13, 1}},
		{p("nothing", "here"), pos{1, 1}},
	}
	for _, tt := range tests {
		if got := ps.lookup(tt.path); got != tt.want {
			t.Errorf("%s: got %d:%d, want %d:%d", tt.path.id(), got.line, got.col, tt.want.line, tt.want.col)
		}
	}
	// Nothing in the multi-line string or the comment is a key.
	for _, fake := range []path{p("not"), p("brackets"), p("k"), p("w", 0, "x"), p("ws")} {
		if _, ok := ps.at[fake.id()]; ok {
			t.Errorf("%s recorded, but is not a key", fake.id())
		}
	}
	assertComplete(t, doc, m, ps)
}

// TestPositionsBOMAndCRLF: a byte-order mark is not a column, and a CRLF
// line ending is one line break.
func TestPositionsBOMAndCRLF(t *testing.T) {
	doc := "\xef\xbb\xbfa = 1\r\n[t]\r\n  b = 2\r\n"
	ps := indexPositions([]byte(doc))
	for _, tt := range []struct {
		path path
		want pos
	}{{p("a"), pos{1, 1}}, {p("t"), pos{2, 1}}, {p("t", "b"), pos{3, 3}}} {
		if got := ps.lookup(tt.path); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.path.id(), got, tt.want)
		}
	}
}

// assertComplete checks that every key, table and array element of the
// parsed document has a position of its own (no fallback to an ancestor).
func assertComplete(t testing.TB, doc string, m map[string]any, ps *positions) {
	t.Helper()
	var walk func(p path, v any)
	walk = func(p path, v any) {
		if len(p) > 0 {
			if _, ok := ps.at[p.id()]; !ok {
				t.Fatalf("no position for %s in:\n%s", p.id(), doc)
			}
		}
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				walk(p.key(k), e)
			}
		case []map[string]any:
			for i, e := range v {
				walk(p.index(i), e)
			}
		case []any:
			for i, e := range v {
				walk(p.index(i), e)
			}
		}
	}
	walk(nil, m)
}

func TestPathID(t *testing.T) {
	// Keys holding the separators must not collide with real structure.
	ids := map[string]path{}
	for _, q := range []path{p("a", "b"), p("a.b"), p(`a"`, "b"), p("a", 0), p("a[0]"), p("a", "0"), p("")} {
		if prev, dup := ids[q.id()]; dup {
			t.Errorf("%v and %v share id %s", prev, q, q.id())
		}
		ids[q.id()] = q
	}
	// Appending to a shared prefix must not clobber the other path.
	base := make(path, 0, 8).key("x")
	one, two := base.key("1"), base.key("2")
	if one.id() == two.id() {
		t.Errorf("paths built from one prefix alias each other: %s", one.id())
	}
	if !strings.HasPrefix(one.id(), base.id()) || !one.hasPrefix(base) || base.hasPrefix(one) {
		t.Errorf("hasPrefix wrong")
	}
}

func TestErrorPosition(t *testing.T) {
	tests := []struct {
		doc  string
		want string
	}{
		{"a = 1\nb = \n", "2:5"},
		{"a = 1\n[x\n", "2:3"},                // the newline ending the line
		{"a = 1\na = 2\n", "2:1"},             // the duplicate key
		{"a = 1\nb = 2 y\n", "2:7"},           // the stray word, not the blank
		{"\xef\xbb\xbfa = 1\nb = !\n", "2:5"}, // BOM not counted
		{"a = [1,\n", "1:8"},                  // the last newline: the file ends there
		{"a = \"\x00\"", "1:6"},
	}
	for _, tt := range tests {
		_, err := Parse("f", []byte(tt.doc))
		if err == nil {
			t.Errorf("%q: no error", tt.doc)
			continue
		}
		if !strings.HasPrefix(err.Error(), "f:"+tt.want+": syntax error: ") {
			t.Errorf("%q: got %q, want position %s", tt.doc, err, tt.want)
		}
	}
}
