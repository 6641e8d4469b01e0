package hms_test

// Script support for the hms-send and hms-recv tests (send_*.txtar,
// recv_*.txtar): each script gets its own queue name prefix in $Q (the
// scripts use $Q, $Q-2 and $Q-x, with their .dead queues, all deleted at
// the end), and the command 'amqp' talks to the broker directly.

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/rogpeppe/go-internal/testscript"
)

// mqURL is the broker the tests use (HMS_TEST_AMQP_URL overrides).
func mqURL() string {
	if u := os.Getenv("HMS_TEST_AMQP_URL"); u != "" {
		return u
	}
	return "amqp://guest:guest@127.0.0.1:5672/"
}

func mqUnique(prefix string) string {
	var b [4]byte
	rand.Read(b[:])
	return prefix + "." + hex.EncodeToString(b[:])
}

// mqDeleteQueues deletes q and the queues the scripts derive from it.
func mqDeleteQueues(q string) {
	conn, err := amqp.Dial(mqURL())
	if err != nil {
		return
	}
	defer conn.Close()
	for _, name := range []string{q, q + "-2", q + "-x"} {
		for _, n := range []string{name, name + ".dead"} {
			if ch, err := conn.Channel(); err == nil {
				ch.QueueDelete(n, false, false, false)
				ch.Close()
			}
		}
	}
}

func init() {
	scriptSetups = append(scriptSetups, func(env *testscript.Env) error {
		name := env.WorkDir
		if i := strings.LastIndex(name, "/script-"); i >= 0 {
			name = name[i+len("/script-"):]
		}
		if !strings.HasPrefix(name, "send") && !strings.HasPrefix(name, "recv") {
			return nil
		}
		q := mqUnique("hmstest." + name)
		env.Setenv("Q", q)
		env.Setenv("AMQP_URL", mqURL())
		env.Defer(func() { mqDeleteQueues(q) })
		return nil
	})
	scriptCmds["amqp"] = amqpCmd
}

// amqpCmd: amqp count Q | purge Q | publish Q FILE | get Q | declare-plain Q
// | bigline FILE BYTES...
//
//	count Q          print the number of ready messages in Q
//	publish Q FILE   publish the content of FILE as one persistent message
//	get Q            take one message: print its body, then its x-hms-reason
//	declare-plain Q  declare Q durable without arguments (no dead-lettering)
//	lines FILE N SIZE  write N lines "line-000001..." padded with x to SIZE bytes
func amqpCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: amqp count|publish|get|declare-plain|lines ...")
	}
	if args[0] == "lines" {
		if len(args) != 4 {
			ts.Fatalf("usage: amqp lines FILE N SIZE")
		}
		n, _ := strconv.Atoi(args[2])
		size, _ := strconv.Atoi(args[3])
		var b strings.Builder
		for i := 1; i <= n; i++ {
			l := fmt.Sprintf("line-%06d", i)
			b.WriteString(l)
			b.WriteString(strings.Repeat("x", max(0, size-len(l))))
			b.WriteByte('\n')
		}
		ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(b.String()), 0o666))
		return
	}
	conn, err := amqp.Dial(mqURL())
	ts.Check(err)
	defer conn.Close()
	ch, err := conn.Channel()
	ts.Check(err)
	q := args[1]
	var cmdErr error
	switch args[0] {
	case "count":
		st, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
		cmdErr = err
		if err == nil {
			fmt.Fprintf(ts.Stdout(), "%d\n", st.Messages)
		}
	case "publish":
		body, err := os.ReadFile(ts.MkAbs(args[2]))
		ts.Check(err)
		ts.Check(ch.Confirm(false))
		dc, err := ch.PublishWithDeferredConfirm("", q, true, false, amqp.Publishing{DeliveryMode: amqp.Persistent, MessageId: "m-" + args[2], Body: body})
		ts.Check(err)
		if !dc.Wait() {
			ts.Fatalf("publish not confirmed")
		}
	case "get":
		d, ok, err := ch.Get(q, false)
		cmdErr = err
		if err == nil && !ok {
			cmdErr = fmt.Errorf("queue %s is empty", q)
		}
		if cmdErr == nil {
			fmt.Fprintf(ts.Stdout(), "%s\nreason: %v\n", d.Body, d.Headers["x-hms-reason"])
			d.Ack(false)
		}
	case "declare-plain":
		_, cmdErr = ch.QueueDeclare(q, true, false, false, false, nil)
	default:
		ts.Fatalf("amqp: unknown subcommand %q", args[0])
	}
	if neg != (cmdErr != nil) {
		ts.Fatalf("amqp %s: %v", strings.Join(args, " "), cmdErr)
	}
}

// mqWaitFor polls cond until it is true or the deadline passes.
func mqWaitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}
