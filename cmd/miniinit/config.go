package main

// This file is miniinit's only contact with package config.

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"syscall"

	"github.com/minispawn/minispawn/config"
	"github.com/minispawn/minispawn/init/confine"
	"github.com/minispawn/minispawn/init/pid1"
)

// loadConfig reads the configuration named on the command line: a file
// (-c), or the bytes minispawn passes on a descriptor (--config-fd), which
// is read to the end and closed.
func loadConfig(c *cli) (*config.Config, error) {
	if c.config != "" {
		return config.LoadInit(c.config)
	}
	data, err := readFD(c.configFD)
	if err != nil {
		return nil, err
	}
	name := c.configName
	if name == "" {
		name = "config fd " + strconv.Itoa(c.configFD)
	}
	return config.ParseInit(name, data)
}

func readFD(fd int) ([]byte, error) {
	f := os.NewFile(uintptr(fd), "fd "+strconv.Itoa(fd))
	if f == nil {
		return nil, fmt.Errorf("--config-fd %d: not a descriptor", fd)
	}
	data, err := io.ReadAll(f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("read configuration from fd %d: %w", fd, err)
	}
	return data, nil
}

// fromConfig fills o from cfg: supervised workloads, the stop budget,
// signal routes and the control socket; grace and report unless the
// command line set them. reread, when not nil, reads the configuration
// again, for `miniinit ctl reload`.
func fromConfig(o *pid1.Options, cfg *config.Config, reread func() (*config.Config, error)) {
	o.Supervised = true
	o.Workloads = workloadsOf(cfg)
	o.StopBudget = cfg.Init.StopBudget.Duration
	o.Routes = cfg.Routes()
	o.Control = cfg.Init.Control
	if o.Grace == 0 {
		o.Grace = cfg.Init.Grace.Duration
	}
	if o.Report == "" {
		o.Report = cfg.Init.Report
	}
	if reread != nil {
		o.Reload = func() ([]pid1.Workload, map[syscall.Signal][]string, error) {
			next, err := reread()
			if err != nil {
				return nil, nil, err
			}
			return workloadsOf(next), next.Routes(), nil
		}
	}
}

// workloadsOf turns the file's workloads into pid1's.
func workloadsOf(cfg *config.Config) []pid1.Workload {
	specs := cfg.SuperviseSpecs()
	var out []pid1.Workload
	for i := range cfg.Workloads {
		w := &cfg.Workloads[i]
		var env []string
		for _, k := range slices.Sorted(maps.Keys(w.Env)) {
			env = append(env, k+"="+w.Env[k])
		}
		out = append(out, pid1.Workload{
			Name:       w.Name,
			Args:       append([]string{w.Command}, w.Args...),
			Env:        env,
			Dir:        w.Cwd,
			Main:       specs[i].Main,
			Policy:     specs[i],
			EnvFiles:   w.EnvFiles,
			StdinNull:  w.Stdin == config.StdinNull,
			Prefix:     w.LogPrefix,
			DropOutput: w.LogOverflow == config.OverflowDrop,
			ReadyFD:    w.Ready.FD,
			ReadyProbe: pid1.Probe{Exec: w.Ready.Exec, TCP: w.Ready.TCP, HTTP: w.Ready.HTTP},
			Health:     pid1.Probe{Exec: w.Health.Exec, TCP: w.Health.TCP, HTTP: w.Health.HTTP},

			User:         w.User,
			Group:        w.Group,
			Groups:       w.Groups,
			Umask:        umaskOf(w.Umask),
			Rlimits:      rlimitsOf(w.Rlimits),
			NoNewPrivs:   w.NoNewPrivs,
			Capabilities: w.Capabilities,
		})
	}
	return out
}

// umaskOf reads a validated umask; "" is none.
func umaskOf(s string) *uint32 {
	if s == "" {
		return nil
	}
	m, err := config.ParseUmask(s)
	if err != nil {
		return nil // config has checked it
	}
	return &m
}

// rlimitsOf reads validated rlimits.
func rlimitsOf(m map[string]string) map[string]confine.Rlimit {
	if len(m) == 0 {
		return nil
	}
	out := map[string]confine.Rlimit{}
	for name, v := range m {
		if rl, err := config.ParseRlimitValue(v); err == nil {
			out[name] = rl
		}
	}
	return out
}
