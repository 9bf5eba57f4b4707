package main

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"

	"github.com/minispawn/minispawn/config"
	"github.com/minispawn/minispawn/init/hostlink"
)

// serviceLink is minispawn's side of the service manager's protocol
// (sd_notify), and the host end of the channel to miniinit (hostlink).
// When minispawn was not started by a service manager ($NOTIFY_SOCKET
// unset) every send is a no-op, so interactive runs need no special case.
//
// Its life, as spawn drives it:
//
//	newServiceLink      at the start: the watchdog pings while setup runs
//	setStatus           minispawn's own progress lines
//	attach              once the container runs: relay miniinit's channel,
//	                    ping only while miniinit answers heartbeats
//	readyAtExec         without a channel, or with notify = "started":
//	                    READY=1 as soon as miniinit runs
//	onSignal            SIGTERM/SIGINT: STOPPING=1
//	onReloadAsked       miniinit asks for the file again (ctl reload)
//	close               at the end: stop the goroutines
type serviceLink struct {
	log *slog.Logger
	// send writes one message to the service manager; it reports false
	// when there is none.
	send func(state string) (bool, error)
	// monotonic is CLOCK_MONOTONIC now (for RELOADING=1).
	monotonic func() time.Duration

	// configFile is the container's file, read again when miniinit asks
	// for it (a `ctl reload`) and sent to it ("" for an ad-hoc run).
	configFile string
	// running is the configuration the container was started with.
	running *config.Config

	mu   sync.Mutex
	conn *hostlink.Conn // nil until attach
	// readDone is closed when the relay's reader has read the channel
	// to its end (nil until attach).
	readDone chan struct{}
	relay    relay
	beats    heartbeat
	// readyCh is closed at the first READY=1 sent.
	readyCh chan struct{}

	stop chan struct{}
	wg   sync.WaitGroup
}

// newServiceLink starts the link. With a watchdog (WATCHDOG_USEC for
// this pid) it starts pinging at once: minispawn itself does the work
// until the container runs.
func newServiceLink(log *slog.Logger) *serviceLink {
	s := &serviceLink{
		log:       log,
		send:      func(state string) (bool, error) { return daemon.SdNotify(false, state) },
		monotonic: monotonicNow,
		readyCh:   make(chan struct{}),
		stop:      make(chan struct{}),
	}
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn("watchdog settings from the service manager", "err", err)
	}
	s.startWatchdog(interval)
	return s
}

// startWatchdog pings every interval/4 while heartbeats are fresh (see
// heartbeat). A zero interval means no watchdog.
func (s *serviceLink) startWatchdog(interval time.Duration) {
	if interval <= 0 {
		return
	}
	s.beats.interval = interval
	s.log.Debug("watchdog on", "interval", interval)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.beats.period())
		defer t.Stop()
		for {
			s.watchdogTick(time.Now())
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
}

func (s *serviceLink) watchdogTick(now time.Time) {
	s.mu.Lock()
	ping, req := s.beats.tick(now)
	conn := s.conn
	s.mu.Unlock()
	if req != 0 && conn != nil {
		if err := conn.Send(hostlink.Message{{Key: hostlink.Heartbeat, Value: strconv.FormatUint(req, 10)}}); err != nil {
			s.log.Debug("heartbeat request", "err", err)
		}
	}
	if ping {
		s.notify("WATCHDOG=1")
	} else {
		s.log.Debug("no watchdog ping: the container's init has not answered a heartbeat lately")
	}
}

// notify sends one message to the service manager, logging a failure.
func (s *serviceLink) notify(state string) {
	if sent, err := s.send(state); err != nil {
		s.log.Warn("notify the service manager", "err", err)
	} else if sent {
		s.log.Debug("notified the service manager", "state", state)
	}
}

// setStatus sends minispawn's own STATUS= line.
func (s *serviceLink) setStatus(text string) {
	s.notify(hostlink.Message{{Key: hostlink.Status, Value: cleanStatus(text)}}.String())
}

