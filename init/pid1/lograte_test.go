package pid1

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func limitedLogger(level slog.Level) (*slog.Logger, *rateLimit, *bytes.Buffer, *fakeClock) {
	var b bytes.Buffer
	c := &fakeClock{time.Unix(1000, 0)}
	h := newRateLimit(slog.NewTextHandler(&b, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}), c.now)
	return slog.New(h), h, &b, c
}

// TestRateLimitCollapsesRepeats: a crash loop's 16,000 identical ERROR
// lines a second come out as rateBurst lines a second, the next one
// saying how many were left out; what was left out last is said at the
// flush; other kinds of lines are not held up by it.
func TestRateLimitCollapsesRepeats(t *testing.T) {
	log, h, b, c := limitedLogger(slog.LevelInfo)
	for i := range 16000 {
		log.Error("start workload", "workload", "flap", "run", i, "err", "exec: ENOENT")
		if i == 100 {
			log.Error("start workload", "workload", "other", "run", 1, "err", "exec: ENOENT")
			log.Info("forwarding signal", "signal", "SIGHUP")
		}
	}
	c.t = c.t.Add(rateWindow)
	log.Error("start workload", "workload", "flap", "run", 16000, "err", "exec: ENOENT")
	for range 3 {
		log.Error("start workload", "workload", "flap", "run", 16001, "err", "exec: ENOENT")
	}
	for range 10 {
		log.Error("start workload", "workload", "flap", "run", 16002, "err", "exec: ENOENT")
	}
	h.flush()
	got := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		`level=ERROR msg="start workload" workload=flap run=0 err="exec: ENOENT"`,
		`level=ERROR msg="start workload" workload=flap run=1 err="exec: ENOENT"`,
		`level=ERROR msg="start workload" workload=flap run=2 err="exec: ENOENT"`,
		`level=ERROR msg="start workload" workload=flap run=3 err="exec: ENOENT"`,
		`level=ERROR msg="start workload" workload=flap run=4 err="exec: ENOENT"`,
		`level=ERROR msg="start workload" workload=other run=1 err="exec: ENOENT"`,
		`level=INFO msg="forwarding signal" signal=SIGHUP`,
		`level=ERROR msg="start workload" workload=flap run=16000 err="exec: ENOENT" suppressed=15995`,
		`level=ERROR msg="start workload" workload=flap run=16001 err="exec: ENOENT"`,
		`level=ERROR msg="start workload" workload=flap run=16001 err="exec: ENOENT"`,
		`level=ERROR msg="start workload" workload=flap run=16001 err="exec: ENOENT"`,
		`level=ERROR msg="start workload" workload=flap run=16002 err="exec: ENOENT"`,
		`level=ERROR msg="start workload" workload=flap run=16002 err="exec: ENOENT" suppressed=8`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRateLimitKinds: lines that differ in anything but pid and run are
// kinds of their own (each dropped fault signal is said); debug lines are
// never limited.
func TestRateLimitKinds(t *testing.T) {
	log, _, b, _ := limitedLogger(slog.LevelDebug)
	for i := range 20 {
		log.Warn("ignoring a fault signal", "signal", fmt.Sprint("SIG", i))
		log.Debug("decision", "do", "start")
	}
	if n := strings.Count(b.String(), "ignoring a fault signal"); n != 20 {
		t.Errorf("%d of 20 distinct warnings written", n)
	}
	if n := strings.Count(b.String(), "msg=decision"); n != 20 {
		t.Errorf("%d of 20 debug lines written", n)
	}
}

// TestRateLimitBoundsKinds: past rateKeys kinds, the old ones with
// nothing to say are forgotten, and when none can be, new kinds pass
// unlimited rather than grow the table.
func TestRateLimitBoundsKinds(t *testing.T) {
	log, h, b, c := limitedLogger(slog.LevelInfo)
	for i := range rateKeys + 10 {
		log.Info("line", "n", i)
	}
	if n := len(h.st.keys); n != rateKeys {
		t.Errorf("%d kinds remembered, want %d", n, rateKeys)
	}
	if n := strings.Count(b.String(), "\n"); n != rateKeys+10 {
		t.Errorf("%d lines written, want %d", n, rateKeys+10)
	}
	c.t = c.t.Add(rateWindow)
	log.Info("line", "n", -1)
	if n := len(h.st.keys); n != 1 {
		t.Errorf("%d kinds remembered after their windows passed, want 1", n)
	}
}
