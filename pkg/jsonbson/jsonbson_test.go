package jsonbson

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/hms-toolkit/hms/pkg/strictjson"
)

// Every line comes back as exactly itself (these are written in the
// printer's canonical form: no spaces, doubles with '.' or exponent).
func TestRoundTripExact(t *testing.T) {
	for _, line := range []string{
		`{}`,
		`{"a":1,"b":-2147483648,"c":2147483648,"d":-9223372036854775808,"e":9223372036854775807}`,
		`{"big":9223372036854775808,"neg":-9223372036854775809,"huge":123456789012345678901234567890123456789012345678901234567890}`,
		`{"f":1.5,"g":2.0,"h":-0.0,"i":0.1,"j":1e+300,"k":5e-324,"l":1e-7,"m":123456.789}`,
		`{"over":1e400,"under":1e-400,"negover":-2.5E+999}`,
		`{"s":"héllo ☃ 😀","esc":"\"\\\n\r\t\u0001\u001f","nul":"a\u0000b"}`,
		`{"t":true,"f":false,"n":null}`,
		`{"e":{},"a":[],"deep":{"a":{"b":{"c":[{"d":[]},{}]}}}}`,
		`{"mixed":[1,"x",null,true,{"k":[]},2.5]}`,
		`{"_id":"abc","v":1}`,
		`{"":1,"ключ":2}`,
	} {
		doc, err := ParseJSON(nil, []byte(line), Strict)
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		if err := bson.Raw(doc).Validate(); err != nil {
			t.Errorf("%s: invalid BSON: %v", line, err)
		}
		out, err := AppendJSON(nil, doc, OutputOptions{})
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		if string(out) != line {
			t.Errorf("round trip\n got %s\nwant %s", out, line)
		}
		if !json.Valid(out) {
			t.Errorf("not valid JSON: %s", out)
		}
	}
}

// Lines in any layout come back as equal JSON values.
func TestRoundTripValues(t *testing.T) {
	for in, want := range map[string]string{
		` { "a" : [ 1 , 2 ] , "b" : { } } `: `{"a":[1,2],"b":{}}`,
		`{"x":"\/\b\f\u00e9\ud83d\ude00"}`:  `{"x":"/\u0008\u000c\u00e9😀"}`,
		`{"x":1E2,"y":-0,"z":0.10}`:         `{"x":100.0,"y":0,"z":0.1}`,
		"{\"a\":1}\r\n":                     `{"a":1}`,
	} {
		doc, err := ParseJSON(nil, []byte(in), Strict)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		out, _ := AppendJSON(nil, doc, OutputOptions{})
		if string(out) != strings.ReplaceAll(want, `\u00e9`, "é") && string(out) != want {
			t.Errorf("%q:\n got %s\nwant %s", in, out, want)
		}
	}
}

func TestTypes(t *testing.T) {
	doc, err := ParseJSON(nil, []byte(`{"i":1,"l":4294967296,"d":1.0,"b":18446744073709551616,"o":1e999}`), Strict)
	if err != nil {
		t.Fatal(err)
	}
	r := bson.Raw(doc)
	for key, typ := range map[string]bson.Type{"i": bson.TypeInt32, "l": bson.TypeInt64, "d": bson.TypeDouble, "b": bson.TypeBinary, "o": bson.TypeBinary} {
		if got := r.Lookup(key).Type; got != typ {
			t.Errorf("%s: type %v, want %v", key, got, typ)
		}
	}
	sub, data := r.Lookup("b").Binary()
	if sub != BigNumberSubtype || string(data) != "18446744073709551616" {
		t.Errorf("big number stored as %#x %q", sub, data)
	}
}

