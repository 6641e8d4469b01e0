package message

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/hms-toolkit/hms/pkg/strictjson"
)

func readJSONL(t *testing.T, path string, each func(n int, line []byte)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		each(n, sc.Bytes())
	}
	if n == 0 {
		t.Fatalf("%s: no vectors", path)
	}
}

// TestEnvelopeVectors checks testdata/vectors/hms_envelopes.jsonl: each row
// is a keyring, a line, whether it verifies, the reason when it does not,
// and for valid ones the exact bytes the MAC covers.
func TestEnvelopeVectors(t *testing.T) {
	readJSONL(t, "../../testdata/vectors/hms_envelopes.jsonl", func(n int, b []byte) {
		var v struct {
			Keyring, Line, Reason, Signed string
			Valid                         bool
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		kr, err := ReadKeyring(strings.NewReader(v.Keyring))
		if err != nil {
			t.Fatal(err)
		}
		var st verifyState
		_, _, err = st.verify(kr, []byte(v.Line))
		if v.Valid {
			if err != nil {
				t.Errorf("vector %d: %v", n, err)
			} else if string(st.buf) != v.Signed {
				t.Errorf("vector %d: MAC input\n%s\nwant\n%s", n, st.buf, v.Signed)
			}
			return
		}
		if r := reasonOf(err); string(r) != v.Reason {
			t.Errorf("vector %d: reason %q (%v), want %q", n, r, err, v.Reason)
		}
	})
}

// TestCanonicalVectors checks testdata/vectors/canonical.jsonl.
func TestCanonicalVectors(t *testing.T) {
	readJSONL(t, "../../testdata/vectors/canonical.jsonl", func(n int, b []byte) {
		var v struct{ Input, Canonical, Error string }
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		got, err := strictjson.Canonical([]byte(v.Input))
		switch {
		case v.Error != "" && err == nil:
			t.Errorf("vector %d: %q accepted as %s, want error %q", n, v.Input, got, v.Error)
		case v.Error == "" && (err != nil || string(got) != v.Canonical):
			t.Errorf("vector %d: %q -> %s, %v; want %s", n, v.Input, got, err, v.Canonical)
		}
	})
}
