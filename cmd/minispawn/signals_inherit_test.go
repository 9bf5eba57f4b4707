package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/roottest"
)

// sigconfEnv makes this test binary execute its arguments with tini's
// sigconf signal state (TestMain): SIGINT, SIGSEGV and SIGTTOU ignored,
// SIGILL, SIGTERM and SIGTTIN blocked.
const sigconfEnv = "MINISPAWN_TEST_SIGCONF"

var (
	sigconfIgnored = []unix.Signal{unix.SIGINT, unix.SIGSEGV, unix.SIGTTOU}
	sigconfBlocked = []unix.Signal{unix.SIGILL, unix.SIGTERM, unix.SIGTTIN}
)

// A container's workloads start with nothing blocked and nothing ignored,
// whatever signal state minispawn was started with (here tini's sigconf
// one, under which `miniinit --` hands that state on): a container does
// not inherit its starter's signals, as under any container engine, and
// nothing minispawn's second stage does leaks into it.
func TestContainerWorkloadsStartWithCleanSignals(t *testing.T) {
	roottest.Require(t)
	name := containerName(t)
	before := snapshotHost(t)
	cfg := shellConfig(t, name, "exec cat /proc/self/status", "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], filepath.Join(binDir, "minispawn"), "-c", cfg)
	cmd.Env = append(os.Environ(), sigconfEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("minispawn: %v\n%s", err, &stderr)
	}
	m := regexp.MustCompile(`(?m)^SigBlk:\s*(\S+)\n(?:.*\n)*?SigIgn:\s*(\S+)$`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no SigBlk and SigIgn in the workload's status:\n%s", &stdout)
	}
	if m[1] != "0000000000000000" || m[2] != "0000000000000000" {
		t.Errorf("container workload SigBlk %s SigIgn %s, want nothing blocked or ignored", m[1], m[2])
	}
	checkNothingLeft(t, before, name, "")
}
