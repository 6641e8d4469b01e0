package gateway

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// Each checker, each rule once: a value it accepts (and its normal form) or
// a value it refuses (and a word of the reason).
func TestCheckers(t *testing.T) {
	key := strings.Repeat("ab", 64)
	id := "0b6d1c8e-2f43-4c7a-9a1e-5d7f3b2a1c90"
	tests := []struct {
		name  string
		check checker
		in    any
		want  any    // normal form when accepted
		err   string // part of the reason when refused
	}{
		{"single-line", singleLine, "Jane Doe", "Jane Doe", ""},
		{"single-line unicode", singleLine, "Zoë ½\"", "Zoë ½\"", ""},
		{"single-line empty", singleLine, "", nil, "empty"},
		{"single-line newline", singleLine, "a\nb", nil, "control character"},
		{"single-line return", singleLine, "a\rb", nil, "control character"},
		{"single-line tab", singleLine, "a\tb", nil, "control character"},
		{"single-line NUL", singleLine, "a\x00b", nil, "control character"},
		{"single-line number", singleLine, json.Number("12.345"), nil, "is a number"},
		{"single-line longest", singleLine, strings.Repeat("é", 256), strings.Repeat("é", 256), ""},
		{"single-line too long", singleLine, strings.Repeat("é", 257), nil, "is 257 characters long, more than the 256 allowed"},
		{"summary longest", singleLineOf(MaxSummary), strings.Repeat("s", 1000), strings.Repeat("s", 1000), ""},
		{"summary too long", singleLineOf(MaxSummary), strings.Repeat("s", 1001), nil, "more than the 1000 allowed"},
		{"multi-line too long", multiLine, strings.Repeat("\n", 20001), nil, "is 20001 characters long, more than the 20000 allowed"},
		{"multi-line", multiLine, "line one\nline two\twith tab", "line one\nline two\twith tab", ""},
		{"multi-line empty", multiLine, "", "", ""},
		{"multi-line escape", multiLine, "a\x1b[31m", nil, "control character"},
		{"boolean", boolean, true, true, ""},
		{"boolean string", boolean, "true", nil, "is a string"},
		{"oid", oid, id, id, ""},
		{"oid upper case", oid, strings.ToUpper(id), id, ""},
		{"oid short", oid, "p-0", nil, "not a UUID"},
		{"oid no dashes", oid, strings.ReplaceAll(id, "-", "") + "abcd", nil, "not a UUID"},
		{"oid huge", oid, strings.Repeat("x", 1<<20), nil, `"` + strings.Repeat("x", 64) + `"… is not a UUID`},
		{"oid number", oid, json.Number("1"), nil, "is a number"},
		{"email", email, "no-one@me.co", "no-one@me.co", ""},
		{"email plus and subdomain", email, "a.b+c@mail.example.org", "a.b+c@mail.example.org", ""},
		{"email no at", email, "no-one.me.co", nil, "e-mail"},
		{"email two ats", email, "a@b@me.co", nil, "e-mail"},
		{"email no tld", email, "no-one@localhost", nil, "e-mail"},
		{"email numeric tld", email, "a@10.0.0.1", nil, "e-mail"},
		{"email empty local", email, "@me.co", nil, "e-mail"},
		{"email double dot", email, "a..b@me.co", nil, "e-mail"},
		{"email space", email, "a b@me.co", nil, "e-mail"},
		{"email bad label", email, "a@-me.co", nil, "e-mail"},
		{"email newline", email, "a@me.co\n", nil, "control character"},
		{"email too long", email, strings.Repeat("a", 64) + "@" + strings.Repeat("b", 190) + ".co", nil, "is 258 characters long, more than the 254 allowed"},
		{"website long", website, "https://example.com/" + strings.Repeat("p", 1980), "https://example.com/" + strings.Repeat("p", 1980), ""},
		{"website too long", website, "https://example.com/" + strings.Repeat("p", 1981), nil, "more than the 2000 allowed"},
		{"website http", website, "http://example.com", "http://example.com", ""},
		{"website https path port", website, "https://shop.example.com:8443/a?b=c#d", "https://shop.example.com:8443/a?b=c#d", ""},
		{"website ip", website, "http://192.0.2.7/", "http://192.0.2.7/", ""},
		{"website number", website, json.Number("12.345"), nil, "is a number"},
		{"website no scheme", website, "example.com", nil, "web address"},
		{"website ftp", website, "ftp://example.com", nil, "web address"},
		{"website javascript", website, "javascript:alert(1)", nil, "web address"},
		{"website no host", website, "http:///path", nil, "web address"},
		{"website userinfo", website, "http://user:pw@example.com", nil, "web address"},
		{"website bad host", website, "http://exa_mple.com", nil, "web address"},
		{"website space", website, "http://example.com/a b", nil, "web address"},
		{"website bad port", website, "http://example.com:99999", nil, "web address"},
		{"queue id", queueID, "hms.artisan-7 queue", "hms.artisan-7 queue", ""},
		{"queue id empty", queueID, "", nil, "1 to 255"},
		{"queue id long", queueID, strings.Repeat("q", 256), nil, "1 to 255"},
		{"queue id non-ascii", queueID, "queue-é", nil, "printable ASCII"},
		{"queue id control", queueID, "a\x01", nil, "printable ASCII"},
		{"signing key", signingKey, key, key, ""},
		{"signing key short", signingKey, key[:126], nil, "at least 64"},
		{"signing key longest", signingKey, strings.Repeat("ab", 512), strings.Repeat("ab", 512), ""},
		{"signing key too long", signingKey, strings.Repeat("ab", 513), nil, "more than the 1024 hex digits allowed"},
		{"signing key not hex", signingKey, strings.Repeat("zz", 64), nil, "not hex"},
		{"signing key odd", signingKey, key + "a", nil, "not hex"},
		{"signing key bytes", signingKey, json.Number("1"), nil, "is a number"},
		{"weight", nonNegativeNumber, json.Number("1.5"), 1.5, ""},
		{"weight zero", nonNegativeNumber, json.Number("0"), 0.0, ""},
		{"weight exponent", nonNegativeNumber, json.Number("1e-07"), 1e-07, ""},
		{"weight from store", nonNegativeNumber, int32(3), 3.0, ""},
		{"weight negative", nonNegativeNumber, json.Number("-0.1"), nil, ">= 0"},
		{"weight string", nonNegativeNumber, "1.5", nil, "is a string"},
		{"weight huge", nonNegativeNumber, json.Number("1e999"), nil, "is 1e999, out of range"},
		{"weight negative from store", nonNegativeNumber, -2.5, nil, "is -2.5, must be >= 0"},
		{"metadata", stringMap, map[string]any{"wood": "Cherry, Oak"}, map[string]any{"wood": "Cherry, Oak"}, ""},
		{"metadata number value", stringMap, map[string]any{"a": json.Number("1")}, nil, "is a number"},
		{"metadata multi-line value", stringMap, map[string]any{"a": "x\ny"}, nil, "control character"},
		{"metadata dotted key", stringMap, map[string]any{"a.b": "x"}, nil, "'.'"},
		{"metadata dollar key", stringMap, map[string]any{"$set": "x"}, nil, "'$'"},
		{"metadata empty key", stringMap, map[string]any{"": "x"}, nil, "empty"},
		{"metadata long key", stringMap, map[string]any{strings.Repeat("k", 65): "x"}, nil, "more than the 64 allowed"},
		{"metadata too many", stringMap, manyEntries(101), nil, "has 101 entries, more than the 100 allowed"},
		{"metadata most", stringMap, manyEntries(100), manyEntries(100), ""},
		{"metadata array", stringMap, []any{"a"}, nil, "is an array"},
		{"items", quantities(true), map[string]any{id: json.Number("2")}, map[string]any{id: int64(2)}, ""},
		{"items zero", quantities(true), map[string]any{id: json.Number("0")}, map[string]any{id: int64(0)}, ""},
		{"items from store", quantities(true), map[string]any{id: int32(2)}, map[string]any{id: int64(2)}, ""},
		{"items whole float", quantities(true), map[string]any{id: json.Number("2.0")}, map[string]any{id: int64(2)}, ""},
		{"items upper-case key", quantities(true), map[string]any{strings.ToUpper(id): json.Number("1")}, map[string]any{id: int64(1)}, ""},
		{"items empty", quantities(true), map[string]any{}, nil, "empty"},
		{"fulfilled empty", quantities(false), map[string]any{}, map[string]any{}, ""},
		{"items largest", quantities(true), map[string]any{id: json.Number("9007199254740991")}, map[string]any{id: int64(1<<53 - 1)}, ""},
		{"items exponent", quantities(true), map[string]any{id: json.Number("2E3")}, map[string]any{id: int64(2000)}, ""},
		{"items fraction that is whole", quantities(true), map[string]any{id: json.Number("12.50e1")}, map[string]any{id: int64(125)}, ""},
		{"items zero forms", quantities(true), map[string]any{id: json.Number("-0.0e-7")}, map[string]any{id: int64(0)}, ""},
		{"items 2^53", quantities(true), map[string]any{id: json.Number("9007199254740992")}, nil, "is 9007199254740992, out of range (at most 9007199254740991)"},
		{"items 2^64", quantities(true), map[string]any{id: json.Number("18446744073709551616")}, nil, "is 18446744073709551616, out of range"},
		{"items 1e20", quantities(true), map[string]any{id: json.Number("1e20")}, nil, "is 1e20, out of range"},
		{"items huge exponent", quantities(true), map[string]any{id: json.Number("1e999999999999")}, nil, "out of range"},
		{"items tiny exponent", quantities(true), map[string]any{id: json.Number("1e-999999999999")}, nil, "want a whole number"},
		{"items fraction beyond 2^53", quantities(true), map[string]any{id: json.Number("9007199254740991.5")}, nil, "is 9007199254740991.5, want a whole number"},
		{"items big from store", quantities(true), map[string]any{id: float64(1 << 64)}, nil, "is 18446744073709551616, out of range"},
		{"items int64 from store", quantities(true), map[string]any{id: int64(1) << 60}, nil, "is 1152921504606846976, out of range"},
		{"items negative", quantities(true), map[string]any{id: json.Number("-1")}, nil, ">= 0"},
		{"items fraction", quantities(true), map[string]any{id: json.Number("1.5")}, nil, "whole number"},
		{"items string quantity", quantities(true), map[string]any{id: "2"}, nil, "is a string"},
		{"items bad key", quantities(true), map[string]any{"p-0": json.Number("1")}, nil, "not a product oid"},
		{"items array", quantities(true), []any{}, nil, "is an array"},
		{"address", object(addressFields), map[string]any{"street_address": "1 Main St", "city": "Springfield", "country": nil},
			map[string]any{"street_address": "1 Main St", "city": "Springfield"}, ""},
		{"address no city", object(addressFields), map[string]any{"street_address": "1 Main St"}, nil, ".city is required"},
		{"address unknown", object(addressFields), map[string]any{"street_address": "s", "city": "c", "planet": "Earth"}, nil, `unknown field "planet"`},
		{"address bad region", object(addressFields), map[string]any{"street_address": "s", "city": "c", "region": "a\nb"}, nil, ".region contains"},
		{"address string", object(addressFields), "1 Main St", nil, "is a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.check(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got (%#v, %v), want an error containing %q", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func manyEntries(n int) map[string]any {
	m := make(map[string]any, n)
	for i := range n {
		m[fmt.Sprint("k", i)] = "v"
	}
	return m
}
