package main

import (
	"os"
	"path/filepath"
	"strconv"

	"github.com/minispawn/minispawn/config"
)

// Where the control socket is when nothing names it.
//
// miniinit -c listens there when the file leaves init.control at its
// default, and `miniinit ctl` and `miniinit health` look there when given
// neither -s nor -c: one rule for both, so that a client run as the same
// user with the same environment finds the server.
//
//   - $MINIINIT_CONTROL, when set (minispawn sets it in every container);
//   - as root: /run/miniinit.sock (config.DefaultControl);
//   - as any other user: $XDG_RUNTIME_DIR/miniinit.sock when
//     XDG_RUNTIME_DIR is set (the per-user runtime directory of systemd
//     and of rootless podman), else miniinit-UID/miniinit.sock in
//     $TMPDIR (/tmp when unset). That directory is the user's own: miniinit
//     makes it with mode 0700 and, like the clients, uses it only when it
//     is a directory (not a link) owned by the user that no one else may
//     enter (pid1.PrivateDir); one made by someone else first is refused.
//
// Non-root users are the case of `podman run --user 1000` and Kubernetes'
// runAsNonRoot, where /run is root's.

// defaultControl returns the control socket's path by the rule above for
// a process of effective uid euid and environment env; private is true
// when its directory is the per-user one in $TMPDIR, which must pass
// pid1.PrivateDir.
func defaultControl(euid int, env lookupEnv) (path string, private bool) {
	if p := getenv(env, "MINIINIT_CONTROL"); p != "" {
		return p, false
	}
	if euid == 0 {
		return config.DefaultControl, false
	}
	if dir := getenv(env, "XDG_RUNTIME_DIR"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "miniinit.sock"), false
	}
	tmp := getenv(env, "TMPDIR")
	if !filepath.IsAbs(tmp) {
		tmp = "/tmp"
	}
	return filepath.Join(tmp, "miniinit-"+strconv.Itoa(euid), "miniinit.sock"), true
}

// processControl is defaultControl for this process.
func processControl(env lookupEnv) (string, bool) {
	return defaultControl(os.Geteuid(), env)
}
