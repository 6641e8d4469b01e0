// Package message signs and verifies hms envelopes: one JSON object per line
// carrying an operation and its data, authenticated with HMAC-SHA256 under a
// key that is bound to an origin. The format is specified in
// docs/message-format.md; in short:
//
//	{"data":…,"id":"…","kid":"…","operation":"…","origin":"…","ts":"…","signature":"…"}
//
// The signature is the lower-case hex HMAC-SHA256, under the secret of the
// key named by kid, of the canonical encoding (package strictjson) of the
// envelope without its "signature" member. So it covers the data, the
// operation, the origin, the id, the time and the key id: none of them can be
// changed, and an envelope cannot be moved to another key, without detection.
// An envelope whose origin is not its key's origin is rejected even when its
// MAC is right: a worker's key cannot speak for the central office.
//
// Parsing is strict: a duplicate key anywhere, invalid UTF-8, a field of the
// wrong type, a missing or unknown field, or anything but an object at the
// top level is rejected as malformed, never repaired.
//
// The API:
//
//	k, _ := message.LoadKey("artisan.key")          // or GenerateKey, ParseKey
//	line, _ := k.Sign("update", data, time.Now())   // one line, no newline
//
//	kr, _ := message.LoadKeyring("ring")            // or ReadKeyring
//	env, key, err := kr.Verify(line)                // err is a *VerifyError
//	// key.Origin == env.Origin; key.Subject is who signed (e.g. an artisan oid)
//
// Keyring.Verify is stateless. A Verifier checks a stream: it adds the
// rejection of replayed ids and, optionally, of envelopes older than a
// maximum age. Signer.AppendSign and Verifier.Check reuse their buffers and
// allocate nothing: they are the fast path for bulk work, and not safe for
// concurrent use, while Key.Sign and Keyring.Verify are.
//
// Every verification failure is a *VerifyError whose Reason is one of
// malformed, too-long, unknown-kid, bad-signature, origin-mismatch (these
// from Keyring.Verify) and too-old, future, replayed (from a Verifier), with
// the envelope's id when it could be read.
//
// Data may nest strictjson.MaxDepth-DataDepth (511) levels: the envelope
// object is the first of strictjson.MaxDepth. A Signer refuses whatever a
// Verifier would refuse: data that is not strict JSON or nests too deep, an
// envelope longer than MaxLineSize, a time outside the years 0000 to 9999.
// A Verifier judges every ts that the syntax allows (docs/message-format.md)
// against its maximum age exactly, however far from now.
//
// Keys are one-line text files (see Key.MarshalText), created with mode 0600
// by WriteKeyFile; LoadKey and LoadKeyring warn when a key file is readable
// by group or others (OnWarning says where the warning goes). Package legacy
// handles the hms_sys format.
package message

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"sync"
	"time"
	"unsafe"

	"github.com/hms-toolkit/hms/pkg/strictjson"
)

// MaxLineSize is the largest envelope line, in bytes without its newline,
// that hms-sign produces or accepts.
const MaxLineSize = 1 << 20

// DataDepth is how deep the data of an envelope sits in its line: it is a
// member of the envelope object, so it may itself nest only
// strictjson.MaxDepth-DataDepth arrays and objects (511), and the elements
// of an array of data DataDepth+1 deep. Signers refuse deeper data.
const DataDepth = 1

// TimeFormat is how Sign writes "ts": RFC 3339 in UTC with microseconds.
const TimeFormat = "2006-01-02T15:04:05.000000Z"

// Envelope is a parsed, verified envelope.
type Envelope struct {
	ID        string
	TS        time.Time
	Origin    string
	Operation string
	Data      json.RawMessage // the canonical encoding of "data": one line, no whitespace
	KID       string
	Signature string
}

// Reason says, in a machine-readable word, why an envelope was rejected.
type Reason string

