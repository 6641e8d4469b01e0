package gateway

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/hms-toolkit/hms/pkg/message"
	"github.com/hms-toolkit/hms/pkg/message/legacy"
)

// The keyring verifier takes the sender from the key and the identity
// (kid, id, signature, time) from the envelope; on failure it keeps the id.
func TestKeyringVerifier(t *testing.T) {
	k, err := message.GenerateKey("art-a", OriginArtisan, artisanA)
	if err != nil {
		t.Fatal(err)
	}
	kr, _ := message.NewKeyring(k)
	s, _ := message.NewSigner(k)
	data := `{"target":"artisan","properties":{"oid":"` + artisanA + `","contact_name":"Bo"}}`
	line, err := s.AppendSignID(nil, "m-1", "update", []byte(data), t0)
	if err != nil {
		t.Fatal(err)
	}
	v, req, err := KeyringVerifier(kr).Read(line)
	if err != nil {
		t.Fatal(err)
	}
	if v.KID != "art-a" || v.ID != "m-1" || len(v.Signature) != 64 || !v.TS.Equal(t0) || v.Key() != "art-a/m-1" ||
		v.Who != byA || req.Operation != Update || req.OID != artisanA {
		t.Fatalf("got %+v, %+v", v, req)
	}
	// Tampered: the id is kept for the audit trail.
	v, req, err = KeyringVerifier(kr).Read(bytes.Replace(line, []byte("Bo"), []byte("Al"), 1))
	var ve *message.VerifyError
	if !errors.As(err, &ve) || ve.Reason != message.ReasonBadSignature || v.ID != "m-1" || req != nil {
		t.Fatalf("got %+v, %v", v, err)
	}
	// Verified, but the data is not a gateway request: a *Rejection.
	line, _ = s.AppendSignID(nil, "m-2", "update", []byte(`{"target":"planet","properties":{}}`), t0)
	if v, _, err = KeyringVerifier(kr).Read(line); !IsRejection(err) || v.ID != "m-2" {
		t.Fatalf("got %+v, %v", v, err)
	}
}

// The legacy format has no id: the line's hash stands for one, in a
// namespace of its own.
func TestLegacyVerifier(t *testing.T) {
	key := []byte(strings.Repeat("7c", 64))
	line, err := legacy.Sign("update", OriginArtisan, []byte(`{"target":"artisan","properties":{"oid":"`+artisanA+`"}}`), key)
	if err != nil {
		t.Fatal(err)
	}
	v, err := LegacyVerifier(key)(line)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v.ID, "legacy-") || len(v.ID) != 39 || v.KID != "" || v.Key() != v.ID || strings.Contains(v.Key(), "/") ||
		len(v.Signature) != 64 || !v.TS.IsZero() || !v.Who.AnyArtisan || v.Who.Origin != OriginArtisan {
		t.Fatalf("got %+v", v)
	}
	if again, _ := LegacyVerifier(key)(line); again.MessageID != v.MessageID {
		t.Fatalf("the same line, another identity: %+v", again)
	}
	if _, err := LegacyVerifier([]byte("other"))(line); err == nil {
		t.Fatal("verified with another key")
	}
}
