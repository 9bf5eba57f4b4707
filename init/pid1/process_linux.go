package pid1

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minispawn/minispawn/init/supervise"
	"golang.org/x/sys/unix"
)

// process is one run of a workload: the pid while it runs, then how it
// ended. Only the event loop reads or writes it.
type process struct {
	w        Workload
	run      int   // the machine's run number, from 1
	pid      int   // 0 when it never started
	startErr error // why it never started
	running  bool
	status   syscall.WaitStatus // valid once it has exited
	code     int                // exit code by the rules of exitcode.go
	cgroup   bool               // born into a cgroup of its own
	killAt   time.Time          // its stop's deadline, once it has had its stop signal
	tree     map[procKey]bool   // without a cgroup: its processes seen at its stop (stop_linux.go)
}

// startRun starts run number run of workload name, as the machine decided,
// and tells the machine how that went. It never waits: exit statuses reach
// the process through the reaper only.
func (l *loop) startRun(name string, run int) {
	wk := l.works[name]
	if prev := wk.cur; prev != nil {
		// Whatever the last run left (it had its stop signal) must
		// not meet the new one.
		l.killLeftovers(prev)
	}
	p := &process{w: wk.w, run: run}
	wk.cur, wk.runs = p, run
	pid, err := l.spawn(p)
	if err != nil {
		p.startErr, p.code = err, startErrorCode(err)
		l.log.Error("start workload", "workload", name, "run", run, "err", err, "code", p.code)
		// Told to the machine on the next turn of the loop (later).
		l.later = append(l.later, supervise.SpawnFailed{Name: name, Run: run, Code: p.code, Err: err.Error()})
		return
	}
	// Registered before the loop can reap again. The reaper runs on this
	// goroutine only, so a child that has already exited is still a
	// zombie here, holding its status for us: no one else can have
	// collected it, and no "exited before registered" buffer is needed.
	p.pid, p.running = pid, true
	l.procs[pid] = p
	l.log.Info("started workload", "workload", name, "run", run, "pid", pid, "argv", p.w.Args)
	l.handle(supervise.Spawned{Name: name, Run: run, Pid: pid})
}

// spawn forks and executes p's workload with syscall.ForkExec, which
// returns once the child has executed (or failed to: then it reports the
// errno, and has already collected that child itself, by its pid, on this
// goroutine).
//
// Every workload gets a process group of its own (tini does the same), so
// a workload and its children can be signalled together. The main workload
// also takes the terminal's foreground when miniinit holds it; Go sets it
// in the child before exec, with every signal blocked, so the child cannot
// be stopped by SIGTTOU on the way.
func (l *loop) spawn(p *process) (int, error) {
	w := &p.w
	env, err := l.env(w)
	if err != nil {
		return 0, err
	}
	dir := cmp.Or(w.Dir, l.startDir)
	if err := checkDir(dir); err != nil {
		return 0, &cwdError{dir, err}
	}
	path, err := lookPath(w.Args[0], getenv(env, "PATH"), dir)
	if err != nil {
		return 0, err
	}
	argv := w.Args
	files := slices.Clone(l.stdio)
	sys := &syscall.SysProcAttr{Setpgid: true}
	// The ends the child gets, closed here once it has them.
	var theirs []*os.File
	defer func() {
		for _, f := range theirs {
			f.Close()
		}
	}()
	inherit := !w.StdinNull
	if !inherit {
		stdin, err := l.nullStdin()
		if err != nil {
			return 0, err
		}
		theirs = append(theirs, stdin)
		files[0] = stdin.Fd()
	}
	// A workload that reads the terminal is interactive: it keeps the
	// terminal for its output too.
	if l.out != nil && !(inherit && l.ttyIn) {
		o, e, err := l.out.open(w.Name, w.Prefix, w.DropOutput)
		if err != nil {
			return 0, err
		}
		theirs = append(theirs, o, e)
		files[1], files[2] = o.Fd(), e.Fd()
	} else if l.out != nil {
		l.out.direct(w.Name)
	}
	listenShim := false
	if w.Main {
		if l.tty && inherit {
			sys.Foreground, sys.Ctty = true, 0
		}
		if l.listen.n > 0 {
			// Descriptors 3.. stay at their numbers; ForkExec clears
			// close-on-exec on them in this child only.
			for fd := 3; fd < 3+l.listen.n; fd++ {
				files = append(files, uintptr(fd))
			}
			env = workloadEnv(env, l.listen.env())
			listenShim = l.shimOK
		}
	}
	// The shims apply the inherited ignored set (which a fork from Go
	// cannot pass on) and the mask just before they execute the command.
	shim := true
	switch {
	case w.confined():
		// The exec stage sets LISTEN_PID too, when it applies.
		if path, argv, env, err = confinedExec(w, path, argv, env); err != nil {
			return 0, err
		}
	case listenShim:
		argv, path = shimArgv(path, argv), selfExe
	case l.startSig.ignored != 0:
		argv, path = startShimArgv(path, argv), selfExe
	default:
		shim = false
	}
	if shim && !l.startSig.zero() {
		env = append(env, signalsEnv+"="+l.startSig.String())
	}
	if w.Policy.Ready.Kind == supervise.ReadyFD {
		wr, err := l.readyPipe(w.Name, p.run)
		if err != nil {
			return 0, err
		}
		theirs = append(theirs, wr)
		for len(files) <= w.ReadyFD {
			files = append(files, ^uintptr(0)) // closed in the child
		}
		files[w.ReadyFD] = wr.Fd()
	}
	attr := &syscall.ProcAttr{Dir: dir, Env: env, Files: files, Sys: sys}
	forkExec := func() (int, error) {
		return withThreadMask(l.startSig.blocked, func() (int, error) { return syscall.ForkExec(path, argv, attr) })
	}
	if fd, ok := l.cgroupFD(w.Name, p.run); ok {
		sys.UseCgroupFD, sys.CgroupFD = true, fd
		pid, err := forkExec()
		if !errors.Is(err, unix.ENOSYS) {
			p.cgroup = err == nil
			return pid, execError(err)
		}
		// clone3 refused (a seccomp filter answers ENOSYS, as the
		// container default does): process groups only from now on.
		l.log.Warn("cannot start workloads into cgroups (clone3); tracking them by process group", "err", err)
		l.cgroups.remove()
		l.cgroups = nil
		sys.UseCgroupFD, sys.CgroupFD = false, 0
	}
	pid, err := forkExec()
	return pid, execError(err)
}

