package config

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minispawn/minispawn/init/confine"
)

// Defaults of the supervision keys (applyDefaults fills them in).
const (
	DefaultStopTimeout = 5 * time.Second
	DefaultStopBudget  = 8 * time.Second
	DefaultControl     = "/run/miniinit.sock"

	DefaultBackoffInitial    = 100 * time.Millisecond
	DefaultBackoffMax        = 30 * time.Second
	DefaultBackoffMultiplier = 2.0
	DefaultBackoffJitter     = 0.2
	DefaultBackoffResetAfter = 30 * time.Second

	DefaultReadyInterval  = time.Second
	DefaultReadyTimeout   = time.Second
	DefaultHealthInterval = 10 * time.Second
	DefaultHealthTimeout  = 2 * time.Second
	DefaultHealthRetries  = 3
)

// Bounds of the supervision keys.
const (
	// maxSocketPath is the longest control socket path: sun_path holds
	// 108 bytes with the terminating NUL, and miniinit binds the socket
	// under the path plus ".new" before renaming it into place.
	maxSocketPath = 103
	// maxReadyFD bounds ready.fd; 0 to 2 are the standard streams.
	maxReadyFD = 1023
	// maxUserName is the longest user or group name (useradd's limit).
	maxUserName = 32
)

// checkSupervision applies the rules of every workload's supervision keys;
// checkDependencies those of after and requires.
func checkSupervision(r *reporter, c *Config) {
	p := root.key("workload")
	for i := range c.Workloads {
		w := &c.Workloads[i]
		wp := p.index(i)
		who := label(r.raw, "workload", i)
		for j, f := range w.EnvFiles {
			checkAbs(r, wp.key("env_files").index(j), fmt.Sprintf("%s: env_files #%d", who, j+1), f, "")
		}
		oneshot := w.Kind == KindOneshot
		if oneshot && w.Restart == RestartAlways {
			r.errorf(wp.key("restart"), `%s: a oneshot cannot restart "always" (it would never complete); use "on-failure"`, who)
		}
		for j, code := range w.SuccessExitCodes {
			switch {
			case code < 0 || code > 255:
				r.errorf(wp.key("success_exit_codes").index(j), "%s: success_exit_codes #%d: %d is not an exit code (0 to 255)", who, j+1, code)
			case code == 0:
				r.errorf(wp.key("success_exit_codes").index(j), "%s: success_exit_codes #%d: 0 is always a success; list only other codes", who, j+1)
			case slices.Index(w.SuccessExitCodes, code) < j:
				r.errorf(wp.key("success_exit_codes").index(j), "%s: success_exit_codes: %d is listed twice", who, code)
			}
		}
		restarts := w.Restart == RestartOnFailure || w.Restart == RestartAlways
		for _, key := range []string{"backoff", "give_up"} {
			if r.defined(wp.key(key)) && !restarts && !r.anyBad(wp.key("restart")) {
				r.errorf(wp.key(key), `%s: %s has no effect without restart = "on-failure" or "always"`, who, key)
			}
		}
		checkBackoff(r, wp.key("backoff"), who, &w.Backoff)
		if gp := wp.key("give_up"); r.defined(gp) {
			if w.GiveUp.Failures < 1 && !r.anyBad(gp.key("failures")) {
				r.errorf(gp.key("failures"), "%s: give_up: failures must be at least 1 (the number of failures within window that fails the workload)", who)
			}
			positive(r, gp.key("window"), who+": give_up: window", w.GiveUp.Window, "omit it to count every failure")
		}
		positive(r, wp.key("start_timeout"), who+": start_timeout", w.StartTimeout, "omit it for no limit")
		positive(r, wp.key("stop_timeout"), who+": stop_timeout", w.StopTimeout, "omit it for the default "+DefaultStopTimeout.String())
		checkReady(r, wp.key("ready"), who, w, oneshot)
		checkHealth(r, wp.key("health"), who, w, oneshot)
		checkIdentity(r, wp, who, w)
	}
	checkDependencies(r, c)
}

// positive reports a duration written as zero or less.
func positive(r *reporter, p path, what string, d Duration, hint string) {
	if r.defined(p) && d.Duration <= 0 {
		r.errorf(p, "%s must be positive, got %q (%s)", what, d.Duration, hint)
	}
}

