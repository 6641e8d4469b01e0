// Package legacy signs and verifies the message format of the Python hms_sys
// system (the book's DaemonMessage), so hms can take part in, and migrate
// from, a deployment of it.
//
// A legacy message is one JSON object:
//
//	{"data": {...}, "operation": "update", "origin": "artisan", "signature": "<128 hex>"}
//
// where origin may be absent and
//
//	signature = hex(sha512(json.dumps(data, sort_keys=True).encode("utf-8") + key))
//
// with Python's default json.dumps: separators ", " and ": ", keys sorted by
// code point at every level, every character outside printable ASCII written
// as \uXXXX (lower-case hex, surrogate pairs beyond the BMP), integers as
// Python prints them, and numbers with a fraction or exponent as Python's
// repr of the float they parse to (12.345, 1e-07, 1e+16, 1.0). PyDumps
// reproduces those bytes exactly. The key is the UTF-8 bytes of the key text.
//
// WARNING: this scheme is weak and kept only for compatibility. It is a plain
// hash, not a MAC, and it covers data only: operation and origin can be
// changed without detection (an "update" replayed as a "delete"), there is
// no id or time to stop replays, and one key is shared by every party. Use
// package message for anything new.
//
// Parsing is as strict as package message: a duplicate key, invalid UTF-8,
// a lone surrogate, NaN or Infinity in the input is rejected even though
// Python would accept it, because what was signed must be unambiguous.
package legacy

import (
	"bytes"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/hms-toolkit/hms/pkg/message"
	"github.com/hms-toolkit/hms/pkg/strictjson"
)

// Message is a verified legacy message. Operation and Origin are NOT
// authenticated by the legacy signature.
type Message struct {
	Operation string
	Origin    string          // "" when the message has none
	Data      json.RawMessage // canonical encoding (package strictjson) of data
	Signature string
}

