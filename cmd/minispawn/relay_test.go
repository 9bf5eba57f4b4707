package main

import (
	"strings"
	"testing"
	"time"

	"github.com/minispawn/minispawn/init/hostlink"
)

func msg(t *testing.T, text string) hostlink.Message {
	t.Helper()
	m, err := hostlink.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRelayFilter: what passes from the container's init to the service
// manager, key by key.
func TestRelayFilter(t *testing.T) {
	const initPid = 4242
	mono := 1500 * time.Millisecond
	for _, tc := range []struct {
		name, in   string
		pid        int
		want       string // relayed, "" for nothing
		dropped    int
		beat       uint64
		readyAfter bool
	}{
		{"ready with status", "READY=1\nSTATUS=3/3 workloads ready", initPid, "READY=1\nSTATUS=3/3 workloads ready", 0, 0, true},
		{"stopping", "STOPPING=1\nSTATUS=stopping: waiting for db", initPid, "STOPPING=1\nSTATUS=stopping: waiting for db", 0, 0, false},
		{"reloading gets MONOTONIC_USEC", "RELOADING=1", initPid, "RELOADING=1\nMONOTONIC_USEC=1500000", 0, 0, false},
		{"extend timeout", "EXTEND_TIMEOUT_USEC=20000000", initPid, "EXTEND_TIMEOUT_USEC=20000000", 0, 0, false},
		{"extend timeout capped", "EXTEND_TIMEOUT_USEC=99999999999999", initPid, "EXTEND_TIMEOUT_USEC=3600000000", 0, 0, false},
		{"extend timeout not a number", "EXTEND_TIMEOUT_USEC=-5", initPid, "", 1, 0, false},
		{"heartbeat is kept", "HEARTBEAT=17", initPid, "", 0, 17, false},
		{"dangerous keys dropped", "MAINPID=1\nFDSTORE=1\nWATCHDOG=1\nWATCHDOG=trigger\nNOTIFYACCESS=all\nBARRIER=1\nSTATUS=ok",
			initPid, "STATUS=ok", 6, 0, false},
		{"READY=0 is not READY", "READY=0", initPid, "", 1, 0, false},
		{"another pid: everything dropped", "READY=1\nSTATUS=forged", initPid + 1, "", 1, 0, false},
		{"pid 0 (no credentials): dropped", "READY=1", 0, "", 1, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := relay{initPid: initPid}
			out := r.fromInit(msg(t, tc.in), tc.pid, mono)
			if got := out.notify.String(); got != tc.want {
				t.Errorf("relayed %q, want %q", got, tc.want)
			}
			if len(out.dropped) != tc.dropped {
				t.Errorf("dropped %q, want %d entries", out.dropped, tc.dropped)
			}
			if out.hasBeat != (tc.beat != 0) || out.beat != tc.beat {
				t.Errorf("heartbeat %v %d, want %d", out.hasBeat, out.beat, tc.beat)
			}
			if r.ready != tc.readyAfter {
				t.Errorf("ready = %v after, want %v", r.ready, tc.readyAfter)
			}
		})
	}
}

func TestRelayReloadingClearsReady(t *testing.T) {
	r := relay{initPid: 1, ready: true}
	r.fromInit(msg(t, "RELOADING=1"), 1, 0)
	if r.ready {
		t.Fatal("still ready during a reload")
	}
	r.fromInit(msg(t, "READY=1"), 1, 0)
	if !r.ready {
		t.Fatal("READY=1 after the reload did not make it ready")
	}
}

