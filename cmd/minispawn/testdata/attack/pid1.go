package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// probe is a variable whose address is the same in every process running
// this (static, non-PIE) program: process_vm_readv and /proc/PID/mem read
// it from a sibling.
var probe = [8]byte{'p', 'r', 'o', 'b', 'e'}

// pidAccess tries, on the process arg names ("1", or "child": a copy of
// this program it starts itself, the unprotected control), each way to
// take or read another process's descriptors or memory. The report lists
// each call's outcome; any success is an escape.
func pidAccess(arg string) error {
	pid := 1
	if arg == "child" {
		c := exec.Command("/proc/self/exe", "idle")
		if err := c.Start(); err != nil {
			return err
		}
		defer func() { c.Process.Kill(); c.Wait() }()
		pid = c.Process.Pid
		time.Sleep(200 * time.Millisecond) // let it exec
	}
	addr := uintptr(unsafe.Pointer(&probe[0]))
	calls := []struct {
		name string
		try  func() error
	}{
		{"pidfd_getfd", func() error {
			pfd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				return err
			}
			defer unix.Close(pfd)
			fd, err := unix.PidfdGetfd(pfd, 0, 0)
			if err == nil {
				unix.Close(fd)
			}
			return err
		}},
		{"kcmp", func() error {
			_, _, e := unix.Syscall6(unix.SYS_KCMP, uintptr(os.Getpid()), uintptr(pid), 0 /* KCMP_FILE */, 0, 0, 0)
			if e != 0 {
				return e
			}
			return nil
		}},
		{"process_vm_readv", func() error {
			buf := make([]byte, len(probe))
			_, err := unix.ProcessVMReadv(pid,
				[]unix.Iovec{{Base: &buf[0], Len: uint64(len(buf))}},
				[]unix.RemoteIovec{{Base: addr, Len: len(buf)}}, 0)
			return err
		}},
		{"proc_mem", func() error {
			f, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
			if err != nil {
				return unwrap(err)
			}
			defer f.Close()
			_, err = f.ReadAt(make([]byte, len(probe)), int64(addr))
			return unwrap(err)
		}},
		{"proc_environ", func() error {
			f, err := os.Open(fmt.Sprintf("/proc/%d/environ", pid))
			if err != nil {
				return unwrap(err)
			}
			defer f.Close()
			_, err = f.Read(make([]byte, 1))
			return unwrap(err)
		}},
		{"ptrace", func() error {
			if err := unix.PtraceAttach(pid); err != nil {
				return err
			}
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, unix.WALL, nil)
			return unix.PtraceDetach(pid)
		}},
	}
	var got []string
	escaped := false
	for _, c := range calls {
		err := c.try()
		if err == nil {
			escaped = true
			got = append(got, c.name+"=ok")
			continue
		}
		var en unix.Errno
		if e, ok := err.(unix.Errno); ok {
			en = e
			got = append(got, c.name+"="+unix.ErrnoName(en))
		} else {
			got = append(got, c.name+"="+strings.ReplaceAll(err.Error(), " ", "_"))
		}
	}
	if escaped {
		fmt.Println("ESCAPED pid " + strconv.Itoa(pid) + ": " + strings.Join(got, " "))
		os.Exit(0)
	}
	return fmt.Errorf("%w: pid %d: %s", errContained, pid, strings.Join(got, " "))
}

// unwrap returns the errno under an os error, for the report.
func unwrap(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
