package mounts

import (
	"fmt"
	"path"
	"strings"
)

// Kind says what a plan step does. The zero value is an ordinary mount, so
// a Mount written as {Source, Target, FSType, ...} needs no Kind.
type Kind int

const (
	// KindMount is mount(2): a filesystem of type FSType from Source, or,
	// with MS_BIND in Flags, a bind of the host path Source. Attribute
	// flags on a bind and propagation flags are applied by follow-up
	// calls, as mount(8) does.
	KindMount Kind = iota
	// KindDevice bind-mounts the host device node Source onto an empty
	// file at Target. Source must be a character device (not a symlink)
	// and, for the standard nodes in /dev, have the expected major:minor,
	// so a host that was tampered with cannot hand the container
	// something else under a device's name.
	KindDevice
	// KindSymlink creates the symlink Target with contents Source.
	KindSymlink
	// KindMask hides Target, if it exists, behind something empty. With
	// MS_BIND, Source is a character device inside the root (the
	// container's own /dev/null, checked to be 1:3 like KindDevice's
	// host nodes) bound over a file; with FSType, a fresh filesystem
	// (an empty read-only tmpfs) is mounted over a directory. A target of
	// the other type is an error, a missing one is skipped: there is
	// nothing to hide, and kernels differ in which of these files exist.
	KindMask
	// KindReadOnly binds Target, if it exists, onto itself and remounts
	// the bind with Flags' attributes (MS_RDONLY at least), keeping those
	// of the mount it is on. Source must equal Target. A missing target
	// is skipped, as for KindMask.
	KindReadOnly
)

