package gateway

import (
	"testing"
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
