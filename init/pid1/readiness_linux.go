package pid1

import (
	"bytes"
	"os"
	"strconv"
	"strings"

	"github.com/minispawn/minispawn/init/supervise"
	"golang.org/x/sys/unix"
)

// Readiness as the workloads report it: a line on a descriptor (s6's
// protocol) or READY=1 on the notify socket (systemd's, notify_linux.go).
// Probes are in probe.go.

// readyPipe makes the pipe for run of workload name's readiness line and
// starts its reader; it returns the write end for the child.
//
// The reader waits in Go's poller for the first newline, then posts the
// event and closes its end. End of file without a newline (the workload
// closed the descriptor, or ended) posts nothing: the start timeout, if
// any, decides then. A stale line (from a run the machine no longer
// knows) is dropped by the machine.
func (l *loop) readyPipe(name string, run int) (*os.File, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, sysErr("readiness pipe", err)
	}
	if err := unix.SetNonblock(p[0], true); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return nil, sysErr("readiness pipe O_NONBLOCK", err)
	}
	r := os.NewFile(uintptr(p[0]), "ready")
	go func() {
		defer r.Close()
		buf := make([]byte, 512)
		for {
			n, err := r.Read(buf)
			if bytes.IndexByte(buf[:n], '\n') >= 0 {
				l.post(readyLine{name, run})
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return os.NewFile(uintptr(p[1]), "ready"), nil
}

// onNotify takes one notify datagram: it counts only for the workload
// whose process sent it (the process itself, or one of its cgroup or of
// its descendants: see owner), and only for that process's run.
func (l *loop) onNotify(m notifyMsg) {
	// Closing what came with the datagram, after acting on it, is what
	// releases a sender waiting on BARRIER=1.
	defer closeAll(m.fds)
	p := l.owner(m.pid)
	if p == nil {
		l.log.Warn("notify message from a process that is no workload's: dropped", "pid", m.pid, "fields", m.fields)
		return
	}
	if p.w.Policy.Ready.Kind != supervise.ReadyNotify {
		l.log.Debug("notify message from a workload that does not use the protocol: dropped", "workload", p.w.Name, "pid", m.pid)
		return
	}
	if text, ok := m.fields["STATUS"]; ok {
		l.handle(supervise.StatusNotified{Name: p.w.Name, Run: p.run, Text: text})
	}
	if m.fields["READY"] == "1" {
		l.log.Info("workload ready", "workload", p.w.Name, "by", "notify", "pid", m.pid)
		l.handle(supervise.ReadyNotified{Name: p.w.Name, Run: p.run})
	}
}

// owner returns the running workload process pid belongs to: the process
// itself; else the workload whose cgroup holds pid; else, for a pid in no
// workload's cgroup (there are none, or it was not born into one), the
// workload whose process is pid's ancestor by parent chain, which no
// process can change. Never by process group: every workload is in
// miniinit's session, where any process may join another workload's group
// with setpgid(2). nil for any other pid, and for 0, a sender outside
// miniinit's PID namespace.
func (l *loop) owner(pid int) *process {
	if pid <= 0 {
		return nil
	}
	if p, ok := l.procs[pid]; ok {
		return p
	}
	if l.cgroups != nil {
		if name := l.cgroups.owner(l.procPid(pid)); name != "" {
			if wk := l.works[name]; wk != nil && wk.cur != nil && wk.cur.running && wk.cur.cgroup {
				return wk.cur
			}
			return nil
		}
	}
	return l.ancestorOwner(pid)
}

// ancestorOwner walks pid's parent chain in /proc up to miniinit and
// returns the running workload process found on the way, if any. It
// needs a /proc of miniinit's PID namespace.
func (l *loop) ancestorOwner(pid int) *process {
	for steps := 0; l.procOK && pid > 1 && pid != l.self && steps < maxChain; steps++ {
		e, err := readStat(pid)
		if err != nil {
			return nil
		}
		if p, ok := l.procs[e.PPid]; ok {
			return p
		}
		pid = e.PPid
	}
	return nil
}

// maxChain bounds the walk up a parent chain: deeper than any real tree,
// short enough for the loop.
const maxChain = 256

// procPid returns the number /proc knows pid by: pid itself when /proc
// shows miniinit's PID namespace, else (miniinit is PID 1 of a namespace
// that kept the /proc of an outer one) its number there, which a pidfd's
// fdinfo gives in the namespace of the /proc it is read from. 0 when that
// cannot be told.
func (l *loop) procPid(pid int) int {
	if l.procOK {
		return pid
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	b, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Pid:"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}
