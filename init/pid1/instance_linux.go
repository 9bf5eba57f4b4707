package pid1

import (
	"encoding/binary"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// instanceID names this miniinit among every other on the host: its pid
// (for a reader of ps and the cgroup tree) and 64 random bits. The pid
// alone is not enough: two miniinits that are PID 1 of their own PID
// namespaces both see themselves as 1, yet without a cgroup namespace they
// share the cgroup tree, and in one network namespace (a pod, docker's
// --network container:X) they share the abstract socket names. Whatever
// miniinit names outside its own namespaces carries this id.
func instanceID(pid int) string {
	var b [8]byte
	n := uint64(time.Now().UnixNano()) // only if getrandom(2) is refused (seccomp)
	if _, err := unix.Getrandom(b[:], 0); err == nil {
		n = binary.LittleEndian.Uint64(b[:])
	}
	return fmt.Sprintf("%d.%016x", pid, n)
}
