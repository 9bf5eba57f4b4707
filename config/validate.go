package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// checks are the semantic rules, one function per section, run in this
// order on the decoded (not yet defaulted) Config. Each reports every
// problem it finds; none stops at the first. A new key's rule goes into its
// section's function, or a new function here.
var checks = []func(*reporter, *Config){
	checkName,
	checkHostname,
	checkRootfs,
	checkOverlay, // mounts.go
	checkLimits,
	checkInit,
	checkSecurity, // security.go
	checkUserNS,   // userns.go
	checkWorkloads,
	checkSupervision,          // supervision.go
	checkWorkloadCapabilities, // security.go
	checkSignals,              // supervision.go
	checkMounts,               // mounts.go
	checkSystemd,              // systemd.go
}

// Limits on names. Container names become cgroup directory names, and by
// default hostnames, so they share the kernel's hostname limit.
const (
	maxNameLen     = 64
	maxHostnameLen = 64 // HOST_NAME_MAX
	maxLabelLen    = 63 // RFC 1123
)

var root path

func checkName(r *reporter, c *Config) {
	p := root.key("name")
	if c.Name == "" {
		r.errorf(p, `name is required (letters, digits, '-', '_' and '.', at most %d)`, maxNameLen)
		return
	}
	if problem := nameProblem(c.Name); problem != "" {
		r.errorf(p, "name %q %s", c.Name, problem)
	}
}

// nameProblem says what is wrong with a container or workload name, or ""
// when nothing is. Names are used as file names (cgroups), hence no '/',
// and no leading '.', which would allow "." and "..".
func nameProblem(s string) string {
	if len(s) > maxNameLen {
		return fmt.Sprintf("is %d bytes long; at most %d are allowed", len(s), maxNameLen)
	}
	if s[0] == '.' {
		return "must not start with '.'"
	}
	if c, bad := firstNotIn(s, "."); bad {
		return fmt.Sprintf("has %s; only letters, digits, '-', '_' and '.' are allowed", c)
	}
	return ""
}

func checkHostname(r *reporter, c *Config) {
	p := root.key("hostname")
	switch {
	case c.Hostname != "":
		if problem := hostnameProblem(c.Hostname); problem != "" {
			r.errorf(p, "hostname %q %s", c.Hostname, problem)
		}
	case r.defined(p):
		r.errorf(p, "hostname must not be empty (omit it to use name)")
	case c.Name != "" && nameProblem(c.Name) == "":
		// The default: the name must then make a hostname too.
		if problem := hostnameProblem(c.Name); problem != "" {
			r.errorf(root.key("name"), "name %q is not a valid hostname (it %s); set hostname", c.Name, problem)
		}
	}
}

// hostnameProblem applies RFC 1123: dot-separated labels of letters,
// digits and '-', each 1 to 63 long and not starting or ending with '-';
// and the kernel's 64-byte limit on the whole.
func hostnameProblem(s string) string {
	if len(s) > maxHostnameLen {
		return fmt.Sprintf("is %d bytes long; at most %d are allowed", len(s), maxHostnameLen)
	}
	for label := range strings.SplitSeq(s, ".") {
		switch {
		case label == "":
			return "has an empty label; labels are separated by single dots"
		case len(label) > maxLabelLen:
			return fmt.Sprintf("has a label of %d bytes; at most %d are allowed", len(label), maxLabelLen)
		case label[0] == '-' || label[len(label)-1] == '-':
			return fmt.Sprintf("has label %q starting or ending with '-'", label)
		}
		for _, c := range []byte(label) {
			if !isBareKeyChar(c) || c == '_' {
				return fmt.Sprintf("has %q; only letters, digits, '-' and '.' are allowed", rune(c))
			}
		}
	}
	return ""
}

func checkRootfs(r *reporter, c *Config) {
	p := root.key("rootfs")
	fs := &c.Rootfs
	hasPath, hasBuild := r.defined(p.key("path")), r.defined(p.key("build"))
	switch {
	case fs.Path != "" && len(fs.Build) > 0:
		r.errorf(p.key("build"), "rootfs: set path or build, not both (path uses an existing directory, build makes a root from host binaries)")
	case !hasPath && !hasBuild && !r.initOnly:
		r.errorf(p, "rootfs: path (an existing directory) or build (a list of host binaries) is required")
	}
	if hasPath {
		checkAbs(r, p.key("path"), "rootfs: path", fs.Path, "")
	}
	if hasBuild && len(fs.Build) == 0 {
		r.errorf(p.key("build"), "rootfs: build must list at least one binary")
	}
	for i, b := range fs.Build {
		checkAbs(r, p.key("build").index(i), fmt.Sprintf("rootfs: build #%d", i+1), b, "")
	}
	if r.defined(p.key("cache")) {
		if !hasBuild {
			r.errorf(p.key("cache"), "rootfs: cache needs build (it keeps a built root; path is used as it is)")
		}
		checkAbs(r, p.key("cache"), "rootfs: cache", fs.Cache, "")
		if fs.Cache == "/" {
			r.errorf(p.key("cache"), "rootfs: cache must not be /")
		}
	}
}

