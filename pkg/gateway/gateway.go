// Package gateway holds the business rules of the Artisan Gateway (hms_sys,
// chapters 16-18): which objects exist, how each field is validated, who may
// create, update or delete what, and what the stored document becomes.
//
// It knows neither the broker nor the database. A Verifier (KeyringVerifier,
// or LegacyVerifier for the hms_sys format) checks a line and says who sent
// it, from the key that signed it, and what the message's identity is
// (MessageID: its kid and id); Verifier.Read also parses its request. The
// caller then reads the object the message names (and, for an artisan's
// fulfilment, the owners of the products concerned), and asks Decide for
// the write to make. Decide returns that write, or a *Rejection saying why
// nothing may change. Package gatewaystore applies it, at most once per
// MessageID.
package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Origins known to the gateway: the key that signed a message says which.
const (
	OriginArtisan       = "artisan"
	OriginCentralOffice = "central-office"
)

// Target is the kind of object a message is about.
type Target string

// Targets, and the collection each is stored in.
const (
	Artisan Target = "artisan"
	Product Target = "product"
	Order   Target = "order"
)

// Collection is the MongoDB collection holding objects of t.
func (t Target) Collection() string { return string(t) + "s" }

// Operation is what a message asks for.
type Operation string

// Operations. Cancelling an order is its delete.
const (
	Create Operation = "create"
	Update Operation = "update"
	Delete Operation = "delete"
)

// Identity is who sent a message, as the verified key says (never as the
// message claims): its origin, and for an artisan the artisan's oid.
type Identity struct {
	Origin  string
	Subject string
	// AnyArtisan is set for an artisan message under the legacy scheme,
	// whose one shared key cannot tell artisans apart: ownership is not
	// checked (the field rules still are). Never set it for hms envelopes.
	AnyArtisan bool
}

// Request is a parsed message: operation, target and properties, with
// numbers kept as json.Number.
type Request struct {
	Operation  Operation
	Target     Target
	OID        string // the object's oid, lower case
	Properties map[string]any
}

// Rejection is a message refused: nothing it asks for may happen.
type Rejection struct {
	Reason string
}

func (r *Rejection) Error() string { return r.Reason }

func reject(format string, args ...any) *Rejection {
	return &Rejection{Reason: fmt.Sprintf(format, args...)}
}

// IsRejection reports whether err is a *Rejection (a handled outcome) rather
// than a failure to reach the data.
func IsRejection(err error) bool {
	var r *Rejection
	return errors.As(err, &r)
}

