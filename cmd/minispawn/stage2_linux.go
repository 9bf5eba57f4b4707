package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/init/confine"
	"github.com/minispawn/minispawn/mounts"
)

// stage2Arg0 marks the second stage: minispawn re-executed as PID 1 of
// the new namespaces. argv[0] rather than the environment, so nothing of
// the mechanism leaks into the container's environment.
const stage2Arg0 = "minispawn:stage2"

func isStage2() bool { return len(os.Args) > 0 && os.Args[0] == stage2Arg0 }

// The second stage stays on the main thread from start to exec: locked
// during package initialisation, main runs there (runtime.LockOSThread).
// The kernel keeps the parent-death signal per thread, and an execve from
// another thread makes that thread the process's only one, without the
// signal: a container whose minispawn was SIGKILLed then lived on.
func init() {
	if isStage2() {
		runtime.LockOSThread()
	}
}

// stage2Main runs the second stage and never returns: it either execs
// miniinit or reports a setup error on fdErr and exits with exitSetup.
func stage2Main() {
	// The cgroup namespace is unshared for this thread only, and execve
	// keeps the namespaces of the thread that calls it: so everything
	// from here to exec stays on this one thread.
	runtime.LockOSThread()
	// The parent-death signal again, on the thread that will exec: the
	// container dies with minispawn, whichever thread this is.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		fmt.Fprintf(os.NewFile(uintptr(fdErr), "error pipe"), "prctl PR_SET_PDEATHSIG: %v\n", err)
		os.Exit(exitSetup)
	}
	// argv[1] is the number of socket-activation descriptors before
	// ours: it numbers the rest (fds.go).
	if len(os.Args) > 1 {
		n, _ := strconv.Atoi(os.Args[1])
		setListenFDs(n)
	}
	errPipe := os.NewFile(uintptr(fdErr), "error pipe")
	err := stage2()
	fmt.Fprintf(errPipe, "%v\n", err)
	os.Exit(exitSetup)
}

