package config

import "time"

// Config is one parsed and validated file. Zero values mean "the default",
// which Parse fills in where a default exists.
type Config struct {
	// Name names the container: its cgroup, and its hostname unless
	// Hostname is set. Letters, digits, '-', '_' and '.', at most 64.
	Name string `toml:"name"`
	// Hostname defaults to Name.
	Hostname string `toml:"hostname"`

	Rootfs    Rootfs     `toml:"rootfs"`
	Limits    Limits     `toml:"limits"`
	Security  Security   `toml:"security"`
	Init      Init       `toml:"init"`
	UserNS    UserNS     `toml:"userns"`
	Workloads []Workload `toml:"workload"`
	// Mounts are binds and tmpfs mounts into the root, in order, after
	// the standard ones (see mounts.go).
	Mounts []Mount `toml:"mount"`
	// Systemd is minispawn as a systemd service (systemd.go).
	Systemd Systemd `toml:"systemd"`

	// File is the name the configuration was read from, for messages.
	File string `toml:"-"`
}

// Rootfs says where the container's root filesystem comes from: an existing
// directory (Path), or a minimal root built from host binaries (Build).
// Exactly one of the two is set.
type Rootfs struct {
	// Path is an existing directory used as the root.
	Path string `toml:"path"`
	// Build lists absolute host paths of binaries to copy into a fresh
	// root, each with the shared libraries its ELF headers need and the
	// dynamic loader.
	Build []string `toml:"build"`
	// Cache, with Build, keeps the built root in this directory and reuses
	// it while the binaries are unchanged. Without it the built root is
	// ephemeral: it lives on a tmpfs inside the container's own mount
	// namespace and disappears with it, whatever way the container ends.
	Cache string `toml:"cache"`
	// ReadOnly mounts the root read-only.
	ReadOnly bool `toml:"readonly"`
	// Overlay, with Path, makes the root an overlay of Path: the container
	// may write anywhere in it, but the writes go to a tmpfs that exists
	// only in the container's mount namespace. Path is never changed, and
	// the writes vanish when the container ends.
	Overlay bool `toml:"overlay"`
}

// Limits are the container's cgroup limits. Zero means no limit (for the
// weights, the kernel's default). The rules are in limits.go.
type Limits struct {
	// Memory is the memory limit in bytes ("256M", "1G", or an integer).
	Memory ByteSize `toml:"memory"`
	// MemoryHigh is the memory use above which the kernel throttles the
	// container and reclaims from it, without OOM kills. At most Memory.
	MemoryHigh ByteSize `toml:"memory_high"`
	// MemorySwap is the swap allowed on top of Memory, which it needs.
	MemorySwap ByteSize `toml:"memory_swap"`
	// Pids is the most tasks the container may hold at once.
	Pids int64 `toml:"pids"`
	// CPU is CPU time in CPUs ("0.5": half of one CPU's time, per 100ms).
	CPU CPUs `toml:"cpu"`
	// CPUMax is CPU time in the kernel's terms, "QUOTA PERIOD" in
	// microseconds. Not with CPU.
	CPUMax CPUMax `toml:"cpu_max"`
	// CPUWeight is the share of CPU time under contention, 1 to 10000
	// (default 100).
	CPUWeight int64 `toml:"cpu_weight"`
	// CpusetCpus and CpusetMems confine the container to these CPUs and
	// memory nodes ("0-3,8").
	CpusetCpus string `toml:"cpuset_cpus"`
	CpusetMems string `toml:"cpuset_mems"`
	// IOWeight is the share of block I/O under contention, 1 to 10000
	// (default 100).
	IOWeight int64 `toml:"io_weight"`
	// IOMax limits I/O per block device.
	IOMax []IOMax `toml:"io_max"`
}

