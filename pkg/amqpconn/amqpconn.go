// Package amqpconn opens RabbitMQ connections the hms way (URLs, TLS files,
// heartbeat, connection name), says which failures are worth retrying and
// what a permanent one is about (Permanent, Kind: in terms of Config and
// Queue, for the command layer to word with its flags), and declares the
// durable queue topology that hms-send and hms-recv share: a queue Q whose
// rejected messages go, through the default exchange, to the queue "Q.dead".
// Its Dialer is the one reconnect loop of both: it fails over between the
// nodes of a cluster, and watches for the broker's flow control.
package amqpconn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hms-toolkit/hms/pkg/version"
)

// DefaultURL is the node of a Config without URLs.
const DefaultURL = "amqp://guest:guest@127.0.0.1:5672/"

// Config says how to reach the broker.
type Config struct {
	// URLs are the nodes of one broker cluster, tried in this order (one
	// URL for a single broker); none: DefaultURL.
	URLs      []string
	CAFile    string // PEM CA bundle for amqps; the system roots otherwise
	CertFile  string // client certificate (PEM) for amqps, with KeyFile
	KeyFile   string
	Heartbeat time.Duration // 0: the broker's proposal
	Name      string        // connection_name shown in the management UI
	Timeout   time.Duration // TCP+TLS+handshake, per node; 0: DefaultTimeout
}

// DefaultTimeout bounds the TCP connect, TLS and AMQP handshakes of one
// attempt to connect to one node, when Config.Timeout is 0.
const DefaultTimeout = 30 * time.Second

func (c Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// Redact returns the URL with its password hidden, for messages.
func Redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return userinfoPassword.ReplaceAllString(raw, "://$1:xxxxx@")
}

var userinfoPassword = regexp.MustCompile(`://([^:/@]*):[^@]*@`)

// Permanent marks an error that retrying cannot fix (bad URL, refused
// credentials, missing queue, inequivalent arguments...).
type Permanent struct {
	Err error // what is wrong; it wraps the cause (an os or tls error), if any
	// Hint is what to do, when that depends on no setting of Config or
	// Queue; "" otherwise (Kind says what the error is about).
	Hint string
	// Kind says what the error is about, so that a caller can say what to
	// do in its own terms (a command line names the flags that set Config
	// and Queue).
	Kind Kind
	// Name is what the error is about: the queue (the queue kinds), the
	// file (BadCAFile) or the URL, password hidden (TLSWithoutAMQPS).
	Name string
	// Arg is the queue argument the broker says differs ("x-queue-type"),
	// for the kinds of an existing queue with other arguments.
	Arg string
}

// Kind is what a *Permanent is about, in terms of Config and Queue.
type Kind int

const (
	Other Kind = iota // any other permanent error
	// BadCAFile: Config.CAFile (Name) cannot be read, or holds no PEM
	// certificate (Err wraps ErrNoCertificate).
	BadCAFile
	// CertWithoutKey: one of Config.CertFile and KeyFile without the other.
	CertWithoutKey
	// BadKeyPair: Config.CertFile and KeyFile are no usable key pair.
	BadKeyPair
	// TLSWithoutAMQPS: Config has TLS files and an amqp:// URL (Name).
	TLSWithoutAMQPS
	// UnknownCA: the broker's certificate is signed by no CA trusted
	// (those of Config.CAFile, or else the system's).
	UnknownCA
	// QueueMissing: Queue.NoDeclare, and the queue does not exist.
	QueueMissing
	// DeclareRefused: the user may not declare the queue (the configure
	// permission).
	DeclareRefused
	// Inequivalent: the queue exists with other arguments than Queue
	// gives it, in none of the ways below.
	Inequivalent
	// QuorumMismatch: the queue exists with another type, or other quorum
	// arguments: it was declared with another Queue.Quorum or
	// DeliveryLimit.
	QuorumMismatch
	// ClassicDead: Queue.Quorum, and the dead-letter queue Q.dead exists
	// as a classic queue, which cannot become a quorum queue.
	ClassicDead
	// NoAtLeastOnce: Queue.Quorum, and Q exists as a quorum queue without
	// at-least-once dead-lettering.
	NoAtLeastOnce
)

// ErrNoCertificate is wrapped by the error of a CA file that holds no PEM
// certificate.
var ErrNoCertificate = errors.New("no PEM certificate in it")

func (e *Permanent) Error() string { return e.Err.Error() }
func (e *Permanent) Unwrap() error { return e.Err }

// IsPermanent reports whether err is (or wraps) a *Permanent.
func IsPermanent(err error) bool {
	var p *Permanent
	return errors.As(err, &p)
}