// ParseRequest reads an envelope's operation and data, which must be
// {"target": T, "properties": {...}} with "oid" among the properties.
func ParseRequest(operation string, data []byte) (*Request, error) {
	op := Operation(operation)
	switch op {
	case Create, Update, Delete:
	default:
		return nil, reject("unknown operation %s (want create, update or delete)", short(operation))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var d map[string]any
	if err := dec.Decode(&d); err != nil {
		return nil, reject("data is not a JSON object: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, reject("data is not a single JSON object")
	}
	if d == nil {
		return nil, reject("data is null, want {\"target\": ..., \"properties\": {...}}")
	}
	for k := range d {
		if k != "target" && k != "properties" {
			return nil, reject("data has the unknown key %s (want target and properties)", short(k))
		}
	}
	t, ok := d["target"].(string)
	if !ok {
		return nil, reject("data.target is %s, want \"artisan\", \"product\" or \"order\"", typeName(d["target"]))
	}
	target := Target(t)
	if _, ok := schemas[target]; !ok {
		return nil, reject("unknown target %s (want artisan, product or order)", short(t))
	}
	props, ok := d["properties"].(map[string]any)
	if !ok {
		return nil, reject("data.properties is %s, want an object", typeName(d["properties"]))
	}
	raw, ok := props[fieldOID]
	if !ok {
		return nil, reject("%s: oid is required", target)
	}
	id, err := oid(raw)
	if err != nil {
		return nil, reject("%s: oid %v", target, err)
	}
	return &Request{Operation: op, Target: target, OID: id.(string), Properties: props}, nil
}

// WriteKind says what a Write does to the stored document.
type WriteKind int

// Write kinds.
const (
	Insert  WriteKind = iota + 1 // store a new document
	Replace                      // replace the current document
	Remove                       // delete the current document
)

func (k WriteKind) String() string {
	switch k {
	case Insert:
		return "insert"
	case Replace:
		return "replace"
	case Remove:
		return "remove"
	}
	return fmt.Sprintf("WriteKind(%d)", int(k))
}

// Write is the change Decide allows: Doc is the whole new document (with
// "_id" = oid, "oid", "created" and "modified"), nil for Remove.
type Write struct {
	Kind       WriteKind
	Collection string
	ID         string
	Doc        map[string]any
}

// Owners tells which artisan owns a product (its artisan_id), for an
// artisan's fulfilment of order items. found is false for no such product.
type Owners func(productOID string) (artisanID string, found bool, err error)

// Decide checks req from who against the current stored object (nil when
// there is none) and returns the write to make. The error is a *Rejection
// when the message must change nothing, or an error from owners.
// now becomes "modified" (and "created" for a new object).
func Decide(who Identity, req *Request, current map[string]any, owners Owners, now time.Time) (*Write, error) {
	s := schemas[req.Target]
	if s == nil {
		return nil, reject("unknown target %q", req.Target)
	}
	if err := allowed(who, req); err != nil {
		return nil, err
	}
	props, err := s.parse(req)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("%s %s", req.Target, req.OID)

	var cur map[string]any
	if current != nil {
		if cur, err = s.normal(current); err != nil {
			// The stored object breaks today's rules (older rules, or edited by
			// hand): say so rather than build on it.
			return nil, reject("%s: the stored object is invalid: %v", what, err)
		}
	}

	w := &Write{Collection: req.Target.Collection(), ID: req.OID}
	switch req.Operation {
	case Create:
		if cur != nil {
			return nil, reject("%s already exists", what)
		}
		if err := s.create(who, req, props, owners); err != nil {
			return nil, err
		}
		w.Kind = Insert
		w.Doc = props
		w.Doc[fieldCreated] = now.UTC()
	case Update:
		if cur == nil {
			return nil, reject("%s does not exist", what)
		}
		next, err := s.update(who, req, cur, props, owners)
		if err != nil {
			return nil, err
		}
		w.Kind = Replace
		w.Doc = next
		w.Doc[fieldCreated] = current[fieldCreated]
		if w.Doc[fieldCreated] == nil {
			w.Doc[fieldCreated] = now.UTC()
		}
	case Delete:
		if cur == nil {
			return nil, reject("%s does not exist", what)
		}
		if err := owns(who, req, cur, nil, owners); err != nil {
			return nil, err
		}
		w.Kind = Remove
		return w, nil
	}
	w.Doc["_id"] = req.OID
	w.Doc[fieldOID] = req.OID
	w.Doc[fieldModified] = now.UTC()
	return w, nil
}

// create checks a new object's properties (completing an artisan's own
// product with its artisan_id).
func (s *schema) create(who Identity, req *Request, props map[string]any, owners Owners) error {
	if req.Target == Product && who.Origin == OriginArtisan {
		if _, ok := props["artisan_id"]; !ok && !who.AnyArtisan {
			props["artisan_id"] = strings.ToLower(who.Subject) // the sender makes its own product
		}
	}
	// Who may, first: the audit trail should say "not allowed" when it is
	// so, whatever else is wrong.
	if err := owns(who, req, nil, props, owners); err != nil {
		return err
	}
	if err := s.consistent(props); err != nil {
		return reject("%s %s: %v", req.Target, req.OID, err)
	}
	return nil
}

// update returns the object cur with the properties of an update applied,
// once checked.
func (s *schema) update(who Identity, req *Request, cur, props map[string]any, owners Owners) (map[string]any, error) {
	next := maps.Clone(cur)
	for k, v := range props {
		if v == nil {
			delete(next, k)
			continue
		}
		if k == "fulfilled_items" {
			// Merged product by product, so an artisan's report on its own
			// items leaves the others' alone.
			m := maps.Clone(asMap(next[k]))
			if m == nil {
				m = map[string]any{}
			}
			maps.Copy(m, v.(map[string]any))
			v = m
		}
		next[k] = v
	}
	if err := owns(who, req, cur, next, owners); err != nil {
		return nil, err
	}
	if err := s.consistent(next); err != nil {
		return nil, reject("%s %s: %v", req.Target, req.OID, err)
	}
	return next, nil
}

// allowed is the table of SEED-NOTES §3: which origin may do which
// operation on which target (ownership and fields are checked later).
func allowed(who Identity, req *Request) error {
	var ok bool
	switch who.Origin {
	case OriginCentralOffice:
		ok = req.Target != Product || req.Operation == Update
	case OriginArtisan:
		if !who.AnyArtisan && !isUUID(who.Subject) {
			return reject("an artisan key must name its artisan (a subject oid); this one names %q", who.Subject)
		}
		ok = req.Target == Product || req.Operation == Update
	default:
		return reject("origin %q may not send gateway messages", who.Origin)
	}
	if !ok {
		return reject("%s may not %s %ss", who.Origin, req.Operation, req.Target)
	}
	return nil
}

// owns checks ownership and which fields the sender may change, given the
// current object (nil on create) and the next one (nil on delete).
func owns(who Identity, req *Request, cur, next map[string]any, owners Owners) error {
	what := fmt.Sprintf("%s %s", req.Target, req.OID)
	me := strings.ToLower(who.Subject)
	changed := changedFields(cur, next)
	mine := func(owner any) bool { return who.AnyArtisan || owner == me }
	switch {
	case who.Origin == OriginCentralOffice && req.Target == Product:
		for _, f := range changed {
			switch f {
			case "store_available", "name", "description", "summary":
			default:
				return reject("%s: central-office may change only store_available, name, description and summary, not %s", what, f)
			}
		}
	case who.Origin == OriginArtisan && req.Target == Artisan:
		if !mine(req.OID) {
			return reject("artisan %s may not update artisan %s (only its own record)", me, req.OID)
		}
		for _, f := range changed {
			if f == "queue_id" || f == "signing_key" {
				return reject("%s: an artisan may not change its own %s", what, f)
			}
		}
	case who.Origin == OriginArtisan && req.Target == Product:
		if cur != nil && !mine(cur["artisan_id"]) {
			return reject("artisan %s may not %s %s: it belongs to artisan %v", me, req.Operation, what, cur["artisan_id"])
		}
		if next != nil && !mine(next["artisan_id"]) {
			return reject("artisan %s may not give %s to artisan %v", me, what, next["artisan_id"])
		}
		// A new product may say store_available false (the book's clients
		// send whole objects); after that, the field is the office's.
		if cur == nil && next["store_available"] == true || cur != nil && slices.Contains(changed, "store_available") {
			return reject("%s: an artisan may not set store_available (the central office decides)", what)
		}
	case who.Origin == OriginArtisan && req.Target == Order:
		for _, f := range changed {
			if f != "fulfilled_items" {
				return reject("%s: an artisan may change only fulfilled_items, not %s", what, f)
			}
		}
		was, now := asMap(cur["fulfilled_items"]), asMap(next["fulfilled_items"])
		for _, p := range sortedKeys(now) {
			if reflect.DeepEqual(was[p], now[p]) {
				continue
			}
			if owners == nil {
				return errors.New("gateway: no product owners to check a fulfilment against")
			}
			owner, found, err := owners(p)
			if err != nil {
				return err
			}
			if !found {
				return reject("%s: product %s does not exist", what, p)
			}
			if !mine(owner) {
				return reject("artisan %s may not fulfil product %s of %s: it belongs to artisan %s", me, p, what, owner)
			}
		}
	}
	return nil
}

// changedFields lists the fields whose value differs between cur and next
// (all of next's on create), without the ones the gateway sets.
func changedFields(cur, next map[string]any) []string {
	var out []string
	for _, k := range sortedKeys(next) {
		if !gatewayField(k) && k != "_id" && !reflect.DeepEqual(cur[k], next[k]) {
			out = append(out, k)
		}
	}
	if next != nil {
		for _, k := range sortedKeys(cur) {
			if _, ok := next[k]; !ok && !gatewayField(k) && k != "_id" {
				out = append(out, k) // removed
			}
		}
	}
	return out
}

// parse validates the message's properties: each must be a known field of a
// valid value; null removes an optional field on update. created and
// modified are ignored (the gateway sets them).
func (s *schema) parse(req *Request) (map[string]any, error) {
	out := make(map[string]any, len(req.Properties))
	for _, k := range sortedKeys(req.Properties) {
		v := req.Properties[k]
		if gatewayField(k) {
			continue
		}
		f, ok := s.field(k)
		if !ok {
			return nil, reject("%s %s: unknown field %s", s.target, req.OID, short(k))
		}
		if v == nil {
			if f.required {
				return nil, reject("%s %s: %s is required and may not be null", s.target, req.OID, k)
			}
			if req.Operation == Update {
				out[k] = nil // removes it
			}
			continue
		}
		n, err := f.check(v)
		if err != nil {
			return nil, reject("%s %s: %s", s.target, req.OID, fieldError(k, err))
		}
		out[k] = n
	}
	if req.Operation == Delete {
		// A delete needs only the oid; other fields may come along (the
		// book's clients send whole objects) but must still be valid.
		return nil, nil
	}
	return out, nil
}

// normal checks a stored document and returns its fields in normal form,
// dropping the keys the gateway and the store keep for themselves.
func (s *schema) normal(doc map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		if gatewayField(k) || k == "_id" || strings.HasPrefix(k, "_") {
			continue
		}
		f, ok := s.field(k)
		if !ok {
			return nil, fmt.Errorf("unknown field %s", short(k))
		}
		if v == nil {
			continue
		}
		n, err := f.check(v)
		if err != nil {
			return nil, errors.New(fieldError(k, err))
		}
		out[k] = n
	}
	return out, nil
}

// consistent checks the rules across fields of a whole object.
func (s *schema) consistent(doc map[string]any) error {
	for _, f := range s.fields {
		if _, ok := doc[f.name]; f.required && !ok {
			return fmt.Errorf("%s is required", f.name)
		}
	}
	if s.target == Order {
		items, done := asMap(doc["items"]), asMap(doc["fulfilled_items"])
		for _, p := range sortedKeys(done) {
			ordered, ok := items[p]
			if !ok {
				return fmt.Errorf("fulfilled_items: product %s is not in items", p)
			}
			if done[p].(int64) > ordered.(int64) {
				return fmt.Errorf("fulfilled_items: product %s: %d fulfilled, more than the %d ordered", p, done[p], ordered)
			}
		}
	}
	return nil
}

func fieldError(name string, err error) string {
	msg := err.Error()
	if strings.HasPrefix(msg, ".") {
		return name + msg
	}
	return name + " " + msg
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