const (
	ReasonMalformed      Reason = "malformed"       // not a well-formed envelope
	ReasonTooLong        Reason = "too-long"        // line longer than MaxLineSize
	ReasonUnknownKID     Reason = "unknown-kid"     // no key with that kid in the keyring
	ReasonBadSignature   Reason = "bad-signature"   // MAC mismatch: altered, or wrong key
	ReasonOriginMismatch Reason = "origin-mismatch" // signed by a key of another origin
	ReasonTooOld         Reason = "too-old"         // ts older than the maximum age
	ReasonFuture         Reason = "future"          // ts further in the future than the maximum age
	ReasonReplayed       Reason = "replayed"        // id already seen in this stream
)

// VerifyError is the error of every failed verification.
type VerifyError struct {
	Reason Reason
	ID     string // the envelope's id when it could be read, else ""
	Err    error  // details
}

func (e *VerifyError) Error() string {
	if e.Err == nil {
		return string(e.Reason)
	}
	return string(e.Reason) + ": " + e.Err.Error()
}

func (e *VerifyError) Unwrap() error { return e.Err }

func verr(r Reason, id []byte, format string, args ...any) *VerifyError {
	return &VerifyError{Reason: r, ID: string(id), Err: fmt.Errorf(format, args...)}
}

// Sign returns a signed envelope for operation and data (any JSON value,
// which must be strict JSON), with a fresh random id and ts set to now. The
// line has no trailing newline. Sign is safe for concurrent use.
func (k *Key) Sign(operation string, data json.RawMessage, now time.Time) ([]byte, error) {
	s, err := NewSigner(k)
	if err != nil {
		return nil, err
	}
	return s.AppendSign(nil, operation, data, now)
}

// Signer signs envelopes with one key, reusing its buffers. It is not safe
// for concurrent use.
type Signer struct {
	key *Key
	mac hash.Hash
	p   strictjson.Parser
	buf []byte
	sum []byte

	sec     int64  // the second secText holds
	secText []byte // "2006-01-02T15:04:05."
}

// NewSigner returns a Signer for k.
func NewSigner(k *Key) (*Signer, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	return &Signer{key: k, mac: hmac.New(sha256.New, k.Secret)}, nil
}

// AppendSign appends a signed envelope line (no newline) to dst.
func (s *Signer) AppendSign(dst []byte, operation string, data []byte, now time.Time) ([]byte, error) {
	var id [38]byte // a UUID in quotes
	id[0], id[37] = '"', '"'
	newUUID((*[36]byte)(id[1:37]))
	return s.appendSign(dst, id[:], operation, data, now)
}

// AppendSignID is AppendSign with the envelope id given (1 to 128
// printable ASCII characters, no spaces) rather than fresh: for a sender
// that keeps its own ids, and for tests that reuse one.
func (s *Signer) AppendSignID(dst []byte, id, operation string, data []byte, now time.Time) ([]byte, error) {
	if !validID([]byte(id)) {
		return dst, fmt.Errorf("invalid id %q: want 1 to 128 printable ASCII characters, no spaces", id)
	}
	return s.appendSign(dst, strictjson.AppendString(nil, id), operation, data, now)
}

// appendSign signs with id, already encoded as a JSON string.
func (s *Signer) appendSign(dst, id []byte, operation string, data []byte, now time.Time) ([]byte, error) {
	if !ValidOperation(operation) {
		return dst, fmt.Errorf("invalid operation %q: want 1 to 64 of [A-Za-z0-9._-], starting with a letter", operation)
	}
	mark := len(dst)
	dst = append(dst, `{"data":`...)
	dst, err := s.p.AppendCanonicalNested(dst, data, DataDepth)
	if err != nil {
		return dst[:mark], fmt.Errorf("data: %w", err)
	}
	dst = append(dst, `,"id":`...)
	dst = append(dst, id...)
	dst = append(dst, `,"kid":"`...)
	dst = append(dst, s.key.KID...)
	dst = append(dst, `","operation":"`...)
	dst = append(dst, operation...)
	dst = append(dst, `","origin":"`...)
	dst = append(dst, s.key.Origin...)
	dst = append(dst, `","ts":"`...)
	if dst, err = s.appendTime(dst, now); err != nil {
		return dst[:mark], err
	}
	dst = append(dst, `"}`...)
	// The line so far is exactly the canonical encoding that is MACed: the
	// fields are in sorted order and kid, operation, origin need no escaping.
	s.mac.Reset()
	s.mac.Write(dst[mark:])
	s.sum = s.mac.Sum(s.sum[:0])
	dst = dst[:len(dst)-1]
	dst = append(dst, `,"signature":"`...)
	dst = hex.AppendEncode(dst, s.sum)
	dst = append(dst, `"}`...)
	if len(dst)-mark > MaxLineSize {
		return dst[:mark], fmt.Errorf("envelope would be %d bytes, more than the maximum line size %d", len(dst)-mark, MaxLineSize)
	}
	return dst, nil
}

