package amqpcli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hms-toolkit/hms/pkg/amqpconn"
	"github.com/hms-toolkit/hms/pkg/cmdutil"
)

// Fatal is err as an exit-status-2 error, worded for the command line: the
// message and hint of a *amqpconn.Permanent in it name the flags that
// set what it is about (its Kind).
func Fatal(err error) error {
	msg, hint := err.Error(), amqpconn.HintOf(err)
	var p *amqpconn.Permanent
	if errors.As(err, &p) {
		m, h := word(p)
		if m != "" {
			// p's text is inside the messages of the errors wrapping it.
			msg = strings.Replace(msg, p.Error(), m, 1)
		}
		if h != "" {
			hint = h
		}
	}
	e := cmdutil.Fatalf("%s", msg)
	if hint != "" {
		e = e.WithHint(hint)
	}
	return e
}

// word returns the message and the hint of p as the command line says
// them, naming its flags; "" keeps p's own.
func word(p *amqpconn.Permanent) (msg, hint string) {
	cause := errors.Unwrap(p.Err) // what p.Err says without amqpconn's words
	if cause == nil {
		cause = p.Err
	}
	switch p.Kind {
	case amqpconn.BadCAFile:
		if errors.Is(cause, amqpconn.ErrNoCertificate) {
			return fmt.Sprintf("--ca %s: %v", p.Name, cause), ""
		}
		return fmt.Sprintf("--ca: %v", cause), ""
	case amqpconn.CertWithoutKey:
		return "--cert and --key go together", ""
	case amqpconn.BadKeyPair:
		return fmt.Sprintf("--cert/--key: %v", cause), ""
	case amqpconn.TLSWithoutAMQPS:
		return "--ca, --cert and --key need an amqps:// URL, not " + p.Name, ""
	case amqpconn.UnknownCA:
		return "", "pass the broker's CA with --ca"
	case amqpconn.QueueMissing:
		return p.Error() + " (--no-declare)", "drop --no-declare to declare it, or check the name and the vhost"
	case amqpconn.DeclareRefused:
		return "", "the user needs configure permission to declare, or use --no-declare"
	}
	return "", inequivalentHint(p)
}

// inequivalentHint says what to do about the queue p.Name, which exists
// with other arguments than hms would give it; "" for other kinds.
func inequivalentHint(p *amqpconn.Permanent) string {
	name := p.Name
	asIs := "use it as it is with --no-declare (its own dead-letter policy applies), " +
		"or delete it (rabbitmqctl delete_queue " + name + ") to let hms declare it"
	switch p.Kind {
	case amqpconn.ClassicDead:
		return "a classic queue cannot become a quorum queue: save its messages (hms-recv -q " + name +
			" --no-declare --drain --format json > saved.json) and delete it (rabbitmqctl delete_queue " + name +
			") to let hms declare it as a quorum queue, or use the queues as they are with --no-declare"
	case amqpconn.NoAtLeastOnce:
		return "keep it with --no-declare, and give it at-least-once dead-lettering with a policy " +
			"(dead-letter-strategy at-least-once, overflow reject-publish: see docs/production.md); " +
			"or delete it (rabbitmqctl delete_queue " + name + ") to let hms declare it"
	case amqpconn.QuorumMismatch:
		return "--quorum (and --delivery-limit) must be given the same way to every hms-send and hms-recv of this queue; or " + asIs
	case amqpconn.Inequivalent:
		return asIs
	}
	return ""
}
