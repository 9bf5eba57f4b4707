package pid1

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/roottest"
)

// TestDrainLetsOrphanFinish is what tini, dumb-init and catatonit cannot
// do: the main workload exits (code 3) leaving a detached background
// process with a SIGTERM handler that needs a moment. miniinit sends it
// SIGTERM, waits for it, and only then exits, with the main's code; the
// handler's work (a file) proves it ran. Under tini the kernel would have
// SIGKILLed it first.
func TestDrainLetsOrphanFinish(t *testing.T) {
	forEachMode(t, func(t *testing.T, pid1 bool) {
		dir := t.TempDir()
		rep := filepath.Join(dir, "report.json")
		code, r := runMini(t, runOpts{pid1: pid1}, "-s", "--report", rep, "--", bin.helper, "daemon", dir)
		if code != 3 {
			t.Fatalf("exit code %d, want the main workload's 3", code)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "terminated")); err != nil {
			t.Fatalf("the orphan's SIGTERM handler did not finish: %v", err)
		} else if !strings.Contains(string(b), "SIGTERM handled") {
			t.Fatalf("terminated file: %q", b)
		}
		sleeper, _ := strconv.Atoi(strings.TrimSpace(waitFile(t, filepath.Join(dir, "sleeper.pid"))))
		rp := readReport(t, rep)
		if rp.ExitCode != 3 || rp.Main.ExitCode != 3 || rp.Shutdown.Reason != reasonMainExited {
			t.Errorf("report: %+v", rp)
		}
		if got := pidsOf(rp.StillRunning); !slices.Equal(got, []int{sleeper}) {
			t.Errorf("report still_running %v, want the sleeper [%d]", got, sleeper)
		}
		if len(rp.Killed) != 0 {
			t.Errorf("report sigkilled %v, want none", rp.Killed)
		}
		// It handled SIGTERM in 100 ms; the grace is 5 s. Returning "as
		// soon as none is left" means far below the grace.
		if d := rp.Shutdown.DrainSeconds; d < 0.1 || d > 2 {
			t.Errorf("drain took %.3fs, want about 0.1s", d)
		}
		if want := map[bool]string{true: "pid1", false: "subreaper"}[pid1]; rp.Mode != want {
			t.Errorf("report mode %q, want %q", rp.Mode, want)
		}
		t.Logf("main exit to miniinit exit: drain %.3fs, total %v", rp.Shutdown.DrainSeconds, r.elapsed)
	})
}

// TestDrainKillsAtDeadline: an orphan that ignores SIGTERM is SIGKILLed at
// the grace deadline, reported as such, and miniinit still exits with the
// main workload's code.
func TestDrainKillsAtDeadline(t *testing.T) {
	forEachMode(t, func(t *testing.T, pid1 bool) {
		dir := t.TempDir()
		rep := filepath.Join(dir, "report.json")
		const grace = 400 * time.Millisecond
		code, r := runMini(t, runOpts{pid1: pid1}, "-s", "--grace", grace.String(), "--report", rep,
			"--", bin.helper, "daemon", dir, "ignore-term")
		if code != 3 {
			t.Fatalf("exit code %d, want 3", code)
		}
		sleeper, _ := strconv.Atoi(strings.TrimSpace(waitFile(t, filepath.Join(dir, "sleeper.pid"))))
		rp := readReport(t, rep)
		if got := pidsOf(rp.Killed); !slices.Equal(got, []int{sleeper}) {
			t.Errorf("report sigkilled %v, want [%d]", got, sleeper)
		}
		if d := rp.Shutdown.DrainSeconds; d < grace.Seconds() || d > grace.Seconds()+killWait.Seconds() {
			t.Errorf("drain took %.3fs, want the grace %v and a little", d, grace)
		}
		if !pid1 {
			if _, err := readStat(sleeper); err == nil {
				t.Errorf("sleeper %d still exists", sleeper)
			}
		}
		t.Logf("drain %.3fs with grace %v", rp.Shutdown.DrainSeconds, grace)
		_ = r
	})
}

