package confine

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Spec is a confinement plan: what Apply does to the calling thread (and,
// for the process-wide items, its process) before exec. The zero Spec
// keeps the default capability set, clears supplementary groups and
// changes nothing else; Default adds no_new_privs and the default seccomp
// profile, and is what a container should start from.
type Spec struct {
	// NoNewPrivs sets no_new_privs: execve never grants privileges again
	// (setuid and setgid bits and file capabilities are ignored), and a
	// seccomp filter can be loaded without CAP_SYS_ADMIN.
	NoNewPrivs bool

	// Capabilities is the bounding set to keep, by name ("CAP_CHOWN");
	// every other capability is dropped. The effective and permitted
	// sets become the same list (as far as the thread had them); the
	// inheritable and ambient sets are cleared. nil means
	// DefaultCapabilities; an empty, non-nil list keeps none.
	Capabilities []string `json:",omitempty"`
	// AllCapabilities keeps every capability the thread has; it excludes
	// Capabilities. Inheritable and ambient sets are still cleared.
	AllCapabilities bool `json:",omitempty"`

	// Seccomp is the filter to load last; nil loads none.
	Seccomp *SeccompProfile `json:",omitempty"`

	// Rlimits sets resource limits by name ("nofile"; see RlimitNames).
	Rlimits map[string]Rlimit `json:",omitempty"`
	// OOMScoreAdj, when set, is written to /proc/self/oom_score_adj
	// (-1000..1000).
	OOMScoreAdj *int `json:",omitempty"`

	// UID and GID, when set, become the real, effective and saved ids.
	UID *uint32 `json:",omitempty"`
	GID *uint32 `json:",omitempty"`
	// Groups is the exact supplementary group list. It is always set,
	// nil meaning none: groups are never inherited from the caller.
	Groups []uint32 `json:",omitempty"`

	// Umask, when set, is the new file mode creation mask (0..0777).
	Umask *uint32 `json:",omitempty"`
}

// Default is the hardened container default: no_new_privs, the default
// capability set, the default seccomp profile, no supplementary groups.
func Default() Spec {
	return Spec{NoNewPrivs: true, Seccomp: DefaultSeccomp()}
}

// maxGroups is NGROUPS_MAX.
const maxGroups = 65536

// Validate checks every name and range, so that Apply fails before it
// changes anything. Errors name the field and list the valid names.
func (s Spec) Validate() error {
	var errs []error
	if s.AllCapabilities && s.Capabilities != nil {
		errs = append(errs, errors.New("capabilities: AllCapabilities and a Capabilities list exclude each other"))
	}
	for _, name := range s.Capabilities {
		if _, err := ParseCapability(name); err != nil {
			errs = append(errs, fmt.Errorf("capabilities: %w", err))
		}
	}
	for _, name := range sortedKeys(s.Rlimits) {
		if _, err := ParseRlimit(name); err != nil {
			errs = append(errs, fmt.Errorf("rlimits: %w", err))
			continue
		}
		if l := s.Rlimits[name]; l.Soft > l.Hard {
			errs = append(errs, fmt.Errorf("rlimits: %s: soft limit %s above hard limit %s", name, limitString(l.Soft), limitString(l.Hard)))
		}
	}
	if s.OOMScoreAdj != nil && (*s.OOMScoreAdj < -1000 || *s.OOMScoreAdj > 1000) {
		errs = append(errs, fmt.Errorf("oom_score_adj %d: outside -1000..1000", *s.OOMScoreAdj))
	}
	// (uid_t)-1 means "unchanged" to setresuid(2): as a target it would
	// silently do nothing.
	if s.UID != nil && *s.UID == ^uint32(0) {
		errs = append(errs, errors.New("uid 4294967295: reserved, means no change to the kernel"))
	}
	if s.GID != nil && *s.GID == ^uint32(0) {
		errs = append(errs, errors.New("gid 4294967295: reserved, means no change to the kernel"))
	}
	if len(s.Groups) > maxGroups {
		errs = append(errs, fmt.Errorf("groups: %d, more than the kernel's %d", len(s.Groups), maxGroups))
	}
	if s.Umask != nil && *s.Umask > 0o777 {
		errs = append(errs, fmt.Errorf("umask %#o: outside 0..0777", *s.Umask))
	}
	if s.Seccomp != nil {
		if err := s.Seccomp.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// keep is the capability set to keep, before intersecting with what the
// kernel and the thread have. Validate must have passed.
func (s Spec) keep() capSet {
	if s.AllCapabilities {
		return ^capSet(0)
	}
	if s.Capabilities == nil {
		return capSetOf(defaultCaps...)
	}
	var set capSet
	for _, name := range s.Capabilities {
		c, _ := ParseCapability(name)
		set |= capSetOf(c)
	}
	return set
}

// seccompEarly reports whether the filter must be loaded before the
// capability drop: without no_new_privs the kernel demands CAP_SYS_ADMIN
// to load one, and the drop may remove it.
func (s Spec) seccompEarly() bool { return s.Seccomp != nil && !s.NoNewPrivs }

// Plan lists the steps Apply takes, in its order, as printable lines.
func (s Spec) Plan() []string {
	var p []string
	add := func(format string, a ...any) { p = append(p, fmt.Sprintf(format, a...)) }

	if s.Umask != nil {
		add("umask %04o", *s.Umask)
	} else {
		add("umask unchanged")
	}
	if len(s.Rlimits) == 0 {
		add("rlimits unchanged")
	}
	for _, name := range sortedKeys(s.Rlimits) {
		add("rlimit %s: %s", name, s.Rlimits[name])
	}
	if s.OOMScoreAdj != nil {
		add("oom_score_adj %d", *s.OOMScoreAdj)
	} else {
		add("oom_score_adj unchanged")
	}
	if s.seccompEarly() {
		add("seccomp %s, before the capability drop (no_new_privs is off, so loading needs CAP_SYS_ADMIN)", s.Seccomp.Summary())
	}
	switch {
	case s.AllCapabilities:
		add("capabilities: keep all")
	case s.Capabilities == nil:
		add("capabilities: drop all but the default set: %s", strings.Join(DefaultCapabilities(), " "))
	case len(s.Capabilities) == 0:
		add("capabilities: drop all")
	default:
		add("capabilities: drop all but %s", strings.Join(s.keep().Names(), " "))
	}
	add("supplementary groups: %s", groupsString(s.Groups))
	add("gid %s", idString(s.GID))
	add("uid %s", idString(s.UID))
	add("effective and permitted capabilities = bounding set; inheritable and ambient cleared")
	if s.NoNewPrivs {
		add("no_new_privs on")
	} else {
		add("no_new_privs off")
	}
	switch {
	case s.Seccomp == nil:
		add("seccomp off")
	case !s.seccompEarly():
		add("seccomp %s", s.Seccomp.Summary())
	}
	return p
}

// String prints the plan, one numbered step a line.
func (s Spec) String() string {
	var b strings.Builder
	for i, line := range s.Plan() {
		fmt.Fprintf(&b, "%2d. %s\n", i+1, line)
	}
	return b.String()
}

func idString(id *uint32) string {
	if id == nil {
		return "unchanged"
	}
	return strconv.FormatUint(uint64(*id), 10)
}

func groupsString(g []uint32) string {
	if len(g) == 0 {
		return "none"
	}
	s := make([]string, len(g))
	for i, id := range g {
		s[i] = strconv.FormatUint(uint64(id), 10)
	}
	return strings.Join(s, " ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
