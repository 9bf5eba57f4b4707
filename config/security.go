package config

import (
	"slices"
	"strconv"
	"strings"

	"github.com/minispawn/minispawn/init/confine"
)

// Security is the confinement the whole container runs under: minispawn
// applies it just before it executes miniinit, so miniinit and every
// workload inherit it. Each key has the safe choice as its default.
type Security struct {
	// Capabilities is the capability bounding set to keep, by name
	// ("CAP_NET_ADMIN" or "net_admin"). Default: the usual container set
	// (see `minispawn check`). ["ALL"] keeps every capability; [] none.
	Capabilities []string `toml:"capabilities"`
	// Seccomp is "default" (a deny list of dangerous system calls that
	// answer EPERM, unknown ones ENOSYS) or "off". Default "default".
	Seccomp string `toml:"seccomp"`
	// AllowPrivilegeEscalation turns no_new_privs off, so that setuid
	// binaries and file capabilities work inside. Default false.
	AllowPrivilegeEscalation bool `toml:"allow_privilege_escalation"`
	// Rlimits sets resource limits by name as in prlimit(1): "N" for soft
	// and hard, "SOFT:HARD", or "unlimited" ({ nofile = "1024:4096" }).
	Rlimits map[string]string `toml:"rlimits"`
	// OOMScoreAdj is written to oom_score_adj (-1000..1000); 0 leaves the
	// inherited value.
	OOMScoreAdj int `toml:"oom_score_adj"`
}

// Seccomp profile names.
const (
	SeccompDefault = "default"
	SeccompOff     = "off"
)

func checkSecurity(r *reporter, c *Config) {
	p := root.key("security")
	s := &c.Security
	for i, name := range s.Capabilities {
		if strings.EqualFold(name, "ALL") {
			if len(s.Capabilities) > 1 {
				r.errorf(p.key("capabilities").index(i), `security: "ALL" must be the only capability listed`)
			}
			continue
		}
		if _, err := confine.ParseCapability(name); err != nil {
			r.errorf(p.key("capabilities").index(i), "security: %v", err)
		}
	}
	switch s.Seccomp {
	case "", SeccompDefault, SeccompOff:
	default:
		r.errorf(p.key("seccomp"), `security: seccomp %q: want "default" or "off"`, s.Seccomp)
	}
	names := make([]string, 0, len(s.Rlimits))
	for name := range s.Rlimits {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if _, err := confine.ParseRlimit(name); err != nil {
			r.errorf(p.key("rlimits").key(name), "security: %v", err)
			continue
		}
		if _, err := ParseRlimitValue(s.Rlimits[name]); err != nil {
			r.errorf(p.key("rlimits").key(name), "security: rlimit %s: %v", name, err)
		}
	}
	if s.OOMScoreAdj < -1000 || s.OOMScoreAdj > 1000 {
		r.errorf(p.key("oom_score_adj"), "security: oom_score_adj %d is outside -1000..1000", s.OOMScoreAdj)
	}
}

// ParseRlimitValue reads "N", "SOFT:HARD" or "unlimited" (in either
// place).
func ParseRlimitValue(v string) (confine.Rlimit, error) {
	one := func(s string) (uint64, error) {
		if s == "unlimited" || s == "infinity" {
			return confine.Unlimited, nil
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, errRlimitValue
		}
		return n, nil
	}
	soft, hard, two := strings.Cut(v, ":")
	s, err := one(soft)
	if err != nil {
		return confine.Rlimit{}, err
	}
	h := s
	if two {
		if h, err = one(hard); err != nil {
			return confine.Rlimit{}, err
		}
	}
	if s > h {
		return confine.Rlimit{}, errRlimitOrder
	}
	return confine.Rlimit{Soft: s, Hard: h}, nil
}

type rlimitError string

func (e rlimitError) Error() string { return string(e) }

const (
	errRlimitValue = rlimitError(`want a number, "SOFT:HARD" or "unlimited"`)
	errRlimitOrder = rlimitError("the soft limit is above the hard one")
)

// Spec turns the section into the confinement minispawn applies.
func (s *Security) Spec() confine.Spec {
	spec := confine.Default()
	spec.NoNewPrivs = !s.AllowPrivilegeEscalation
	if s.Seccomp == SeccompOff {
		spec.Seccomp = nil
	}
	switch {
	case len(s.Capabilities) == 1 && strings.EqualFold(s.Capabilities[0], "ALL"):
		spec.AllCapabilities = true
	case s.Capabilities != nil:
		spec.Capabilities = append([]string{}, s.Capabilities...)
	}
	for name, v := range s.Rlimits {
		if rl, err := ParseRlimitValue(v); err == nil {
			if spec.Rlimits == nil {
				spec.Rlimits = map[string]confine.Rlimit{}
			}
			spec.Rlimits[name] = rl
		}
	}
	if s.OOMScoreAdj != 0 {
		adj := s.OOMScoreAdj
		spec.OOMScoreAdj = &adj
	}
	return spec
}

// checkWorkloadCapabilities refuses a workload capability the container's
// set (security.capabilities, or the default set) lacks: the bounding set
// can only shrink, so the workload would run without it, and nothing would
// say so.
func checkWorkloadCapabilities(r *reporter, c *Config) {
	set := c.Security.Capabilities
	if len(set) == 1 && strings.EqualFold(set[0], "ALL") {
		return
	}
	source := "security.capabilities"
	if set == nil {
		set, source = confine.DefaultCapabilities(), "the default container set"
	}
	have := map[int]bool{}
	for _, name := range set {
		if n, err := confine.ParseCapability(name); err == nil {
			have[n] = true
		}
	}
	for i := range c.Workloads {
		wp := root.key("workload").index(i)
		for j, name := range c.Workloads[i].Capabilities {
			n, err := confine.ParseCapability(name)
			if err != nil || have[n] {
				continue // an unknown one is reported by checkIdentity
			}
			r.errorf(wp.key("capabilities").index(j),
				"%s: capabilities: %s is not in the container's set (%s): a workload's set is within the container's; add it to security.capabilities",
				label(r.raw, "workload", i), confine.CapabilityNames()[n], source)
		}
	}
}
