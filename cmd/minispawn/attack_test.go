package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// Each TestAttack* runs, as root inside a container with the default
// hardening, one attack of the classic chroot-and-unshare recipe's list
// (testdata/attack), and shows that the kernel refused it.

// attackRoot is a busybox root holding the attack program as /bin/attack.
func attackRoot(t *testing.T) string {
	t.Helper()
	root := busyboxRoot(t)
	// Where there is no Go toolchain (the test VM), the program is
	// prebuilt next to the binaries under test.
	if dir := os.Getenv("MINISPAWN_TEST_BINDIR"); dir != "" {
		data, err := os.ReadFile(filepath.Join(dir, "attack"))
		if err != nil {
			t.Fatalf("prebuilt attack program: %v", err)
		}
		if err := os.WriteFile(filepath.Join(root, "bin", "attack"), data, 0o755); err != nil {
			t.Fatal(err)
		}
		return root
	}
	cmd := exec.Command("go", "build", "-o", filepath.Join(root, "bin", "attack"), "./testdata/attack")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the attack program: %v\n%s", err, out)
	}
	return root
}

// attack runs one attack and returns its report line. security is added
// to the configuration as the [security] table's body ("" = defaults).
func attack(t *testing.T, root, name, arg, security string, extra ...*os.File) string {
	t.Helper()
	return attackNamed(t, containerName(t), root, name, arg, security, "", extra...)
}

// attackNamed is attack in the container named container, with tables
// (TOML: [userns], [[mount]]...) added to the configuration.
func attackNamed(t *testing.T, container, root, name, arg, security, tables string, extra ...*os.File) string {
	t.Helper()
	cfg := writeConfig(t, fmt.Sprintf(`name = %q
[rootfs]
path = %q
[security]
%s
%s
[[workload]]
name = "attack"
command = "/bin/attack"
args = [%q, %q]
`, container, root, security, tables, name, arg))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "minispawn"), "-c", cfg)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.ExtraFiles = extra
	cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("attack %s did not finish", name)
	}
	line := verdict(stdout.String())
	if !strings.HasPrefix(line, "BLOCKED") && !strings.HasPrefix(line, "ESCAPED") {
		t.Fatalf("attack %s: no verdict:\nstdout: %s\nstderr: %s", name, &stdout, &stderr)
	}
	return line
}

// verdict picks the attack program's report line out of its output.
func verdict(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "BLOCKED") || strings.HasPrefix(line, "ESCAPED") {
			return strings.TrimSpace(line)
		}
	}
	return strings.TrimSpace(out)
}

func mustBlock(t *testing.T, got string, want ...string) {
	t.Helper()
	if !strings.HasPrefix(got, "BLOCKED") {
		t.Fatalf("attack succeeded: %s", got)
	}
	for _, w := range want {
		if strings.Contains(got, w) {
			return
		}
	}
	if len(want) > 0 {
		t.Errorf("blocked, but by %q; want one of %v", got, want)
	}
}

