package pid1

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minispawn/minispawn/init/hostlink"
)

// miniinit's end of the channel to minispawn (package hostlink), given as
// Options.HostFD. What goes out, from the loop's goroutine but the first:
//
//	SIGNALS_CAUGHT=1  once, in setup, as soon as signals are caught and
//	                  before any workload starts (run.go): minispawn
//	                  holds every signal until then
//	STATUS=...        whenever the line of hostViewOf changes
//	EXTEND_TIMEOUT_USEC=N  when one more workload is up and the container
//	                  is not ready yet: the start progresses (extendFor)
//	READY=1           once every main and essential workload is up, and
//	                  at the end of each reload
//	STOPPING=1        once the shutdown begins
//	RELOADING=1       at the start of a reload minispawn asked for
//	HEARTBEAT=N       in answer to minispawn's HEARTBEAT=N: answered by
//	                  the event loop itself, so a loop that hangs stops
//	                  answering, and minispawn stops the watchdog's pings
//
//	RELOAD_ASKED=1    a `ctl reload` came, and the configuration is
//	                  minispawn's to read again (reloadViaHost)
//
// What comes in (read by a goroutine, handled by the loop as events):
// HEARTBEAT=N; RELOAD=1, the answer to RELOAD_ASKED=1, with the
// configuration file's current content as a descriptor (minispawn read
// and checked it on the host, as the container cannot reach the file);
// RELOAD_REFUSED=why when it could not.

// hostLink is the channel and what was last sent on it.
type hostLink struct {
	conn     *hostlink.Conn
	ready    bool // READY=1 sent (and no reload since)
	stopping bool
	status   string
	readyN   int
	// reloads are the `ctl reload`s waiting for minispawn's answer to
	// the question asked at askedAt.
	reloads []*ctlRequest
	askedAt time.Time
}

// hostMsg is a message from minispawn, for the loop, with the file that
// came with it (or nil).
type hostMsg struct {
	m    hostlink.Message
	file *os.File
}

// openHostLink takes the descriptor minispawn passed (a close-on-exec
// duplicate, so no workload inherits it; the original is closed) and
// starts reading it. It must run before inherited descriptors are closed.
func (l *loop) openHostLink() {
	if l.opts.HostFD <= 0 {
		return
	}
	c, err := hostlink.FromFD(l.opts.HostFD)
	if err != nil {
		l.log.Warn("no channel to minispawn: readiness and heartbeats will not reach it", "err", err)
		return
	}
	l.host = &hostLink{conn: c}
	go func() {
		for {
			m, _, files, err := c.RecvFiles()
			if errors.Is(err, hostlink.ErrMalformed) {
				continue
			}
			if err != nil {
				return // minispawn is gone, or the channel was closed
			}
			var f *os.File
			for i, g := range files {
				if i == 0 {
					f = g
				} else {
					g.Close()
				}
			}
			l.post(hostMsg{m, f})
		}
	}()
}

// onHostMsg answers a heartbeat, or reloads.
func (l *loop) onHostMsg(e hostMsg) {
	if e.file != nil {
		defer e.file.Close()
	}
	if n, ok := e.m.Get(hostlink.Heartbeat); ok {
		l.hostSend(hostlink.Message{{Key: hostlink.Heartbeat, Value: n}})
	}
	if v, ok := e.m.Get(hostlink.Reload); ok && v == "1" {
		diff, err := l.hostReload(e.file)
		l.answerReloads(diff, err)
	}
	if why, ok := e.m.Get(hostlink.ReloadRefused); ok {
		if u, err := strconv.Unquote(why); err == nil {
			why = u
		}
		l.log.Warn("reload refused by minispawn", "err", why)
		l.answerReloads(reloadDiff{}, fmt.Errorf("reload refused: %s", why))
	}
}

// reloadViaHost takes a `ctl reload` when the configuration came from
// minispawn, which alone can read the file again (the container cannot
// reach it): it asks minispawn (RELOAD_ASKED=1), which answers with the
// file's current content (RELOAD=1, hostReload) or why not
// (RELOAD_REFUSED); the request is answered then. Every reload reads the
// file as it is at that moment, never a copy kept from an earlier one. It
// reports whether it took the request.
func (l *loop) reloadViaHost(c *ctlRequest) bool {
	if l.host == nil || l.opts.ReloadFrom == nil {
		return false
	}
	if len(l.host.reloads) > 0 && time.Since(l.host.askedAt) > controlTimeout {
		// Those asked for have had their answer ("did not answer in
		// time"); ask again rather than wait on a lost question.
		l.answerReloads(reloadDiff{}, errors.New("reload: minispawn did not answer"))
	}
	l.host.reloads = append(l.host.reloads, c)
	if len(l.host.reloads) > 1 {
		return true // one question answers them all
	}
	l.host.askedAt = time.Now()
	if err := l.host.conn.Send(hostlink.Message{{Key: hostlink.ReloadAsked, Value: "1"}}); err != nil {
		l.answerReloads(reloadDiff{}, fmt.Errorf("reload: ask minispawn for the file: %w", err))
	}
	return true
}

