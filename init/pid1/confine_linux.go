package pid1

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"

	"github.com/minispawn/minispawn/init/confine"
	"golang.org/x/sys/unix"
)

// The exec stage: how a workload gets its user, groups, umask, rlimits,
// no_new_privs and capability bounding set.
//
// Those must be applied in the child, between fork and exec, on the
// thread that will exec (package confine's contract), and a Go program
// runs no code there. So, as for LISTEN_PID (listen_linux.go), the child
// executes miniinit again under a marker argv[0]; that second program,
// already the workload's process (same pid, process group and cgroup),
// applies the confine.Spec on its locked thread and executes the command:
//
//	miniinit ──fork──▶ child ──exec /proc/self/exe──▶ exec stage: confine.Apply
//	                                                   ──exec command──▶ workload
//
// Only workloads that set one of those keys pay for the extra exec (about
// a millisecond); a workload that cannot be confined as asked does not
// run: its start fails (126).

// execShimArg0 marks miniinit executed as the exec stage. Its argv is
// [execShimArg0, the Spec as JSON, resolved command path, command argv...].
const execShimArg0 = "miniinit:exec"

// confined reports whether w asks for anything the exec stage does.
func (w *Workload) confined() bool {
	return w.User != "" || w.Group != "" || w.Groups != nil || w.Umask != nil ||
		len(w.Rlimits) > 0 || w.NoNewPrivs || w.Capabilities != nil
}

// confineSpec resolves w's identity in the container's /etc/passwd and
// /etc/group and returns its Spec, and the HOME its user has there ("" for
// none).
func confineSpec(w *Workload) (confine.Spec, string, error) {
	id, err := resolveIdentity("/etc/passwd", "/etc/group", w.User, w.Group, w.Groups)
	if err != nil {
		return confine.Spec{}, "", err
	}
	s := confine.Spec{
		NoNewPrivs: w.NoNewPrivs,
		UID:        id.uid,
		GID:        id.gid,
		Groups:     id.groups,
		Umask:      w.Umask,
		Rlimits:    w.Rlimits,
	}
	// Without a list the workload keeps what miniinit has: the
	// container's own bounding set already applies.
	if w.Capabilities != nil {
		s.Capabilities = w.Capabilities
	} else {
		s.AllCapabilities = true
	}
	if err := s.Validate(); err != nil {
		return confine.Spec{}, "", err
	}
	return s, id.home, nil
}

// confinedExec returns what a child executes to run path (argv, env) under
// w's confinement: the exec stage, given w's spec, which then executes
// path. env gains HOME from w's user when w's own env does not set it.
// The workload's process and its exec probes both start this way, so a
// probe runs as the workload does, not as miniinit.
func confinedExec(w *Workload, path string, argv, env []string) (string, []string, []string, error) {
	spec, home, err := confineSpec(w)
	if err != nil {
		return "", nil, nil, &confineError{err}
	}
	if unix.Access(selfExe, unix.X_OK) != nil {
		return "", nil, nil, &confineError{fmt.Errorf("the exec stage needs %s (is /proc mounted?)", selfExe)}
	}
	if home != "" && !hasKey(w.Env, "HOME") {
		env = workloadEnv(env, []string{"HOME=" + home})
	}
	argv, err = execShimArgv(spec, path, argv)
	if err != nil {
		return "", nil, nil, &confineError{err}
	}
	return selfExe, argv, env, nil
}

// execShimArgv is the argv that makes a child run the exec stage.
func execShimArgv(spec confine.Spec, path string, argv []string) ([]string, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	return append([]string{execShimArg0, string(b), path}, argv...), nil
}

// maybeExecShim returns at once unless args are an exec stage invocation;
// then it never returns.
func maybeExecShim(args []string) {
	if len(args) < 4 || args[0] != execShimArg0 {
		return
	}
	runtime.LockOSThread() // for good: Apply's changes belong to this thread
	fail := func(code int, err error) {
		msg := fmt.Sprintf("miniinit: level=ERROR msg=\"start workload\" err=%q\n", err.Error())
		_, _ = unix.Write(2, []byte(msg))
		os.Exit(code)
	}
	var spec confine.Spec
	if err := json.Unmarshal([]byte(args[1]), &spec); err != nil {
		fail(ExitNotExecutable, fmt.Errorf("exec stage: %w", err))
	}
	path, argv := args[2], args[3:]
	env := os.Environ()
	if os.Getenv("LISTEN_FDS") != "" {
		// The main workload's socket activation: this process is the
		// workload's, as for the listen shim.
		env = workloadEnv(env, []string{"LISTEN_PID=" + strconv.Itoa(os.Getpid())})
	}
	if err := confine.Apply(spec); err != nil {
		fail(ExitNotExecutable, err)
	}
	env = takeAndApplySigState(env)
	err := unix.Exec(path, argv, env)
	fail(startErrorCode(execError(err)), sysErr("exec "+path, err))
}
