package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/pid1"
	"github.com/minispawn/minispawn/init/roottest"
)

func TestNsPids(t *testing.T) {
	status := "Name:\tminiinit\nTgid:\t4242\nNSpid:\t4242\t1\nPPid:\t4241\n"
	pids, err := nsPids(status)
	if err != nil || len(pids) != 2 || pids[0] != 4242 || pids[1] != 1 {
		t.Fatalf("nsPids = %v, %v", pids, err)
	}
	for _, tc := range []struct {
		pids  []int
		depth int
		want  bool
	}{
		{[]int{4242, 1}, 1, true},     // a container's PID 1, seen from the host
		{[]int{4243, 7}, 1, false},    // a workload in it
		{[]int{4244, 9, 1}, 1, false}, // PID 1 of a namespace a workload made
		{[]int{1}, 1, false},          // the host's own init
		{[]int{4244, 9, 1}, 2, true},  // seen from inside the container
	} {
		if got := isContainerInit(tc.pids, tc.depth); got != tc.want {
			t.Errorf("isContainerInit(%v, %d) = %v", tc.pids, tc.depth, got)
		}
	}
	for _, bad := range []string{"Name:\tx\n", "NSpid:\n", "NSpid:\t12\tx\n"} {
		if _, err := nsPids(bad); err == nil {
			t.Errorf("nsPids(%q) accepted", bad)
		}
	}
}

func TestInContainerCgroup(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		// cgroup v1 (hybrid): the container at the hierarchies' roots.
		{"12:pids:/minispawn/web\n11:memory:/minispawn/web\n0::/\n", true},
		// v2, under a unit that delegates, miniinit in a leaf of its own.
		{"0::/system.slice/web.service/minispawn/web/miniinit\n", true},
		// v2, in a transient scope.
		{"0::/machine.slice/minispawn-web.scope/minispawn/web\n", true},
		// another container whose name starts the same.
		{"0::/minispawn/web-2\n11:memory:/minispawn/web-2\n", false},
		// minispawn itself, under the unit.
		{"0::/system.slice/web.service/supervisor\n", false},
		{"", false},
	} {
		if got := inContainerCgroup(tc.text, "web"); got != tc.want {
			t.Errorf("inContainerCgroup(%q, web) = %v", tc.text, got)
		}
	}
}

