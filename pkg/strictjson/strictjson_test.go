package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCanonical(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{` { "b" : 1 , "a" : [ true , false , null ] } `, `{"a":[true,false,null],"b":1}`},
		{`{"z":{"y":1,"x":2},"a":{}}`, `{"a":{},"z":{"x":2,"y":1}}`},
		{`[]`, `[]`},
		{`"\u00e9\/\"\\\b\f\n\r\t\u0001\u001f\u007f\u2028"`, "\"é/\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\u2028\""},
		{`"\ud83d\ude00"`, `"😀"`},
		{`"😀"`, `"😀"`},
		{`12345678901234567890123`, `12345678901234567890123`},
		{`-0.0e+00`, `-0.0e+00`},
		{`1.0`, `1.0`},
		{`1E5`, `1E5`},
		{`{"é":1,"e":2,"f":3,"\u0000":4}`, `{"\u0000":4,"e":2,"f":3,"é":1}`},
		{`{"a\"":1,"a":2}`, `{"a":2,"a\"":1}`},
		{"\t\r\n[1]\n", `[1]`},
	} {
		got, err := Canonical([]byte(c.in))
		if err != nil || string(got) != c.want {
			t.Errorf("Canonical(%s) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
}

func TestRejects(t *testing.T) {
	for _, in := range []string{
		``, ` `, `{`, `{"a":1`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a" 1}`, `{a:1}`, `{'a':1}`,
		`01`, `-`, `1.`, `.5`, `1e`, `+1`, `0x10`, `NaN`, `Infinity`, `-Infinity`, `tru`, `nul`, `True`,
		`"abc`, `"\x"`, `"\u12"`, `"\u12g4"`, `"\ud800"`, `"\udc00"`, `"\ud800\u0041"`, `"\ud800x"`,
		"\"a\x00b\"", "\"a\nb\"", "\"\x1f\"", "\x00", "1\x00", "\"\xff\"", "\"\xc3\"", "\"\xed\xa0\x80\"", "\"\xc0\xaf\"",
		"\xef\xbb\xbf{}", `{} {}`, `1 2`, `{"a":1,"a":1}`, `{"a":{"b":1,"b":2}}`, `[{"x":1,"y":2,"x":3}]`,
		`{"\u0061":1,"a":2}`, `{"b":1,"a":2,"b":3}`, `/*c*/1`, "\v1", "\f1",
		strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
	} {
		if got, err := Canonical([]byte(in)); err == nil {
			t.Errorf("Canonical(%q) = %s, want an error", in, got)
		}
	}
	ok := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := Canonical([]byte(ok)); err != nil {
		t.Errorf("depth %d: %v", MaxDepth, err)
	}
}

func TestDuplicateKeyError(t *testing.T) {
	for _, in := range []string{`{"a":1,"a":2}`, `{"x":{"k":1,"j":0,"k":2}}`, `{"\u006b":1,"k":2}`} {
		_, err := Canonical([]byte(in))
		var de *DuplicateKeyError
		if !errors.As(err, &de) || !errors.Is(err, ErrDuplicateKey) {
			t.Errorf("%s: %v, want a duplicate key error", in, err)
		}
	}
	var p Parser
	if _, err := p.Object([]byte(`{"a":1,"b":2,"a":3}`)); !errors.Is(err, ErrDuplicateKey) {
		t.Errorf("Object: %v", err)
	}
}

func TestObject(t *testing.T) {
	var p Parser
	ms, err := p.Object([]byte(` {"s":"a\nb","n":1.50,"o":{"b":1,"a":2},"l":[ 1 ]} `))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		key, raw, canon string
		kind            Kind
	}{
		{"s", `"a\nb"`, `"a\nb"`, String},
		{"n", `1.50`, `1.50`, Number},
		{"o", `{"b":1,"a":2}`, `{"a":2,"b":1}`, Object},
		{"l", `[ 1 ]`, `[1]`, Array},
	}
	if len(ms) != len(want) {
		t.Fatalf("got %d members", len(ms))
	}
	for i, w := range want {
		m := ms[i]
		if string(m.Key) != w.key || string(m.Raw) != w.raw || string(m.Canon) != w.canon || m.Kind != w.kind {
			t.Errorf("member %d: %q %q %q %v", i, m.Key, m.Raw, m.Canon, m.Kind)
		}
	}
	if string(ms[0].Str) != "a\nb" {
		t.Errorf("Str %q", ms[0].Str)
	}
	for _, bad := range []string{`[]`, `1`, `"x"`, ``, `{"a":1} x`} {
		if _, err := p.Object([]byte(bad)); err == nil {
			t.Errorf("Object(%s): no error", bad)
		}
	}
}

func TestSplitArray(t *testing.T) {
	c, _ := Canonical([]byte(`[1, "a,b]", {"x":[1,2]}, [], "\"", "\\"]`))
	var got []string
	SplitArray(c, func(e []byte) error { got = append(got, string(e)); return nil })
	want := []string{`1`, `"a,b]"`, `{"x":[1,2]}`, `[]`, `"\""`, `"\\"`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	got = nil
	SplitArray([]byte(`[]`), func(e []byte) error { got = append(got, string(e)); return nil })
	if len(got) != 0 {
		t.Errorf("empty array: %q", got)
	}
}

// decodeStd decodes with encoding/json, numbers as json.Number.
func decodeStd(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

// FuzzCanonical checks the canonical encoder: whatever it accepts is valid
// JSON with the same meaning (per encoding/json, numbers compared as their
// text), its output is one line of valid UTF-8, and canonicalising is
// idempotent.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[true,null,"x\n\u00e9"]}`, `"\ud83d\ude00"`, `-1.5e-7`, `[{"a":{}},[]]`, `{"a":1,"a":2}`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var p Parser
		c, err := p.AppendCanonical(nil, in)
		if err != nil {
			return
		}
		if !json.Valid(in) {
			t.Fatalf("accepted invalid JSON %q", in)
		}
		if !utf8.Valid(c) || bytes.ContainsAny(c, "\n\r") {
			t.Fatalf("canonical form %q is not one line of UTF-8", c)
		}
		c2, err := Canonical(c)
		if err != nil || !bytes.Equal(c, c2) {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, c, c2, err)
		}
		v1, err1 := decodeStd(in)
		v2, err2 := decodeStd(c)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(v1, v2) {
			t.Fatalf("meaning changed: %q -> %q (%v, %v)", in, c, err1, err2)
		}
	})
}