// readyAtExec sends READY=1 now: the container runs, and nothing will
// report on the workloads' readiness.
func (s *serviceLink) readyAtExec(status string) {
	s.mu.Lock()
	s.relay.ready = true
	s.mu.Unlock()
	s.notify(hostlink.Message{{Key: hostlink.Ready, Value: "1"}, {Key: hostlink.Status, Value: cleanStatus(status)}}.String())
	s.markReady()
}

func (s *serviceLink) markReady() {
	select {
	case <-s.readyCh:
	default:
		close(s.readyCh)
	}
}

// attach starts relaying the channel conn, whose only legitimate sender is
// the container's init, host pid initPid. From now on the watchdog pings
// only while that init answers heartbeats. The relay ends when the
// channel reads end of file (miniinit is gone) or at close.
func (s *serviceLink) attach(conn *hostlink.Conn, initPid int) {
	s.mu.Lock()
	s.conn = conn
	s.relay.initPid = initPid
	if s.beats.interval > 0 {
		s.beats.goLive(time.Now())
	}
	s.readDone = make(chan struct{})
	done := s.readDone
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(done)
		s.readLoop(conn)
	}()
}

func (s *serviceLink) readLoop(conn *hostlink.Conn) {
	for {
		m, who, err := conn.Recv()
		switch {
		case errors.Is(err, hostlink.ErrMalformed):
			s.log.Warn("dropped a malformed message from the container", "pid", who.Pid, "err", err)
			continue
		case errors.Is(err, io.EOF), errors.Is(err, os.ErrClosed): // os.ErrClosed: our Close
			return
		case err != nil:
			s.log.Warn("read the container's init channel", "err", err)
			return
		}
		s.handle(m, who.Pid, time.Now())
	}
}

// handle filters one message and sends what passes.
func (s *serviceLink) handle(m hostlink.Message, pid int, now time.Time) {
	s.mu.Lock()
	wasReady := s.relay.ready
	out := s.relay.fromInit(m, pid, s.monotonic())
	if out.hasBeat && !s.beats.answer(out.beat, now) {
		s.log.Debug("heartbeat answer not asked for, ignored", "n", out.beat)
	}
	nowReady := s.relay.ready
	s.mu.Unlock()
	for _, d := range out.dropped {
		s.log.Warn("not relayed to the service manager: " + d)
	}
	if len(out.notify) > 0 {
		s.notify(out.notify.String())
	}
	if nowReady && !wasReady {
		s.markReady()
	}
	if out.reloadAsked {
		s.mu.Lock()
		conn := s.conn
		s.mu.Unlock()
		s.onReloadAsked(conn)
	}
}

// onSignal tells the service manager what a signal to minispawn means:
// SIGTERM and SIGINT stop the container. Every signal is still forwarded
// to the container, SIGHUP included (a reload is `minispawn ctl reload`,
// onReloadAsked).
func (s *serviceLink) onSignal(sig os.Signal) {
	switch sig {
	case unix.SIGTERM, unix.SIGINT:
		s.notify("STOPPING=1\nSTATUS=stopping: asked the container to stop (" + unix.SignalName(sig.(unix.Signal)) + ")")
	}
}

// onReloadAsked answers miniinit's RELOAD_ASKED=1 (a `ctl reload`: from
// `minispawn ctl`, which systemctl reload runs, or from inside). The file
// is read again and checked here, since the container cannot reach it,
// and its content goes to miniinit (RELOAD=1); or why not
// (RELOAD_REFUSED), so that a broken edit leaves the workloads alone.
func (s *serviceLink) onReloadAsked(conn *hostlink.Conn) {
	refuse := func(why string) {
		s.log.Error("reload refused: " + why)
		s.setStatus("reload refused: " + firstLine(why))
		if err := conn.Send(hostlink.Message{{Key: hostlink.ReloadRefused, Value: strconv.Quote(clipText(why, hostlink.MaxMessage/2))}}); err != nil {
			s.log.Warn("tell the container the reload was refused", "err", err)
		}
	}
	if s.configFile == "" {
		refuse("the container was started from the command line, not from a file: there is nothing to read again")
		return
	}
	f, next, err := configForReload(s.configFile)
	if err != nil {
		refuse(err.Error())
		return
	}
	defer f.Close()
	s.pendingRestart(next)
	s.mu.Lock()
	s.relay.ready = false
	s.mu.Unlock()
	// RELOADING=1 first, so that the unit shows "reloading" at once
	// (Type=notify-reload waits for it); miniinit's READY=1 ends it.
	s.notify("RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatInt(s.monotonic().Microseconds(), 10) +
		"\nSTATUS=reloading")
	if err := conn.Send(hostlink.Message{{Key: hostlink.Reload, Value: "1"}}, f); err != nil {
		s.log.Warn("send the container its configuration", "err", err)
	}
}

