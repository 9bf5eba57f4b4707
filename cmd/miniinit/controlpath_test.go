package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

func TestDefaultControl(t *testing.T) {
	for _, tc := range []struct {
		euid    int
		env     map[string]string
		want    string
		private bool
	}{
		{0, nil, "/run/miniinit.sock", false},
		{0, map[string]string{"XDG_RUNTIME_DIR": "/run/user/0", "TMPDIR": "/var/tmp"}, "/run/miniinit.sock", false},
		{0, map[string]string{"MINIINIT_CONTROL": "/run/x.sock"}, "/run/x.sock", false},
		{1000, map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, "/run/user/1000/miniinit.sock", false},
		{1000, nil, "/tmp/miniinit-1000/miniinit.sock", true},
		{1000, map[string]string{"TMPDIR": "/var/tmp"}, "/var/tmp/miniinit-1000/miniinit.sock", true},
		{1000, map[string]string{"TMPDIR": "rel", "XDG_RUNTIME_DIR": "rel"}, "/tmp/miniinit-1000/miniinit.sock", true},
		{1000, map[string]string{"MINIINIT_CONTROL": "/srv/app.sock", "XDG_RUNTIME_DIR": "/run/user/1000"}, "/srv/app.sock", false},
	} {
		path, private := defaultControl(tc.euid, envOf(tc.env))
		if path != tc.want || private != tc.private {
			t.Errorf("uid %d %v: %s (private %v), want %s (%v)", tc.euid, tc.env, path, private, tc.want, tc.private)
		}
	}
}

// asUser1000 prepares cmd to run as uid and gid 1000 with exactly env.
func asUser1000(cmd *exec.Cmd, env []string) {
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: 1000, Gid: 1000, NoSetGroups: true},
		Pdeathsig:  syscall.SIGKILL,
	}
}

// sharedDir makes a directory uid 1000 can use, as /tmp is (sticky,
// world-writable), below one it can reach.
func sharedDir(t *testing.T) string {
	t.Helper()
	base, err := os.MkdirTemp("", "miniinit-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	tmp := filepath.Join(base, "tmp")
	for dir, mode := range map[string]os.FileMode{base: 0o755, tmp: 0o777 | os.ModeSticky} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
	}
	return base
}

// ctlAs1000 runs `miniinit ARGS` as uid 1000 with env and returns its
// exit code and output.
func ctlAs1000(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, miniinitBin, args...)
	asUser1000(cmd, env)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Run()
	if cmd.ProcessState == nil {
		t.Fatalf("miniinit %q did not run:\n%s", args, &out)
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// The case: `podman run --user 1000` of an image whose ENTRYPOINT
// is `miniinit -c app.toml`, with no init.control (and no rootfs), and
// `miniinit health` as the liveness probe, run as the same user with no
// flag. miniinit makes its control socket where that user can (a private
// directory of $TMPDIR, or $XDG_RUNTIME_DIR), health and ctl find it by
// the same rule; a directory someone else made first is refused by both.
func TestControlSocketAsUser1000(t *testing.T) {
	roottest.Require(t)
	if err := os.Chmod(filepath.Dir(miniinitBin), 0o755); err != nil {
		t.Fatal(err)
	}
	base := sharedDir(t)
	tmp := filepath.Join(base, "tmp")
	file := filepath.Join(base, "app.toml")
	if err := os.WriteFile(file, []byte("name = \"app\"\n[[workload]]\nname = \"web\"\ncommand = \"/bin/sleep\"\nargs = [\"30\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	xdg := filepath.Join(base, "xdg")
	if err := os.Mkdir(xdg, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(xdg, 1000, 1000); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, socket string
		env          []string
	}{
		{"TMPDIR", filepath.Join(tmp, "miniinit-1000", "miniinit.sock"), []string{"PATH=/usr/bin:/bin", "TMPDIR=" + tmp}},
		{"XDG_RUNTIME_DIR", filepath.Join(xdg, "miniinit.sock"), []string{"PATH=/usr/bin:/bin", "TMPDIR=" + tmp, "XDG_RUNTIME_DIR=" + xdg}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(miniinitBin, "-c", file)
			asUser1000(cmd, tc.env)
			cmd.Dir = base
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			t.Cleanup(func() { cmd.Process.Kill(); <-done })

			deadline := time.Now().Add(10 * time.Second)
			for {
				code, out := ctlAs1000(t, tc.env, "health")
				if code == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("miniinit health still fails: exit %d: %s", code, out)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if st, err := os.Stat(tc.socket); err != nil || st.Mode()&os.ModeSocket == 0 {
				t.Errorf("no socket at %s: %v", tc.socket, err)
			}
			if code, out := ctlAs1000(t, tc.env, "ctl", "status"); code != 0 || !strings.Contains(out, "web") {
				t.Errorf("ctl status: exit %d:\n%s", code, out)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			<-done
			if strings.Contains(stderr.String(), "no control socket") {
				t.Errorf("miniinit warned:\n%s", &stderr)
			}
		})
	}

	// The attack: someone else made miniinit-1000 first, open to all, to
	// plant a socket of their own. miniinit refuses it (and runs without
	// a control socket, saying why), and so does health.
	t.Run("directory of another user", func(t *testing.T) {
		planted := filepath.Join(tmp, "miniinit-1000")
		os.RemoveAll(planted)
		if err := os.Mkdir(planted, 0o777); err != nil {
			t.Fatal(err)
		}
		os.Chmod(planted, 0o777)
		env := []string{"PATH=/usr/bin:/bin", "TMPDIR=" + tmp}
		cmd := exec.Command(miniinitBin, "-c", file)
		asUser1000(cmd, env)
		stderr := &roottest.SyncBuffer{}
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		t.Cleanup(func() { cmd.Process.Kill(); <-done })
		// health refuses the directory whether or not miniinit has
		// started yet; miniinit refuses it too, and says why.
		code, out := ctlAs1000(t, env, "health")
		if code != 1 || !strings.Contains(out, "belongs to uid 0, not to uid 1000: refusing it") {
			t.Errorf("health: exit %d, want 1 with the refusal:\n%s", code, out)
		}
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stderr.String(), "no control socket"); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no warning from miniinit:\n%s", stderr)
			}
		}
		cmd.Process.Signal(syscall.SIGTERM)
		<-done
		if !strings.Contains(stderr.String(), "no control socket") || !strings.Contains(stderr.String(), "belongs to uid 0, not to uid 1000: refusing it") {
			t.Errorf("miniinit does not say it refused the directory and why:\n%s", stderr)
		}
		if entries, _ := os.ReadDir(planted); len(entries) != 0 {
			t.Errorf("miniinit used the planted directory: %v", entries)
		}
	})
}