// appendTime appends now as TimeFormat, formatting the part up to the
// seconds only when the second changes; a time outside the years that a ts
// can hold is an error.
func (s *Signer) appendTime(dst []byte, now time.Time) ([]byte, error) {
	now = now.UTC()
	if sec := now.Unix(); sec != s.sec || len(s.secText) == 0 {
		if err := checkTime(now); err != nil {
			return dst, err
		}
		s.sec = sec
		s.secText = now.AppendFormat(s.secText[:0], "2006-01-02T15:04:05.")
	}
	dst = append(dst, s.secText...)
	us := now.Nanosecond() / 1000
	var d [6]byte
	for i := 5; i >= 0; i-- {
		d[i] = byte('0' + us%10)
		us /= 10
	}
	dst = append(dst, d[:]...)
	return append(dst, 'Z'), nil
}

// Verify checks one envelope line (without its newline) against the
// keyring: well-formed, known kid, correct MAC, origin matching the key.
// It returns the envelope and the key that signed it; on failure the error
// is a *VerifyError. Verify is stateless (no replay or age check; see
// Verifier) and safe for concurrent use.
func (kr *Keyring) Verify(line []byte) (*Envelope, *Key, error) {
	st, _ := statePool.Get().(*verifyState)
	if st == nil {
		st = &verifyState{}
	}
	defer statePool.Put(st)
	env, k, err := st.verify(kr, line)
	if err != nil {
		return nil, nil, err
	}
	return env, k, nil
}

var statePool sync.Pool

type verifyState struct {
	p    strictjson.Parser
	buf  []byte
	sum  []byte
	want []byte
	macs map[*Key]hash.Hash
	last checked
}

func (st *verifyState) macFor(k *Key) hash.Hash {
	if st.macs == nil {
		st.macs = map[*Key]hash.Hash{}
	}
	m := st.macs[k]
	if m == nil {
		if len(st.macs) > 64 {
			clear(st.macs)
		}
		m = hmac.New(sha256.New, k.Secret)
		st.macs[k] = m
	}
	return m
}

// fieldIndex orders the envelope's fields as in the canonical encoding.
const (
	fData = iota
	fID
	fKID
	fOperation
	fOrigin
	fTS
	fSignature
	nFields
)

var fieldNames = [nFields]string{"data", "id", "kid", "operation", "origin", "ts", "signature"}

func fieldOf(key []byte) int {
	for i, n := range fieldNames {
		if string(key) == n {
			return i
		}
	}
	return -1
}

func (st *verifyState) verify(kr *Keyring, line []byte) (*Envelope, *Key, error) {
	key, err := st.check(kr, line)
	if err != nil {
		return nil, nil, err
	}
	return st.envelope(key), key, nil
}

// checked holds what check found, valid until the next check.
type checked struct {
	id, op, sig, data []byte
	ts                stamp
}

// parsed is what parse found in a well-formed envelope, valid until the
// next parse.
type parsed struct {
	f  [nFields]*strictjson.Member
	id []byte
	ts stamp
}