// Init holds miniinit's own settings.
type Init struct {
	// Grace is how long miniinit waits, after sending SIGTERM to the
	// processes left when the main workload ends, before SIGKILL.
	// Default 5s.
	Grace Duration `toml:"grace"`
	// Report, when set, is a file miniinit writes a JSON end-of-run report
	// to ("-" for stderr).
	Report string `toml:"report"`
	// StopBudget bounds the whole shutdown, from the first stop signal
	// to miniinit's exit. Default DefaultStopBudget.
	StopBudget Duration `toml:"stop_budget"`
	// Control is the path of miniinit's control socket inside the
	// container. Default DefaultControl.
	Control string `toml:"control"`
	// Signals routes a signal miniinit receives to the listed workloads
	// only, by signal name: { SIGHUP = ["web"] }.
	Signals SignalRoutes `toml:"signals"`
	// LogOverflow is every workload's log_overflow unless it sets its
	// own: "block" (default) or "drop".
	LogOverflow LogOverflow `toml:"log_overflow"`
}

// SignalRoutes maps a signal name to the workloads that receive it.
type SignalRoutes map[string][]string

func (*SignalRoutes) tomlWant() string {
	return `a table of signal = [workloads], like { SIGHUP = ["web"] }`
}

// UserNS puts the container in a user namespace of its own: uid and gid
// 0 to Size-1 inside are Base to Base+Size-1 on the host, so root inside
// is an unprivileged uid outside. Off unless Enabled.
type UserNS struct {
	// Enabled turns the user namespace on. Default false.
	Enabled bool `toml:"enabled"`
	// Base is the host uid and gid that root inside maps to, at least 1.
	// Default: one picked from the container's name (the same name always
	// gets the same range), 65536-aligned in 524288 to 1879048191.
	Base int64 `toml:"base"`
	// Size is how many uids and gids are mapped, from 0 inside; 1 to
	// MaxUserNSSize. Default DefaultUserNSSize (65536), which covers
	// nobody (65534).
	Size int64 `toml:"size"`
}

// Workload is one command miniinit starts and watches.
type Workload struct {
	// Name identifies the workload in logs and reports; unique.
	Name string `toml:"name"`
	// Command is the program: an absolute path, or a name looked up in
	// the workload's PATH.
	Command string `toml:"command"`
	// Args follow Command on its command line (argv[1:]).
	Args []string `toml:"args"`
	// Env is added to the workload's environment.
	Env map[string]string `toml:"env"`
	// Cwd is the working directory; default "/".
	Cwd string `toml:"cwd"`
	// Main marks the workload whose exit ends the container and whose
	// exit code becomes the container's. With one workload it is main
	// whether or not this is set; with several, at most one may be, and
	// with none the container ends once every workload has ended.
	Main bool `toml:"main"`

	// The rest is supervision (supervision.go has the rules, doc.go the
	// reference). Zero values are defaults that Parse fills in.

	// EnvFiles are files inside the container of KEY=VALUE lines, read
	// at each start, in order, before Env (which wins).
	EnvFiles []string `toml:"env_files"`
	// Kind is "longrun" (default) or "oneshot".
	Kind Kind `toml:"kind"`
	// Essential: when it fails for good, the container shuts down.
	Essential bool `toml:"essential"`
	// Restart is "never" (default), "on-failure" or "always".
	Restart RestartPolicy `toml:"restart"`
	// SuccessExitCodes count as success besides 0; for the main
	// workload they also become exit code 0.
	SuccessExitCodes []int `toml:"success_exit_codes"`
	// Backoff is the delay before each restart.
	Backoff Backoff `toml:"backoff"`
	// GiveUp fails the workload after Failures failures within Window.
	GiveUp GiveUp `toml:"give_up"`
	// StartTimeout bounds the time to ready (a oneshot: to completion).
	// Zero: no limit.
	StartTimeout Duration `toml:"start_timeout"`
	// StopSignal is sent first to stop it; 0 (the default): SIGTERM, or
	// SIGINT in a shutdown that a SIGINT to the container began.
	StopSignal Signal `toml:"stop_signal"`
	// StopTimeout is the wait after StopSignal before SIGKILL; default
	// DefaultStopTimeout.
	StopTimeout Duration `toml:"stop_timeout"`
	// After and Requires name workloads that must meet a condition
	// before this one starts; Requires also fails this one when they
	// cannot.
	After    Deps `toml:"after"`
	Requires Deps `toml:"requires"`
	// Ready says how the workload tells that it is ready.
	Ready Ready `toml:"ready"`
	// Health checks the workload while it runs.
	Health Health `toml:"health"`
	// User, Group and Groups are names or numbers, resolved in the
	// container's /etc/passwd and /etc/group at start.
	User   string   `toml:"user"`
	Group  string   `toml:"group"`
	Groups []string `toml:"groups"`
	// Umask is octal, as "0027".
	Umask string `toml:"umask"`
	// Rlimits as in [security].
	Rlimits map[string]string `toml:"rlimits"`
	// NoNewPrivs sets no_new_privs for this workload.
	NoNewPrivs bool `toml:"no_new_privs"`
	// Capabilities, when set, is the workload's capability bounding set
	// (within the container's).
	Capabilities []string `toml:"capabilities"`
	// Stdin is "null" (the default: /dev/null) or "inherit".
	Stdin Stdin `toml:"stdin"`
	// LogPrefix prefixes each line of its output with its name.
	LogPrefix bool `toml:"log_prefix"`
	// LogOverflow is "block" or "drop"; default init.log_overflow.
	LogOverflow LogOverflow `toml:"log_overflow"`
}