func naiveRun(src []byte, i int) int {
	for ; i < len(src); i++ {
		if c := src[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return i
		}
	}
	return i
}

func TestPlainRun(t *testing.T) {
	alphabet := []byte{'a', 'Z', ' ', '!', '"', '#', '\\', ']', 0, 0x1f, 0x20, 0x7f, 0x80, 0xff, 0x21, 0x5b, 0x5d, 0x01}
	seed := uint32(1)
	for n := 0; n < 200000; n++ {
		size := n % 40
		b := make([]byte, size)
		for i := range b {
			seed = seed*1664525 + 1013904223
			if seed>>28 < 11 {
				b[i] = 'a' + byte(seed>>20)%26
			} else {
				b[i] = alphabet[int(seed>>8)%len(alphabet)]
			}
		}
		start := 0
		if size > 0 {
			start = n % size
		}
		if got, want := plainRun(b, start), naiveRun(b, start); got != want {
			t.Fatalf("plainRun(%q, %d) = %d, want %d", b, start, got, want)
		}
	}
}

// A non-ASCII first byte is named as a byte, not as the Latin-1 character
// of the same number ('ÿ' for 0xff).
func TestObjectErrorNamesBytes(t *testing.T) {
	var p Parser
	for in, want := range map[string]string{
		"\xff":     "found byte 0xff",
		"\xc3\xa9": "found byte 0xc3",
		"x":        `found 'x'`,
		"\x00":     `found '\x00'`,
	} {
		_, err := p.Object([]byte(in))
		if err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("Object(%q): %v, want ...%s", in, err, want)
		}
	}
}

// A value placed d levels deep may nest MaxDepth-d levels; the error names
// the '[' that opens one level too many, counted from the start of src.
func TestAppendCanonicalNested(t *testing.T) {
	var p Parser
	for _, depth := range []int{0, 1, 2, MaxDepth} {
		n := MaxDepth - depth
		ok := strings.Repeat("[", n) + "0" + strings.Repeat("]", n)
		if _, err := p.AppendCanonicalNested(nil, []byte(ok), depth); err != nil {
			t.Errorf("depth %d, %d levels: %v", depth, n, err)
		}
		deep := " " + strings.Repeat("[", n+1) + "0" + strings.Repeat("]", n+1)
		_, err := p.AppendCanonicalNested(nil, []byte(deep), depth)
		want := fmt.Sprintf("invalid JSON at offset %d: nesting too deep", n+1)
		if err == nil || err.Error() != want {
			t.Errorf("depth %d, %d levels: %v, want %s", depth, n+1, err, want)
		}
	}
	if got, err := p.AppendCanonicalNested([]byte("x"), []byte(` {"b":1,"a":2} `), 1); err != nil || string(got) != `x{"a":2,"b":1}` {
		t.Errorf("got %s, %v", got, err)
	}
}
