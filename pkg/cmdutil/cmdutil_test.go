package cmdutil

import (
	"bytes"
	"errors"
	"fmt"
	"syscall"
	"testing"
)

func TestReport(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		out  string
	}{
		{nil, 0, ""},
		{errors.New("boom"), 2, "x: error: boom\n"},
		{Fatalf("bad %s", "url").WithHint("try --url"), 2, "x: error: bad url\nhint: try --url\n"},
		{Partial, 1, ""},
		{fmt.Errorf("write: %w", syscall.EPIPE), 141, ""},
	} {
		var buf bytes.Buffer
		if got := Report("x", &buf, tc.err); got != tc.code || buf.String() != tc.out {
			t.Errorf("Report(%v) = %d, %q; want %d, %q", tc.err, got, buf.String(), tc.code, tc.out)
		}
	}
}
