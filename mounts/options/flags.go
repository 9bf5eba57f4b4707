package options

// Linux mount(2) flag values from <linux/mount.h>, named after MS_*.
// They are spelled out here, rather than taken from golang.org/x/sys/unix,
// so that the table, the plans built on it and their tests are plain data
// that builds anywhere; package mounts checks every value against the
// kernel headers' copy in x/sys/unix (flags_linux_test.go).
const (
	Rdonly      uintptr = 0x1
	Nosuid      uintptr = 0x2
	Nodev       uintptr = 0x4
	Noexec      uintptr = 0x8
	Synchronous uintptr = 0x10
	Remount     uintptr = 0x20
	Mandlock    uintptr = 0x40
	Dirsync     uintptr = 0x80
	Nosymfollow uintptr = 0x100
	Noatime     uintptr = 0x400
	Nodiratime  uintptr = 0x800
	Bind        uintptr = 0x1000
	Move        uintptr = 0x2000
	Rec         uintptr = 0x4000
	Silent      uintptr = 0x8000
	Unbindable  uintptr = 0x20000
	Private     uintptr = 0x40000
	Slave       uintptr = 0x80000
	Shared      uintptr = 0x100000
	Relatime    uintptr = 0x200000
	Strictatime uintptr = 0x1000000
	Lazytime    uintptr = 0x2000000
)

// Propagation are the flags that change a mount's propagation type.
// mount(2) accepts them only on their own (plus MS_REC).
const Propagation = Unbindable | Private | Slave | Shared
