package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadOfRelativePath: miniinit -c app.toml, started in the file's
// directory, moves to / once started; `miniinit ctl reload` used to fail
// with "open app.toml: ENOENT" as the path was read again from there.
func TestReloadOfRelativePath(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "ctl.sock")
	doc := "name = \"t\"\n[init]\ncontrol = \"" + sock + "\"\n[[workload]]\nname = \"app\"\ncommand = \"/bin/sleep\"\nargs = [\"1000\"]\nmain = true\n"
	if err := os.WriteFile(filepath.Join(dir, "app.toml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, miniinitBin, "-s", "-c", "app.toml")
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	for deadline := time.Now().Add(20 * time.Second); ; {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no control socket")
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, stdout, stderr := runBin(t, nil, "ctl", "-s", sock, "reload")
	if code != 0 || strings.TrimSpace(stdout) != "reloaded; nothing changed" {
		t.Fatalf("ctl reload: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