// Backoff is an exponential restart delay: initial, times multiplier at
// each restart, at most max, spread by ±jitter, back to initial once a
// process has run for reset_after.
type Backoff struct {
	Initial    Duration `toml:"initial"`
	Max        Duration `toml:"max"`
	Multiplier float64  `toml:"multiplier"`
	Jitter     float64  `toml:"jitter"`
	ResetAfter Duration `toml:"reset_after"`
}

// GiveUp is the rule after which restarting stops: Failures failures
// within Window (zero: since the workload was last started by request).
type GiveUp struct {
	Failures int      `toml:"failures"`
	Window   Duration `toml:"window"`
}

// Ready is how a workload tells that it is ready: exactly one of Notify
// (the systemd protocol on $NOTIFY_SOCKET), FD (a line written on that
// descriptor, the s6 protocol), or a probe (Exec, TCP, HTTP) repeated
// every Interval, each bounded by Timeout.
type Ready struct {
	Notify   bool     `toml:"notify"`
	FD       int      `toml:"fd"`
	Exec     []string `toml:"exec"`
	TCP      string   `toml:"tcp"`
	HTTP     string   `toml:"http"`
	Interval Duration `toml:"interval"`
	Timeout  Duration `toml:"timeout"`
}

// Health is a periodic check of a running workload: one of Exec, TCP or
// HTTP every Interval, bounded by Timeout; Retries failures in a row make
// it unhealthy, and Action says what follows.
type Health struct {
	Exec     []string     `toml:"exec"`
	TCP      string       `toml:"tcp"`
	HTTP     string       `toml:"http"`
	Interval Duration     `toml:"interval"`
	Timeout  Duration     `toml:"timeout"`
	Retries  int          `toml:"retries"`
	Action   HealthAction `toml:"action"`
}

// Method names how readiness is learnt: "notify", "fd", "exec", "tcp",
// "http", or "" when the workload has no readiness check.
func (r *Ready) Method() string {
	switch {
	case r.Notify:
		return "notify"
	case r.FD != 0:
		return "fd"
	}
	return probeMethod(r.Exec, r.TCP, r.HTTP)
}

// Method names the health check's probe: "exec", "tcp", "http", or ""
// when there is no health check.
func (h *Health) Method() string { return probeMethod(h.Exec, h.TCP, h.HTTP) }

func probeMethod(exec []string, tcp, http string) string {
	switch {
	case len(exec) > 0:
		return "exec"
	case tcp != "":
		return "tcp"
	case http != "":
		return "http"
	}
	return ""
}

// DefaultGrace is Init.Grace when the file does not set it.
const DefaultGrace = 5 * time.Second

// Duration is a time.Duration written as a Go duration string ("5s").
type Duration struct{ time.Duration }

// ByteSize is a size in bytes written as an integer or with a binary suffix
// K, M, G or T ("512M" is 512 MiB).
type ByteSize int64
