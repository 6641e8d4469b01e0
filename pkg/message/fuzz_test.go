package message

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hms-toolkit/hms/pkg/strictjson"
)

var fuzzKey = &Key{KID: "fuzz-1", Origin: "artisan", Subject: "a-1", Secret: []byte("0123456789abcdef0123456789abcdef")}

// FuzzSignVerify: whatever data Sign accepts, Verify accepts the result and
// returns the data's canonical form; Sign rejects exactly what strictjson
// rejects.
func FuzzSignVerify(f *testing.F) {
	for _, s := range []string{`1`, `{"b":[1,2],"a":"é\n"}`, `"\ud83d\ude00"`, `[{"x":null}]`, `{"a":1,"a":2}`, "\"\xff\"",
		strings.Repeat("[", 511) + strings.Repeat("]", 511), strings.Repeat(`{"":`, 512) + "1" + strings.Repeat("}", 512)} {
		f.Add([]byte(s), "update", int64(0))
	}
	kr, _ := NewKeyring(fuzzKey)
	f.Fuzz(func(t *testing.T, data []byte, op string, ns int64) {
		now := time.Unix(0, ns)
		line, err := fuzzKey.Sign(op, data, now)
		var p strictjson.Parser
		canon, cerr := p.AppendCanonicalNested(nil, data, DataDepth)
		if err != nil {
			if cerr == nil && ValidOperation(op) && len(canon) < MaxLineSize-300 && now.Year() >= 0 && now.Year() <= 9999 {
				t.Fatalf("Sign(%q, %q) failed: %v", op, data, err)
			}
			return
		}
		if cerr != nil {
			t.Fatalf("Sign accepted %q that strictjson rejects: %v", data, cerr)
		}
		env, key, err := kr.Verify(line)
		if err != nil {
			t.Fatalf("Verify(Sign(%q)) = %v\n%s", data, err, line)
		}
		if key != fuzzKey || env.Operation != op || !bytes.Equal(env.Data, canon) || env.Origin != "artisan" || !env.TS.Equal(now.Truncate(time.Microsecond)) {
			t.Fatalf("round trip changed the envelope: %+v", env)
		}
	})
}

// FuzzTamper: any single-byte change to a signed line either fails
// (parsing or verification) or leaves its canonical encoding, and so its
// meaning, unchanged.
func FuzzTamper(f *testing.F) {
	f.Add([]byte(`{"oid":"p-1","q":[1,2.5,-3e7],"s":"a\"b\\c\u00e9😀"}`), uint16(10), byte('x'))
	f.Add([]byte(`"x"`), uint16(3), byte(' '))
	f.Add([]byte(`1`), uint16(100), byte('2'))
	kr, _ := NewKeyring(fuzzKey)
	f.Fuzz(func(t *testing.T, data []byte, pos uint16, b byte) {
		line, err := fuzzKey.Sign("update", data, time.Unix(1e9, 0))
		if err != nil {
			return
		}
		var st verifyState
		if _, _, err := st.verify(kr, line); err != nil {
			t.Fatalf("signed line does not verify: %v", err)
		}
		orig := bytes.Clone(st.buf)
		i := int(pos) % len(line)
		if line[i] == b {
			return
		}
		mod := bytes.Clone(line)
		mod[i] = b
		if _, _, err := st.verify(kr, mod); err == nil && !bytes.Equal(st.buf, orig) {
			t.Fatalf("byte %d changed to %q: verifies with another meaning\n%s\n%s\n%s", i, b, mod, orig, st.buf)
		}
	})
}

// FuzzVerify: arbitrary input never panics, every failure is a
// *VerifyError, and whatever verifies has valid JSON data.
func FuzzVerify(f *testing.F) {
	good, _ := fuzzKey.Sign("update", []byte(`{"a":[1,"x"]}`), time.Unix(1e9, 0))
	f.Add(good)
	f.Add([]byte(`{"data":1}`))
	f.Add([]byte(`[]`))
	kr, _ := NewKeyring(fuzzKey)
	f.Fuzz(func(t *testing.T, line []byte) {
		env, _, err := kr.Verify(line)
		if err != nil {
			if _, ok := err.(*VerifyError); !ok {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		if !json.Valid(env.Data) {
			t.Fatalf("data %q", env.Data)
		}
	})
}
