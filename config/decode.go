package config

import (
	"encoding"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// decode fills v from raw, the value BurntSushi/toml parsed at p, checking
// every key against the schema and every value against its field's type.
//
// Why not toml.Decode into the struct? Its decoder stops at the first
// mismatch, and it matches keys case-insensitively; we want every problem
// at once, and keys exactly as documented. So the library parses (and owns
// the TOML syntax), and this walk maps its generic values onto the types,
// with the same rules as the library's decoder for everything it accepts
// (a test and the fuzz target check that the two agree).
//
// The schema is the types themselves: a field with a `toml:"key"` tag is a
// key. Adding a key to the format is adding a field, plus its check in
// validate.go.
func (r *reporter) decode(p path, raw any, v reflect.Value) {
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		if s, ok := raw.(string); ok {
			if err := u.UnmarshalText([]byte(s)); err != nil {
				r.fail(p, "%v", err)
			}
			return
		}
		// Only an integer kind (ByteSize) also takes a bare number;
		// Duration's struct kind must not be read as a table.
		if _, ok := raw.(int64); !ok || !isInt(v.Kind()) {
			r.fail(p, "must be %s, not %s", wantOf(v.Type()), kindOf(raw))
			return
		}
	}
	switch v.Kind() {
	case reflect.String:
		if s, ok := raw.(string); ok {
			v.SetString(s)
			return
		}
	case reflect.Bool:
		if b, ok := raw.(bool); ok {
			v.SetBool(b)
			return
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, ok := raw.(int64); ok {
			if v.OverflowInt(n) {
				r.fail(p, "is %d, out of range for %s", n, wantOf(v.Type()))
				return
			}
			v.SetInt(n)
			return
		}
	case reflect.Float32, reflect.Float64:
		switch n := raw.(type) {
		case float64:
			v.SetFloat(n)
			return
		case int64:
			// As the library does: an integer is a float when it
			// converts exactly.
			if n >= -maxExactFloat && n <= maxExactFloat {
				v.SetFloat(float64(n))
				return
			}
			r.fail(p, "is %d, too large to be a float exactly", n)
			return
		}
	case reflect.Slice:
		if elems, ok := asArray(raw); ok {
			s := reflect.MakeSlice(v.Type(), len(elems), len(elems))
			for i, e := range elems {
				r.decode(p.index(i), e, s.Index(i))
			}
			v.Set(s)
			return
		}
	case reflect.Map:
		if m, ok := raw.(map[string]any); ok && v.Type().Key().Kind() == reflect.String {
			out := reflect.MakeMapWithSize(v.Type(), len(m))
			for _, k := range sortedKeys(m) {
				e := reflect.New(v.Type().Elem()).Elem()
				r.decode(p.key(k), m[k], e)
				out.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
			}
			v.Set(out)
			return
		}
	case reflect.Struct:
		if m, ok := raw.(map[string]any); ok {
			r.decodeStruct(p, m, v)
			return
		}
	}
	r.fail(p, "must be %s, not %s", wantOf(v.Type()), kindOf(raw))
}

func (r *reporter) decodeStruct(p path, m map[string]any, v reflect.Value) {
	s := schemaOf(v.Type())
	for _, k := range sortedKeys(m) {
		i, ok := s.fields[k]
		if !ok {
			r.unknown(p.key(k), s)
			continue
		}
		r.decode(p.key(k), m[k], v.Field(i))
	}
}

// unknown reports a key the schema does not have, with what would do.
func (r *reporter) unknown(p path, s *schema) {
	k := p[len(p)-1].key
	for _, known := range s.keys {
		if strings.EqualFold(known, k) {
			r.errorf(p, "%s", describePrefix(r.raw, p, "unknown key "+strconv.Quote(k)+
				" (keys are case-sensitive: did you mean "+strconv.Quote(known)+"?)"))
			return
		}
	}
	r.errorf(p, "%s", describePrefix(r.raw, p, "unknown key "+strconv.Quote(k)+
		" (known keys: "+strings.Join(s.keys, ", ")+")"))
}

// describePrefix is describe for a message that names the key itself: it
// says only which section the key is in.
func describePrefix(raw map[string]any, p path, msg string) string {
	section, rest := sectionOf(raw, p)
	if len(rest) > 1 {
		section += ": " + renderRest(rest[:len(rest)-1])
	}
	if section == "" {
		return msg
	}
	return section + ": " + msg
}

// maxExactFloat is the largest integer a float64 holds exactly, 2^53 - 1.
const maxExactFloat = 1<<53 - 1

func isInt(k reflect.Kind) bool {
	return reflect.Int <= k && k <= reflect.Int64
}

func asArray(raw any) ([]any, bool) {
	switch a := raw.(type) {
	case []any:
		return a, true
	case []map[string]any:
		out := make([]any, len(a))
		for i, t := range a {
			out[i] = t
		}
		return out, true
	}
	return nil, false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// schema is the keys of one struct type, from its toml tags.
type schema struct {
	fields map[string]int // key -> field index
	keys   []string       // sorted, for messages
}

var schemas sync.Map // reflect.Type -> *schema

func schemaOf(t reflect.Type) *schema {
	if s, ok := schemas.Load(t); ok {
		return s.(*schema)
	}
	s := &schema{fields: map[string]int{}}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
		if name == "" || name == "-" {
			continue
		}
		s.fields[name] = i
		s.keys = append(s.keys, name)
	}
	slices.Sort(s.keys)
	schemas.Store(t, s)
	return s
}

// wanter is implemented by the types with a TOML form of their own, to say
// in messages what that form is.
type wanter interface{ tomlWant() string }

// wantOf says, for messages, what a value of type t is written as.
func wantOf(t reflect.Type) string {
	if w, ok := reflect.New(t).Interface().(wanter); ok {
		return w.tomlWant()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "an array of " + plural(t.Elem())
	case reflect.Map:
		return "a table of " + plural(t.Elem())
	case reflect.Struct:
		return "a table"
	}
	return t.String()
}

func plural(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "strings"
	case reflect.Struct:
		return "tables"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "integers"
	}
	return "values"
}

// kindOf names, for messages, the TOML type of a parsed value.
func kindOf(raw any) string {
	switch raw.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date-time"
	case []map[string]any:
		return "an array of tables"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return "a value"
}
