package jsonbson

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// OutputOptions say how AppendJSON writes a document.
type OutputOptions struct {
	// ID is one of IDAuto (print _id unless it is an ObjectId, which no
	// JSON input produces: hms-store generated it), IDAlways, IDNever.
	ID IDMode
	// OnInvalidUTF8, if not nil, is told the path (".a.b[2]") of each key
	// or string whose invalid UTF-8 was written as U+FFFD.
	OnInvalidUTF8 func(path string)
}

// IDMode is what AppendJSON does with a document's top-level _id.
type IDMode int

const (
	IDAuto IDMode = iota
	IDAlways
	IDNever
)

// ErrBSON is returned by AppendJSON for malformed BSON (never from a server
// that works).
var ErrBSON = errors.New("malformed BSON document")

// AppendJSON appends the JSON form of the BSON document doc to dst (see
// the mapping in the package comment) without a newline.
func AppendJSON(dst []byte, doc []byte, o OutputOptions) ([]byte, error) {
	w := writer{out: dst, top: true, o: o}
	if err := w.doc(doc, false); err != nil {
		return dst, err
	}
	return w.out, nil
}

// AppendValue appends the JSON form of the BSON value v of type t, as
// AppendJSON writes it inside a document.
func AppendValue(dst []byte, t byte, v []byte) ([]byte, error) {
	w := writer{out: dst}
	if err := w.value(t, v); err != nil {
		return dst, err
	}
	return w.out, nil
}

type writer struct {
	out  []byte
	top  bool
	o    OutputOptions
	path []pathElem // where the writer is, kept only for OnInvalidUTF8
}

func (w *writer) doc(d []byte, isArray bool) error {
	if len(d) < 5 || int(binary.LittleEndian.Uint32(d)) != len(d) || d[len(d)-1] != 0 {
		return ErrBSON
	}
	top := w.top
	w.top = false
	open, close := byte('{'), byte('}')
	if isArray {
		open, close = '[', ']'
	}
	w.out = append(w.out, open)
	first := true
	for n, rest := 0, d[4:len(d)-1]; len(rest) > 0; n++ {
		t, key, val, next, err := element(rest)
		if err != nil {
			return err
		}
		rest = next
		if top && string(key) == "_id" && (w.o.ID == IDNever || w.o.ID == IDAuto && t == 0x07) {
			continue
		}
		if !first {
			w.out = append(w.out, ',')
		}
		first = false
		elem := pathElem{key: key, idx: n}
		if isArray {
			elem.key = nil
		} else {
			w.str(key, elem)
			w.out = append(w.out, ':')
		}
		if w.o.OnInvalidUTF8 != nil {
			w.path = append(w.path, elem)
		}
		if err := w.value(t, val); err != nil {
			return err
		}
		if w.o.OnInvalidUTF8 != nil {
			w.path = w.path[:len(w.path)-1]
		}
	}
	w.out = append(w.out, close)
	return nil
}

// element splits the first element of a document's body: its type, key and
// value, and the rest of the body.
func element(body []byte) (t byte, key, val, rest []byte, err error) {
	t = body[0]
	k := bytes.IndexByte(body[1:], 0) + 1
	if k == 0 {
		return 0, nil, nil, nil, ErrBSON
	}
	n, err := ValueLen(t, body[k+1:])
	if err != nil {
		return 0, nil, nil, nil, err
	}
	return t, body[1:k], body[k+1 : k+1+n], body[k+1+n:], nil
}

// Lookup finds the top-level element key of the BSON document doc (which
// must be well formed) and returns the whole element: type, key, value.
func Lookup(doc []byte, key string) ([]byte, bool) {
	for rest := doc[4 : len(doc)-1]; len(rest) > 0; {
		_, k, _, next, err := element(rest)
		if err != nil {
			return nil, false
		}
		if string(k) == key {
			return rest[:len(rest)-len(next)], true
		}
		rest = next
	}
	return nil, false
}

// ElementValue splits a BSON element (as Lookup returns it) into its type
// and value.
func ElementValue(el []byte) (t byte, v []byte) {
	return el[0], el[bytes.IndexByte(el[1:], 0)+2:]
}

// ValueLen is the length of the BSON value of type t at the start of b.
func ValueLen(t byte, b []byte) (int, error) {
	var n int
	switch t {
	case 0x01, 0x09, 0x11, 0x12: // double, datetime, timestamp, int64
		n = 8
	case 0x02, 0x0D, 0x0E: // string, JavaScript, symbol
		if len(b) < 4 {
			return 0, ErrBSON
		}
		n = 4 + int(int32(binary.LittleEndian.Uint32(b)))
	case 0x03, 0x04, 0x0F: // document, array, code with scope
		if len(b) < 4 {
			return 0, ErrBSON
		}
		n = int(int32(binary.LittleEndian.Uint32(b)))
	case 0x05: // binary
		if len(b) < 4 {
			return 0, ErrBSON
		}
		n = 5 + int(int32(binary.LittleEndian.Uint32(b)))
	case 0x06, 0x0A, 0x7F, 0xFF: // undefined, null, maxkey, minkey
		n = 0
	case 0x07: // ObjectId
		n = 12
	case 0x08:
		n = 1
	case 0x0B: // regex: two cstrings
		i := 0
		for c := 0; c < 2; c++ {
			for i < len(b) && b[i] != 0 {
				i++
			}
			i++
		}
		n = i
	case 0x0C: // DBPointer
		if len(b) < 4 {
			return 0, ErrBSON
		}
		n = 4 + int(int32(binary.LittleEndian.Uint32(b))) + 12
	case 0x10:
		n = 4
	case 0x13:
		n = 16
	default:
		return 0, ErrBSON
	}
	if n < 0 || n > len(b) {
		return 0, ErrBSON
	}
	return n, nil
}