// HintOf returns the hint carried by a *Permanent in err, or "".
func HintOf(err error) string {
	var p *Permanent
	if errors.As(err, &p) {
		return p.Hint
	}
	return ""
}

// Nodes returns the URLs to connect to: URLs, or DefaultURL.
func (c Config) Nodes() []string {
	if len(c.URLs) == 0 {
		return []string{DefaultURL}
	}
	return c.URLs
}

// Check validates the URLs and the TLS files without connecting, so that a
// typo is reported at once rather than after retries.
func (c Config) Check() error {
	for _, raw := range c.Nodes() {
		if _, err := c.amqpConfig(raw); err != nil {
			return err
		}
	}
	return nil
}

func (c Config) amqpConfig(raw string) (amqp.Config, error) {
	uri, err := amqp.ParseURI(raw)
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), raw, Redact(raw)) // some errors quote the URL
		return amqp.Config{}, &Permanent{
			Err:  fmt.Errorf("invalid AMQP URL %s: %s", Redact(raw), msg),
			Hint: "the form is amqp://user:password@host:5672/vhost (or amqps:// for TLS)",
		}
	}
	cfg := amqp.Config{
		Heartbeat:  c.Heartbeat,
		Properties: amqp.NewConnectionProperties(),
	}
	// The broker's connection list shows which build is connected.
	cfg.Properties["product"] = "hms"
	cfg.Properties["version"] = version.Short()
	if c.Name != "" {
		cfg.Properties.SetClientConnectionName(c.Name)
	}
	cfg.Dial = amqp.DefaultDial(c.timeout())
	if uri.Scheme == "amqps" {
		tc := &tls.Config{ServerName: uri.Host, MinVersion: tls.VersionTLS12}
		if c.CAFile != "" {
			pem, err := os.ReadFile(c.CAFile)
			if err != nil {
				return cfg, &Permanent{Kind: BadCAFile, Name: c.CAFile, Err: fmt.Errorf("CA file: %w", err)}
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return cfg, &Permanent{Kind: BadCAFile, Name: c.CAFile, Err: fmt.Errorf("CA file %s: %w", c.CAFile, ErrNoCertificate)}
			}
			tc.RootCAs = pool
		}
		if (c.CertFile == "") != (c.KeyFile == "") {
			return cfg, &Permanent{Kind: CertWithoutKey, Err: errors.New("a client certificate and its key go together")}
		}
		if c.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
			if err != nil {
				return cfg, &Permanent{Kind: BadKeyPair, Err: fmt.Errorf("client certificate and key: %w", err)}
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		cfg.TLSClientConfig = tc
	} else if c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" {
		return cfg, &Permanent{
			Kind: TLSWithoutAMQPS, Name: Redact(raw),
			Err:  fmt.Errorf("a CA file, client certificate or key needs an amqps:// URL, not %s", Redact(raw)),
			Hint: "use amqps://host:5671/ for TLS",
		}
	}
	return cfg, nil
}

// dial connects to the node at raw, giving up after timeout (0: Timeout).
// Errors that retrying cannot fix are *Permanent.
func (c Config) dial(raw string, timeout time.Duration) (*amqp.Connection, error) {
	cfg, err := c.amqpConfig(raw)
	if err != nil {
		return nil, err
	}
	if timeout > 0 {
		cfg.Dial = amqp.DefaultDial(timeout)
	}
	conn, err := amqp.DialConfig(raw, cfg)
	if err != nil {
		return nil, classifyDial(Redact(raw), err)
	}
	return conn, nil
}

func classifyDial(where string, err error) error {
	var ae *amqp.Error
	if errors.As(err, &ae) {
		switch ae.Code {
		case amqp.AccessRefused:
			msg := fmt.Errorf("%s: access refused: %s", where, ae.Reason)
			hint := "check the user and password in the URL, and the user's permissions on the vhost"
			if ae == amqp.ErrVhost || ae.Reason == amqp.ErrVhost.Reason {
				hint = "the vhost is the URL path: amqp://host/ is vhost '/', amqp://host/v is 'v'"
			}
			return &Permanent{Err: msg, Hint: hint}
		case amqp.NotAllowed, amqp.InvalidPath:
			return &Permanent{Err: fmt.Errorf("%s: %s", where, ae.Reason)}
		}
	}
	var ue *tls.CertificateVerificationError
	if errors.As(err, &ue) {
		return &Permanent{Kind: UnknownCA, Err: fmt.Errorf("%s: %v", where, err)}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return &Permanent{Err: fmt.Errorf("%s: %v", where, err)}
	}
	return fmt.Errorf("%s: %w", where, err)
}
