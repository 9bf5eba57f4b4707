// Command miniinit is a small init for containers: it reaps every child,
// forwards signals to its workload, drains what is left when the workload
// ends, and exits with the workload's code. See package pid1 for what it
// does and why, and `miniinit --help` for the flags.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/minispawn/minispawn/config"
	"github.com/minispawn/minispawn/init/pid1"
	"github.com/minispawn/minispawn/internal/version"
)

func init() {
	// Keep main on the main thread: the name pid1.Run gives itself
	// (PR_SET_NAME) is the calling thread's, and ps shows the main
	// thread's. pid1.Run releases the lock once its setup is done.
	runtime.LockOSThread()
}

func main() {
	// When miniinit executes itself to set LISTEN_PID, this does that
	// and never returns.
	pid1.MaybeListenShim(os.Args)
	if len(os.Args) > 1 && (os.Args[1] == "ctl" || os.Args[1] == "health") {
		// The control client: a command of miniinit's own, never a
		// workload (run a program named so with "miniinit -- ctl").
		os.Exit(runCtl(os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// run is main without the process exit: parse, then hand over to pid1.Run.
func run(args []string, env lookupEnv, stdout, stderr io.Writer) int {
	c, err := parseArgs(args, env)
	if err != nil {
		fmt.Fprintf(stderr, "miniinit: %v\nTry 'miniinit --help'.\n", err)
		return pid1.ExitSetup
	}
	switch {
	case c.help:
		fmt.Fprint(stdout, usage())
		return 0
	case c.version:
		fmt.Fprintf(stdout, "miniinit version %s\n", version.String())
		return 0
	}
	opts, err := c.options()
	if err != nil {
		// A configuration error lists every problem, one per line.
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "miniinit: %s\n", line)
		}
		return pid1.ExitSetup
	}
	if opts.Control == config.DefaultControl {
		// The file left init.control at its default, which is root's:
		// the rule of controlpath.go decides, as for the clients.
		opts.Control, opts.ControlPrivate = processControl(env)
	}
	return pid1.Run(opts)
}
