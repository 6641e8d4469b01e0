package message

import (
	"fmt"
	"time"
)

// The syntax of "ts" (docs/message-format.md, section 2), RFC 3339 in UTC:
//
//	YYYY-MM-DDTHH:MM:SS[.F…]Z
//
// a year 0000 to 9999, a month and day that exist in the proleptic
// Gregorian calendar, an hour 00-23, a minute 00-59, a second 00-59, or 60
// at 23:59 (a leap second); a fraction of any number of digits; upper-case T
// and Z. Nothing else: no offset other than Z, no comma for the point, no
// space for the T.
//
// A leap second 23:59:60.F is the instant POSIX gives it, 00:00:00.F of the
// next day. Digits beyond the nanosecond are kept as one bit (subNano), so
// that a time is judged against a maximum age exactly, whatever its length.

// stamp is a parsed ts.
type stamp struct {
	t       time.Time // the instant, truncated to the nanosecond
	subNano bool      // the digits beyond the nanosecond were not all zero
}

// tsRange is the first and the last instant that a ts can hold.
var tsRange = [2]time.Time{
	time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
}

// parseTS parses s as a ts.
func parseTS(s []byte) (stamp, error) {
	const layout = "YYYY-MM-DDTHH:MM:SS"
	bad := func(why string) (stamp, error) {
		return stamp{}, fmt.Errorf("invalid ts %s: %s", quoteShort(s), why)
	}
	if len(s) < len(layout)+1 || s[len(s)-1] != 'Z' {
		return bad("want an RFC 3339 time in UTC, YYYY-MM-DDTHH:MM:SS[.fraction]Z")
	}
	var f [6]int // year, month, day, hour, minute, second
	for n, at := range [6]int{0, 5, 8, 11, 14, 17} {
		width := 2
		if n == 0 {
			width = 4
		}
		v, ok := digits(s[at : at+width])
		if !ok || at > 0 && s[at-1] != layout[at-1] {
			return bad("want an RFC 3339 time in UTC, YYYY-MM-DDTHH:MM:SS[.fraction]Z")
		}
		f[n] = v
	}
	nsec, subNano, ok := fraction(s[len(layout) : len(s)-1])
	if !ok {
		return bad("want the seconds followed by Z, or by '.', at least one digit and Z")
	}
	year, month, day, hour, min, sec := f[0], f[1], f[2], f[3], f[4], f[5]
	switch {
	case month < 1 || month > 12:
		return bad("no month " + string(s[5:7]))
	case day < 1 || day > daysIn(month, year):
		return bad(fmt.Sprintf("no day %s in %s", s[8:10], s[:7]))
	case hour > 23 || min > 59:
		return bad("no time " + string(s[11:16]))
	case sec == 60 && (hour != 23 || min != 59):
		return bad("a leap second (second 60) comes only at 23:59:60")
	case sec > 60:
		return bad("no second " + string(s[17:19]))
	}
	// time.Date takes second 60 to the next minute, as POSIX does.
	t := time.Date(year, time.Month(month), day, hour, min, sec, nsec, time.UTC)
	return stamp{t: t, subNano: subNano}, nil
}

// digits parses b, all decimal digits, as a number.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// fraction parses what is between the seconds and the Z: nothing, or '.'
// and at least one digit. It returns the nanoseconds and whether any digit
// beyond them is not zero.
func fraction(b []byte) (nsec int, subNano, ok bool) {
	if len(b) == 0 {
		return 0, false, true
	}
	if b[0] != '.' || len(b) == 1 {
		return 0, false, false
	}
	for i, c := range b[1:] {
		if c < '0' || c > '9' {
			return 0, false, false
		}
		if i < 9 {
			nsec = nsec*10 + int(c-'0')
		} else if c != '0' {
			subNano = true
		}
	}
	for i := len(b) - 1; i < 9; i++ {
		nsec *= 10
	}
	return nsec, subNano, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// quoteShort quotes s for an error message, cut to 64 bytes: a ts may be as
// long as a line.
func quoteShort(s []byte) string {
	if len(s) > 64 {
		return fmt.Sprintf("%q… (%d bytes)", s[:64], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// checkTime reports whether t can be written as a ts.
func checkTime(t time.Time) error {
	if t.Before(tsRange[0]) || t.After(tsRange[1]) {
		return fmt.Errorf("time %s is outside the range of ts, years 0000 to 9999", t.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// checkAge judges ts against now: it returns a *VerifyError with reason
// too-old when ts is more than maxAge before now, future when it is more
// than maxAge after now, and nil otherwise. It compares instants, never
// a difference of them, so no ts is too far away to be judged.
func checkAge(ts stamp, now time.Time, maxAge time.Duration, id []byte) error {
	if oldest := now.Add(-maxAge); ts.t.Before(oldest) {
		return verr(ReasonTooOld, id, "signed %s ago, more than the maximum age %v", span(ts.t, now), maxAge)
	}
	if newest := now.Add(maxAge); ts.t.After(newest) || ts.t.Equal(newest) && ts.subNano {
		return verr(ReasonFuture, id, "signed %s in the future, more than the maximum age %v", span(now, ts.t), maxAge)
	}
	return nil
}

// span formats to-from (not negative) rounded to the second, as
// time.Duration writes it ("59000h0m0s", "5m3s", "0s"), but without
// Duration's limit of 292 years.
func span(from, to time.Time) string {
	sec := to.Unix() - from.Unix()
	ns := to.Nanosecond() - from.Nanosecond()
	if ns < 0 {
		sec, ns = sec-1, ns+1e9
	}
	if ns >= 5e8 {
		sec++
	}
	h, m, s := sec/3600, sec/60%60, sec%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%dm%ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm%ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}