// TestCtl: `minispawn ctl` reaches a running container's miniinit from
// the host, by file or by name: status lists both workloads, stop and
// start one, health fails until the workloads are ready and passes then,
// a refused request exits 1; and once the container is gone, ctl says so.
// The root is a bare busybox (no /run: the container's own /run tmpfs
// holds the socket, on a stand-in for /, and the root is left as it was),
// the workloads have no main; once with a user namespace, where host root
// has no uid inside.
func TestCtl(t *testing.T) {
	roottest.Require(t)
	for _, userns := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "userns"}[userns], func(t *testing.T) {
			root := busyboxRoot(t)
			// The host makes the ready file in /srv: a name made directly
			// in / would land beside the stand-in for /, unseen inside.
			if err := os.Mkdir(filepath.Join(root, "srv"), 0o755); err != nil {
				t.Fatal(err)
			}
			name := containerName(t)
			extra := ""
			if userns {
				extra = usernsTable
				// Root inside must reach the root: an idmapped mount
				// of a 0700 temporary directory is not enough.
				if err := os.Chmod(filepath.Dir(root), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			cfg := writeConfig(t, fmt.Sprintf(`name = %q
rootfs.path = %q
%s
[[workload]]
name = "web"
command = "/bin/sh"
args = ["-c", "echo ready; exec busybox sleep 600"]
ready = { exec = ["busybox", "test", "-e", "/srv/go"], interval = "50ms" }

[[workload]]
name = "worker"
command = "/bin/busybox"
args = ["sleep", "600"]
`, name, root, extra))
			before := snapshotHost(t)
			s := startMinispawn(t, cfg)
			ctl := func(args ...string) result {
				t.Helper()
				return runMinispawn(t, 30*time.Second, append([]string{"ctl"}, args...)...)
			}

			res := ctl("-c", cfg, "status")
			if res.code != 0 {
				t.Fatalf("status: exit %d\n%s%s\nminispawn's stderr:\n%s", res.code, res.stdout, res.stderr, s.stderr)
			}
			for _, w := range []string{"web", "worker"} {
				if !strings.Contains(res.stdout, "\n"+w+" ") {
					t.Errorf("status does not list %s:\n%s", w, res.stdout)
				}
			}
			// web waits for /go: not healthy yet.
			if res := ctl("-c", cfg, "health"); res.code != 1 || !strings.Contains(res.stdout, "web: starting") {
				t.Errorf("health before ready: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			if err := os.WriteFile(filepath.Join(root, "srv", "go"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			waitCtl(t, "healthy", func() bool { return ctl("-c", cfg, "health").code == 0 })

			if res := ctl("-c", cfg, "stop", "worker"); res.code != 0 {
				t.Fatalf("stop worker: exit %d\n%s", res.code, res.stderr)
			}
			waitCtl(t, "worker stopped", func() bool { return ctlState(t, ctl("-name", name, "-json", "status"), "worker") == "stopped" })
			if got := ctlState(t, ctl("-name", name, "-json", "status"), "web"); got != "ready" {
				t.Errorf("web is %s after worker's stop, want ready", got)
			}
			if res := ctl("-c", cfg, "start", "worker"); res.code != 0 {
				t.Fatalf("start worker: exit %d\n%s", res.code, res.stderr)
			}
			waitCtl(t, "worker running", func() bool { return ctlState(t, ctl("-name", name, "-json", "status"), "worker") == "running" })
			if res := ctl("-c", cfg, "stop", "nosuch"); res.code != 1 || !strings.Contains(res.stderr, `no workload is named "nosuch"`) {
				t.Errorf("stop of an unknown workload: exit %d\n%s", res.code, res.stderr)
			}

			// Without a main workload, SIGTERM ends the container with 0.
			s.cmd.Process.Signal(syscall.SIGTERM)
			if code := s.wait(t, 20*time.Second); code != 0 {
				t.Errorf("exit %d after SIGTERM, want 0\nstderr:\n%s", code, s.stderr)
			}
			if strings.Contains(s.stderr.String(), "no control socket") {
				t.Errorf("miniinit had no control socket:\n%s", s.stderr)
			}
			if _, err := os.Stat(filepath.Join(root, "run")); !os.IsNotExist(err) {
				t.Errorf("a /run was made in the root: %v", err)
			}
			if res := ctl("-c", cfg, "status"); res.code != 1 || !strings.Contains(res.stderr, "no such container runs here") {
				t.Errorf("status of a stopped container: exit %d\n%s", res.code, res.stderr)
			}
			checkNothingLeft(t, before, name, "")
		})
	}
}

// ctlStatus decodes the answer of `ctl -json status`.
func ctlStatus(t *testing.T, res result) pid1.ControlResponse {
	t.Helper()
	if res.code != 0 {
		t.Fatalf("status: exit %d\n%s", res.code, res.stderr)
	}
	var resp pid1.ControlResponse
	if err := json.Unmarshal([]byte(res.stdout), &resp); err != nil {
		t.Fatalf("status -json: %v\n%s", err, res.stdout)
	}
	return resp
}

// ctlState reads a workload's state from `ctl -json status`.
func ctlState(t *testing.T, res result, name string) string {
	t.Helper()
	resp := ctlStatus(t, res)
	for _, w := range resp.Workloads {
		if w.Name == name {
			return w.State.String()
		}
	}
	t.Fatalf("status lists no %s:\n%s", name, res.stdout)
	return ""
}

// waitCtl polls cond, a ctl command, for at most 15 seconds.
func waitCtl(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
