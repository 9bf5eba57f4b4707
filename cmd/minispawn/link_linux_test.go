package main

// Protocol tests of the service link: real sockets, no systemd. A
// unixgram socket stands in for systemd's $NOTIFY_SOCKET, a real hostlink
// pair for the channel, and helper processes (this test binary again) for
// miniinit and for a process of the container that got hold of the
// channel.

import (
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/hostlink"
)

// fakeInitEnv selects TestFakeInitHelper's behaviour in a helper process:
// "send" sends the messages of fakeInitMsgs and exits; "serve" sends them,
// then answers heartbeats and reload requests until the channel closes.
const (
	fakeInitEnv  = "MINISPAWN_TEST_FAKE_INIT"
	fakeInitMsgs = "MINISPAWN_TEST_FAKE_INIT_MSGS" // messages split by "|", lines by ";"
)

// TestFakeInitHelper is not a test: it is the body of the helper
// processes, and returns at once in a normal run.
func TestFakeInitHelper(t *testing.T) {
	mode := os.Getenv(fakeInitEnv)
	if mode == "" {
		return
	}
	conn, err := hostlink.FromFD(3)
	if err != nil {
		fatalHelper(err)
	}
	if text := os.Getenv(fakeInitMsgs); text != "" {
		for _, one := range strings.Split(text, "|") {
			m, err := hostlink.Parse([]byte(strings.ReplaceAll(one, ";", "\n")))
			if err == nil {
				err = conn.Send(m)
			}
			if err != nil {
				fatalHelper(err)
			}
		}
	}
	if mode == "serve" {
		for {
			m, _, files, err := conn.RecvFiles()
			if err != nil {
				break
			}
			if n, ok := m.Get(hostlink.Heartbeat); ok {
				conn.Send(hostlink.Message{{Key: hostlink.Heartbeat, Value: n}})
			}
			if _, ok := m.Get(hostlink.Reload); ok {
				// The status names the file's first line, as sent.
				first := "no file"
				if len(files) == 1 {
					data, _ := io.ReadAll(files[0])
					first, _, _ = strings.Cut(string(data), "\n")
				}
				conn.Send(hostlink.Message{{Key: hostlink.Reloading, Value: "1"}})
				conn.Send(hostlink.Message{{Key: hostlink.Ready, Value: "1"}, {Key: hostlink.Status, Value: "reloaded " + first}})
			}
			if why, ok := m.Get(hostlink.ReloadRefused); ok {
				conn.Send(hostlink.Message{{Key: hostlink.Status, Value: "refused " + why}})
			}
			for _, f := range files {
				f.Close()
			}
		}
	}
	os.Exit(0)
}

func fatalHelper(err error) {
	os.Stderr.WriteString("fake init: " + err.Error() + "\n")
	os.Exit(3)
}

// startFakeInit runs a helper process holding the container's end of the
// channel as fd 3.
func startFakeInit(t *testing.T, end *os.File, mode string, msgs ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFakeInitHelper$")
	cmd.Env = append(os.Environ(), fakeInitEnv+"="+mode, fakeInitMsgs+"="+strings.Join(msgs, "|"),
		"MINISPAWN_TEST_BINDIR="+binDir) // TestMain then builds nothing
	cmd.ExtraFiles = []*os.File{end}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// notifyListener is a stand-in for systemd's notify socket; it sets
// $NOTIFY_SOCKET (and clears the watchdog variables) for the test.
func notifyListener(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "")
	t.Setenv("WATCHDOG_PID", "")
	return c
}

// nextNotify returns the next message to the listener other than
// WATCHDOG=1, or "" after timeout.
func nextNotify(t *testing.T, c *net.UnixConn, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 8192)
	for {
		c.SetReadDeadline(deadline)
		n, err := c.Read(buf)
		if err != nil {
			return ""
		}
		if s := string(buf[:n]); s != "WATCHDOG=1" {
			return s
		}
	}
}

// linkWithChannel makes a service link attached to a fresh channel whose
// container end is returned for the helpers; init is the helper whose pid
// the link trusts.
func linkWithChannel(t *testing.T) (*serviceLink, *os.File, func(initPid int)) {
	t.Helper()
	host, child, err := hostlink.Pair()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { host.Close(); child.Close() })
	conn, err := hostlink.NewConn(host)
	if err != nil {
		t.Fatal(err)
	}
	link := newServiceLink(slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(link.close)
	return link, child, func(initPid int) { link.attach(conn, initPid) }
}

