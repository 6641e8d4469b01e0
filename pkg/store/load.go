package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hms-toolkit/hms/pkg/lines"
)

// Mode says how Load writes documents.
type Mode int

const (
	// Insert stores each line as a new document; one whose _id is already
	// stored counts as already present and is left as it is.
	Insert Mode = iota
	// Replace stores each line as the whole document of its key.
	Replace
	// Merge sets the line's top-level fields in the document of its key,
	// keeping the others ($set).
	Merge
)

func (m Mode) String() string {
	return [...]string{"insert", "replace", "merge"}[m]
}

// MaxDocumentSize is MongoDB's limit on the size of a BSON document.
const MaxDocumentSize = 16 << 20

// maxBatchBytes bounds a batch's documents, whatever their number.
const maxBatchBytes = 16 << 20

// LoadOptions configure Load.
type LoadOptions struct {
	Collection string
	Mode       Mode
	// IDField (Insert only) names a top-level field whose value becomes the
	// document's _id (a copy: the field stays). Without it, a line's own
	// _id is used, else its ContentID.
	IDField string
	// NewIDs (Insert only) gives lines without an _id a new ObjectId
	// instead of their ContentID: inserts in time order (faster on
	// FerretDB, whose _id index dislikes random keys), but storing the same
	// line again stores it twice. Retries within one Load are still safe:
	// the id is made once, when the line is read.
	NewIDs bool
	// Keys (Replace, Merge) are the top-level fields that identify a
	// record; every line must have them.
	Keys []string
	// NoIndex (Replace, Merge) skips creating the unique index on Keys.
	// Without it every line costs a single-document upsert, which is slow
	// (on FerretDB very slow).
	NoIndex bool
	// Batch is the number of documents per bulk write (1000 if 0); a batch
	// also ends at 16 MiB of documents.
	Batch int
	// MaxLine is the longest line accepted, in bytes (2*MaxDocumentSize if 0:
	// the document size itself is checked after parsing).
	MaxLine int
	// Stop, when it is closed, stops the reading of input at once, even
	// while a read blocks: the lines already read are still written, for as
	// long as Load's ctx allows. Nil: reading stops when ctx is done.
	Stop <-chan struct{}
	// KeepText keeps each line's text for LineError.Text.
	KeepText bool
	// Report, if not nil, is told about each line that was not stored
	// (rejected, failed or not stored because the load stopped), in line
	// order.
	Report func(LineError)
	// Progress, if not nil, is called with the running totals after each
	// batch is settled.
	Progress func(Stats)
	// OnRetry, if not nil, is told about each transient error that will be
	// retried.
	OnRetry func(error)
	// Meter, if not nil, is kept up to date while Load runs.
	Meter *Meter
	// SlowWrite is how long a write may wait for the server before
	// OnSlowWrite hears of it (5s if 0).
	SlowWrite time.Duration
	// OnSlowWrite, if not nil, is told about a write that has waited
	// SlowWrite for the server, from another goroutine, and again when it
	// is done.
	OnSlowWrite func(SlowWrite)
}

// Outcome is what happened to a line that was not stored.
type Outcome int

const (
	// Rejected: the line is not a valid document (bad JSON, forbidden key,
	// missing key field, too large); fix the input.
	Rejected Outcome = iota
	// Failed: the server refused the document (e.g. FerretDB and nested
	// arrays).
	Failed
	// NotStored: the load stopped before the line was written (a signal,
	// the retry time ran out, a fatal error). Storing it again is harmless.
	NotStored
)

// LineError is a line that was not stored.
type LineError struct {
	Line    int64 // 1-based line number
	Outcome Outcome
	Err     error
	Text    []byte // the line as read (with LoadOptions.KeepText), valid during the call
}

