// Command testhelper is the workload of package pid1's tests: one static
// binary with a mode per behaviour a test needs to observe from inside.
//
//	record FILE READY [group]  append each signal received (its number) to
//	                           FILE; with group, also start a child in the same
//	                           process group recording to FILE.child
//	orphans N                  make N orphans by double fork, then wait for
//	                           the reaper to leave no zombie child; exit 0 if
//	                           it did, 1 if not
//	daemon DIR [ignore-term]   start a detached sleeper and exit 3 (see sleeper)
//	sleeper DIR [ignore-term]  write DIR/sleeper.pid; on SIGTERM write
//	                           DIR/terminated and exit 0 (or ignore SIGTERM)
//	fds                        print, as JSON, the fds it inherited, its
//	                           LISTEN_* variables and its parent's descriptors
//	tty FILE                   write, as JSON, its pgrp and the terminal's
//	                           foreground pgrp
//	pwd                        print the working directory
//	mark FILE [EXIT]           append "start PID" to FILE; exit EXIT at once
//	                           when given, else wait for SIGTERM, append
//	                           "term PID" and exit 0
//	notify [STATUS]            send STATUS= (if given) and READY=1 to
//	                           $NOTIFY_SOCKET, then wait for SIGTERM
//	impostor FILE              wait for FILE ("PID ADDR": a victim's pid and
//	                           notify socket), join process group PID, send
//	                           READY=1 to ADDR, write FILE.sent (its pid),
//	                           then wait for SIGTERM
//	readyfd FD                 write a line on descriptor FD, then wait
//	                           for SIGTERM
//	serve ADDR                 answer HTTP/1.0 200 on TCP ADDR until SIGTERM
//	escape DIR                 start a sleeper (see sleeper) in a session of
//	                           its own by double fork, then wait for SIGTERM
//	spew N                     write N numbered lines to stdout, then exit 0
//	lines NAME N               write N lines of 32 to 20,031 bytes to stdout,
//	                           through a 64 KiB buffer (so writes end
//	                           mid-line): see LongLine
//	ids FILE                   write its uid, gid, groups, umask, nofile
//	                           limits, no_new_privs and bounding set to FILE
//	hog MIB FILE               ignore SIGTERM, fill MIB MiB of memory (so
//	                           that its exit takes a while), write FILE,
//	                           then sleep
//	subreaper PROG ARGS        become a child subreaper, then execute PROG
//	                           with ARGS (argv[0] included)
//	sigconf IGN BLK PROG ARGS  execute PROG with ARGS (argv[0] included)
//	                           with exactly the signals IGN ignored and BLK
//	                           blocked (comma-separated numbers), as tini's
//	                           sigconf test starts tini
//
// Test files are written whole and renamed into place, so a test polling
// for them never reads half of one.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/roottest"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: testhelper MODE ARGS...")
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "record":
		record(args)
	case "sigconf":
		sigconf(args)
	case "subreaper":
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			fail("prctl: %v", err)
		}
		err := unix.Exec(arg(args, 0), args[1:], os.Environ())
		fail("exec: %v", err)
	case "orphans":
		n, err := strconv.Atoi(arg(args, 0))
		if err != nil {
			fail("orphans: %v", err)
		}
		orphans(n)
	case "daemon":
		daemon(args)
	case "sleeper":
		sleeper(args)
	case "fds":
		fds()
	case "tty":
		tty(arg(args, 0))
	case "mark":
		mark(args)
	case "notify":
		notify(args)
	case "impostor":
		impostor(arg(args, 0))
	case "readyfd":
		fd, err := strconv.Atoi(arg(args, 0))
		if err != nil {
			fail("readyfd: %v", err)
		}
		if _, err := unix.Write(fd, []byte("ready\n")); err != nil {
			fail("readyfd: write %d: %v", fd, err)
		}
		unix.Close(fd)
		untilTerm()
	case "serve":
		serve(arg(args, 0))
	case "escape":
		escape(arg(args, 0))
	case "spew":
		n, err := strconv.Atoi(arg(args, 0))
		if err != nil {
			fail("spew: %v", err)
		}
		w := bufio.NewWriterSize(os.Stdout, 64<<10)
		for i := range n {
			fmt.Fprintf(w, "line %d\n", i)
		}
		w.Flush()
	case "lines":
		n, err := strconv.Atoi(arg(args, 1))
		if err != nil {
			fail("lines: %v", err)
		}
		w := bufio.NewWriterSize(os.Stdout, 64<<10)
		for i := range n {
			w.WriteString(LongLine(arg(args, 0), i))
		}
		w.Flush()
	case "ids":
		ids(arg(args, 0))
	case "hog":
		hog(args)
	case "pwd":
		wd, err := os.Getwd()
		if err != nil {
			fail("pwd: %v", err)
		}
		fmt.Println(wd)
	default:
		fail("unknown mode %q", os.Args[1])
	}
}

