package message

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func mustKey(t testing.TB, kid, origin, subject string) *Key {
	t.Helper()
	k, err := GenerateKey(kid, origin, subject)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func reasonOf(err error) Reason {
	var ve *VerifyError
	if errors.As(err, &ve) {
		return ve.Reason
	}
	return ""
}

func TestSignVerify(t *testing.T) {
	k := mustKey(t, "a1", "artisan", "a-42")
	kr, _ := NewKeyring(mustKey(t, "co1", "central-office", ""), k)
	data := `{"target":"product","properties":{"oid":"p-1","n":9223372036854775871,"x":1.50}}`
	line, err := k.Sign("update", []byte(" "+data+"\n"), t0)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsAny(line, "\n") {
		t.Fatalf("line has a newline: %s", line)
	}
	env, key, err := kr.Verify(line)
	if err != nil {
		t.Fatalf("verify %s: %v", line, err)
	}
	if key != k || env.Origin != "artisan" || env.Operation != "update" || env.KID != "a1" || !env.TS.Equal(t0) || key.Subject != "a-42" {
		t.Errorf("got %+v key %v", env, key)
	}
	want := `{"properties":{"n":9223372036854775871,"oid":"p-1","x":1.50},"target":"product"}`
	if string(env.Data) != want {
		t.Errorf("data %s, want %s", env.Data, want)
	}
	if len(env.ID) != 36 {
		t.Errorf("id %q", env.ID)
	}
}

func TestVerifyRejects(t *testing.T) {
	k := mustKey(t, "a1", "artisan", "")
	kr, _ := NewKeyring(k)
	line, _ := k.Sign("update", []byte(`{"x":1}`), t0)
	s := string(line)
	cases := []struct {
		name, line string
		reason     Reason
	}{
		{"empty", "", ReasonMalformed},
		{"truncated", s[:len(s)-1], ReasonMalformed},
		{"array", "[" + s + "]", ReasonMalformed},
		{"data", strings.Replace(s, `"x":1`, `"x":2`, 1), ReasonBadSignature},
		{"operation", strings.Replace(s, `"update"`, `"delete"`, 1), ReasonBadSignature},
		{"kid", strings.Replace(s, `"a1"`, `"a2"`, 1), ReasonUnknownKID},
		{"dupkey", strings.Replace(s, `{"x":1}`, `{"x":1,"x":2}`, 1), ReasonMalformed},
		{"dupfield", strings.Replace(s, `{"data"`, `{"operation":"delete","data"`, 1), ReasonMalformed},
		{"extra", strings.Replace(s, `{"data"`, `{"extra":1,"data"`, 1), ReasonMalformed},
		{"nul", strings.Replace(s, `"x"`, "\"x\x00\"", 1), ReasonMalformed},
		{"badutf8", strings.Replace(s, `"x"`, "\"x\xff\"", 1), ReasonMalformed},
	}
	for _, c := range cases {
		_, _, err := kr.Verify([]byte(c.line))
		if got := reasonOf(err); got != c.reason {
			t.Errorf("%s: reason %q (%v), want %q", c.name, got, err, c.reason)
		}
	}
}

func TestSignTimeFormat(t *testing.T) {
	k := mustKey(t, "a1", "artisan", "")
	s, _ := NewSigner(k)
	kr, _ := NewKeyring(k)
	for _, tm := range []time.Time{t0, t0.Add(1500 * time.Microsecond), t0.Add(time.Second + 7), time.Date(2031, 1, 2, 3, 4, 5, 999999999, time.FixedZone("x", 3600))} {
		line, err := s.AppendSign(nil, "op", []byte("1"), tm)
		if err != nil {
			t.Fatal(err)
		}
		want := `"ts":"` + tm.UTC().Format(TimeFormat) + `"`
		if !bytes.Contains(line, []byte(want)) {
			t.Errorf("%s: no %s", line, want)
		}
		env, _, err := kr.Verify(line)
		if err != nil || !env.TS.Equal(tm.Truncate(time.Microsecond)) {
			t.Errorf("%s: ts %v, %v", line, env.TS, err)
		}
	}
}

func TestIDSet(t *testing.T) {
	var s idSet
	for i := range 5000 {
		if !s.add([]byte(strings.Repeat("x", i%7) + string(rune('a'+i%26)) + time.Duration(i).String())) {
			t.Fatalf("%d: new id reported as seen", i)
		}
	}
	for i := range 5000 {
		if s.add([]byte(strings.Repeat("x", i%7) + string(rune('a'+i%26)) + time.Duration(i).String())) {
			t.Fatalf("%d: repeated id reported as new", i)
		}
	}
	if s.n != 5000 {
		t.Fatalf("n = %d", s.n)
	}
}

func TestParseTS(t *testing.T) {
	for _, s := range []string{
		"2026-11-26T12:00:00.000000Z", "2024-02-29T23:59:59.999999Z", "0001-01-01T00:00:00.000000Z",
		"2026-11-26T12:00:00Z", "2026-11-26T12:00:00.5Z", "2026-11-26T12:00:00.123456789Z",
		"2023-02-29T00:00:00.000000Z", "2026-04-31T00:00:00.000000Z", "2026-13-01T00:00:00.000000Z",
		"2026-11-26T24:00:00.000000Z", "2026-11-26T12:60:00.000000Z", "2026-11-26T12:00:60.000000Z",
		"2026-11-26T12:00:00.00000aZ", "2026-11-26 12:00:00.000000Z", "2026-11-26T12:00:00.000000+00:00",
		"2026-00-10T00:00:00.000000Z", "2026-01-00T00:00:00.000000Z", "+026-01-01T00:00:00.000000Z",
	} {
		got, err := parseTS([]byte(s))
		want, werr := time.Parse(time.RFC3339Nano, s)
		if !strings.HasSuffix(s, "Z") {
			werr = errors.New("not UTC")
		}
		if (err == nil) != (werr == nil) || err == nil && !got.Equal(want) {
			t.Errorf("parseTS(%s) = %v, %v; time.Parse: %v, %v", s, got, err, want, werr)
		}
	}
}
