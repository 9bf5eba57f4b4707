package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/cgroup"
	"github.com/minispawn/minispawn/config"
	"github.com/minispawn/minispawn/mounts"
)

// The descriptors the second stage receives (fdConfig, fdInit, fdSync,
// fdErr...) are numbered in fds.go, after any socket-activation ones.

// forwarded are the signals minispawn passes on to the container's PID 1.
// SIGURG is never among them: the Go runtime uses it.
var forwarded = []os.Signal{
	unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT,
	unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH,
}

// setupError is a failure before the workload ran: minispawn exits with
// exitSetup.
type setupError struct{ err error }

func (e *setupError) Error() string { return e.err.Error() }
func (e *setupError) Unwrap() error { return e.err }

func setupErrorf(format string, a ...any) error {
	return &setupError{fmt.Errorf(format, a...)}
}

// runContainer loads the configuration and either prints the plan or runs
// the container, returning minispawn's exit code.
func runContainer(o *options, log *slog.Logger) int {
	// Signals are caught before anything else a run does, so that the
	// moments in which a SIGINT or SIGTERM still ends minispawn by itself
	// (nothing exists yet then) are as few as can be; spawn acts on them.
	// SIGABRT too, which is never forwarded: it is systemd's watchdog
	// signal (abortContainer).
	var sigs chan os.Signal
	if !o.dryRun {
		sigs = make(chan os.Signal, 16)
		signal.Notify(sigs, append(slices.Clone(forwarded), unix.SIGABRT)...)
		defer signal.Stop(sigs)
	}
	data, cfg, code := loadConfig(o, log)
	if cfg == nil {
		return code
	}
	initPath, err := findInit(o.init)
	if err != nil && !o.dryRun {
		log.Error(err.Error())
		return exitSetup
	} else if err != nil {
		initPath = "(miniinit not found: " + err.Error() + ")"
	}
	layout, err := cgroup.Detect()
	if err != nil {
		log.Error("detect cgroup hierarchy", "err", err)
		return exitSetup
	}
	// Sockets from systemd come first in the container's descriptors, so
	// they are taken (and the rest numbered, fds.go) before the plan
	// names miniinit's (socket_linux.go).
	listen := listenFromSystemd(o.dryRun)
	plan := newPlan(cfg, layout, initPath)
	plan.Listen, plan.Service, plan.Config = listen, cfg.Systemd, cfg
	plan.TTY = plan.TTY || o.tty
	// What the user's root directory lacks, made elsewhere (plan.go).
	if err := plan.planMissing(mounts.FindMissingIn); err != nil && !o.dryRun {
		log.Error("root filesystem: " + err.Error())
		return exitSetup
	}
	if o.dryRun {
		fmt.Print(plan.String())
		return 0
	}
	code, err = spawn(plan, data, sigs, log)
	var intr *interrupted
	switch {
	case errors.As(err, &intr) && intr.sig == unix.SIGABRT:
		log.Error(intr.Error())
		return intr.code()
	case errors.As(err, &intr):
		log.Warn(intr.Error())
		return intr.code()
	case err != nil:
		log.Error("setup failed, nothing was run: " + err.Error())
		return exitSetup
	}
	return code
}

// loadConfig reads and parses the container's configuration: the file
// of -c with the flags' overrides (adhoc.go), or the one an ad-hoc
// command line stands for. A problem in the file is reported at its
// file:line:col (exit 125); one that a flag made, by the flag (exit 2).
func loadConfig(o *options, log *slog.Logger) ([]byte, *config.Config, int) {
	data, fromFlags, err := configData(o)
	if err != nil {
		log.Error("read configuration", "err", err)
		return nil, nil, exitSetup
	}
	cfg, err := config.Parse(o.config, data)
	switch {
	case err == nil:
		return data, cfg, 0
	case fromFlags:
		text, flagsOnly := flagErrors(err)
		fmt.Fprintln(os.Stderr, text)
		if flagsOnly {
			return nil, nil, exitUsage
		}
		log.Error("invalid configuration with these flags, nothing was run", "file", o.config)
		return nil, nil, exitSetup
	}
	// Every problem, one per line, as file:line:col: message.
	fmt.Fprintln(os.Stderr, err)
	log.Error("invalid configuration, nothing was run", "file", o.config)
	return nil, nil, exitSetup
}

