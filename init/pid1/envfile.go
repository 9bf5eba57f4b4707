package pid1

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

// readEnvFile reads a workload's env file: one KEY=VALUE a line, the value
// taken as written (no quotes removed, nothing expanded), as docker's
// --env-file does. Blank lines and lines starting with '#' are skipped; an
// "export " before the key is allowed, so a shell can source the same
// file. A line without '=' or with a bad key is an error naming
// file:line, and so is a missing file: a workload does not start with half
// its configuration.
func readEnvFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("env file: %w", err)
	}
	var env []string
	for i, line := range bytes.Split(data, []byte("\n")) {
		s := strings.TrimSuffix(string(line), "\r")
		trimmed := strings.TrimLeft(s, " \t")
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		trimmed = strings.TrimPrefix(trimmed, "export ")
		k, v, ok := strings.Cut(trimmed, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t\x00") || strings.IndexByte(v, 0) >= 0 {
			return nil, fmt.Errorf("env file %s:%d: want KEY=VALUE", path, i+1)
		}
		env = append(env, k+"="+v)
	}
	return env, nil
}
