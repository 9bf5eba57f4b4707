package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"

	"github.com/BurntSushi/toml"
)

// Load reads the file at path and parses it; see Parse. An error reading
// the file is returned as it is (an *fs.PathError, wrapped); a problem in
// its content as Errors.
func Load(path string) (*Config, error) {
	return load(path, Parse)
}

// LoadInit is Load for a file that only miniinit reads; see ParseInit.
func LoadInit(path string) (*Config, error) {
	return load(path, ParseInit)
}

func load(path string, parse func(string, []byte) (*Config, error)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return parse(path, data)
}

// Parse decodes and validates a configuration, naming it name in messages
// and in Config.File, and fills in the defaults (see applyDefaults).
//
// On any problem it returns a nil *Config and an Errors value holding every
// problem found, each at its file:line:col. A syntax error stops parsing,
// so it is reported alone; otherwise unknown keys, wrong types, bad values
// and broken rules all come together.
func Parse(name string, data []byte) (*Config, error) {
	return parse(name, data, false)
}

// ParseInit is Parse for a configuration that only miniinit reads (`miniinit
// -c`, an image's ENTRYPOINT): a root filesystem is minispawn's business,
// so rootfs is not required. When present it is checked all the same.
func ParseInit(name string, data []byte) (*Config, error) {
	return parse(name, data, true)
}

func parse(name string, data []byte, initOnly bool) (*Config, error) {
	// 1. Syntax: BurntSushi/toml parses into generic values. Nothing
	//    else can be checked in a document that does not parse.
	var raw map[string]any
	if _, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&raw); err != nil {
		return nil, Errors{syntaxError(name, data, err)}
	}
	r := &reporter{file: name, ps: indexPositions(data), raw: raw, initOnly: initOnly}

	// 2. Schema and types: every key known, every value of its type.
	var c Config
	r.decode(nil, raw, reflect.ValueOf(&c).Elem())

	// 3. Rules, on the values as written: before the defaults, so that
	//    an explicit bad value ("grace = '0s'") is not hidden by one.
	for _, check := range checks {
		check(r, &c)
	}
	if len(r.errs) > 0 {
		r.errs.sort()
		return nil, r.errs
	}

	// 4. Defaults, into what is now known to be valid.
	c.File = name
	applyDefaults(&c, r.defined)
	return &c, nil
}

// syntaxError turns what BurntSushi/toml returned into our form.
func syntaxError(name string, data []byte, err error) *Error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return &Error{File: name, Line: 1, Col: 1, Msg: oneLine("syntax error: " + err.Error())}
	}
	at := errorPos(stripBOM(data), pe.Position)
	return &Error{File: name, Line: at.line, Col: at.col, Msg: oneLine("syntax error: " + pe.Message)}
}

// errorPos places a parse error by its byte offset, Start, which is what
// the library's lexer knows best. Its Line is that of the lexer after the
// offending byte (one too far when that byte is a newline), and its Col is
// recomputed from Start in a way that can disagree with Line; the error's
// span may also begin with the blank before the offending word.
func errorPos(data []byte, p toml.Position) pos {
	start := p.Start
	if start < 0 || start > len(data) || start == 0 && p.Line > 1 {
		return pos{max(p.Line, 1), max(p.Col, 1)}
	}
	for n := p.Len; n > 1 && start < len(data) && (data[start] == ' ' || data[start] == '\t'); n-- {
		start++
	}
	line := 1 + bytes.Count(data[:start], []byte("\n"))
	col := start - (bytes.LastIndexByte(data[:start], '\n') + 1) + 1
	return pos{line, col}
}