func (e LineError) Error() string {
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

// Stats count lines. Blank lines are not counted, but are numbered.
type Stats struct {
	Read     int64 // lines read
	Inserted int64 // new documents
	Updated  int64 // existing documents changed (Replace, Merge)
	Present  int64 // already stored as given: same _id (Insert), unchanged (Replace, Merge)
	Rejected int64 // invalid lines
	Failed   int64 // documents the server refused

	// When the load stopped early:
	NotStored      int64 // lines read and not written (not rejected or failed)
	MaybeStored    int64 // of NotStored, those of a write cut short: the server may have stored some
	FirstNotStored int64 // the first of them (0: none)
	LastLine       int64 // the number of the last line read
	AtEOF          bool  // all of the input was read
}

// Stored is the number of lines whose document is stored: inserted,
// updated or already present.
func (s Stats) Stored() int64 { return s.Inserted + s.Updated + s.Present }

// ErrStopped is returned by Load when LoadOptions.Stop ended the reading
// before the end of the input (and everything read was written).
var ErrStopped = errors.New("stopped reading before the end of the input")

// Load reads JSON lines from r and writes them to the collection, in
// unordered bulk writes of opt.Batch documents. Memory stays bounded by a
// few batches whatever the input size. A batch is written as soon as it is
// full or the writer would otherwise wait for input, so a slow stream is
// stored line by line as it comes.
//
// Every line read is settled and counted once: stored (inserted, updated,
// already present), rejected, failed, or — when the load stops early — not
// stored; lines that are not stored are told to opt.Report. Load returns nil
// when it read all of r and settled every line. Otherwise it returns why it
// stopped: ErrStopped (opt.Stop), ErrGaveUp (transient errors outlasted
// Options.RetryFor), ctx's error (a write cut short), a read error, or a
// server error that retrying cannot fix; Stats then say from which line the
// input is not stored. Load may return while a goroutine is still blocked
// reading r.
func (c *Client) Load(ctx context.Context, r io.Reader, opt LoadOptions) (Stats, error) {
	if opt.Batch <= 0 {
		opt.Batch = 1000
	}
	if opt.MaxLine <= 0 {
		opt.MaxLine = 2 * MaxDocumentSize
	}
	if opt.SlowWrite <= 0 {
		opt.SlowWrite = 5 * time.Second
	}
	if opt.Stop == nil {
		opt.Stop = ctx.Done()
	}
	if opt.Meter == nil {
		opt.Meter = &Meter{}
	}
	if opt.Mode != Insert && len(opt.Keys) == 0 {
		return Stats{}, errors.New("upsert needs at least one key field")
	}
	for _, k := range append(slices.Clone(opt.Keys), opt.IDField) {
		if strings.HasPrefix(k, "$") || strings.ContainsAny(k, ".\x00") {
			return Stats{}, fmt.Errorf("bad field name %q: must not start with '$' or contain '.'", k)
		}
	}
	l := &loader{c: c, opt: opt, coll: c.Collection(opt.Collection), step: 1}
	l.useInsert = opt.Mode == Insert || !opt.NoIndex || l.keyIsID()
	feed := lines.NewFeed(lines.New(r, lines.Options{Max: opt.MaxLine}), 1<<20)
	defer feed.Close()
	if opt.Mode != Insert && !opt.NoIndex && !l.keyIsID() {
		if err := l.createIndex(ctx); err != nil {
			return Stats{}, err
		}
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-opt.Stop:
			feed.Close()
		case <-done:
		}
	}()
	return l.run(ctx, feed)
}

type loader struct {
	c         *Client
	opt       LoadOptions
	coll      *mongo.Collection
	useInsert bool // dups detected by the server (an _id or a unique index)
	stats     Stats
	inflight  []int // the documents of the write to the server in progress
	step      int   // documents per update write, adapted to the server's speed
	lastLine  int64 // written by produce only
}

func (l *loader) keyIsID() bool {
	return len(l.opt.Keys) == 1 && l.opt.Keys[0] == "_id"
}

func (l *loader) createIndex(ctx context.Context) error {
	keys := bson.D{}
	for _, k := range l.opt.Keys {
		keys = append(keys, bson.E{Key: k, Value: 1})
	}
	m := mongo.IndexModel{Keys: keys, Options: options.Index().SetUnique(true)}
	err := l.c.Retry(ctx, func(ctx context.Context) error {
		_, err := l.coll.Indexes().CreateOne(ctx, m)
		return err
	}, l.opt.OnRetry)
	if err != nil {
		return fmt.Errorf("%w: creating a unique index on (%s) in %s: %w",
			ErrIndex, strings.Join(l.opt.Keys, ", "), l.opt.Collection, err)
	}
	return nil
}

// ErrIndex is wrapped by Load's error when the unique index on the keys
// cannot be created (e.g. the collection already has duplicate keys).
var ErrIndex = errors.New("no unique index")

// run writes the batches produce makes of the feed's lines. After the
// first error nothing more is written; the lines of the batch in hand and
// of those still coming are settled as not stored.
func (l *loader) run(ctx context.Context, feed *lines.Feed) (Stats, error) {
	batches := make(chan *batch) // unbuffered: a send succeeds when the writer waits
	free := make(chan *batch, 3)
	for range 3 {
		free <- newBatch(l.opt.KeepText)
	}
	var readErr error
	go func() {
		defer close(batches)
		readErr = l.produce(feed, batches, free)
	}()
	var err error
	for b := range batches {
		l.stats.Read += b.read
		l.stats.Rejected += int64(len(b.rejects))
		if err == nil {
			err = l.write(ctx, b)
			if err == nil && l.opt.Progress != nil {
				l.opt.Progress(l.stats)
			}
		}
		if err != nil {
			feed.Close() // stop reading: nothing more is written
			l.abandon(b)
		}
		l.report(b)
		b.reset()
		free <- b
	}
	s := &l.stats
	s.LastLine = l.lastLine // produce has returned
	s.AtEOF = readErr == io.EOF
	switch {
	case err != nil, s.AtEOF:
	case errors.Is(readErr, lines.ErrClosed):
		err = ErrStopped
	default:
		err = fmt.Errorf("reading input: %w", readErr)
	}
	return l.stats, err
}

// produce takes the feed's lines, parses them into batches and hands them
// to the writer: when full, or when the writer is idle. It returns how the
// input ended: io.EOF, lines.ErrClosed or a read error.
func (l *loader) produce(feed *lines.Feed, batches chan<- *batch, free chan *batch) error {
	cur := <-free
	send := func() {
		batches <- cur
		cur = <-free
	}
	for {
		var out chan<- *batch
		if !cur.empty() {
			out = batches
		}
		select {
		case out <- cur:
			cur = <-free
			continue
		case <-feed.Ready():
		}
		got, err := feed.Take()
		for _, ln := range got {
			l.add(cur, ln)
			if cur.full(l.opt.Batch) {
				send()
			}
		}
		if err != nil {
			if !cur.empty() {
				send()
			}
			return err
		}
	}
}