// parse checks that line is a well-formed envelope, without allocating
// (but for errors).
func (st *verifyState) parse(line []byte) (parsed, error) {
	var p parsed
	if len(line) > MaxLineSize {
		return p, verr(ReasonTooLong, nil, "line is %d bytes, more than the maximum %d", len(line), MaxLineSize)
	}
	members, err := st.p.Object(line)
	if err != nil {
		return p, verr(ReasonMalformed, nil, "%v", err)
	}
	var f [nFields]*strictjson.Member
	var id, unknown []byte
	for i := range members {
		m := &members[i]
		n := fieldOf(m.Key)
		if n < 0 {
			if unknown == nil {
				unknown = m.Key
			}
			continue
		}
		f[n] = m
		if n == fID && m.Kind == strictjson.String && validID(m.Str) {
			id = m.Str
		}
	}
	if unknown != nil {
		// Unsigned extra fields would ride along unnoticed: refuse them.
		return p, verr(ReasonMalformed, id, "unknown field %q", unknown)
	}
	for n, m := range f {
		if m == nil {
			return p, verr(ReasonMalformed, id, "missing field %q", fieldNames[n])
		}
		if n != fData && m.Kind != strictjson.String {
			return p, verr(ReasonMalformed, id, "field %q is a %v, want a string", fieldNames[n], m.Kind)
		}
	}
	if id == nil {
		return p, verr(ReasonMalformed, nil, "invalid id %q: want 1 to 128 printable ASCII characters, no spaces", f[fID].Str)
	}
	kid, origin, op := f[fKID].Str, f[fOrigin].Str, f[fOperation].Str
	if !ValidKID(string(kid)) {
		return p, verr(ReasonMalformed, id, "invalid kid %q", kid)
	}
	if !ValidOrigin(string(origin)) {
		return p, verr(ReasonMalformed, id, "invalid origin %q", origin)
	}
	if !ValidOperation(string(op)) {
		return p, verr(ReasonMalformed, id, "invalid operation %q", op)
	}
	ts, err := parseTS(f[fTS].Str)
	if err != nil {
		return p, verr(ReasonMalformed, id, "%v", err)
	}
	if len(f[fSignature].Str) != 2*sha256.Size {
		return p, verr(ReasonMalformed, id, "signature is not 64 lower-case hex digits")
	}
	p.f, p.id, p.ts = f, id, ts
	return p, nil
}

// check verifies line without allocating (but for errors); what it found is
// in st.last.
func (st *verifyState) check(kr *Keyring, line []byte) (*Key, error) {
	p, err := st.parse(line)
	if err != nil {
		return nil, err
	}
	f, id, ts := &p.f, p.id, p.ts
	kid, origin, op, sig := f[fKID].Str, f[fOrigin].Str, f[fOperation].Str, f[fSignature].Str
	key, ok := kr.bykid[string(kid)]
	if !ok {
		return nil, verr(ReasonUnknownKID, id, "no key %q in the keyring", kid)
	}

	b := append(st.buf[:0], '{')
	for n := fData; n < fSignature; n++ {
		if n > fData {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, fieldNames[n]...)
		b = append(b, '"', ':')
		b = append(b, f[n].Canon...)
	}
	b = append(b, '}')
	st.buf = b
	mac := st.macFor(key)
	mac.Reset()
	mac.Write(b)
	st.sum = mac.Sum(st.sum[:0])
	st.want = hex.AppendEncode(st.want[:0], st.sum)
	if !hmac.Equal(st.want, sig) {
		// Checked only now: a right MAC is lower-case hex by construction,
		// and the loop's data-dependent branches cost more than the MAC.
		if !isLowerHex(sig) {
			return nil, verr(ReasonMalformed, id, "signature is not 64 lower-case hex digits")
		}
		return nil, verr(ReasonBadSignature, id, "MAC does not match: altered, or not signed with key %q", kid)
	}
	if string(origin) != key.Origin {
		return nil, verr(ReasonOriginMismatch, id, "origin %q not allowed for key %q (its origin is %q)", origin, kid, key.Origin)
	}
	st.last = checked{id: id, op: op, sig: sig, data: f[fData].Canon, ts: ts}
	return key, nil
}

// Parse checks that line is a well-formed envelope, as Keyring.Verify does,
// but without a keyring: the signature is not verified, only its form. It
// is for reading what an envelope claims where the claim need not be
// trusted, such as hms-send taking the id as the AMQP message-id. The
// error is a *VerifyError (malformed or too-long).
func Parse(line []byte) (*Envelope, error) {
	st, _ := statePool.Get().(*verifyState)
	if st == nil {
		st = &verifyState{}
	}
	defer statePool.Put(st)
	p, err := st.parse(line)
	if err != nil {
		return nil, err
	}
	f := &p.f
	return &Envelope{
		ID: string(p.id), TS: p.ts.t, Origin: string(f[fOrigin].Str), Operation: string(f[fOperation].Str),
		Data: json.RawMessage(bytes.Clone(f[fData].Canon)), KID: string(f[fKID].Str), Signature: string(f[fSignature].Str),
	}, nil
}