func arg(args []string, i int) string {
	if i >= len(args) {
		fail("missing argument %d", i+1)
	}
	return args[i]
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "testhelper: "+format+"\n", a...)
	os.Exit(100)
}

// writeFile writes data to path atomically.
func writeFile(path, data string) {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		fail("%v", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		fail("%v", err)
	}
}

func waitFile(path string) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	fail("timed out waiting for %s", path)
}

// record catches every signal that can be caught but the C library's and
// appends its number to a file. Run it with GODEBUG=asyncpreemptoff=1, so
// that a SIGURG it records came from outside, not from its own runtime.
func record(args []string) {
	file, ready := arg(args, 0), arg(args, 1)
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fail("%v", err)
	}
	c := make(chan os.Signal, 256)
	for s := 1; s <= 64; s++ {
		switch syscall.Signal(s) {
		case syscall.SIGKILL, syscall.SIGSTOP, 32, 33:
			continue
		}
		signal.Notify(c, syscall.Signal(s))
	}
	if len(args) > 2 && args[2] == "group" {
		// Same process group: no Setpgid.
		child := exec.Command(os.Args[0], "record", file+".child", ready+".child")
		if err := child.Start(); err != nil {
			fail("%v", err)
		}
		waitFile(ready + ".child")
	}
	writeFile(ready, strconv.Itoa(os.Getpid()))
	for s := range c {
		if _, err := fmt.Fprintf(f, "%d\n", s.(syscall.Signal)); err != nil {
			fail("%v", err)
		}
	}
}

// sigconf executes args[2] (argv args[3:]) with the signals listed in
// args[0] ignored and those in args[1] blocked, and no others.
func sigconf(args []string) {
	if len(args) < 3 {
		fail("usage: sigconf IGN BLK PROG ARGV0 ARGS...")
	}
	list := func(s string) []unix.Signal {
		var out []unix.Signal
		for _, f := range strings.Split(s, ",") {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, unix.Signal(n))
			}
		}
		return out
	}
	err := roottest.ExecWithSignals(list(args[0]), list(args[1]), args[2], args[3:], os.Environ())
	fail("exec %s: %v", args[2], err)
}

// orphans makes n orphans: each is forked by a child that exits at once,
// so the orphan, which exits at once too, goes to the reaper (miniinit)
// either as a zombie or shortly before becoming one.
func orphans(n int) {
	runtime.LockOSThread()
	for i := 0; i < n; i++ {
		pid := doubleFork()
		if pid <= 0 {
			fail("clone failed after %d orphans", i)
		}
		var ws syscall.WaitStatus
		if _, err := syscall.Wait4(int(pid), &ws, 0, nil); err != nil {
			fail("wait4 %d: %v", pid, err)
		}
	}
	// Now the reaper must collect every one of them.
	parent := os.Getppid()
	var z int
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if z = zombiesOf(parent); z == 0 {
			fmt.Printf("orphans=%d zombies=0\n", n)
			return
		}
	}
	fmt.Printf("orphans=%d zombies=%d\n", n, z)
	os.Exit(1)
}

// doubleFork forks a child that forks a grandchild; both exit at once.
// Only raw system calls run in the children, as in the syscall package's
// own fork path: a forked copy of a Go program may run nothing else.
//
//go:nosplit
//go:norace
func doubleFork() int {
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 {
		return -1
	}
	if pid == 0 {
		syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
	return int(pid)
}

// zombiesOf counts the zombies whose parent is pid.
func zombiesOf(pid int) int {
	names, _ := filepath.Glob("/proc/[0-9]*/stat")
	n := 0
	for _, p := range names {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(b), ')')
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 1 && f[0] == "Z" && f[1] == strconv.Itoa(pid) {
			n++
		}
	}
	return n
}

