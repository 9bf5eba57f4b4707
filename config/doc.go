// Package config reads the TOML file that describes one container and the
// workloads miniinit runs inside it. minispawn and miniinit read the same
// file, so each takes the parts it needs.
//
// Vocabulary: a workload is what the file names (a command and how to run
// it); a process is one running instance of a workload.
//
// # The file
//
// An annotated example with every key (only name and one workload with a
// command are required; minispawn requires a rootfs source too, which a
// file that only miniinit reads, `miniinit -c`, may leave out):
//
//	# The container's name: its cgroup, and its hostname unless hostname
//	# is set. Letters, digits, '-', '_' and '.'; at most 64; no leading '.'.
//	name = "web-1"
//	# Optional; default: name (which must then be a valid hostname too).
//	# RFC 1123: dot-separated labels of letters, digits and '-' (not at
//	# either end of a label), each at most 63; at most 64 in all.
//	hostname = "web"
//
//	# Where the root filesystem comes from: exactly one of path and build.
//	[rootfs]
//	# An existing directory, used as the root. minispawn creates nothing
//	# in it: mount points it lacks go on a tmpfs (README: "The root
//	# directory stays as it was"); `minispawn check` shows how.
//	path = "/srv/roots/web"
//	# Or: host binaries copied into a fresh root with the shared libraries
//	# they need and the dynamic loader.
//	# build = ["/bin/sh", "/usr/bin/env"]
//	# With build only: keep the built root here and reuse it while the
//	# binaries are unchanged. Without it the root lives on a tmpfs and
//	# goes away with the container. The path must be absent, empty, or a
//	# cache made by minispawn (manifest.json naming a root it made):
//	# anything else is refused. Only roots minispawn made (marker
//	# rootfs-XXXX.owner matching the manifest) are ever removed.
//	# cache = "/var/cache/minispawn/web"
//	# Mount the root read-only. Default false.
//	readonly = true
//	# Or, with path only: let the container write anywhere in the root,
//	# but onto a tmpfs of its own mount namespace; path never changes,
//	# and the writes vanish at exit. Not with readonly. Default false.
//	# overlay = true
//
//	# cgroup limits. 0, or no key, means no limit (for the weights: the
//	# kernel's default, 100). cgroup v2 is used where the host offers the
//	# controllers, v1 otherwise; `minispawn check` prints every file
//	# written.
//	[limits]
//	# Bytes: an integer, or a string with a suffix K, M, G or T (powers
//	# of 1024, upper case): "256M" is 268435456. Past it the kernel's OOM
//	# killer ends a process; minispawn reports it (exit 137 when it was
//	# the main workload). At least "6M" (MinMemory), memory_high too:
//	# less cannot start miniinit.
//	memory = "256M"
//	# Above this the kernel throttles and reclaims, without killing. At
//	# most memory. (cgroup v1 has no such limit: there it is
//	# memory.soft_limit_in_bytes, which acts only when the whole host is
//	# short of memory.)
//	memory_high = "192M"
//	# Swap allowed on top of memory; needs memory.
//	memory_swap = "64M"
//	# The most tasks (processes and threads) the container may hold,
//	# miniinit's own threads included (about 10): at least 16 (MinPids).
//	pids = 64
//	# CPU time, as a number of CPUs (a string, up to 3 decimals, at least
//	# "0.01"): "0.5" is half of one CPU's time every 100ms.
//	cpu = "0.5"
//	# Or the same in the kernel's terms, "QUOTA PERIOD" in microseconds
//	# (period 1000 to 1000000; quota at least 1000). Not with cpu.
//	# cpu_max = "50000 100000"
//	# Share of CPU time against other cgroups when the CPUs are busy,
//	# 1 to 10000 (cgroup v1: cpu.shares = cpu_weight * 1024 / 100).
//	cpu_weight = 200
//	# Run only on these CPUs and allocate only from these memory nodes
//	# (the kernel's list format; the host must have them).
//	cpuset_cpus = "0-1"
//	cpuset_mems = "0"
//	# Share of block I/O, 1 to 10000 (cgroup v1: blkio.bfq.weight, 1 to
//	# 1000; only devices scheduled by BFQ honour it).
//	io_weight = 100
//	# Bandwidth and IOPS limits per whole disk (not a partition), by its
//	# device number (`cat /sys/block/vda/dev`): rbps, wbps in bytes per
//	# second (sizes as for memory), riops, wiops in operations per second.
//	io_max = ["254:0 rbps=10M wbps=5M", "8:0 wiops=200"]
//
//	# miniinit's own settings.
//	[init]
//	# How long to wait after SIGTERM before SIGKILL, for the processes
//	# left when the main workload ends. A Go duration, positive;
//	# default 5s.
//	grace = "10s"
//	# Write a JSON end-of-run report to this absolute file name, or "-"
//	# for stderr. Default: no report.
//	report = "-"
//	# The whole shutdown's budget, from the first stop signal to
//	# miniinit's exit: every stop timeout is cut to what remains of it,
//	# and at its end everything left gets SIGKILL. Keep it under the
//	# runtime's own (docker stop -t: 10s by default). Default 8s.
//	stop_budget = "8s"
//	# miniinit's control socket (`miniinit ctl`, `miniinit health`):
//	# absolute, at most 103 bytes. Default /run/miniinit.sock. Under
//	# minispawn, /run is a tmpfs of the container's own, so the socket is
//	# the container's alone; one outside /run is made in the root.
//	control = "/run/miniinit.sock"
//	# Send these signals to the listed workloads only (SIGHUP to web as
//	# a reload). Signals are named "SIGHUP", "HUP", "SIGRTMIN+3" or by
//	# number. Other signals go to every workload; SIGTERM and SIGINT
//	# begin the shutdown (a second one: SIGKILL to all) and cannot be
//	# routed, nor can SIGKILL, SIGSTOP, SIGCHLD, SIGURG, SIGPROF,
//	# SIGRTMIN or the fault signals.
//	signals = { SIGHUP = ["web"] }
//	# What happens to a workload's output when the container's stdout or
//	# stderr is slower than the workload: "block" (the default) makes the
//	# workload wait in its write, so every byte arrives, as without
//	# miniinit; "drop" never makes it wait: what does not fit in a
//	# 512 KiB queue is dropped, with a warning on stderr when dropping
//	# starts and when output moves again, and counted in `ctl status`,
//	# `ctl logs` and the report; at exit the queue gets one second more,
//	# and what is left in it is counted as dropped. With "block", miniinit
//	# exits only once its reader has taken all output, however long that
//	# takes, but once SIGTERM or SIGINT has come, at most until
//	# stop_budget runs out (or a second one): then what was not written
//	# is abandoned, with a warning. For every workload that does not set
//	# its own.
//	log_overflow = "block"
//
//	# The confinement the whole container runs under (miniinit and every
//	# workload inherit it). Every default is the safe choice.
//	[security]
//	# The capability bounding set to keep. Default: podman's container
//	# set (CHOWN DAC_OVERRIDE FOWNER FSETID KILL NET_BIND_SERVICE SETFCAP
//	# SETGID SETPCAP SETUID SYS_CHROOT): no NET_RAW (raw sockets), no
//	# AUDIT_WRITE, no MKNOD; list them to add them. ["ALL"] keeps all;
//	# [] none.
//	capabilities = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
//	# "default": dangerous system calls (mount, kexec, module loading,
//	# ptrace, bpf, namespace creation...) answer EPERM, unknown ones
//	# ENOSYS. "off": no filter. Default "default".
//	seccomp = "default"
//	# true turns no_new_privs off so setuid binaries work. Default false.
//	allow_privilege_escalation = false
//	# Resource limits, as prlimit(1) names them: "N", "SOFT:HARD" or
//	# "unlimited".
//	rlimits = { nofile = "1024:4096", core = "0" }
//	# -1000..1000; 0 (the default) leaves the inherited value.
//	oom_score_adj = 100
//
//	# A user namespace of its own: root inside is an unprivileged uid and
//	# gid on the host. Default: off.
//	[userns]
//	enabled = true
//	# The host uid and gid that root inside maps to; at least 1. Default:
//	# picked from the name (the same name always gets the same range),
//	# 65536-aligned in 524288 to 1879048191.
//	base = 1879048192
//	# How many uids and gids are mapped, from 0 inside; 1 to 1073741824.
//	# Default 65536.
//	size = 65536
//
//	# minispawn as a systemd service, and what `minispawn unit` writes.
//	[systemd]
//	# When READY=1 goes to systemd: "workloads" (default) once miniinit
//	# reports every essential workload ready; "started" as soon as
//	# miniinit runs.
//	notify = "workloads"
//	# The unit's WatchdogSec=: minispawn pings only while miniinit
//	# answers its heartbeat, so a hung PID 1 gets the unit restarted.
//	# At least 1s; "0s" for none. Default 30s.
//	watchdog = "30s"
//	# The unit's Restart=: "no", "on-success", "on-failure" (default),
//	# "on-abnormal", "on-watchdog", "on-abort" or "always".
//	restart = "on-failure"
//	# Register with systemd-machined so `machinectl list` shows the
//	# container; unregistered at the end. Default false.
//	register = false
//	# Where the cgroup goes: "auto" (default) is the unit's own subtree
//	# under a unit with Delegate=yes, a transient scope asked of systemd
//	# over D-Bus when started by hand on a systemd host, and the cgroup
//	# filesystem without systemd; "systemd" fails without systemd;
//	# "cgroupfs" always uses minispawn/ at the hierarchies' roots.
//	cgroup = "auto"
//	# The slice of the printed unit and of the transient scope.
//	# Default "machine.slice".
//	slice = "machine.slice"
//
//	# Binds and tmpfs mounts into the root, in order, after /proc, /sys
//	# and /dev. Targets are absolute, resolved inside the root (a symlink
//	# there cannot lead out), and not /, /dev, or in /proc or /sys.
//	[[mount]]
//	# "bind" (a host path) or "tmpfs" (a new, empty filesystem).
//	type = "bind"
//	# Binds only: the absolute host path.
//	source = "/srv/data/web"
//	target = "/data"
//	# mount(8) flag names, one per item. Every mount starts nosuid,nodev
//	# ("suid", "dev" lift that). Binds are not recursive unless "rbind"
//	# (not with "ro"); propagation: private, slave, unbindable (r-forms).
//	options = ["ro", "noexec"]
//
//	[[mount]]
//	type = "tmpfs"
//	target = "/tmp"
//	# tmpfs only: a size cap like limits.memory (default: half of RAM;
//	# counted against limits.memory) and the octal mode of its root
//	# (default "1777"). Options may add nr_inodes=, uid=, gid=, huge=.
//	size = "64M"
//	mode = "1777"
//	options = ["noexec"]
//
//	# One [[workload]] table per command to run; at least one.
//	[[workload]]
//	# Unique; same characters as the container's name.
//	name = "web"
//	# An absolute path, or a name looked up in the workload's PATH.
//	command = "/usr/bin/web"
//	# argv[1:].
//	args = ["--port", "8080"]
//	# Added to the environment. Names: not empty, no '=', no NUL.
//	env = { PORT = "8080", MODE = "production" }
//	# Files inside the container of KEY=VALUE lines ('#' starts a
//	# comment), read at each start, in order; env wins over them.
//	env_files = ["/etc/web.env"]
//	# Absolute. Default "/".
//	cwd = "/srv"
//	# The workload whose end (for good: after its restarts) ends the
//	# container, and whose exit code becomes the container's. At most
//	# one; none is fine too (see "The main workload" below).
//	main = true
//	# Exit codes counted as success besides 0 (1 to 255): no on-failure
//	# restart, no failure counted, and for the main workload, container
//	# exit code 0 (tini's -e).
//	success_exit_codes = [143]
//	# "longrun" (default): runs until stopped. "oneshot": runs to
//	# completion, and dependents may wait for that.
//	kind = "longrun"
//	# When it fails for good (restarts not allowed or given up, unhealthy
//	# with action "stop", a required workload failed) the container shuts
//	# down, with its exit code (1 when that is 0, or when miniinit's own
//	# stop ended it: a start timeout, unhealthy, a required workload
//	# failed). Default false.
//	essential = true
//	# What follows an end that was not asked for: "never" (default),
//	# "on-failure" (an exit code not counted as success, a signal, a
//	# failed start, a start timeout, a health restart) or "always".
//	restart = "on-failure"
//	# The delay before each restart: initial (default 100ms; "0s"
//	# restarts at once, as fast as the workload can start), times
//	# multiplier (default 2, at least 1) at each restart, at most max
//	# (default 30s), spread by +/- jitter (a fraction 0 to 1, default
//	# 0.2), back to initial once a process has run for reset_after
//	# (default 30s). Only with restart.
//	backoff = { initial = "200ms", max = "10s", multiplier = 2.0, jitter = 0.1, reset_after = "1m" }
//	# Give up, and fail the workload, at the failures-th failure within
//	# window (default: since it was last started by request). Default:
//	# never. Only with restart.
//	give_up = { failures = 5, window = "1m" }
//	# The longest from a start to ready (a oneshot: to completion); past
//	# it the workload is stopped, and that is a failure. Default: none.
//	start_timeout = "30s"
//	# A stop sends stop_signal and SIGCONT (a stopped process runs its
//	# handler), then SIGKILL to the whole process tree after stop_timeout
//	# (default 5s), or sooner at the end of init.stop_budget, also to
//	# what outlives the workload's own process. Default: SIGTERM, or
//	# SIGINT when a SIGINT to the
//	# container (a ^C) began the shutdown, as it reaches a program that
//	# runs without a supervisor.
//	stop_signal = "SIGTERM"
//	stop_timeout = "10s"
//	# Start only once these workloads meet a condition: "started",
//	# "ready", "healthy" (needs their health check) or "completed" (exited
//	# with success, for good). With after, a workload that fails for good
//	# is waited for no longer; with requires, this one fails too (and is
//	# stopped if it runs). Stops go the other way: this one first.
//	requires = { db = "healthy", migrate = "completed" }
//	after = { cache = "started" }
//	# How it tells that it is ready, one of: notify = true (READY=1 on
//	# $NOTIFY_SOCKET, systemd's protocol), fd = N (a line written on
//	# descriptor N, 3 to 1023, s6's), or a probe repeated every interval
//	# (default 1s), each bounded by timeout (default 1s): exec = [...]
//	# (exits 0; whatever it starts is killed when it ends), tcp =
//	# "host:port" (connects), http = "http://host:port/
//	# path" (a 2xx or 3xx answer to GET; plain HTTP); the host is an IP
//	# address or localhost. Default: ready as soon as it has started.
//	ready = { notify = true }
//	# A check while it runs: exec, tcp or http as for ready, every
//	# interval (default 10s), bounded by timeout (default 2s); retries
//	# failures in a row (default 3) make it unhealthy, and then action:
//	# "report" (default: status and `miniinit health` say so), "restart"
//	# (a failure: restart and give_up decide) or "stop" (failed).
//	health = { http = "http://127.0.0.1:8080/healthz", interval = "10s", timeout = "2s", retries = 3, action = "restart" }
//	# Who it runs as: names looked up in the container's /etc/passwd and
//	# /etc/group at each start, or numbers written as strings. Default:
//	# as miniinit.
//	user = "www-data"
//	group = "www-data"
//	# Supplementary groups. Default: none, when user is set.
//	groups = ["ssl-cert"]
//	# Octal, 3 or 4 digits. Default: miniinit's.
//	umask = "0027"
//	# As in [security], for this workload only.
//	rlimits = { nofile = "4096" }
//	# Set no_new_privs for this workload (the container has it already
//	# unless security.allow_privilege_escalation). Default false.
//	no_new_privs = true
//	# Its capability bounding set, within the container's (one outside it
//	# is an error: it could never be had). Default: the
//	# container's.
//	capabilities = ["CAP_NET_BIND_SERVICE"]
//	# Standard input: "null" (/dev/null) or "inherit" (miniinit's own,
//	# such as a terminal; a workload reading a terminal also writes to
//	# it directly, without prefix or tail). Default "null", for every
//	# workload: a service reads no input it was not meant to (`minispawn
//	# run -t -- sh` writes "inherit" for its one workload).
//	stdin = "inherit"
//	# Prefix every line it writes to stdout and stderr with "web: ".
//	# Prefixes make output line-based: lines are written whole, a last
//	# line without a newline gets one when the workload's output ends,
//	# and a line longer than 128 KiB is written as several prefixed
//	# lines. Without it every byte passes unchanged. Default false.
//	log_prefix = true
//	# As init.log_overflow, for this workload. Default: init's.
//	log_overflow = "drop"
//
//	[[workload]]
//	name = "migrate"
//	command = "/usr/bin/web-migrate"
//	kind = "oneshot"
//
//	[[workload]]
//	name = "db"
//	command = "/usr/bin/postgres"
//	ready = { exec = ["pg_isready", "-q"] }
//	health = { tcp = "127.0.0.1:5432" }
//
//	[[workload]]
//	name = "cache"
//	command = "memcached"
//
// A table may also be written inline or with dotted keys, as TOML allows:
// `rootfs.path = "/srv/root"` or `rootfs = { path = "/srv/root" }`.
//
// # The main workload
//
// With exactly one workload it is main whether or not it sets main. With
// several, at most one may set main = true. When one does, the container
// ends when it ends for good (after its restarts), with its exit code
// (1 when it failed because miniinit stopped it: its start timeout,
// unhealthy with action "stop", a required workload failed; never the
// 128+n of that stop's signal). On SIGTERM or SIGINT the code is the main
// workload's (143 when it dies of SIGTERM, as under tini), or 0 when
// miniinit runs with --zero-on-stop, as under minispawn, and the main
// workload ended by its stop signal.
//
// When none does, no one workload is the container, and it runs until
// one of:
//
//   - SIGTERM or SIGINT (from `docker stop`, systemd, minispawn, ^C):
//     the ordered shutdown; exit code 0.
//   - an essential workload fails for good: the ordered shutdown; exit
//     code as for any essential failure (its last code, or 1 when that
//     is 0, it never ran, or miniinit's own stop ended it).
//   - every workload has ended for good: each one completed, failed or
//     was stopped (`miniinit ctl stop`), and none has a restart pending
//     (backoff, or waiting to start again, is not an end). Exit code 0
//     when none failed; otherwise that of the first failed workload in
//     file order, as if it were essential (its last code, or 1).
//
// `miniinit health` and the readiness minispawn reports to systemd then
// count every workload, since no main or essential one stands for the
// container.
//
//	[[workload]]
//	name = "migrate"
//	command = "/usr/bin/migrate"
//	kind = "oneshot"
//
//	[[workload]]
//	name = "worker"
//	command = "/usr/bin/worker"
//	restart = "on-failure"
//	requires = { migrate = "completed" }
//
// # Rules
//
// Paths (rootfs.path, rootfs.build, rootfs.cache, workload cwd and
// env_files, init.report, init.control, mount source and target) must be
// absolute and clean
// ("/a/b", not "a/b", "/a/./b" or "/a/b/"): the container is set up far
// from the directory the file was written in, and a path must mean one
// thing.
//
// The user namespace: with userns.enabled, uid and gid 0 to size-1 inside
// are base to base+size-1 on the host. base and size without enabled =
// true are errors, as is base = 0 (root inside would be root outside) and
// a range past 4294967294. The root filesystem's ownership follows (see
// minispawn): a built root is made inside the namespace, a directory root
// is seen through an idmapped mount.
//
// Keys are case-sensitive and exact: TOML libraries often match "Name" to
// name, this package reports it as an unknown key instead, as it does any
// key it does not know.
//
// # Errors
//
// Decoding is strict: an unknown key, a value of the wrong type and a bad
// value are all errors that name file:line:column, and Parse reports every
// problem in the file at once (a syntax error alone stops it, as nothing
// after it can be read). The error is an [Errors] value, sorted by
// position, printed one problem per line:
//
//	app.toml:3:1: unknown key "Hostname" (keys are case-sensitive: did you mean "hostname"?)
//	app.toml:12:1: limits: memory "12Q" is not a size (write a number of bytes, ...)
//	app.toml:26:1: workload "web": command is required (an absolute path, or a name looked up in PATH)
//
// The position is that of the key concerned; for a missing key, that of
// its table's header; for a missing table, the start of the file. Columns
// count bytes from 1.
//
// # Defaults
//
// Defaults are filled in after validation, in one place (applyDefaults):
// hostname = name, init.grace = 5s (DefaultGrace), init.stop_budget = 8s,
// init.control = /run/miniinit.sock, workload cwd = "/", main = true for a
// single workload, stdin = "null", and the supervision defaults the
// example states. A
// zero value written explicitly where a default exists is an error
// (grace = "0s", hostname = "", cwd = "", stop_timeout = "0s"), not a
// silent default; the one exception is backoff.initial = "0s" (and
// jitter = 0), which mean no delay (no spread).
//
// # Supervision
//
// The keys after main in the example are miniinit's supervision; package
// init/supervise has the state machine they configure, and SuperviseSpecs
// and Routes turn a Config into its input. The file is refused when
// after or requires name a workload that does not exist, the workload
// itself, or loop (a dependency cycle, shown as "a -> b -> a"); when a
// condition cannot be met ("completed" of a workload that restarts
// always, "healthy" of one without a health check); and when a key has no
// effect (backoff without restart, interval on notify readiness, a
// oneshot with a ready or health check or restart "always").
//
// # Adding a key
//
// The schema is the Go types: a struct field with a `toml:"key"` tag is a
// key, and its Go type says what values it takes ([encoding.TextUnmarshaler]
// types take strings, as Duration and ByteSize do). Add the field, then its
// rule to the section's function in validate.go (the checks list), a line
// to the example above, and fixtures under testdata.
package config
