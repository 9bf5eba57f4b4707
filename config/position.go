package config

import (
	"bytes"

	"github.com/BurntSushi/toml"
)

// pos is a 1-based line and byte column.
type pos struct{ line, col int }

// positions maps every key, table and array element of a document to where
// it is written.
//
// BurntSushi/toml records a position for each key while parsing, but keeps
// it unexported (it surfaces only in the errors of its own decoder), and it
// keys positions by dotted name without array indices, so the second
// [[workload]]'s "command" overwrites the first's. We need both, so this is
// a second, small pass over the bytes. It runs only on documents the
// library has already parsed, so it can assume valid TOML; it still never
// loops or panics on anything, and a path it missed falls back to its
// nearest recorded ancestor (see at).
type positions struct {
	at       map[string]pos
	implicit map[string]bool // tables only created as a parent of another
}

// lookup returns where p, or failing that its nearest recorded ancestor,
// is written; the start of the file when nothing is.
func (ps *positions) lookup(p path) pos {
	for ; len(p) > 0; p = p.parent() {
		if at, ok := ps.at[p.id()]; ok {
			return at
		}
	}
	return pos{1, 1}
}

// record notes where p is written. The first definition wins, except that
// an explicit one (a header, a key) replaces a table only implied by a
// longer header ("[a.b]" implies "a" until "[a]" comes).
func (ps *positions) record(p path, at pos, implicit bool) {
	id := p.id()
	if _, ok := ps.at[id]; ok && (implicit || !ps.implicit[id]) {
		return
	}
	ps.at[id] = at
	ps.implicit[id] = implicit
}

// scanner walks the document. Offsets are bytes; col counts bytes.
type scanner struct {
	src       []byte
	i         int
	line, col int
	ps        *positions
	// tables counts the elements of each array of tables ("[[a]]") so far,
	// by path id: a later header's prefix refers to the last element.
	tables map[string]int
}

func indexPositions(data []byte) *positions {
	ps := &positions{at: map[string]pos{}, implicit: map[string]bool{}}
	s := &scanner{src: stripBOM(data), line: 1, col: 1, ps: ps, tables: map[string]int{}}
	s.document()
	return ps
}

// stripBOM drops a byte-order mark as BurntSushi/toml does, so that both
// count lines and columns from the same first byte.
func stripBOM(data []byte) []byte {
	switch {
	case bytes.HasPrefix(data, []byte("\xff\xfe")), bytes.HasPrefix(data, []byte("\xfe\xff")):
		return data[2:]
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
		return data[3:]
	}
	return data
}

func (s *scanner) eof() bool { return s.i >= len(s.src) }

func (s *scanner) peek() byte {
	if s.eof() {
		return 0
	}
	return s.src[s.i]
}

func (s *scanner) peekAt(n int) byte {
	if s.i+n >= len(s.src) {
		return 0
	}
	return s.src[s.i+n]
}

func (s *scanner) here() pos { return pos{s.line, s.col} }

func (s *scanner) next() {
	if s.eof() {
		return
	}
	if s.src[s.i] == '\n' {
		s.line++
		s.col = 1
	} else {
		s.col++
	}
	s.i++
}

func (s *scanner) skipSpace() {
	for c := s.peek(); c == ' ' || c == '\t'; c = s.peek() {
		s.next()
	}
}

// skipBlank skips spaces, newlines and comments: what may separate items
// at the top level, in arrays, and (TOML 1.1) in inline tables.
func (s *scanner) skipBlank() {
	for !s.eof() {
		switch s.peek() {
		case ' ', '\t', '\r', '\n':
			s.next()
		case '#':
			s.skipLine()
		default:
			return
		}
	}
}

// skipLine moves to the start of the next line.
func (s *scanner) skipLine() {
	for !s.eof() && s.peek() != '\n' {
		s.next()
	}
	s.next()
}

func (s *scanner) document() {
	var table path // the table that key/value lines add to
	for {
		s.skipBlank()
		if s.eof() {
			return
		}
		start := s.i
		if s.peek() == '[' {
			table = s.header()
		} else {
			s.keyValue(table)
		}
		// Whatever is left on the line is a comment (the document is
		// valid TOML); skip it, and never stall on a byte we did not
		// understand.
		s.skipSpace()
		if s.peek() == '#' || s.i == start {
			s.skipLine()
		}
	}
}