// daemon leaves a sleeper behind and exits 3 once the sleeper is ready.
func daemon(args []string) {
	dir := arg(args, 0)
	sargs := append([]string{"sleeper"}, args...)
	cmd := exec.Command(os.Args[0], sargs...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fail("%v", err)
	}
	waitFile(filepath.Join(dir, "sleeper.pid"))
	_ = cmd.Process.Release()
	os.Exit(3)
}

func sleeper(args []string) {
	dir := arg(args, 0)
	c := make(chan os.Signal, 1)
	ignore := len(args) > 1 && args[1] == "ignore-term"
	if ignore {
		signal.Ignore(syscall.SIGTERM)
	} else {
		signal.Notify(c, syscall.SIGTERM)
	}
	writeFile(filepath.Join(dir, "sleeper.pid"), strconv.Itoa(os.Getpid()))
	for ignore {
		time.Sleep(time.Hour) // (select{} would be a deadlock panic here)
	}
	<-c
	// A clean shutdown takes a moment; this one is what tini would cut off.
	time.Sleep(100 * time.Millisecond)
	writeFile(filepath.Join(dir, "terminated"), "SIGTERM handled\n")
}

type fdInfo struct {
	FD      int    `json:"fd"`
	Target  string `json:"target"`
	CloExec bool   `json:"cloexec"`
}

// fds reports what the workload was given, and what its parent holds.
func fds() {
	out := struct {
		Pid       int      `json:"pid"`
		ListenPid string   `json:"listen_pid"`
		ListenFDs string   `json:"listen_fds"`
		FDs       []int    `json:"fds"`
		Parent    []fdInfo `json:"parent_fds"`
	}{Pid: os.Getpid(), ListenPid: os.Getenv("LISTEN_PID"), ListenFDs: os.Getenv("LISTEN_FDS")}
	// What came through execve is exactly what is open without
	// close-on-exec: the Go runtime opens its own descriptors (the poller,
	// the cgroup CPU-quota files) with the flag, before main.
	for fd := 0; fd < 1024; fd++ {
		if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC == 0 {
			out.FDs = append(out.FDs, fd)
		}
	}
	pdir := fmt.Sprintf("/proc/%d/fd", os.Getppid())
	pents, err := os.ReadDir(pdir)
	if err != nil {
		fail("%v", err)
	}
	for _, e := range pents {
		fd, _ := strconv.Atoi(e.Name())
		target, _ := os.Readlink(filepath.Join(pdir, e.Name()))
		info, _ := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%d", os.Getppid(), fd))
		out.Parent = append(out.Parent, fdInfo{FD: fd, Target: target, CloExec: cloexec(string(info))})
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail("%v", err)
	}
}

// cloexec reads the close-on-exec bit from an fdinfo "flags:" line (octal).
func cloexec(fdinfo string) bool {
	for _, line := range strings.Split(fdinfo, "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			return err == nil && n&unix.O_CLOEXEC != 0
		}
	}
	return false
}

func tty(file string) {
	fg, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	if err != nil {
		fg = -1
	}
	b, _ := json.Marshal(map[string]int{"pid": os.Getpid(), "pgrp": unix.Getpgrp(), "fg": fg})
	writeFile(file, string(b))
}

// untilTerm waits for SIGTERM and exits 0.
func untilTerm() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM)
	<-c
	os.Exit(0)
}

// mark appends a line to a file that records starts and stops.
func mark(args []string) {
	file := arg(args, 0)
	// SIGTERM is caught before the start line says the helper is up: a
	// test that stops it as soon as it reads the line must see "term".
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM)
	appendLine(file, fmt.Sprintf("start %d", os.Getpid()))
	if len(args) > 1 {
		code, err := strconv.Atoi(args[1])
		if err != nil {
			fail("mark: %v", err)
		}
		os.Exit(code)
	}
	<-c
	appendLine(file, fmt.Sprintf("term %d", os.Getpid()))
	os.Exit(0)
}

