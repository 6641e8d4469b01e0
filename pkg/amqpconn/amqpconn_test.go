package amqpconn

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// flagLike matches a command-line flag, which library errors do not name.
var flagLike = regexp.MustCompile(`--[a-z]`)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string // "" for valid
		kind Kind
	}{
		{Config{}, "", Other},
		{Config{URLs: []string{"amqp://u:p@h:5672/v"}}, "", Other},
		{Config{URLs: []string{"http://h/"}}, "invalid AMQP URL http://h/", Other},
		{Config{URLs: []string{"amqp://u:secret@h:bad/"}}, "invalid AMQP URL amqp://u:xxxxx@h:bad/", Other},
		{Config{URLs: []string{"amqp://u:secret@h/"}, CAFile: "ca.pem"},
			"a CA file, client certificate or key needs an amqps:// URL, not amqp://u:xxxxx@h/", TLSWithoutAMQPS},
		{Config{URLs: []string{"amqps://h/"}, CAFile: "/no/such/ca.pem"}, "CA file: open /no/such/ca.pem", BadCAFile},
		{Config{URLs: []string{"amqps://h/"}, CAFile: "amqpconn_test.go"}, "CA file amqpconn_test.go: no PEM certificate in it", BadCAFile},
		{Config{URLs: []string{"amqps://h/"}, CertFile: "c.pem"}, "a client certificate and its key go together", CertWithoutKey},
		{Config{URLs: []string{"amqps://h/"}, CertFile: "c.pem", KeyFile: "k.pem"}, "client certificate and key: open c.pem", BadKeyPair},
		{Config{URLs: []string{"amqps://h/"}}, "", Other},
	} {
		err := tc.cfg.Check()
		var p *Permanent
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%+v: got %v, want %q", tc.cfg, err, tc.want)
		case err != nil && !errors.As(err, &p):
			t.Errorf("%+v: %v is not permanent", tc.cfg, err)
		case err != nil && p.Kind != tc.kind:
			t.Errorf("%+v: kind %d, want %d", tc.cfg, p.Kind, tc.kind)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("password in message: %v", err)
		}
		if err != nil && flagLike.MatchString(err.Error()) {
			t.Errorf("a flag in the message: %v", err)
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

func TestInequivalent(t *testing.T) {
	q := Queue{Name: "q", Quorum: true}
	for _, tc := range []struct {
		q      Queue
		name   string
		reason string
		kind   Kind
		arg    string
	}{
		{q, "q.dead", "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'q.dead' in vhost '/': received the value 'quorum' of type 'longstr' but current is none",
			ClassicDead, "x-queue-type"},
		{Queue{Name: "q"}, "q.dead", "inequivalent arg 'x-queue-type' for queue 'q.dead' in vhost '/': received none but current is the value 'quorum'",
			QuorumMismatch, "x-queue-type"},
		{q, "q", "inequivalent arg 'x-dead-letter-strategy' for queue 'q' in vhost '/': received the value 'at-least-once' of type 'longstr' but current is none",
			NoAtLeastOnce, "x-dead-letter-strategy"},
		{Queue{Name: "q"}, "q", "inequivalent arg 'x-dead-letter-strategy' for queue 'q' in vhost '/': received none but current is the value 'at-least-once' of type 'longstr'",
			QuorumMismatch, "x-dead-letter-strategy"},
		{q, "q", "inequivalent arg 'x-overflow' for queue 'q' in vhost '/': received the value 'reject-publish' of type 'longstr' but current is none",
			QuorumMismatch, "x-overflow"},
		{q, "q", "inequivalent arg 'x-delivery-limit' for queue 'q' in vhost '/': received the value '5' of type 'signedint' but current is the value '20' of type 'signedint'",
			QuorumMismatch, "x-delivery-limit"},
		// Q.dead consumed as a work queue: the dead-letter arguments differ.
		{Queue{Name: "q.dead"}, "q.dead", "inequivalent arg 'x-dead-letter-exchange' for queue 'q.dead' in vhost '/': received the value '' of type 'longstr' but current is none",
			Inequivalent, "x-dead-letter-exchange"},
		{q, "q", "inequivalent arg 'x-max-length'", Inequivalent, "x-max-length"},
		{q, "q", "some other wording", Inequivalent, ""},
	} {
		err := tc.q.declareError(tc.name, &amqp.Error{Code: amqp.PreconditionFailed, Reason: tc.reason})
		var p *Permanent
		if !errors.As(err, &p) {
			t.Fatalf("%s, %s: %v is not permanent", tc.name, tc.reason, err)
		}
		if p.Kind != tc.kind || p.Arg != tc.arg || p.Name != tc.name || p.Hint != "" {
			t.Errorf("%s, %s:\n got kind %d, arg %q, name %q, hint %q\nwant kind %d, arg %q", tc.name, tc.reason, p.Kind, p.Arg, p.Name, p.Hint, tc.kind, tc.arg)
		}
		if want := fmt.Sprintf("queue %q already exists with other arguments: %s", tc.name, tc.reason); err.Error() != want {
			t.Errorf("got %q, want %q", err, want)
		}
	}
}

func TestDeclareRefused(t *testing.T) {
	err := Queue{Name: "q"}.declareError("q", &amqp.Error{Code: amqp.AccessRefused, Reason: "ACCESS_REFUSED - access to queue 'q' in vhost '/' refused for user 'u'"})
	var p *Permanent
	if !errors.As(err, &p) || p.Kind != DeclareRefused || p.Name != "q" ||
		err.Error() != `queue "q": ACCESS_REFUSED - access to queue 'q' in vhost '/' refused for user 'u'` {
		t.Fatalf("%#v", err)
	}
}
