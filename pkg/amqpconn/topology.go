package amqpconn

import (
	"errors"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Queue describes the queue hms works with and how to declare it.
type Queue struct {
	Name string
	// NoDeclare uses the queue as it is: it must exist (a passive declare),
	// and no dead-letter queue is declared.
	NoDeclare bool
	// Quorum declares a quorum queue (replicated, with a delivery limit)
	// instead of a classic one.
	Quorum bool
	// DeliveryLimit is x-delivery-limit for quorum queues: a message
	// delivered more often is dead-lettered. 0: the broker's default.
	DeliveryLimit int
}

// DeadName is the dead-letter queue of queue q.
func DeadName(q string) string { return q + ".dead" }

// Args are the arguments a declared queue gets: rejected and expired
// messages go through the default exchange to Q.dead.
func (q Queue) Args() amqp.Table {
	args := amqp.Table{
		"x-dead-letter-exchange":    "",
		"x-dead-letter-routing-key": DeadName(q.Name),
	}
	if q.Quorum {
		args["x-queue-type"] = "quorum"
		if q.DeliveryLimit > 0 {
			args["x-delivery-limit"] = int64(q.DeliveryLimit)
		}
	}
	return args
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
		return false, declareError(q.Name, err)
	}
	if _, err := ch.QueueDeclare(DeadName(q.Name), true, false, false, false, nil); err != nil {
		return false, declareError(DeadName(q.Name), err)
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
		if errors.As(err, &ae) && ae.Code == amqp.NotFound {
			return &Permanent{
				Err:  fmt.Errorf("queue %q does not exist (--no-declare)", name),
				Hint: "drop --no-declare to declare it, or check the name and the vhost",
			}
		}
		return err
	}
	return nil
}

func declareError(name string, err error) error {
	var ae *amqp.Error
	if errors.As(err, &ae) {
		switch ae.Code {
		case amqp.PreconditionFailed:
			return &Permanent{
				Err: fmt.Errorf("queue %q already exists with other arguments: %s", name, ae.Reason),
				Hint: "use it as it is with --no-declare (its own dead-letter policy applies), " +
					"or delete it (rabbitmqctl delete_queue " + name + ") to let hms declare it",
			}
		case amqp.AccessRefused:
			return &Permanent{Err: fmt.Errorf("queue %q: %s", name, ae.Reason),
				Hint: "the user needs configure permission to declare, or use --no-declare"}
		case amqp.ResourceLocked:
			return &Permanent{Err: fmt.Errorf("queue %q: %s", name, ae.Reason)}
		}
	}
	return err
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
