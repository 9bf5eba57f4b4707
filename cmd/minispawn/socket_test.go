package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

func TestListenSocketsEnvAndPlanLine(t *testing.T) {
	l := listenSockets{n: 2, names: "http:admin"}
	if got := strings.Join(l.env(), " "); got != "LISTEN_FDS=2 LISTEN_PID=1 LISTEN_FDNAMES=http:admin" {
		t.Errorf("env %q", got)
	}
	if got := l.String(); got != "2 from systemd, as fds 3-4 of the main workload (http, admin)" {
		t.Errorf("plan line %q", got)
	}
	if (listenSockets{}).env() != nil {
		t.Error("no sockets, yet variables")
	}
}

// TestDescriptorNumbering: the sockets keep 3..2+n; miniinit's own
// descriptors follow, and its command line names them.
func TestDescriptorNumbering(t *testing.T) {
	t.Cleanup(func() { setListenFDs(0) })
	for _, n := range []int{0, 1, 3} {
		setListenFDs(n)
		if fdConfig != 3+n || fdHost != 4+n || fdInit != 5+n || fdSync != 6+n || fdErr != 7+n || fdRootTree != 8+n || fdConsole != 9+n {
			t.Errorf("n=%d: config %d host %d init %d sync %d err %d tree %d console %d", n, fdConfig, fdHost, fdInit, fdSync, fdErr, fdRootTree, fdConsole)
		}
		args := strings.Join(initArgs("app.toml"), " ")
		if want := fmt.Sprintf("--config-fd %d --config-name app.toml", 3+n); !strings.HasPrefix(args, want) {
			t.Errorf("n=%d: miniinit args %q, want %q first", n, args, want)
		}
	}
}

// listenerFile is a listening TCP socket on loopback as a file, with its
// inode, by which the container's view of it is recognised.
func listenerFile(t *testing.T) (*os.File, uint64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := l.(*net.TCPListener).File()
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return f, st.Ino
}

// TestSocketActivationReachesMainWorkload: two sockets passed the way
// systemd passes them (fds 3 and 4, LISTEN_FDS=2, LISTEN_PID = minispawn,
// LISTEN_FDNAMES) are fds 3 and 4 of the container's main workload, the
// very same sockets, with LISTEN_PID its own pid; nothing else of
// minispawn's (configuration, channel) is open in it.
func TestSocketActivationReachesMainWorkload(t *testing.T) {
	roottest.Require(t)
	f1, ino1 := listenerFile(t)
	f2, ino2 := listenerFile(t)
	name := containerName(t)
	script := `echo "fds=$LISTEN_FDS pid=$LISTEN_PID self=$$ names=$LISTEN_FDNAMES"
ls -l /proc/$$/fd/3 /proc/$$/fd/4
for fd in 5 6 7 8 9 10; do [ -e /proc/$$/fd/$fd ] && echo "leaked fd$fd"; done; true`
	cfg := shellConfig(t, name, script, "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// sh sets LISTEN_PID to its own pid, then becomes minispawn: the
	// variable names minispawn, as systemd's does.
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", `LISTEN_PID=$$ exec "$0" -c "$1"`,
		filepath.Join(binDir, "minispawn"), cfg)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LISTEN_FDS=2", "LISTEN_FDNAMES=http:admin"}
	cmd.ExtraFiles = []*os.File{f1, f2}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("minispawn: %v\n%s%s", err, &stdout, &stderr)
	}
	out := stdout.String()
	var fds, pid, self int
	var names string
	if _, err := fmt.Sscanf(out, "fds=%d pid=%d self=%d names=%s", &fds, &pid, &self, &names); err != nil {
		t.Fatalf("cannot read %q: %v", out, err)
	}
	if fds != 2 || pid != self || names != "http:admin" {
		t.Errorf("LISTEN_FDS=%d LISTEN_PID=%d (workload pid %d) LISTEN_FDNAMES=%s; want 2, its own pid, http:admin", fds, pid, self, names)
	}
	for i, ino := range []uint64{ino1, ino2} {
		if want := fmt.Sprintf("/fd/%d -> socket:[%d]", 3+i, ino); !strings.Contains(out, want) {
			t.Errorf("want %s in the container's output:\n%s", want, out)
		}
	}
	if strings.Contains(out, "leaked") {
		t.Errorf("the workload has descriptors of minispawn's open:\n%s", out)
	}
}
