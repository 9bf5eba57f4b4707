package pid1

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/minispawn/minispawn/init/confine"
	"github.com/minispawn/minispawn/init/supervise"
)

// DefaultGrace is the time between SIGTERM and SIGKILL in the drain when
// Options.Grace is zero.
const DefaultGrace = 5 * time.Second

// Options is everything Run needs. cmd/miniinit builds it from the command
// line or from a config file; the zero value of each field is a sensible
// default, except Workloads, which must name one main workload (or, when
// Supervised, at most one).
type Options struct {
	// Workloads are started in order. Exactly one has Main set: its exit
	// ends the run and its code becomes miniinit's. When Supervised, none
	// may have it: the run then ends once every workload has ended for
	// good (package supervise, "Shutdown").
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

	// Supervised is the configuration file's behaviour (see
	// "Supervision" in doc.go): SIGTERM and SIGINT begin the ordered
	// shutdown, and a second one SIGKILLs everything, instead of being
	// forwarded; signals go to each workload's process group; each
	// workload's output goes through miniinit (prefixes, the in-memory
	// tail); what a workload's process leaves in its group when it ends
	// is killed. Without it miniinit behaves as tini does: one main
	// workload, every signal forwarded.
	Supervised bool

	// StopBudget bounds the whole shutdown (supervise.Options.StopBudget).
	// Zero: supervise.DefaultStopBudget.
	StopBudget time.Duration

	// ZeroOnStop makes a stop asked from outside (SIGTERM or SIGINT to
	// miniinit, or `ctl stop` of the main workload) that ends in order
	// exit 0 instead of the main workload's 128+n
	// (supervise.Options.ZeroOnStop). minispawn asks for it, so that a
	// service manager can count only 0 as success.
	ZeroOnStop bool

	// Routes sends a signal to the named workloads only.
	Routes map[syscall.Signal][]string

	// Control is the path of the control socket (`miniinit ctl`); empty
	// for none.
	Control string
	// ControlPrivate says that Control's directory is a user's private
	// one in a shared place (/tmp/miniinit-UID): it is made with mode
	// 0700 and used only when it passes PrivateDir.
	ControlPrivate bool

	// Reload, when set, reads the configuration again for `miniinit ctl
	// reload`, returning the new workloads and routes.
	Reload func() ([]Workload, map[syscall.Signal][]string, error)

	// ReloadFrom, when set with HostFD, reads a configuration's content
	// that minispawn sends, for a configuration miniinit cannot read
	// again itself (--config-fd): each `ctl reload` asks minispawn for
	// the file as it is then (hostlink_linux.go).
	ReloadFrom func(data []byte) ([]Workload, map[syscall.Signal][]string, error)

	// Seed, when not zero, makes the restart jitter repeatable.
	Seed uint64

	// HostFD, when not zero, is miniinit's end of the channel to
	// minispawn (package hostlink; hostlink_linux.go): readiness, status,
	// stop and reload go to the host's service manager through it, and
	// minispawn's heartbeats are answered on it.
	HostFD int
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

	// Policy is how the workload is supervised: restarts, dependencies,
	// readiness, health, stop. Its Name and Main are taken from the
	// fields above. The zero value is tini's: never restarted, stopped
	// with SIGTERM.
	Policy supervise.Spec
	// EnvFiles are read at each start, in order, under Env.
	EnvFiles []string
	// StdinNull gives the workload /dev/null as stdin instead of
	// miniinit's own.
	StdinNull bool
	// Prefix starts each line of its output with "NAME: " (Supervised).
	Prefix bool
	// DropOutput drops its output, counted, rather than wait for a
	// blocked stdout or stderr (Supervised; output_linux.go).
	DropOutput bool
	// ReadyFD is the descriptor the workload writes a line on when it is
	// ready (Policy.Ready.Kind is ReadyFD).
	ReadyFD int
	// ReadyProbe and Health are the probes behind Policy.Ready (when
	// ReadyProbe) and Policy.Health.
	ReadyProbe, Health Probe

	// Confinement, applied by the exec stage (confine_linux.go) when any
	// is set. User and Group are names or numbers, resolved at each
	// start in /etc/passwd and /etc/group; Groups, when nil, are the
	// groups /etc/group lists a named User in. Capabilities, when not
	// nil, is the bounding set to keep; nil keeps miniinit's.
	User, Group  string
	Groups       []string
	Umask        *uint32
	Rlimits      map[string]confine.Rlimit
	NoNewPrivs   bool
	Capabilities []string
}

// Probe is one check: a command that must exit 0, a TCP address that must
// accept a connection, or an http:// URL that must answer 2xx or 3xx. One
// is set.
type Probe struct {
	Exec []string
	TCP  string
	HTTP string
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
	if mains > 1 || mains == 0 && !o.Supervised {
		errs = append(errs, fmt.Errorf("%d workloads, %d marked main: want exactly one main", len(o.Workloads), mains))
	}
	if len(o.Workloads) == 0 {
		errs = append(errs, errors.New("no workload"))
	}
	if err := checkSpecs(o.Workloads); err != nil {
		errs = append(errs, err)
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

// specs returns the machine's specs for workloads.
func specs(ws []Workload) []supervise.Spec {
	out := make([]supervise.Spec, len(ws))
	for i, w := range ws {
		out[i] = w.Policy
		out[i].Name, out[i].Main = w.Name, w.Main
	}
	return out
}

// checkSpecs checks the policies the way the machine will.
func checkSpecs(ws []Workload) error {
	_, err := supervise.New(specs(ws), supervise.Options{})
	return err
}
