package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minispawn/minispawn/config"
	"github.com/minispawn/minispawn/init/pid1"
)

// cli is the parsed command line. Zero values mean "not given".
type cli struct {
	subreaper  bool
	group      bool
	remap      []int
	pdeath     syscall.Signal
	verbosity  int
	warnReap   bool
	grace      time.Duration
	report     string
	config     string
	configFD   int // -1 when not given
	configName string
	hostFD     int // 0 when not given
	zeroOnStop bool
	version    bool
	help       bool
	command    []string
}

// flagSpec is one row of the flag table. The parser, the usage text and
// the round-trip test (flags_test.go) are all driven by flagTable.
type flagSpec struct {
	short byte   // 0 for a long-only flag
	long  string // "" for a short-only flag
	arg   string // the value's name; "" for a switch
	help  string
	set   func(c *cli, v string) error
	// emit returns the values that reproduce c's setting, one per
	// occurrence ("" for a switch).
	emit func(c *cli) []string
}

var flagTable = []flagSpec{
	{'s', "subreaper", "", "be a child subreaper (automatic when not PID 1; this only silences the warning)",
		func(c *cli, _ string) error { c.subreaper = true; return nil },
		func(c *cli) []string { return times(c.subreaper, 1) }},
	{'g', "process-group", "", "forward signals to the workload's process group, not just its pid",
		func(c *cli, _ string) error { c.group = true; return nil },
		func(c *cli) []string { return times(c.group, 1) }},
	{'e', "remap-exit", "CODE", "report exit code CODE as 0 (repeatable)",
		func(c *cli, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 255 {
				return fmt.Errorf("-e %q: want an exit code 0-255", v)
			}
			c.remap = append(c.remap, n)
			return nil
		},
		func(c *cli) []string {
			var out []string
			for _, n := range c.remap {
				out = append(out, strconv.Itoa(n))
			}
			return out
		}},
	{'p', "pdeathsig", "SIGNAL", "have SIGNAL sent to miniinit when its parent dies (SIGTERM, TERM or 15)",
		func(c *cli, v string) error {
			s, err := pid1.ParseSignal(v)
			if err != nil {
				return fmt.Errorf("-p: %w", err)
			}
			c.pdeath = s
			return nil
		},
		func(c *cli) []string {
			if c.pdeath == 0 {
				return nil
			}
			return []string{pid1.SignalName(c.pdeath)}
		}},
	{'v', "verbose", "", "log more: -v adds starts, exits and forwarded signals, -vv every reaped orphan",
		func(c *cli, _ string) error { c.verbosity++; return nil },
		func(c *cli) []string { return times(true, c.verbosity) }},
	{'w', "warn-on-reap", "", "log every reaped orphan as a warning",
		func(c *cli, _ string) error { c.warnReap = true; return nil },
		func(c *cli) []string { return times(c.warnReap, 1) }},
	{0, "grace", "DURATION", "time between SIGTERM and SIGKILL for what is left when the main workload ends (default 5s)",
		func(c *cli, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("--grace %q: want a positive duration such as 5s or 500ms", v)
			}
			c.grace = d
			return nil
		},
		func(c *cli) []string {
			if c.grace == 0 {
				return nil
			}
			return []string{c.grace.String()}
		}},
	{0, "report", "FILE", "write a JSON end-of-run report to FILE (- for stderr)",
		func(c *cli, v string) error {
			if v == "" {
				return errors.New("--report: empty file name")
			}
			c.report = v
			return nil
		},
		func(c *cli) []string { return nonEmpty(c.report) }},
	{'c', "config", "FILE", "run the workloads of the TOML file FILE instead of a command",
		func(c *cli, v string) error { c.config = v; return nil },
		func(c *cli) []string { return nonEmpty(c.config) }},
	{0, "config-fd", "FD", "read the TOML configuration from descriptor FD (and close it)",
		func(c *cli, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return fmt.Errorf("--config-fd %q: want a descriptor number", v)
			}
			c.configFD = n
			return nil
		},
		func(c *cli) []string {
			if c.configFD < 0 {
				return nil
			}
			return []string{strconv.Itoa(c.configFD)}
		}},
	{0, "config-name", "NAME", "name the configuration read with --config-fd NAME in messages",
		func(c *cli, v string) error { c.configName = v; return nil },
		func(c *cli) []string { return nonEmpty(c.configName) }},
	{0, "host-fd", "FD", "report readiness, status and stops to minispawn on descriptor FD, and answer its heartbeats",
		func(c *cli, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 3 {
				return fmt.Errorf("--host-fd %q: want a descriptor number from 3 on", v)
			}
			c.hostFD = n
			return nil
		},
		func(c *cli) []string {
			if c.hostFD == 0 {
				return nil
			}
			return []string{strconv.Itoa(c.hostFD)}
		}},
	{0, "zero-on-stop", "", "with -c: exit 0, not 128+n, when a stop asked by SIGTERM or SIGINT ends in order",
		func(c *cli, _ string) error { c.zeroOnStop = true; return nil },
		func(c *cli) []string { return times(c.zeroOnStop, 1) }},
	{0, "version", "", "print the version and exit",
		func(c *cli, _ string) error { c.version = true; return nil },
		func(c *cli) []string { return times(c.version, 1) }},
	{'h', "help", "", "print this help and exit",
		func(c *cli, _ string) error { c.help = true; return nil },
		func(c *cli) []string { return times(c.help, 1) }},
}

