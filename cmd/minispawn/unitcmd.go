package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/minispawn/minispawn/config"
)

// runUnit is `minispawn unit -c FILE`: print the container's service to
// out. ExecStart names this very binary and the file, both absolute,
// since systemd starts units in /.
func runUnit(o *options, out, errOut io.Writer) int {
	if o.rootfs != "" {
		fmt.Fprintln(errOut, "minispawn: unit needs -c FILE (a unit cannot hold an ad-hoc run's command line)")
		return exitUsage
	}
	path, err := filepath.Abs(o.config)
	if err != nil {
		fmt.Fprintf(errOut, "minispawn: %v\n", err)
		return exitSetup
	}
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(errOut, err)
		return exitSetup
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(errOut, "minispawn: find this binary for ExecStart=: %v\n", err)
		return exitSetup
	}
	if err := writeUnit(out, cfg, exe, path); err != nil {
		fmt.Fprintf(errOut, "minispawn: write the unit: %v\n", err)
		return exitSetup
	}
	return 0
}