// stage2 carries out the plan inside the new namespaces. Each step says
// what failed, on which path, with which errno.
//
//  0. Read the plan. It arrives only once the parent has put this process
//     in the container's cgroup, so reading it is also the go-ahead.
//  1. Unshare the cgroup namespace: now rooted at the container's cgroup.
//  2. Make every mount recursively slave before mounting anything, so no
//     mount made here propagates back to the host.
//  3. Make the root a mount point: a configured directory is bind-mounted
//     onto itself, or with rootfs.overlay is the lower layer of an overlay
//     whose upper layer is a tmpfs of this namespace; an ephemeral root is
//     a fresh tmpfs, filled with the listed host binaries and their
//     libraries.
//     A user's directory gets nothing created in it: a read-only one
//     that lacks mount targets became an overlay in the plan, a writable
//     one gets stand-ins (tmpfs mounts mirroring a directory by binds)
//     where it lacks them.
//  4. Mount /proc, /sys, /dev and the rest inside the root, with targets
//     resolved inside it so a planted symlink cannot redirect a mount.
//  5. Set the hostname; 6. bring the loopback device up.
//  7. pivot_root into the root and detach the old one: unlike chroot, no
//     path leads back to the host's tree.
//  8. Remount the root read-only if asked (after pivot_root, which needs
//     the mounts made in steps 3–4). With -t, allocate the pty from the
//     container's devpts, now at /dev/pts, and send its master to
//     minispawn.
//  9. Confine: rlimits, capabilities, no_new_privs and seccomp, on this
//     thread, last, because each step before needed the privileges this
//     one takes away (mounting, above all) and execve keeps exactly the
//     calling thread's credentials and filter.
//
// 10. Exec the sealed miniinit; only the descriptors of fds.go survive.
func stage2() error {
	// 0. The plan.
	var plan Plan
	sync := os.NewFile(uintptr(fdSync), "sync pipe")
	if err := json.NewDecoder(sync).Decode(&plan); err != nil {
		return fmt.Errorf("read the plan from minispawn: %w", err)
	}
	sync.Close()

	// 1. Cgroup namespace.
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return fmt.Errorf("unshare cgroup namespace: %w", errnoErr(err))
	}

	// 2. Propagation.
	if err := mounts.MakePrivate(); err != nil {
		return err
	}

	// 3. The root.
	root := plan.Root.Dir
	if plan.UserNS != nil && root != "" {
		// A directory root under a user namespace is the idmapped tree
		// the parent made (userns_linux.go), moved onto the staging dir.
		// With rootfs.overlay it is the lower layer: OverlayRoot opens it
		// before its tmpfs covers the staging dir.
		if err := attachRootTree(stagingDir); err != nil {
			return err
		}
		root = stagingDir
		if plan.Root.Overlay {
			var err error
			if root, err = mounts.OverlayRoot(stagingDir, stagingDir); err != nil {
				return fmt.Errorf("overlay root of %s: %w", plan.Root.Dir, err)
			}
		}
	} else if root == "" {
		root = stagingDir
		if err := unix.Mount("tmpfs", root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
			return &mounts.Error{Op: "mount", Source: "tmpfs", Target: root, FSType: "tmpfs", Err: errnoErr(err)}
		}
		if _, err := mounts.BuildRoot(root, plan.Root.Build); err != nil {
			return fmt.Errorf("build root in %s: %w", root, err)
		}
	} else if plan.Root.Overlay {
		// Writes land on a tmpfs on the staging dir, which only this
		// mount namespace has: the directory never changes, and the
		// writes go when the namespace does, however the container ends.
		var err error
		if root, err = mounts.OverlayRoot(root, stagingDir); err != nil {
			return fmt.Errorf("overlay root of %s: %w", plan.Root.Dir, err)
		}
	} else if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return &mounts.Error{Op: "bind", Source: root, Target: root, Err: errnoErr(err)}
	}
	// 3a. The user's directory gets nothing created in it: the targets
	// it lacks go on stand-ins (plan.go).
	protect, err := standIns(&plan, root)
	if err != nil {
		return err
	}

	// 4. Mounts inside the root.
	if err := mounts.ApplyProtected(root, plan.Mounts, protect); err != nil {
		return err
	}

	// 5. Hostname.
	if err := unix.Sethostname([]byte(plan.Hostname)); err != nil {
		return fmt.Errorf("sethostname %q: %w", plan.Hostname, errnoErr(err))
	}

	// 6. Loopback.
	if err := loopbackUp(); err != nil {
		return err
	}

	// 7. pivot_root.
	if err := mounts.PivotRoot(root); err != nil {
		return err
	}

	// 8. Read-only root.
	if plan.Root.ReadOnly {
		if err := mounts.RemountReadOnly("/"); err != nil {
			return err
		}
	}

	// 8a. With -t, the pty, from the container's own devpts.
	if plan.TTY {
		if err := containerPTY(fdConsole, plan.TTYSize); err != nil {
			return err
		}
	}

	// 9. Confine. Nothing but exec comes after it: the seccomp filter
	// denies mount and friends from here on.
	if err := confine.Apply(plan.Confine); err != nil {
		return fmt.Errorf("confine: %w", err)
	}

	// 10. Exec miniinit. Descriptors after the sockets, the
	// configuration and the channel (fds.go) are close-on-exec from
	// here: that includes any the caller of minispawn left open, which
	// must not reach the container. The error pipe closes with them,
	// and its EOF tells the parent that exec succeeded.
	if err := unix.CloseRange(uint(fdHost+1), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("close_range: %w", errnoErr(err))
	}
	argv := append([]string{"miniinit"}, plan.InitArgs...)
	initPath := "/proc/self/fd/" + strconv.Itoa(fdInit)
	err = unix.Exec(initPath, argv, os.Environ())
	return fmt.Errorf("exec miniinit (%s): %w", initPath, errnoErr(err))
}

// standIns covers the directories of a user's root that lack mount
// targets with stand-ins, and returns the mounts that reach the user's
// files, where Apply must create nothing.
func standIns(plan *Plan, root string) ([]uint64, error) {
	if !plan.Root.Protect || plan.Root.Overlay {
		return nil, nil
	}
	id, err := mounts.MountID(root)
	if err != nil {
		return nil, err
	}
	protect := []uint64{id}
	for _, d := range plan.Root.Missing.Dirs {
		ids, err := mounts.StandIn(root, d)
		if err != nil {
			return nil, err
		}
		protect = append(protect, ids...)
	}
	return protect, nil
}

// loopbackUp sets IFF_UP on lo, the only device in a new network
// namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket for loopback setup: %w", errnoErr(err))
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("get flags of lo: %w", errnoErr(err))
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: %w", errnoErr(err))
	}
	return nil
}