// configData returns the configuration's text, and whether flags made or
// changed it.
func configData(o *options) (data []byte, fromFlags bool, err error) {
	if o.rootfs != "" {
		o.config = "(command line)"
		data, err = adhocConfig(o)
		return data, true, err
	}
	data, err = os.ReadFile(o.config)
	if err != nil || !o.overrides() {
		return data, false, err
	}
	if _, perr := config.Parse(o.config, data); perr != nil {
		// The file's own problems first, at their positions.
		return data, false, nil
	}
	data, err = withOverrides(o, data)
	return data, true, err
}

// findInit locates the miniinit binary: the flag, else next to this
// executable (how `make build` lays them out), else $PATH.
func findInit(flagPath string) (string, error) {
	if flagPath != "" {
		return filepath.Abs(flagPath)
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "miniinit")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	p, err := exec.LookPath("miniinit")
	if err != nil {
		return "", errors.New("cannot find miniinit next to minispawn or in $PATH (use -init PATH)")
	}
	return filepath.Abs(p)
}

// spawn runs the container described by plan and returns its exit code.
// Errors are setup failures; the workload's own failures are exit codes.
//
// The steps run in this order, each for a reason:
//
//  0. The container's name is locked (namelock_linux.go) before anything
//     else, so that a second start of a running container is refused
//     before it has touched anything, its cache and cgroup above all.
//  1. Signals are caught (by runContainer, before the configuration is
//     even read), so that a SIGTERM or SIGINT during setup cannot end
//     minispawn before it has cleaned up (handoff_linux.go).
//  2. The root filesystem is prepared on the host only when it is cached
//     (an ephemeral root is built inside the container's mount namespace,
//     where nothing can outlive the container).
//  3. miniinit and the configuration go into sealed memfds, before any
//     namespace exists, so the container never sees a host path to them
//     (miniinit's is copied and sealed meanwhile, before step 6's plan).
//  4. The cgroup is created with its limits before the first process, so
//     no process of the container ever runs unlimited.
//  5. The second stage is cloned into new namespaces, on a locked thread
//     (Pdeathsig belongs to the thread that cloned: the container must die
//     with minispawn, not with a thread the Go runtime retires).
//  6. The child joins the cgroup, and only then receives the plan, which
//     is what lets it continue: its cgroup namespace, unshared next, is
//     rooted at the container's cgroup.
//  7. The error pipe reads EOF when miniinit has been exec'd: then the
//     container is ready, and systemd (if it started us) is told so.
//  8. Signals are forwarded until the container exits; the cgroup is
//     emptied and removed on every path out of here.
func spawn(plan *Plan, configData []byte, sigs chan os.Signal, log *slog.Logger) (code int, err error) {
	if os.Geteuid() != 0 {
		return 0, errors.New("minispawn must run as root (it creates namespaces, mounts and cgroups)")
	}

	// 0. The name.
	lock, err := lockName(plan.Name)
	if err != nil {
		return 0, err
	}
	defer lock.release()

	// 1. Signals: caught since runContainer's start (sigs).
	// 1a. The service manager (notify_linux.go): status lines, the
	// watchdog (minispawn pings while it sets up), READY=1 later.
	sd := newServiceLink(log)
	defer sd.close()
	sd.setStatus("setting up container " + plan.Name)
	// Until miniinit catches signals, they are held or end the setup
	// (handoff_linux.go).
	st := &startup{sigs: sigs, onStop: sd.onSignal}

	// 2. Root filesystem.
	releaseRoot, err := prepareRoot(plan)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err := releaseRoot(); err != nil {
			log.Warn("release the cached root", "err", err)
		}
	}()
	if err := st.poll(); err != nil {
		return 0, err
	}
	// 2a. With a user namespace, a directory root reaches the container
	// as an idmapped mount tree, made here by host root, and bind sources
	// must be within reach of root inside (userns_linux.go).
	if err := checkBindSources(plan); err != nil {
		return 0, err
	}
	rootTree, err := idmappedRoot(plan)
	if err != nil {
		return 0, err
	}
	if rootTree != nil {
		defer rootTree.Close()
	}

	// 3. Sealed copies. miniinit's is filled in the background while
	// steps 4-6 run: the child gets the descriptor at the clone, but may
	// execute it only once it has the plan, which goes after the seal.
	initFile, initSealed, err := sealedCopyLater("miniinit", plan.Init)
	if err != nil {
		return 0, fmt.Errorf("seal miniinit %s: %w", plan.Init, err)
	}
	defer func() {
		initSealed() // the copy writes to initFile until then
		initFile.Close()
	}()
	cfgFile, err := sealedCopy("config", "", configData)
	if err != nil {
		return 0, err
	}
	defer cfgFile.Close()

	// 4. Cgroup.
	layout, err := cgroup.Detect()
	if err != nil {
		return 0, fmt.Errorf("detect cgroup hierarchy: %w", err)
	}
	// 4a. The empty cgroups of other containers that no longer run go
	// (leftover_linux.go): SIGKILLed minispawns leave them.
	removeLeftovers(layout, plan.Name, log)
	// 4b. Under systemd, below the unit's cgroup, or a transient scope's
	// (systemd_linux.go): systemd and minispawn never share a cgroup.
	if layout, err = serviceCgroup(layout, plan, log); err != nil {
		return 0, fmt.Errorf("place the cgroup under systemd: %w", err)
	}
	cg, err := createCgroup(layout, plan)
	if err != nil {
		return 0, fmt.Errorf("create cgroup: %w", err)
	}
	defer func() {
		if kerr := cg.Kill(); kerr != nil {
			log.Warn("empty the cgroup", "err", kerr)
		}
		if rerr := cg.Remove(); rerr != nil {
			log.Warn("remove the cgroup", "err", rerr)
			lock.keep = true // a later start removes it (leftover_linux.go)
		}
	}()

	// 5. Clone the second stage.
	// 5a. The channel to miniinit (notify_linux.go), made before the
	// container exists: nothing inside can reach it by a path.
	hostConn, hostChild, err := hostChannel()
	if err != nil {
		return 0, err
	}
	if hostConn != nil {
		defer hostConn.Close()
		defer hostChild.Close()
	}
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer syncW.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		syncR.Close()
		return 0, err
	}
	defer errR.Close()
	flags, err := nsFlags(plan.Namespaces)
	if err != nil {
		return 0, err
	}
	// The cgroup namespace is unshared by the child itself, step 6.
	flags &^= unix.CLONE_NEWCGROUP

	// With -t the second stage makes the pty in the container's devpts
	// and sends its master back on this channel (tty_linux.go); the
	// caller's stdio is the second stage's only until then.
	stdio := []*os.File{os.Stdin, os.Stdout, os.Stderr}
	var ttyCh, ttyChild *os.File
	if plan.TTY {
		if ttyCh, ttyChild, err = consoleChannel(); err != nil {
			return 0, err
		}
		defer ttyCh.Close()
		defer ttyChild.Close()
		// The size is right before the first process looks at it.
		if ws, err := unix.IoctlGetWinsize(int(os.Stdin.Fd()), unix.TIOCGWINSZ); err == nil {
			plan.TTYSize = *ws
		}
	}
	// When stdout is the journal, the container's lines become entries
	// named after their workloads (journalrelay_linux.go).
	jr, err := startJournalRelay(plan, log)
	if err != nil {
		return 0, err
	}
	if jr != nil {
		defer jr.finish()
		stdio[1], stdio[2] = jr.stdout, jr.stderr
	}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd := &exec.Cmd{
		Path: "/proc/self/exe",
		// The socket count numbers the descriptors (fds.go).
		Args:   []string{stage2Arg0, strconv.Itoa(plan.Listen.n)},
		Env:    append(stage2Env(plan.Control), plan.Listen.env()...),
		Stdin:  stdio[0],
		Stdout: stdio[1],
		Stderr: stdio[2],
		// In the order of fds.go; a nil hostChild leaves fdHost closed.
		ExtraFiles: slices.Concat(plan.Listen.files, []*os.File{cfgFile, hostChild, initFile, syncR, errW}),
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: flags,
			Pdeathsig:  syscall.SIGKILL,
			// A session of its own: the container has no controlling
			// terminal, so nothing inside can inject input into the
			// caller's (TIOCSTI), and terminal signals reach it only
			// through minispawn. With -t, the second stage makes the
			// container's own pty the session's controlling terminal.
			Setsid: true,
		},
	}
	// User namespace: maps and credentials (userns_linux.go); the
	// idmapped root, if any, becomes fdRootTree.
	applyUserNS(cmd.SysProcAttr, plan.UserNS)
	if rootTree != nil || ttyChild != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, rootTree) // nil: closed
	}
	if ttyChild != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, ttyChild)
	}
	// On cgroup v2 the child is born inside the container's cgroup
	// (clone3 with CLONE_INTO_CGROUP, Linux 5.7+): not one instruction of
	// it runs outside the limits. v1 has no single cgroup to clone into,
	// but the cloning thread (locked above) can step into it for the
	// clone, and the child is born inside there too: that also spares the
	// 6-20 ms RCU wait of moving the child in afterwards (EnterThread).
	// If the thread cannot, step 6 moves the child in before it may go on.
	bornInside := layout.Version == cgroup.V2
	var leaveCgroup func() error
	if bornInside {
		cgFD, err := cg.FD()
		if err != nil {
			return 0, err
		}
		defer unix.Close(cgFD)
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, cgFD
	} else if leaveCgroup, err = cg.EnterThread(); err != nil {
		log.Debug("clone outside the cgroup, then move the child in", "err", err)
	}
	err = cmd.Start()
	if leaveCgroup != nil {
		bornInside = true
		if lerr := leaveCgroup(); lerr != nil {
			// The container is where it must be; only minispawn's
			// thread may not be back home.
			log.Warn("leave the container's cgroup", "err", lerr)
		}
	}
	syncR.Close()
	errW.Close()
	// The container holds these now; minispawn has no use for them.
	if hostChild != nil {
		hostChild.Close()
	}
	if jr != nil {
		jr.started()
	}
	for _, f := range plan.Listen.files {
		f.Close()
	}
	if ttyChild != nil {
		ttyChild.Close()
	}
	if err != nil {
		return 0, fmt.Errorf("clone into namespaces %v: %w", plan.Namespaces, err)
	}
	pid := cmd.Process.Pid
	log.Debug("second stage started", "pid", pid, "namespaces", nsString(flags))
	waited := make(chan syscall.WaitStatus, 1)
	go func() {
		cmd.Wait() // the exit status is in ProcessState; the error adds nothing
		waited <- cmd.ProcessState.Sys().(syscall.WaitStatus)
	}()
	abort := func(err error) (int, error) {
		cmd.Process.Kill()
		<-waited
		return 0, err
	}

	// 6. Into the cgroup (v1; on v2 it was born there), then the plan.
	if !bornInside {
		if err := cg.Add(pid); err != nil {
			return abort(fmt.Errorf("move the container into its cgroup: %w", err))
		}
	}
	if err := initSealed(); err != nil {
		return abort(fmt.Errorf("seal miniinit %s: %w", plan.Init, err))
	}
	if err := json.NewEncoder(syncW).Encode(plan); err != nil {
		return abort(fmt.Errorf("send the plan to the container: %w", err))
	}
	syncW.Close()

	// 7. Wait until miniinit catches signals (handoff_linux.go): the
	// error pipe reaches EOF at exec (close-on-exec) or when the child
	// dies, and miniinit says so over the channel before it starts any
	// workload. Signals that come meanwhile are held, or end the setup.
	setupDone := make(chan []byte, 1)
	go func() {
		msg, _ := io.ReadAll(errR)
		setupDone <- msg
	}()
	st.setupDone, st.caught, st.waited = setupDone, awaitCaught(hostConn, pid, log), waited
	held, ended, err := st.awaitInit()
	var intr *interrupted
	if errors.As(err, &intr) {
		return abort(err)
	} else if err != nil {
		return 0, err
	}
	// The container's pty, sent before miniinit's exec (tty_linux.go).
	var tty *console
	if plan.TTY {
		if tty, err = receiveConsole(ttyCh); err != nil {
			return abort(err)
		}
		defer tty.finish()
	}
	// terminalGone: the caller's terminal hung up (-t). The workloads get
	// SIGHUP, as a shell in a closed terminal window does; whatever still
	// runs after hangupGrace then sees its terminal hang up too, so that
	// a shell that trapped SIGHUP and read on ends all the same. In this
	// order, a shell's trap runs before its reads fail: the kernel would
	// send the hangup's own SIGHUP to the container's session leader,
	// miniinit, and that comes too late for it.
	var hangupTimer *time.Timer
	defer func() {
		if hangupTimer != nil {
			hangupTimer.Stop()
		}
	}()
	var forward func(os.Signal)
	terminalGone := func() {
		if hangupTimer != nil {
			return
		}
		log.Debug("the terminal hung up: SIGHUP to the container, then its terminal's hangup")
		hangupTimer = time.AfterFunc(hangupGrace, tty.hangup)
		forward(unix.SIGHUP)
	}
	// forward passes one signal on to the container (step 8).
	forward = func(s os.Signal) {
		switch {
		case s == unix.SIGWINCH && tty != nil:
			// The pty tells the container's foreground itself.
			tty.resize()
			return
		case s == unix.SIGHUP && tty != nil && callerHungUp():
			terminalGone()
			return
		}
		log.Debug("forwarding signal", "signal", s)
		if err := cmd.Process.Signal(s); err != nil && !errors.Is(err, os.ErrProcessDone) {
			log.Warn("forward signal", "signal", s, "err", err)
		}
	}
	if !ended {
		for _, s := range held {
			forward(s)
		}
	}
	log.Debug("container running", "name", plan.Name, "pid", pid)
	if tty != nil {
		if err := tty.start(); err != nil {
			return abort(err)
		}
	}
	// READY=1 now, or relay miniinit's own once its workloads are ready.
	sd.containerStarted(hostConn, pid, plan)
	// With register = true, machined knows the container until it ends
	// (machined_linux.go): registered now, unregistered on the way out.
	defer registerMachine(plan, pid, log)()

	// 8. Forward signals until the container exits.
	var ttyGone <-chan struct{}
	if tty != nil {
		ttyGone = tty.goneC()
	}
	for {
		select {
		case s := <-sigs:
			if s == unix.SIGABRT {
				log.Error(abortMessage)
				cmd.Process.Kill()
				<-waited
				sd.exited("killed after SIGABRT")
				return exitAbort, nil
			}
			// STOPPING=1 on SIGTERM (notify_linux.go).
			sd.onSignal(s)
			forward(s)
		case <-ttyGone:
			ttyGone = nil
			terminalGone()
		case ws := <-waited:
			// Read before the deferred Remove discards the counter.
			if n, err := cg.OOMKills(); err != nil {
				log.Debug("read the OOM kill count", "err", err)
			} else if n > 0 {
				log.Error(oomMessage(plan.Resources, layout.Version, n))
			}
			code := statusCode(ws)
			log.Debug("container exited", "status", describeStatus(ws), "code", code)
			if ws.Signaled() {
				// miniinit exits with its workload's code, signals
				// included: a status of death by signal is its own.
				log.Error(pid1Died(ws.Signal()), "code", code)
			}
			if why := sd.exited(describeStatus(ws)); why != "" && code != 0 {
				log.Error("container failed: "+why, "code", code)
			}
			return code, nil
		}
	}
}

