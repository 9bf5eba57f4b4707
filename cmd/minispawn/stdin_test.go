package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// TestStdinDefaults: a configuration file's workload reads /dev/null
// unless it sets stdin = "inherit"; `minispawn run -- cmd` writes that for
// its one workload, so a command typed on the command line reads what is
// piped into minispawn (TestTTY covers the terminal).
func TestStdinDefaults(t *testing.T) {
	roottest.Require(t)
	root := busyboxRoot(t)
	script := `if read line; then echo "got $line"; else echo "eof"; fi`
	fileConfig := func(t *testing.T, stdin string) string {
		return dirShellConfig(t, containerName(t), root, stdin, script)
	}
	for _, tc := range []struct {
		name string
		args func(t *testing.T) []string
		want string
	}{
		{"file default", func(t *testing.T) []string { return []string{"-c", fileConfig(t, "")} }, "eof"},
		{"file inherit", func(t *testing.T) []string { return []string{"-c", fileConfig(t, `stdin = "inherit"`)} }, "got hello"},
		{"run", func(t *testing.T) []string {
			return []string{"run", "--rootfs", root, "--name", containerName(t), "--", "/bin/sh", "-c", script}
		}, "got hello"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshotHost(t)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(binDir, "minispawn"), tc.args(t)...)
			cmd.Stdin = strings.NewReader("hello\n")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("minispawn: %v\n%s", err, &stderr)
			}
			if got := strings.TrimSpace(stdout.String()); got != tc.want {
				t.Errorf("the workload printed %q, want %q\nstderr:\n%s", got, tc.want, &stderr)
			}
			checkNothingLeft(t, before, containerName(t), "")
		})
	}
}
