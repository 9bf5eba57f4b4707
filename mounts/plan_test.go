package mounts

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const defaultPlanGolden = `mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys
mount -t tmpfs -o nosuid,nodev,noexec,mode=755,size=64k tmpfs /dev
mount -o ro,nosuid,noexec,bind /dev/null /dev/null # char device 1:3
mount -o ro,nosuid,noexec,bind /dev/zero /dev/zero # char device 1:5
mount -o ro,nosuid,noexec,bind /dev/full /dev/full # char device 1:7
mount -o ro,nosuid,noexec,bind /dev/random /dev/random # char device 1:8
mount -o ro,nosuid,noexec,bind /dev/urandom /dev/urandom # char device 1:9
mount -o ro,nosuid,noexec,bind /dev/tty /dev/tty # char device 5:0
mount -t devpts -o nosuid,noexec,newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o nosuid,nodev,noexec,mode=1777,size=64m shm /dev/shm
mount -t mqueue -o nosuid,nodev,noexec mqueue /dev/mqueue # optional
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o nosuid,nodev,mode=755,size=64m tmpfs /run
`

func TestDefaultMountsGolden(t *testing.T) {
	var b strings.Builder
	for _, m := range DefaultMounts() {
		if err := m.Validate(); err != nil {
			t.Errorf("default step invalid: %v", err)
		}
		fmt.Fprintln(&b, m)
	}
	if got := b.String(); got != defaultPlanGolden {
		t.Errorf("default plan changed:\n%s\nwant:\n%s", got, defaultPlanGolden)
	}
}

func TestMountString(t *testing.T) {
	for _, c := range []struct {
		m    Mount
		want string
	}{
		{Mount{Source: "proc", Target: "/proc", FSType: "proc", Flags: msNosuid | msNodev | msNoexec},
			"mount -t proc -o nosuid,nodev,noexec proc /proc"},
		{Mount{Source: "/srv/data", Target: "/data", Flags: msBind | msRec | msRdonly | msSlave | msRec},
			"mount -o ro,rbind,rslave /srv/data /data"},
		{Mount{Target: "/x", Flags: msPrivate}, "mount -o private none /x"},
		{Mount{Source: "tmpfs", Target: "/tmp", FSType: "tmpfs", Optional: true}, "mount -t tmpfs tmpfs /tmp # optional"},
		{Mount{Kind: KindDevice, Source: "/dev/fuse", Target: "/dev/fuse", Flags: msBind}, "mount -o bind /dev/fuse /dev/fuse # char device"},
		{Mount{Kind: KindSymlink, Source: "../run", Target: "/var/run", Optional: true}, "ln -s ../run /var/run # optional"},
	} {
		if got := c.m.String(); got != c.want {
			t.Errorf("String() = %q, want %q", got, c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	bad := []Mount{
		{Source: "proc", Target: "proc", FSType: "proc"},
		{Source: "proc", Target: "/", FSType: "proc"},
		{Source: "proc", Target: "/a/../proc", FSType: "proc"},
		{Source: "proc", Target: "/proc/"},
		{Source: "rel/dir", Target: "/x", Flags: msBind},
		{Source: "/a", Target: "/x", Flags: msMove},
		{Kind: KindDevice, Source: "null", Target: "/dev/null", Flags: msBind},
		{Kind: KindDevice, Source: "/dev/null", Target: "/dev/null"},
		{Kind: KindSymlink, Target: "/dev/fd"},
		{Kind: Kind(9), Target: "/x"},
	}
	for _, m := range bad {
		if err := m.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", m)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	for _, c := range []struct {
		err  *Error
		want string
	}{
		{&Error{Op: "mount", Source: "proc", Target: "/proc", FSType: "proc", Err: unix.EPERM}, "mount proc on /proc: EPERM"},
		{&Error{Op: "pivot_root", Target: "/x", Err: unix.EINVAL}, "pivot_root /x: EINVAL"},
		{&Error{Op: "mkdir", Target: "/x/dev", Err: unix.EROFS}, "mkdir /x/dev: EROFS"},
		{&Error{Op: "open", Target: "/dev", Err: &reasonErr{unix.ELOOP, "target is a symlink"}}, "open /dev: ELOOP (target is a symlink)"},
		{&Error{Op: "check", Target: "/dev/null", Err: errors.New("odd")}, "check /dev/null: odd"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
	wrapped := fmt.Errorf("step 1: %w", &Error{Op: "mkdir", Target: "/x", Err: &reasonErr{unix.ENOENT, "dangling symlink"}})
	var me *Error
	if !errors.As(wrapped, &me) || me.Op != "mkdir" {
		t.Errorf("errors.As did not find *Error in %v", wrapped)
	}
	if !errors.Is(wrapped, unix.ENOENT) {
		t.Errorf("errors.Is(ENOENT) false for %v", wrapped)
	}
}
