package pid1

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// DefaultGrace is the time between SIGTERM and SIGKILL in the drain when
// Options.Grace is zero.
const DefaultGrace = 5 * time.Second

// Options is everything Run needs. cmd/miniinit builds it from the command
// line or from a config file; the zero value of each field is a sensible
// default, except Workloads, which must name one main workload.
type Options struct {
	// Workloads are started in order. Exactly one has Main set: its exit
	// ends the run and its code becomes miniinit's.
	Workloads []Workload

	// GroupSignals forwards signals to each workload's process group
	// instead of its pid (tini -g). Every workload is started in a process
	// group of its own either way.
	GroupSignals bool

	// Subreaper records that the user asked for subreaper mode (-s).
	// miniinit becomes a child subreaper whenever it is not PID 1 whatever
	// this says; setting it only silences the warning that it did.
	Subreaper bool

	// RemapToZero lists exit codes reported as 0 (tini -e, repeatable).
	RemapToZero []int

	// ParentDeathSignal, when not zero, is the signal miniinit asks the
	// kernel for when its parent dies (tini -p). miniinit handles it like
	// any signal sent to it: usually it forwards it to the workloads.
	ParentDeathSignal syscall.Signal

	// Grace is how long the drain waits after SIGTERM before SIGKILL.
	// Zero means DefaultGrace.
	Grace time.Duration

	// Report, when not empty, is where the JSON end-of-run report goes:
	// a file path, or "-" for stderr.
	Report string

	// Verbosity selects what miniinit logs: 0 warnings and errors only,
	// 1 adds info (starts, exits, forwarded signals), 2 adds debug
	// (every reaped orphan).
	Verbosity int

	// WarnOnReap logs every reaped orphan at warning level (tini -w), for
	// finding the process that fails to wait for its children.
	WarnOnReap bool
}

// Workload is one command for Run to start.
type Workload struct {
	// Name labels the workload in logs and in the report.
	Name string
	// Args is the command line; Args[0] is the program, resolved in the
	// workload's own PATH when it holds no slash.
	Args []string
	// Env entries ("KEY=value") override or extend the environment the
	// workload inherits from miniinit (PATH defaults to DefaultPath).
	Env []string
	// Dir is the working directory; empty means the directory miniinit
	// was started in (docker's WORKDIR), not "/", where miniinit itself
	// moves so as not to pin a mount.
	Dir string
	// Main marks the workload whose exit ends the run.
	Main bool
}

// validate checks the contract above and reports every problem at once.
func (o *Options) validate() error {
	var errs []error
	mains := 0
	names := map[string]bool{}
	for i, w := range o.Workloads {
		if w.Main {
			mains++
		}
		if names[w.Name] {
			errs = append(errs, fmt.Errorf("workload name %q used twice", w.Name))
		}
		names[w.Name] = true
		if len(w.Args) == 0 || w.Args[0] == "" {
			errs = append(errs, fmt.Errorf("workload %d (%q): no command", i, w.Name))
		}
	}
	if mains != 1 {
		errs = append(errs, fmt.Errorf("%d workloads, %d marked main: want exactly one main", len(o.Workloads), mains))
	}
	for _, c := range o.RemapToZero {
		if c < 0 || c > 255 {
			errs = append(errs, fmt.Errorf("exit code %d to remap is out of range 0-255", c))
		}
	}
	if o.Grace < 0 {
		errs = append(errs, fmt.Errorf("grace %v is negative", o.Grace))
	}
	if o.ParentDeathSignal < 0 || o.ParentDeathSignal > maxSignal {
		errs = append(errs, fmt.Errorf("parent-death signal %d out of range", o.ParentDeathSignal))
	}
	return errors.Join(errs...)
}

func (o *Options) grace() time.Duration {
	if o.Grace == 0 {
		return DefaultGrace
	}
	return o.Grace
}