func TestCleanStatus(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"3/3 workloads ready", "3/3 workloads ready"},
		{"tab\there\rand\x1b[31mred", "tab here and [31mred"},
		{"bad utf8 \xff\xfe end", "bad utf8   end"},
		{"", ""},
	} {
		if got := cleanStatus(tc.in); got != tc.want {
			t.Errorf("cleanStatus(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := strings.Repeat("é", maxStatus) // 2 bytes each
	got := cleanStatus(long)
	if len(got) > maxStatus || !strings.HasPrefix(long, got) || len(got) < maxStatus-1 {
		t.Errorf("cut to %d bytes (%q...), want at most %d on a rune boundary", len(got), got[:8], maxStatus)
	}
}

// TestHeartbeatPolicy walks the watchdog on a fake clock: pings while
// answers are fresh, none once they stop, again when they resume; an
// answer to a number never asked, or an old one, keeps nothing alive.
func TestHeartbeatPolicy(t *testing.T) {
	t0 := time.Unix(1000, 0)
	h := heartbeat{interval: 4 * time.Second}
	if h.period() != time.Second {
		t.Fatalf("period %v, want interval/4", h.period())
	}
	// Before the channel is live, minispawn pings for itself.
	if ping, req := h.tick(t0); !ping || req != 0 {
		t.Fatalf("setup tick: ping %v request %d, want ping and no request", ping, req)
	}
	h.goLive(t0)
	now := t0
	for i := range 5 {
		now = now.Add(time.Second)
		ping, req := h.tick(now)
		if !ping {
			t.Fatalf("tick %d: no ping while init answers", i)
		}
		if !h.answer(req, now.Add(10*time.Millisecond)) {
			t.Fatalf("tick %d: answer %d refused", i, req)
		}
	}
	// Init hangs: the requests go unanswered.
	var pings int
	for range 8 {
		now = now.Add(time.Second)
		if ping, _ := h.tick(now); ping {
			pings++
		}
	}
	// The last answer came 10ms after a tick: the next two ticks find it
	// 0.99s and 1.99s old, under interval/2 (2s), and ping; from the
	// third on it is too old.
	if pings != 2 {
		t.Fatalf("%d pings after init stopped answering, want 2 (until the answer is interval/2 old)", pings)
	}
	if h.answer(h.sent+5, now) {
		t.Error("an answer to a request never sent was accepted")
	}
	if h.answer(h.answered, now) {
		t.Error("a replayed answer was accepted")
	}
	if ping, _ := h.tick(now.Add(time.Second)); ping {
		t.Error("refused answers made it ping")
	}
	// It comes back.
	now = now.Add(2 * time.Second)
	_, req := h.tick(now)
	if !h.answer(req, now) {
		t.Fatal("answer to the newest request refused")
	}
	if ping, _ := h.tick(now.Add(time.Second)); !ping {
		t.Error("no ping after init answered again")
	}
}

// TestRelayPendingRestart: after a reload that left changes for the next
// start, every status line says what they are; failureIn still reads
// miniinit's own line.
func TestRelayPendingRestart(t *testing.T) {
	r := relay{initPid: 1, pending: []string{"limits", "name"}}
	out := r.fromInit(msg(t, "READY=1\nSTATUS=reloaded: 0 workload(s) changed"), 1, 0)
	if got, _ := out.notify.Get("STATUS"); got != "reloaded: 0 workload(s) changed; restart to apply: limits, name" {
		t.Errorf("status %q", got)
	}
	r.fromInit(msg(t, "STATUS=stopping: main workload \"web\" failed: exited with code 3"), 1, 0)
	if got := failureIn(r.status); got != `main workload "web" failed: exited with code 3` {
		t.Errorf("failure %q", got)
	}
	r.pending = nil
	out = r.fromInit(msg(t, "STATUS=2/2 workloads ready"), 1, 0)
	if got, _ := out.notify.Get("STATUS"); got != "2/2 workloads ready" {
		t.Errorf("status %q", got)
	}
}

func TestFailureIn(t *testing.T) {
	for status, want := range map[string]string{
		`stopping: essential workload "db" failed: killed by SIGTERM; waiting for web`: `essential workload "db" failed: killed by SIGTERM`,
		`stopping: main workload "web" failed: exited with code 3`:                     `main workload "web" failed: exited with code 3`,
		"stopping: waiting for db, web":                                                "",
		"stopping":                                                                     "",
		"2/2 workloads ready":                                                          "",
	} {
		if got := failureIn(status); got != want {
			t.Errorf("failureIn(%q) = %q, want %q", status, got, want)
		}
	}
}
