package message

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// replaceField returns line with the value of field (as it appears in the
// signed line) replaced by val.
func replaceField(t *testing.T, line []byte, field, val string) []byte {
	t.Helper()
	i := bytes.Index(line, []byte(`"`+field+`":`))
	if i < 0 {
		t.Fatalf("no %s in %s", field, line)
	}
	start := i + len(field) + 3
	end := start
	if line[start] == '"' {
		end = start + 1 + bytes.IndexByte(line[start+1:], '"') + 1
	} else {
		end = start + bytes.IndexAny(line[start:], ",}")
	}
	return []byte(string(line[:start]) + val + string(line[end:]))
}

// TestTamperEachField changes each signed field after signing.
func TestTamperEachField(t *testing.T) {
	k := mustKey(t, "a1", "artisan", "")
	other := mustKey(t, "a2", "artisan", "")
	kr, _ := NewKeyring(k, other)
	line, _ := k.Sign("update", []byte(`{"oid":"p-1","n":1}`), t0)
	for field, val := range map[string]string{
		"operation": `"delete"`,
		"origin":    `"central-office"`,
		"id":        `"00000000-0000-4000-8000-000000000000"`,
		"ts":        `"2030-01-01T00:00:00.000000Z"`,
		"kid":       `"a2"`,
		"signature": `"` + strings.Repeat("0", 64) + `"`,
	} {
		bad := replaceField(t, line, field, val)
		_, _, err := kr.Verify(bad)
		if r := reasonOf(err); r != ReasonBadSignature {
			t.Errorf("%s tampered: reason %q (%v), want bad-signature", field, r, err)
		}
	}
	bad := bytes.Replace(line, []byte(`"n":1`), []byte(`"n":2`), 1)
	if _, _, err := kr.Verify(bad); reasonOf(err) != ReasonBadSignature {
		t.Errorf("data tampered: %v", err)
	}
	// Same meaning, other bytes: still valid (the MAC covers the canonical form).
	same := bytes.Replace(line, []byte(`{"n":1,"oid":"p-1"}`), []byte(`{ "oid" : "p\u002d1", "n" : 1 }`), 1)
	if bytes.Equal(same, line) {
		t.Fatal("test did not change the line")
	}
	if _, _, err := kr.Verify(same); err != nil {
		t.Errorf("reformatted line: %v", err)
	}
}

func TestWrongKeyAndOrigin(t *testing.T) {
	k := mustKey(t, "a1", "artisan", "")
	// The verifier's key a1 has a different secret: bad signature.
	impostor := &Key{KID: "a1", Origin: "artisan", Secret: bytes.Repeat([]byte{7}, 32)}
	kr, _ := NewKeyring(impostor)
	line, _ := k.Sign("update", []byte(`1`), t0)
	if _, _, err := kr.Verify(line); reasonOf(err) != ReasonBadSignature {
		t.Errorf("wrong key: %v", err)
	}
	// A worker key claims to speak for the central office: its MAC is right
	// (it holds the secret) but the key's origin is worker.
	worker := mustKey(t, "w1", "worker", "")
	claim := &Key{KID: "w1", Origin: "central-office", Secret: worker.Secret}
	line, _ = claim.Sign("delete", []byte(`{"oid":"x"}`), t0)
	kr, _ = NewKeyring(worker)
	_, _, err := kr.Verify(line)
	if reasonOf(err) != ReasonOriginMismatch {
		t.Errorf("other origin: %v", err)
	}
	if ve := err.(*VerifyError); ve.ID == "" {
		t.Errorf("no id in %v", err)
	}
}

