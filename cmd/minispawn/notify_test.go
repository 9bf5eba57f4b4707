package main

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// TestNotifyReadyAndCleanEnvironment: with NOTIFY_SOCKET set (as systemd
// does for Type=notify), minispawn sends READY=1 once the container runs;
// neither that socket nor the caller's environment reaches the container.
func TestNotifyReadyAndCleanEnvironment(t *testing.T) {
	roottest.Require(t)
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	name := containerName(t)
	cfg := shellConfig(t, name, "cat /proc/self/environ", "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "minispawn"), "-c", cfg)
	cmd.Env = []string{"NOTIFY_SOCKET=" + sock, "SECRET_TOKEN=hunter2", "PATH=/usr/bin:/bin"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("minispawn: %v\n%s", err, &stderr)
	}
	// STATUS= lines come first (notify_linux.go): read up to READY=1.
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	var got []string
	for !strings.Contains(strings.Join(got, "\n"), "READY=1") {
		n, _, err := conn.ReadFromUnix(buf)
		if err != nil {
			t.Fatalf("no READY=1 among the notifications %q: %v", got, err)
		}
		got = append(got, string(buf[:n]))
	}
	env := strings.ReplaceAll(stdout.String(), "\x00", "\n")
	for _, leak := range []string{"NOTIFY_SOCKET", "SECRET_TOKEN"} {
		if strings.Contains(env, leak) {
			t.Errorf("%s reached the container:\n%s", leak, env)
		}
	}
	if !strings.Contains(env, "container=minispawn") {
		t.Errorf("container environment lacks container=minispawn:\n%s", env)
	}
}