// TestDrainSparesStrangers: as a plain process, miniinit's drain signals
// its own descendants only, never a process beside it.
func TestDrainSparesStrangers(t *testing.T) {
	dir := t.TempDir()
	stranger := startHelper(t, "sleeper", filepath.Join(dir, "s"))
	work := filepath.Join(dir, "w")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _ := runMini(t, runOpts{}, "-s", "--", bin.helper, "daemon", work); code != 3 {
		t.Fatalf("exit code %d, want 3", code)
	}
	if _, err := os.Stat(filepath.Join(work, "terminated")); err != nil {
		t.Errorf("miniinit's own orphan was not terminated: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "s", "terminated")); err == nil {
		t.Errorf("the drain sent SIGTERM to a process that is not miniinit's")
	}
	if e, err := readStat(stranger); err != nil || e.State == 'Z' {
		t.Errorf("the stranger %d is gone", stranger)
	}
}

// TestNoDrainWhenAlone: with nothing left, miniinit exits at once.
func TestNoDrainWhenAlone(t *testing.T) {
	rep := filepath.Join(t.TempDir(), "report.json")
	code, r := runMini(t, runOpts{}, "-s", "--report", rep, "--", "/bin/sh", "-c", "exit 0")
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	rp := readReport(t, rep)
	if rp.Shutdown.DrainSeconds != 0 || len(rp.StillRunning) != 0 {
		t.Errorf("report: %+v", rp)
	}
	if r.elapsed > 2*time.Second {
		t.Errorf("took %v", r.elapsed)
	}
}

// TestReportStartFailure: a main workload that cannot start ends the run
// with 127 and says why.
func TestReportStartFailure(t *testing.T) {
	code, r := runMini(t, runOpts{}, "-s", "--report", "-", "--", "no-such-command-here")
	if code != ExitNotFound {
		t.Fatalf("exit code %d, want %d", code, ExitNotFound)
	}
	last := strings.TrimSpace(r.stderr.String())
	last = last[strings.LastIndexByte(last, '\n')+1:]
	if !strings.HasPrefix(last, "{") || !strings.Contains(last, `"reason":"`+reasonMainStartFailed+`"`) || !strings.Contains(last, "no-such-command-here") {
		t.Errorf("last stderr line is not the report: %q", last)
	}
}

// startHelper runs the helper outside miniinit, for a bystander; the
// cleanup kills and reaps it. It returns its pid once it is ready.
func startHelper(t *testing.T, mode, dir string) int {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var pa os.ProcAttr
	p, err := os.StartProcess(bin.helper, []string{bin.helper, mode, dir}, &pa)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Signal(unix.SIGKILL)
		_, _ = p.Wait()
	})
	waitFile(t, filepath.Join(dir, "sleeper.pid"))
	return p.Pid
}

// TestTiniCutsOrphanShort is the contrast for TestDrainLetsOrphanFinish:
// the same workload under tini (Debian's, installed by
// contrib/scripts/deps.sh) as PID 1 of a namespace. tini exits with the
// main workload, the kernel SIGKILLs the orphan, and its SIGTERM handler
// never runs.
func TestTiniCutsOrphanShort(t *testing.T) {
	roottest.Require(t)
	tini, err := exec.LookPath("tini")
	if err != nil {
		t.Fatal("tini is not installed: run contrib/scripts/deps.sh")
	}
	dir := t.TempDir()
	cmd := exec.Command(tini, "--", bin.helper, "daemon", dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWPID | unix.CLONE_NEWNS}
	cmd.WaitDelay = 5 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		<-ctx.Done()
		if cmd.Process != nil {
			_ = cmd.Process.Kill()
		}
	}()
	err = cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != 3 {
		t.Fatalf("tini exit code %d (%v), want 3", code, err)
	}
	time.Sleep(300 * time.Millisecond) // three times what the handler needs
	if _, err := os.Stat(filepath.Join(dir, "terminated")); err == nil {
		t.Fatal("the orphan's SIGTERM handler ran under tini; this contrast no longer holds")
	}
}