func TestMalformedFields(t *testing.T) {
	k := mustKey(t, "a1", "artisan", "")
	kr, _ := NewKeyring(k)
	line, _ := k.Sign("update", []byte(`1`), t0)
	wrong := []string{`1`, `true`, `null`, `[]`, `{}`, `1.5`}
	for _, field := range []string{"id", "ts", "origin", "operation", "kid", "signature"} {
		for _, w := range wrong {
			bad := replaceField(t, line, field, w)
			if _, _, err := kr.Verify(bad); reasonOf(err) != ReasonMalformed {
				t.Errorf("%s=%s: %v", field, w, err)
			}
		}
		// Missing.
		i := bytes.Index(line, []byte(`"`+field+`":`))
		j := i + bytes.Index(line[i:], []byte(`",`)) + 2
		if field == "signature" {
			i, j = i-1, len(line)-1
		}
		missing := append(append([]byte{}, line[:i]...), line[j:]...)
		if _, _, err := kr.Verify(missing); reasonOf(err) != ReasonMalformed || !strings.Contains(err.Error(), "missing") {
			t.Errorf("missing %s (%s): %v", field, missing, err)
		}
	}
	for _, c := range []struct{ field, val string }{
		{"id", `""`}, {"id", `"a b"`}, {"id", `"` + strings.Repeat("i", 129) + `"`}, {"id", `"é"`},
		{"ts", `"2026-11-26T12:00:00+01:00"`}, {"ts", `"yesterday"`}, {"ts", `""`},
		{"origin", `"Artisan"`}, {"origin", `""`}, {"kid", `"a 1"`}, {"operation", `"x y"`},
		{"signature", `"abc"`}, {"signature", `"` + strings.Repeat("A", 64) + `"`},
	} {
		bad := replaceField(t, line, c.field, c.val)
		if _, _, err := kr.Verify(bad); reasonOf(err) != ReasonMalformed {
			t.Errorf("%s=%s: %v", c.field, c.val, err)
		}
	}
	// Data is any JSON value, and missing data is malformed.
	for _, d := range []string{`null`, `"s"`, `[1,{"a":[]}]`, `-0.0`} {
		l, err := k.Sign("op", []byte(d), t0)
		if err != nil {
			t.Fatal(err)
		}
		if env, _, err := kr.Verify(l); err != nil || string(env.Data) != d {
			t.Errorf("data %s: %v", d, err)
		}
	}
	if _, _, err := kr.Verify(bytes.Repeat([]byte("x"), MaxLineSize+1)); reasonOf(err) != ReasonTooLong {
		t.Errorf("long line: %v", err)
	}
}

