package supervise

import (
	"math"
	"time"
)

// DefaultMultiplier is BackoffPolicy.Multiplier when it is zero.
const DefaultMultiplier = 2

// Delay returns the wait before restart number n (0 for the first restart
// since the last reset): Initial × Multiplier^n, at most Max, then moved by
// up to ±Jitter of itself using r (a number in [0, 1): 0.5 moves nothing),
// and kept within [0, Max]. The cap holds after the jitter: Max is a
// promise to the user.
func (b BackoffPolicy) Delay(n int, r float64) time.Duration {
	if b.Initial <= 0 {
		return 0
	}
	mult := b.Multiplier
	if mult == 0 {
		mult = DefaultMultiplier
	}
	limit := float64(math.MaxInt64)
	if b.Max > 0 {
		limit = float64(b.Max)
	}
	// Growing in floating point and capping before converting keeps a
	// large n from overflowing into a negative duration.
	d := float64(b.Initial) * math.Pow(mult, float64(max(n, 0)))
	d = min(d, limit)
	if b.Jitter > 0 {
		d += d * b.Jitter * (2*r - 1)
	}
	d = max(0, min(d, limit))
	if d >= float64(math.MaxInt64) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(d)
}
