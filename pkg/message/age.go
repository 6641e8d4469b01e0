package message

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxAgeDays is the largest maximum age in days: a time.Duration holds 292
// years.
const maxAgeDays = int64(1<<63-1) / int64(24*time.Hour)

// ParseMaxAge reads a maximum age of envelopes (Verifier.MaxAge): a
// positive Go duration (90s, 15m, 2h) or a whole number of days (7d). The
// error quotes s and says what is wanted; it names no flag.
func ParseMaxAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		switch {
		case err != nil && days != "" && strings.Trim(days, "0123456789") == "", err == nil && n > maxAgeDays:
			return 0, fmt.Errorf("%q: at most %dd (292 years)", s, maxAgeDays)
		case err == nil && n > 0:
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want a positive duration such as 90s, 15m, 2h or 7d", s)
	}
	return d, nil
}
