package message

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseMaxAge reads a maximum age of envelopes (Verifier.MaxAge): a
// positive Go duration (90s, 15m, 2h) or a whole number of days (7d).
func ParseMaxAge(s string) (time.Duration, error) {
	const maxDays = 100000 // far beyond any envelope, within a Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 && n <= maxDays {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("%q is not a maximum age: want a positive duration such as 90s, 15m, 2h or 7d", s)
}
