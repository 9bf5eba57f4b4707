// Command minispawn runs a container described by a TOML file: it creates
// the namespaces, a cgroup with the configured limits and the root
// filesystem, then runs miniinit as the container's PID 1, and exits with
// the container's exit code.
//
//	minispawn -c app.toml                      run the container
//	minispawn check -c app.toml                validate the file and print the plan
//	minispawn unit -c app.toml                 print a systemd service for the container
//	minispawn run --rootfs DIR [flags] -- cmd  run cmd in DIR, with a file's defaults
//	minispawn ctl -c app.toml status           miniinit's control commands, from the host (ctl.go)
//
// Exit codes: the main workload's (N, or 128+n for death by signal n);
// 125 when the configuration is invalid or a setup step failed (nothing
// ran); 2 for a command-line error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/minispawn/minispawn/internal/version"
)

// options is minispawn's command line after parsing.
type options struct {
	cmd     string // "run", "check", "unit" or "ctl"
	config  string
	init    string
	dryRun  bool
	verbose bool
	tty     bool

	// The ad-hoc form: a root directory and a command instead of a file.
	rootfs   string
	name     string
	hostname string
	memory   string
	pids     int64
	readOnly bool
	cwd      string
	env      listFlag
	command  []string

	// ctl (ctl.go): the control command's words, and -json.
	ctlArgs []string
	json    bool
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// flagSet declares the flags of cmd on fs, bound to o. One table for
// parsing and for rendering (args), so the two cannot drift apart.
func (o *options) flagSet(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.config, "c", "", "the container's TOML `file`")
	fs.StringVar(&o.init, "init", "", "miniinit binary to run as PID 1 (default: next to minispawn, then $PATH)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the plan and exit without running anything")
	fs.BoolVar(&o.verbose, "v", false, "debug output")
	fs.BoolVar(&o.tty, "t", false, "give the workload a new pseudo-terminal (interactive use)")
	fs.StringVar(&o.rootfs, "rootfs", "", "ad-hoc run: the root `dir`ectory (instead of -c; the command follows --)")
	fs.StringVar(&o.name, "name", "", "the container's name (ad-hoc run: default run-PID; with -c: instead of the file's); ctl: the container to reach")
	fs.StringVar(&o.hostname, "hostname", "", "hostname (default: the name; with -c: instead of the file's)")
	fs.StringVar(&o.memory, "memory", "", "memory limit, e.g. 256M (with -c: instead of the file's)")
	fs.Int64Var(&o.pids, "pids", 0, "most tasks at once (with -c: instead of the file's)")
	fs.BoolVar(&o.readOnly, "read-only", false, "mount the root read-only (with -c: whatever the file says)")
	fs.StringVar(&o.cwd, "cwd", "", "the command's working directory (with -c: of every workload)")
	fs.Var(&o.env, "env", "NAME=VALUE, or NAME for its value here, added to the environment (with -c: of every workload, over the file's); repeatable")
	fs.BoolVar(&o.json, "json", false, "ctl: print miniinit's answer as JSON")
	fs.Usage = func() {
		fmt.Fprintf(out, "%s\n\nflags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// args renders o back into a command line that parseArgs reads as o.
func (o *options) args() []string {
	a := []string{o.cmd}
	if o.config != "" {
		a = append(a, "-c", o.config)
	}
	if o.init != "" {
		a = append(a, "-init", o.init)
	}
	if o.dryRun {
		a = append(a, "-dry-run")
	}
	if o.verbose {
		a = append(a, "-v")
	}
	if o.tty {
		a = append(a, "-t")
	}
	for _, f := range []struct{ name, value string }{
		{"-rootfs", o.rootfs}, {"-name", o.name}, {"-hostname", o.hostname},
		{"-memory", o.memory}, {"-cwd", o.cwd},
	} {
		if f.value != "" {
			a = append(a, f.name, f.value)
		}
	}
	if o.pids != 0 {
		a = append(a, "-pids", fmt.Sprint(o.pids))
	}
	if o.readOnly {
		a = append(a, "-read-only")
	}
	for _, e := range o.env {
		a = append(a, "-env", e)
	}
	if o.json {
		a = append(a, "-json")
	}
	if len(o.command) > 0 {
		a = append(append(a, "--"), o.command...)
	}
	if len(o.ctlArgs) > 0 {
		a = append(append(a, "--"), o.ctlArgs...)
	}
	return a
}

const usage = `usage: minispawn [run|check|unit] -c FILE [flags]
       minispawn run --rootfs DIR [flags] -- COMMAND [ARG...]
       minispawn ctl -c FILE | -name NAME [-json] COMMAND [ARG...]
       minispawn --version`

var errVersion = errors.New("version requested")

func parseArgs(args []string, out io.Writer) (*options, error) {
	o := &options{cmd: "run"}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		o.cmd = args[0]
		args = args[1:]
	}
	if len(args) == 1 && (args[0] == "--version" || args[0] == "-version") {
		return nil, errVersion
	}
	switch o.cmd {
	case "run", "check", "unit", "ctl": // unit: unitcmd.go; ctl: ctl.go
	default:
		return nil, fmt.Errorf("unknown command %q (want run, check, unit or ctl)", o.cmd)
	}
	fs := o.flagSet("minispawn "+o.cmd, out)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.cmd == "ctl" {
		o.ctlArgs = fs.Args()
		return o, o.checkCtl()
	}
	if o.json {
		return nil, errors.New("-json is for ctl")
	}
	if err := o.checkFlagValues(); err != nil { // adhoc.go
		return nil, err
	}
	if o.cmd == "unit" && o.overrides() {
		return nil, fmt.Errorf("unit prints the file's service as the file says: put %s in the file", strings.Join(o.overrideFlags(), " "))
	}
	if o.rootfs != "" {
		if o.config != "" {
			return nil, errors.New("-c and --rootfs exclude each other")
		}
		if fs.NArg() == 0 {
			return nil, errors.New("--rootfs needs a command after --")
		}
		o.command = fs.Args()
		return o, nil
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.config == "" {
		return nil, errors.New("-c FILE (or --rootfs DIR -- COMMAND) is required")
	}
	return o, nil
}

func main() {
	// The second stage is this same binary, started again inside the new
	// namespaces; it never returns.
	if isStage2() {
		stage2Main()
	}
	// Likewise a holder of a user namespace (userns_linux.go).
	if isUsernsHolder() {
		usernsHolderMain()
	}
	os.Exit(run(os.Args[1:]))
}

func run(argv []string) int {
	o, err := parseArgs(argv, os.Stderr)
	switch {
	case errors.Is(err, errVersion):
		fmt.Println("minispawn version", version.String())
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintf(os.Stderr, "minispawn: %v\n%s\n", err, usage)
		return exitUsage
	}
	if o.cmd == "ctl" {
		return runCtl(o, os.Stdout, os.Stderr) // ctl.go
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	// Structured journal entries when stderr is the journal (journal.go).
	log := newServiceLogger(os.Stderr, level)
	slog.SetDefault(log)
	if o.cmd == "check" {
		o.dryRun = true
	}
	if o.cmd == "unit" {
		return runUnit(o, os.Stdout, os.Stderr) // unitcmd.go
	}
	return runContainer(o, log)
}
