package mounts

// Linux mount(2) flag values from <linux/mount.h>. They are spelled out
// here, rather than taken from golang.org/x/sys/unix, so that the option
// table, the plan and their tests are plain data that builds anywhere;
// flags_linux_test.go checks every value against the kernel headers' copy
// in x/sys/unix.
const (
	msRdonly      uintptr = 0x1
	msNosuid      uintptr = 0x2
	msNodev       uintptr = 0x4
	msNoexec      uintptr = 0x8
	msSynchronous uintptr = 0x10
	msRemount     uintptr = 0x20
	msMandlock    uintptr = 0x40
	msDirsync     uintptr = 0x80
	msNosymfollow uintptr = 0x100
	msNoatime     uintptr = 0x400
	msNodiratime  uintptr = 0x800
	msBind        uintptr = 0x1000
	msMove        uintptr = 0x2000
	msRec         uintptr = 0x4000
	msSilent      uintptr = 0x8000
	msUnbindable  uintptr = 0x20000
	msPrivate     uintptr = 0x40000
	msSlave       uintptr = 0x80000
	msShared      uintptr = 0x100000
	msRelatime    uintptr = 0x200000
	msStrictatime uintptr = 0x1000000
	msLazytime    uintptr = 0x2000000
)

// propagationFlags change a mount's propagation type. mount(2) accepts them
// only on their own (plus MS_REC), so Apply issues them as a separate call.
const propagationFlags = msUnbindable | msPrivate | msSlave | msShared

// attrFlags are per-mount attributes. A bind mount ignores them on creation;
// they take effect only through a second MS_REMOUNT|MS_BIND call.
const attrFlags = msRdonly | msNosuid | msNodev | msNoexec | msNosymfollow |
	msNoatime | msNodiratime | msRelatime | msStrictatime