// TestStream: bad lines among good ones are rejected with their reason and
// the good ones around them still pass.
func TestStream(t *testing.T) {
	a := mustKey(t, "a1", "artisan", "a-7")
	co := mustKey(t, "co1", "central-office", "")
	kr, _ := NewKeyring(a, co)
	now := time.Now()
	sign := func(k *Key, d string, ts time.Time) []byte {
		l, err := k.Sign("update", []byte(d), ts)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	good1, good2 := sign(a, `{"x":1}`, now), sign(co, `[1,2]`, now)
	stranger := mustKey(t, "zz", "artisan", "")
	lines := []struct {
		line   []byte
		reason Reason
	}{
		{good1, ""},
		{nil, ReasonMalformed},
		{good1, ReasonReplayed},
		{[]byte(`{"data":1`), ReasonMalformed},
		{sign(stranger, `1`, now), ReasonUnknownKID},
		{sign(a, `1`, now.Add(-2*time.Hour)), ReasonTooOld},
		{sign(a, `1`, now.Add(2*time.Hour)), ReasonFuture},
		{[]byte("\x00"), ReasonMalformed},
		{bytes.Replace(sign(a, `"é"`, now), []byte("é"), []byte("\xff"), 1), ReasonMalformed},
		{bytes.Replace(sign(a, `{"k":1}`, now), []byte(`{"k":1}`), []byte(`{"k":1,"k":2}`), 1), ReasonMalformed},
		{good2, ""},
	}
	v := NewVerifier(kr)
	v.MaxAge = time.Hour
	for i, l := range lines {
		env, key, err := v.Verify(l.line)
		if r := reasonOf(err); r != l.reason {
			t.Errorf("line %d: reason %q (%v), want %q", i+1, r, err, l.reason)
		}
		if l.reason == "" && (env == nil || key == nil || env.Origin != key.Origin) {
			t.Errorf("line %d: env %v key %v", i+1, env, key)
		}
		if l.reason == ReasonReplayed && err.(*VerifyError).ID == "" {
			t.Errorf("line %d: no id in the error", i+1)
		}
	}
}

func TestKeys(t *testing.T) {
	dir := t.TempDir()
	k := mustKey(t, "co-2026-11", "central-office", "")
	path := filepath.Join(dir, "co.key")
	if err := WriteKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	if err := WriteKeyFile(path, k); err == nil {
		t.Error("overwrote an existing key file")
	}
	b, _ := os.ReadFile(path)
	if bytes.Count(b, []byte("\n")) != 1 || !bytes.HasPrefix(b, []byte("hms-key-v1 kid=co-2026-11 origin=central-office secret=")) {
		t.Errorf("key file %q", b)
	}
	var warned []string
	warn := OnWarning(func(msg string) { warned = append(warned, msg) })
	k2, err := LoadKey(path, warn)
	if err != nil || !bytes.Equal(k2.Secret, k.Secret) || k2.KID != k.KID || k2.Origin != k.Origin || len(warned) != 0 {
		t.Fatalf("LoadKey: %v %v %q", k2, err, warned)
	}
	os.Chmod(path, 0o640)
	if _, err := LoadKeyring(path, warn); err != nil || len(warned) != 1 || !strings.Contains(warned[0], "chmod 600") {
		t.Errorf("no warning for mode 0640: %v %q", err, warned)
	}

	// Rotation: two keys for one origin both verify; removing a line revokes.
	old, cur := mustKey(t, "a-2025", "artisan", "a-1"), mustKey(t, "a-2026", "artisan", "a-1")
	t1, _ := old.MarshalText()
	t2, _ := cur.MarshalText()
	ring := string(t1) + "\n# comment\n\n" + string(t2) + "\n"
	kr, err := ReadKeyring(strings.NewReader(ring))
	if err != nil || kr.Len() != 2 {
		t.Fatal(err)
	}
	lo, _ := old.Sign("update", []byte(`1`), t0)
	lc, _ := cur.Sign("update", []byte(`1`), t0)
	for _, l := range [][]byte{lo, lc} {
		if _, key, err := kr.Verify(l); err != nil || key.Subject != "a-1" {
			t.Errorf("rotation: %v", err)
		}
	}
	kr, _ = ReadKeyring(strings.NewReader(string(t2) + "\n"))
	if _, _, err := kr.Verify(lo); reasonOf(err) != ReasonUnknownKID {
		t.Errorf("revoked key: %v", err)
	}

	for _, bad := range []string{
		"", "# only a comment\n", "hms-key-v2 kid=a origin=b secret=x",
		"hms-key-v1 kid=a origin=artisan",
		"hms-key-v1 kid=a origin=Artisan secret=" + strings.Repeat("A", 43),
		"hms-key-v1 kid=a origin=artisan secret=" + strings.Repeat("A", 20),
		"hms-key-v1 kid=a origin=artisan secret=" + strings.Repeat("A", 42) + "=",
		"hms-key-v1 kid=a kid=b origin=artisan secret=" + strings.Repeat("A", 43),
		"hms-key-v1 kid=a origin=artisan color=red secret=" + strings.Repeat("A", 43),
		"hms-key-v1 kid=-a origin=artisan secret=" + strings.Repeat("A", 43),
		string(t1) + "\n" + string(t1) + "\n",
	} {
		if _, err := ReadKeyring(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadKeyring(%q): no error", bad)
		}
	}
	if _, err := GenerateKey("k", "Central", ""); err == nil {
		t.Error("GenerateKey accepted a bad origin")
	}
}