// header reads "[a.b]" or "[[a.b]]" and returns the table it opens.
func (s *scanner) header() path {
	at := s.here()
	s.next()
	array := s.peek() == '['
	if array {
		s.next()
	}
	s.skipSpace()
	keys := s.key()
	s.skipSpace()
	for s.peek() == ']' {
		s.next()
	}
	var p path
	for n, k := range keys {
		p = p.key(k.name)
		last := n == len(keys)-1
		switch {
		case last && array:
			s.ps.record(p, at, false)
			count := s.tables[p.id()]
			s.tables[p.id()] = count + 1
			p = p.index(count)
			s.ps.record(p, at, false)
		case last:
			s.ps.record(p, at, false)
		default:
			s.ps.record(p, k.at, true)
			if count, ok := s.tables[p.id()]; ok {
				p = p.index(count - 1)
			}
		}
	}
	return p
}

// keyValue reads "a.b.c = value" in table.
func (s *scanner) keyValue(table path) {
	keys := s.key()
	if len(keys) == 0 {
		return
	}
	p := table
	for n, k := range keys {
		p = p.key(k.name)
		s.ps.record(p, k.at, n < len(keys)-1)
	}
	s.skipSpace()
	if s.peek() != '=' {
		return
	}
	s.next()
	s.skipSpace()
	s.value(p)
}

// value reads one value belonging to p, recording the keys of inline
// tables and the elements of arrays below it.
func (s *scanner) value(p path) {
	switch s.peek() {
	case '{':
		s.next()
		for !s.eof() {
			s.skipBlank()
			switch s.peek() {
			case '}':
				s.next()
				return
			case ',':
				s.next()
				continue
			}
			start := s.i
			s.keyValue(p)
			if s.i == start {
				s.next()
			}
		}
	case '[':
		s.next()
		for n := 0; !s.eof(); {
			s.skipBlank()
			switch s.peek() {
			case ']':
				s.next()
				return
			case ',':
				s.next()
				continue
			}
			start := s.i
			elem := p.index(n)
			s.ps.record(elem, s.here(), false)
			s.value(elem)
			n++
			if s.i == start {
				s.next()
			}
		}
	case '"', '\'':
		s.str()
	default:
		// A number, boolean or date: it ends where the enclosing
		// structure resumes. A local date-time may hold a space.
		for !s.eof() {
			switch s.peek() {
			case ',', ']', '}', '#', '\r', '\n':
				return
			}
			s.next()
		}
	}
}

// str skips a string of any of the four kinds.
func (s *scanner) str() {
	q := s.peek()
	if s.peekAt(1) == q && s.peekAt(2) == q {
		s.next()
		s.next()
		s.next()
		for !s.eof() {
			switch c := s.peek(); {
			case c == '\\' && q == '"':
				s.next()
				s.next()
			case c == q && s.peekAt(1) == q && s.peekAt(2) == q:
				// Up to two quotes may end the content right before
				// the closing three: consume the whole run.
				for n := 0; n < 5 && s.peek() == q; n++ {
					s.next()
				}
				return
			default:
				s.next()
			}
		}
		return
	}
	s.next()
	for !s.eof() {
		switch c := s.peek(); {
		case c == '\n':
			return
		case c == '\\' && q == '"':
			s.next()
			s.next()
		case c == q:
			s.next()
			return
		default:
			s.next()
		}
	}
}

type keyPart struct {
	name string
	at   pos
}

// key reads a dotted key: bare, "basic" or 'literal' parts joined by dots.
func (s *scanner) key() []keyPart {
	var parts []keyPart
	for {
		s.skipSpace()
		at, start := s.here(), s.i
		switch s.peek() {
		case '"', '\'':
			s.str()
		default:
			for !s.eof() && isBareKeyChar(s.peek()) {
				s.next()
			}
		}
		if s.i == start {
			return parts
		}
		parts = append(parts, keyPart{name: unquoteKey(s.src[start:s.i]), at: at})
		s.skipSpace()
		if s.peek() != '.' {
			return parts
		}
		s.next()
	}
}

// unquoteKey turns a key as written into the key BurntSushi/toml reports.
// Escapes in "basic" keys are left to the library itself, by parsing the
// key as a value: its rules (\e, \xHH, \u, \U...) are then ours by
// construction.
func unquoteKey(raw []byte) string {
	if len(raw) < 2 {
		return string(raw)
	}
	switch raw[0] {
	case '\'':
		return string(raw[1 : len(raw)-1])
	case '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1])
		}
		var v struct{ K string }
		if _, err := toml.Decode("K = "+string(raw), &v); err == nil {
			return v.K
		}
		return string(raw[1 : len(raw)-1])
	}
	return string(raw)
}
