package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/mounts"
)

// How a container with a user namespace is set up, and why in this order
// (the numbers are spawn's and stage2's steps):
//
//  2a. Parent, before the clone: a directory root (rootfs.path, or a
//     cached built root) belongs to host root, which is unmapped inside:
//     seen as it is, every file would show as nobody and root inside could
//     not change its own root. So the parent clones the root's mount tree
//     (open_tree OPEN_TREE_CLONE, recursive), makes it recursively slave
//     (a clone of a shared mount would otherwise be the host's peer) and
//     sets MOUNT_ATTR_IDMAP on its top mount with a user namespace of the
//     same mapping. Only host
//     root can do that: mount_setattr wants CAP_SYS_ADMIN over the
//     filesystem, which the container's own namespace never has. The
//     detached tree goes to the second stage as descriptor fdRootTree.
//     Mounts below the root are carried along unmapped on purpose: host
//     files there keep host ownership, so root inside is nobody to them.
//  5. The clone adds CLONE_NEWUSER to the other flags, so the new mount,
//     pid, net, uts, ipc (and later cgroup) namespaces belong to the new
//     user namespace: that is what lets root inside mount proc (its pid
//     namespace), sysfs (its net namespace), tmpfs, devpts and mqueue.
//     The maps are written by the parent before the child runs on; the
//     child then sets uid and gid 0 (host Base) and drops minispawn's
//     supplementary groups, which are host groups (setgroups must be
//     allowed for that; the map is written by host root and maps no host
//     group, so allowing it grants nothing).
//  6. The cgroup stays the parent's job: only host root can move a process
//     into it. The child unshares its cgroup namespace after, as before.
//  3. (stage2) The root goes onto stagingDir: an ephemeral tmpfs is
//     mounted there from inside the user namespace (its files then belong
//     to root inside), an idmapped tree is moved there. stagingDir is
//     0700 and host-owned, which does not matter: mounting on it needs
//     search permission only on its parent (/run), and every later path
//     through it lands in the mounted root, not in the directory below.
//     The directory root's own path may sit under directories root inside
//     cannot search (0700 temporary directories): the tree descriptor
//     never needs that path.
//  9. The sealed miniinit and the configuration are memfds, reached by
//     descriptor: no host path, so no permission check on one.

// fdRootTree, the descriptor on which the second stage finds the
// idmapped root when there is one, is numbered in fds.go (after fdErr).

// usernsHolderArg0 marks minispawn re-executed only to hold a user
// namespace open while the parent takes a descriptor of it.
const usernsHolderArg0 = "minispawn:userns"

func isUsernsHolder() bool { return len(os.Args) > 0 && os.Args[0] == usernsHolderArg0 }

// usernsHolderMain waits for its stdin to close, then exits. The parent
// holds the other end; if the parent dies the pipe closes too, so a holder
// never outlives minispawn.
func usernsHolderMain() {
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// idMaps is the mapping as SysProcAttr wants it.
func (m *IDMapping) idMaps() []syscall.SysProcIDMap {
	return []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(m.Base), Size: int(m.Size)}}
}

// applyUserNS adds the user namespace to the second stage's clone (step 5
// above). The caller has CLONE_NEWUSER in the clone flags already, from
// the plan's namespace list.
func applyUserNS(a *syscall.SysProcAttr, m *IDMapping) {
	if m == nil {
		return
	}
	a.UidMappings = m.idMaps()
	a.GidMappings = m.idMaps()
	// setgroups(0) in the child needs it; see step 5 above.
	a.GidMappingsEnableSetgroups = true
	// Without this the child keeps host uid 0, which is unmapped inside:
	// it would lose every capability at exec. An empty Groups list drops
	// minispawn's host groups.
	a.Credential = &syscall.Credential{Uid: 0, Gid: 0, Groups: []uint32{}}
}

// openUserns returns a descriptor of a new user namespace with mapping m.
// A user namespace lives only as long as something refers to it, and Go
// cannot unshare one in a multi-threaded process, so a short-lived child
// is cloned into it, its namespace opened through /proc, and the child let
// go: the descriptor keeps the namespace alive.
func openUserns(m *IDMapping) (int, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return -1, err
	}
	defer w.Close()
	cmd := &exec.Cmd{
		Path:  "/proc/self/exe",
		Args:  []string{usernsHolderArg0},
		Env:   []string{},
		Stdin: r,
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:  unix.CLONE_NEWUSER,
			UidMappings: m.idMaps(),
			GidMappings: m.idMaps(),
		},
	}
	err = cmd.Start()
	r.Close()
	if err != nil {
		return -1, fmt.Errorf("clone into a new user namespace: %w", err)
	}
	p := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/user"
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	w.Close()
	cmd.Wait() // bounded: the holder exits at EOF on stdin
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", p, errnoErr(err))
	}
	return fd, nil
}

