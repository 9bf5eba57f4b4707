package pid1

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// DefaultPath is the PATH a workload gets when neither miniinit's
// environment nor the workload's sets one: the usual Debian/Alpine list,
// as container runtimes set it. Without it a root filesystem started with
// an empty environment could run nothing by name.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// workloadEnv builds a workload's environment: base (miniinit's own
// environment, less what miniinit consumed), with PATH defaulted, then
// extra ("KEY=value" entries) on top. A key in extra replaces the base entry
// in place; new keys follow in extra's order, so the result is
// deterministic.
func workloadEnv(base, extra []string) []string {
	env := make([]string, 0, len(base)+len(extra)+1)
	index := map[string]int{}
	set := func(kv string) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := index[k]; ok {
			env[i] = kv
			return
		}
		index[k] = len(env)
		env = append(env, kv)
	}
	for _, kv := range base {
		set(kv)
	}
	if _, ok := index["PATH"]; !ok {
		set("PATH=" + DefaultPath)
	}
	for _, kv := range extra {
		set(kv)
	}
	return env
}

// getenv returns key's value in env ("" when unset).
func getenv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// withoutKeys returns env less every entry whose key is in keys.
func withoutKeys(env []string, keys ...string) []string {
	out := env[:0:0]
next:
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		for _, drop := range keys {
			if k == drop {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// lookPath resolves a command the way execvp does, but in the workload's
// PATH rather than miniinit's, and from the workload's working directory
// dir, where the command would run (miniinit itself has moved to "/"): a
// name with a slash is used as it is; a bare name is searched in each PATH
// entry (an empty entry is the working directory), and the first executable
// file that is not a directory wins. The result is absolute. When the name
// exists only without permission to run it, the error is EACCES (exit
// 126), otherwise errNotFound (exit 127). Checking here rather than only in
// exec turns the common failures into clear messages before anything forks.
func lookPath(file, path, dir string) (string, error) {
	p, err := searchPath(file, path, dir)
	if err != nil {
		return "", &commandError{err}
	}
	return p, nil
}

func searchPath(file, path, dir string) (string, error) {
	if strings.Contains(file, "/") {
		p := filepath.Join(dir, file)
		if filepath.IsAbs(file) {
			p = file
		}
		return p, checkExecutable(p)
	}
	if file == "" {
		return "", fmt.Errorf("empty command: %w", errNotFound)
	}
	var denied error
	for _, entry := range filepath.SplitList(path) {
		p := filepath.Join(dir, entry, file)
		if filepath.IsAbs(entry) {
			p = filepath.Join(entry, file)
		}
		err := checkExecutable(p)
		if err == nil {
			return p, nil
		}
		// A missing file, a directory of that name, or a PATH entry that
		// is not a directory is simply not the command (as in a shell's
		// search); anything else is remembered.
		if denied == nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) && !errors.Is(err, syscall.EISDIR) {
			denied = err
		}
	}
	if denied != nil {
		return "", denied
	}
	return "", fmt.Errorf("%q %w (PATH=%s)", file, errNotFound, path)
}

// checkExecutable reports whether p is a regular file miniinit may execute,
// with an error that names p and the errno.
func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return &os.PathError{Op: "exec", Path: p, Err: syscall.EISDIR}
	}
	if err := syscall.Access(p, 1 /* X_OK */); err != nil {
		return &os.PathError{Op: "exec", Path: p, Err: err}
	}
	return nil
}
