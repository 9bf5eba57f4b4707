package config

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/minispawn/minispawn/mounts/options"
)

// Mount is one [[mount]] table: a bind of a host path, or a fresh tmpfs,
// mounted into the container's root after the standard mounts (/proc,
// /sys, /dev) and before /proc and /sys are masked, so it can never cover
// a mask. Its target is resolved inside the root: a symlink in the root
// cannot send it elsewhere.
type Mount struct {
	// Type is "bind" or "tmpfs".
	Type string `toml:"type"`
	// Source is the host path a bind mounts: absolute and clean. Binds
	// only.
	Source string `toml:"source"`
	// Target is where the mount goes in the container: absolute, clean,
	// not /, /dev, or in /proc or /sys (those are minispawn's).
	Target string `toml:"target"`
	// Options are mount(8) option names, one per item: "ro", "nosuid",
	// "noexec", ... (see mountFlagsAllowed). Every mount starts as
	// nosuid,nodev; "suid" and "dev" lift that. A bind is not recursive
	// unless "rbind" is given, and never loosens the flags of the host
	// mount its source is on.
	Options []string `toml:"options"`
	// Size caps a tmpfs, like the memory limit ("64M"); default: the
	// kernel's (half of RAM). Its pages count against limits.memory.
	Size ByteSize `toml:"size"`
	// Mode is the permission bits of a tmpfs's root directory, in octal
	// ("0755"); default: the kernel's, 1777.
	Mode Mode `toml:"mode"`
}

// Mode is a file mode's permission bits, written as an octal string.
type Mode uint32

// UnmarshalText reads up to four octal digits, with an optional leading 0
// ("755", "0755", "1777").
func (m *Mode) UnmarshalText(text []byte) error {
	s := string(text)
	v, err := strconv.ParseUint(s, 8, 32)
	if s == "" || len(s) > 5 || strings.TrimLeft(s, "01234567") != "" || err != nil || v > 0o7777 {
		return fmt.Errorf(`%q is not a mode (write octal permission bits, 0000 to 7777, as in "0755")`, text)
	}
	*m = Mode(v)
	return nil
}

// MarshalText writes m as four octal digits, which UnmarshalText reads back.
func (m Mode) MarshalText() ([]byte, error) {
	if m > 0o7777 {
		return nil, fmt.Errorf("mode %o has bits beyond 7777", uint32(m))
	}
	return []byte(fmt.Sprintf("%04o", uint32(m))), nil
}

func (*Mode) tomlWant() string { return `an octal mode like "0755"` }

// mountFlagsAllowed are the mount(8) flag names a [[mount]] may use, by
// type. Not allowed, with reason: remount and move (a plan step is one new
// mount), shared (a container's mounts have no business being peers of
// anything), and the sync/mand family, which no workload here needs.
var mountFlagsAllowed = map[string][]string{
	"bind": {"ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec",
		"noatime", "atime", "nodiratime", "diratime", "relatime", "norelatime",
		"strictatime", "nostrictatime", "nosymfollow", "symfollow",
		"bind", "rbind", "private", "rprivate", "slave", "rslave", "unbindable", "runbindable"},
	"tmpfs": {"ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec",
		"noatime", "atime", "nodiratime", "diratime", "relatime", "norelatime",
		"strictatime", "nostrictatime", "nosymfollow", "symfollow"},
}

// tmpfsDataAllowed are the tmpfs options (beyond size and mode, which
// have keys) passed to the kernel, each with a check of its value.
var tmpfsDataAllowed = map[string]func(string) bool{
	"nr_inodes": func(v string) bool {
		return isDigits(strings.TrimRight(v, "kmgKMG")) && len(v)-len(strings.TrimRight(v, "kmgKMG")) <= 1
	},
	"uid":  isDigits,
	"gid":  isDigits,
	"huge": func(v string) bool { return v == "never" || v == "always" || v == "within_size" || v == "advise" },
}

func isDigits(s string) bool { return s != "" && strings.TrimLeft(s, "0123456789") == "" }

// mountDefaults start every [[mount]]'s options: set-user-id files and
// device nodes on a mount the container's owner named are a way in for
// anyone who can write there, so they take an explicit "suid" or "dev".
const mountDefaults = "nosuid,nodev"

