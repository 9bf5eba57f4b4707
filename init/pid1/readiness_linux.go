package pid1

import (
	"bytes"
	"os"

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
// whose process sent it (the process itself, or one of its process group
// or cgroup), and only for that process's run.
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
// itself, a member of its process group, or of its cgroup. nil for any
// other pid (and for 0, a sender outside miniinit's PID namespace).
func (l *loop) owner(pid int) *process {
	if pid <= 0 {
		return nil
	}
	if p, ok := l.procs[pid]; ok {
		return p
	}
	if pgid, err := unix.Getpgid(pid); err == nil {
		if p, ok := l.procs[pgid]; ok {
			return p
		}
	}
	return l.cgroupOwner(pid)
}
