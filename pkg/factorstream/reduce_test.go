package factorstream

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// A line that is not NUMBER<TAB>DIVISORS is reported with what writes
// such lines, when the caller names it.
func TestReduceInvalidLine(t *testing.T) {
	for _, tc := range []struct{ writer, want string }{
		{"", "x: line 2: \"oops\" is not NUMBER<TAB>DIVISORS\n"},
		{"hms-factors --format tsv", "x: line 2: \"oops\" is not NUMBER<TAB>DIVISORS as hms-factors --format tsv writes\n"},
	} {
		var out, errw bytes.Buffer
		st, err := Reduce(context.Background(), strings.NewReader("6\t2,3\noops\n"), &out, &errw, ReduceOptions{Name: "x", Writer: tc.writer})
		if err != nil || st.Invalid != 1 || out.String() != "6\t2,3\n" || errw.String() != tc.want {
			t.Errorf("Writer %q: %v, %d invalid, stdout %q, stderr %q, want %q", tc.writer, err, st.Invalid, out.String(), errw.String(), tc.want)
		}
	}
}
