package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/minispawn/minispawn/config"
)

// adhocConfig writes the configuration file that `minispawn run --rootfs
// DIR -- cmd args...` stands for. Ad-hoc runs go through the same parser,
// defaults and validation as files do, and miniinit reads the result the
// same way, so the two forms cannot drift apart.
func adhocConfig(o *options) ([]byte, error) {
	if len(o.command) == 0 {
		return nil, fmt.Errorf("run --rootfs needs a command after --")
	}
	root, err := filepath.Abs(o.rootfs)
	if err != nil {
		return nil, err
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
	doc := map[string]any{
		"name":     fmt.Sprintf("run-%d", os.Getpid()),
		"rootfs":   map[string]any{"path": root},
		"workload": []map[string]any{workload},
	}
	if err := o.override(doc); err != nil {
		return nil, err
	}
	return encodeConfig("# minispawn run: the configuration this command line stands for\n", doc)
}

// withOverrides applies the flags given with -c to the file's data: they
// win over the file (flag precedence, README "Flags with -c"). Without
// such flags the data is returned as it is, byte for byte.
func withOverrides(o *options, data []byte) ([]byte, error) {
	if !o.overrides() {
		return data, nil
	}
	var doc map[string]any
	if _, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, err // Parse of the same data reports it, positioned
	}
	if err := o.override(doc); err != nil {
		return nil, err
	}
	return encodeConfig(fmt.Sprintf("# %s with minispawn's flags %s\n", o.config, strings.Join(o.overrideFlags(), " ")), doc)
}

func encodeConfig(header string, doc map[string]any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(header)
	if err := toml.NewEncoder(&b).Encode(doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// overrideKeys are the configuration keys the container flags set, by
// flag. A problem the configuration finds at one of these keys, in a file
// made from flags, is that flag's: messages name it, not a line of a file
// the user never wrote.
var overrideKeys = []struct{ flag, key string }{
	{"--name", "name"},
	{"--hostname", "hostname"},
	{"--memory", "limits.memory"},
	{"--pids", "limits.pids"},
	{"--read-only", "rootfs.readonly"},
	{"--rootfs", "rootfs.path"},
	{"--env", ".env"},
	{"--cwd", ".cwd"},
	{"the command after --", ".command"},
	{"the command after --", ".args"},
}

// flagOfKey names the flag that set key ("workload[0].env.FOO" -> --env),
// or "" when none does.
func flagOfKey(key string) string {
	for _, k := range overrideKeys {
		if strings.HasPrefix(k.key, ".") {
			// A workload's key: workload[N].env...
			_, rest, ok := strings.Cut(key, "]")
			if ok && strings.HasPrefix(key, "workload[") && (rest == k.key || strings.HasPrefix(rest, k.key+".")) {
				return k.flag
			}
			continue
		}
		if key == k.key || strings.HasPrefix(key, k.key+".") {
			return k.flag
		}
	}
	return ""
}

// overrides reports whether any container flag was given.
func (o *options) overrides() bool { return len(o.overrideFlags()) > 0 }

// overrideFlags lists the container flags given, as typed.
func (o *options) overrideFlags() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"--name", o.name != ""}, {"--hostname", o.hostname != ""},
		{"--memory", o.memory != ""}, {"--pids", o.pids != 0},
		{"--read-only", o.readOnly}, {"--cwd", o.cwd != ""}, {"--env", len(o.env) > 0},
	} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// override sets in doc, a configuration as decoded TOML, what the
// container flags say: --name, --hostname, --memory and --pids replace the
// file's values; --read-only sets rootfs.readonly; --env adds to every
// workload's env (after its env_files; a flag's value wins over the
// file's); --cwd replaces every workload's working directory.
func (o *options) override(doc map[string]any) error {
	table := func(key string) map[string]any {
		t, ok := doc[key].(map[string]any)
		if !ok {
			t = map[string]any{}
			doc[key] = t
		}
		return t
	}
	if o.name != "" {
		doc["name"] = o.name
	}
	if o.hostname != "" {
		doc["hostname"] = o.hostname
	}
	if o.memory != "" {
		table("limits")["memory"] = o.memory
	}
	if o.pids != 0 {
		table("limits")["pids"] = o.pids
	}
	if o.readOnly {
		table("rootfs")["readonly"] = true
	}
	if o.cwd == "" && len(o.env) == 0 {
		return nil
	}
	env, err := envFlags(o.env)
	if err != nil {
		return err
	}
	workloads, _ := doc["workload"].([]map[string]any)
	for _, w := range workloads {
		if o.cwd != "" {
			w["cwd"] = o.cwd
		}
		if len(env) == 0 {
			continue
		}
		merged := map[string]any{}
		if e, ok := w["env"].(map[string]any); ok {
			for k, v := range e {
				merged[k] = v
			}
		}
		for k, v := range env {
			merged[k] = v
		}
		w["env"] = merged
	}
	return nil
}

// envFlags reads --env values: NAME=VALUE, or NAME alone for the value
// NAME has in minispawn's own environment (as podman does); a NAME that is
// not set there is an error, not an empty value.
func envFlags(list []string) (map[string]string, error) {
	env := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if k == "" {
			return nil, fmt.Errorf("--env %q: want NAME=VALUE or NAME", kv)
		}
		if !ok {
			if v, ok = os.LookupEnv(k); !ok {
				return nil, fmt.Errorf("--env %s: %s is not set in minispawn's environment (give --env %s=VALUE)", k, k, k)
			}
		}
		env[k] = v
	}
	return env, nil
}

// checkFlagValues checks what the container flags hold before any file is
// read, so that a bad value is a command-line error (exit 2).
func (o *options) checkFlagValues() error {
	if o.memory != "" {
		var size config.ByteSize
		if err := size.UnmarshalText([]byte(o.memory)); err != nil {
			return fmt.Errorf("--memory %q: %w", o.memory, err)
		}
	}
	if o.pids < 0 {
		return fmt.Errorf("--pids %d: want a positive number", o.pids)
	}
	_, err := envFlags(o.env)
	return err
}

// flagErrors renders the problems Parse found in a file made from flags:
// each named by its flag when one set its key. fromFlags reports whether
// every problem is a flag's.
func flagErrors(err error) (text string, fromFlags bool) {
	var es config.Errors
	if !errors.As(err, &es) {
		return err.Error(), false
	}
	fromFlags = true
	var lines []string
	for _, e := range es {
		if f := flagOfKey(e.Key); f != "" {
			lines = append(lines, "minispawn: "+f+": "+e.Msg)
			continue
		}
		fromFlags = false
		lines = append(lines, "minispawn: "+e.Msg)
	}
	return strings.Join(lines, "\n"), fromFlags
}
