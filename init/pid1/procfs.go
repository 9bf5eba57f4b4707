package pid1

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/minispawn/minispawn/internal/mountinfo"
)

// procEntry is what the drain needs to know about one process, read from
// /proc/PID/stat. Pid and Start together name a process for good: a pid can
// be reused, a (pid, start time) pair cannot.
type procEntry struct {
	Pid   int    `json:"pid"`
	Comm  string `json:"comm"`
	PPid  int    `json:"-"`
	Pgrp  int    `json:"-"`
	Sid   int    `json:"-"`
	State byte   `json:"-"`
	Start uint64 `json:"-"` // clock ticks after boot
	// Dying: it is exiting (PF_EXITING) or has a SIGKILL pending, so it
	// ends without running another instruction of its own.
	Dying bool `json:"-"`
}

func (e procEntry) String() string { return fmt.Sprintf("%d(%s)", e.Pid, e.Comm) }

// procKey identifies a process across pid reuse.
type procKey struct {
	pid   int
	start uint64
}

func (e procEntry) key() procKey { return procKey{e.Pid, e.Start} }

// parseStat reads the fields it needs from the contents of /proc/PID/stat
// (proc(5)): "pid (comm) state ppid ... starttime ...". comm may hold
// spaces and parentheses, so it runs to the LAST ')'.
func parseStat(b []byte) (procEntry, error) {
	open := bytes.IndexByte(b, '(')
	closing := bytes.LastIndexByte(b, ')')
	if open < 1 || closing < open {
		return procEntry{}, fmt.Errorf("parse stat %q: no (comm)", b)
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return procEntry{}, fmt.Errorf("parse stat: pid: %w", err)
	}
	// Fields from state (field 3 in proc(5)) on; starttime is field 22.
	f := bytes.Fields(b[closing+1:])
	if len(f) < 20 || len(f[0]) != 1 {
		return procEntry{}, fmt.Errorf("parse stat of %d: %d fields after comm, want at least 20", pid, len(f))
	}
	ppid, err := strconv.Atoi(string(f[1]))
	if err != nil {
		return procEntry{}, fmt.Errorf("parse stat of %d: ppid: %w", pid, err)
	}
	pgrp, err := strconv.Atoi(string(f[2]))
	if err != nil {
		return procEntry{}, fmt.Errorf("parse stat of %d: pgrp: %w", pid, err)
	}
	sid, err := strconv.Atoi(string(f[3]))
	if err != nil {
		return procEntry{}, fmt.Errorf("parse stat of %d: session: %w", pid, err)
	}
	start, err := strconv.ParseUint(string(f[19]), 10, 64)
	if err != nil {
		return procEntry{}, fmt.Errorf("parse stat of %d: starttime: %w", pid, err)
	}
	e := procEntry{Pid: pid, Comm: string(b[open+1 : closing]), PPid: ppid, Pgrp: pgrp, Sid: sid, State: f[0][0], Start: start}
	// flags (field 9) and the pending signals (field 31, the first 31
	// of them, enough for SIGKILL), where the kernel gives them.
	if len(f) > 28 {
		flags, _ := strconv.ParseUint(string(f[6]), 10, 64)
		pending, _ := strconv.ParseUint(string(f[28]), 10, 64)
		e.Dying = flags&pfExiting != 0 || pending&(1<<(9-1)) != 0
	}
	return e, nil
}

// pfExiting is the kernel's PF_EXITING task flag: the task is in exit.
const pfExiting = 0x4

// notDying returns the entries of es that are not dying.
func notDying(es []procEntry) []procEntry {
	var out []procEntry
	for _, e := range es {
		if !e.Dying {
			out = append(out, e)
		}
	}
	return out
}

// descendants returns the live (not zombie) processes in all whose parent
// chain reaches root, in the order of all.
func descendants(all []procEntry, root int) []procEntry {
	return under(all, map[int]bool{root: true})
}

// under returns the live (not zombie) processes in all, roots excluded,
// whose parent chain reaches one of roots, in the order of all.
func under(all []procEntry, roots map[int]bool) []procEntry {
	parent := make(map[int]int, len(all))
	for _, e := range all {
		parent[e.Pid] = e.PPid
	}
	var out []procEntry
	for _, e := range all {
		if roots[e.Pid] || e.State == 'Z' {
			continue
		}
		// Walk up at most len(all) steps: a cycle cannot happen in a
		// consistent snapshot, but a snapshot is not atomic.
		for p, steps := e.PPid, 0; p > 0 && steps <= len(all); p, steps = parent[p], steps+1 {
			if roots[p] {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

// alive returns the entries of all that are not zombies and not self.
func alive(all []procEntry, self int) []procEntry {
	var out []procEntry
	for _, e := range all {
		if e.Pid != self && e.State != 'Z' {
			out = append(out, e)
		}
	}
	return out
}

// sharedUnder reads /proc/self/mountinfo (proc(5)) and returns the "shared:N"
// tag of the mount that a new mount on target would sit on: the mount at
// target itself, or else the one whose mount point is target's longest
// ancestor. It returns "" when that mount does not propagate to peers. When
// several mounts stack on one point, the last line is the visible one.
func sharedUnder(table []byte, target string) string {
	best, tag := -1, ""
	for _, line := range bytes.Split(table, []byte{'\n'}) {
		f := bytes.Fields(line)
		if len(f) < 7 {
			continue
		}
		mp := mountinfo.Unescape(string(f[4]))
		if !isPathPrefix(mp, target) || len(mp) < best {
			continue
		}
		best, tag = len(mp), ""
		// Optional fields run from the seventh field to the "-".
		for _, opt := range f[6:] {
			if string(opt) == "-" {
				break
			}
			if bytes.HasPrefix(opt, []byte("shared:")) {
				tag = string(opt)
			}
		}
	}
	return tag
}

// isPathPrefix reports whether dir is p or one of its ancestors.
func isPathPrefix(dir, p string) bool {
	if dir == "/" || dir == p {
		return true
	}
	return len(p) > len(dir) && p[:len(dir)] == dir && p[len(dir)] == '/'
}