// idmappedRoot does step 2a: for a directory root with a user namespace,
// a detached copy of the root's mount tree whose top mount shows host id
// N as N inside. It returns nil when there is nothing to map (no user
// namespace, or an ephemeral root, built inside the namespace). The
// caller hands the tree to the container and closes it; closing an
// unattached tree unmounts it, so nothing outlives minispawn.
//
// A filesystem that cannot be idmapped is refused, not worked around:
// chown-ing the directory would rewrite a tree the user owns (and break
// it for runs without the namespace, or with another base), and a root
// seen unmapped is owned by nobody inside, which breaks most workloads in
// ways that are harder to diagnose than this error.
func idmappedRoot(plan *Plan) (*os.File, error) {
	if plan.UserNS == nil || plan.Root.Dir == "" {
		return nil, nil
	}
	dir := plan.Root.Dir
	if err := os.MkdirAll(stagingDir, 0o700); err != nil {
		return nil, fmt.Errorf("staging directory: %w", err)
	}
	ns, err := openUserns(plan.UserNS)
	if err != nil {
		return nil, fmt.Errorf("user namespace for the idmapped root: %w", err)
	}
	defer unix.Close(ns)
	tree, err := unix.OpenTree(unix.AT_FDCWD, dir, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return nil, &mounts.Error{Op: "open_tree", Target: dir, Err: errnoErr(err)}
	}
	// A clone of a shared mount is a peer of it (systemd makes / shared):
	// left so, every mount the container makes on the root would appear
	// on the host too, and pivot_root would refuse the root. Recursively
	// slave, as MakePrivate makes the rest of the container's namespace:
	// host mounts below the root still flow in, nothing flows out.
	prop := &unix.MountAttr{Propagation: unix.MS_SLAVE}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, prop); err != nil {
		unix.Close(tree)
		return nil, &mounts.Error{Op: "mount_setattr MS_SLAVE", Target: dir, Err: errnoErr(err)}
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(ns)}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, attr); err != nil {
		unix.Close(tree)
		return nil, idmapError(dir, err)
	}
	return os.NewFile(uintptr(tree), "idmapped root "+dir), nil
}

// idmapError explains a failed mount_setattr(MOUNT_ATTR_IDMAP) on the
// root: names the filesystem and what to do instead.
func idmapError(dir string, err error) error {
	fs := fsTypeOf(dir)
	what := &mounts.Error{Op: "mount_setattr MOUNT_ATTR_IDMAP", Target: dir, FSType: fs, Err: errnoErr(err)}
	switch {
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENOSYS):
		return fmt.Errorf("userns: the root's filesystem (%s) cannot be idmapped on this kernel, "+
			"so root inside would see its whole root owned by nobody: %w; "+
			"put the root on ext4, xfs, btrfs, tmpfs or overlayfs, or use rootfs.build without cache "+
			"(a root built inside the user namespace needs no mapping)", fs, what)
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("userns: idmapping the root was refused (%s; already idmapped, or not owned by this host's root user namespace): %w", fs, what)
	}
	return fmt.Errorf("userns: %w", what)
}

// fsTypeOf names the filesystem type of the mount dir is on, from
// mountinfo by mount id; "unknown filesystem" when it cannot tell.
func fsTypeOf(dir string) string {
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, dir, 0, unix.STATX_MNT_ID, &stx); err != nil || stx.Mask&unix.STATX_MNT_ID == 0 {
		return "unknown filesystem"
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "unknown filesystem"
	}
	defer f.Close()
	id := strconv.FormatUint(stx.Mnt_id, 10)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 9 || fields[0] != id {
			continue
		}
		for i, fld := range fields {
			if fld == "-" && i+1 < len(fields) {
				return fields[i+1]
			}
		}
	}
	return "unknown filesystem"
}

// attachRootTree is stage2's side of step 2a: move the idmapped tree onto
// dir, in the container's mount namespace.
func attachRootTree(dir string) error {
	err := unix.MoveMount(fdRootTree, "", unix.AT_FDCWD, dir, unix.MOVE_MOUNT_F_EMPTY_PATH)
	unix.Close(fdRootTree)
	if err != nil {
		return &mounts.Error{Op: "move_mount", Source: "idmapped root", Target: dir, Err: errnoErr(err)}
	}
	return nil
}

// checkBindSources refuses, before anything runs, a bind of a host path
// that root inside will not be able to reach. The second stage opens bind
// sources itself, as the base uid, so every directory above a source must
// be searchable by that uid; otherwise the container would fail later with
// a bare EACCES. Directories with an ACL are given the benefit of the
// doubt (the kernel decides those). Does nothing without a user namespace.
func checkBindSources(plan *Plan) error {
	if plan.UserNS == nil {
		return nil
	}
	for _, m := range plan.Mounts {
		if m.Kind != mounts.KindMount || m.Flags&unix.MS_BIND == 0 {
			continue
		}
		real, err := filepath.EvalSymlinks(m.Source)
		if err != nil {
			return fmt.Errorf("bind source for %s: %w", m.Target, err)
		}
		for dir := filepath.Dir(real); ; dir = filepath.Dir(dir) {
			var st unix.Stat_t
			if err := unix.Stat(dir, &st); err != nil {
				return fmt.Errorf("bind source for %s: stat %s: %w", m.Target, dir, errnoErr(err))
			}
			if !searchableBy(st.Mode, st.Uid, st.Gid, plan.UserNS.Base) && !hasACL(dir) {
				return fmt.Errorf("userns: bind source %s for %s: the container's root (uid %d on the host) cannot search %s "+
					"(mode %04o, owner %d:%d): with a user namespace every directory above a bind source must be searchable "+
					"by that uid (chmod o+x %s, or bind from elsewhere)",
					m.Source, m.Target, plan.UserNS.Base, dir, st.Mode&0o7777, st.Uid, st.Gid, dir)
			}
			if dir == "/" {
				break
			}
		}
	}
	return nil
}

// hasACL reports whether p carries a POSIX access ACL.
func hasACL(p string) bool {
	_, err := unix.Getxattr(p, "system.posix_acl_access", nil)
	return err == nil
}
