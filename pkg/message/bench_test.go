package message

import (
	"crypto/hmac"
	"crypto/sha256"
	"testing"
	"time"
)

// benchData is a ~300-byte payload like an Artisan Gateway product update.
var benchData = []byte(`{"target":"product","properties":{"oid":"p-1234","name":"Business-card holder","summary":"Cherry and oak business-card holder","description":"Line one, line two","price":12.5,"quantities":[1,2,3,9223372036854775807],"metadata":{"wood":"Cherry, Oak","finish":"oil"},"available":true,"weight":0.25}}`)

func benchKey(b *testing.B) *Key {
	k, err := GenerateKey("bench-1", "artisan", "a-1")
	if err != nil {
		b.Fatal(err)
	}
	return k
}

// BenchmarkSign is the fast path hms-sign uses: one Signer, buffers reused.
func BenchmarkSign(b *testing.B) {
	s, _ := NewSigner(benchKey(b))
	now := time.Now()
	var buf []byte
	b.SetBytes(int64(len(benchData)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = s.AppendSign(buf[:0], "update", benchData, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is the stream verifier as hms-sign verify uses it
// (Verifier.Check), including the replay check.
func BenchmarkVerify(b *testing.B) {
	k := benchKey(b)
	kr, _ := NewKeyring(k)
	s, _ := NewSigner(k)
	// Distinct ids, as in a real stream (the replay check would reject repeats).
	const n = 4096
	lines := make([][]byte, n)
	for i := range lines {
		lines[i], _ = s.AppendSign(nil, "update", benchData, time.Now())
	}
	b.SetBytes(int64(len(benchData)))
	b.ReportAllocs()
	v := NewVerifier(kr)
	i := 0
	for b.Loop() {
		if i%n == 0 {
			v = NewVerifier(kr) // forget seen ids
		}
		if _, _, err := v.Check(lines[i%n]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkKeyringVerify is the stateless, allocating Keyring.Verify.
func BenchmarkKeyringVerify(b *testing.B) {
	k := benchKey(b)
	kr, _ := NewKeyring(k)
	line, _ := k.Sign("update", benchData, time.Now())
	b.SetBytes(int64(len(benchData)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := kr.Verify(line); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHMAC is the floor: HMAC-SHA256 of the bytes an envelope MACs
// (the data plus the other fields, ~430 bytes), with a reused hmac.
func BenchmarkHMAC(b *testing.B) {
	k := benchKey(b)
	s, _ := NewSigner(k)
	line, _ := s.AppendSign(nil, "update", benchData, time.Now())
	msg := line[:len(line)-len(`,"signature":"`)-64-len(`"}`)]
	msg = append(msg, '}')
	mac := hmac.New(sha256.New, k.Secret)
	var sum []byte
	b.SetBytes(int64(len(benchData)))
	b.ReportAllocs()
	for b.Loop() {
		mac.Reset()
		mac.Write(msg)
		sum = mac.Sum(sum[:0])
	}
}