// checkOverlay: rootfs.overlay needs path, the overlay's lower layer (a
// built root is ephemeral already), and excludes readonly (an overlay
// takes writes and drops them at exit, a read-only root refuses them).
// With userns the overlay's lower layer is the idmapped root.
func checkOverlay(r *reporter, c *Config) {
	p := root.key("rootfs").key("overlay")
	if !c.Rootfs.Overlay {
		return
	}
	if !r.defined(root.key("rootfs").key("path")) {
		r.errorf(p, "rootfs: overlay needs path (the directory the overlay shows; a root made with build is discarded at exit already)")
	}
	if c.Rootfs.ReadOnly {
		r.errorf(p, "rootfs: set overlay or readonly, not both (overlay drops the container's writes at exit, readonly refuses them)")
	}
}

// checkMounts applies the rules of [[mount]], every problem of every table.
func checkMounts(r *reporter, c *Config) {
	p := root.key("mount")
	targets := map[string]int{} // target -> index of first use
	for i := range c.Mounts {
		m := &c.Mounts[i]
		mp := p.index(i)
		who := label(r.raw, "mount", i)
		switch m.Type {
		case "bind", "tmpfs":
		case "":
			r.errorf(mp.key("type"), `%s: type is required: "bind" (a host path) or "tmpfs" (a new, empty filesystem)`, who)
		default:
			r.errorf(mp.key("type"), `%s: type %q is not supported: "bind" or "tmpfs"`, who, m.Type)
		}

		hasSource := r.defined(mp.key("source"))
		switch {
		case m.Type == "bind" && !hasSource:
			r.errorf(mp.key("source"), "%s: source is required for a bind (the host path to mount)", who)
		case m.Type == "bind":
			checkAbs(r, mp.key("source"), who+": source", m.Source, "")
		case m.Type == "tmpfs" && hasSource:
			r.errorf(mp.key("source"), "%s: source is for binds only; a tmpfs starts empty", who)
		}

		if !r.defined(mp.key("target")) {
			r.errorf(mp.key("target"), "%s: target is required (an absolute path in the container)", who)
		} else if abs, problem := isAbsClean(m.Target), targetProblem(m.Target); !abs {
			checkAbs(r, mp.key("target"), who+": target", m.Target, "")
		} else if problem != "" {
			r.errorf(mp.key("target"), "%s: target %q %s", who, m.Target, problem)
		} else if first, dup := targets[m.Target]; dup {
			at := r.ps.lookup(p.index(first).key("target"))
			r.errorf(mp.key("target"), "%s: target %q is already used by the mount at line %d; one mount per target", who, m.Target, at.line)
		} else {
			targets[m.Target] = i
		}

		// A zero written explicitly is an error, not the default (as for
		// grace): tmpfs reads size=0 as "no limit", and mode 0000 is
		// more likely a slip than a wish.
		for _, k := range []struct {
			key, zero, dflt string
			isZero          bool
		}{{"size", "more than 0", "half of RAM", m.Size <= 0}, {"mode", "other than 0000", "1777", m.Mode == 0}} {
			switch {
			case !r.defined(mp.key(k.key)):
			case m.Type == "bind":
				r.errorf(mp.key(k.key), "%s: %s is for tmpfs only", who, k.key)
			case m.Type == "tmpfs" && k.isZero:
				r.errorf(mp.key(k.key), "%s: %s must be %s (omit it for the kernel's default, %s)", who, k.key, k.zero, k.dflt)
			}
		}

		if m.Type == "bind" || m.Type == "tmpfs" {
			for _, prob := range m.optionProblems() {
				op := mp.key("options")
				if prob.item >= 0 {
					op = op.index(prob.item)
				}
				r.errorf(op, "%s: %s", who, prob.msg)
			}
		}
	}
}

// isAbsClean reports whether s is a path checkAbs accepts.
func isAbsClean(s string) bool {
	return filepath.IsAbs(s) && strings.IndexByte(s, 0) < 0 && filepath.Clean(s) == s
}