// checkAbs reports a path that is not absolute and clean: the container is
// set up from a directory the user did not start in, and "." or ".."
// would hide what is really used.
func checkAbs(r *reporter, p path, what, s, hint string) {
	switch {
	case s == "":
		r.errorf(p, "%s must not be empty%s", what, hint)
	case strings.IndexByte(s, 0) >= 0:
		r.errorf(p, "%s %q must not contain NUL", what, s)
	case !filepath.IsAbs(s):
		r.errorf(p, "%s %q must be an absolute path%s", what, s, hint)
	case filepath.Clean(s) != s:
		r.errorf(p, "%s %q is not clean; write %q", what, s, filepath.Clean(s))
	}
}

func checkInit(r *reporter, c *Config) {
	p := root.key("init")
	if r.defined(p.key("grace")) && c.Init.Grace.Duration <= 0 {
		r.errorf(p.key("grace"), "init: grace must be positive, got %q (omit it for the default %v)", c.Init.Grace.Duration, DefaultGrace)
	}
	if rep := c.Init.Report; r.defined(p.key("report")) && rep != "-" {
		checkAbs(r, p.key("report"), "init: report", rep, ` (or "-" for stderr)`)
	}
	positive(r, p.key("stop_budget"), "init: stop_budget", c.Init.StopBudget, "omit it for the default "+DefaultStopBudget.String())
	if r.defined(p.key("control")) {
		checkAbs(r, p.key("control"), "init: control", c.Init.Control, "")
		if len(c.Init.Control) > maxSocketPath {
			r.errorf(p.key("control"), "init: control is %d bytes long; a unix socket path holds at most %d", len(c.Init.Control), maxSocketPath)
		}
	}
}

func checkWorkloads(r *reporter, c *Config) {
	p := root.key("workload")
	if len(c.Workloads) == 0 {
		r.errorf(p, "at least one [[workload]] is required")
		return
	}
	seen := map[string]int{} // name -> index of first use
	mains := []int{}
	for i := range c.Workloads {
		w := &c.Workloads[i]
		wp := p.index(i)
		who := label(r.raw, "workload", i)
		switch {
		case w.Name == "":
			r.errorf(wp.key("name"), "%s: name is required (letters, digits, '-', '_' and '.', unique)", who)
		case nameProblem(w.Name) != "":
			r.errorf(wp.key("name"), "%s: name %s", who, nameProblem(w.Name))
		default:
			if first, dup := seen[w.Name]; dup {
				at := r.ps.lookup(p.index(first))
				r.errorf(wp.key("name"), "%s: name is already used by the workload at line %d; names must be unique", who, at.line)
			} else {
				seen[w.Name] = i
			}
		}
		switch {
		case w.Command == "":
			r.errorf(wp.key("command"), "%s: command is required (an absolute path, or a name looked up in PATH)", who)
		case strings.IndexByte(w.Command, 0) >= 0:
			r.errorf(wp.key("command"), "%s: command must not contain NUL", who)
		}
		for j, a := range w.Args {
			if strings.IndexByte(a, 0) >= 0 {
				r.errorf(wp.key("args").index(j), "%s: args #%d must not contain NUL", who, j+1)
			}
		}
		if r.defined(wp.key("cwd")) {
			checkAbs(r, wp.key("cwd"), who+": cwd", w.Cwd, "")
		}
		checkEnv(r, wp.key("env"), who, w.Env)
		if w.Main {
			mains = append(mains, i)
		}
	}
	if len(mains) > 1 {
		first := r.ps.lookup(p.index(mains[0]).key("main"))
		for _, i := range mains[1:] {
			r.errorf(p.index(i).key("main"), "%s: only one workload may set main = true; it is already set at line %d", label(r.raw, "workload", i), first.line)
		}
	}
	// None may be main: the container then runs until every workload
	// has ended for good (doc.go, "The main workload").
}

func checkEnv(r *reporter, p path, who string, env map[string]string) {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch {
		case k == "":
			r.errorf(p.key(k), "%s: env has an empty variable name", who)
		case strings.ContainsAny(k, "=\x00"):
			r.errorf(p.key(k), "%s: env name %q must not contain '=' or NUL", who, k)
		}
		if strings.IndexByte(env[k], 0) >= 0 {
			r.errorf(p.key(k), "%s: env value of %s must not contain NUL", who, tomlKey(k))
		}
	}
}

// anyBad reports whether a value at or below p failed to decode: then a
// rule counting over p would count wrong.
func (r *reporter) anyBad(p path) bool {
	for _, b := range r.bad {
		if b.hasPrefix(p) {
			return true
		}
	}
	return false
}

// firstNotIn finds the first character of s that is neither a bare-key
// character nor in extra, and quotes it whole: a UTF-8 sequence as its
// character ('é'), an invalid byte as its value ('\xc3').
func firstNotIn(s, extra string) (string, bool) {
	for i, r := range s {
		if r < 0x80 && (isBareKeyChar(byte(r)) || strings.ContainsRune(extra, r)) {
			continue
		}
		if r == utf8.RuneError {
			return fmt.Sprintf("'\\x%02x'", s[i]), true
		}
		return strconv.QuoteRune(r), true
	}
	return "", false
}
