package main

// This file is miniinit's only contact with package config.

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"

	"github.com/minispawn/minispawn/config"
	"github.com/minispawn/minispawn/init/pid1"
)

// loadConfig reads the configuration named on the command line: a file
// (-c), or the bytes minispawn passes on a descriptor (--config-fd), which
// is read to the end and closed.
func loadConfig(c *cli) (*config.Config, error) {
	if c.config != "" {
		return config.Load(c.config)
	}
	data, err := readFD(c.configFD)
	if err != nil {
		return nil, err
	}
	name := c.configName
	if name == "" {
		name = "config fd " + strconv.Itoa(c.configFD)
	}
	return config.Parse(name, data)
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

// fromConfig fills o's workloads from cfg, and grace and report unless the
// command line set them. Every workload is started; the main one decides
// the exit. (Supervision of the others, with restarts, comes later; this is
// its seam.)
func fromConfig(o *pid1.Options, cfg *config.Config) {
	main := cfg.MainWorkload()
	for i := range cfg.Workloads {
		w := &cfg.Workloads[i]
		var env []string
		for _, k := range slices.Sorted(maps.Keys(w.Env)) {
			env = append(env, k+"="+w.Env[k])
		}
		o.Workloads = append(o.Workloads, pid1.Workload{
			Name: w.Name,
			Args: append([]string{w.Command}, w.Args...),
			Env:  env,
			Dir:  w.Cwd,
			Main: w == main,
		})
	}
	if o.Grace == 0 {
		o.Grace = cfg.Init.Grace.Duration
	}
	if o.Report == "" {
		o.Report = cfg.Init.Report
	}
}