func TestRejects(t *testing.T) {
	for line, want := range map[string]string{
		``:                           "invalid JSON at offset 0: empty input, want a JSON object",
		`  [1,2]`:                    "invalid JSON at offset 2: want a JSON object, found an array",
		`"str"`:                      "invalid JSON at offset 0: want a JSON object, found a string",
		`42`:                         "invalid JSON at offset 0: want a JSON object, found a number",
		`null`:                       "invalid JSON at offset 0: want a JSON object, found null",
		`nothing`:                    "invalid JSON at offset 0: want a JSON object, found 'n'",
		`true`:                       "invalid JSON at offset 0: want a JSON object, found a boolean",
		`hello`:                      "invalid JSON at offset 0: want a JSON object, found 'h'",
		"\xff":                       "invalid JSON at offset 0: want a JSON object, found byte 0xff",
		`{"a":1} x`:                  "invalid JSON at offset 8: unexpected data after the object",
		`{"a":1`:                     "invalid JSON at offset 6: unexpected end of input, want ',' or '}' in object",
		`{"a":[1 2]}`:                "invalid JSON at offset 8: unexpected '2', want ',' or ']' in array",
		`{"a":01}`:                   "invalid JSON at offset 5: number with a leading zero",
		`{"a":1.}`:                   "invalid JSON at offset 7: unexpected '}', want a digit after '.'",
		`{"a":-}`:                    "invalid JSON at offset 6: unexpected '}', want a digit",
		`{"a":1e}`:                   "invalid JSON at offset 7: unexpected '}', want a digit in the exponent",
		"{\"a\":\"x\ty\"}":           "invalid JSON at offset 7: control character U+0009 in string (must be escaped)",
		`{"a":"\x"}`:                 `invalid JSON at offset 6: invalid escape \x`,
		`{"a":"\u12"}`:               `invalid JSON at offset 6: invalid \u escape`,
		`{"a":"\ud800"}`:             `invalid JSON at offset 6: lone surrogate in \u escape (not valid Unicode)`,
		`{"a":"\udc00\ud800"}`:       `invalid JSON at offset 6: lone surrogate in \u escape (not valid Unicode)`,
		"{\"a\":\"\xff\"}":           "invalid JSON at offset 6: invalid UTF-8 in string",
		`{"a":"x`:                    "invalid JSON at offset 7: unexpected end of input in string",
		`{"a" 1}`:                    "invalid JSON at offset 5: unexpected '1', want ':' after object key",
		`{a:1}`:                      "invalid JSON at offset 1: unexpected 'a', want a string (object key)",
		`{"a":tru}`:                  "invalid JSON at offset 5: unexpected 't', want a value",
		`{"$where":"1"}`:             `key "$where" starts with '$' (operators are not data)`,
		`{"a":{"$gt":1}}`:            `key "$gt" in .a starts with '$' (operators are not data)`,
		`{"a":[{"b":{"$set":1}}]}`:   `key "$set" in .a[0].b starts with '$' (operators are not data)`,
		`{"a.b":1}`:                  `key "a.b" contains '.' (a path, not a field name)`,
		`{"x":[[{"y.z":1}]]}`:        `key "y.z" in .x[0][0] contains '.' (a path, not a field name)`,
		`{"a":1,"a":2}`:              `invalid JSON: duplicate key "a" in the object at offset 0`,
		`{"o":{"b":1,"b":2}}`:        `invalid JSON: duplicate key "b" in the object at offset 5`,
		`{"a\u0000b":1}`:             `key "a\x00b" contains a NUL character`,
		strings.Repeat(`{"a":`, 101): "invalid JSON at offset 500: nesting too deep (more than 100 levels)",
	} {
		_, err := ParseJSON(nil, []byte(line), Strict)
		if err == nil || err.Error() != want {
			t.Errorf("%.40q: error %v, want %q", line, err, want)
		}
		var se *strictjson.SyntaxError
		var de *strictjson.DuplicateKeyError
		var ke *KeyError
		if err != nil && !errors.As(err, &se) && !errors.As(err, &de) && !errors.As(err, &ke) {
			t.Errorf("%q: error type %T", line, err)
		}
	}
	// Operators mode allows operators and paths...
	if _, err := ParseJSON(nil, []byte(`{"a.b":{"$gt":1},"$or":[{"c":1}]}`), Operators); err != nil {
		t.Error(err)
	}
	if _, err := ParseJSON(nil, []byte(strings.Repeat(`[`, 100)), Operators); err == nil {
		t.Error("accepted an array")
	}
}