// abortMessage is the one line minispawn logs when SIGABRT comes, which
// is what systemd sends when WatchdogSec= passes without a ping (minispawn
// pings only while the container's init answers its heartbeats). Caught,
// it ends the container with SIGKILL and the usual cleanup (cgroups
// removed, v1 ones too) instead of the Go runtime's crash dump, so the
// next start finds nothing to clean.
const abortMessage = "aborted by SIGABRT (systemd's watchdog signal: the container's init stopped answering heartbeats); killing the container"

// hangupGrace is how long the workloads of a container whose caller's
// terminal hung up have, after their SIGHUP, before their own terminal
// hangs up.
const hangupGrace = time.Second

// leftoverWait bounds how long step 4 waits for the processes of a
// container whose minispawn was SIGKILLed: the kernel ends them soon after
// (PID 1 of the namespace first, then the rest), but not at once. A
// container that really runs does not empty in that time, and is refused.
const leftoverWait = 2 * time.Second

// createCgroup creates the container's cgroup, waiting out the last
// moments of a previous run of the same container that is still dying.
func createCgroup(layout *cgroup.Layout, plan *Plan) (*cgroup.Cgroup, error) {
	deadline := time.Now().Add(leftoverWait)
	for {
		cg, err := cgroup.Create(layout, plan.Name, plan.Resources)
		if err == nil || !errors.Is(err, cgroup.ErrRunning) || time.Now().After(deadline) {
			return cg, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// prepareRoot does the host-side part of step 2. The function it returns
// ends the use of a cached root (mounts.CachedRoot.Release), once the
// container is gone.
func prepareRoot(plan *Plan) (release func() error, err error) {
	release = func() error { return nil }
	switch {
	case plan.Root.Cache:
		root, err := mounts.BuildCached(plan.Root.CacheDir, plan.Root.Build)
		if err != nil {
			return nil, fmt.Errorf("rootfs.cache %s: %w", plan.Root.CacheDir, err)
		}
		plan.Root.Dir = root.Dir
		return root.Release, nil
	case plan.Root.Dir != "":
		var st unix.Stat_t
		if err := unix.Stat(plan.Root.Dir, &st); err != nil {
			return nil, fmt.Errorf("root filesystem: stat %s: %w", plan.Root.Dir, errnoErr(err))
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return nil, fmt.Errorf("root filesystem: %s: %w", plan.Root.Dir, errnoErr(unix.ENOTDIR))
		}
	default:
		// The staging directory stays empty on the host; the tmpfs on
		// it exists only in the container's mount namespace.
		if err := os.MkdirAll(stagingDir, 0o700); err != nil {
			return nil, fmt.Errorf("staging directory: %w", err)
		}
	}
	return release, nil
}

// stage2Env is the environment of the second stage and of miniinit: a
// clean one, never the caller's (which may hold secrets or NOTIFY_SOCKET,
// the host's service manager socket). MINIINIT_CONTROL names the control
// socket for `miniinit ctl` and `miniinit health` run inside, whoever runs
// them.
func stage2Env(control string) []string {
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root",
		"container=minispawn",
	}
	if control != "" {
		env = append(env, "MINIINIT_CONTROL="+control)
	}
	if t := os.Getenv("TERM"); t != "" {
		env = append(env, "TERM="+t)
	}
	return env
}

// pid1Died says that miniinit itself died of sig, which only a signal it
// cannot catch (SIGKILL from the host) or a crash does.
func pid1Died(sig syscall.Signal) string {
	return fmt.Sprintf("the container's PID 1 (miniinit) died, killed by %s: every process of the container went with it", unix.SignalName(sig))
}

func describeStatus(ws syscall.WaitStatus) string {
	switch {
	case ws.Exited():
		return fmt.Sprintf("exit %d", ws.ExitStatus())
	case ws.Signaled():
		return fmt.Sprintf("killed by %v", ws.Signal())
	}
	return fmt.Sprintf("status 0x%x", uint32(ws))
}
