// Package amqpcli holds the command-line pieces hms-send and hms-recv
// share: connection and queue flags, logging flags, and how a broker error
// becomes an exit status with a hint.
package amqpcli

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
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
		// The command line's URLs go to Destination; AMQP_URL (named here
		// for --help and the man pages) is read by URLs, not from Value.
		&cli.GenericFlag{Name: "url", EnvVars: []string{"AMQP_URL"}, Value: &urlList{}, Destination: &urlList{},
			DefaultText: amqpconn.DefaultURL,
			Usage:       "broker `URL`, amqp:// or amqps://; repeat it (or separate URLs with spaces) for the nodes of a cluster (passwords: prefer AMQP_URL or --url-file)"},
		&cli.StringFlag{Name: "url-file", Usage: "read the broker URLs from `FILE` (separated by spaces or newlines; # starts a comment)"},
		&cli.StringFlag{Name: "ca", Usage: "CA certificates (PEM `FILE`) to verify an amqps broker"},
		&cli.StringFlag{Name: "cert", Usage: "client certificate (PEM `FILE`) for amqps"},
		&cli.StringFlag{Name: "key", Usage: "client key (PEM `FILE`) for --cert"},
		&cli.DurationFlag{Name: "heartbeat", Value: 10 * time.Second, Usage: "AMQP heartbeat interval `D`"},
		&cli.StringFlag{Name: "name", Usage: "connection `NAME` shown by the broker (default: PROGRAM@HOST[PID])"},
		&cli.BoolFlag{Name: "no-declare", Usage: "use the queue as it is: it must exist, nothing is declared"},
		&cli.BoolFlag{Name: "quorum", Usage: "declare a quorum queue, whose --delivery-limit stops poison messages"},
		&cli.IntFlag{Name: "delivery-limit", Value: 20, Usage: "with --quorum: `N` deliveries before a message is dead-lettered"},
		&cli.DurationFlag{Name: "retry-for", Value: 30 * time.Second, Usage: "keep reconnecting, to every node in turn, for up to `D` after losing the broker"},
		cmdutil.ProgressFlag("show counts and rate on stderr (when it is a terminal)"),
		cmdutil.VerboseFlag("log connections and print a summary at exit"),
		&cli.StringFlag{Name: "log-format", Value: "text", Usage: "`FORMAT` of log lines: text, or json for journald and log shippers"},
	}
}

// Conn is the connection configuration from the flags, checked (URLs and
// TLS files) without connecting.
func Conn(c *cli.Context) (amqpconn.Config, error) {
	name := c.String("name")
	if name == "" {
		host, _ := os.Hostname()
		name = fmt.Sprintf("%s@%s[%d]", c.App.Name, host, os.Getpid())
	}
	urls, err := URLs(c)
	if err != nil {
		return amqpconn.Config{}, err
	}
	cfg := amqpconn.Config{
		URLs: urls, CAFile: c.String("ca"), CertFile: c.String("cert"), KeyFile: c.String("key"),
		Heartbeat: c.Duration("heartbeat"), Name: name,
	}
	if err := cfg.Check(); err != nil {
		return cfg, Fatal(err)
	}
	return cfg, nil
}

// URLs are the broker nodes: every --url, else those in --url-file, else
// those in $AMQP_URL (separated by spaces), else none (the default URL).
func URLs(c *cli.Context) ([]string, error) {
	argv := *c.Generic("url").(*urlList)
	switch file := c.String("url-file"); {
	case len(argv) > 0 && file != "":
		return nil, cmdutil.UsageErrorf(c, "--url and --url-file exclude each other")
	case len(argv) > 0:
		return argv, nil
	case file != "":
		return readURLs(file)
	}
	return strings.Fields(os.Getenv("AMQP_URL")), nil
}

func readURLs(file string) ([]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, cmdutil.Fatalf("--url-file: %v", err)
	}
	var urls []string
	for _, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		urls = append(urls, strings.Fields(line)...)
	}
	if len(urls) == 0 {
		return nil, cmdutil.Fatalf("--url-file %s: no URL in it", file)
	}
	return urls, nil
}

// urlList is the value of --url: every occurrence adds its URLs (one, or
// several separated by spaces; none for an empty one, as --url "" always
// meant the default). Unlike a string slice flag, it does not split on
// commas, which a password may contain.
type urlList []string

func (u *urlList) Set(v string) error {
	*u = append(*u, strings.Fields(v)...)
	return nil
}

func (u *urlList) String() string {
	if u == nil {
		return ""
	}
	return strings.Join(*u, " ")
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
