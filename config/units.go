package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// UnmarshalText reads a Go duration string, such as "5s" or "1m30s".
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf(`%q is not a duration (write numbers with units ns, us, ms, s, m or h, as in "5s" or "1m30s")`, text)
	}
	d.Duration = v
	return nil
}

// MarshalText writes d so that UnmarshalText reads it back.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (*Duration) tomlWant() string { return `a duration like "5s"` }

// sizeUnits are ByteSize's suffixes, largest first. Binary: K is 1024.
var sizeUnits = []struct {
	suffix byte
	bytes  int64
}{
	{'T', 1 << 40},
	{'G', 1 << 30},
	{'M', 1 << 20},
	{'K', 1 << 10},
}

var errSize = errors.New(`write a number of bytes, optionally with a suffix K, M, G or T for powers of 1024, as in "256M" or 1073741824`)

// UnmarshalText reads a size: digits, then an optional suffix K, M, G or T
// (upper case; powers of 1024). "512M" is 512 MiB. Signs, spaces and
// fractions are refused.
func (b *ByteSize) UnmarshalText(text []byte) error {
	s := string(text)
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, string(u.suffix)) {
			s, mult = s[:len(s)-1], u.bytes
			break
		}
	}
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return fmt.Errorf("%q is not a size (%w)", text, errSize)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return fmt.Errorf("%q is too large a size (at most %d bytes)", text, int64(math.MaxInt64))
	}
	*b = ByteSize(n * mult)
	return nil
}

// MarshalText writes b with the largest suffix that keeps it exact, so that
// UnmarshalText reads it back.
func (b ByteSize) MarshalText() ([]byte, error) {
	if b < 0 {
		return nil, fmt.Errorf("size %d is negative", int64(b))
	}
	for _, u := range sizeUnits {
		if b != 0 && int64(b)%u.bytes == 0 {
			return []byte(strconv.FormatInt(int64(b)/u.bytes, 10) + string(u.suffix)), nil
		}
	}
	return []byte(strconv.FormatInt(int64(b), 10)), nil
}

func (*ByteSize) tomlWant() string { return `a size like "256M" or 268435456` }
