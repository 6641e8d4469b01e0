// Package store persists JSON records in MongoDB (or FerretDB) and reads them
// back, exactly and idempotently. It is the library behind hms-store.
//
// Three ideas:
//
//   - An exact JSON↔BSON mapping (ParseJSON, AppendJSON): every JSON value
//     read is stored so that it comes back as the same JSON value, including
//     integers beyond 64 bits, and keys that could be operators ("$set",
//     "a.b") are rejected.
//   - Loading (Load) is built on unordered bulk inserts, the one fast path on
//     every server: a document whose _id is already stored counts as already
//     present, so delivering the same record twice is harmless; upserts insert
//     first and fall back to per-document updates only for keys that exist.
//   - Transient failures (server restart, network reset, primary stepdown)
//     are retried with backoff for a bounded time (Options.RetryFor); every
//     write is idempotent so retrying never duplicates a record.
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
	// ConnectTimeout bounds the first contact with the server (10s if 0).
	ConnectTimeout time.Duration
	// RetryFor is how long transient errors are retried before giving up
	// (0: no retries).
	RetryFor time.Duration
}

// Client is a connection to one database.
type Client struct {
	mc       *mongo.Client
	db       *mongo.Database
	retryFor time.Duration
	uri      string
}

// ErrUnreachable is wrapped by the error Connect returns when the server
// does not answer.
var ErrUnreachable = errors.New("server unreachable")

// CheckDBName reports a database name MongoDB refuses (empty, too long,
// or with one of the characters /\. "$*<>:|? or NUL), so that it is a
// usage error before anything is read rather than a failed write after.
func CheckDBName(name string) error {
	switch {
	case name == "":
		return errors.New("the database name is empty")
	case len(name) >= 64:
		return fmt.Errorf("database name %q is %d bytes long; MongoDB allows at most 63", name, len(name))
	case strings.ContainsAny(name, "/\\. \"$*<>:|?\x00"):
		return fmt.Errorf("database name %q contains one of /\\. \"$*<>:|? or NUL, which MongoDB does not allow", name)
	}
	return nil
}

// CheckCollectionName reports a collection name MongoDB refuses (empty,
// with '$' or NUL, or in the "system." namespace).
func CheckCollectionName(name string) error {
	switch {
	case name == "":
		return errors.New("the collection name is empty")
	case strings.ContainsAny(name, "$\x00"):
		return fmt.Errorf("collection name %q contains '$' or NUL, which MongoDB does not allow", name)
	case strings.HasPrefix(name, "system."):
		return fmt.Errorf("collection name %q is in MongoDB's reserved system. namespace", name)
	}
	return nil
}

// Connect connects to the server and checks that it answers (a ping), so
// that an unreachable server is reported before any input is read.
func Connect(ctx context.Context, o Options) (*Client, error) {
	if o.URI == "" {
		o.URI = DefaultURI
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	db := o.DB
	if db == "" {
		db = URIDatabase(o.URI)
	}
	if db == "" {
		db = DefaultDB
	}
	if err := CheckDBName(db); err != nil {
		return nil, err
	}
	copts := options.Client().ApplyURI(o.URI).
		SetConnectTimeout(o.ConnectTimeout).
		SetServerSelectionTimeout(o.ConnectTimeout)
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
	mc, err := mongo.Connect(copts)
	if err != nil {
		return nil, fmt.Errorf("bad MongoDB URI %s: %w", Redact(o.URI), err)
	}
	pctx, cancel := context.WithTimeout(ctx, o.ConnectTimeout)
	defer cancel()
	if err := mc.Ping(pctx, nil); err != nil {
		mc.Disconnect(context.Background())
		return nil, fmt.Errorf("%w: cannot reach MongoDB at %s within %v: %v",
			ErrUnreachable, Redact(o.URI), o.ConnectTimeout, shortErr(err))
	}
	return &Client{mc: mc, db: mc.Database(db), retryFor: o.RetryFor, uri: o.URI}, nil
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
// to 5s, with jitter) between attempts. The first attempt is bounded only by
// ctx and the driver's timeouts (server selection: ConnectTimeout), later
// ones by the end of the retry time. onRetry, if not nil, is told about
// each failed attempt that will be retried. The error returned is the last
// one; it wraps ErrGaveUp when retrying ran out of time.
func (c *Client) Retry(ctx context.Context, op func(context.Context) error, onRetry func(error)) error {
	var deadline time.Time
	wait := backoff.Backoff{Min: 50 * time.Millisecond, Max: 5 * time.Second}
	for {
		var err error
		if deadline.IsZero() {
			err = op(ctx)
		} else {
			// While retrying, an attempt may not outlast the retry time
			// (by much): server selection alone could take ConnectTimeout.
			actx, cancel := context.WithDeadline(ctx, deadline.Add(time.Second))
			err = op(actx)
			cancel()
		}
		if err == nil || !IsTransient(err) {
			return err
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(c.retryFor)
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("%w after %v: %w", ErrGaveUp, c.retryFor, shortErr(err))
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
