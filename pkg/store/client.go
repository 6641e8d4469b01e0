// Package store persists JSON records in MongoDB (or FerretDB) and reads them
// back, exactly and idempotently. It is the library behind hms-store.
//
// Four ideas:
//
//   - Documents are JSON lines mapped exactly to BSON (package jsonbson);
//     ids and keys are compared as the server compares them (8 and 8.0 are
//     one id), so the first line with an id wins whatever the server's order.
//   - Loading (Load) is built on unordered bulk inserts, the one fast path on
//     every server: a document whose _id is already stored counts as already
//     present, so delivering the same record twice is harmless; upserts insert
//     first and fall back to per-document updates only for keys that exist.
//   - Transient failures (server restart, network reset, primary stepdown, a
//     server that stops answering) are retried with backoff for a bounded
//     time (Options.RetryFor); every write is idempotent so retrying never
//     duplicates a record.
//   - A load stops when told (LoadOptions.Stop) even while its input blocks,
//     writes what it read for as long as its context allows, and says line
//     by line what was stored and what was not.
//
// It uses no transactions and nothing that only MongoDB has, so it works on
// FerretDB too, whose differences are handled here: no Decimal128 (hence the
// big-number encoding), nested arrays rejected per document, and unique
// violations on the update path reported as code 1 instead of 11000.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/hms-toolkit/hms/pkg/backoff"
)

// DefaultURI is used when neither --uri nor MONGODB_URI is given.
const DefaultURI = "mongodb://127.0.0.1:27017"

// DefaultDB is the database used when neither Options.DB nor the URI name one.
const DefaultDB = "hms"

// Options say how to connect.
type Options struct {
	// URI is the MongoDB connection string (DefaultURI if empty).
	URI string
	// DB is the database; if empty, the database named in the URI path
	// ("mongodb://host/mydb"), else DefaultDB.
	DB string
	// W is the write concern "w": "" (server default), "majority", a number
	// of nodes, or a tag set name.
	W string
	// Journal, when set, asks for journaled writes ("j": true/false).
	Journal *bool
	// ConnectTimeout bounds the first contact with the server, and is how
	// long a server may stay silent during an operation before it counts as
	// not answering (10s if 0).
	ConnectTimeout time.Duration
	// RetryFor is how long transient errors are retried before giving up
	// (0: no retries).
	RetryFor time.Duration
	// AppName is shown by the server for the connection (e.g. in its log
	// and currentOp): the program and its version.
	AppName string
}

// Database is the database o names: DB, else the one in the URI path, else
// DefaultDB.
func (o Options) Database() string {
	switch {
	case o.DB != "":
		return o.DB
	case URIDatabase(o.URI) != "":
		return URIDatabase(o.URI)
	}
	return DefaultDB
}

// Client is a connection to one database.
type Client struct {
	mc       *mongo.Client
	db       *mongo.Database
	retryFor time.Duration
	silence  time.Duration // how long a server may not answer
	uri      string
}

// ErrUnreachable is wrapped by the error Connect returns when the server
// does not answer.
var ErrUnreachable = errors.New("server unreachable")

