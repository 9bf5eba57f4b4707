package roottest

import (
	"crypto/sha256"
	"fmt"
	"io"
	"time"
)

// SlowRead reads r to its end as a slow reader would, 64 KiB at a time
// with a millisecond's pause after each read, and returns the hex sha256
// and the length of what it read: the output tests' reader of a
// container's stdout.
func SlowRead(r io.Reader) (sum string, n int64) {
	h := sha256.New()
	buf := make([]byte, 64<<10)
	for {
		k, err := r.Read(buf)
		h.Write(buf[:k])
		n += int64(k)
		if err != nil {
			return fmt.Sprintf("%x", h.Sum(nil)), n
		}
		time.Sleep(time.Millisecond)
	}
}