// execError marks a failed exec as the command's own failure (127, 126).
func execError(err error) error {
	if err == nil {
		return nil
	}
	return &commandError{err}
}

// env builds a workload's environment: miniinit's, then its env files in
// order, then its env; NOTIFY_SOCKET when it reports readiness that way.
func (l *loop) env(w *Workload) ([]string, error) {
	var extra []string
	for _, f := range w.EnvFiles {
		kv, err := readEnvFile(f)
		if err != nil {
			return nil, err
		}
		extra = append(extra, kv...)
	}
	extra = append(extra, w.Env...)
	if w.Policy.Ready.Kind == supervise.ReadyNotify && l.notify != nil {
		extra = append(extra, "NOTIFY_SOCKET="+l.notify.addr)
	}
	return workloadEnv(l.environ, extra), nil
}

// nullStdin returns /dev/null for a workload's stdin, or, in a root
// without it, the read end of a pipe whose write end is closed: a reader
// sees end of file either way.
func (l *loop) nullStdin() (*os.File, error) {
	if l.devNull >= 0 {
		fd, err := unix.FcntlInt(uintptr(l.devNull), unix.F_DUPFD_CLOEXEC, 3)
		if err == nil {
			return os.NewFile(uintptr(fd), "/dev/null"), nil
		}
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, sysErr("stdin pipe", err)
	}
	unix.Close(p[1])
	return os.NewFile(uintptr(p[0]), "stdin"), nil
}

// env is what the main workload's environment says about the hand-over;
// LISTEN_PID is left to the shim.
func (f listenFDs) env() []string {
	e := []string{"LISTEN_FDS=" + strconv.Itoa(f.n)}
	if f.names != "" {
		e = append(e, "LISTEN_FDNAMES="+f.names)
	}
	return e
}

func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return syscall.ENOTDIR
	}
	return nil
}

// signalWorkload sends sig to p, or to its process group with -g or in
// supervised mode. p is a child of miniinit that the reaper has not
// collected: until it does, on this goroutine, its pid stays taken even if
// it has exited, so the signal cannot reach a stranger that reused the
// number. The process group number is safe the same way: the kernel does
// not reuse it as a pid while the group has members. In its own cgroup, the
// processes that left the group get it too.
func (l *loop) signalWorkload(p *process, sig syscall.Signal) {
	target := p.pid
	if l.opts.GroupSignals || l.opts.Supervised {
		target = -p.pid
	}
	if err := unix.Kill(target, sig); err != nil && !errors.Is(err, unix.ESRCH) {
		l.log.Warn("signal workload", "workload", p.w.Name, "err", sysErr(fmt.Sprintf("kill %d %s", target, SignalName(sig)), err))
	}
	l.signalCgroup(p, sig)
}

// confineError is a workload that cannot be confined as asked: it does not
// start (126, as a command that cannot be run).
type confineError struct{ err error }

func (e *confineError) Error() string { return "confine: " + e.err.Error() }
func (e *confineError) Unwrap() error { return e.err }

// hasKey reports whether env ("KEY=value" entries) sets key.
func hasKey(env []string, key string) bool {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			return true
		}
	}
	return false
}