func times(on bool, n int) []string {
	if !on {
		return nil
	}
	return make([]string, n)
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// usageError is a command line miniinit cannot use.
type usageError struct{ error }

// lookupEnv reads the environment as os.LookupEnv does: tests pass their
// own.
type lookupEnv func(key string) (string, bool)

// getenv is os.Getenv through env.
func getenv(env lookupEnv, key string) string {
	v, _ := env(key)
	return v
}

// parseArgs reads miniinit's command line (without argv[0]) the way getopt
// does for tini: short switches may be grouped (-sgv), a short flag's value
// may be attached (-e143) or follow; long flags take "--name=value" or
// "--name value". Options end at "--" or at the first argument that is not
// one, which starts the command, so "miniinit cmd -x" runs "cmd -x".
//
// tini's environment variables are honoured too, for drop-in use:
// TINI_SUBREAPER (as -s), TINI_KILL_PROCESS_GROUP (as -g) and
// TINI_VERBOSITY (tini's 1 is our default). As under tini, a variable that
// is set counts, whatever its value, the empty string included.
func parseArgs(args []string, env lookupEnv) (cli, error) {
	c := cli{configFD: -1}
	if _, ok := env("TINI_SUBREAPER"); ok {
		c.subreaper = true
	}
	if _, ok := env("TINI_KILL_PROCESS_GROUP"); ok {
		c.group = true
	}
	if v := getenv(env, "TINI_VERBOSITY"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 1 {
			c.verbosity = n - 1
		}
	}

	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		var err error
		if strings.HasPrefix(a, "--") {
			i, err = parseLong(&c, args, i)
		} else {
			i, err = parseShort(&c, args, i)
		}
		if err != nil {
			return cli{}, usageError{err}
		}
	}
	if i < len(args) {
		c.command = args[i:]
	}
	if c.help || c.version {
		return c, nil
	}
	if err := c.check(); err != nil {
		return cli{}, usageError{err}
	}
	return c, nil
}

// parseLong handles args[i], a "--name[=value]"; it returns the index of
// the last argument it used.
func parseLong(c *cli, args []string, i int) (int, error) {
	name, val, hasVal := strings.Cut(args[i][2:], "=")
	for _, f := range flagTable {
		if f.long != name || name == "" {
			continue
		}
		switch {
		case f.arg == "" && hasVal:
			return i, fmt.Errorf("--%s takes no value", name)
		case f.arg != "" && !hasVal:
			if i+1 >= len(args) {
				return i, fmt.Errorf("--%s needs a %s", name, f.arg)
			}
			i++
			val = args[i]
		}
		return i, f.set(c, val)
	}
	return i, fmt.Errorf("unknown option --%s", name)
}

// parseShort handles args[i], a group of short flags such as "-sgv" or
// "-e143"; it returns the index of the last argument it used.
func parseShort(c *cli, args []string, i int) (int, error) {
	a := args[i]
	for j := 1; j < len(a); j++ {
		f := lookupShort(a[j])
		if f == nil {
			return i, fmt.Errorf("unknown option -%c", a[j])
		}
		if f.arg == "" {
			if err := f.set(c, ""); err != nil {
				return i, err
			}
			continue
		}
		val := a[j+1:]
		if val == "" {
			if i+1 >= len(args) {
				return i, fmt.Errorf("-%c needs a %s", f.short, f.arg)
			}
			i++
			val = args[i]
		}
		return i, f.set(c, val)
	}
	return i, nil
}

