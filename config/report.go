package config

import (
	"fmt"
	"strconv"
	"strings"
)

// reporter collects the problems of one file, each at the position of the
// path it concerns.
type reporter struct {
	file string
	ps   *positions
	raw  map[string]any // the document as BurntSushi/toml parsed it
	errs Errors
	// bad holds the paths whose values could not be decoded. Their fields
	// keep zero values, so checks on them (or below them) would only add
	// noise such as "command is required" under "command must be a
	// string": errorf drops those.
	bad []path
	// initOnly: the configuration is miniinit's alone (ParseInit), which
	// needs no root filesystem.
	initOnly bool
}

// errorf reports a problem at p; when p is not written in the file (a
// missing key), at its nearest written ancestor, such as the table header.
func (r *reporter) errorf(p path, format string, args ...any) {
	for _, b := range r.bad {
		if p.hasPrefix(b) {
			return
		}
	}
	at := r.ps.lookup(p)
	r.errs = append(r.errs, &Error{
		File: r.file, Line: at.line, Col: at.col,
		Msg: oneLine(fmt.Sprintf(format, args...)),
		Key: p.dotted(),
	})
}

// fail reports a value at p that cannot be decoded, and marks p bad.
func (r *reporter) fail(p path, format string, args ...any) {
	r.errorf(p, "%s", describe(r.raw, p, fmt.Sprintf(format, args...)))
	r.bad = append(r.bad, p)
}

// defined reports whether p is written in the file, whatever its value.
func (r *reporter) defined(p path) bool {
	_, ok := lookupRaw(r.raw, p)
	return ok
}

func lookupRaw(raw map[string]any, p path) (any, bool) {
	var v any = raw
	for _, s := range p {
		switch t := v.(type) {
		case map[string]any:
			if s.isIndex {
				return nil, false
			}
			var ok bool
			if v, ok = t[s.key]; !ok {
				return nil, false
			}
		case []map[string]any:
			if !s.isIndex || s.index >= len(t) {
				return nil, false
			}
			v = t[s.index]
		case []any:
			if !s.isIndex || s.index >= len(t) {
				return nil, false
			}
			v = t[s.index]
		default:
			return nil, false
		}
	}
	return v, true
}

// describe prefixes msg with where p is, in words: the section first
// ("rootfs", `workload "web"`), then the rest of the key.
//
//	name           -> "name <msg>"
//	rootfs.path    -> "rootfs: path <msg>"
//	workload[1].env.A -> `workload "web": env.A <msg>`
//	rootfs.build[2] -> "rootfs: build #3 <msg>"
func describe(raw map[string]any, p path, msg string) string {
	section, rest := sectionOf(raw, p)
	subject := renderRest(rest)
	switch {
	case section == "":
		return subject + " " + msg
	case subject == "":
		return section + " " + msg
	}
	return section + ": " + subject + " " + msg
}

// sectionOf splits p into its section label and the rest. Only a path with
// something below the section has one: "name" is just a key.
func sectionOf(raw map[string]any, p path) (string, path) {
	if len(p) == 0 || p[0].isIndex {
		return "", p
	}
	if len(p) >= 2 && p[1].isIndex {
		return label(raw, p[0].key, p[1].index), p[2:]
	}
	if len(p) == 1 {
		return "", p
	}
	return tomlKey(p[0].key), p[1:]
}

// label names element i of the array of tables key: by its name when it
// has one, by its number (from 1, as a person counts) otherwise.
func label(raw map[string]any, key string, i int) string {
	if v, ok := lookupRaw(raw, path{}.key(key).index(i).key("name")); ok {
		if s, ok := v.(string); ok && s != "" {
			return tomlKey(key) + " " + strconv.Quote(s)
		}
	}
	return tomlKey(key) + " #" + strconv.Itoa(i+1)
}

func renderRest(p path) string {
	var b strings.Builder
	for n, s := range p {
		switch {
		case s.isIndex:
			b.WriteString(" #")
			b.WriteString(strconv.Itoa(s.index + 1))
		default:
			if n > 0 {
				b.WriteByte('.')
			}
			b.WriteString(tomlKey(s.key))
		}
	}
	return b.String()
}
