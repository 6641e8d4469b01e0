// Package amqpcli holds the command-line pieces hms-send and hms-recv
// share: connection and queue flags, logging flags, and how a broker error
// becomes an exit status with a hint.
package amqpcli

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/amqpconn"
	"github.com/hms-toolkit/hms/pkg/clilog"
	"github.com/hms-toolkit/hms/pkg/cmdutil"
)

// MaxName is the longest queue name, exchange, routing key, content type or
// header name AMQP can carry (a short string).
const MaxName = amqpconn.MaxName

// CheckNames returns a usage error for the first name longer than MaxName
// bytes, which the AMQP library could not even encode (it drops the
// connection instead). what names the flag each value came from.
func CheckNames(what ...string) error {
	for i := 0; i+1 < len(what); i += 2 {
		if n := len(what[i+1]); n > MaxName {
			return cmdutil.Fatalf("%s is %d bytes long; AMQP allows at most %d", what[i], n, MaxName)
		}
	}
	return nil
}

// CheckQueue returns a usage error when the broker would not take the
// queue of --queue Q as it is (see amqpconn.CheckDeclare; with
// --no-declare, amqpconn.CheckName).
func CheckQueue(c *cli.Context, q string) error {
	check := amqpconn.CheckDeclare
	if c.Bool("no-declare") {
		check = amqpconn.CheckName
	}
	if err := check(q); err != nil {
		return cmdutil.Fatalf("--queue %v", err)
	}
	return nil
}

// CheckDurations returns a usage error for the first of the named duration
// flags that is negative (--idle-timeout -1s would never time out).
func CheckDurations(c *cli.Context, names ...string) error {
	for _, n := range append([]string{"heartbeat", "retry-for"}, names...) {
		if d := c.Duration(n); d < 0 {
			return cmdutil.Fatalf("--%s %v: want a duration of 0 or more", n, d)
		}
	}
	return nil
}

// Flags are the connection, queue-declaration and logging flags.
func Flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "url", EnvVars: []string{"AMQP_URL"}, Value: amqpconn.DefaultURL, Usage: "broker `URL`, amqp:// or amqps:// (password: prefer AMQP_URL)"},
		&cli.StringFlag{Name: "ca", Usage: "CA certificates (PEM `FILE`) to verify an amqps broker"},
		&cli.StringFlag{Name: "cert", Usage: "client certificate (PEM `FILE`) for amqps"},
		&cli.StringFlag{Name: "key", Usage: "client key (PEM `FILE`) for --cert"},
		&cli.DurationFlag{Name: "heartbeat", Value: 10 * time.Second, Usage: "AMQP heartbeat interval `D`"},
		&cli.StringFlag{Name: "name", Usage: "connection `NAME` shown by the broker (default: PROGRAM@HOST[PID])"},
		&cli.BoolFlag{Name: "no-declare", Usage: "use the queue as it is: it must exist, nothing is declared"},
		&cli.BoolFlag{Name: "quorum", Usage: "declare a quorum queue, whose --delivery-limit stops poison messages"},
		&cli.IntFlag{Name: "delivery-limit", Value: 20, Usage: "with --quorum: `N` deliveries before a message is dead-lettered"},
		&cli.DurationFlag{Name: "retry-for", Value: 30 * time.Second, Usage: "keep reconnecting for up to `D` after losing the broker"},
		cmdutil.ProgressFlag("show counts and rate on stderr (when it is a terminal)"),
		cmdutil.VerboseFlag("log connections and print a summary at exit"),
		&cli.StringFlag{Name: "log-format", Value: "text", Usage: "`FORMAT` of log lines: text, or json for journald and log shippers"},
	}
}

// Conn is the connection configuration from the flags.
func Conn(c *cli.Context) amqpconn.Config {
	name := c.String("name")
	if name == "" {
		host, _ := os.Hostname()
		name = fmt.Sprintf("%s@%s[%d]", c.App.Name, host, os.Getpid())
	}
	return amqpconn.Config{
		URL: c.String("url"), CAFile: c.String("ca"), CertFile: c.String("cert"), KeyFile: c.String("key"),
		Heartbeat: c.Duration("heartbeat"), Name: name,
	}
}

// Queue is the queue named q with the declaration flags.
func Queue(c *cli.Context, q string) amqpconn.Queue {
	return amqpconn.Queue{Name: q, NoDeclare: c.Bool("no-declare"), Quorum: c.Bool("quorum"), DeliveryLimit: c.Int("delivery-limit")}
}

// Logger is the logger from --log-format and -v.
func Logger(c *cli.Context) (*slog.Logger, error) {
	level := slog.LevelWarn
	if c.Bool("verbose") {
		level = slog.LevelInfo
	}
	log, err := clilog.New(c.App.Name, c.App.ErrWriter, c.String("log-format"), level)
	if err != nil {
		return nil, cmdutil.Fatalf("%v", err)
	}
	return log, nil
}

// Fatal is err as an exit-status-2 error, with the hint it carries.
func Fatal(err error) error {
	e := cmdutil.Fatalf("%v", err)
	if h := amqpconn.HintOf(err); h != "" {
		e = e.WithHint(h)
	}
	return e
}
