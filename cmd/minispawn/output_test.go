package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/roottest"
)

// A container's output through minispawn: the workload writes, miniinit
// copies, minispawn's stdout and stderr are pipes the test reads itself,
// as slowly as it likes.

// piped is a minispawn whose stdout and stderr are pipes the test reads.
type piped struct {
	cmd            *exec.Cmd
	stdout, stderr *os.File // the read ends
	done           chan struct{}
	code           int
}

// startPiped starts minispawn with args for the container name; at the
// end of the test it is stopped (stopAndCleanName) if still running.
func startPiped(t *testing.T, name string, args ...string) *piped {
	t.Helper()
	p := &piped{cmd: exec.Command(filepath.Join(binDir, "minispawn"), args...), done: make(chan struct{})}
	var w [2]*os.File
	for i, r := range []**os.File{&p.stdout, &p.stderr} {
		var err error
		if *r, w[i], err = os.Pipe(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { (*r).Close() })
	}
	p.cmd.Stdout, p.cmd.Stderr = w[0], w[1]
	err := p.cmd.Start()
	w[0].Close()
	w[1].Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopAndCleanName(p.cmd, p.done, name) })
	go func() {
		p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	return p
}

// wait returns minispawn's exit code, failing the test after timeout.
func (p *piped) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("minispawn still running after %v", timeout)
	}
	return p.code
}

// outputRoot is a busybox root holding /blob: mib MiB in which every
// byte value occurs.
func outputRoot(t *testing.T, mib int) (root string, blob []byte) {
	t.Helper()
	root = busyboxRoot(t)
	block := make([]byte, 1<<20)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(block)
	blob = bytes.Repeat(block, mib)
	if err := os.WriteFile(filepath.Join(root, "blob"), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	return root, blob
}

// outputModes are the two ways to run script in a container: a file, and
// run with no file.
func outputModes(t *testing.T, root string, script string) map[string][]string {
	name := containerName(t)
	cfg := dirShellConfig(t, name, root, "", script)
	return map[string][]string{
		"file": {"-c", cfg},
		"run":  {"run", "--rootfs", root, "--name", name, "--", "/bin/sh", "-c", script},
	}
}

// TestOutputEveryByteThroughContainer: 50 MB of every byte value on
// stdout and stderr at once, through minispawn -c and minispawn run, to a
// reader that reads nothing for 3 s, then reads slowly: both streams
// arrive whole (equal sha256) before minispawn exits 0.
func TestOutputEveryByteThroughContainer(t *testing.T) {
	roottest.Require(t)
	root, blob := outputRoot(t, 50)
	want := fmt.Sprintf("%x", sha256.Sum256(blob))
	for mode, args := range outputModes(t, root, "/bin/busybox cat /blob & /bin/busybox cat /blob >&2; wait") {
		t.Run(mode, func(t *testing.T) {
			before := snapshotHost(t)
			p := startPiped(t, containerName(t), args...)
			time.Sleep(3 * time.Second)
			type sum struct {
				hash string
				n    int64
			}
			sums := make(chan sum, 2)
			for _, f := range []*os.File{p.stdout, p.stderr} {
				go func() { h, n := roottest.SlowRead(f); sums <- sum{h, n} }()
			}
			for range 2 {
				if got := <-sums; got.hash != want || got.n != int64(len(blob)) {
					t.Errorf("read %d bytes (sha256 %.12s), want %d (%.12s)", got.n, got.hash, len(blob), want)
				}
			}
			if code := p.wait(t, 60*time.Second); code != 0 {
				t.Errorf("exit code %d", code)
			}
			checkNothingLeft(t, before, containerName(t), "")
		})
	}
}

// TestOutputExactThroughContainer: what `minispawn run` prints is what
// the workload wrote, byte for byte: no newline added to "abc", a
// 300,000-byte line not split, gzip output unchanged (it was a byte
// longer and gunzip failed), a 100 MB line without a newline, and 10 MB
// written by a workload that exits at once, to a reader that starts 2 s
// later.
func TestOutputExactThroughContainer(t *testing.T) {
	roottest.Require(t)
	root, blob := outputRoot(t, 10)
	gz := exec.Command("/bin/busybox", "gzip", "-c")
	gz.Stdin = bytes.NewReader(blob[:1<<20])
	gzipped, err := gz.Output()
	if err != nil {
		t.Fatal(err)
	}
	sum := func(parts ...[]byte) string {
		h := sha256.New()
		for _, p := range parts {
			h.Write(p)
		}
		return fmt.Sprintf("%x", h.Sum(nil))
	}
	xs := bytes.Repeat([]byte("x"), 1000000)
	hundred := make([][]byte, 100)
	for i := range hundred {
		hundred[i] = xs
	}
	for _, tc := range []struct {
		name, script string
		stall        time.Duration
		want         string // sha256
		size         int64
	}{
		{"no newline", "printf abc", 0, sum([]byte("abc")), 3},
		{"300000-byte line", "/bin/busybox head -c 300000 /dev/zero | /bin/busybox tr '\\0' x; echo", 0,
			sum(xs[:300000], []byte("\n")), 300001},
		{"gzip", "/bin/busybox head -c 1048576 /blob | /bin/busybox gzip -c", 0, sum(gzipped), int64(len(gzipped))},
		{"100 MB line", "/bin/busybox head -c 100000000 /dev/zero | /bin/busybox tr '\\0' x", 0, sum(hundred...), 100000000},
		{"10 MB then exit", "/bin/busybox cat /blob; exit 0", 2 * time.Second, sum(blob), 10 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := containerName(t)
			p := startPiped(t, name, "run", "--rootfs", root, "--name", name, "--", "/bin/sh", "-c", tc.script)
			time.Sleep(tc.stall)
			h := sha256.New()
			n, err := io.Copy(h, p.stdout)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%x", h.Sum(nil)); got != tc.want || n != tc.size {
				t.Errorf("%d bytes (sha256 %.12s), want %d (%.12s)", n, got, tc.size, tc.want)
			}
			if code := p.wait(t, 60*time.Second); code != 0 {
				stderr, _ := io.ReadAll(p.stderr)
				t.Errorf("exit code %d\nstderr:\n%s", code, stderr)
			}
		})
	}
}

// TestOutputHeadEndsContainer: `minispawn run -- sh -c 'while :; do echo
// x; sleep 0.1; done' | head -1` ends: once head has gone, the workload's
// next write gets SIGPIPE and minispawn exits, within a second.
func TestOutputHeadEndsContainer(t *testing.T) {
	roottest.Require(t)
	root := busyboxRoot(t)
	name := containerName(t)
	before := snapshotHost(t)
	p := startPiped(t, name, "run", "--rootfs", root, "--name", name, "--", "/bin/sh", "-c", "while :; do echo x; /bin/busybox sleep 0.1; done")
	line, err := bufio.NewReader(p.stdout).ReadString('\n')
	if err != nil || line != "x\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	p.stdout.Close()
	gone := time.Now()
	code := p.wait(t, 30*time.Second)
	if d := time.Since(gone); d > time.Second {
		t.Errorf("minispawn ended %v after its reader", d)
	}
	if code != 128+int(syscall.SIGPIPE) {
		t.Errorf("exit code %d, want 141 (SIGPIPE)", code)
	}
	checkNothingLeft(t, before, name, "")
}
