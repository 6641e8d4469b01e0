package amqpconn

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string // "" for valid
	}{
		{Config{}, ""},
		{Config{URLs: []string{"amqp://u:p@h:5672/v"}}, ""},
		{Config{URLs: []string{"http://h/"}}, "invalid AMQP URL http://h/"},
		{Config{URLs: []string{"amqp://u:secret@h:bad/"}}, "invalid AMQP URL amqp://u:xxxxx@h:bad/"},
		{Config{URLs: []string{"amqp://h/"}, CAFile: "ca.pem"}, "--ca, --cert and --key need an amqps:// URL"},
		{Config{URLs: []string{"amqps://h/"}, CAFile: "/no/such/ca.pem"}, "--ca: open /no/such/ca.pem"},
		{Config{URLs: []string{"amqps://h/"}, CertFile: "c.pem"}, "--cert and --key go together"},
		{Config{URLs: []string{"amqps://h/"}}, ""},
	} {
		err := tc.cfg.Check()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: got %v, want %q", tc.cfg, err, tc.want)
		case err != nil && !IsPermanent(err):
			t.Errorf("%+v: %v is not permanent", tc.cfg, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("password in message: %v", err)
		}
	}
}

func TestArgs(t *testing.T) {
	a := Queue{Name: "q"}.Args()
	if a["x-dead-letter-exchange"] != "" || a["x-dead-letter-routing-key"] != "q.dead" || len(a) != 2 {
		t.Fatalf("classic args %v", a)
	}
	if d := (Queue{Name: "q"}).DeadArgs(); d != nil {
		t.Fatalf("classic dead-letter queue args %v", d)
	}
	q := Queue{Name: "q", Quorum: true, DeliveryLimit: 5}
	a = q.Args()
	if a["x-queue-type"] != "quorum" || a["x-delivery-limit"] != int64(5) ||
		a["x-dead-letter-strategy"] != "at-least-once" || a["x-overflow"] != "reject-publish" {
		t.Fatalf("quorum args %v", a)
	}
	if d := q.DeadArgs(); d["x-queue-type"] != "quorum" || len(d) != 1 {
		t.Fatalf("quorum dead-letter queue args %v", d)
	}
}

func TestInequivalentHint(t *testing.T) {
	q := Queue{Name: "q", Quorum: true}
	for _, tc := range []struct {
		q      Queue
		name   string
		reason string
		want   string
	}{
		{q, "q.dead", "inequivalent arg 'x-queue-type' for queue 'q.dead' in vhost '/': received the value 'quorum' of type 'longstr' but current is none",
			"a classic queue cannot become a quorum queue: save its messages"},
		{Queue{Name: "q"}, "q.dead", "inequivalent arg 'x-queue-type' for queue 'q.dead' in vhost '/': received none but current is the value 'quorum'",
			"--quorum (and --delivery-limit) must be given the same way"},
		{q, "q", "inequivalent arg 'x-dead-letter-strategy' for queue 'q' in vhost '/': received the value 'at-least-once' of type 'longstr' but current is none",
			"keep it with --no-declare, and give it at-least-once dead-lettering with a policy"},
		{Queue{Name: "q"}, "q", "inequivalent arg 'x-dead-letter-strategy' for queue 'q' in vhost '/': received none but current is the value 'at-least-once' of type 'longstr'",
			"--quorum (and --delivery-limit) must be given the same way"},
		{q, "q", "inequivalent arg 'x-overflow' for queue 'q' in vhost '/': received the value 'reject-publish' of type 'longstr' but current is none",
			"--quorum (and --delivery-limit) must be given the same way"},
		{q, "q", "inequivalent arg 'x-max-length'", "use it as it is with --no-declare"},
	} {
		if got := tc.q.inequivalentHint(tc.name, tc.reason); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s, %s:\n got %s\nwant %s...", tc.name, tc.reason, got, tc.want)
		}
	}
}
