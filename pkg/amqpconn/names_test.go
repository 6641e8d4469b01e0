package amqpconn

import (
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	long := strings.Repeat("q", 251)
	for _, tc := range []struct {
		name        string
		check, decl string // "" for valid
	}{
		{"work", "", ""},
		{"a b\t\x00\x7fé", "", ""}, // kept as they are by RabbitMQ
		{"a\nb", `"a\nb" contains a line break, which RabbitMQ removes from names: it would use "ab"`, "line break"},
		{"q\r", "line break", "line break"},
		{"\xff", "not valid UTF-8", "not valid UTF-8"},
		{"amq.x", "", `"amq.x" starts with "amq."`},
		{long, "", "is 251 bytes long; a queue hms declares may have at most 250"},
		{long + "qqqqq", "is 256 bytes long; AMQP allows at most 255", "is 256 bytes long"},
	} {
		for _, c := range []struct {
			f    func(string) error
			want string
		}{{CheckName, tc.check}, {CheckDeclare, tc.decl}} {
			err := c.f(tc.name)
			if (c.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.want) {
				t.Errorf("%.20q: got %v, want %q", tc.name, err, c.want)
			}
		}
	}
}
