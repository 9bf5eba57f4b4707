package config

import (
	"strings"
	"time"
)

// Systemd is how minispawn behaves as a systemd service, and what
// `minispawn unit` writes into the unit it prints.
type Systemd struct {
	// Notify says when minispawn sends READY=1: "workloads" (default)
	// once miniinit reports every essential workload ready, "started" as
	// soon as miniinit runs.
	Notify NotifyWhen `toml:"notify"`
	// Watchdog is the unit's WatchdogSec=: minispawn pings only while
	// miniinit answers its heartbeat, so a hung PID 1 gets the unit
	// restarted. Default DefaultWatchdog; "0s" turns it off.
	Watchdog Duration `toml:"watchdog"`
	// Restart is the unit's Restart=. Default "on-failure".
	Restart UnitRestart `toml:"restart"`
	// Register makes minispawn register the container with
	// systemd-machined (`machinectl list`), and unregister it at the end.
	// Default false.
	Register bool `toml:"register"`
	// Cgroup says where the container's cgroup goes: "auto" (default)
	// the unit's delegated subtree under systemd, else a transient scope
	// asked of systemd over D-Bus, else the cgroup filesystem; "systemd"
	// the same but fails without systemd; "cgroupfs" always the cgroup
	// filesystem, under minispawn/ at the root of each hierarchy.
	Cgroup CgroupDriver `toml:"cgroup"`
	// Slice is the slice of the unit `minispawn unit` prints and of the
	// transient scope. Default DefaultSlice.
	Slice string `toml:"slice"`
}

// Defaults of [systemd].
const (
	DefaultWatchdog = 30 * time.Second
	DefaultSlice    = "machine.slice"
	// minWatchdog keeps the pings (every watchdog/4) from becoming a
	// busy loop, and leaves the heartbeat time to cross a loaded host.
	minWatchdog = time.Second
)

// NotifyWhen is when minispawn tells systemd the container is ready.
type NotifyWhen string

// UnitRestart is a value of systemd's Restart=.
type UnitRestart string

// CgroupDriver is who makes the container's cgroup.
type CgroupDriver string

const (
	NotifyWorkloads NotifyWhen = "workloads"
	NotifyStarted   NotifyWhen = "started"

	CgroupAuto     CgroupDriver = "auto"
	CgroupSystemd  CgroupDriver = "systemd"
	CgroupCgroupfs CgroupDriver = "cgroupfs"
)

var (
	notifyWhens   = []NotifyWhen{NotifyWorkloads, NotifyStarted}
	unitRestarts  = []UnitRestart{"no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"}
	cgroupDrivers = []CgroupDriver{CgroupAuto, CgroupSystemd, CgroupCgroupfs}
)

func (n *NotifyWhen) UnmarshalText(b []byte) (err error) {
	*n, err = word("notify mode", notifyWhens, b)
	return err
}
func (u *UnitRestart) UnmarshalText(b []byte) (err error) {
	*u, err = word("Restart= value", unitRestarts, b)
	return err
}
func (d *CgroupDriver) UnmarshalText(b []byte) (err error) {
	*d, err = word("cgroup driver", cgroupDrivers, b)
	return err
}

func (n NotifyWhen) MarshalText() ([]byte, error)   { return []byte(n), nil }
func (u UnitRestart) MarshalText() ([]byte, error)  { return []byte(u), nil }
func (d CgroupDriver) MarshalText() ([]byte, error) { return []byte(d), nil }

func (*NotifyWhen) tomlWant() string   { return wantWords(notifyWhens) }
func (*UnitRestart) tomlWant() string  { return wantWords(unitRestarts) }
func (*CgroupDriver) tomlWant() string { return wantWords(cgroupDrivers) }

// checkSystemd applies the rules of [systemd]: a watchdog of "0s" (off)
// or at least minWatchdog; a slice that is a slice unit's name.
func checkSystemd(r *reporter, c *Config) {
	p := root.key("systemd")
	s := &c.Systemd
	if w := s.Watchdog.Duration; r.defined(p.key("watchdog")) && w != 0 && w < minWatchdog {
		r.errorf(p.key("watchdog"), `systemd: watchdog %v is too short: at least %v, or "0s" for none`, w, minWatchdog)
	}
	if r.defined(p.key("slice")) {
		if problem := sliceProblem(s.Slice); problem != "" {
			r.errorf(p.key("slice"), "systemd: slice %q %s", s.Slice, problem)
		}
	}
}

// sliceProblem says what keeps s from being a slice unit's name, or "".
// Slice names nest with '-' ("machine-web.slice" is in machine.slice).
func sliceProblem(s string) string {
	base, ok := strings.CutSuffix(s, ".slice")
	switch {
	case !ok:
		return `must end in ".slice"`
	case base == "" || base[0] == '-' || base[len(base)-1] == '-' || strings.Contains(base, "--"):
		return "is not a valid slice name"
	case len(s) > 255:
		return "is longer than a unit name may be (255)"
	}
	if c, bad := firstNotIn(base, ".:\\"); bad {
		return "has " + c + "; unit names hold letters, digits, ':', '-', '_', '.' and '\\'"
	}
	return ""
}

// applySystemdDefaults fills in [systemd]; "0s" written for watchdog stays
// off.
func applySystemdDefaults(c *Config, defined func(path) bool) {
	s := &c.Systemd
	s.Notify = cmpOr(s.Notify, NotifyWorkloads)
	if !defined(root.key("systemd").key("watchdog")) {
		s.Watchdog.Duration = DefaultWatchdog
	}
	s.Restart = cmpOr(s.Restart, "on-failure")
	s.Cgroup = cmpOr(s.Cgroup, CgroupAuto)
	s.Slice = cmpOr(s.Slice, DefaultSlice)
}