func checkBackoff(r *reporter, p path, who string, b *Backoff) {
	if !r.defined(p) {
		return
	}
	if r.defined(p.key("initial")) && b.Initial.Duration < 0 {
		r.errorf(p.key("initial"), `%s: backoff: initial must not be negative ("0s" restarts at once)`, who)
	}
	positive(r, p.key("max"), who+": backoff: max", b.Max, "omit it for the default "+DefaultBackoffMax.String())
	if r.defined(p.key("max")) && b.Max.Duration > 0 {
		initial := b.Initial.Duration
		if !r.defined(p.key("initial")) {
			initial = DefaultBackoffInitial
		}
		if b.Max.Duration < initial {
			r.errorf(p.key("max"), "%s: backoff: max %v is below initial %v", who, b.Max.Duration, initial)
		}
	}
	if r.defined(p.key("multiplier")) && !(b.Multiplier >= 1 && !math.IsInf(b.Multiplier, 0)) {
		r.errorf(p.key("multiplier"), "%s: backoff: multiplier %v must be a number of at least 1 (1 keeps the delay constant)", who, b.Multiplier)
	}
	if r.defined(p.key("jitter")) && !(b.Jitter >= 0 && b.Jitter <= 1) {
		r.errorf(p.key("jitter"), "%s: backoff: jitter %v must be between 0 and 1 (a fraction of the delay)", who, b.Jitter)
	}
	positive(r, p.key("reset_after"), who+": backoff: reset_after", b.ResetAfter, "omit it for the default "+DefaultBackoffResetAfter.String())
}

func checkReady(r *reporter, p path, who string, w *Workload, oneshot bool) {
	if !r.defined(p) {
		return
	}
	rd := &w.Ready
	if oneshot {
		r.errorf(p, "%s: a oneshot has no ready check: it is ready when it completes", who)
		return
	}
	var set []string
	if rd.Notify {
		set = append(set, "notify")
	}
	for _, k := range []string{"fd", "exec", "tcp", "http"} {
		if r.defined(p.key(k)) {
			set = append(set, k)
		}
	}
	switch {
	case len(set) == 0:
		r.errorf(p, "%s: ready: set one of notify = true, fd, exec, tcp or http", who)
	case len(set) > 1:
		r.errorf(p.key(set[1]), "%s: ready: set only one of notify, fd, exec, tcp and http (got %s)", who, strings.Join(set, " and "))
	}
	if r.defined(p.key("fd")) && (rd.FD < 3 || rd.FD > maxReadyFD) {
		r.errorf(p.key("fd"), "%s: ready: fd %d is out of range 3 to %d (0 to 2 are the standard streams)", who, rd.FD, maxReadyFD)
	}
	checkProbe(r, p, who+": ready", rd.Exec, rd.TCP, rd.HTTP)
	probe := len(set) == 1 && (set[0] == "exec" || set[0] == "tcp" || set[0] == "http")
	for _, k := range []string{"interval", "timeout"} {
		if r.defined(p.key(k)) && !probe && len(set) == 1 {
			r.errorf(p.key(k), "%s: ready: %s applies only to exec, tcp and http probes", who, k)
		}
	}
	positive(r, p.key("interval"), who+": ready: interval", rd.Interval, "omit it for the default "+DefaultReadyInterval.String())
	positive(r, p.key("timeout"), who+": ready: timeout", rd.Timeout, "omit it for the default "+DefaultReadyTimeout.String())
}

func checkHealth(r *reporter, p path, who string, w *Workload, oneshot bool) {
	if !r.defined(p) {
		return
	}
	h := &w.Health
	if oneshot {
		r.errorf(p, "%s: a oneshot has no health check: it is not meant to keep running", who)
		return
	}
	var set []string
	for _, k := range []string{"exec", "tcp", "http"} {
		if r.defined(p.key(k)) {
			set = append(set, k)
		}
	}
	switch {
	case len(set) == 0:
		r.errorf(p, "%s: health: set one of exec, tcp or http", who)
	case len(set) > 1:
		r.errorf(p.key(set[1]), "%s: health: set only one of exec, tcp and http (got %s)", who, strings.Join(set, " and "))
	}
	checkProbe(r, p, who+": health", h.Exec, h.TCP, h.HTTP)
	positive(r, p.key("interval"), who+": health: interval", h.Interval, "omit it for the default "+DefaultHealthInterval.String())
	positive(r, p.key("timeout"), who+": health: timeout", h.Timeout, "omit it for the default "+DefaultHealthTimeout.String())
	if r.defined(p.key("retries")) && h.Retries < 1 && !r.anyBad(p.key("retries")) {
		r.errorf(p.key("retries"), "%s: health: retries must be at least 1 (failed checks in a row before unhealthy)", who)
	}
}

