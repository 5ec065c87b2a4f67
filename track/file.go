package track

import (
	"errors"
	"fmt"
	"math"
)

// MaxFileBytes is how much of a tracked file is read (keepalived reads
// 127 bytes).
const MaxFileBytes = 127

// FileStatus returns what value, read from a tracked file, means for an
// instance tracking it with weight and reverse (keepalived 2.2.7): with
// weight 0 a non-zero value is a fault (reverse: a zero value); otherwise
// value×weight (negated with reverse) is added to the priority, at most
// 253, and -254 or less is a fault.
func FileStatus(value int64, weight int, reverse bool) (delta int, fault bool) {
	if weight == 0 {
		return 0, (value != 0) != reverse
	}
	v := value
	if reverse {
		v = -v
	}
	// |value| <= 2^31 and |weight| <= 254: no overflow, but stay safe for
	// any input.
	var s int64
	switch {
	case v == 0:
		s = 0
	case v > math.MaxInt64/254 || v < math.MinInt64/254:
		if (v > 0) == (weight > 0) {
			s = math.MaxInt64
		} else {
			s = math.MinInt64
		}
	default:
		s = v * int64(weight)
	}
	if s <= -254 {
		return 0, true
	}
	return int(min(s, 253)), false
}

// ErrBadValue is returned by [ParseValue] for a number keepalived ignores
// (out of range); the previous value then stands.
var ErrBadValue = errors.New("number out of range")

// ParseValue reads a tracked file's contents as keepalived does (C's
// strtol with base 0 on the first MaxFileBytes bytes): leading white
// space, an optional sign, then decimal, 0x-prefixed hexadecimal or
// 0-prefixed octal digits up to the first other character; no digits, or
// an empty file, is 0. A number below -2^31 or above 2^31 is
// ErrBadValue.
func ParseValue(b []byte) (int64, error) {
	if len(b) > MaxFileBytes {
		b = b[:MaxFileBytes]
	}
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] >= '\t' && b[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	base := int64(10)
	if i+1 < len(b) && b[i] == '0' && (b[i+1] == 'x' || b[i+1] == 'X') && i+2 < len(b) && digit(b[i+2], 16) >= 0 {
		base, i = 16, i+2
	} else if i < len(b) && b[i] == '0' {
		base = 8
	}
	var v int64
	for ; i < len(b); i++ {
		d := digit(b[i], base)
		if d < 0 {
			break
		}
		v = v*base + d
		if v > 1<<31 {
			return 0, fmt.Errorf("%w: %q", ErrBadValue, b)
		}
	}
	if neg {
		v = -v
	}
	return v, nil
}

// digit returns the value of c as a digit of base, or -1.
func digit(c byte, base int64) int64 {
	var d int64
	switch {
	case c >= '0' && c <= '9':
		d = int64(c - '0')
	case c >= 'a' && c <= 'f':
		d = int64(c-'a') + 10
	case c >= 'A' && c <= 'F':
		d = int64(c-'A') + 10
	default:
		return -1
	}
	if d >= base {
		return -1
	}
	return d
}
