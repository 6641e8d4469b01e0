package message

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseTS(t *testing.T) {
	for s, want := range map[string]time.Time{
		"2026-11-26T12:00:00.000000Z":     time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC),
		"2024-02-29T23:59:59.999999Z":     time.Date(2024, 2, 29, 23, 59, 59, 999999000, time.UTC),
		"0000-01-01T00:00:00Z":            time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		"0001-01-01T00:00:00.000000Z":     time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		"9999-12-31T23:59:59.999999999Z":  time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		"2000-02-29T00:00:00.5Z":          time.Date(2000, 2, 29, 0, 0, 0, 5e8, time.UTC),
		"2026-11-26T12:00:00.1234567891Z": time.Date(2026, 11, 26, 12, 0, 0, 123456789, time.UTC),
		// A leap second is the first second of the next day, as in POSIX.
		"2016-12-31T23:59:60Z":     time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC),
		"2016-12-31T23:59:60.250Z": time.Date(2017, 1, 1, 0, 0, 0, 25e7, time.UTC),
		"9999-12-31T23:59:60Z":     time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		got, err := parseTS([]byte(s))
		if err != nil || !got.t.Equal(want) {
			t.Errorf("parseTS(%s) = %v, %v; want %v", s, got.t, err, want)
		}
	}
	for _, s := range []string{
		"", "Z", "2026-11-26T12:00:00", "2026-11-26T12:00:00z", "2026-11-26t12:00:00Z", "2026-11-26 12:00:00Z",
		"2026-11-26T12:00:00.Z", "2026-11-26T12:00:00,5Z", "2026-11-26T12:00:00.5.5Z", "2026-11-26T12:00:00.00000aZ",
		"2026-11-26T12:00:00+00:00", "2026-11-26T12:00:00.000000+00:00", "2026-11-26T12:00:00ZZ", " 2026-11-26T12:00:00Z",
		"2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z",
		"2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z", "2026-11-26T24:00:00Z", "2026-11-26T12:60:00Z",
		"2026-11-26T12:00:60Z", "2026-11-26T23:58:60Z", "2026-11-26T23:59:61Z", "+026-01-01T00:00:00Z",
		"-0001-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "2026-1-01T00:00:00Z", "2026-01-01T0:00:00Z",
		"２026-01-01T00:00:00Z", "2026-01-01T00:00:00.\u0661Z",
	} {
		if got, err := parseTS([]byte(s)); err == nil {
			t.Errorf("parseTS(%q) = %v, want an error", s, got.t)
		}
	}
}

// Every signer-written ts is read back as the time it was made from.
func TestTSRoundTrip(t *testing.T) {
	for _, tm := range []time.Time{tsRange[0], tsRange[1].Truncate(time.Microsecond), t0, time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC)} {
		s := tm.Format(TimeFormat)
		got, err := parseTS([]byte(s))
		if err != nil || !got.t.Equal(tm) || got.subNano {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
}

// The signer refuses a time that a ts cannot hold, rather than writing one
// that every verifier refuses.
func TestSignTimeRange(t *testing.T) {
	k := mustKey(t, "a1", "artisan", "")
	kr, _ := NewKeyring(k)
	for _, tm := range []time.Time{tsRange[0], tsRange[1], time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("east", 3600))} {
		line, err := k.Sign("op", []byte("1"), tm)
		if err != nil {
			t.Errorf("%v: %v", tm, err)
			continue
		}
		if _, _, err := kr.Verify(line); err != nil {
			t.Errorf("%v: %s does not verify: %v", tm, line, err)
		}
	}
	for _, tm := range []time.Time{tsRange[0].Add(-1), tsRange[1].Add(1), time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("behind", -3600))} {
		if line, err := k.Sign("op", []byte("1"), tm); err == nil {
			t.Errorf("%v: signed %s", tm, line)
		}
	}
}