// Signature returns the legacy signature of data (a JSON value) under key.
func Signature(data, key []byte) (string, error) {
	d, err := PyDumps(nil, data)
	if err != nil {
		return "", err
	}
	h := sha512.New()
	h.Write(d)
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Sign returns a legacy message line (no newline) for operation, origin and
// data, signed with key, as the Python system writes it:
// {"data": …, "operation": …, "origin": …, "signature": …}. An empty origin
// is left out.
func Sign(operation, origin string, data, key []byte) ([]byte, error) {
	d, err := PyDumps(nil, data)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	h := sha512.New()
	h.Write(d)
	h.Write(key)
	b := append([]byte(`{"data": `), d...)
	b = append(b, `, "operation": `...)
	b = appendPyString(b, []byte(operation))
	if origin != "" {
		b = append(b, `, "origin": `...)
		b = appendPyString(b, []byte(origin))
	}
	b = append(b, `, "signature": "`...)
	b = hex.AppendEncode(b, h.Sum(nil))
	return append(b, `"}`...), nil
}

// Verify checks a legacy message line against key. On failure the error is
// a *message.VerifyError with reason malformed or bad-signature.
func Verify(line, key []byte) (*Message, error) {
	if len(line) > message.MaxLineSize {
		return nil, &message.VerifyError{Reason: message.ReasonTooLong, Err: fmt.Errorf("line is %d bytes, more than the maximum %d", len(line), message.MaxLineSize)}
	}
	malformed := func(format string, args ...any) error {
		return &message.VerifyError{Reason: message.ReasonMalformed, Err: fmt.Errorf(format, args...)}
	}
	var p strictjson.Parser
	members, err := p.Object(line)
	if err != nil {
		return nil, malformed("%v", err)
	}
	var m Message
	var data, sig []byte
	var have [4]bool
	for _, f := range members {
		n := slices.Index([]string{"data", "operation", "origin", "signature"}, string(f.Key))
		if n < 0 {
			return nil, malformed("unknown field %q", f.Key)
		}
		have[n] = true
		if n > 0 && f.Kind != strictjson.String {
			return nil, malformed("field %q is a %v, want a string", f.Key, f.Kind)
		}
		switch n {
		case 0:
			data = f.Raw
			m.Data = json.RawMessage(bytes.Clone(f.Canon))
		case 1:
			m.Operation = string(f.Str)
		case 2:
			m.Origin = string(f.Str)
		case 3:
			sig = bytes.Clone(f.Str)
		}
	}
	for n, name := range []string{"data", "operation", "", "signature"} {
		if name != "" && !have[n] {
			return nil, malformed("missing field %q", name)
		}
	}
	want, err := Signature(data, key)
	if err != nil {
		return nil, malformed("data: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(want), sig) != 1 {
		return nil, &message.VerifyError{Reason: message.ReasonBadSignature, Err: fmt.Errorf("sha512 does not match: data altered, or another key")}
	}
	m.Signature = string(sig)
	return &m, nil
}

// PyDumps appends to dst the bytes of Python's json.dumps(v, sort_keys=True)
// for the JSON value v in src, which must be strict JSON.
func PyDumps(dst, src []byte) ([]byte, error) {
	var p strictjson.Parser
	if _, err := p.AppendCanonical(nil, src); err != nil {
		return dst, err
	}
	d := dumper{src: src}
	d.i = d.ws(0)
	return d.value(dst)
}

// dumper walks input that strictjson has already validated.
type dumper struct {
	src []byte
	i   int
}

func (d *dumper) ws(i int) int {
	for i < len(d.src) && (d.src[i] == ' ' || d.src[i] == '\t' || d.src[i] == '\n' || d.src[i] == '\r') {
		i++
	}
	return i
}

func (d *dumper) value(dst []byte) ([]byte, error) {
	src := d.src
	switch c := src[d.i]; {
	case c == '{':
		type kv struct{ k, v []byte }
		var ms []kv
		d.i = d.ws(d.i + 1)
		for src[d.i] != '}' {
			k := d.str(nil)
			d.i = d.ws(d.i)
			d.i = d.ws(d.i + 1) // ':'
			v, err := d.value(nil)
			if err != nil {
				return dst, err
			}
			ms = append(ms, kv{k, v})
			d.i = d.ws(d.i)
			if src[d.i] == ',' {
				d.i = d.ws(d.i + 1)
			}
		}
		d.i++
		slices.SortFunc(ms, func(a, b kv) int { return bytes.Compare(a.k, b.k) })
		dst = append(dst, '{')
		for n, m := range ms {
			if n > 0 {
				dst = append(dst, ", "...)
			}
			dst = appendPyString(dst, m.k)
			dst = append(dst, ": "...)
			dst = append(dst, m.v...)
		}
		return append(dst, '}'), nil
	case c == '[':
		dst = append(dst, '[')
		d.i = d.ws(d.i + 1)
		for n := 0; src[d.i] != ']'; n++ {
			if n > 0 {
				dst = append(dst, ", "...)
			}
			var err error
			if dst, err = d.value(dst); err != nil {
				return dst, err
			}
			d.i = d.ws(d.i)
			if src[d.i] == ',' {
				d.i = d.ws(d.i + 1)
			}
		}
		d.i++
		return append(dst, ']'), nil
	case c == '"':
		return appendPyString(dst, d.str(nil)), nil
	case c == 't':
		d.i += 4
		return append(dst, "true"...), nil
	case c == 'f':
		d.i += 5
		return append(dst, "false"...), nil
	case c == 'n':
		d.i += 4
		return append(dst, "null"...), nil
	default:
		j := d.i
		isFloat := false
		for j < len(src) && (src[j] == '-' || src[j] == '+' || src[j] == '.' || src[j] == 'e' || src[j] == 'E' || src[j] >= '0' && src[j] <= '9') {
			isFloat = isFloat || src[j] == '.' || src[j] == 'e' || src[j] == 'E'
			j++
		}
		lit := src[d.i:j]
		d.i = j
		if !isFloat {
			if string(lit) == "-0" {
				return append(dst, '0'), nil // Python's int("-0") is 0
			}
			return append(dst, lit...), nil
		}
		f, err := strconv.ParseFloat(string(lit), 64)
		if err != nil && !math.IsInf(f, 0) {
			return dst, fmt.Errorf("number %s: %v", lit, err)
		}
		return AppendPyFloat(dst, f), nil
	}
}

// str decodes the string at d.i (validated input) and appends it to dst.
func (d *dumper) str(dst []byte) []byte {
	src := d.src
	i := d.i + 1
	for src[i] != '"' {
		if src[i] != '\\' {
			dst = append(dst, src[i])
			i++
			continue
		}
		switch e := src[i+1]; e {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(src[i+2:])
			if utf16.IsSurrogate(r) {
				r = utf16.DecodeRune(r, hex4(src[i+8:]))
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
			i += 6
			continue
		default:
			dst = append(dst, e)
		}
		i += 2
	}
	d.i = i + 1
	return dst
}

func hex4(b []byte) rune {
	v, _ := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(v)
}

// appendPyString appends s (valid UTF-8) as Python's json.dumps writes a
// string with ensure_ascii=True.
func appendPyString(dst, s []byte) []byte {
	const hexd = "0123456789abcdef"
	u := func(dst []byte, r rune) []byte {
		return append(dst, '\\', 'u', hexd[r>>12&0xF], hexd[r>>8&0xF], hexd[r>>4&0xF], hexd[r&0xF])
	}
	dst = append(dst, '"')
	for len(s) > 0 {
		c := s[0]
		if c >= ' ' && c <= '~' && c != '"' && c != '\\' {
			dst = append(dst, c)
			s = s[1:]
			continue
		}
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, `\b`...)
		case '\f':
			dst = append(dst, `\f`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		default:
			r, n := utf8.DecodeRune(s)
			if r >= 0x10000 {
				hi, lo := utf16.EncodeRune(r)
				dst = u(u(dst, hi), lo)
			} else {
				dst = u(dst, r)
			}
			s = s[n:]
			continue
		}
		s = s[1:]
	}
	return append(dst, '"')
}

// AppendPyFloat appends Python's repr of f, as json.dumps writes floats:
// the shortest digits that round-trip, in positional notation when the
// decimal exponent is in [-4, 16) and in scientific notation (with a sign
// and at least two exponent digits) otherwise; Infinity, -Infinity, NaN.
func AppendPyFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // -d.dddde±XX
	if e[0] == '-' {
		dst = append(dst, '-')
		e = e[1:]
	}
	mant, exps, _ := bytes.Cut(e, []byte("e"))
	exp, _ := strconv.Atoi(string(exps))
	digits := make([]byte, 0, 20)
	digits = append(digits, mant[0])
	if len(mant) > 2 {
		digits = append(digits, mant[2:]...)
	}
	decpt := exp + 1 // digits[0:decpt] are before the point
	if decpt > -4 && decpt <= 16 {
		switch {
		case decpt <= 0:
			dst = append(dst, "0."...)
			dst = append(dst, bytes.Repeat([]byte("0"), -decpt)...)
			return append(dst, digits...)
		case decpt >= len(digits):
			dst = append(dst, digits...)
			dst = append(dst, bytes.Repeat([]byte("0"), decpt-len(digits))...)
			return append(dst, ".0"...)
		default:
			dst = append(dst, digits[:decpt]...)
			dst = append(dst, '.')
			return append(dst, digits[decpt:]...)
		}
	}
	dst = append(dst, digits[0])
	if len(digits) > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:]...)
	}
	dst = append(dst, 'e')
	x := decpt - 1
	if x < 0 {
		dst = append(dst, '-')
		x = -x
	} else {
		dst = append(dst, '+')
	}
	if x < 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, int64(x), 10)
}

// LoadKey reads a legacy key file: the key text, whose UTF-8 bytes are the
// key, without the file's final newline. Like message.LoadKey it warns when
// the file is readable by group or others (see message.OnWarning). It
// refuses an hms key file, a likely mix-up.
func LoadKey(path string, opts ...message.LoadOption) ([]byte, error) {
	f, err := message.OpenKeyFile(path, opts...)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	switch {
	case len(b) == 0:
		return nil, fmt.Errorf("legacy key file %s is empty", path)
	case bytes.HasPrefix(b, []byte(message.KeyHeader+" ")):
		return nil, fmt.Errorf("%s is an hms key, not a legacy key text", path)
	}
	return b, nil
}
