package message

import (
	"testing"
	"time"
)

func TestParseMaxAge(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90s": 90 * time.Second, "15m": 15 * time.Minute, "2h30m": 150 * time.Minute, "7d": 7 * 24 * time.Hour, "1d": 24 * time.Hour,
		"106751d": 106751 * 24 * time.Hour,
	} {
		if got, err := ParseMaxAge(in); err != nil || got != want {
			t.Errorf("%q: got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "0s", "-5m", "d", "0d", "-1d", "1.5d", "106752d", "99999999999999999999d", "7 days", "abc"} {
		if got, err := ParseMaxAge(in); err == nil {
			t.Errorf("%q: got %v, want an error", in, got)
		}
	}
}
