package confine

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/roottest"
)

// nr is the running architecture's number for a syscall name.
func nr(t *testing.T, name string) string {
	t.Helper()
	n, ok := nativeArch().sysnum[name]
	if !ok {
		t.Fatalf("no syscall %q on this architecture", name)
	}
	return strconv.Itoa(int(n))
}

// sleeper starts a process for ptrace to target and stops it at cleanup.
func sleeper(t *testing.T) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	cmd := exec.CommandContext(ctx, "/bin/sleep", "60")
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		cancel()
	})
	return cmd.Process.Pid
}

// TestSeccompStopsEscapes tries each attack twice: unconfined (the
// control: the call reaches the kernel, which does not answer EPERM, or
// succeeds) and under the default filter with every capability kept, so
// that the EPERM can only come from the filter.
func TestSeccompStopsEscapes(t *testing.T) {
	roottest.Require(t)
	dir := openDir(t)
	// keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0): the id of
	// the session keyring the container would share with the host.
	keyctlGetKeyringID, keySpecSessionKeyring := "0", "0xfffffffffffffffd"
	for _, c := range []struct {
		name    string
		args    []string
		control string // "" = anything but EPERM
		want    string
	}{
		{"mount tmpfs", []string{"mount", dir}, "ok", "EPERM"},
		// No module is loaded: the image is empty. The control gets
		// past the permission check (ENOSYS here: no module support,
		// or ENOEXEC/EINVAL with it).
		{"init_module", []string{"raw", nr(t, "init_module") + ":0:0:0"}, "", "EPERM"},
		{"finit_module", []string{"raw", nr(t, "finit_module") + ":0:0:0"}, "", "EPERM"},
		// Invalid flags: even the control cannot unload or load a kernel.
		{"kexec_load", []string{"raw", nr(t, "kexec_load") + ":0:0:0:0xdead0000"}, "", "EPERM"},
		{"ptrace attach", []string{"ptrace", strconv.Itoa(sleeper(t))}, "ok", "EPERM"},
		{"bpf", []string{"raw", nr(t, "bpf") + ":0x7fff:0:0"}, "EINVAL", "EPERM"},
		{"keyctl on the host session keyring", []string{"raw", nr(t, "keyctl") + ":" + keyctlGetKeyringID + ":" + keySpecSessionKeyring + ":0"}, "", "EPERM"},
		{"userfaultfd", []string{"raw", nr(t, "userfaultfd") + ":0"}, "ok", "EPERM"},
		{"unshare network namespace", []string{"raw", nr(t, "unshare") + ":" + strconv.Itoa(unix.CLONE_NEWNET)}, "ok", "EPERM"},
		// Not an attack: unsharing the fd table stays allowed.
		{"unshare files (allowed)", []string{"raw", nr(t, "unshare") + ":" + strconv.Itoa(unix.CLONE_FILES)}, "ok", "ok"},
		{"setns", []string{"setns"}, "ok", "EPERM"},
		{"clone a new user namespace", []string{"clone-newuser"}, "ok", "EPERM"},
		{"open_by_handle_at", []string{"raw", nr(t, "open_by_handle_at") + ":0:0:0"}, "", "EPERM"},
		// Newer calls fall back: ENOSYS, as on an older kernel.
		{"clone3", []string{"raw", nr(t, "clone3") + ":0:0"}, "EINVAL", "ENOSYS"},
		{"syscall 1000", []string{"raw", "1000"}, "ENOSYS", "ENOSYS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctl := answer(attack(t, unconfined, c.args...), c.args)
			if c.control == "" && ctl == "EPERM" || c.control != "" && ctl != c.control {
				t.Fatalf("control run: got %s, want %s: the test proves nothing here", ctl, or(c.control, "anything but EPERM"))
			}
			got := answer(attack(t, seccompOnly, c.args...), c.args)
			if got != c.want {
				t.Fatalf("confined: got %s, want %s (control: %s)", got, c.want, ctl)
			}
			t.Logf("control %s, confined %s", ctl, got)
		})
	}
}

