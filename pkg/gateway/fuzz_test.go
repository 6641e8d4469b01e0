package gateway

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/hms-toolkit/hms/pkg/strictjson"
)

// FuzzDecide: whatever a signed message holds, the rules never panic, and a
// write they allow always carries the object's _id and a valid document.
func FuzzDecide(f *testing.F) {
	f.Add(uint8(0), `{"target":"artisan","properties":{"oid":"`+artisanA+`","contact_name":"x","contact_email":"a@b.co","address":{"street_address":"s","city":"c"}}}`)
	f.Add(uint8(1), `{"target":"order","properties":{"oid":"`+order1+`","fulfilled_items":{"`+productA+`":2}}}`)
	f.Add(uint8(2), `{"target":"product","properties":{"oid":"`+productA+`","store_available":true,"metadata":{"a":"b"}}}`)
	f.Add(uint8(3), `{"target":"artisan","properties":{"oid":"`+artisanA+`","website":12.345,"address":null}}`)
	f.Fuzz(func(t *testing.T, sel uint8, data string) {
		op := []Operation{Create, Update, Delete}[sel%3]
		who := []Identity{office, byA, byB, anyArtisan}[(sel/3)%4]
		req, err := ParseRequest(string(op), []byte(data))
		if err != nil {
			if !IsRejection(err) {
				t.Fatalf("ParseRequest error is not a rejection: %v", err)
			}
			return
		}
		current := map[Target]obj{Artisan: storedArtisan, Product: storedProduct, Order: storedOrder}[req.Target]
		if sel >= 128 {
			current = nil
		}
		w, err := Decide(who, req, current, owners, t1)
		if err != nil {
			if !IsRejection(err) {
				t.Fatalf("Decide error is not a rejection: %v", err)
			}
			return
		}
		if w.ID != req.OID || w.Kind != Remove && w.Doc["_id"] != req.OID {
			t.Fatalf("write for %s: %+v", req.OID, w)
		}
		if w.Kind != Remove {
			if _, err := schemas[req.Target].normal(w.Doc); err != nil {
				t.Fatalf("allowed an invalid document: %v\n%v", err, w.Doc)
			}
			if err := schemas[req.Target].consistent(w.Doc); err != nil {
				t.Fatalf("allowed an inconsistent document: %v\n%v", err, w.Doc)
			}
		}
	})
}

// FuzzQuantity: a quantity read from a JSON number's text is exactly the
// number's value when that is a whole number from 0 to MaxQuantity, and
// refused otherwise (big.Rat is the reference, for modest exponents).
func FuzzQuantity(f *testing.F) {
	for _, s := range []string{"0", "-0", "2", "2.0", "2e3", "12.50e1", "9007199254740991", "9007199254740992",
		"18446744073709551616", "1e20", "9007199254740991.5", "0.5e1", "-3", "1E-2", "100e-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !json.Valid([]byte(s)) || strictjson.KindOf([]byte(s)) != strictjson.Number || strings.TrimSpace(s) != s {
			return
		}
		if _, e, ok := strings.Cut(strings.ToLower(s), "e"); ok && len(strings.TrimLeft(e, "+-0")) > 4 {
			return // big.Rat would build the number; quantityText never does
		}
		want, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("big.Rat cannot read %q", s)
		}
		got, err := quantity(json.Number(s))
		inRange := want.IsInt() && want.Sign() >= 0 && want.Num().Cmp(big.NewInt(MaxQuantity)) <= 0
		if inRange != (err == nil) || err == nil && want.Num().Int64() != got {
			t.Fatalf("%q: got %d, %v; the value is %s", s, got, err, want.RatString())
		}
	})
}