// Connect connects to the server and checks that it answers (a ping), so
// that an unreachable server is reported before any input is read.
func Connect(ctx context.Context, o Options) (*Client, error) {
	if o.URI == "" {
		o.URI = DefaultURI
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	db := o.Database()
	if err := CheckDBName(db); err != nil {
		return nil, err
	}
	copts, err := clientOptions(o)
	if err != nil {
		return nil, err
	}
	mc, err := mongo.Connect(copts)
	if err != nil {
		return nil, fmt.Errorf("bad MongoDB URI %s: %w", Redact(o.URI), err)
	}
	pctx, cancel := context.WithTimeout(ctx, o.ConnectTimeout)
	defer cancel()
	if err := mc.Ping(pctx, nil); err != nil {
		mc.Disconnect(context.Background())
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("%w: cannot reach MongoDB at %s within %v: %v",
			ErrUnreachable, Redact(o.URI), o.ConnectTimeout, shortErr(err))
	}
	return &Client{mc: mc, db: mc.Database(db), retryFor: o.RetryFor, silence: o.ConnectTimeout, uri: o.URI}, nil
}

func clientOptions(o Options) (*options.ClientOptions, error) {
	copts := options.Client().ApplyURI(o.URI).
		SetConnectTimeout(o.ConnectTimeout).
		SetServerSelectionTimeout(o.ConnectTimeout)
	if o.AppName != "" {
		copts.SetAppName(o.AppName)
	}
	if o.W != "" || o.Journal != nil {
		wc := &writeconcern.WriteConcern{Journal: o.Journal}
		if o.W != "" {
			if n, err := strconv.Atoi(o.W); err == nil {
				wc.W = n
			} else {
				wc.W = o.W
			}
		}
		copts.SetWriteConcern(wc)
	}
	if err := copts.Validate(); err != nil {
		return nil, fmt.Errorf("bad MongoDB URI %s: %w", Redact(o.URI), err)
	}
	return copts, nil
}

// Database is the database the client works in.
func (c *Client) Database() *mongo.Database { return c.db }

// Collection is a collection of the client's database.
func (c *Client) Collection(name string) *mongo.Collection { return c.db.Collection(name) }

// Close disconnects.
func (c *Client) Close(ctx context.Context) error { return c.mc.Disconnect(ctx) }

// Retry runs op until it succeeds, fails with an error that is not
// transient (see IsTransient), or transient errors have gone on for longer
// than Options.RetryFor, waiting with exponential backoff (50ms doubling up
// to 5s, with jitter) between attempts. Every attempt runs under a watchdog
// (see Guard): one that the server stops answering fails with
// ErrNotAnswering, which is transient, so a silent server is given up on
// after ConnectTimeout plus RetryFor. While retrying, no attempt outlasts the
// retry time. onRetry, if not nil, is told about each failed attempt that
// will be retried. The error returned is the last one (or, if that is only
// the retry time running out, the one before); it wraps ErrGaveUp when
// retrying ran out of time. Retry never mistakes the end of its own
// deadlines for ctx's cancellation.
func (c *Client) Retry(ctx context.Context, op func(context.Context) error, onRetry func(error)) error {
	var deadline time.Time
	var cause error
	wait := backoff.Backoff{Min: 50 * time.Millisecond, Max: 5 * time.Second}
	for {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if !deadline.IsZero() {
			// Server selection alone could take ConnectTimeout.
			actx, cancel = context.WithDeadline(ctx, deadline.Add(time.Second))
		}
		err := c.Guard(actx, op)
		// A timeout while retrying is the retry time running out (the
		// driver's read deadline may fire a moment before actx's).
		outOfTime := !deadline.IsZero() && ctx.Err() == nil && (actx.Err() != nil || mongo.IsTimeout(err))
		cancel()
		if err == nil || !outOfTime && !IsTransient(err) {
			return err
		}
		if !outOfTime || cause == nil {
			cause = err
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(c.retryFor)
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("%w after %v: %w", ErrGaveUp, c.retryFor, shortErr(cause))
		}
		if onRetry != nil {
			onRetry(err)
		}
		if err := backoff.Sleep(ctx, min(wait.Next(), time.Until(deadline))); err != nil {
			return err
		}
	}
}

// ErrGaveUp is wrapped by Retry's error when transient errors outlasted
// Options.RetryFor.
var ErrGaveUp = errors.New("gave up retrying")

// IsTransient reports whether err is worth retrying: network errors and
// timeouts, no reachable server, and the server errors that MongoDB labels
// retryable or that mean the primary is changing or shutting down.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, ErrNotAnswering) {
		return true
	}
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) {
		return true
	}
	var sse topology.ServerSelectionError
	if errors.As(err, &sse) || errors.Is(err, mongo.ErrClientDisconnected) {
		return true
	}
	var le mongo.LabeledError
	if errors.As(err, &le) && (le.HasErrorLabel("RetryableWriteError") || le.HasErrorLabel("NetworkError")) {
		return true
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		for _, code := range transientCodes {
			if se.HasErrorCode(code) {
				return true
			}
		}
	}
	var we mongo.WriteException
	if errors.As(err, &we) && we.WriteConcernError != nil {
		return true
	}
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) && bwe.WriteConcernError != nil {
		return true
	}
	return false
}

// transientCodes are MongoDB's retryable error codes (see the server's
// error_codes.yml and the driver retryable-writes spec).
var transientCodes = []int{
	6,     // HostUnreachable
	7,     // HostNotFound
	89,    // NetworkTimeout
	91,    // ShutdownInProgress
	189,   // PrimarySteppedDown
	262,   // ExceededTimeLimit
	9001,  // SocketException
	10107, // NotWritablePrimary
	11600, // InterruptedAtShutdown
	11602, // InterruptedDueToReplStateChange
	13435, // NotPrimaryNoSecondaryOk
	13436, // NotPrimaryOrSecondary
	64,    // WriteConcernFailed (wtimeout)
}

// URIDatabase is the database named in the path of a MongoDB URI, or "".
func URIDatabase(uri string) string {
	// Not url.Parse: a replica set URI lists hosts with commas.
	_, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return ""
	}
	rest, _, _ = strings.Cut(rest, "?")
	_, db, _ := strings.Cut(rest, "/")
	if d, err := url.PathUnescape(db); err == nil {
		return d
	}
	return db
}

// Redact returns uri with its password replaced by "xxxxx", for messages.
func Redact(uri string) string {
	// Not url.Parse: a replica set URI lists hosts with commas.
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return uri
	}
	hosts := rest
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		hosts = rest[:i]
	}
	at := strings.LastIndex(hosts, "@")
	if at < 0 {
		return uri
	}
	user, _, hasPass := strings.Cut(hosts[:at], ":")
	if !hasPass {
		return uri
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}

// shortErr drops the driver's long topology description from server
// selection errors, keeping the cause.
func shortErr(err error) error {
	var sse topology.ServerSelectionError
	if !errors.As(err, &sse) {
		return err
	}
	for _, s := range sse.Desc.Servers {
		if s.LastError != nil {
			return s.LastError
		}
	}
	if sse.Wrapped != nil {
		return sse.Wrapped
	}
	return err
}
