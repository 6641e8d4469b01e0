package amqpcli

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hms-toolkit/hms/pkg/amqpconn"
	"github.com/hms-toolkit/hms/pkg/cmdutil"
)

// The errors of amqpconn, which name no flag, as hms-send and hms-recv
// say them.
func TestFatal(t *testing.T) {
	check := func(cfg amqpconn.Config) error {
		if err := cfg.Check(); err != nil {
			return err
		}
		return errors.New("valid")
	}
	queue := func(kind amqpconn.Kind, name string) error {
		return &amqpconn.Permanent{Kind: kind, Name: name, Err: fmt.Errorf("queue %q: what the broker said", name)}
	}
	asIs := "use it as it is with --no-declare (its own dead-letter policy applies), or delete it (rabbitmqctl delete_queue q) to let hms declare it"
	for _, tc := range []struct {
		err       error
		msg, hint string
	}{
		{check(amqpconn.Config{URLs: []string{"amqps://h/"}, CAFile: "/no/such/ca.pem"}),
			"--ca: open /no/such/ca.pem: no such file or directory", ""},
		{check(amqpconn.Config{URLs: []string{"amqps://h/"}, CAFile: "errors_test.go"}),
			"--ca errors_test.go: no PEM certificate in it", ""},
		{check(amqpconn.Config{URLs: []string{"amqps://h/"}, KeyFile: "k.pem"}),
			"--cert and --key go together", ""},
		{check(amqpconn.Config{URLs: []string{"amqps://h/"}, CertFile: "/no/c.pem", KeyFile: "/no/k.pem"}),
			"--cert/--key: open /no/c.pem: no such file or directory", ""},
		{check(amqpconn.Config{URLs: []string{"amqp://u:secret@h/"}, CertFile: "c.pem", KeyFile: "k.pem"}),
			"--ca, --cert and --key need an amqps:// URL, not amqp://u:xxxxx@h/", "use amqps://host:5671/ for TLS"},
		{check(amqpconn.Config{URLs: []string{"http://h/"}}),
			`invalid AMQP URL http://h/: AMQP scheme must be either 'amqp://' or 'amqps://'`,
			"the form is amqp://user:password@host:5672/vhost (or amqps:// for TLS)"},
		{&amqpconn.Permanent{Kind: amqpconn.UnknownCA, Err: errors.New("amqps://h/: tls: failed to verify certificate")},
			"amqps://h/: tls: failed to verify certificate", "pass the broker's CA with --ca"},
		{&amqpconn.Permanent{Kind: amqpconn.QueueMissing, Name: "q", Err: errors.New(`queue "q" does not exist`)},
			`queue "q" does not exist (--no-declare)`, "drop --no-declare to declare it, or check the name and the vhost"},
		// Wrapped: the text of the *Permanent is worded where it is.
		{fmt.Errorf("%w after 1s: %w", amqpconn.ErrGaveUp, &amqpconn.Permanent{Kind: amqpconn.QueueMissing, Name: "q", Err: errors.New(`queue "q" does not exist`)}),
			`gave up reconnecting after 1s: queue "q" does not exist (--no-declare)`, "drop --no-declare to declare it, or check the name and the vhost"},
		{queue(amqpconn.DeclareRefused, "q"),
			`queue "q": what the broker said`, "the user needs configure permission to declare, or use --no-declare"},
		{queue(amqpconn.Inequivalent, "q"), `queue "q": what the broker said`, asIs},
		{queue(amqpconn.QuorumMismatch, "q"), `queue "q": what the broker said`,
			"--quorum (and --delivery-limit) must be given the same way to every hms-send and hms-recv of this queue; or " + asIs},
		{queue(amqpconn.ClassicDead, "q.dead"), `queue "q.dead": what the broker said`,
			"a classic queue cannot become a quorum queue: save its messages (hms-recv -q q.dead --no-declare --drain --format json > saved.json) " +
				"and delete it (rabbitmqctl delete_queue q.dead) to let hms declare it as a quorum queue, or use the queues as they are with --no-declare"},
		{queue(amqpconn.NoAtLeastOnce, "q"), `queue "q": what the broker said`,
			"keep it with --no-declare, and give it at-least-once dead-lettering with a policy " +
				"(dead-letter-strategy at-least-once, overflow reject-publish: see docs/production.md); " +
				"or delete it (rabbitmqctl delete_queue q) to let hms declare it"},
		{&amqpconn.Permanent{Err: errors.New("h: access refused"), Hint: "check the user"}, "h: access refused", "check the user"},
		{errors.New("connection reset"), "connection reset", ""},
	} {
		var e *cmdutil.Error
		if err := Fatal(tc.err); !errors.As(err, &e) {
			t.Errorf("%v: %#v is no *cmdutil.Error", tc.err, err)
		} else if e.Code != cmdutil.ExitFatal || e.Error() != tc.msg || e.Hint != tc.hint {
			t.Errorf("%v:\n got %q (%d), hint %q\nwant %q, hint %q", tc.err, e, e.Code, e.Hint, tc.msg, tc.hint)
		}
	}
}