// TestLinkForgedMessageDropped: a process of the container that holds a
// copy of miniinit's end sends READY=1 and MAINPID=; nothing of it reaches
// the service manager, while init's own messages do, in order.
func TestLinkForgedMessageDropped(t *testing.T) {
	sd := notifyListener(t)
	link, end, attach := linkWithChannel(t)
	// The forger's messages are queued first, so once init's arrive
	// they have been read (and dropped).
	forger := startFakeInit(t, end, "send", "READY=1;STATUS=forged ready;MAINPID=1", "STOPPING=1")
	if err := forger.Wait(); err != nil {
		t.Fatalf("forger: %v", err)
	}
	init := startFakeInit(t, end, "serve", "STATUS=1/2 workloads ready", "READY=1;STATUS=2/2 workloads ready")
	attach(init.Process.Pid)
	for _, want := range []string{"STATUS=1/2 workloads ready", "READY=1\nSTATUS=2/2 workloads ready"} {
		if got := nextNotify(t, sd, 10*time.Second); got != want {
			t.Fatalf("service manager got %q, want %q", got, want)
		}
	}
	select {
	case <-link.ready():
	case <-time.After(5 * time.Second):
		t.Fatal("the link did not record READY")
	}
	if got := nextNotify(t, sd, 300*time.Millisecond); got != "" {
		t.Fatalf("unexpected message to the service manager: %q", got)
	}
}

// TestLinkNoReadyWithoutInit: with the channel attached, READY=1 goes only
// when init says so; a container that runs but does not report sends
// nothing (and minispawn's own readyAtExec is what the caller uses when
// there is no channel).
func TestLinkNoReadyWithoutInit(t *testing.T) {
	sd := notifyListener(t)
	_, end, attach := linkWithChannel(t)
	init := startFakeInit(t, end, "serve")
	attach(init.Process.Pid)
	if got := nextNotify(t, sd, 500*time.Millisecond); got != "" {
		t.Fatalf("service manager got %q before init reported anything", got)
	}
}

// TestLinkRelaysStatusStoppingReloadingExtend: every relayed key reaches
// the socket as sd_notify text, dangerous ones stripped.
func TestLinkRelaysStatusStoppingReloadingExtend(t *testing.T) {
	sd := notifyListener(t)
	_, end, attach := linkWithChannel(t)
	init := startFakeInit(t, end, "serve",
		"EXTEND_TIMEOUT_USEC=30000000;STATUS=starting: 1/3 workloads ready",
		"READY=1;STATUS=3/3 workloads ready;WATCHDOG=trigger",
		"RELOADING=1",
		"READY=1",
		"STOPPING=1;STATUS=stopping: waiting for db;FDSTORE=1",
	)
	attach(init.Process.Pid)
	for _, want := range []string{
		"EXTEND_TIMEOUT_USEC=30000000\nSTATUS=starting: 1/3 workloads ready",
		"READY=1\nSTATUS=3/3 workloads ready",
		"RELOADING=1\nMONOTONIC_USEC=",
		"READY=1",
		"STOPPING=1\nSTATUS=stopping: waiting for db",
	} {
		got := nextNotify(t, sd, 10*time.Second)
		if !strings.HasPrefix(got, want) || (!strings.HasSuffix(want, "=") && got != want) {
			t.Fatalf("service manager got %q, want %q", got, want)
		}
	}
}

