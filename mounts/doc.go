// Package mounts builds a container's root filesystem and pivots into it.
//
// A root comes from BuildRoot or BuildCached (a minimal root made from
// host binaries, cached by a manifest of their sources) or is any
// directory tree. minispawn's second stage runs as PID 1 of fresh PID and
// mount namespaces while it still sees the host's filesystem, and uses
// this package in this order; each step says why it sits where it does:
//
//  1. MakePrivate: turn every mount in the new namespace into a slave
//     before anything is mounted, so that no later mount can propagate back
//     to the host (mount namespaces created with CLONE_NEWNS keep the host's
//     shared peer groups until told otherwise).
//  2. Apply(root, DefaultMounts()): mount the API filesystems and /dev
//     inside the root. Every target is resolved inside the root with
//     openat2(RESOLVE_IN_ROOT) and mounted through /proc/self/fd/N, so a
//     symlink planted in the root cannot move a mount onto the host. This
//     needs the host's /proc, which is why it happens before the pivot.
//     The caller's own binds and tmpfs mounts come next, then
//     Apply(root, DefaultMasks()): /proc/sys and friends bound read-only,
//     kcore, keys and the like masked with the container's /dev/null,
//     /sys/firmware and the like under an empty read-only tmpfs. Masks go
//     last so that no later mount can cover them.
//  3. PivotRoot(root): make the root a mount point if it is not one, pivot
//     into it and detach the old root, so that the host's tree is gone
//     rather than merely out of reach (chroot alone can be escaped).
//  4. RemountReadOnly("/") (optional): last, because the steps above have
//     to create mount points inside the root.
//
// The plan is data: a []Mount whose String methods print as the shell
// commands that would do the same, so a plan can be logged and reviewed.
//
// A root whose writes must not reach its directory comes from OverlayRoot
// (instead of a bind of the directory onto itself, before step 2): an
// overlay whose upper layer is a tmpfs of the container's mount namespace.
//
// A directory nothing may be created in (a user's root: mount points
// included) is handled in three steps: FindMissing (pure, from the plan
// and lookups in the root) names the targets the plan would have to make
// and the deepest existing directory of each; before step 2, StandIn
// covers each such directory with a tmpfs that has its entries
// bind-mounted back, so the mount points can be made beside them; and
// ApplyProtected, in place of Apply, refuses (EROFS) to create anything on
// the root's own mounts, should the root have changed since the plan.
//
// Seams for later work: Mount can carry id-mapped mounts through a future
// attribute field, and recursive read-only binds through mount_setattr,
// without changing Apply's shape.
package mounts