// answer strips the syscall number the raw mode prints before its answer.
func answer(out string, args []string) string {
	if args[0] == "raw" {
		_, out, _ = strings.Cut(out, " ")
	}
	return out
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestSeccompUnshareUserNamespace: an unprivileged workload cannot create
// a user namespace, the usual first step of a kernel exploit from a
// container (it yields every capability inside the new namespace).
// busybox is single-threaded, as unshare(CLONE_NEWUSER) requires.
func TestSeccompUnshareUserNamespace(t *testing.T) {
	roottest.Require(t)
	uid, gid := ids(65534, 65534)
	run := func(s Spec) result {
		s.UID, s.GID = uid, gid
		return child{specs: []Spec{s}, argv: []string{"/bin/busybox", "unshare", "-U", "/bin/busybox", "true"}}.run(t)
	}
	ctl := run(Spec{NoNewPrivs: true})
	if !ctl.status.Exited() || ctl.status.ExitStatus() != 0 {
		t.Fatalf("control: uid 65534 cannot unshare a user namespace even unconfined (%v, %s): the test proves nothing here", ctl.status, ctl.stderr)
	}
	got := run(Default())
	if got.status.ExitStatus() == 0 || !strings.Contains(got.stderr, "Operation not permitted") {
		t.Fatalf("confined: unshare -U: %v, stderr %q; want EPERM", got.status, got.stderr)
	}
	t.Logf("confined: %s", strings.TrimSpace(got.stderr))
}

// deniedCall gives safe arguments for a swept call, in case the filter
// failed to stop it: pointers that fault, flags that are invalid.
var deniedCallArgs = map[string]string{
	"acct":            ":1",                  // bad pointer: never "switch accounting off"
	"kexec_load":      ":0:0:0:0xdead0000",   // invalid flags
	"kexec_file_load": ":0:0:0:0:0xdead0000", // invalid flags
	"reboot":          ":0:0:0:0",            // wrong magic
	"settimeofday":    ":1:1",                // bad pointers
	"clock_settime":   ":0:1",
	"clock_adjtime":   ":0:1",
	"adjtimex":        ":1",
	"swapoff":         ":1",
	"iopl":            ":0",
}

// TestSeccompDenyListSweep makes every call the default profile denies,
// from one confined process, and checks each is answered as the profile
// says, never run.
func TestSeccompDenyListSweep(t *testing.T) {
	roottest.Require(t)
	p := DefaultSeccomp()
	a := nativeArch()
	want := map[string]string{}
	var calls []string
	for _, r := range p.Rules {
		if r.If != nil {
			continue // clone, unshare: by argument, in TestSeccompStopsEscapes
		}
		for _, name := range r.Syscalls {
			n, ok := a.sysnum[name]
			if !ok {
				continue
			}
			num := strconv.Itoa(int(n))
			want[num] = r.Action.String() + " (" + name + ")"
			calls = append(calls, num+or(deniedCallArgs[name], ":1:1:1:1:1:1"))
		}
	}
	out := attack(t, seccompOnly, append([]string{"raw"}, calls...)...)
	lines := strings.Split(out, "\n")
	if len(lines) != len(calls) {
		t.Fatalf("%d answers for %d calls:\n%s", len(lines), len(calls), out)
	}
	for _, line := range lines {
		num, got, _ := strings.Cut(line, " ")
		w, _, _ := strings.Cut(want[num], " ")
		if got != w {
			t.Errorf("syscall %s %s: got %s", num, want[num], got)
		}
	}
	t.Logf("%d denied calls answered as the profile says", len(calls))
}

// TestOrdinaryProgramsRun: the full default confinement leaves ordinary
// programs working: a shell, ls, Go threads and child processes.
func TestOrdinaryProgramsRun(t *testing.T) {
	roottest.Require(t)
	uid, gid := ids(65534, 65534)
	asNobody := Default()
	asNobody.UID, asNobody.GID = uid, gid
	for name, specs := range map[string][]Spec{"root": hardened, "nobody": {asNobody}} {
		t.Run(name, func(t *testing.T) {
			out := child{specs: specs, argv: []string{"/bin/busybox", "sh", "-c", "echo ok; ls /"}}.output(t)
			if !strings.HasPrefix(out, "ok\n") || !strings.Contains(out, "tmp") {
				t.Fatalf("busybox sh: %q", out)
			}
			if got := attack(t, specs, "threads"); got != "ok" {
				t.Fatalf("threads and a child process: %s", got)
			}
		})
	}
}

// TestSeccompReachesEveryThread: Apply runs on one thread of a
// multi-threaded Go process; the filter (TSYNC), no_new_privs (copied by
// TSYNC) and the uid (set on all threads) must reach every thread, so
// that no thread stays unconfined if exec fails.
func TestSeccompReachesEveryThread(t *testing.T) {
	roottest.Require(t)
	s := Default()
	s.UID, s.GID = ids(65534, 65534)
	out := child{specs: []Spec{s}, argv: []string{"-threads"}}.output(t)
	threads := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		tid, kv, _ := strings.Cut(line, ":")
		threads[tid] = true
		k, v, _ := strings.Cut(kv, ":")
		v = strings.Join(strings.Fields(v), " ")
		want := map[string]string{"Uid": "65534 65534 65534 65534", "NoNewPrivs": "1", "Seccomp": "2"}[k]
		if v != want {
			t.Errorf("thread %s: %s %q, want %q", tid, k, v, want)
		}
	}
	if len(threads) < 2 {
		t.Fatalf("only %d thread: nothing to synchronise\n%s", len(threads), out)
	}
	t.Logf("%d threads confined", len(threads))
}

