package signstream

import (
	"encoding/base64"
	"errors"
	"unicode/utf8"

	"github.com/hms-toolkit/hms/pkg/lines"
	"github.com/hms-toolkit/hms/pkg/message"
)

// Record is a rejected line as hms-sign verify --rejects writes it, one JSON
// object per line: {line, id, reason, error, input, length}.
type Record struct {
	Line        int64  `json:"line"`
	ID          string `json:"id,omitempty"`
	Reason      string `json:"reason"`
	Error       string `json:"error"`
	Input       string `json:"input,omitempty"`        // the line, when it is UTF-8
	InputBase64 string `json:"input_base64,omitempty"` // the line, when it is not
	Length      int64  `json:"length"`
}

// RecordOf describes a line that Verify rejected: its reason word
// (message.Reason), the envelope's id when it could be read, and the
// details.
func RecordOf(r Reject) Record {
	rec := Record{Line: r.First, Length: r.Length, Reason: string(message.ReasonMalformed), Error: r.Err.Error()}
	var ve *message.VerifyError
	var tl *lines.TooLongError
	if errors.As(r.Err, &tl) {
		rec.Reason = string(message.ReasonTooLong)
	} else if errors.As(r.Err, &ve) {
		rec.ID, rec.Reason = ve.ID, string(ve.Reason)
		if ve.Err != nil {
			rec.Error = ve.Err.Error()
		}
	}
	if r.Input != nil {
		if utf8.Valid(r.Input) {
			rec.Input = string(r.Input)
		} else {
			rec.InputBase64 = base64.StdEncoding.EncodeToString(r.Input)
		}
	}
	return rec
}
