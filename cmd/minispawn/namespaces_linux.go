package main

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// namespace is one kind of Linux namespace minispawn can create.
type namespace struct {
	name string
	flag uintptr
}

// namespaces lists every namespace minispawn knows, in the order the plan
// prints them. The cgroup namespace is not a clone flag of the first
// child: it is unshared by the second stage once the parent has put it in
// the container's cgroup, so that the namespace's root is that cgroup.
var namespaces = []namespace{
	{"pid", unix.CLONE_NEWPID},
	{"mount", unix.CLONE_NEWNS},
	{"uts", unix.CLONE_NEWUTS},
	{"ipc", unix.CLONE_NEWIPC},
	{"net", unix.CLONE_NEWNET},
	{"cgroup", unix.CLONE_NEWCGROUP},
	{"user", unix.CLONE_NEWUSER},
}

// nsFlags turns namespace names into CLONE_NEW* flags.
func nsFlags(names []string) (uintptr, error) {
	var flags uintptr
next:
	for _, n := range names {
		for _, ns := range namespaces {
			if ns.name == n {
				flags |= ns.flag
				continue next
			}
		}
		return 0, fmt.Errorf("unknown namespace %q", n)
	}
	return flags, nil
}

// nsNames is the inverse of nsFlags.
func nsNames(flags uintptr) []string {
	var out []string
	for _, ns := range namespaces {
		if flags&ns.flag != 0 {
			out = append(out, ns.name)
			flags &^= ns.flag
		}
	}
	if flags != 0 {
		out = append(out, fmt.Sprintf("0x%x", flags))
	}
	return out
}

func nsString(flags uintptr) string { return strings.Join(nsNames(flags), " ") }
