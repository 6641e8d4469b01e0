package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
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
		``:                           "empty line",
		`[1,2]`:                      "a JSON array, not an object",
		`"str"`:                      "a JSON string, not an object",
		`42`:                         "a JSON number, not an object",
		`null`:                       "a JSON null, not an object",
		`hello`:                      "not a JSON object",
		`{"a":1} x`:                  "unexpected",
		`{"a":1`:                     "unterminated object",
		`{"a":01}`:                   "expected ',' or '}'",
		`{"a":1.}`:                   "no digits after '.'",
		"{\"a\":\"x\ty\"}":           "control character",
		`{"a":"\x"}`:                 "invalid escape",
		`{"a":"\ud800"}`:             "unpaired UTF-16 surrogate",
		"{\"a\":\"\xff\"}":           "invalid UTF-8",
		`{"$where":"1"}`:             `key "$where" starts with '$'`,
		`{"a":{"$gt":1}}`:            `key "$gt" in .a starts with '$'`,
		`{"a":[{"b":{"$set":1}}]}`:   `key "$set" in .a[0].b starts with '$'`,
		`{"a.b":1}`:                  `key "a.b" contains '.'`,
		`{"x":[[{"y.z":1}]]}`:        `key "y.z" in .x[0][0] contains '.'`,
		`{"a":1,"a":2}`:              `key "a" appears twice`,
		`{"a\u0000b":1}`:             "NUL",
		`{"a":tru}`:                  "expected a value",
		strings.Repeat(`{"a":`, 101): "nested deeper than 100",
	} {
		_, err := ParseJSON(nil, []byte(line), Strict)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: error %v, want %q", line, err, want)
		}
		var se *SyntaxError
		var ke *KeyError
		if err != nil && !errors.As(err, &se) && !errors.As(err, &ke) {
			t.Errorf("%q: error type %T", line, err)
		}
	}
	// Query mode allows operators and paths.
	if _, err := ParseJSON(nil, []byte(`{"a.b":{"$gt":1},"$or":[{"c":1}]}`), Operators); err != nil {
		t.Error(err)
	}
}

// The parser agrees with encoding/json on what is valid JSON.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x",{"b":null}]}`, `{"a":1e400}`, `{"\u00e9":"\ud83d\ude00"}`, `{}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := ParseJSON(nil, b, Operators)
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