// TestDefaultCapabilities: the default set is exactly what /proc shows in
// every set, and root without CAP_SYS_ADMIN cannot set the hostname.
func TestDefaultCapabilities(t *testing.T) {
	roottest.Require(t)
	st := procStatus(t, attack(t, hardened, "status"))
	def := capSetOf(defaultCaps...).String()
	for k, want := range map[string]string{
		"CapBnd": def, "CapEff": def, "CapPrm": def,
		"CapInh": "0000000000000000", "CapAmb": "0000000000000000",
		"NoNewPrivs": "1", "Seccomp": "2", "Uid": "0 0 0 0",
	} {
		if st[k] != want {
			t.Errorf("%s = %q, want %q", k, st[k], want)
		}
	}
	if got := attack(t, unconfined, "sethostname", "escaped"); got != "ok" {
		t.Fatalf("control: sethostname: %s", got)
	}
	if got := attack(t, hardened, "sethostname", "escaped"); got != "EPERM" {
		t.Fatalf("sethostname without CAP_SYS_ADMIN: got %s, want EPERM", got)
	}
}

// TestMknodBlockDevice: the disk under / as a device node, made by
// container root in a directory without nodev. With CAP_MKNOD the node is
// made, and opens and reads the host's disk wherever the host lets root
// open its disk at all (some VMs refuse even that): which is why the
// default drops CAP_MKNOD. Without it, mknod fails.
func TestMknodBlockDevice(t *testing.T) {
	roottest.Require(t)
	dir := openDir(t)
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err != nil {
		t.Fatal(err)
	}
	major, minor := unix.Major(st.Dev), unix.Minor(st.Dev)
	if major == 0 {
		major, minor = 7, 0 // / is not on a block device: a loop device number
	}
	node := filepath.Join(dir, "disk")
	args := []string{"mknod", node, strconv.Itoa(int(major)), strconv.Itoa(int(minor))}

	withMknod := Default()
	withMknod.Capabilities = append(DefaultCapabilities(), "CAP_MKNOD")
	ctl := attack(t, []Spec{withMknod}, args...)
	if strings.HasPrefix(ctl, "mknod ") {
		t.Fatalf("control with CAP_MKNOD: %s", ctl)
	}
	t.Logf("control with CAP_MKNOD, device %d:%d: node made; %s", major, minor, ctl)

	if got := attack(t, hardened, args...); got != "mknod EPERM" {
		t.Fatalf("default set: got %q, want mknod EPERM", got)
	}
}