func TestAttackNestedChrootEscapeStaysInContainer(t *testing.T) {
	roottest.Require(t)
	root := attackRoot(t)
	// A file that exists on the host only.
	hostOnly := filepath.Join(t.TempDir(), "host-only-marker")
	if err := os.WriteFile(hostOnly, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mustBlock(t, attack(t, root, "chroot-escape", hostOnly, ""), "contained")
	// The control: with the same program under a bare chroot on the
	// host, the walk does reach the host's root — the test can see an
	// escape when there is one.
	// (The path is the one inside the chroot.)
	ctl := &exec.Cmd{Path: "/bin/attack", Args: []string{"attack", "chroot-escape", hostOnly}, Dir: "/"}
	ctl.SysProcAttr = chrootAttr(root)
	if out, err := ctl.CombinedOutput(); !strings.HasPrefix(string(out), "ESCAPED") {
		t.Errorf("control under plain chroot did not escape: %s %v", out, err)
	}
}

func TestAttackMknodDiskDeviceFails(t *testing.T) {
	roottest.Require(t)
	mustBlock(t, attack(t, attackRoot(t), "mknod-disk", "", ""), "EPERM")
}

func TestAttackMountNewFilesystemFails(t *testing.T) {
	roottest.Require(t)
	root := attackRoot(t)
	mustBlock(t, attack(t, root, "mount-tmpfs", "", ""), "EPERM")
	// Control: with every capability and no filter, the same mount works
	// (inside the container's own mount namespace).
	if got := attack(t, root, "mount-tmpfs", "", `capabilities = ["ALL"]`+"\nseccomp = \"off\""); !strings.HasPrefix(got, "ESCAPED") {
		t.Errorf("control: %s", got)
	}
}

func TestAttackReadCallersOpenFdFails(t *testing.T) {
	roottest.Require(t)
	root := attackRoot(t)
	secret := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(secret, []byte("root:secret-hash:19000::::::"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(secret)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The caller's fd 5 (ExtraFiles start at 3), as in
	// `minispawn ... 5</etc/shadow`.
	extra := []*os.File{nil, nil, f}
	mustBlock(t, attack(t, root, "read-fd", "5", "", extra...), "EBADF")
}

func TestAttackPtraceHostProcessFails(t *testing.T) {
	roottest.Require(t)
	victim := exec.Command("sleep", "30")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { victim.Process.Kill(); victim.Wait() }()
	mustBlock(t, attack(t, attackRoot(t), "ptrace", fmt.Sprint(victim.Process.Pid), ""), "EPERM", "ESRCH")
}

func TestAttackLoadKernelModuleFails(t *testing.T) {
	roottest.Require(t)
	mustBlock(t, attack(t, attackRoot(t), "load-module", "", ""), "EPERM")
}

func TestAttackSeeHostNetworkInterfacesFails(t *testing.T) {
	roottest.Require(t)
	mustBlock(t, attack(t, attackRoot(t), "net-devices", "", ""), "only lo")
}

func TestAttackOverwriteHostBinariesFails(t *testing.T) {
	roottest.Require(t)
	sum := func(p string) [32]byte {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(data)
	}
	before := [2][32]byte{sum(filepath.Join(binDir, "miniinit")), sum(filepath.Join(binDir, "minispawn"))}
	root := attackRoot(t)
	mustBlock(t, attack(t, root, "write-init-binary", "", ""))
	// Even with every capability and no filter, /proc/1/exe is a sealed
	// in-memory copy: the host's files stay as they were.
	attack(t, root, "write-init-binary", "", `capabilities = ["ALL"]`+"\nseccomp = \"off\"")
	after := [2][32]byte{sum(filepath.Join(binDir, "miniinit")), sum(filepath.Join(binDir, "minispawn"))}
	if before != after {
		t.Fatal("a host binary changed")
	}
}

func TestAttackTIOCSTIIntoCallersTerminalFails(t *testing.T) {
	roottest.Require(t)
	term, err := openPTY("/dev/ptmx")
	if err != nil {
		t.Fatal(err)
	}
	defer term.master.Close()
	defer term.slave.Close()
	root := attackRoot(t)
	// The worst case: the workload keeps the caller's terminal as stdin,
	// stdout and stderr.
	cfg := writeConfig(t, fmt.Sprintf("name = %q\nrootfs.path = %q\n[[workload]]\nname = \"a\"\ncommand = \"/bin/attack\"\nargs = [\"tiocsti\"]\nstdin = \"inherit\"\n",
		containerName(t), root))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The caller's terminal is minispawn's stdio and controlling
	// terminal, as in an interactive shell.
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "minispawn"), "-c", cfg)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = term.slave, term.slave, term.slave
	cmd.SysProcAttr = ttyAttr()
	var stdout bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&stdout, term.master); close(done) }()
	cmd.Run()
	term.slave.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	mustBlock(t, verdict(stdout.String()), "EPERM", "EIO")
}

// TestAttackRawSocketAndAuditWriteFail: the default set has neither
// CAP_NET_RAW nor CAP_AUDIT_WRITE, so root inside opens no raw socket (no
// ping, no forged packets) and writes no record into the host's audit
// log. The control lists both in security.capabilities, and both work.
func TestAttackRawSocketAndAuditWriteFail(t *testing.T) {
	roottest.Require(t)
	root := attackRoot(t)
	mustBlock(t, attack(t, root, "raw-socket", "", ""), "EPERM")
	mustBlock(t, attack(t, root, "audit-write", "", ""), "EPERM")
	added := `capabilities = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT", "NET_RAW", "AUDIT_WRITE"]`
	for _, a := range []string{"raw-socket", "audit-write"} {
		if got := attack(t, root, a, "", added); got != "ESCAPED" {
			t.Errorf("control %s with NET_RAW and AUDIT_WRITE added: %s", a, got)
		}
	}
}
