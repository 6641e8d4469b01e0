package signstream

import (
	"time"

	"github.com/hms-toolkit/hms/pkg/message"
	"github.com/hms-toolkit/hms/pkg/message/legacy"
	"github.com/hms-toolkit/hms/pkg/strictjson"
)

// HMS is the Scheme of hms envelopes: signed by s for operation, dated by
// now (time.Now when nil).
func HMS(s *message.Signer, operation string, now func() time.Time) Scheme {
	if now == nil {
		now = time.Now
	}
	return &hmsScheme{s: s, op: operation, now: now}
}

type hmsScheme struct {
	s   *message.Signer
	op  string
	now func() time.Time
	p   strictjson.Parser
}

func (h *hmsScheme) AppendEnvelope(dst, data []byte) ([]byte, error) {
	return h.s.AppendSign(dst, h.op, data, h.now())
}

func (h *hmsScheme) AppendData(dst, src []byte, depth int) ([]byte, error) {
	return h.p.AppendCanonicalNested(dst, src, depth)
}

// Legacy is the Scheme of the hms_sys format, signed by s.
func Legacy(s *legacy.Signer) Scheme { return legacyScheme{s} }

type legacyScheme struct{ s *legacy.Signer }

func (l legacyScheme) AppendEnvelope(dst, data []byte) ([]byte, error) {
	return l.s.AppendSign(dst, data)
}

func (l legacyScheme) AppendData(dst, src []byte, depth int) ([]byte, error) {
	return l.s.AppendData(dst, src, depth)
}

// CheckHMS checks hms envelopes with v: signature, origin, replays, age.
func CheckHMS(v *message.Verifier) Check {
	return func(line []byte) ([]byte, error) {
		data, _, err := v.Check(line)
		return data, err
	}
}

// CheckLegacy checks hms_sys messages with the legacy key.
func CheckLegacy(key []byte) Check {
	return func(line []byte) ([]byte, error) {
		m, err := legacy.Verify(line, key)
		if err != nil {
			return nil, err
		}
		return m.Data, nil
	}
}
