package supervise

import "time"

// failures is the record the give-up rule reads: when each recent failure
// happened, oldest first.
type failures []time.Time

// add records a failure at now under rule g and returns how many failures
// count: those within g.Window (all, when it is zero). Only the last
// g.Failures are kept, so a workload restarted forever keeps a bounded
// record.
func (f *failures) add(now time.Time, g GiveUp) int {
	*f = append(*f, now)
	if g.Window > 0 {
		cut := now.Add(-g.Window)
		i := 0
		for i < len(*f) && !(*f)[i].After(cut) {
			i++
		}
		*f = (*f)[i:]
	}
	if keep := max(g.Failures, 1); len(*f) > keep {
		*f = (*f)[len(*f)-keep:]
	}
	return len(*f)
}

// exhausted reports whether n failures within the window mean giving up.
func (g GiveUp) exhausted(n int) bool { return g.Failures > 0 && n >= g.Failures }
