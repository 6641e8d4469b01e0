package amqpconn

import (
	"errors"
	"fmt"
	"strings"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Queue describes the queue hms works with and how to declare it.
type Queue struct {
	Name string
	// NoDeclare uses the queue as it is: it must exist (a passive declare),
	// and no dead-letter queue is declared.
	NoDeclare bool
	// Quorum declares quorum queues (replicated on the nodes of a cluster,
	// with a delivery limit) instead of classic ones: Q, with at-least-once
	// dead-lettering, and Q.dead.
	Quorum bool
	// DeliveryLimit is x-delivery-limit for quorum queues: a message
	// delivered more often is dead-lettered. 0: the broker's default.
	DeliveryLimit int
}

// DeadName is the dead-letter queue of queue q.
func DeadName(q string) string { return q + ".dead" }

// Args are the arguments a declared queue gets: rejected and expired
// messages go through the default exchange to Q.dead. A quorum queue
// dead-letters at least once: it keeps a message until Q.dead confirmed
// it, so a message is not lost when Q.dead is out of reach (RabbitMQ 3.10
// or later; it requires overflow reject-publish, which only matters with a
// length limit: a full queue refuses new messages instead of dropping old
// ones).
func (q Queue) Args() amqp.Table {
	args := amqp.Table{
		"x-dead-letter-exchange":    "",
		"x-dead-letter-routing-key": DeadName(q.Name),
	}
	if q.Quorum {
		args["x-queue-type"] = "quorum"
		args["x-dead-letter-strategy"] = "at-least-once"
		args["x-overflow"] = "reject-publish"
		if q.DeliveryLimit > 0 {
			args["x-delivery-limit"] = int64(q.DeliveryLimit)
		}
	}
	return args
}

// DeadArgs are the arguments of Q.dead: a quorum queue beside a quorum
// queue, so that dead letters survive the loss of a node too.
func (q Queue) DeadArgs() amqp.Table {
	if q.Quorum {
		return amqp.Table{"x-queue-type": "quorum"}
	}
	return nil
}

// Declare declares q (durable, with its dead-letter queue) or, with
// NoDeclare, checks that it exists. It reports whether the queue Q.dead
// exists. A failed declare closes the channel: the caller's ch is then
// unusable and an error is returned; open uses a fresh channel for each
// step so that only conn must be alive.
func Declare(conn *amqp.Connection, q Queue) (deadExists bool, err error) {
	if q.Name == "" {
		return false, &Permanent{Err: errors.New("no queue name")}
	}
	if q.NoDeclare {
		if err := passive(conn, q.Name); err != nil {
			return false, err
		}
		return passive(conn, DeadName(q.Name)) == nil, nil
	}
	ch, err := conn.Channel()
	if err != nil {
		return false, err
	}
	defer ch.Close()
	// Q first: when it is refused (it exists with other arguments, e.g. a
	// dead-letter queue X.dead consumed as Q), nothing was created; Q.dead
	// first would leave a stray X.dead.dead behind.
	if _, err := ch.QueueDeclare(q.Name, true, false, false, false, q.Args()); err != nil {
		return false, q.declareError(q.Name, err)
	}
	if _, err := ch.QueueDeclare(DeadName(q.Name), true, false, false, false, q.DeadArgs()); err != nil {
		return false, q.declareError(DeadName(q.Name), err)
	}
	return true, nil
}

func passive(conn *amqp.Connection, name string) error {
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	defer ch.Close()
	if _, err := ch.QueueDeclarePassive(name, true, false, false, false, nil); err != nil {
		var ae *amqp.Error
		if errors.As(err, &ae) && ae.Code == amqp.NotFound && !homeDown(ae) {
			return &Permanent{Kind: QueueMissing, Name: name, Err: fmt.Errorf("queue %q does not exist", name)}
		}
		return err
	}
	return nil
}

// homeDown reports whether a NOT_FOUND is about a classic queue whose node
// is down (in a cluster): the queue exists, and comes back with its node.
func homeDown(ae *amqp.Error) bool {
	return strings.Contains(ae.Reason, "down or inaccessible")
}

func (q Queue) declareError(name string, err error) error {
	var ae *amqp.Error
	if errors.As(err, &ae) {
		switch ae.Code {
		case amqp.PreconditionFailed:
			kind, arg := q.inequivalent(name, ae.Reason)
			return &Permanent{Kind: kind, Name: name, Arg: arg,
				Err: fmt.Errorf("queue %q already exists with other arguments: %s", name, ae.Reason)}
		case amqp.AccessRefused:
			return &Permanent{Kind: DeclareRefused, Name: name, Err: fmt.Errorf("queue %q: %s", name, ae.Reason)}
		case amqp.ResourceLocked:
			return &Permanent{Err: fmt.Errorf("queue %q: %s", name, ae.Reason)}
		}
	}
	return err
}

// inequivalent says how queue name, which exists with other arguments
// than q would give it, differs; reason is the broker's, naming the first
// argument that differs ("inequivalent arg 'x-queue-type' for queue ...").
func (q Queue) inequivalent(name, reason string) (Kind, string) {
	arg := ""
	if _, rest, ok := strings.Cut(reason, "inequivalent arg '"); ok {
		arg, _, _ = strings.Cut(rest, "'")
	}
	switch {
	case q.Quorum && name == DeadName(q.Name) && arg == "x-queue-type":
		// Declared by an hms that made Q.dead classic even beside a quorum Q.
		return ClassicDead, arg
	case q.Quorum && arg == "x-dead-letter-strategy" && strings.Contains(reason, "received the value 'at-least-once'"):
		// A quorum queue declared by an hms that did not ask for at-least-once dead-lettering.
		return NoAtLeastOnce, arg
	case arg == "x-queue-type" || arg == "x-dead-letter-strategy" || arg == "x-overflow" || arg == "x-delivery-limit":
		return QuorumMismatch, arg
	}
	return Inequivalent, arg
}

// CheckExchange checks that exchange name exists: publishing to a missing
// exchange would close the channel, message after message.
func CheckExchange(conn *amqp.Connection, name string) error {
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	defer ch.Close()
	if err := ch.ExchangeDeclarePassive(name, "direct", true, false, false, false, nil); err != nil {
		var ae *amqp.Error
		if errors.As(err, &ae) && ae.Code == amqp.NotFound {
			return &Permanent{
				Err:  fmt.Errorf("exchange %q does not exist", name),
				Hint: "declare it first (rabbitmqadmin declare exchange name=" + name + " type=direct durable=true), or check the vhost",
			}
		}
		return err
	}
	return nil
}
