package hms_test

// Script commands for the tests of long-running hms-send and hms-recv
// (stopped by signals, scraped for metrics): they wait for an effect by
// polling with a deadline, never by sleeping.
//
//	waitfile FILE [RE]         wait until FILE exists (and its content
//	                           matches RE)
//	mq-wait Q N                wait until queue Q holds N ready messages
//	metrics-get LOG PATH [RE]  GET PATH from the metrics endpoint that the
//	                           program logging to LOG announced ("serving
//	                           metrics url=..."); with RE, until the body
//	                           matches it. Prints the status, then the body.

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/rogpeppe/go-internal/testscript"
)

// scriptWait bounds every wait of these commands.
const scriptWait = 30 * time.Second

func init() {
	scriptCmds["waitfile"] = waitFileCmd
	scriptCmds["mq-wait"] = mqWaitCmd
	scriptCmds["metrics-get"] = metricsGetCmd
	scriptSetups = append(scriptSetups, func(env *testscript.Env) error {
		// A script that consumes $Q.dead checks that no $Q.dead.dead is
		// left (should it fail, the stray queue goes too), and names with
		// the bytes RabbitMQ keeps are tried as "$Q \té".
		if q := env.Getenv("Q"); q != "" {
			env.Defer(func() { mqDeleteQueues(q + ".dead"); mqDeleteQueues(q + " \té") })
		}
		return nil
	})
}

func waitFileCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || len(args) > 2 || neg {
		ts.Fatalf("usage: waitfile FILE [REGEXP]")
	}
	want := regexp.MustCompile(".")
	if len(args) == 2 {
		want = regexp.MustCompile("(?m)" + args[1])
	}
	if !mqWaitFor(scriptWait, func() bool {
		b, err := os.ReadFile(ts.MkAbs(args[0]))
		return err == nil && (len(args) == 1 || want.Match(b))
	}) {
		ts.Fatalf("%s did not appear (or match %q) within %v", args[0], want, scriptWait)
	}
}

func mqWaitCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: mq-wait Q N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	conn, err := amqp.Dial(mqURL())
	ts.Check(err)
	defer conn.Close()
	got := -1
	ok := mqWaitFor(scriptWait, func() bool {
		ch, err := conn.Channel()
		ts.Check(err)
		defer ch.Close()
		st, err := ch.QueueDeclarePassive(args[0], true, false, false, false, nil)
		if err == nil {
			got = st.Messages
		}
		return got == want
	})
	if !ok {
		ts.Fatalf("queue %s holds %d messages after %v, want %d", args[0], got, scriptWait, want)
	}
}

var metricsURL = regexp.MustCompile(`serving metrics url=(http://\S+)/metrics`)

func metricsGetCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || len(args) > 3 || neg {
		ts.Fatalf("usage: metrics-get LOG PATH [REGEXP]")
	}
	var base string
	if !mqWaitFor(scriptWait, func() bool {
		log, _ := os.ReadFile(ts.MkAbs(args[0]))
		m := metricsURL.FindSubmatch(log)
		if m != nil {
			base = string(m[1])
		}
		return m != nil
	}) {
		ts.Fatalf("%s did not say where the metrics are within %v", args[0], scriptWait)
	}
	var want *regexp.Regexp
	if len(args) == 3 {
		want = regexp.MustCompile("(?m)" + args[2])
	}
	var status, body string
	ok := mqWaitFor(scriptWait, func() bool {
		resp, err := http.Get(base + args[1])
		ts.Check(err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		ts.Check(err)
		status, body = resp.Status, string(b)
		return want == nil || want.MatchString(body)
	})
	fmt.Fprintf(ts.Stdout(), "%s\n%s", status, body)
	if !ok {
		ts.Fatalf("no match for %q in %s%s within %v:\n%s", args[2], base, args[1], scriptWait, strings.TrimSpace(body))
	}
}