// targetProblem says why an absolute clean target is not allowed, or "".
func targetProblem(t string) string {
	under := func(dir string) bool { return t == dir || strings.HasPrefix(t, dir+"/") }
	switch {
	case t == "/":
		return "would cover the whole root (use rootfs for the root)"
	case under("/proc") || under("/sys"):
		return "is in /proc or /sys, which minispawn sets up, with parts masked or read-only, and keeps as they are"
	case t == "/dev":
		return "would cover the devices minispawn sets up in /dev; mount below /dev instead"
	}
	return ""
}

type optionProblem struct {
	item int // index in Options, or -1 for the options as a whole
	msg  string
}

// optionProblems checks m's options one by one, then together. m.Type is
// "bind" or "tmpfs".
func (m *Mount) optionProblems() []optionProblem {
	var probs []optionProblem
	bad := func(i int, format string, a ...any) {
		probs = append(probs, optionProblem{i, fmt.Sprintf(format, a...)})
	}
	allowed := mountFlagsAllowed[m.Type]
	for i, o := range m.Options {
		switch {
		case o == "":
			bad(i, "options #%d is empty", i+1)
			continue
		case strings.ContainsRune(o, ','):
			bad(i, "options #%d %q holds ','; write one option per item", i+1, o)
			continue
		}
		_, data, err := options.Parse(o)
		switch {
		case err != nil:
			bad(i, "options #%d %q: %v", i+1, o, err)
		case data == "": // a flag name ("rw" sets no bit, but is one)
			if !contains(allowed, o) {
				bad(i, "option %q is not allowed for a %s (allowed: %s)", o, m.Type, strings.Join(allowed, ", "))
			}
		case m.Type == "bind":
			bad(i, "option %q is not a mount flag; a bind takes no filesystem options", o)
		default:
			key, val, _ := strings.Cut(o, "=")
			check, ok := tmpfsDataAllowed[key]
			switch {
			case key == "size" || key == "mode":
				bad(i, "option %q: use the %s key instead", o, key)
			case !ok:
				bad(i, "option %q is not a tmpfs option minispawn passes on (allowed: ro, nosuid, ... and nr_inodes=, uid=, gid=, huge=)", o)
			case !check(val):
				bad(i, "option %q has a bad value", o)
			}
		}
	}
	if len(probs) > 0 {
		return probs
	}
	opts := m.optionString()
	flags, _, err := options.Parse(opts)
	if err != nil {
		// Said without the option string, which holds the defaults and
		// the implied bind the file does not show.
		msg := strings.TrimPrefix(err.Error(), fmt.Sprintf("mount options %q: ", opts))
		if strings.HasPrefix(msg, "recursion") {
			msg += ` (a bind is recursive only with "rbind")`
		}
		return []optionProblem{{-1, "options: " + msg}}
	}
	final := strings.Split(options.Format(flags, ""), ",")
	if contains(final, "rbind") && contains(final, "ro") {
		return []optionProblem{{-1, `"ro" with "rbind" would leave the mounts below the source writable; use a plain bind (the default), or drop ro`}}
	}
	return nil
}

// optionString is the mount(8) option string for m: the defaults, the
// bind itself, then the options as written (applied left to right, so
// "suid" lifts the default nosuid).
func (m *Mount) optionString() string {
	items := []string{mountDefaults}
	if m.Type == "bind" && !contains(m.Options, "rbind") {
		items = append(items, "bind")
	}
	return strings.Join(append(items, m.Options...), ",")
}

// Args are the mount(2) arguments m stands for (fstype is "" for a
// bind); m must come from a Config that Parse returned (and so is valid).
// minispawn's plan turns them into a mounts step; they are plain values
// so that this package, which miniinit links too, needs no package mounts.
func (m *Mount) Args() (source, fstype string, flags uintptr, data string) {
	flags, data, _ = options.Parse(m.optionString())
	if m.Type == "bind" {
		return m.Source, "", flags, ""
	}
	var fsData []string
	if m.Mode != 0 {
		fsData = append(fsData, fmt.Sprintf("mode=%04o", uint32(m.Mode)))
	}
	if m.Size > 0 {
		size, _ := m.Size.MarshalText()
		fsData = append(fsData, "size="+string(size))
	}
	if data != "" {
		fsData = append(fsData, data)
	}
	return "tmpfs", "tmpfs", flags, strings.Join(fsData, ",")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