// Operators that run code on the server are refused anywhere in a filter.
func TestServerCodeRefused(t *testing.T) {
	for filter, want := range map[string]string{
		`{"$where":"sleep(1000)"}`:                                               `key "$where" runs code on the server (not allowed)`,
		`{"$expr":{"$function":{"body":"x","args":[],"lang":"js"}}}`:             `key "$function" in .$expr runs code on the server (not allowed)`,
		`{"$and":[{"a":1},{"$or":[{"$where":"1"}]}]}`:                            `key "$where" in .$and[1].$or[0] runs code on the server (not allowed)`,
		`{"a":{"b":{"$accumulator":{}}}}`:                                        `key "$accumulator" in .a.b runs code on the server (not allowed)`,
		`{"$expr":{"$eq":[{"$function":{"body":"1","args":[],"lang":"js"}},1]}}`: `key "$function" in .$expr.$eq[0] runs code on the server (not allowed)`,
		`{"\u0024where":"1"}`:                                                    `key "$where" runs code on the server (not allowed)`,
	} {
		_, err := ParseJSON(nil, []byte(filter), Operators)
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", filter, err, want)
		}
	}
	for _, ok := range []string{`{"where":1}`, `{"$expr":{"$gt":["$a","$b"]}}`, `{"f":"$where"}`} {
		if _, err := ParseJSON(nil, []byte(ok), Operators); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// Where both refuse an object for its syntax, jsonbson says exactly what
// strictjson says: the same offset, the same words.
func TestSyntaxErrorsAsStrictJSON(t *testing.T) {
	for _, in := range []string{``, ` `, `[1]`, `x`, `{`, `{"a"`, `{"a":`, `{"a":1,}`, `{"a":[1,]}`, `{"a":[1 2]}`,
		`{"a":01}`, `{"a":-01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e+}`, `{"a":"\q"}`, `{"a":"\u00g0"}`, `{"a":"\udfff"}`,
		"{\"a\":\"\x01\"}", "{\"a\":\"\xc3\"}", `{"a":nul}`, `{"a":1}}`, `{"a":{"b":[{"c":truex}]}}`, `{"a":"x`, `{"a":"\`} {
		var sp strictjson.Parser
		_, want := sp.Object([]byte(in))
		_, got := ParseJSON(nil, []byte(in), Operators)
		if want == nil || got == nil || got.Error() != want.Error() {
			t.Errorf("%q:\n jsonbson   %v\n strictjson %v", in, got, want)
		}
	}
}

// The parser agrees with encoding/json on what is valid JSON.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x",{"b":null}]}`, `{"a":1e400}`, `{"\u00e9":"\ud83d\ude00"}`, `{}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := ParseJSON(nil, b, Operators)
		var sp strictjson.Parser
		_, serr := sp.Object(b)
		var se1, se2 *strictjson.SyntaxError
		if errors.As(err, &se1) && errors.As(serr, &se2) && !strings.Contains(se1.Msg, "nesting") && *se1 != *se2 {
			t.Fatalf("%q: jsonbson says %v, strictjson %v", b, err, serr)
		}
		if err == nil {
			if !json.Valid(b) {
				t.Fatalf("accepted invalid JSON %q", b)
			}
			if err := bson.Raw(doc).Validate(); err != nil {
				t.Fatalf("%q: invalid BSON: %v", b, err)
			}
			out, err := AppendJSON(nil, doc, OutputOptions{ID: IDAlways})
			if err != nil {
				t.Fatal(err)
			}
			doc2, err := ParseJSON(nil, out, Operators)
			if err != nil || !bytes.Equal(doc, doc2) {
				t.Fatalf("%q → %s: not stable (%v)", b, out, err)
			}
		}
	})
}

func TestDoubleFormat(t *testing.T) {
	for f, want := range map[float64]string{
		1: "1.0", -0.5: "-0.5", 1e21: "1e+21", 1e20: "100000000000000000000.0",
		1e-7: "1e-7", math.MaxFloat64: "1.7976931348623157e+308", math.NaN(): `{"$numberDouble":"NaN"}`,
	} {
		w := writer{}
		w.double(f)
		if string(w.out) != want {
			t.Errorf("%v: %s, want %s", f, w.out, want)
		}
	}
}

func TestOutputID(t *testing.T) {
	oid := bson.NewObjectID()
	doc, _ := bson.Marshal(bson.D{{Key: "_id", Value: oid}, {Key: "a", Value: 1}})
	for mode, want := range map[IDMode]string{
		IDAuto:   `{"a":1}`,
		IDNever:  `{"a":1}`,
		IDAlways: `{"_id":{"$oid":"` + oid.Hex() + `"},"a":1}`,
	} {
		out, err := AppendJSON(nil, doc, OutputOptions{ID: mode})
		if err != nil || string(out) != want {
			t.Errorf("mode %d: %s %v, want %s", mode, out, err, want)
		}
	}
	doc, _ = bson.Marshal(bson.D{{Key: "_id", Value: "k"}, {Key: "n", Value: bson.D{{Key: "_id", Value: oid}}}})
	out, _ := AppendJSON(nil, doc, OutputOptions{})
	if want := `{"_id":"k","n":{"_id":{"$oid":"` + oid.Hex() + `"}}}`; string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
}

var benchLine = []byte(`{"n":123456789,"divisors":[1,3,3607,3803,10821,11409,13717421,41152263],"worker":"w3","ms":12.375,"note":"héllo"}`)

func BenchmarkParseJSON(b *testing.B) {
	b.SetBytes(int64(len(benchLine)))
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = ParseJSON(buf[:0], benchLine, Strict); err != nil {
			b.Fatal(err)
		}
	}
}

// The driver's Extended JSON decoder, the obvious alternative, for scale.
func BenchmarkParseExtJSON(b *testing.B) {
	b.SetBytes(int64(len(benchLine)))
	for b.Loop() {
		var d bson.D
		if err := bson.UnmarshalExtJSON(benchLine, false, &d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	doc, _ := ParseJSON(nil, benchLine, Strict)
	b.SetBytes(int64(len(benchLine)))
	var buf []byte
	for b.Loop() {
		buf, _ = AppendJSON(buf[:0], doc, OutputOptions{})
	}
}

func TestOperatorsObjectID(t *testing.T) {
	doc, err := ParseJSON(nil, []byte(`{"_id": { "$oid" : "0123456789abcdef01234567" }, "a": {"$oid": "xyz"}}`), Operators)
	if err != nil {
		t.Fatal(err)
	}
	r := bson.Raw(doc)
	if oid, ok := r.Lookup("_id").ObjectIDOK(); !ok || oid.Hex() != "0123456789abcdef01234567" {
		t.Errorf("_id: %v", r.Lookup("_id"))
	}
	if r.Lookup("a").Type != bson.TypeEmbeddedDocument {
		t.Errorf("a: %v", r.Lookup("a"))
	}
	if _, err := ParseJSON(nil, []byte(`{"_id":{"$oid":"0123456789abcdef01234567"}}`), Strict); err == nil {
		t.Error("Strict accepted $oid")
	}
}

// Text that is not UTF-8 (only other writers can store it) comes out with
// U+FFFD for each bad byte, and OnInvalidUTF8 is told where: keys too.
func TestInvalidUTF8Output(t *testing.T) {
	doc, err := bson.Marshal(bson.D{
		{Key: "_id", Value: 7},
		{Key: "ok", Value: "fine ☃"},
		{Key: "s", Value: "a\xffb\xfe"},
		{Key: "n", Value: bson.D{{Key: "arr", Value: bson.A{"x", "\xc3"}}}},
		{Key: "k\xff", Value: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	out, err := AppendJSON(nil, doc, OutputOptions{OnInvalidUTF8: func(p string) { paths = append(paths, p) }})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"_id":7,"ok":"fine ☃","s":"a\ufffdb\ufffd","n":{"arr":["x","\ufffd"]},"k\ufffd":1}`
	if string(out) != want || !json.Valid(out) {
		t.Errorf("got  %s\nwant %s", out, want)
	}
	if want := []string{".s", ".n.arr[1]", ".k\xff"}; !slices.Equal(paths, want) {
		t.Errorf("paths %q, want %q", paths, want)
	}
	// Without the callback, the same output.
	if out2, _ := AppendJSON(nil, doc, OutputOptions{}); !bytes.Equal(out, out2) {
		t.Errorf("without OnInvalidUTF8: %s", out2)
	}
}

func TestLookupAndValue(t *testing.T) {
	doc, _ := ParseJSON(nil, []byte(`{"a":1,"b":{"c":[1.5,"x"]},"big":18446744073709551616}`), Strict)
	for key, want := range map[string]string{"a": "1", "b": `{"c":[1.5,"x"]}`, "big": "18446744073709551616"} {
		el, ok := Lookup(doc, key)
		if !ok {
			t.Fatalf("%s not found", key)
		}
		typ, v := ElementValue(el)
		got, err := AppendValue(nil, typ, v)
		if err != nil || string(got) != want {
			t.Errorf("%s: %s %v, want %s", key, got, err, want)
		}
	}
	if _, ok := Lookup(doc, "c"); ok {
		t.Error("found c at the top")
	}
}