// TestLinkReloadOverChannel: init's RELOAD_ASKED=1 (a `ctl reload`)
// makes minispawn read the file again, as it is now, tell the manager
// RELOADING=1 at once and send the content to init with RELOAD=1; init's
// READY=1 ends the reload. SIGHUP is no reload: it is forwarded.
func TestLinkReloadOverChannel(t *testing.T) {
	sd := notifyListener(t)
	link, end, attach := linkWithChannel(t)
	link.configFile = filepath.Join(t.TempDir(), "app.toml")
	text := "name = \"now\"\nrootfs.path = \"/\"\n[[workload]]\nname = \"a\"\ncommand = \"/bin/true\"\n"
	if err := os.WriteFile(link.configFile, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	init := startFakeInit(t, end, "serve", "READY=1", "RELOAD_ASKED=1")
	attach(init.Process.Pid)
	if got := nextNotify(t, sd, 10*time.Second); got != "READY=1" {
		t.Fatalf("got %q, want READY=1", got)
	}
	got := nextNotify(t, sd, 5*time.Second)
	if !strings.HasPrefix(got, "RELOADING=1\nMONOTONIC_USEC=") {
		t.Fatalf("got %q, want RELOADING=1 with MONOTONIC_USEC", got)
	}
	usec, _ := strconv.ParseInt(strings.Split(strings.Split(got, "\n")[1], "=")[1], 10, 64)
	if now := monotonicNow().Microseconds(); usec <= 0 || usec > now {
		t.Errorf("MONOTONIC_USEC=%d, want a CLOCK_MONOTONIC time up to now (%d)", usec, now)
	}
	// The helper answers RELOAD=1 with RELOADING=1, then READY=1 and the
	// first line of the file it got.
	for _, want := range []string{"RELOADING=1\nMONOTONIC_USEC=", `READY=1` + "\n" + `STATUS=reloaded name = "now"`} {
		if got := nextNotify(t, sd, 5*time.Second); !strings.HasPrefix(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	link.onSignal(syscall.SIGHUP)
	if got := nextNotify(t, sd, 200*time.Millisecond); got != "" {
		t.Errorf("SIGHUP told the manager %q; it is the workloads'", got)
	}
}

// TestLinkReloadRefused: a container from the command line has no file:
// RELOAD_ASKED=1 is answered RELOAD_REFUSED with why, and the manager's
// status says so.
func TestLinkReloadRefused(t *testing.T) {
	sd := notifyListener(t)
	_, end, attach := linkWithChannel(t)
	init := startFakeInit(t, end, "serve", "RELOAD_ASKED=1")
	attach(init.Process.Pid)
	if got := nextNotify(t, sd, 10*time.Second); !strings.HasPrefix(got, "STATUS=reload refused: the container was started from the command line") {
		t.Fatalf("got %q, want the refusal in the status", got)
	}
	if got := nextNotify(t, sd, 10*time.Second); !strings.HasPrefix(got, `STATUS=refused "the container was started from the command line`) {
		t.Fatalf("got %q, want init's word that it was refused, quoted", got)
	}
}

// TestLinkStoppingOnSigterm: SIGTERM and SIGINT tell the manager at once
// that the unit is stopping, and are still forwarded to the container.
func TestLinkStoppingOnSigterm(t *testing.T) {
	sd := notifyListener(t)
	link := newServiceLink(slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(link.close)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		link.onSignal(sig)
		got := nextNotify(t, sd, 5*time.Second)
		if !strings.HasPrefix(got, "STOPPING=1\nSTATUS=stopping") {
			t.Errorf("after %v the manager got %q", sig, got)
		}
	}
}

// TestLinkWatchdogFollowsHeartbeat: with WatchdogSec=400ms, minispawn
// pings while the fake init answers, stops once it is frozen (SIGSTOP:
// a hung PID 1), and pings again once it answers again.
func TestLinkWatchdogFollowsHeartbeat(t *testing.T) {
	sd := notifyListener(t)
	t.Setenv("WATCHDOG_USEC", "400000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	_, end, attach := linkWithChannel(t)
	init := startFakeInit(t, end, "serve")
	attach(init.Process.Pid)

	pings := func(d time.Duration) int {
		n := 0
		deadline := time.Now().Add(d)
		buf := make([]byte, 512)
		for {
			sd.SetReadDeadline(deadline)
			k, err := sd.Read(buf)
			if err != nil {
				return n
			}
			if string(buf[:k]) == "WATCHDOG=1" {
				n++
			}
		}
	}
	if n := pings(time.Second); n < 4 {
		t.Fatalf("%d pings in 1s while init answers, want about 10 (every 100ms)", n)
	}
	if err := init.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// The last answer is at most 200ms (interval/2) old when pings stop.
	pings(300 * time.Millisecond)
	if n := pings(time.Second); n != 0 {
		t.Fatalf("%d pings in 1s while init was frozen, want none", n)
	}
	if err := init.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if n := pings(time.Second); n < 3 {
		t.Fatalf("%d pings in 1s after init answered again, want about 10", n)
	}
}

// TestLinkWatchdogWithoutChannel: during setup, before the container
// runs, minispawn pings for itself.
func TestLinkWatchdogWithoutChannel(t *testing.T) {
	sd := notifyListener(t)
	t.Setenv("WATCHDOG_USEC", "200000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	link := newServiceLink(slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(link.close)
	buf := make([]byte, 64)
	sd.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err := sd.Read(buf)
	if err != nil || string(buf[:n]) != "WATCHDOG=1" {
		t.Fatalf("got %q, %v; want WATCHDOG=1", buf[:n], err)
	}
}
