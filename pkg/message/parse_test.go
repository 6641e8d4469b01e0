package message

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	k := mustKey(t, "a1", "artisan", "")
	line, err := k.Sign("update", []byte(`{"x":1}`), t0)
	if err != nil {
		t.Fatal(err)
	}
	env, err := Parse(line)
	if err != nil {
		t.Fatalf("parse %s: %v", line, err)
	}
	if env.KID != "a1" || env.Origin != "artisan" || env.Operation != "update" || !env.TS.Equal(t0) ||
		string(env.Data) != `{"x":1}` || len(env.ID) != 36 || len(env.Signature) != 64 {
		t.Errorf("got %+v", env)
	}
	// The signature is not verified: a well-formed forgery parses.
	sig := strings.Repeat("0", 64)
	forged := `{"id":"x-1","ts":"2026-11-26T12:00:00Z","origin":"o","operation":"create","data":{},"kid":"k","signature":"` + sig + `"}`
	if env, err := Parse([]byte(forged)); err != nil || env.ID != "x-1" {
		t.Errorf("forged: %+v %v", env, err)
	}
	for _, bad := range []string{
		`{"id":"dup","x":1}`, // not an envelope
		strings.Replace(forged, `"id":"x-1"`, `"id":"a\nb"`, 1),         // id with a newline
		strings.Replace(forged, `"id":"x-1"`, `"id":42`, 1),             // id not a string
		strings.Replace(forged, sig, "s", 1),                            // signature of the wrong form
		strings.Replace(forged, `"kid":"k"`, `"kid":"k","extra":1`, 1),  // unknown field
		strings.Replace(forged, `"kid":"k"`, `"kid":"k","kid":"k"`, 1),  // duplicate field
		strings.Replace(forged, `2026-11-26T12:00:00Z`, `yesterday`, 1), // ts
		forged[:len(forged)-1],
	} {
		if env, err := Parse([]byte(bad)); err == nil || reasonOf(err) != ReasonMalformed {
			t.Errorf("Parse(%s) = %+v, %v; want malformed", bad, env, err)
		}
	}
}