func (k Kind) String() string {
	switch k {
	case KindMount:
		return "mount"
	case KindDevice:
		return "device"
	case KindSymlink:
		return "symlink"
	case KindMask:
		return "mask"
	case KindReadOnly:
		return "read-only"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Mount is one step of a root filesystem plan. Target is always a path
// inside the new root. Source is a filesystem name ("proc"), a host path
// for binds and devices, or the symlink text for KindSymlink. Flags are
// mount(2) MS_* flags and Data the filesystem-specific options, as
// produced by ParseOptions. An Optional step that fails is logged and
// skipped instead of failing the plan.
type Mount struct {
	Source   string
	Target   string
	FSType   string
	Flags    uintptr
	Data     string
	Optional bool
	Kind     Kind
}

// String prints the step as the shell command that would do the same,
// e.g. "mount -t proc -o nosuid,nodev,noexec proc /proc".
func (m Mount) String() string {
	var b strings.Builder
	var notes []string
	switch m.Kind {
	case KindSymlink:
		fmt.Fprintf(&b, "ln -s %s %s", m.Source, m.Target)
	default:
		b.WriteString("mount")
		if m.FSType != "" {
			b.WriteString(" -t " + m.FSType)
		}
		if o := FormatOptions(m.Flags, m.Data); o != "" {
			b.WriteString(" -o " + o)
		}
		src := m.Source
		if src == "" {
			src = "none"
		}
		fmt.Fprintf(&b, " %s %s", src, m.Target)
		if m.Kind == KindDevice {
			if d, ok := knownDevices[m.Source]; ok {
				notes = append(notes, fmt.Sprintf("char device %d:%d", d.major, d.minor))
			} else {
				notes = append(notes, "char device")
			}
		} else if m.Kind != KindMount {
			notes = append(notes, m.Kind.String())
		}
		if m.Kind == KindMask || m.Kind == KindReadOnly {
			notes = append(notes, "if present")
		}
	}
	if m.Optional {
		notes = append(notes, "optional")
	}
	if len(notes) > 0 {
		b.WriteString(" # " + strings.Join(notes, ", "))
	}
	return b.String()
}

// Validate checks a step without touching the system: the target must be
// an absolute, clean path other than "/" (mounting over the root itself
// would hide the directory the rest of the plan resolves against), and
// each kind must have what it needs.
func (m Mount) Validate() error {
	if !path.IsAbs(m.Target) || path.Clean(m.Target) != m.Target || m.Target == "/" {
		return fmt.Errorf("step %q: target must be an absolute clean path below /", m)
	}
	switch m.Kind {
	case KindMount:
		special := msBind | msRemount | msMove | propagationFlags
		if m.FSType == "" && m.Flags&special == 0 {
			return fmt.Errorf("step %q: a mount needs a filesystem type or bind/remount/propagation flags", m)
		}
		if m.Flags&msBind != 0 && !path.IsAbs(m.Source) {
			return fmt.Errorf("step %q: bind source must be an absolute host path", m)
		}
		if m.Flags&msMove != 0 {
			return fmt.Errorf("step %q: move is not supported in a plan", m)
		}
	case KindDevice:
		if !path.IsAbs(m.Source) {
			return fmt.Errorf("step %q: device source must be an absolute host path", m)
		}
		if m.Flags&msBind == 0 {
			return fmt.Errorf("step %q: a device step is a bind mount and needs MS_BIND", m)
		}
	case KindSymlink:
		if m.Source == "" {
			return fmt.Errorf("step %q: symlink needs contents", m)
		}
	case KindMask:
		bindNode := m.Flags&msBind != 0 && m.FSType == "" && path.IsAbs(m.Source)
		freshFS := m.Flags&msBind == 0 && m.FSType != ""
		if !bindNode && !freshFS {
			return fmt.Errorf("step %q: a mask binds a device inside the root (bind, absolute source) or mounts a filesystem type", m)
		}
		if m.Flags&(msRemount|msMove|propagationFlags) != 0 {
			return fmt.Errorf("step %q: a mask takes only attribute flags", m)
		}
		if m.Flags&msRdonly == 0 {
			// A writable mask would let root inside change the node or
			// filesystem under it: a mask hides, it never lends.
			return fmt.Errorf("step %q: a mask is read-only", m)
		}
	case KindReadOnly:
		if m.Source != m.Target || m.Flags&msBind == 0 || m.Flags&msRdonly == 0 || m.Flags&^(msBind|attrFlags) != 0 {
			return fmt.Errorf("step %q: a read-only step binds its target onto itself with ro and attribute flags only", m)
		}
	default:
		return fmt.Errorf("step %q: unknown kind %d", m, int(m.Kind))
	}
	return nil
}

// deviceFlags are a device bind's: read-only (the host's inode stays as
// it is), no setuid, no exec.
const deviceFlags = msBind | msRdonly | msNosuid | msNoexec

// devNumber is a device's major and minor number.
type devNumber struct{ major, minor uint32 }

// knownDevices are the host nodes the default plan exposes, with the
// numbers Linux assigns them (Documentation/admin-guide/devices.txt).
var knownDevices = map[string]devNumber{
	"/dev/null":    {1, 3},
	"/dev/zero":    {1, 5},
	"/dev/full":    {1, 7},
	"/dev/random":  {1, 8},
	"/dev/urandom": {1, 9},
	"/dev/tty":     {5, 0},
}

// DefaultMounts is the container's standard set of API filesystems and
// /dev, in the order Apply must perform them: /dev's tmpfs before the
// nodes and mounts inside it.
//
// /dev is a small tmpfs with nodev: every device in it is a bind mount
// with its own flags, so nodev costs nothing and keeps a node created with
// mknod from being usable. The device binds are read-only: the inode is
// the host's, and a read-only mount refuses any change to its metadata
// (chmod, chown, utimes, xattrs: EROFS), root's included, while reads and
// writes go to the device as before, since writing to a device node is
// not a write to the filesystem that holds it. devpts is a new instance so the container's
// ptys are its own, and /dev/ptmx points into it. /run is a tmpfs of the
// container's own, as on a booted system: runtime state, miniinit's
// control socket above all, is the container's alone even when two
// containers share one root directory, works on a read-only root, and
// never reaches the root directory (nor stays there after a SIGKILL).
func DefaultMounts() []Mount {
	const nsn = msNosuid | msNodev | msNoexec
	plan := []Mount{
		{Source: "proc", Target: "/proc", FSType: "proc", Flags: nsn},
		{Source: "sysfs", Target: "/sys", FSType: "sysfs", Flags: nsn | msRdonly},
		{Source: "tmpfs", Target: "/dev", FSType: "tmpfs", Flags: nsn, Data: "mode=755,size=64k"},
	}
	for _, name := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		plan = append(plan, Mount{Kind: KindDevice, Source: "/dev/" + name, Target: "/dev/" + name, Flags: deviceFlags})
	}
	plan = append(plan,
		Mount{Source: "devpts", Target: "/dev/pts", FSType: "devpts", Flags: msNosuid | msNoexec,
			Data: "newinstance,ptmxmode=0666,mode=0620"},
		Mount{Kind: KindSymlink, Source: "pts/ptmx", Target: "/dev/ptmx"},
		Mount{Source: "shm", Target: "/dev/shm", FSType: "tmpfs", Flags: nsn, Data: "mode=1777,size=64m"},
		// Optional: a kernel built without POSIX message queues has no
		// mqueue filesystem, and most workloads never notice.
		Mount{Source: "mqueue", Target: "/dev/mqueue", FSType: "mqueue", Flags: nsn, Optional: true},
		Mount{Kind: KindSymlink, Source: "/proc/self/fd", Target: "/dev/fd"},
		Mount{Kind: KindSymlink, Source: "/proc/self/fd/0", Target: "/dev/stdin"},
		Mount{Kind: KindSymlink, Source: "/proc/self/fd/1", Target: "/dev/stdout"},
		Mount{Kind: KindSymlink, Source: "/proc/self/fd/2", Target: "/dev/stderr"},
		Mount{Source: "tmpfs", Target: "/run", FSType: "tmpfs", Flags: msNosuid | msNodev, Data: "mode=755,size=64m"},
	)
	return plan
}
