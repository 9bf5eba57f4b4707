package supervise

import (
	"math"
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		b    BackoffPolicy
		n    int
		r    float64
		want time.Duration
	}{
		{"zero initial is no delay", BackoffPolicy{Max: time.Second, Jitter: 1}, 5, 0.9, 0},
		{"first", BackoffPolicy{Initial: 100 * ms}, 0, 0.5, 100 * ms},
		{"default multiplier 2", BackoffPolicy{Initial: 100 * ms}, 3, 0.5, 800 * ms},
		{"multiplier 1.5", BackoffPolicy{Initial: 100 * ms, Multiplier: 1.5}, 2, 0.5, 225 * ms},
		{"multiplier 1 is constant", BackoffPolicy{Initial: 300 * ms, Multiplier: 1}, 50, 0.5, 300 * ms},
		{"capped", BackoffPolicy{Initial: 100 * ms, Max: time.Second}, 10, 0.5, time.Second},
		{"jitter low end", BackoffPolicy{Initial: time.Second, Jitter: 0.2}, 0, 0, 800 * ms},
		{"jitter high end", BackoffPolicy{Initial: time.Second, Jitter: 0.2}, 0, 1, 1200 * ms},
		{"jitter never passes the cap", BackoffPolicy{Initial: time.Second, Max: time.Second, Jitter: 0.5}, 3, 0.99, time.Second},
		{"full jitter reaches zero", BackoffPolicy{Initial: time.Second, Jitter: 1}, 0, 0, 0},
		{"huge n does not overflow", BackoffPolicy{Initial: time.Second, Max: time.Hour}, 10000, 0.5, time.Hour},
		{"huge n without cap saturates", BackoffPolicy{Initial: time.Second}, 10000, 0.5, time.Duration(math.MaxInt64)},
		{"negative n is the first", BackoffPolicy{Initial: 100 * ms}, -3, 0.5, 100 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.b.Delay(tt.n, tt.r); got != tt.want {
				t.Errorf("Delay(%d, %v) = %v, want %v", tt.n, tt.r, got, tt.want)
			}
		})
	}
}

// TestBackoffJitterBounds: whatever the random number, a jittered delay
// stays within ±Jitter of the plain one and under the cap.
func TestBackoffJitterBounds(t *testing.T) {
	b := BackoffPolicy{Initial: 100 * time.Millisecond, Max: 3 * time.Second, Jitter: 0.3}
	rnd := NewRand(42)
	for n := range 12 {
		plain := BackoffPolicy{Initial: b.Initial, Max: b.Max}.Delay(n, 0.5)
		for range 200 {
			d := b.Delay(n, rnd())
			lo, hi := time.Duration(float64(plain)*0.7)-1, min(time.Duration(float64(plain)*1.3)+1, b.Max)
			if d < lo || d > hi {
				t.Fatalf("n=%d: delay %v outside [%v, %v]", n, d, lo, hi)
			}
		}
	}
}

func TestNewRandRepeatable(t *testing.T) {
	a, b := NewRand(7), NewRand(7)
	c := NewRand(8)
	same := true
	for range 10 {
		x, y, z := a(), b(), c()
		if x != y {
			t.Fatalf("same seed, different numbers: %v %v", x, y)
		}
		if x < 0 || x >= 1 {
			t.Fatalf("%v not in [0, 1)", x)
		}
		same = same && x == z
	}
	if same {
		t.Errorf("seeds 7 and 8 gave the same sequence")
	}
}

func TestFailuresWindow(t *testing.T) {
	g := GiveUp{Failures: 3, Window: 10 * time.Second}
	var f failures
	at := func(s float64) time.Time { return epoch.Add(time.Duration(s * float64(time.Second))) }
	steps := []struct {
		at   float64
		want int
	}{{0, 1}, {4, 2}, {9.9, 3}, {10, 3}, {14.5, 3}, {24.6, 1}, {30, 2}}
	for _, s := range steps {
		if got := f.add(at(s.at), g); got != s.want {
			t.Errorf("failure at %vs: count %d, want %d", s.at, got, s.want)
		}
	}
	if !g.exhausted(3) || g.exhausted(2) || (GiveUp{}).exhausted(1000) {
		t.Errorf("exhausted: wrong verdicts")
	}
	// Without a window every failure counts, but only the last
	// Failures are kept.
	var all failures
	for i := range 1000 {
		all.add(at(float64(i)), GiveUp{Failures: 5})
	}
	if len(all) != 5 {
		t.Errorf("kept %d failures, want 5", len(all))
	}
	var none failures
	for i := range 1000 {
		none.add(at(float64(i)), GiveUp{})
	}
	if len(none) != 1 {
		t.Errorf("kept %d failures with no rule, want 1", len(none))
	}
}
