// Command amqp-raw is the benchmark peer of hms-send and hms-recv: the
// least code that does the same job with amqp091-go directly.
//
//	amqp-raw publish -queue Q -window N [-quorum] < lines   # persistent, confirms, mandatory
//	amqp-raw consume -queue Q -prefetch N -n N   # manual ack per message, to stdout
//	amqp-raw delete Q...                         # delete queues (after a benchmark)
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	amqp "github.com/rabbitmq/amqp091-go"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: amqp-raw publish|consume|delete [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	url := fs.String("url", "amqp://guest:guest@127.0.0.1:5672/", "broker URL")
	queue := fs.String("queue", "", "queue")
	window := fs.Int("window", 512, "outstanding confirms (publish)")
	prefetch := fs.Int("prefetch", 500, "prefetch (consume)")
	n := fs.Int("n", 0, "messages to consume")
	quorum := fs.Bool("quorum", false, "declare a quorum queue (publish)")
	fs.Parse(os.Args[2:])
	conn, err := amqp.Dial(*url)
	check(err)
	defer conn.Close()
	ch, err := conn.Channel()
	check(err)
	switch os.Args[1] {
	case "publish":
		var args amqp.Table
		if *quorum {
			args = amqp.Table{"x-queue-type": "quorum"}
		}
		_, err = ch.QueueDeclare(*queue, true, false, false, false, args)
		check(err)
		check(ch.Confirm(false))
		confirms := ch.NotifyPublish(make(chan amqp.Confirmation, *window+1))
		in := bufio.NewScanner(os.Stdin)
		in.Buffer(make([]byte, 1<<20), 16<<20)
		outstanding := 0
		wait := func() {
			if c := <-confirms; !c.Ack {
				fmt.Fprintln(os.Stderr, "nack", c.DeliveryTag)
				os.Exit(1)
			}
			outstanding--
		}
		for in.Scan() {
			if outstanding >= *window {
				wait()
			}
			body := append([]byte(nil), in.Bytes()...)
			check(ch.Publish("", *queue, true, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: body}))
			outstanding++
		}
		check(in.Err())
		for outstanding > 0 {
			wait()
		}
	case "consume":
		check(ch.Qos(*prefetch, 0, false))
		ds, err := ch.Consume(*queue, "", false, false, false, false, nil)
		check(err)
		out := bufio.NewWriter(os.Stdout)
		for i := 0; i < *n; i++ {
			d := <-ds
			out.Write(d.Body)
			out.WriteByte('\n')
			check(d.Ack(false))
		}
		check(out.Flush())
	case "delete":
		for _, q := range fs.Args() {
			_, err := ch.QueueDelete(q, false, false, false)
			check(err)
		}
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "amqp-raw:", err)
		os.Exit(1)
	}
}
