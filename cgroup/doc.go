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
// lives in one table (knobs, in knobs.go); new limits are new rows. The
// limits and their files:
//
//	Resources   v2 file            v1 file
//	MemoryMax   memory.max         memory.limit_in_bytes
//	MemorySwap  memory.swap.max    memory.memsw.limit_in_bytes (= MemoryMax + MemorySwap)
//	MemoryHigh  memory.high        memory.soft_limit_in_bytes (acts under host-wide pressure only)
//	PidsMax     pids.max           pids.max
//	CPUQuota    cpu.max            cpu.cfs_quota_us
//	CPUPeriod   cpu.max            cpu.cfs_period_us
//	CPUWeight   cpu.weight         cpu.shares (= CPUWeight*1024/100)
//	CpusetCpus  cpuset.cpus        cpuset.cpus (inherited from the parent when unset)
//	CpusetMems  cpuset.mems        cpuset.mems (inherited from the parent when unset)
//	IOWeight    io.weight          blkio.bfq.weight (1..1000; only BFQ honours it)
//	IOMax       io.max             blkio.throttle.{read,write}_{bps,iops}_device
//
// memory and pids are Required: without them there is no layout. cpu,
// cpuset and io (blkio) are used where the host offers them; a limit on
// one it does not offer fails Create (Layout.Check) before anything is
// made. The files some kernels lack (memsw without swap accounting, the
// weights without BFQ or iocost) are only written when their limit is set.
package cgroup
