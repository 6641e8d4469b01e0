package devdbtest

import (
	"strings"
	"testing"
)

func TestName(t *testing.T) {
	long := strings.Repeat("TestSomething/with a long name ", 5)
	a, b := Name(long), Name(long)
	if a == b {
		t.Fatalf("two calls gave %q", a)
	}
	if len(a) > 39 || !strings.HasPrefix(a, "t_TestSomething_with_a_lon_") {
		t.Fatalf("Name = %q (%d bytes), want t_ + 24 safe characters + _ + 12 hex digits", a, len(a))
	}
}
