package store

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/hms-toolkit/hms/pkg/jsonbson"
)

// Values are one id exactly when the server finds them equal.
func TestIDKeyEquality(t *testing.T) {
	key := func(v any) string {
		doc, err := bson.Marshal(bson.D{{Key: "v", Value: v}})
		if err != nil {
			t.Fatal(err)
		}
		el, _ := jsonbson.Lookup(doc, "v")
		k, _ := idKey(nil, el)
		return k
	}
	negZero := 0.0
	negZero = -negZero
	big := func(lit string) bson.Binary {
		return bson.Binary{Subtype: jsonbson.BigNumberSubtype, Data: []byte(lit)}
	}
	for _, same := range [][]any{
		{int32(8), 8.0, int64(8)},
		{int32(0), 0.0, negZero, int64(0)},
		{int64(1 << 40), float64(1 << 40)},
		{int64(-1 << 63), float64(-1 << 63)},
		{bson.D{{Key: "a", Value: int32(1)}}, bson.D{{Key: "a", Value: 1.0}}, bson.D{{Key: "a", Value: int64(1)}}},
		{bson.A{int32(1), 2.0}, bson.A{1.0, int64(2)}},
		{bson.D{{Key: "x", Value: bson.A{bson.D{{Key: "y", Value: negZero}}}}}, bson.D{{Key: "x", Value: bson.A{bson.D{{Key: "y", Value: int32(0)}}}}}},
		{"8", "8"},
		{big("18446744073709551616"), big("18446744073709551616")},
	} {
		for _, v := range same[1:] {
			if key(v) != key(same[0]) {
				t.Errorf("%#v and %#v: different ids", same[0], v)
			}
		}
	}
	for _, differ := range [][2]any{
		{int32(8), 8.5},
		{int32(8), "8"},
		{int32(8), big("8")},
		{int64(1<<53 + 1), float64(1 << 53)},
		{1e20, big("100000000000000000000")},
		{float64(1 << 63), int64(-1 << 63)},
		{bson.D{{Key: "a", Value: 1}, {Key: "b", Value: 2}}, bson.D{{Key: "b", Value: 2}, {Key: "a", Value: 1}}},
		{bson.A{int32(1)}, bson.D{{Key: "0", Value: int32(1)}}},
		{"é", "e\u0301"},
		{true, int32(1)},
		{nil, false},
	} {
		if key(differ[0]) == key(differ[1]) {
			t.Errorf("%#v and %#v: one id", differ[0], differ[1])
		}
	}
}

// The key-derived _id of upserts did not change for keys already in their
// canonical form (integers, strings: what JSON input gives): records made
// before are still found by _id.
func TestKeyIDStable(t *testing.T) {
	doc, _ := jsonbson.ParseJSON(nil, []byte(`{"k":12,"s":"x"}`), jsonbson.Strict)
	k, _ := jsonbson.Lookup(doc, "k")
	s, _ := jsonbson.Lookup(doc, "s")
	raw := append(append([]byte{}, k...), s...)
	canon := canonicalElement(canonicalElement(nil, k), s)
	if string(KeyID(raw)) != string(KeyID(canon)) {
		t.Error("KeyID changed for canonical keys")
	}
	doc2, _ := jsonbson.ParseJSON(nil, []byte(`{"k":12.0,"s":"x"}`), jsonbson.Strict)
	k2, _ := jsonbson.Lookup(doc2, "k")
	if string(KeyID(canonicalElement(canonicalElement(nil, k2), s))) != string(KeyID(canon)) {
		t.Error("12.0 and 12 give different key ids")
	}
}
