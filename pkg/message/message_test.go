package message

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hms-toolkit/hms/pkg/strictjson"
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

// A chosen id, even one that JSON must escape, is signed and read back as
// given; an id the verifier would refuse is refused.
func TestAppendSignID(t *testing.T) {
	k := mustKey(t, "a1", "artisan", "")
	kr, _ := NewKeyring(k)
	s, err := NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"x", `q"uo\te/`, strings.Repeat("z", 128)} {
		line, err := s.AppendSignID(nil, id, "update", []byte(`{}`), t0)
		if err != nil {
			t.Fatal(err)
		}
		env, _, err := kr.Verify(line)
		if err != nil || env.ID != id {
			t.Fatalf("%s: id %q, %v; want %q", line, env.ID, err, id)
		}
	}
	for _, id := range []string{"", "a b", "é", strings.Repeat("z", 129)} {
		if line, err := s.AppendSignID([]byte("keep"), id, "update", []byte(`{}`), t0); err == nil || string(line) != "keep" {
			t.Errorf("id %q: got %s, %v; want an error and dst unchanged", id, line, err)
		}
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

// Sign refuses exactly the data and sizes that Verify would refuse: data
// nested one level less than strictjson allows (the envelope is a level),
// and envelopes longer than MaxLineSize.
func TestSignLimitsAreVerifyLimits(t *testing.T) {
	k := mustKey(t, "a1", "artisan", "")
	kr, _ := NewKeyring(k)
	nest := func(n int) []byte { return []byte(strings.Repeat("[", n) + strings.Repeat("]", n)) }
	if line, err := k.Sign("op", nest(strictjson.MaxDepth-DataDepth), t0); err != nil {
		t.Errorf("511 levels: %v", err)
	} else if _, _, err := kr.Verify(line); err != nil {
		t.Errorf("511 levels do not verify: %v", err)
	}
	if line, err := k.Sign("op", nest(strictjson.MaxDepth), t0); err == nil || !strings.Contains(err.Error(), "nesting too deep") {
		t.Errorf("512 levels: %v\n%.80s", err, line)
	}
	// An envelope of exactly MaxLineSize bytes, and one of one byte more.
	probe, _ := k.Sign("op", []byte(`""`), t0)
	fill := MaxLineSize - len(probe)
	for _, extra := range []int{0, 1} {
		data := []byte(`"` + strings.Repeat("x", fill+extra) + `"`)
		line, err := k.Sign("op", data, t0)
		switch {
		case extra == 0 && (err != nil || len(line) != MaxLineSize):
			t.Errorf("at the limit: %d bytes, %v", len(line), err)
		case extra == 0:
			if _, _, err := kr.Verify(line); err != nil {
				t.Errorf("at the limit: %v", err)
			}
		case err == nil:
			t.Errorf("one byte over the limit: signed %d bytes", len(line))
		}
	}
}
