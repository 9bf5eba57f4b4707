package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/minispawn/minispawn/config"
)

// `minispawn unit -c app.toml` prints a systemd service for the container,
// ready for /etc/systemd/system. Each directive, and why:
//
//	Type=notify             start returns once the workloads are ready
//	                        (READY=1 from minispawn, see notify.go)
//	NotifyAccess=main       only minispawn may notify; the container
//	                        never can (it has no socket to the manager)
//	ExecReload=minispawn ctl -c FILE reload
//	                        miniinit asks minispawn for the file as it
//	                        is now and restarts what changed
//	                        (RELOADING=1 ... READY=1); SIGHUP is the
//	                        workloads', so no kill -HUP
//	Delegate=yes            the unit's cgroup subtree is minispawn's:
//	                        supervisor/ for itself, minispawn/NAME for the
//	                        container (cgroup v2's no-internal-processes
//	                        rule); systemd never touches it
//	KillMode=mixed          SIGTERM to minispawn alone, which stops the
//	                        container in order; the final SIGKILL still
//	                        reaches every process of the subtree
//	TimeoutStopSec=         the config's stop budget, plus stopMargin for
//	                        minispawn's own teardown
//	TimeoutStartSec=        only when a workload has a start_timeout: the
//	                        longest, plus startMargin for setup
//	WatchdogSec=            [systemd] watchdog; minispawn pings only while
//	                        miniinit answers its heartbeat
//	Restart=                [systemd] restart
//	RestartPreventExitStatus=125
//	                        exitSetup: the file is invalid, a setup step
//	                        failed or the container seems to be running;
//	                        a restart would meet the same refusal
//
// No SuccessExitStatus=: minispawn exits 0 when a stop asked of it ends in
// order (miniinit's --zero-on-stop), so a 143 is a workload killed by a
// SIGTERM nobody asked the container for, a failure like any other.
//	Slice=                  [systemd] slice (machine.slice, as nspawn)
//	RequiresMountsFor=      the root filesystem's directory

const (
	// stopMargin is minispawn's share of the stop timeout, beyond
	// miniinit's stop budget: emptying and removing the cgroup, and
	// unregistering.
	stopMargin = 5 * time.Second
	// startMargin is the setup's share of the start timeout, beyond the
	// slowest workload's start_timeout.
	startMargin = 30 * time.Second
)

// unitName is the name `minispawn unit` suggests for the container's
// service. Container names hold only characters unit names allow.
func unitName(c *config.Config) string { return "minispawn-" + c.Name + ".service" }

// unitOptions is the service for container c, whose file is configPath
// (absolute), started by the minispawn binary exe (absolute).
func unitOptions(c *config.Config, exe, configPath string) []*unit.UnitOption {
	var opts []*unit.UnitOption
	add := func(section, name, value string) {
		opts = append(opts, unit.NewUnitOption(section, name, value))
	}
	add("Unit", "Description", "minispawn container "+c.Name)
	switch {
	case c.Rootfs.Path != "":
		add("Unit", "RequiresMountsFor", unitPath(c.Rootfs.Path))
	case c.Rootfs.Cache != "":
		add("Unit", "RequiresMountsFor", unitPath(c.Rootfs.Cache))
	}

	add("Service", "Type", "notify")
	add("Service", "NotifyAccess", "main")
	add("Service", "ExecStart", execLine(exe, "-c", configPath))
	add("Service", "ExecReload", execLine(exe, "ctl", "-c", configPath, "reload"))
	add("Service", "Delegate", "yes")
	add("Service", "KillMode", "mixed")
	add("Service", "KillSignal", "SIGTERM")
	add("Service", "TimeoutStopSec", unitDuration(c.Init.StopBudget.Duration+stopMargin))
	var slowest time.Duration
	for _, w := range c.Workloads {
		slowest = max(slowest, w.StartTimeout.Duration)
	}
	if slowest > 0 {
		add("Service", "TimeoutStartSec", unitDuration(slowest+startMargin))
	}
	if w := c.Systemd.Watchdog.Duration; w > 0 {
		add("Service", "WatchdogSec", unitDuration(w))
	}
	add("Service", "Restart", string(c.Systemd.Restart))
	add("Service", "RestartPreventExitStatus", strconv.Itoa(exitSetup))
	add("Service", "Slice", c.Systemd.Slice)

	add("Install", "WantedBy", "multi-user.target")
	return opts
}

// writeUnit prints the unit with a header that says where it came from
// and how to install it.
func writeUnit(w io.Writer, c *config.Config, exe, configPath string) error {
	name := unitName(c)
	fmt.Fprintf(w, "# %s: container %s from %s, written by `minispawn unit`.\n", name, c.Name, configPath)
	fmt.Fprintf(w, "# Install: minispawn unit -c %s > /etc/systemd/system/%s\n", configPath, name)
	fmt.Fprintf(w, "#          systemctl daemon-reload && systemctl start %s\n", name)
	_, err := io.Copy(w, unit.Serialize(unitOptions(c, exe, configPath)))
	return err
}

// unitDuration writes d as a systemd time span: whole seconds ("13s") or
// milliseconds ("1500ms"), which every systemd version reads.
func unitDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// execLine quotes a command line for ExecStart=: arguments with spaces,
// quotes or backslashes in double quotes with C escapes, and the
// specifier and variable characters '%' and '$' doubled, so that systemd
// runs exactly args.
func execLine(args ...string) string {
	q := make([]string, len(args))
	for i, a := range args {
		a = strings.ReplaceAll(a, "%", "%%")
		a = strings.ReplaceAll(a, "$", "$$")
		if a == "" || strings.ContainsAny(a, " \t\"'\\;") {
			a = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\t", `\t`).Replace(a) + `"`
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// unitPath writes a path for a directive that takes a list of paths
// (RequiresMountsFor=): '%' doubled, and a path with spaces quoted.
func unitPath(p string) string {
	p = strings.ReplaceAll(p, "%", "%%")
	if strings.ContainsAny(p, " \t\"\\") {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p) + `"`
	}
	return p
}
