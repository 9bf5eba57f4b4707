package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// adhocConfig writes the configuration file that `minispawn run --rootfs
// DIR -- cmd args...` stands for. Ad-hoc runs go through the same parser,
// defaults and validation as files do, and miniinit reads the result the
// same way, so the two forms cannot drift apart.
func adhocConfig(o *options) ([]byte, error) {
	if len(o.command) == 0 {
		return nil, fmt.Errorf("run --rootfs needs a command after --")
	}
	name := o.name
	if name == "" {
		name = fmt.Sprintf("run-%d", os.Getpid())
	}
	root, err := filepath.Abs(o.rootfs)
	if err != nil {
		return nil, err
	}
	rootfs := map[string]any{"path": root}
	if o.readOnly {
		rootfs["readonly"] = true
	}
	workload := map[string]any{
		"name":    "main",
		"command": o.command[0],
		"args":    o.command[1:],
		// A command typed on the command line is interactive (-t, or
		// a pipe into it): it reads minispawn's stdin, where a file's
		// workloads get /dev/null unless they ask.
		"stdin": "inherit",
	}
	if o.cwd != "" {
		workload["cwd"] = o.cwd
	}
	if len(o.env) > 0 {
		env := map[string]string{}
		for _, kv := range o.env {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("--env %q: want NAME=VALUE", kv)
			}
			env[k] = v
		}
		workload["env"] = env
	}
	doc := map[string]any{
		"name":     name,
		"rootfs":   rootfs,
		"workload": []map[string]any{workload},
	}
	if o.hostname != "" {
		doc["hostname"] = o.hostname
	}
	limits := map[string]any{}
	if o.memory != "" {
		limits["memory"] = o.memory
	}
	if o.pids != 0 {
		limits["pids"] = o.pids
	}
	if len(limits) > 0 {
		doc["limits"] = limits
	}
	var b bytes.Buffer
	b.WriteString("# minispawn run: the configuration this command line stands for\n")
	if err := toml.NewEncoder(&b).Encode(doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
