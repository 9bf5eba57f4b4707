// Package cgroup puts a container into a cgroup of its own and sets its
// resource limits.
//
// The work is split in three so that most of it is pure and testable
// without root:
//
//   - Detect reads /proc/self/mountinfo and returns a Layout: which
//     hierarchy (cgroup v2, or the per-controller v1 mounts) holds the
//     controllers minispawn needs.
//   - Layout.Plan turns a container name and its Resources into a Plan:
//     the directories to make and the files to write, as printable data.
//     It does no I/O.
//   - Create executes exactly that Plan and returns a Cgroup, which moves
//     processes in (Add), lists them (Procs), kills them all (Kill), reports
//     OOM kills (OOMKills) and removes the directories again (Remove).
//
// The cgroup of container NAME is "minispawn/NAME" below the root of each
// hierarchy used. "minispawn" is a shared parent for all containers: Create
// makes it when missing and Remove takes it away again only when that same
// Cgroup made it and no other container is left in it.
//
// Which file sets which limit, and how each hierarchy spells "no limit",
// lives in one table (knobs, in resources.go); new limits are new rows.
package cgroup