func (w *writer) value(t byte, v []byte) error {
	switch t {
	case 0x01:
		w.double(math.Float64frombits(binary.LittleEndian.Uint64(v)))
	case 0x02:
		if len(v) < 5 {
			return ErrBSON
		}
		w.str(v[4 : len(v)-1])
	case 0x03:
		return w.doc(v, false)
	case 0x04:
		return w.doc(v, true)
	case 0x05:
		if v[4] == BigNumberSubtype && isJSONNumber(v[5:]) {
			w.out = append(w.out, v[5:]...)
			return nil
		}
		return w.ext(t, v)
	case 0x08:
		if v[0] != 0 {
			w.out = append(w.out, "true"...)
		} else {
			w.out = append(w.out, "false"...)
		}
	case 0x0A:
		w.out = append(w.out, "null"...)
	case 0x10:
		w.out = strconv.AppendInt(w.out, int64(int32(binary.LittleEndian.Uint32(v))), 10)
	case 0x12:
		w.out = strconv.AppendInt(w.out, int64(binary.LittleEndian.Uint64(v)), 10)
	case 0x07:
		w.out = append(w.out, `{"$oid":"`...)
		w.out = hex.AppendEncode(w.out, v)
		w.out = append(w.out, `"}`...)
	case 0x13:
		d := bson.NewDecimal128(binary.LittleEndian.Uint64(v[8:]), binary.LittleEndian.Uint64(v))
		if s := d.String(); isJSONNumber([]byte(s)) {
			w.out = append(w.out, s...)
			return nil
		}
		return w.ext(t, v)
	default:
		return w.ext(t, v)
	}
	return nil
}

// ext appends the relaxed Extended JSON of a value JSON has no form for.
func (w *writer) ext(t byte, v []byte) error {
	doc := make([]byte, 0, 8+len(v))
	doc = append(doc, 0, 0, 0, 0, t, 'v', 0)
	doc = append(doc, v...)
	doc = append(doc, 0)
	binary.LittleEndian.PutUint32(doc, uint32(len(doc)))
	j, err := bson.MarshalExtJSON(bson.Raw(doc), false, false)
	if err != nil {
		return err
	}
	// j is {"v":<value>}; keep <value>.
	if len(j) < 6 {
		return ErrBSON
	}
	w.out = append(w.out, j[5:len(j)-1]...)
	return nil
}

// double appends f so that it reads back as a double: always with a '.' or
// an exponent, shortest digits that round-trip, encoding/json's layout.
func (w *writer) double(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		s := "NaN"
		if math.IsInf(f, 1) {
			s = "Infinity"
		} else if math.IsInf(f, -1) {
			s = "-Infinity"
		}
		w.out = append(w.out, `{"$numberDouble":"`+s+`"}`...)
		return
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(w.out)
	w.out = strconv.AppendFloat(w.out, f, format, -1, 64)
	if format == 'e' {
		// e-07 → e-7
		n := len(w.out)
		if n-start >= 4 && w.out[n-4] == 'e' && w.out[n-3] == '-' && w.out[n-2] == '0' {
			w.out[n-2] = w.out[n-1]
			w.out = w.out[:n-1]
		}
		return
	}
	for _, c := range w.out[start:] {
		if c == '.' {
			return
		}
	}
	w.out = append(w.out, '.', '0')
}

const hexDigits = "0123456789abcdef"

// str appends s as a JSON string, escaping only what JSON requires;
// invalid UTF-8 (only possible from other writers) becomes U+FFFD, and
// OnInvalidUTF8 is told about it (elem is where s is, for a key).
func (w *writer) str(s []byte, elem ...pathElem) {
	w.out = append(w.out, '"')
	i := 0
	invalid := false
	for j := 0; j < len(s); {
		c := s[j]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			j++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[j:])
			if r != utf8.RuneError || size != 1 {
				j += size
				continue
			}
			w.out = append(w.out, s[i:j]...)
			w.out = append(w.out, `\ufffd`...)
			invalid = true
			j++
			i = j
			continue
		}
		w.out = append(w.out, s[i:j]...)
		switch c {
		case '"', '\\':
			w.out = append(w.out, '\\', c)
		case '\n':
			w.out = append(w.out, '\\', 'n')
		case '\r':
			w.out = append(w.out, '\\', 'r')
		case '\t':
			w.out = append(w.out, '\\', 't')
		default:
			w.out = append(w.out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		j++
		i = j
	}
	w.out = append(w.out, s[i:]...)
	w.out = append(w.out, '"')
	if invalid && w.o.OnInvalidUTF8 != nil {
		w.o.OnInvalidUTF8(pathString(append(w.path, elem...)))
	}
}