// answerReloads answers the `ctl reload`s waiting for minispawn.
func (l *loop) answerReloads(diff reloadDiff, err error) {
	if l.host == nil {
		return
	}
	for _, c := range l.host.reloads {
		l.reply(c, ControlResponse{Changed: diff.Changed, Added: diff.Added, Removed: diff.Removed}, err)
	}
	l.host.reloads = nil
}

// hostReload reloads from the configuration's content minispawn sent
// (file), framed by RELOADING=1 and READY=1 as the service manager
// expects.
func (l *loop) hostReload(file *os.File) (reloadDiff, error) {
	l.hostSend(hostlink.Message{{Key: hostlink.Reloading, Value: "1"}, {Key: hostlink.Status, Value: "reloading"}})
	diff, err := l.reload(func() ([]Workload, map[syscall.Signal][]string, error) {
		if file == nil || l.opts.ReloadFrom == nil {
			return nil, nil, errors.New("minispawn sent no configuration to read")
		}
		data, err := io.ReadAll(io.NewSectionReader(file, 0, 1<<24))
		if err != nil {
			return nil, nil, fmt.Errorf("read the configuration minispawn sent: %w", err)
		}
		return l.opts.ReloadFrom(data)
	})
	status := "reloaded: " + strconv.Itoa(len(diff.Changed)+len(diff.Added)+len(diff.Removed)) + " workload(s) changed"
	if err != nil {
		l.log.Warn("reload asked by minispawn", "err", err)
		status = "reload failed: " + strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	// READY=1 ends the reload, whatever its outcome: the old workloads
	// still run.
	l.host.status = ""
	l.hostSend(hostlink.Message{{Key: hostlink.Ready, Value: "1"}, {Key: hostlink.Status, Value: status}})
	l.host.ready = true
	return diff, err
}

// reportHost tells minispawn what changed since the last report. The loop
// calls it after every event it hands the machine.
func (l *loop) reportHost() {
	if l.host == nil {
		return
	}
	sts := l.m.Status()
	v := hostViewOf(sts, l.m.ShuttingDown(), l.failure())
	h := l.host
	var m hostlink.Message
	if v.stopping && !h.stopping {
		h.stopping = true
		m = append(m, hostlink.Field{Key: hostlink.Stopping, Value: "1"})
	}
	if !v.stopping && !h.ready {
		if v.ready {
			h.ready = true
			m = append(m, hostlink.Field{Key: hostlink.Ready, Value: "1"})
		} else if v.readyN > h.readyN {
			us := extendFor(sts, l.startTimeouts()).Microseconds()
			m = append(m, hostlink.Field{Key: hostlink.ExtendTimeout, Value: strconv.FormatInt(us, 10)})
		}
	}
	h.readyN = v.readyN
	if v.status != h.status {
		h.status = v.status
		m = append(m, hostlink.Field{Key: hostlink.Status, Value: v.status})
	}
	if len(m) > 0 {
		l.hostSend(m)
	}
}

// failure says which workload failed and why when the shutdown is for a
// failure; "" otherwise.
func (l *loop) failure() string {
	sum, ok := l.m.Shutdown()
	if !ok || sum.Reason == "signal" || sum.Code == 0 {
		return ""
	}
	return l.shutdownDetail(sum)
}

// startTimeouts maps each workload to its start timeout.
func (l *loop) startTimeouts() map[string]time.Duration {
	out := make(map[string]time.Duration, len(l.order))
	for _, wk := range l.order {
		out[wk.w.Name] = wk.w.Policy.StartTimeout
	}
	return out
}

// hostSend sends one message; a failure is logged once: minispawn may be
// gone (the container then dies with it anyway).
func (l *loop) hostSend(m hostlink.Message) {
	if l.host == nil || l.host.conn == nil {
		return
	}
	if err := l.host.conn.Send(m); err != nil {
		l.log.Debug("channel to minispawn", "err", err)
	}
}
