// Command minispawn runs a container described by a TOML file: it creates
// the namespaces, a cgroup with the configured limits and the root
// filesystem, then runs miniinit as the container's PID 1, and exits with
// the container's exit code.
//
//	minispawn -c app.toml           run the container
//	minispawn check -c app.toml     validate the file and print the plan
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
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// options is minispawn's command line after parsing.
type options struct {
	cmd     string // "run" or "check"
	config  string
	init    string
	dryRun  bool
	verbose bool
}

// flagSet declares the flags of cmd on fs, bound to o. One table for
// parsing and for rendering (args), so the two cannot drift apart.
func (o *options) flagSet(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.config, "c", "", "the container's TOML `file`")
	fs.StringVar(&o.init, "init", "", "miniinit binary to run as PID 1 (default: next to minispawn, then $PATH)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the plan and exit without running anything")
	fs.BoolVar(&o.verbose, "v", false, "debug output")
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: minispawn [run|check] -c FILE [flags]\n       minispawn --version\n\nflags:\n")
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
	return a
}

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
	case "run", "check":
	default:
		return nil, fmt.Errorf("unknown command %q (want run or check)", o.cmd)
	}
	fs := o.flagSet("minispawn "+o.cmd, out)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.config == "" {
		return nil, errors.New("-c FILE is required")
	}
	return o, nil
}

func main() {
	// The second stage is this same binary, started again inside the new
	// namespaces; it never returns.
	if isStage2() {
		stage2Main()
	}
	os.Exit(run(os.Args[1:]))
}

func run(argv []string) int {
	o, err := parseArgs(argv, os.Stderr)
	switch {
	case errors.Is(err, errVersion):
		fmt.Println("minispawn", version)
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintf(os.Stderr, "minispawn: %v\n", err)
		fmt.Fprintf(os.Stderr, "usage: minispawn [run|check] -c FILE [flags]\n")
		return exitUsage
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := newLogger(os.Stderr, "minispawn", level)
	slog.SetDefault(log)
	if o.cmd == "check" {
		o.dryRun = true
	}
	return runContainer(o, log)
}
