package config

import (
	"strconv"
	"strings"
)

// A path names one place in the TOML document: a key, a table, an array
// element. It is how decoding and validation tell the position index which
// line:column a problem belongs to.
//
// Paths are built by appending, so every step copies: two paths that share
// a prefix must never share a backing array.
type path []step

// step is a key, or (isIndex) an array index.
type step struct {
	key     string
	index   int
	isIndex bool
}

func (p path) key(k string) path {
	return append(p[:len(p):len(p)], step{key: k})
}

func (p path) index(i int) path {
	return append(p[:len(p):len(p)], step{index: i, isIndex: true})
}

func (p path) parent() path { return p[:len(p)-1] }

// id is an unambiguous identifier for p, for map keys: keys are quoted, so
// a key holding '.' or '[' cannot be mistaken for two steps or an index.
func (p path) id() string {
	var b strings.Builder
	for _, s := range p {
		if s.isIndex {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
			continue
		}
		b.WriteByte('.')
		b.WriteString(strconv.Quote(s.key))
	}
	return b.String()
}

// dotted renders p as it reads in TOML, array elements by index:
// limits.memory, workload[0].env.
func (p path) dotted() string {
	var b strings.Builder
	for _, s := range p {
		if s.isIndex {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tomlKey(s.key))
	}
	return b.String()
}

// hasPrefix reports whether q is p or one of its ancestors.
func (p path) hasPrefix(q path) bool {
	if len(q) > len(p) {
		return false
	}
	for i := range q {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

// tomlKey renders keys the way they are written in TOML: bare when they
// can be, quoted otherwise.
func tomlKey(k string) string {
	if k == "" {
		return `""`
	}
	for _, r := range k {
		if r >= 0x80 || !isBareKeyChar(byte(r)) {
			return strconv.Quote(k)
		}
	}
	return k
}

func isBareKeyChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}