// The bug of issue 10: envelopes dated centuries ahead passed --max-age
// because a time difference overflowed. Every ts is judged, both ways.
func TestMaxAgeFarAway(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	maxDur := time.Duration(math.MaxInt64)
	for _, c := range []struct {
		ts     string
		maxAge time.Duration
		want   Reason
		msg    string
	}{
		{"2400-01-01T00:00:00Z", time.Hour, ReasonFuture, "signed 3270492h0m0s in the future"},
		{"5000-01-01T00:00:00Z", time.Hour, ReasonFuture, ""},
		{"9999-12-31T23:59:59.999999999999Z", time.Hour, ReasonFuture, "signed 69890724h0m0s in the future"},
		{"9999-12-31T23:59:60Z", maxDur, ReasonFuture, ""},
		{"0000-01-01T00:00:00Z", time.Hour, ReasonTooOld, "signed 17767476h0m0s ago"},
		{"0001-01-01T00:00:00Z", maxDur, ReasonTooOld, ""},
		{"1734-01-01T00:00:00Z", maxDur, ReasonTooOld, ""},
		{"2320-01-01T00:00:00Z", maxDur, ReasonFuture, ""},
		{"1735-01-01T00:00:00Z", maxDur, "", ""},
		{"2317-01-01T00:00:00Z", maxDur, "", ""},
		{"2026-11-26T13:00:00Z", time.Hour, "", ""},
		{"2026-11-26T13:00:00.000000000000000001Z", time.Hour, ReasonFuture, "signed 1h0m0s in the future, more than the maximum age 1h0m0s"},
		{"2026-11-26T11:00:00Z", time.Hour, "", ""},
		{"2026-11-26T10:59:59.999999999999Z", time.Hour, ReasonTooOld, "signed 1h0m0s ago"},
	} {
		ts, err := parseTS([]byte(c.ts))
		if err != nil {
			t.Fatal(err)
		}
		err = checkAge(ts, now, c.maxAge, []byte("id"))
		if r := reasonOf(err); r != c.want || c.msg != "" && !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s, max age %v: %v; want %q %s", c.ts, c.maxAge, err, c.want, c.msg)
		}
	}
}

func TestSpan(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range []time.Duration{0, 499 * time.Millisecond, 500 * time.Millisecond, 59*time.Second + 5e8, 5*time.Minute + 3*time.Second, 59000 * time.Hour, 1 << 62} {
		if got, want := span(base, base.Add(d)), d.Round(time.Second).String(); got != want {
			t.Errorf("span %v = %s, want %s", d, got, want)
		}
	}
	if got := span(tsRange[0], tsRange[1]); got != "87658200h0m0s" {
		t.Errorf("span of the whole range: %s", got)
	}
}