// pendingRestart works out what of the edited configuration next the
// reload leaves for the next start: said at warning priority now, and on
// every status line from now on (until a reload of a file that changes
// nothing of the kind).
func (s *serviceLink) pendingRestart(next *config.Config) {
	if s.running == nil {
		return
	}
	pending := config.RestartOnly(s.running, next)
	s.mu.Lock()
	s.relay.pending = pending
	s.mu.Unlock()
	if len(pending) > 0 {
		s.log.Warn("reload: not applied until the container restarts: "+strings.Join(pending, ", "), "file", s.configFile)
	}
}

// ready is closed at the first READY=1 sent.
func (s *serviceLink) ready() <-chan struct{} { return s.readyCh }

// close stops the watchdog and the relay, and closes the channel. It
// waits for both goroutines.
func (s *serviceLink) close() {
	close(s.stop)
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
	s.wg.Wait()
}

func monotonicNow() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// hostChannel makes the channel to miniinit when miniinit takes it: the
// host end as a Conn, and the container's end for the second stage (at
// fdHost). Both nil otherwise.
func hostChannel() (*hostlink.Conn, *os.File, error) {
	if !miniinitTakesHostFD {
		return nil, nil, nil
	}
	host, child, err := hostlink.Pair()
	if err != nil {
		return nil, nil, err
	}
	defer host.Close() // the Conn holds its own duplicate
	conn, err := hostlink.NewConn(host)
	if err != nil {
		child.Close()
		return nil, nil, err
	}
	return conn, child, nil
}

// containerStarted is called once miniinit runs as the container's PID 1
// (host pid pid). With a channel, minispawn relays it from now on and
// READY=1 waits for miniinit's report (unless notify = "started");
// without one, the container counts as ready now.
func (s *serviceLink) containerStarted(conn *hostlink.Conn, pid int, plan *Plan) {
	notify, name := plan.Service.Notify, plan.Name
	if _, err := os.Stat(plan.ConfigFile); err == nil {
		s.configFile, s.running = plan.ConfigFile, plan.Config
	}
	if conn == nil {
		s.readyAtExec("container " + name + " running")
		return
	}
	s.attach(conn, pid)
	if notify == config.NotifyStarted {
		s.readyAtExec("container " + name + " running")
		return
	}
	s.setStatus("container " + name + " running; waiting for its workloads to be ready")
}

// relayEndWait bounds how long exited waits for the last messages of a
// container that has ended: its end of the channel closes once its last
// process is gone, which follows PID 1 at once.
const relayEndWait = 500 * time.Millisecond

// exited tells the manager the container is gone and minispawn is
// cleaning up, with the failure that ended it, if one did; it returns
// that failure ("" for none). The messages miniinit sent last are relayed
// first, so that its word on the failure is not lost to the race between
// the channel and the wait.
func (s *serviceLink) exited(how string) string {
	s.mu.Lock()
	done := s.readDone
	s.mu.Unlock()
	if done != nil {
		select {
		case <-done:
		case <-time.After(relayEndWait):
		}
	}
	s.mu.Lock()
	why := failureIn(s.relay.status)
	s.mu.Unlock()
	status := "container exited (" + how + ")"
	if why != "" {
		status += ": " + why
	}
	s.notify("STOPPING=1\nSTATUS=" + cleanStatus(status+"; cleaning up"))
	return why
}

// configForReload reads and checks the container's file again, and
// returns its content in a sealed memfd for miniinit.
func configForReload(path string) (*os.File, *config.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	c, err := config.Parse(path, data)
	if err != nil {
		return nil, nil, err
	}
	f, err := sealedCopy("config", "", data)
	return f, c, err
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