func appendLine(file, line string) {
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fail("%v", err)
	}
	defer f.Close()
	if _, err := f.WriteString(line + "\n"); err != nil {
		fail("%v", err)
	}
}

// notify speaks sd_notify by hand: the helper must not depend on
// go-systemd to prove miniinit understands the protocol.
func notify(args []string) {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		fail("notify: no NOTIFY_SOCKET")
	}
	msg := "READY=1"
	if len(args) > 0 {
		msg = "STATUS=" + args[0] + "\n" + msg
	}
	sendNotify(addr, msg)
	untilTerm()
}

func sendNotify(addr, msg string) {
	if addr[0] == '@' {
		addr = "\x00" + addr[1:]
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		fail("%v", err)
	}
	defer unix.Close(fd)
	if err := unix.Sendto(fd, []byte(msg), 0, &unix.SockaddrUnix{Name: addr}); err != nil {
		fail("notify: %v", err)
	}
}

// impostor is a workload that claims another's readiness: it joins the
// victim's process group (setpgid works within the session, which every
// workload shares with miniinit) and sends READY=1 from there.
func impostor(file string) {
	var b []byte
	for {
		var err error
		if b, err = os.ReadFile(file); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		fail("impostor: %s: %q", file, b)
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil {
		fail("impostor: %v", err)
	}
	if err := unix.Setpgid(0, pid); err != nil {
		fail("impostor: setpgid %d: %v", pid, err)
	}
	sendNotify(f[1], "READY=1")
	writeFile(file+".sent", strconv.Itoa(os.Getpid()))
	untilTerm()
}

// serve answers any HTTP request with 200 until SIGTERM.
func serve(addr string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fail("%v", err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				c.Write([]byte("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"))
			}()
		}
	}()
	untilTerm()
}

// escape leaves a sleeper outside its process group and session, by the
// daemon's double fork: the sleeper's parent is gone, so it is adopted by
// the subreaper, and nothing but a cgroup still ties it to this workload.
func escape(dir string) {
	cmd := exec.Command(os.Args[0], "daemon", dir)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
			fail("escape: %v", err)
		}
	}
	untilTerm()
}

// ids writes what the process runs as, from /proc/self/status and the
// system calls that tell, one "key value" a line.
func ids(file string) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fail("%v", err)
	}
	field := func(name string) string {
		for _, l := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(l, name+":"); ok {
				return strings.Join(strings.Fields(v), " ")
			}
		}
		return ""
	}
	var rl unix.Rlimit
	_ = unix.Getrlimit(unix.RLIMIT_NOFILE, &rl)
	mask := unix.Umask(0)
	out := fmt.Sprintf("uid %s\ngid %s\ngroups %s\numask %04o\nnofile %d:%d\nnonewprivs %s\ncapbnd %s\nhome %s\n",
		field("Uid"), field("Gid"), field("Groups"), mask, rl.Cur, rl.Max, field("NoNewPrivs"), field("CapBnd"), os.Getenv("HOME"))
	writeFile(file, out)
}

// LongLine is line i of the lines mode: "NAME i SIZE " and then one
// letter repeated, SIZE bytes in all with its newline (1 to about 20,000,
// varying with i), so that a reader can check each line is whole.
func LongLine(name string, i int) string {
	size := 32 + (i*7919+len(name)*104729)%20000
	head := name + " " + strconv.Itoa(i) + " " + strconv.Itoa(size) + " "
	return head + strings.Repeat(string(rune('a'+i%26)), size-len(head)-1) + "\n"
}

// hog holds memory the kernel must free when it dies, which makes its
// exit last long enough to be seen: SIGKILLed, not yet gone.
func hog(args []string) {
	mib, err := strconv.Atoi(arg(args, 0))
	if err != nil {
		fail("hog: %v", err)
	}
	signal.Ignore(syscall.SIGTERM)
	if _, err := unix.Mmap(-1, 0, mib<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE); err != nil {
		fail("hog: mmap: %v", err)
	}
	writeFile(arg(args, 1), strconv.Itoa(os.Getpid()))
	for {
		time.Sleep(time.Hour)
	}
}