// envelope builds the Envelope of the last check, with one allocation for
// its variable parts: the strings are views of bytes never written again.
func (st *verifyState) envelope(key *Key) *Envelope {
	c := &st.last
	all := make([]byte, 0, len(c.id)+len(c.op)+len(c.sig)+len(c.data))
	all = append(append(append(all, c.id...), c.op...), c.sig...)
	str := func(from, n int) string { return unsafe.String(&all[from], n) }
	env := &Envelope{
		ID:        str(0, len(c.id)),
		TS:        c.ts.t,
		Origin:    key.Origin,
		Operation: str(len(c.id), len(c.op)),
		KID:       key.KID,
		Signature: str(len(c.id)+len(c.op), len(c.sig)),
	}
	env.Data = json.RawMessage(append(all, c.data...)[len(all):])
	return env
}

func isLowerHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Verifier verifies a stream of envelopes: what Keyring.Verify checks, plus
// that no id repeats within the stream (a replay) and, when MaxAge > 0, that
// ts is neither older than MaxAge nor more than MaxAge in the future. Only
// valid envelopes count as seen, so a forgery cannot block a genuine id.
// It is not safe for concurrent use.
type Verifier struct {
	Keyring *Keyring
	MaxAge  time.Duration    // 0: no age check
	Now     func() time.Time // nil: time.Now

	st   verifyState
	seen idSet
}

// NewVerifier returns a Verifier for kr.
func NewVerifier(kr *Keyring) *Verifier {
	return &Verifier{Keyring: kr}
}

// Verify checks the next line of the stream; see Verifier.
func (v *Verifier) Verify(line []byte) (*Envelope, *Key, error) {
	key, err := v.check(line)
	if err != nil {
		return nil, nil, err
	}
	return v.st.envelope(key), key, nil
}

// Check is Verify without building an Envelope, for bulk work: it returns
// the canonical data, which is valid only until the next call on v.
func (v *Verifier) Check(line []byte) (data []byte, key *Key, err error) {
	key, err = v.check(line)
	if err != nil {
		return nil, nil, err
	}
	return v.st.last.data, key, nil
}

func (v *Verifier) check(line []byte) (*Key, error) {
	key, err := v.st.check(v.Keyring, line)
	if err != nil {
		return nil, err
	}
	c := &v.st.last
	if v.MaxAge > 0 {
		now := time.Now()
		if v.Now != nil {
			now = v.Now()
		}
		if err := checkAge(c.ts, now, v.MaxAge, c.id); err != nil {
			return nil, err
		}
	}
	if !v.seen.add(c.id) {
		return nil, verr(ReasonReplayed, c.id, "id already seen earlier in this stream")
	}
	return key, nil
}

// newUUID writes a random (version 4) UUID in its 36-character text form.
func newUUID(dst *[36]byte) {
	var u [16]byte
	randBytes(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	hex.Encode(dst[0:8], u[0:4])
	dst[8] = '-'
	hex.Encode(dst[9:13], u[4:6])
	dst[13] = '-'
	hex.Encode(dst[14:18], u[6:8])
	dst[18] = '-'
	hex.Encode(dst[19:23], u[8:10])
	dst[23] = '-'
	hex.Encode(dst[24:], u[10:])
}

// randBytes fills b from crypto/rand through a small buffer: one getrandom
// call per 256 ids instead of one per id.
var rnd struct {
	sync.Mutex
	buf [4096]byte
	n   int
}

func randBytes(b []byte) {
	rnd.Lock()
	if rnd.n < len(b) {
		rand.Read(rnd.buf[:])
		rnd.n = len(rnd.buf)
	}
	copy(b, rnd.buf[len(rnd.buf)-rnd.n:])
	clear(rnd.buf[len(rnd.buf)-rnd.n : len(rnd.buf)-rnd.n+len(b)])
	rnd.n -= len(b)
	rnd.Unlock()
}
