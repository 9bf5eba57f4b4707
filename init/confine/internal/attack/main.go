// Command attack is the workload of package confine's tests: it attempts,
// from inside a confined process, the escapes confinement must stop, and
// prints one line per attempt: "ok" or the errno name ("EPERM"). A call
// that a seccomp filter answers by killing the process prints nothing:
// the test sees the SIGSYS.
//
//	status                  print Uid, Gid, Groups, Cap*, NoNewPrivs,
//	                        Seccomp and Umask from /proc/self/status
//	raw NR[:A0[:A1...]]...  make each raw system call, arguments numeric
//	int80 NR [A1 A2 A3]     make an i386 system call through int 0x80
//	mount DIR               mount a tmpfs on DIR (and unmount it)
//	ptrace PID              PTRACE_ATTACH to PID
//	setns                   join its own network namespace by fd
//	clone-newuser           start /bin/true in a new user namespace
//	sethostname NAME        set the hostname
//	mknod PATH MAJOR MINOR  create a block device node, open and read it
//	read FILE               read FILE
//	threads                 start locked threads and a child process
//	oom                     print /proc/self/oom_score_adj
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: attack MODE ARGS...")
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "status":
		status()
	case "raw":
		for _, call := range args {
			raw(call)
		}
	case "int80":
		if len(args) < 1 {
			fail("int80 NR [A1 A2 A3]")
		}
		var a [4]uintptr
		for i := range args {
			a[i] = num(args[i])
		}
		r := int32(int80(a[0], a[1], a[2], a[3]))
		if r < 0 && r > -4096 {
			report(unix.Errno(-r))
		} else {
			report(nil)
		}
	case "mount":
		err := unix.Mount("tmpfs", arg(args, 0), "tmpfs", 0, "size=4k")
		if err == nil {
			unix.Unmount(arg(args, 0), unix.MNT_DETACH)
		}
		report(err)
	case "ptrace":
		report(unix.PtraceAttach(int(num(arg(args, 0)))))
	case "setns":
		fd, err := unix.Open("/proc/self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			fail("open /proc/self/ns/net: %v", err)
		}
		report(unix.Setns(fd, unix.CLONE_NEWNET))
	case "clone-newuser":
		cmd := exec.Command("/bin/true")
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER}
		report(cmd.Run())
	case "sethostname":
		report(unix.Sethostname([]byte(arg(args, 0))))
	case "mknod":
		mknod(arg(args, 0), uint32(num(arg(args, 1))), uint32(num(arg(args, 2))))
	case "read":
		_, err := os.ReadFile(arg(args, 0))
		report(err)
	case "threads":
		threads()
	case "oom":
		b, err := os.ReadFile("/proc/self/oom_score_adj")
		if err != nil {
			fail("%v", err)
		}
		fmt.Print(string(b))
	default:
		fail("unknown mode %q", os.Args[1])
	}
}

// report prints "ok" or the errno name of err.
func report(err error) {
	if err == nil {
		fmt.Println("ok")
		return
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		fmt.Println(unix.ErrnoName(errno))
		return
	}
	fmt.Println("error:", err)
}

func raw(call string) {
	parts := strings.Split(call, ":")
	var a [7]uintptr
	for i, p := range parts {
		a[i] = num(p)
	}
	_, _, errno := unix.Syscall6(a[0], a[1], a[2], a[3], a[4], a[5], a[6])
	fmt.Printf("%s ", parts[0])
	if errno != 0 {
		report(errno)
	} else {
		report(nil)
	}
}

func status() {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fail("%v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		key, _, _ := strings.Cut(line, ":")
		switch key {
		case "Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Umask":
			fmt.Println(line)
		}
	}
}

func mknod(path string, major, minor uint32) {
	if err := unix.Mknod(path, unix.S_IFBLK|0o600, int(unix.Mkdev(major, minor))); err != nil {
		fmt.Print("mknod ")
		report(err)
		return
	}
	defer os.Remove(path)
	f, err := os.Open(path)
	if err != nil {
		fmt.Print("open ")
		report(err)
		return
	}
	defer f.Close()
	buf := make([]byte, 512)
	n, err := f.Read(buf)
	if err != nil {
		fmt.Print("read ")
		report(err)
		return
	}
	fmt.Printf("read %d bytes of the device\n", n)
}

// threads checks that ordinary Go work still runs: OS threads (clone
// with CLONE_THREAD) and a child process (clone, then execve).
func threads() {
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // forces new OS threads
			defer runtime.UnlockOSThread()
		}()
	}
	wg.Wait()
	report(exec.Command("/bin/true").Run())
}

func num(s string) uintptr {
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		fail("bad number %q", s)
	}
	return uintptr(v)
}

func arg(args []string, i int) string {
	if i >= len(args) {
		fail("missing argument %d", i+1)
	}
	return args[i]
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "attack: "+format+"\n", a...)
	os.Exit(2)
}