// checkProbe checks whichever of a probe's exec, tcp and http are set.
func checkProbe(r *reporter, p path, what string, exec []string, tcp, http string) {
	if r.defined(p.key("exec")) {
		if len(exec) == 0 || exec[0] == "" {
			r.errorf(p.key("exec"), "%s: exec must name a command (an array: the command, then its arguments)", what)
		}
		for j, a := range exec {
			if strings.IndexByte(a, 0) >= 0 {
				r.errorf(p.key("exec").index(j), "%s: exec #%d must not contain NUL", what, j+1)
			}
		}
	}
	if r.defined(p.key("tcp")) {
		if problem := hostPortProblem(tcp); problem != "" {
			r.errorf(p.key("tcp"), "%s: tcp %q %s", what, tcp, problem)
		}
	}
	if r.defined(p.key("http")) {
		if problem := httpProblem(http); problem != "" {
			r.errorf(p.key("http"), "%s: http %q %s", what, http, problem)
		}
	}
}

// hostPortProblem says what is wrong with a "host:port" to connect to.
// The host is an IP address or "localhost": probes run inside the
// container, which may have no resolver, and miniinit carries none.
func hostPortProblem(s string) string {
	host, port, ok := splitHostPort(s)
	if !ok {
		return `is not "host:port" (as in "127.0.0.1:5432" or "[::1]:80")`
	}
	if problem := hostProblem(host); problem != "" {
		return problem
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || !allDigits(port) {
		return "has no port number from 1 to 65535"
	}
	return ""
}

// splitHostPort splits "host:port" and "[v6]:port".
func splitHostPort(s string) (host, port string, ok bool) {
	if rest, found := strings.CutPrefix(s, "["); found {
		host, port, ok = strings.Cut(rest, "]:")
		return host, port, ok && strings.Contains(host, ":")
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.IndexByte(s[:i], ':') >= 0 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

func hostProblem(host string) string {
	if host == "" {
		return "has no host (write 127.0.0.1 for this container)"
	}
	if host == "localhost" {
		return ""
	}
	if a, err := netip.ParseAddr(host); err != nil || a.Zone() != "" {
		return "has a host that is not an IP address or localhost (probes do not resolve names)"
	}
	return ""
}

// httpProblem says what is wrong with a URL to probe: plain http, to an
// IP address or localhost, with an optional port and path.
func httpProblem(s string) string {
	rest, ok := strings.CutPrefix(s, "http://")
	if !ok {
		return `is not an http:// URL (as in "http://127.0.0.1:8080/healthz"; probes speak plain HTTP)`
	}
	hostport, _, _ := strings.Cut(rest, "/")
	switch {
	case strings.ContainsAny(s, " \t\r\n\x00#"):
		return "must not hold spaces, control characters or a fragment"
	case strings.Contains(hostport, "@"):
		return "must not hold a user or password"
	}
	if _, _, ok := splitHostPort(hostport); ok {
		if problem := hostPortProblem(hostport); problem != "" {
			return problem
		}
		return ""
	}
	host := strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
	return hostProblem(host)
}

// checkIdentity checks what a workload runs as and under.
func checkIdentity(r *reporter, wp path, who string, w *Workload) {
	if r.defined(wp.key("user")) {
		if problem := idProblem(w.User); problem != "" {
			r.errorf(wp.key("user"), "%s: user %q %s", who, w.User, problem)
		}
	}
	if r.defined(wp.key("group")) {
		if problem := idProblem(w.Group); problem != "" {
			r.errorf(wp.key("group"), "%s: group %q %s", who, w.Group, problem)
		}
	}
	for j, g := range w.Groups {
		if problem := idProblem(g); problem != "" {
			r.errorf(wp.key("groups").index(j), "%s: groups #%d %q %s", who, j+1, g, problem)
		}
	}
	if r.defined(wp.key("umask")) {
		if _, err := ParseUmask(w.Umask); err != nil {
			r.errorf(wp.key("umask"), "%s: umask %q %v", who, w.Umask, err)
		}
	}
	names := make([]string, 0, len(w.Rlimits))
	for name := range w.Rlimits {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if _, err := confine.ParseRlimit(name); err != nil {
			r.errorf(wp.key("rlimits").key(name), "%s: %v", who, err)
			continue
		}
		if _, err := ParseRlimitValue(w.Rlimits[name]); err != nil {
			r.errorf(wp.key("rlimits").key(name), "%s: rlimit %s: %v", who, name, err)
		}
	}
	for j, name := range w.Capabilities {
		if strings.EqualFold(name, "ALL") {
			r.errorf(wp.key("capabilities").index(j), `%s: capabilities: "ALL" is the container's set; omit capabilities to keep it`, who)
			continue
		}
		if _, err := confine.ParseCapability(name); err != nil {
			r.errorf(wp.key("capabilities").index(j), "%s: %v", who, err)
		}
	}
}

// idProblem says what is wrong with a user or group: a number (a uid or
// gid) or a name as useradd accepts it.
func idProblem(s string) string {
	if s != "" && allDigits(s) {
		if n, err := strconv.ParseUint(s, 10, 64); err != nil || n > MaxID {
			return fmt.Sprintf("is out of range (ids go to %d)", int64(MaxID))
		}
		return ""
	}
	switch {
	case s == "":
		return "must not be empty (a name, or a number as a string)"
	case len(s) > maxUserName:
		return fmt.Sprintf("is %d bytes long; at most %d are allowed", len(s), maxUserName)
	case s[0] == '-' || s[0] == '.':
		return "must not start with '-' or '.'"
	}
	// A trailing '$' is allowed (machine accounts).
	if c, bad := firstNotIn(strings.TrimSuffix(s, "$"), "."); bad {
		return fmt.Sprintf("has %s; a name has letters, digits, '_', '-' and '.'", c)
	}
	return ""
}

// ParseUmask reads an octal umask: 3 or 4 digits ("022", "0027").
func ParseUmask(s string) (uint32, error) {
	if len(s) < 3 || len(s) > 4 || strings.Trim(s, "01234567") != "" {
		return 0, errUmask
	}
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o777 {
		return 0, errUmask
	}
	return uint32(n), nil
}

var errUmask = rlimitError(`is not an octal umask (write 3 or 4 octal digits, as in "0027")`)

// checkDependencies applies the rules of after and requires: names that
// exist, not the workload itself, not both keys for one name, conditions
// the dependency can meet, and no cycle.
func checkDependencies(r *reporter, c *Config) {
	p := root.key("workload")
	index := map[string]int{}
	for i, w := range c.Workloads {
		if _, dup := index[w.Name]; !dup && w.Name != "" {
			index[w.Name] = i
		}
	}
	for i := range c.Workloads {
		w := &c.Workloads[i]
		who := label(r.raw, "workload", i)
		for _, key := range []string{"after", "requires"} {
			deps := w.After
			if key == "requires" {
				deps = w.Requires
			}
			for _, name := range sortedDeps(deps) {
				dp := p.index(i).key(key).key(name)
				j, ok := index[name]
				switch {
				case name == w.Name:
					r.errorf(dp, "%s: %s: a workload cannot wait for itself", who, key)
					continue
				case !ok:
					r.errorf(dp, "%s: %s: no workload is named %q", who, key, name)
					continue
				case key == "requires" && w.After[name] != "":
					r.errorf(dp, "%s: requires: %q is also in after; requires orders too, so list it there only", who, name)
				}
				d := &c.Workloads[j]
				switch cond := deps[name]; {
				case cond == CondCompleted && d.Kind != KindOneshot && d.Restart == RestartAlways:
					r.errorf(dp, `%s: %s: %q never completes (it restarts "always"); wait for "started", "ready" or "healthy"`, who, key, name)
				case cond == CondHealthy && !r.defined(p.index(j).key("health")):
					r.errorf(dp, `%s: %s: %q has no health check; wait for "ready", or give it one`, who, key, name)
				}
			}
		}
	}
	if cycle, at := dependencyCycle(c, index); cycle != nil {
		r.errorf(at, "dependency cycle: %s (after and requires must not loop)", strings.Join(cycle, " -> "))
	}
}

func sortedDeps(d Deps) []string {
	names := make([]string, 0, len(d))
	for n := range d {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// dependencyCycle finds one cycle through after and requires, in file
// order, and returns its names (the first repeated last) and the position
// of the dependency that closes it.
func dependencyCycle(c *Config, index map[string]int) ([]string, path) {
	const (
		unseen = iota
		onPath
		done
	)
	mark := make([]int, len(c.Workloads))
	var stack []string
	var found []string
	var at path
	var visit func(i int) bool
	visit = func(i int) bool {
		mark[i] = onPath
		w := &c.Workloads[i]
		stack = append(stack, w.Name)
		for _, key := range []string{"after", "requires"} {
			deps := w.After
			if key == "requires" {
				deps = w.Requires
			}
			for _, name := range sortedDeps(deps) {
				j, ok := index[name]
				if !ok || name == w.Name {
					continue // reported by the name checks
				}
				switch mark[j] {
				case onPath:
					start := slices.Index(stack, name)
					found = append(slices.Clone(stack[start:]), name)
					at = root.key("workload").index(i).key(key).key(name)
					return true
				case unseen:
					if visit(j) {
						return true
					}
				}
			}
		}
		stack = stack[:len(stack)-1]
		mark[i] = done
		return false
	}
	for i := range c.Workloads {
		if mark[i] == unseen && c.Workloads[i].Name != "" && index[c.Workloads[i].Name] == i {
			if visit(i) {
				return found, at
			}
		}
	}
	return nil, nil
}

// checkSignals applies the rules of [init.signals]: each key a signal
// miniinit can catch and that is not its shutdown request, each list
// naming existing workloads, once each.
func checkSignals(r *reporter, c *Config) {
	p := root.key("init").key("signals")
	names := map[string]bool{}
	for _, w := range c.Workloads {
		names[w.Name] = true
	}
	keys := make([]string, 0, len(c.Init.Signals))
	for k := range c.Init.Signals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	seen := map[int]string{}
	for _, k := range keys {
		kp := p.key(k)
		n, err := parseSignal(k)
		if err != nil {
			r.errorf(kp, "init: signals: %v", err)
			continue
		}
		if why := unroutable(n); why != "" {
			r.errorf(kp, "init: signals: %s cannot be routed: %s", Signal(n), why)
			continue
		}
		if other, dup := seen[n]; dup {
			r.errorf(kp, "init: signals: %s is also written %s", Signal(n), other)
		}
		seen[n] = k
		targets := c.Init.Signals[k]
		if len(targets) == 0 {
			r.errorf(kp, "init: signals: %s lists no workload", Signal(n))
		}
		for j, t := range targets {
			switch {
			case !names[t]:
				r.errorf(kp.index(j), "init: signals: %s: no workload is named %q", Signal(n), t)
			case slices.Index(targets, t) < j:
				r.errorf(kp.index(j), "init: signals: %s: %q is listed twice", Signal(n), t)
			}
		}
	}
}

// unroutable says why a signal cannot be in the routing table, or "".
func unroutable(n int) string {
	switch n {
	case 2, 15: // SIGINT, SIGTERM
		return "it asks miniinit for the ordered shutdown"
	case 9, 19: // SIGKILL, SIGSTOP
		return "no process can catch it"
	case 17: // SIGCHLD
		return "miniinit reaps on it"
	case 23, 27, sigRTMin: // SIGURG, SIGPROF, SIGRTMIN
		return "the Go runtime keeps it"
	case 4, 5, 6, 7, 8, 11, 31: // SIGILL SIGTRAP SIGABRT SIGBUS SIGFPE SIGSEGV SIGSYS
		return "a fault signal sent to miniinit is dropped, never passed on"
	}
	return ""
}
