package testenv

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/rogpeppe/go-internal/testscript"
)

// scriptQueue (queue): a queue name of the script's own in $Q, and
// AMQP_URL set to the test broker. The script may also use $Q-2 and $Q-x;
// those three queues and their .dead are deleted when the script ends (and
// $Q.dead.dead, which consuming $Q.dead used to leave). It fails when no
// broker answers.
func scriptQueue(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: queue")
	}
	conn, err := dialBroker()
	ts.Check(err)
	conn.Close()
	q := UniqueName("hmstest." + scriptName(ts))
	ts.Setenv("Q", q)
	ts.Setenv("AMQP_URL", AMQPURL())
	ts.Defer(func() { DeleteQueues(q, q+"-2", q+"-x", q+".dead") })
}

// amqpCmd talks to the test broker directly:
//
//	amqp count Q N     wait until Q holds exactly N ready messages (acks,
//	                   requeues and dead-letters reach a queue
//	                   asynchronously; 60s deadline)
//	amqp count Q       print the number of ready messages; with '!', Q must
//	                   not exist
//	amqp publish Q FILE  publish the content of FILE as one persistent,
//	                   confirmed message (message-id m-FILE)
//	amqp get Q         take one message: print its body, then its x-hms-reason
//	amqp declare-plain Q  declare Q durable without arguments (no dead-lettering)
//	amqp lines FILE N SIZE  write N lines "line-000001..." padded with x to SIZE bytes
func amqpCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: amqp count|publish|get|declare-plain|lines ...")
	}
	if args[0] == "lines" {
		amqpLines(ts, neg, args[1:])
		return
	}
	conn, err := dialBroker()
	ts.Check(err)
	defer conn.Close()
	ch, err := conn.Channel()
	ts.Check(err)
	q := args[1]
	var cmdErr error
	switch {
	case args[0] == "count" && len(args) == 3:
		if neg {
			ts.Fatalf("usage: amqp count Q N (without '!')")
		}
		amqpWaitCount(ts, ch, q, args[2])
		return
	case args[0] == "count" && len(args) == 2:
		var st amqp.Queue
		if st, cmdErr = ch.QueueDeclarePassive(q, true, false, false, false, nil); cmdErr == nil {
			fmt.Fprintf(ts.Stdout(), "%d\n", st.Messages)
		}
	case args[0] == "publish" && len(args) == 3:
		amqpPublish(ts, ch, q, args[2])
	case args[0] == "get" && len(args) == 2:
		d, ok, err := ch.Get(q, false)
		if cmdErr = err; err == nil && !ok {
			cmdErr = fmt.Errorf("queue %s is empty", q)
		}
		if cmdErr == nil {
			fmt.Fprintf(ts.Stdout(), "%s\nreason: %v\n", d.Body, d.Headers["x-hms-reason"])
			d.Ack(false)
		}
	case args[0] == "declare-plain" && len(args) == 2:
		_, cmdErr = ch.QueueDeclare(q, true, false, false, false, nil)
	default:
		ts.Fatalf("amqp: unknown subcommand or wrong arguments: %s", strings.Join(args, " "))
	}
	if neg != (cmdErr != nil) {
		ts.Fatalf("amqp %s: %v", strings.Join(args, " "), cmdErr)
	}
}

func amqpWaitCount(ts *testscript.TestScript, ch *amqp.Channel, q, n string) {
	want, err := strconv.Atoi(n)
	ts.Check(err)
	var got int
	var qerr error
	WaitFor(brokerPatience, func() bool {
		var st amqp.Queue
		st, qerr = ch.QueueDeclarePassive(q, true, false, false, false, nil)
		got = st.Messages
		return qerr != nil || got == want
	})
	ts.Check(qerr)
	if got != want {
		ts.Fatalf("queue %s holds %d ready messages after %v, want %d", q, got, brokerPatience, want)
	}
}

func amqpPublish(ts *testscript.TestScript, ch *amqp.Channel, q, file string) {
	body, err := os.ReadFile(ts.MkAbs(file))
	ts.Check(err)
	ts.Check(ch.Confirm(false))
	dc, err := ch.PublishWithDeferredConfirm("", q, true, false,
		amqp.Publishing{DeliveryMode: amqp.Persistent, MessageId: "m-" + file, Body: body})
	ts.Check(err)
	if !dc.Wait() {
		ts.Fatalf("publish not confirmed")
	}
}

func amqpLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: amqp lines FILE N SIZE")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	size, err := strconv.Atoi(args[2])
	ts.Check(err)
	var b strings.Builder
	for i := 1; i <= n; i++ {
		l := fmt.Sprintf("line-%06d", i)
		b.WriteString(l)
		b.WriteString(strings.Repeat("x", max(0, size-len(l))))
		b.WriteByte('\n')
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(b.String()), 0o666))
}
