package pid1

// Tree tracking: which processes belong to a workload. Every workload's
// process is the leader of a process group of its own; its children stay
// in that group unless they leave it (setsid, setpgid). Where miniinit can
// make cgroups, each workload also gets a cgroup of its own, which no
// process can leave: cgroup_linux.go. Without one, a process that left its
// workload's group is only reached by the drain at shutdown.

// cgroupFD returns the descriptor of workload name's cgroup directory, for
// CLONE_INTO_CGROUP, when it has one.
func (l *loop) cgroupFD(name string) (int, bool) { return 0, false }

// signalCgroup sends sig to the processes of p's cgroup.
func (l *loop) signalCgroup(p *process, sig interface{}) {}

// sweepCgroup SIGKILLs everything left in p's cgroup.
func (l *loop) sweepCgroup(p *process) {}

// cgroupOwner returns the running workload whose cgroup holds pid.
func (l *loop) cgroupOwner(pid int) *process { return nil }
