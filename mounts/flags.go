package mounts

import "github.com/minispawn/minispawn/mounts/options"

// Linux mount(2) flag values from <linux/mount.h>, as the option table in
// package options spells them (plain data that builds anywhere);
// flags_linux_test.go checks every value against the kernel headers' copy
// in x/sys/unix.
const (
	msRdonly      = options.Rdonly
	msNosuid      = options.Nosuid
	msNodev       = options.Nodev
	msNoexec      = options.Noexec
	msSynchronous = options.Synchronous
	msRemount     = options.Remount
	msMandlock    = options.Mandlock
	msDirsync     = options.Dirsync
	msNosymfollow = options.Nosymfollow
	msNoatime     = options.Noatime
	msNodiratime  = options.Nodiratime
	msBind        = options.Bind
	msMove        = options.Move
	msRec         = options.Rec
	msSilent      = options.Silent
	msUnbindable  = options.Unbindable
	msPrivate     = options.Private
	msSlave       = options.Slave
	msShared      = options.Shared
	msRelatime    = options.Relatime
	msStrictatime = options.Strictatime
	msLazytime    = options.Lazytime
)

// propagationFlags change a mount's propagation type. mount(2) accepts them
// only on their own (plus MS_REC), so Apply issues them as a separate call.
const propagationFlags = options.Propagation

// attrFlags are per-mount attributes. A bind mount ignores them on creation;
// they take effect only through a second MS_REMOUNT|MS_BIND call.
const attrFlags = msRdonly | msNosuid | msNodev | msNoexec | msNosymfollow |
	msNoatime | msNodiratime | msRelatime | msStrictatime
