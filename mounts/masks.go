package mounts

// Paths of the kernel's API filesystems that a container must not write to
// or read. They are data rather than code so that `minispawn check` prints
// them and a test pins them.
var (
	// readOnlyPaths stay visible but cannot be written, even by root: the
	// sysctls (host-wide for most of them), the magic SysRq trigger (one
	// write reboots or crashes the host) and the interrupt, bus and
	// filesystem tunables.
	readOnlyPaths = []string{
		"/proc/bus",
		"/proc/fs",
		"/proc/irq",
		"/proc/sys",
		"/proc/sysrq-trigger",
	}
	// maskedFiles read as empty: the host's physical memory (kcore), its
	// kernel symbol addresses (kallsyms: a KASLR bypass for root), the
	// keys and key quotas of every user, and interrupt, timer and
	// scheduler internals that leak what other processes on the host do
	// (interrupt counts are a keystroke-timing side channel).
	maskedFiles = []string{
		"/proc/interrupts",
		"/proc/kcore",
		"/proc/kallsyms",
		"/proc/keys",
		"/proc/key-users",
		"/proc/latency_stats",
		"/proc/sched_debug",
		"/proc/timer_list",
		"/proc/timer_stats",
	}
	// maskedDirs become empty: ACPI, sound and SCSI controls of the host's
	// hardware, its block devices by number (the host's disks), its
	// firmware tables and variables (EFI variables can brick a machine),
	// the host's SELinux policy interface, and the powercap energy
	// counters (a side channel on what other code computes).
	maskedDirs = []string{
		"/proc/acpi",
		"/proc/asound",
		"/proc/scsi",
		"/sys/dev/block",
		"/sys/firmware",
		"/sys/fs/selinux",
		"/sys/devices/virtual/powercap",
	}
)

// DefaultMasks makes parts of /proc and /sys read-only or empty, for a
// root whose /proc, /sys and /dev/null the steps of DefaultMounts made.
// Apply these last, after any other mount into the root, so that nothing
// mounted later can cover a mask with something else.
//
// A masked file gets a read-only bind of the container's own /dev/null
// (checked to be the null device), so it reads as empty, writes vanish
// and nothing, root included, can change the node's metadata through it
// (EROFS); a masked directory an empty read-only tmpfs. A read-only path is bound onto
// itself and the bind remounted read-only: writes fail with EROFS whatever
// the writer's privileges. Each step is skipped when its path does not
// exist on this kernel.
//
// These are mount-level protections only: a process with CAP_SYS_ADMIN in
// the container's mount namespace can unmount or remount them. They are
// meant to hold together with a bounding set without CAP_SYS_ADMIN.
func DefaultMasks() []Mount {
	var plan []Mount
	for _, p := range readOnlyPaths {
		plan = append(plan, Mount{Kind: KindReadOnly, Source: p, Target: p, Flags: msBind | msRdonly})
	}
	for _, p := range maskedFiles {
		plan = append(plan, Mount{Kind: KindMask, Source: "/dev/null", Target: p, Flags: deviceFlags})
	}
	for _, p := range maskedDirs {
		plan = append(plan, Mount{Kind: KindMask, Source: "tmpfs", Target: p, FSType: "tmpfs",
			Flags: msRdonly | msNosuid | msNodev | msNoexec, Data: "mode=555,size=4k"})
	}
	return plan
}