// setuidCopy copies the helper into a fresh directory as a setuid-root
// binary.
func setuidCopy(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(attackPath(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(openDir(t), "suid-attack")
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 0, 0); err != nil {
		t.Fatal(err)
	}
	// chmod after chown: chown clears the setuid bit.
	if err := os.Chmod(path, 0o4755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSetuidRoot: a uid-65534 workload runs a setuid-root binary. Without
// no_new_privs it becomes euid 0, but the bounding set still caps what it
// gets: no CAP_SYS_ADMIN, so no sethostname. With no_new_privs the
// setuid bit is ignored altogether.
func TestSetuidRoot(t *testing.T) {
	roottest.Require(t)
	suid := setuidCopy(t)
	uid, gid := ids(65534, 65534)
	def := capSetOf(defaultCaps...).String()

	noNNP := Spec{UID: uid, GID: gid}
	st := procStatus(t, child{specs: []Spec{noNNP}, argv: []string{suid, "status"}}.output(t))
	if st["Uid"] != "65534 0 0 0" || st["CapEff"] != def || st["CapBnd"] != def {
		t.Fatalf("without no_new_privs: Uid %q CapEff %q CapBnd %q; want euid 0 with only the default set %s", st["Uid"], st["CapEff"], st["CapBnd"], def)
	}
	if got := (child{specs: []Spec{noNNP}, argv: []string{suid, "sethostname", "escaped"}}).output(t); got != "EPERM" {
		t.Fatalf("setuid root without CAP_SYS_ADMIN in the bounding set: sethostname %s, want EPERM", got)
	}

	withNNP := Spec{UID: uid, GID: gid, NoNewPrivs: true}
	st = procStatus(t, child{specs: []Spec{withNNP}, argv: []string{suid, "status"}}.output(t))
	if st["Uid"] != "65534 65534 65534 65534" || st["CapEff"] != "0000000000000000" || st["CapPrm"] != "0000000000000000" || st["NoNewPrivs"] != "1" {
		t.Fatalf("with no_new_privs: Uid %q CapEff %q CapPrm %q NoNewPrivs %q; want the setuid bit ignored", st["Uid"], st["CapEff"], st["CapPrm"], st["NoNewPrivs"])
	}
}

// TestIdentity: the caller's supplementary groups never reach the
// workload. The child starts with group 4242, which may read a file;
// after Apply with no groups, the workload cannot, nor a root-only file.
func TestIdentity(t *testing.T) {
	roottest.Require(t)
	dir := openDir(t)
	secret := filepath.Join(dir, "root-only")
	groupFile := filepath.Join(dir, "group-4242")
	if err := os.WriteFile(secret, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(groupFile, []byte("x"), 0o040); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(groupFile, 0, 4242); err != nil {
		t.Fatal(err)
	}
	uid, gid := ids(65534, 65534)
	inherited := []uint32{4242, 27}

	keepGroup := Spec{UID: uid, GID: gid, Groups: []uint32{4242}}
	if got := (child{specs: []Spec{keepGroup}, groups: inherited, argv: []string{attackPath(t), "read", groupFile}}).output(t); got != "ok" {
		t.Fatalf("control: group 4242 cannot read %s: %s", groupFile, got)
	}

	s := Spec{UID: uid, GID: gid}
	st := procStatus(t, child{specs: []Spec{s}, groups: inherited, argv: []string{attackPath(t), "status"}}.output(t))
	for k, want := range map[string]string{"Uid": "65534 65534 65534 65534", "Gid": "65534 65534 65534 65534", "Groups": "", "CapEff": "0000000000000000"} {
		if st[k] != want {
			t.Errorf("%s = %q, want %q", k, st[k], want)
		}
	}
	for _, f := range []string{groupFile, secret} {
		if got := (child{specs: []Spec{s}, groups: inherited, argv: []string{attackPath(t), "read", f}}).output(t); got != "EACCES" {
			t.Errorf("read %s: got %s, want EACCES", f, got)
		}
	}
}

// TestLimits: rlimits, oom_score_adj and umask reach the exec'd program.
// nofile is the one the Go runtime would restore at exec if Apply
// used plain setrlimit.
func TestLimits(t *testing.T) {
	roottest.Require(t)
	s := Default()
	s.UID, s.GID = ids(65534, 65534)
	s.Rlimits = map[string]Rlimit{"nofile": {Soft: 123, Hard: 456}, "core": {Soft: 0, Hard: 0}}
	s.OOMScoreAdj = ptr(500)
	s.Umask = ptr(uint32(0o027))
	out := child{specs: []Spec{s}, argv: []string{"/bin/busybox", "sh", "-c", "ulimit -Sn; ulimit -Hn; ulimit -Hc; umask"}}.output(t)
	if want := "123\n456\n0\n0027"; out != want {
		t.Errorf("ulimit -Sn, -Hn, -Hc; umask: got %q, want %q", out, want)
	}
	if got := attack(t, []Spec{s}, "oom"); got != "500" {
		t.Errorf("oom_score_adj: got %s, want 500", got)
	}
}

// TestNestedApply is the miniinit case: a workload's Spec applied inside
// a process the container-wide Spec already confined. Capabilities
// already dropped are skipped, and a second filter stacks on the first.
func TestNestedApply(t *testing.T) {
	roottest.Require(t)
	uid, gid := ids(1000, 1000)
	workload := Spec{UID: uid, GID: gid, Groups: []uint32{1000}, NoNewPrivs: true,
		Capabilities: []string{"CAP_NET_BIND_SERVICE"}, Seccomp: DefaultSeccomp()}
	st := procStatus(t, attack(t, []Spec{Default(), workload}, "status"))
	for k, want := range map[string]string{"Uid": "1000 1000 1000 1000", "Groups": "1000",
		"CapBnd": capSetOf(unix.CAP_NET_BIND_SERVICE).String(), "CapEff": "0000000000000000", "Seccomp": "2"} {
		if st[k] != want {
			t.Errorf("%s = %q, want %q", k, st[k], want)
		}
	}

	// Without no_new_privs and without CAP_SYS_ADMIN, the kernel refuses
	// a filter: Apply must say why.
	noNNP := Spec{Seccomp: DefaultSeccomp()}
	res := child{specs: []Spec{{Capabilities: []string{}}, noNNP}, argv: []string{attackPath(t), "status"}}.runRaw(t)
	if !res.status.Exited() || res.status.ExitStatus() != exitApply || !strings.Contains(res.stderr, "EACCES") || !strings.Contains(res.stderr, "CAP_SYS_ADMIN") {
		t.Fatalf("status %v, stderr %q; want Apply to fail with EACCES naming CAP_SYS_ADMIN", res.status, res.stderr)
	}
}

// TestApplyRejectsInvalidSpec: an invalid Spec changes nothing, so it is
// safe to try in the test process itself.
func TestApplyRejectsInvalidSpec(t *testing.T) {
	for _, s := range []Spec{
		{Capabilities: []string{"CAP_NOPE"}},
		{Rlimits: map[string]Rlimit{"nofile": {Soft: 2, Hard: 1}}},
		{Seccomp: &SeccompProfile{Name: "bad", Rules: []SeccompRule{{Syscalls: []string{"nope"}, Action: ActAllow}}}},
	} {
		if err := Apply(s); err == nil || !strings.HasPrefix(err.Error(), "confine: ") {
			t.Errorf("Apply(%+v) = %v, want a confine: error", s, err)
		}
	}
}
