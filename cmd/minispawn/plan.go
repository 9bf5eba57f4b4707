package main

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/cgroup"
	"github.com/minispawn/minispawn/config"
	"github.com/minispawn/minispawn/init/confine"
	"github.com/minispawn/minispawn/mounts"
)

// defaultNamespaces are the namespaces every container gets. The network
// namespace holds only a loopback device, brought up by the second stage.
var defaultNamespaces = []string{"pid", "mount", "uts", "ipc", "net", "cgroup"}

// stagingDir is where the second stage mounts a tmpfs to build an
// ephemeral root. On the host it holds only the name locks (.names,
// namelock_linux.go): the tmpfs lives only in the container's mount
// namespace, so it vanishes with the container however the container
// ends, SIGKILL of minispawn included.
const stagingDir = "/run/minispawn"

// Plan is everything minispawn will do for one container, as data. The
// parent computes it without side effects; `minispawn check` prints it;
// the second stage receives it (as JSON) and carries it out.
type Plan struct {
	Name       string
	Hostname   string
	ConfigFile string
	Namespaces []string
	Root       RootPlan
	Mounts     []mounts.Mount
	// Init is the host path of the miniinit binary. The container runs a
	// sealed in-memory copy of it, so nothing inside can write to the
	// host's file.
	Init string
	// InitArgs is miniinit's command line (argv[1:]).
	InitArgs []string
	// Control is miniinit's control socket inside the container
	// (init.control). Below /run it is on the container's own tmpfs
	// (mounts.DefaultMounts); it is also $MINIINIT_CONTROL there, so
	// `miniinit ctl` and `miniinit health` inside find it with no flag.
	Control string
	// TTY gives the container a pseudo-terminal of its own as stdio and
	// controlling terminal, from its own devpts; TTYSize is the caller's
	// window size when the plan is sent.
	TTY     bool
	TTYSize unix.Winsize
	// Confine is applied last, right before miniinit is executed, so
	// miniinit and every workload inherit it.
	Confine confine.Spec
	// UserNS, when set, is the container's user namespace ("user" is then
	// among Namespaces): see userns.go.
	UserNS *IDMapping

	// Listen are the sockets systemd passed (socket.go); Service is the
	// [systemd] table (notify_linux.go, unit.go). Parent only.
	Listen  listenSockets  `json:"-"`
	Service config.Systemd `json:"-"`

	Cgroup    cgroup.Plan       `json:"-"`
	Layout    string            `json:"-"`
	Resources cgroup.Resources  `json:"-"`
	Workloads []config.Workload `json:"-"`
	// Config is the file as parsed at the start (parent only): a reload
	// says what of an edit waits for a restart (config.RestartOnly).
	Config *config.Config `json:"-"`
}

// RootPlan says how the root filesystem is made.
type RootPlan struct {
	// Dir is an existing directory used as the root (a configured path,
	// or a cached built root).
	Dir string
	// Build lists host binaries copied into an ephemeral tmpfs root, when
	// Dir is empty.
	Build []string
	// Cache is set when the root is built from Build into CacheDir and
	// kept there; Dir is then filled in once the cache is up to date.
	Cache    bool
	CacheDir string
	ReadOnly bool
	// Overlay makes the root an overlay of Dir whose writes go to a tmpfs
	// of the container's mount namespace (mounts.OverlayRoot).
	Overlay bool
	// Protect is set when Dir is the user's directory (rootfs.path, not
	// an overlay of it): nothing is created in it. Missing are the mount
	// targets it lacks: a read-only root then becomes an overlay (set
	// with OverlayForMissing), whose tmpfs holds them; a writable one
	// gets a stand-in tmpfs for each of Missing.Dirs (mounts.StandIn).
	Protect           bool
	Missing           mounts.Missing
	OverlayForMissing bool
	// MissingUnknown is why Missing could not be worked out (`check` on
	// a root that does not exist yet).
	MissingUnknown string `json:",omitempty"`
}

// newPlan turns a validated configuration into a plan. layout is the
// cgroup hierarchy found on this host; initPath the miniinit binary.
func newPlan(c *config.Config, layout *cgroup.Layout, initPath string) *Plan {
	p := &Plan{
		Name:       c.Name,
		Hostname:   c.Hostname,
		ConfigFile: c.File,
		Namespaces: append([]string(nil), defaultNamespaces...),
		Mounts:     mounts.DefaultMounts(),
		Init:       initPath,
		InitArgs:   initArgs(c.File), // fds.go
		Control:    c.Init.Control,
		Resources:  resourcesOf(c.Limits), // limits.go
		Workloads:  c.Workloads,
	}
	p.Root.ReadOnly = c.Rootfs.ReadOnly
	p.Confine = c.Security.Spec()
	p.Root.Overlay = c.Rootfs.Overlay
	// The file's [[mount]] steps follow the standard mounts; the masks of
	// /proc and /sys go last, so that no mount of the file can cover one.
	for i := range c.Mounts {
		p.Mounts = append(p.Mounts, mountStep(&c.Mounts[i])) // mountstep.go
	}
	p.Mounts = append(p.Mounts, mounts.DefaultMasks()...)
	if p.UserNS = newIDMapping(c.UserNS, c.Name); p.UserNS != nil {
		p.Namespaces = append(p.Namespaces, "user")
	}
	switch {
	case c.Rootfs.Path != "":
		p.Root.Dir = c.Rootfs.Path
	case c.Rootfs.Cache != "":
		p.Root.CacheDir = c.Rootfs.Cache
		p.Root.Cache = true
		p.Root.Build = c.Rootfs.Build
	default:
		p.Root.Build = c.Rootfs.Build
	}
	if layout != nil {
		p.Layout = layout.String()
		p.Cgroup = layout.Plan(c.Name, p.Resources)
	}
	return p
}