func lookupShort(b byte) *flagSpec {
	for i := range flagTable {
		if flagTable[i].short == b {
			return &flagTable[i]
		}
	}
	return nil
}

// check enforces the rules between flags: one source of workloads.
func (c *cli) check() error {
	switch {
	case c.config != "" && c.configFD >= 0:
		return errors.New("-c and --config-fd are exclusive: give one configuration")
	case c.configName != "" && c.configFD < 0:
		return errors.New("--config-name names a configuration read with --config-fd; there is none")
	case (c.config != "" || c.configFD >= 0) && len(c.command) > 0:
		return fmt.Errorf("both a configuration and a command (%q): give one", c.command[0])
	case c.config == "" && c.configFD < 0 && len(c.command) == 0:
		return errors.New("no command: usage is miniinit [flags] -- command [args...] or miniinit -c file.toml")
	}
	return nil
}

// argv renders c as a command line that parseArgs reads back to c: the
// flag table in order, long names, then "--" and the command.
func (c *cli) argv() []string {
	var out []string
	for _, f := range flagTable {
		for _, v := range f.emit(c) {
			name := "--" + f.long
			if f.long == "" {
				name = "-" + string(f.short)
			}
			if f.arg == "" {
				out = append(out, name)
			} else {
				out = append(out, name+"="+v)
			}
		}
	}
	if len(c.command) > 0 {
		out = append(append(out, "--"), c.command...)
	}
	return out
}

// usage is the --help text, from the flag table.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: miniinit [flags] [--] command [args...]\n")
	b.WriteString("       miniinit [flags] -c file.toml\n")
	b.WriteString("       miniinit ctl [-s SOCKET | -c FILE] status|start|stop|restart|signal|logs|health|reload\n")
	b.WriteString("       miniinit health [-s SOCKET | -c FILE]\n\n")
	b.WriteString("A small init: reaps every child, forwards signals to the workload, drains what\n")
	b.WriteString("is left when it ends, and exits with its code (125 when miniinit itself fails).\n\n")
	for _, f := range flagTable {
		var name string
		switch {
		case f.short != 0 && f.long != "":
			name = fmt.Sprintf("-%c, --%s", f.short, f.long)
		case f.short != 0:
			name = fmt.Sprintf("-%c", f.short)
		default:
			name = "    --" + f.long
		}
		if f.arg != "" {
			name += " " + f.arg
		}
		fmt.Fprintf(&b, "  %-28s %s\n", name, f.help)
	}
	return b.String()
}

// options turns the command line into pid1.Options; with -c or --config-fd
// the workloads come from the configuration (config.go), and flags given
// on the command line win over the file's settings.
func (c *cli) options() (pid1.Options, error) {
	o := pid1.Options{
		GroupSignals:      c.group,
		Subreaper:         c.subreaper,
		RemapToZero:       c.remap,
		ParentDeathSignal: c.pdeath,
		Verbosity:         c.verbosity,
		WarnOnReap:        c.warnReap,
		Grace:             c.grace,
		Report:            c.report,
		HostFD:            c.hostFD,
		ZeroOnStop:        c.zeroOnStop,
	}
	if len(c.command) > 0 {
		o.Workloads = []pid1.Workload{{Name: filepath.Base(c.command[0]), Args: c.command, Main: true}}
		return o, nil
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return o, err
	}
	var reread func() (*config.Config, error)
	if c.config != "" {
		// miniinit moves to / once started, so a relative path would
		// name another file (or none) when read again.
		again := *c
		if abs, err := filepath.Abs(c.config); err == nil {
			again.config = abs
		}
		reread = func() (*config.Config, error) { return loadConfig(&again) }
	}
	fromConfig(&o, cfg, reread)
	if c.hostFD != 0 {
		// minispawn sends the file's new content on reload.
		name := cfg.File
		o.ReloadFrom = func(data []byte) ([]pid1.Workload, map[syscall.Signal][]string, error) {
			next, err := config.ParseInit(name, data)
			if err != nil {
				return nil, nil, err
			}
			return workloadsOf(next), next.Routes(), nil
		}
	}
	return o, nil
}
