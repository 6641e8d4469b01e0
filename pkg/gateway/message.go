package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/hms-toolkit/hms/pkg/message"
	"github.com/hms-toolkit/hms/pkg/message/legacy"
)

// MessageID is the identity of a message, for at-most-once: an hms envelope
// is (KID, ID), so two senders' equal ids never meet, and its Signature
// tells a redelivery (the same) from another message reusing the pair.
type MessageID struct {
	KID       string    // the key that signed it; "" under the legacy scheme
	ID        string    // the envelope id; under the legacy scheme "legacy-" and the line's hash
	Signature string    // the envelope's MAC; under the legacy scheme the line's SHA-256
	TS        time.Time // when it was signed; zero under the legacy scheme
}

// Key is the identity as one string: "KID/ID" for an hms envelope (a kid
// has no '/'), the ID itself for the legacy scheme (which has no '/'), so the
// two namespaces never overlap.
func (m MessageID) Key() string {
	if m.KID == "" {
		return m.ID
	}
	return m.KID + "/" + m.ID
}

// Verified is a message that passed verification: its identity, who sent it
// (from the key, never from the message) and what it asks for.
type Verified struct {
	MessageID
	Who       Identity
	Operation string
	Data      []byte // the envelope's data
}

// A Verifier checks one line. On failure the error says why and Verified
// holds what could be read of the line (its id), for the audit trail.
type Verifier func(line []byte) (Verified, error)

// Read verifies line and parses its request: what the gateway does with a
// line before it looks at the database. The error is the verification's or
// a *Rejection.
func (verify Verifier) Read(line []byte) (Verified, *Request, error) {
	v, err := verify(line)
	if err != nil {
		return v, nil, err
	}
	req, err := ParseRequest(v.Operation, v.Data)
	return v, req, err
}

// KeyringVerifier verifies hms envelopes with the keys of kr: the sender is
// the signing key's origin and subject. It keeps no state (a redelivery is
// for the store to recognise), and errors are *message.VerifyError.
func KeyringVerifier(kr *message.Keyring) Verifier {
	return func(line []byte) (Verified, error) {
		env, key, err := kr.Verify(line)
		if err != nil {
			var ve *message.VerifyError
			if errors.As(err, &ve) {
				return Verified{MessageID: MessageID{ID: ve.ID}}, err
			}
			return Verified{}, err
		}
		return Verified{
			MessageID: MessageID{KID: env.KID, ID: env.ID, Signature: env.Signature, TS: env.TS},
			Who:       Identity{Origin: key.Origin, Subject: key.Subject},
			Operation: env.Operation,
			Data:      env.Data,
		}, nil
	}
}

// LegacyVerifier verifies the hms_sys format under its one shared key. The
// format has no id: the SHA-256 of the line stands for one (so an identical
// line is applied once), and the origin is the message's own claim.
func LegacyVerifier(key []byte) Verifier {
	return func(line []byte) (Verified, error) {
		m, err := legacy.Verify(line, key)
		if err != nil {
			return Verified{}, err
		}
		sum := sha256.Sum256(line)
		return Verified{
			MessageID: MessageID{ID: "legacy-" + hex.EncodeToString(sum[:16]), Signature: hex.EncodeToString(sum[:])},
			Who:       Identity{Origin: m.Origin, AnyArtisan: m.Origin == OriginArtisan},
			Operation: m.Operation,
			Data:      m.Data,
		}, nil
	}
}