// planMissing decides how a user's root directory gets the mount targets
// it lacks without a write to it; find looks them up (mounts.FindMissingIn
// on the root). A root minispawn builds or caches, or an overlay, takes
// them as they come: the directory written to is minispawn's own, or a
// tmpfs.
func (p *Plan) planMissing(find func(root string, plan []mounts.Mount) (mounts.Missing, error)) error {
	if p.Root.Dir == "" || p.Root.Cache || p.Root.Overlay {
		return nil
	}
	p.Root.Protect = true
	miss, err := find(p.Root.Dir, p.Mounts)
	if err != nil {
		p.Root.MissingUnknown = err.Error()
		return err
	}
	p.Root.Missing = miss
	if !miss.Empty() && p.Root.ReadOnly {
		p.Root.Overlay, p.Root.OverlayForMissing = true, true
	}
	return nil
}

// String renders the plan for people, in the order the steps happen.
func (p *Plan) String() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("container %s (from %s)", p.Name, p.ConfigFile)
	w("1. cgroup (%s):", p.Layout)
	for _, line := range strings.Split(strings.TrimRight(p.Cgroup.String(), "\n"), "\n") {
		if line != "" {
			w("     %s", line)
		}
	}
	w("2. namespaces: %s", strings.Join(p.Namespaces, " "))
	var usernsRoot string
	if p.UserNS != nil {
		var nsLine string
		nsLine, usernsRoot = p.UserNS.planLines(p.Root)
		w("%s", nsLine)
	}
	w("3. mount propagation: / recursively slave (nothing mounted inside reaches the host)")
	switch {
	case p.Root.Cache:
		w("4. root: cached in %s (rebuilt when a source changes) from %s and their libraries", p.Root.CacheDir, strings.Join(p.Root.Build, " "))
	case p.Root.OverlayForMissing:
		w("4. root: overlay of %s, which stays unchanged: it is read-only and lacks the mount targets %s, which are made on the overlay's tmpfs on %s in the container's mount namespace",
			p.Root.Dir, strings.Join(p.Root.Missing.Targets, " "), stagingDir)
	case p.Root.Overlay:
		w("4. root: overlay of %s, which stays unchanged: writes go to a tmpfs on %s in the container's mount namespace and vanish at exit",
			p.Root.Dir, stagingDir)
	case p.Root.Dir != "":
		w("4. root: %s (bind-mounted onto itself; minispawn creates nothing in it)", p.Root.Dir)
	default:
		w("4. root: ephemeral tmpfs on %s in the container's mount namespace, holding %s and their libraries",
			stagingDir, strings.Join(p.Root.Build, " "))
	}
	if usernsRoot != "" {
		w("%s", usernsRoot)
	}
	p.Root.printMissing(w)
	w("5. mounts inside the root:")
	for _, m := range p.Mounts {
		w("     %s", m)
	}
	w("6. hostname %s; loopback up", p.Hostname)
	w("7. pivot_root into the root, old root detached")
	if p.Root.ReadOnly {
		w("8. remount / read-only")
	} else {
		w("8. / stays read-write")
	}
	if p.TTY {
		w("8a. stdio: a new pty from the container's own devpts (controlling terminal of the container's session, /dev/pts/N inside); the caller's terminal goes raw until exit")
	}
	w("9. confine (every process of the container inherits this):")
	for _, line := range strings.Split(strings.TrimRight(p.Confine.String(), "\n"), "\n") {
		w("     %s", line)
	}
	w("10. exec miniinit (sealed copy of %s) %s", p.Init, strings.Join(p.InitArgs, " "))
	if p.Control != "" {
		w("     control socket %s (%s), MINIINIT_CONTROL=%s", p.Control, controlPlace(p.Control), p.Control)
	}
	if p.Listen.n > 0 {
		w("10a. sockets: %s", p.Listen) // socket.go
	}
	w("workloads:")
	for _, wl := range p.Workloads {
		role := ""
		if wl.Main || len(p.Workloads) == 1 {
			role = " (main)"
		}
		w("  %s%s: %s cwd=%s", wl.Name, role, quoteArgs(append([]string{wl.Command}, wl.Args...)), wl.Cwd)
		for _, k := range sortedKeys(wl.Env) {
			w("     env %s=%s", k, wl.Env[k])
		}
	}
	return b.String()
}

// controlPlace says where the control socket lives: on the container's
// /run tmpfs, or, for an init.control outside /run, in the root itself.
func controlPlace(control string) string {
	if strings.HasPrefix(control, "/run/") {
		return "on the container's own /run tmpfs"
	}
	return "outside /run: made in the root directory itself, so containers sharing the root share it"
}

// printMissing prints how a writable user's directory gets the mount
// targets it lacks.
func (r *RootPlan) printMissing(w func(string, ...any)) {
	if !r.Protect || r.Overlay {
		return
	}
	if r.MissingUnknown != "" {
		w("4b. mount targets the root lacks: unknown (%s)", r.MissingUnknown)
	}
	if r.Missing.Empty() {
		return
	}
	w("4b. it lacks the mount targets %s: they are made on stand-ins, tmpfs mounts that cover a directory with each of its entries bind-mounted back (changes inside an entry reach the root; a name made, removed or renamed directly in the directory is the tmpfs's and vanishes at exit)",
		strings.Join(r.Missing.Targets, " "))
	for _, d := range r.Missing.Dirs {
		w("     stand-in for %s", d)
	}
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`;&|<>()*?[]#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
