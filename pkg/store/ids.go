package store

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"strconv"

	"github.com/hms-toolkit/hms/pkg/jsonbson"
)

// Ids and keys are compared as the server compares them (its _id index and
// unique indexes do): numbers by value whatever their type — 8, 8.0 and 8
// as an int64 are one id, and -0.0 is 0 —, strings, big numbers and other
// binary values by their bytes, documents and arrays member by member (a
// string is never equal to a number, nor a big number to a double).
// Both MongoDB and FerretDB behave so. A value's canonical form (canonical)
// is the same bytes for values the server finds equal, so hms-store can
// tell equal ids and keys apart in memory: the first line with an id wins,
// whatever the order the server sees them in.

// canonical appends to dst the canonical form of the BSON value v of type
// t, and returns its type: an integral number as the smallest integer type
// that holds it (int32, then int64), another double as itself (one NaN),
// documents and arrays with canonical members, anything else as it is.
func canonical(dst []byte, t byte, v []byte) (byte, []byte) {
	switch t {
	case 0x01: // double
		f := math.Float64frombits(binary.LittleEndian.Uint64(v))
		if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
			return integer(dst, int64(f)) // -0.0 too
		}
		if f != f {
			f = math.NaN()
		}
		return 0x01, binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
	case 0x10:
		return integer(dst, int64(int32(binary.LittleEndian.Uint32(v))))
	case 0x12:
		return integer(dst, int64(binary.LittleEndian.Uint64(v)))
	case 0x03, 0x04:
		start := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		for body := v[4 : len(v)-1]; len(body) > 0; {
			el, ok := firstElement(body)
			if !ok {
				return t, append(dst[:start], v...) // malformed: as it is
			}
			body = body[len(el):]
			dst = canonicalElement(dst, el)
		}
		dst = append(dst, 0)
		binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start))
		return t, dst
	}
	return t, append(dst, v...)
}

func integer(dst []byte, n int64) (byte, []byte) {
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		return 0x10, binary.LittleEndian.AppendUint32(dst, uint32(int32(n)))
	}
	return 0x12, binary.LittleEndian.AppendUint64(dst, uint64(n))
}

// firstElement is the first element of a document's body.
func firstElement(body []byte) ([]byte, bool) {
	for k := 1; k < len(body); k++ {
		if body[k] == 0 {
			n, err := jsonbson.ValueLen(body[0], body[k+1:])
			return body[:k+1+n], err == nil
		}
	}
	return nil, false
}

// canonicalElement appends the element el (type, name, value) with its
// value in canonical form.
func canonicalElement(dst, el []byte) []byte {
	t, v := jsonbson.ElementValue(el)
	typeAt := len(dst)
	dst = append(dst, el[:len(el)-len(v)]...)
	ct, dst := canonical(dst, t, v) // (not dst[typeAt], dst = : dst may move)
	dst[typeAt] = ct
	return dst
}

// idKey is a map key for the value of element el: equal for values the
// server finds equal.
func idKey(scratch, el []byte) (string, []byte) {
	t, v := jsonbson.ElementValue(el)
	ct, scratch := canonical(append(scratch[:0], 0), t, v)
	scratch[0] = ct
	return string(scratch), scratch
}

// ContentID is the _id given to a document that has none: an ObjectId made
// of the first 12 bytes of the SHA-256 of its BSON (from ParseJSON), so the
// same line always gets the same _id and storing it again is harmless. It is
// not a real ObjectId (no timestamp in it); no JSON value maps to an
// ObjectId, so it cannot be mistaken for data.
func ContentID(doc []byte) []byte {
	h := sha256.Sum256(doc)
	return h[:12]
}

// KeyID is the _id upsert gives a new record: an ObjectId made of the first
// 12 bytes of the SHA-256 of its key fields (their BSON elements, values in
// canonical form), so that equal keys always have the same _id.
func KeyID(keyElems []byte) []byte {
	h := sha256.Sum256(append([]byte("hms-store key\x00"), keyElems...))
	return h[:12]
}

// describeID renders the value of the element el for messages, as find
// would print it.
func describeID(el []byte) string {
	t, v := jsonbson.ElementValue(el)
	if b, err := jsonbson.AppendValue(nil, t, v); err == nil {
		return string(b)
	}
	return "(type " + strconv.Itoa(int(t)) + ")"
}
