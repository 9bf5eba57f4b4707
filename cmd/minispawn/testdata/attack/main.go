// Command attack tries one way out of a container and reports how it
// ended: "BLOCKED <errno>" when the kernel refused, "ESCAPED <what>" when
// it worked. The attack tests run it as root inside minispawn.
package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Println("usage: attack NAME [ARG]")
		os.Exit(2)
	}
	arg := ""
	if len(os.Args) > 2 {
		arg = os.Args[2]
	}
	err := attacks[os.Args[1]](arg)
	report(err)
}

func report(err error) {
	var en unix.Errno
	switch {
	case err == nil:
		fmt.Println("ESCAPED")
	case errors.As(err, &en):
		fmt.Println("BLOCKED", unix.ErrnoName(en))
	case errors.Is(err, errContained):
		fmt.Println("BLOCKED", err)
	default:
		fmt.Println("ERROR", err)
	}
}

var errContained = errors.New("contained")

var attacks = map[string]func(string) error{
	// The classic: chroot into a subdirectory without entering it, walk
	// up past the new root, and chroot to where the walk ended. Under
	// chroot alone that is the host's root; after pivot_root with the old
	// root detached it is the container's own root. arg is a path that
	// exists only on the host.
	"chroot-escape": func(hostOnly string) error {
		if err := os.MkdirAll("/escape", 0o700); err != nil {
			return err
		}
		if err := unix.Chroot("/escape"); err != nil {
			return err
		}
		for i := 0; i < 64; i++ {
			if err := unix.Chdir(".."); err != nil {
				return err
			}
		}
		if err := unix.Chroot("."); err != nil {
			return err
		}
		if _, err := os.Stat(hostOnly); err == nil {
			return nil // the host's file is reachable: escaped
		}
		return fmt.Errorf("%w: %s not reachable", errContained, hostOnly)
	},
	// A block device node for the host's first disk (8:0, sda).
	"mknod-disk": func(string) error {
		return unix.Mknod("/disk", unix.S_IFBLK|0o600, int(unix.Mkdev(8, 0)))
	},
	"mount-tmpfs": func(string) error {
		os.MkdirAll("/mnt-attack", 0o755)
		return unix.Mount("tmpfs", "/mnt-attack", "tmpfs", 0, "")
	},
	// Read a descriptor number the caller had open.
	"read-fd": func(fd string) error {
		n, _ := strconv.Atoi(fd)
		buf := make([]byte, 64)
		_, err := unix.Read(n, buf)
		return err
	},
	"ptrace": func(pid string) error {
		n, _ := strconv.Atoi(pid)
		return unix.PtraceAttach(n)
	},
	// Load a kernel module (an empty image: the permission check comes
	// first).
	"load-module": func(string) error {
		return unix.InitModule([]byte{0}, "")
	},
	// Push input into the caller's terminal through whichever of the
	// standard descriptors is one.
	"tiocsti": func(string) error {
		var last error = unix.ENOTTY
		for fd := 0; fd <= 2; fd++ {
			b := byte('!')
			_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TIOCSTI, uintptr(unsafePointer(&b)))
			if errno == 0 {
				return nil
			}
			if errno != unix.ENOTTY {
				last = errno
			}
		}
		return last
	},
	// List network interfaces; anything but lo means host devices show.
	"net-devices": func(string) error {
		ents, err := os.ReadDir("/sys/class/net")
		if err != nil {
			return err
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if len(names) == 1 && names[0] == "lo" {
			return fmt.Errorf("%w: only lo", errContained)
		}
		fmt.Println("devices:", strings.Join(names, " "))
		return nil
	},
	// A raw IPv4 socket, the one ping uses without ping_group_range: it
	// forges any packet on the container's network.
	"raw-socket": func(string) error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
		if err == nil {
			unix.Close(fd)
		}
		return err
	},
	// A user record sent to the kernel's audit netlink socket (it lands
	// in the host's audit log where auditing is on). The socket opens
	// for anyone; the kernel checks CAP_AUDIT_WRITE on the message and
	// answers in its acknowledgement.
	"audit-write": auditWrite,
	"chmod-chown": chmodChown,
	"check-masks": checkMasks,
	"pid-access":  pidAccess,
	// A process that waits to be killed: pid-access's control target.
	"idle": func(string) error {
		time.Sleep(time.Hour)
		return nil
	},
	// Open the binary PID 1 runs (miniinit) for writing, through /proc.
	"write-init-binary": func(string) error {
		f, err := os.OpenFile("/proc/1/exe", os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.Write([]byte("overwritten"))
		return err
	},
}
