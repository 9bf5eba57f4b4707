package pid1

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// process is one start of a workload: the pid while it runs, then how it
// ended. Only the event loop reads or writes it.
type process struct {
	w        Workload
	pid      int   // 0 when it never started
	startErr error // why it never started
	running  bool
	status   syscall.WaitStatus // valid once it has exited
	code     int                // exit code by the rules of exitcode.go
}

// start starts w and registers it. It never waits: exit statuses reach the
// process through the reaper only.
func (l *loop) start(w Workload) *process {
	p := &process{w: w}
	l.started = append(l.started, p)
	if w.Main {
		l.main = p
	}
	pid, err := l.spawn(w)
	if err != nil {
		p.startErr, p.code = err, startErrorCode(err)
		l.log.Error("start workload", "workload", w.Name, "err", err, "code", p.code)
		return p
	}
	// Registered before the loop can reap again. The reaper runs on this
	// goroutine only, so a child that has already exited is still a
	// zombie here, holding its status for us: no one else can have
	// collected it, and no "exited before registered" buffer is needed.
	p.pid, p.running = pid, true
	l.procs[pid] = p
	l.log.Info("started workload", "workload", w.Name, "pid", pid, "argv", w.Args)
	return p
}

// spawn forks and executes w with syscall.ForkExec, which returns once the
// child has executed (or failed to: then it reports the errno, and has
// already collected that child itself, by its pid, on this goroutine).
//
// Every workload gets a process group of its own (tini does the same), so
// -g can signal a workload and its children together. The main workload
// also takes the terminal's foreground when miniinit holds it; Go sets it
// in the child before exec, with every signal blocked, so the child cannot
// be stopped by SIGTTOU on the way.
func (l *loop) spawn(w Workload) (int, error) {
	env := workloadEnv(l.environ, w.Env)
	dir := cmp.Or(w.Dir, l.startDir)
	if err := checkDir(dir); err != nil {
		return 0, &cwdError{dir, err}
	}
	path, err := lookPath(w.Args[0], getenv(env, "PATH"), dir)
	if err != nil {
		return 0, err
	}
	argv := w.Args
	files := l.stdio
	sys := &syscall.SysProcAttr{Setpgid: true}
	if w.Main {
		if l.tty {
			sys.Foreground, sys.Ctty = true, 0
		}
		if l.listen.n > 0 {
			// Descriptors 3.. stay at their numbers; ForkExec clears
			// close-on-exec on them in this child only.
			files = slices.Clone(files)
			for fd := 3; fd < 3+l.listen.n; fd++ {
				files = append(files, uintptr(fd))
			}
			env = workloadEnv(env, l.listen.env())
			if l.shimOK {
				argv, path = shimArgv(path, argv), selfExe
			}
		}
	}
	return syscall.ForkExec(path, argv, &syscall.ProcAttr{Dir: dir, Env: env, Files: files, Sys: sys})
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

// signalWorkload sends sig to p, or to its process group with -g. p is a
// child of miniinit that the reaper has not collected: until it does, on
// this goroutine, its pid stays taken even if it has exited, so the signal
// cannot reach a stranger that reused the number. The process group
// number is safe the same way: the kernel does not reuse it as a pid while
// the group has members.
func (l *loop) signalWorkload(p *process, sig syscall.Signal) {
	target := p.pid
	if l.opts.GroupSignals {
		target = -p.pid
	}
	if err := unix.Kill(target, sig); err != nil && !errors.Is(err, unix.ESRCH) {
		l.log.Warn("signal workload", "workload", p.w.Name, "err", sysErr(fmt.Sprintf("kill %d %s", target, SignalName(sig)), err))
	}
}