// tsPattern and refJudge are a second, independent reading of the ts rules:
// a regular expression, the calendar of package time, and exact rational
// arithmetic on every digit of the fraction.
var tsPattern = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?Z$`)

// refParse returns the instant of s in units of 10^-scale seconds since
// 1970, or ok false when s is not a ts.
func refParse(s string) (units *big.Int, scale int, ok bool) {
	m := tsPattern.FindStringSubmatch(s)
	if m == nil {
		return nil, 0, false
	}
	var f [6]int
	for i := range f {
		f[i], _ = strconv.Atoi(m[i+1])
	}
	sec := f[5]
	if sec == 60 && f[3] == 23 && f[4] == 59 {
		sec = 59 // the leap second: one second after 23:59:59, below
	}
	d := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], sec, 0, time.UTC)
	if d.Year() != f[0] || int(d.Month()) != f[1] || d.Day() != f[2] || d.Hour() != f[3] || d.Minute() != f[4] || d.Second() != sec {
		return nil, 0, false
	}
	unix := d.Unix()
	if sec != f[5] {
		unix++
	}
	frac := strings.TrimPrefix(m[7], ".")
	scale = max(len(frac), 9)
	frac += strings.Repeat("0", scale-len(frac))
	units = new(big.Int).Mul(big.NewInt(unix), pow10(scale))
	fr, _ := new(big.Int).SetString(frac, 10)
	return units.Add(units, fr), scale, true
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

func refJudge(units *big.Int, scale int, now time.Time, maxAge time.Duration) Reason {
	unit := func(sec int64, ns int64) *big.Int {
		v := new(big.Int).Mul(big.NewInt(sec), pow10(scale))
		return v.Add(v, new(big.Int).Mul(big.NewInt(ns), pow10(scale-9)))
	}
	n := unit(now.Unix(), int64(now.Nanosecond()))
	a := unit(0, int64(maxAge))
	switch {
	case units.Cmp(new(big.Int).Sub(n, a)) < 0:
		return ReasonTooOld
	case units.Cmp(new(big.Int).Add(n, a)) > 0:
		return ReasonFuture
	}
	return ""
}

// FuzzTS: parseTS accepts exactly what the reference accepts, and the age
// judgement agrees with exact arithmetic for any ts, now and maximum age.
func FuzzTS(f *testing.F) {
	for _, s := range []string{"2026-11-26T12:00:00.000000Z", "9999-12-31T23:59:60.999999999999Z", "0000-01-01T00:00:00Z", "2400-02-29T00:00:00.1Z", "2026-11-26T13:00:00.0000000001Z", "2026-11-26T12:00:00,5Z"} {
		f.Add(s, int64(1795003200), uint32(0), int64(time.Hour))
	}
	f.Add("9999-12-31T23:59:59Z", int64(1795003200), uint32(0), int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, s string, nowSec int64, nowNs uint32, maxAge int64) {
		checkTS(t, s, nowSec, nowNs, maxAge)
	})
}

// checkTS checks parseTS and checkAge on s against the reference, at a now
// made of nowSec and nowNs: any time that time.Time holds around the years
// of a ts or, when nowNs is odd, right at a boundary (the ts ± maxAge,
// give or take a few nanoseconds).
func checkTS(t *testing.T, s string, nowSec int64, nowNs uint32, maxAge int64) {
	got, err := parseTS([]byte(s))
	units, scale, ok := refParse(s)
	if (err == nil) != ok {
		t.Fatalf("parseTS(%q): %v, reference ok=%v", s, err, ok)
	}
	if !ok || maxAge <= 0 {
		return
	}
	now := time.Unix(nowSec%(400_000*365*86400), int64(nowNs%1e9)).UTC()
	if nowNs&1 == 1 {
		now = got.t.Add(time.Duration(maxAge) * time.Duration(nowNs&2-1)).Add(time.Duration(nowSec % 3))
	}
	want := refJudge(units, scale, now, time.Duration(maxAge))
	if r := reasonOf(checkAge(got, now, time.Duration(maxAge), nil)); r != want {
		t.Fatalf("ts %s, now %v, max age %v: %q, want %q", s, now, time.Duration(maxAge), r, want)
	}
}

// FuzzTSAge is FuzzTS on well-formed times: every field in or near its
// range, fractions of 0 to 30 digits, leap seconds, any now and maximum age.
func FuzzTSAge(f *testing.F) {
	f.Add(uint16(2026), uint8(11), uint8(26), uint8(13), uint8(0), uint8(0), uint64(1), uint8(18), int64(1795003200), uint32(0), int64(time.Hour))
	f.Add(uint16(9999), uint8(12), uint8(31), uint8(23), uint8(59), uint8(60), uint64(999999999), uint8(9), int64(1795003200), uint32(5), int64(math.MaxInt64))
	f.Add(uint16(0), uint8(1), uint8(1), uint8(0), uint8(0), uint8(0), uint64(0), uint8(0), int64(-62167219200), uint32(0), int64(1))
	f.Fuzz(func(t *testing.T, y uint16, mo, d, h, mi, sec uint8, frac uint64, fracLen uint8, nowSec int64, nowNs uint32, maxAge int64) {
		s := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", y%10000, mo%14, d%33, h%25, mi%61, sec%62)
		if n := int(fracLen % 31); n > 0 {
			digits := strconv.FormatUint(frac, 10)
			s += "." + (digits + strings.Repeat("0", n))[:n]
		}
		s += "Z"
		checkTS(t, s, nowSec, nowNs, maxAge)
	})
}

func ExampleVerifier_maxAge() {
	k := &Key{KID: "a1", Origin: "artisan", Secret: []byte("0123456789abcdef0123456789abcdef")}
	kr, _ := NewKeyring(k)
	v := NewVerifier(kr)
	v.MaxAge = 7 * 24 * time.Hour
	v.Now = func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	line, _ := k.Sign("update", []byte(`{}`), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	_, _, err := v.Verify(line)
	fmt.Println(strings.SplitN(err.Error(), ",", 2)[0])
	// Output: future: signed 69881964h0m0s in the future
}
