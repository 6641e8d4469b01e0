package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
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
	// Batch is the number of documents per bulk write (1000 if 0).
	Batch int
	// MaxLine is the longest line accepted, in bytes (2*MaxDocumentSize if 0:
	// the document size itself is checked after parsing).
	MaxLine int
	// Report, if not nil, is told about each line that was not stored
	// (rejected or failed), in line order within a batch.
	Report func(LineError)
	// Progress, if not nil, is called with the running totals after each
	// batch is settled.
	Progress func(Stats)
	// OnRetry, if not nil, is told about each transient error that will be
	// retried.
	OnRetry func(error)
}

// Outcome is what happened to a line that was not stored.
type Outcome int

const (
	// Rejected: the line is not a valid document (bad JSON, forbidden key,
	// missing key field, too large); fix the input.
	Rejected Outcome = iota
	// Failed: the server refused the document (e.g. FerretDB and nested
	// arrays) or it could not be written before giving up.
	Failed
)

// LineError is a line that was not stored.
type LineError struct {
	Line    int64 // 1-based line number
	Outcome Outcome
	Err     error
}

func (e LineError) Error() string {
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

// Stats count lines. Blank lines are not counted.
type Stats struct {
	Read     int64 // lines read
	Inserted int64 // new documents
	Updated  int64 // existing documents changed (Replace, Merge)
	Present  int64 // already stored as given: same _id (Insert), unchanged (Replace, Merge)
	Rejected int64 // invalid lines
	Failed   int64 // documents not stored because of the server
}

// Load reads JSON lines from r and writes them to the collection, in
// unordered bulk writes of opt.Batch documents. Memory stays bounded by a
// few batches whatever the input size. A batch is written as soon as it is
// full or the writer would otherwise wait for input, so a slow stream is
// stored line by line as it comes.
//
// Lines that cannot be stored are reported through opt.Report and counted;
// they never stop the load. Load returns an error only when it stops early:
// unreadable input, a non-transient batch error (e.g. not authorized),
// transient errors outlasting Options.RetryFor, or ctx canceled. Then the
// lines read but not stored are counted as Failed, and Load may return
// while a goroutine is still blocked reading r.
func (c *Client) Load(ctx context.Context, r io.Reader, opt LoadOptions) (Stats, error) {
	if opt.Batch <= 0 {
		opt.Batch = 1000
	}
	if opt.MaxLine <= 0 {
		opt.MaxLine = 2 * MaxDocumentSize
	}
	if opt.Mode != Insert && len(opt.Keys) == 0 {
		return Stats{}, errors.New("upsert needs at least one key field")
	}
	for _, k := range append(slices.Clone(opt.Keys), opt.IDField) {
		if strings.HasPrefix(k, "$") || strings.ContainsAny(k, ".\x00") {
			return Stats{}, fmt.Errorf("bad field name %q: must not start with '$' or contain '.'", k)
		}
	}
	l := &loader{c: c, opt: opt, coll: c.Collection(opt.Collection)}
	l.useInsert = opt.Mode == Insert || !opt.NoIndex || l.keyIsID()
	if opt.Mode != Insert && !opt.NoIndex && !l.keyIsID() {
		if err := l.createIndex(ctx); err != nil {
			return Stats{}, err
		}
	}
	return l.run(ctx, r)
}

type loader struct {
	c         *Client
	opt       LoadOptions
	coll      *mongo.Collection
	useInsert bool // dups detected by the server (an _id or a unique index)
	stats     Stats
	read      atomic.Int64
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
		return fmt.Errorf("%w: creating a unique index on (%s) in %s: %v",
			ErrIndex, strings.Join(l.opt.Keys, ", "), l.opt.Collection, err)
	}
	return nil
}

// ErrIndex is wrapped by Load's error when the unique index on the keys
// cannot be created (e.g. the collection already has duplicate keys).
var ErrIndex = errors.New("no unique index")

// A span is a document in a batch's arena.
type span struct{ off, end int32 }

// batch is a run of parsed lines on their way to the server.
type batch struct {
	arena    []byte
	lines    []int64 // per document
	ins      []span  // the document to insert (with _id)
	upd      []span  // Replace/Merge: the replacement or $set document
	filter   []span  // Replace/Merge: the key filter
	idFilter []span  // Replace/Merge: the key filter and the _id the document would have
	repeat   []bool  // Replace/Merge: key seen earlier in this batch
	seen     map[string]struct{}
	rejects  []LineError
	read     int64
}

func (b *batch) reset() {
	b.arena = b.arena[:0]
	b.lines, b.ins, b.upd, b.filter, b.repeat = b.lines[:0], b.ins[:0], b.upd[:0], b.filter[:0], b.repeat[:0]
	b.idFilter = b.idFilter[:0]
	clear(b.seen)
	b.rejects = b.rejects[:0]
	b.read = 0
}

func (b *batch) doc(s span) bson.Raw { return bson.Raw(b.arena[s.off:s.end:s.end]) }

func (l *loader) run(ctx context.Context, r io.Reader) (Stats, error) {
	batches := make(chan *batch) // unbuffered: a send succeeds when the writer waits
	free := make(chan *batch, 3)
	for range 3 {
		free <- &batch{seen: map[string]struct{}{}}
	}
	stop := make(chan struct{})
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop) }) }
	defer halt() // lets the reading goroutine go, unless blocked in r.Read
	var readErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(batches)
		readErr = l.produce(ctx, r, batches, free, stop)
	}()
	var err error
	for b := range batches {
		if err == nil {
			err = l.write(context.WithoutCancel(ctx), b)
			l.stats.Rejected += int64(len(b.rejects))
			if err != nil {
				halt()
			} else if l.opt.Progress != nil {
				l.opt.Progress(l.stats)
			}
		}
		b.reset()
		free <- b
	}
	wg.Wait()
	l.stats.Read = l.read.Load()
	if err == nil {
		err = readErr
	}
	if err != nil {
		s := &l.stats
		s.Failed = s.Read - s.Inserted - s.Updated - s.Present - s.Rejected
	}
	return l.stats, err
}

// produce reads lines, parses them into batches and hands them to the
// writer: when full, or when the writer is idle.
func (l *loader) produce(ctx context.Context, r io.Reader, batches chan<- *batch, free chan *batch, stop <-chan struct{}) error {
	type chunk struct {
		buf []byte
		err error
	}
	chunks := make(chan chunk)
	bufs := make(chan []byte, 2)
	bufs <- make([]byte, 256<<10)
	bufs <- make([]byte, 256<<10)
	go func() {
		for {
			var buf []byte
			select {
			case buf = <-bufs:
			case <-stop:
				return
			}
			n, err := r.Read(buf)
			select {
			case chunks <- chunk{buf[:n], err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()

	var cur *batch
	get := func() bool {
		select {
		case cur = <-free:
			return true
		case <-stop:
			return false
		}
	}
	if !get() {
		return nil
	}
	send := func() bool {
		select {
		case batches <- cur:
			return get()
		case <-stop:
			return false
		}
	}
	var (
		line    int64
		carry   []byte
		tooLong bool
		scratch []byte
	)
	handle := func(text []byte) bool {
		line++
		if tooLong {
			tooLong = false
			cur.read++
			l.read.Add(1)
			cur.rejects = append(cur.rejects, LineError{line, Rejected,
				fmt.Errorf("line longer than %d bytes", l.opt.MaxLine)})
		} else if len(bytes.TrimSpace(text)) > 0 {
			l.read.Add(1)
			cur.read++
			scratch = l.add(cur, line, text, scratch[:0])
		}
		if len(cur.lines) >= l.opt.Batch || len(cur.rejects) >= l.opt.Batch {
			return send()
		}
		return true
	}
	for {
		var out chan<- *batch
		if len(cur.lines) > 0 || len(cur.rejects) > 0 {
			out = batches
		}
		select {
		case <-stop:
			return nil
		case <-ctx.Done():
			if out != nil {
				send()
			}
			return ctx.Err()
		case out <- cur:
			if !get() {
				return nil
			}
		case ch := <-chunks:
			data := ch.buf
			for len(data) > 0 {
				i := bytes.IndexByte(data, '\n')
				seg := data
				if i >= 0 {
					seg = data[:i]
				}
				if len(carry)+len(seg) > l.opt.MaxLine {
					tooLong = true
					carry = carry[:0]
				} else if !tooLong && (len(carry) > 0 || i < 0) {
					carry = append(carry, seg...)
				}
				if i < 0 {
					break
				}
				data = data[i+1:]
				text := seg
				if len(carry) > 0 {
					text = carry
				}
				ok := handle(text)
				carry = carry[:0]
				if !ok {
					return nil
				}
			}
			bufs <- ch.buf[:cap(ch.buf)]
			if ch.err != nil {
				if (len(carry) > 0 || tooLong) && !handle(carry) {
					return nil
				}
				if (len(cur.lines) > 0 || len(cur.rejects) > 0) && !send() {
					return nil
				}
				if ch.err == io.EOF {
					return nil
				}
				return fmt.Errorf("reading input: %w", ch.err)
			}
		}
	}
}

// add parses one line into b (or records its rejection).
func (l *loader) add(b *batch, line int64, text, scratch []byte) []byte {
	reject := func(err error) []byte {
		b.rejects = append(b.rejects, LineError{line, Rejected, err})
		return scratch
	}
	scratch, err := ParseJSON(scratch, text, Strict)
	if err != nil {
		return reject(err)
	}
	doc := bson.Raw(scratch)
	if len(doc) > MaxDocumentSize {
		return reject(fmt.Errorf("document is %d bytes, over the %d-byte BSON limit", len(doc), MaxDocumentSize))
	}
	id, hasID := lookup(doc, "_id")
	if hasID && id[0] == 0x04 {
		return reject(errors.New("_id is an array, which cannot be an _id"))
	}

	if l.opt.Mode == Insert {
		if f := l.opt.IDField; f != "" {
			v, ok := lookup(doc, f)
			if !ok {
				return reject(fmt.Errorf("no field %q for _id (--id-field)", f))
			}
			if v[0] == 0x04 {
				return reject(fmt.Errorf("field %q is an array, which cannot be an _id", f))
			}
			if hasID && !bytes.Equal(id[4:], v[len(f)+1:]) {
				return reject(fmt.Errorf("_id and %q differ (--id-field)", f))
			}
			if hasID {
				id = nil // already there
			} else {
				id = v
			}
		} else if hasID {
			id = nil
		}
		b.lines = append(b.lines, line)
		if id == nil && !hasID && l.opt.NewIDs {
			oid := bson.NewObjectID()
			id = append([]byte{0x07, 0}, oid[:]...)
		}
		b.ins = append(b.ins, b.appendWithID(id, doc))
		return scratch
	}

	// Replace, Merge.
	fstart := len(b.arena)
	b.arena = append(b.arena, 0, 0, 0, 0)
	for _, k := range l.opt.Keys {
		v, ok := lookup(doc, k)
		if !ok {
			b.arena = b.arena[:fstart]
			return reject(fmt.Errorf("no key field %q", k))
		}
		b.arena = append(b.arena, v...) // type, name, value: an element
	}
	b.arena = append(b.arena, 0)
	binary.LittleEndian.PutUint32(b.arena[fstart:], uint32(len(b.arena)-fstart))
	filter := span{int32(fstart), int32(len(b.arena))}
	key := string(b.arena[fstart+4 : len(b.arena)-1])
	_, repeat := b.seen[key]
	b.seen[key] = struct{}{}

	b.lines = append(b.lines, line)
	b.filter = append(b.filter, filter)
	b.repeat = append(b.repeat, repeat)
	if hasID {
		b.ins = append(b.ins, b.appendWithID(nil, doc))
	} else {
		// The _id of a new record is derived from its key, so that later
		// updates find it by _id: the one field FerretDB looks up through
		// an index (a filter on other fields scans the collection).
		id = append([]byte{0x07, 0}, KeyID(b.arena[fstart+4:filter.end-1])...)
		b.ins = append(b.ins, b.appendWithID(id, doc))
	}
	if l.keyIsID() {
		b.idFilter = append(b.idFilter, filter)
	} else {
		// {_id: id, key fields...}
		s := len(b.arena)
		b.arena = append(b.arena, 0, 0, 0, 0, id[0], '_', 'i', 'd', 0)
		b.arena = append(b.arena, id[bytes.IndexByte(id[1:], 0)+2:]...)
		b.arena = append(b.arena, b.arena[fstart+4:filter.end-1]...)
		b.arena = append(b.arena, 0)
		binary.LittleEndian.PutUint32(b.arena[s:], uint32(len(b.arena)-s))
		b.idFilter = append(b.idFilter, span{int32(s), int32(len(b.arena))})
	}
	if l.opt.Mode == Merge && hasID {
		b.upd = append(b.upd, b.appendWithout(doc, "_id"))
	} else {
		s := len(b.arena)
		b.arena = append(b.arena, doc...)
		b.upd = append(b.upd, span{int32(s), int32(len(b.arena))})
	}
	return scratch
}

// lookup finds a top-level element of doc; it returns the whole element
// (type, name, value).
func lookup(doc bson.Raw, key string) ([]byte, bool) {
	rest := doc[4 : len(doc)-1]
	for len(rest) > 0 {
		t := rest[0]
		k := bytes.IndexByte(rest[1:], 0) + 1
		n, _ := valueLen(t, rest[k+1:])
		el := rest[:k+1+n]
		if string(rest[1:k]) == key {
			return el, true
		}
		rest = rest[len(el):]
	}
	return nil, false
}

// ContentID is the _id given to a document that has none: an ObjectId made
// of the first 12 bytes of the SHA-256 of its BSON (from ParseJSON), so the
// same line always gets the same _id and storing it again is harmless. It is
// not a real ObjectId (no timestamp in it); no JSON value maps to an
// ObjectId, so it cannot be mistaken for data.
func ContentID(doc []byte) []byte {
	h := sha256.Sum256(doc)
	return h[:12]
}

// KeyID is the _id upsert gives a new record: an ObjectId made of the first
// 12 bytes of the SHA-256 of its key fields (their BSON elements), so the
// same key always has the same _id.
func KeyID(keyElems []byte) []byte {
	h := sha256.Sum256(append([]byte("hms-store key\x00"), keyElems...))
	return h[:12]
}

// appendWithID appends doc to the arena with _id first: the value of
// element idFrom (renamed _id), or ContentID when idFrom is nil and doc has
// no _id, or doc as it is when it has one.
func (b *batch) appendWithID(idFrom []byte, doc bson.Raw) span {
	s := len(b.arena)
	if idFrom == nil {
		if _, ok := lookup(doc, "_id"); ok {
			b.arena = append(b.arena, doc...)
			return span{int32(s), int32(len(b.arena))}
		}
	}
	b.arena = append(b.arena, 0, 0, 0, 0)
	if idFrom == nil {
		b.arena = append(b.arena, 0x07, '_', 'i', 'd', 0)
		b.arena = append(b.arena, ContentID(doc)...)
	} else {
		b.arena = append(b.arena, idFrom[0], '_', 'i', 'd', 0)
		b.arena = append(b.arena, idFrom[bytes.IndexByte(idFrom[1:], 0)+2:]...)
	}
	b.arena = append(b.arena, doc[4:]...)
	binary.LittleEndian.PutUint32(b.arena[s:], uint32(len(b.arena)-s))
	return span{int32(s), int32(len(b.arena))}
}

// appendWithout appends doc without its top-level element key.
func (b *batch) appendWithout(doc bson.Raw, key string) span {
	s := len(b.arena)
	b.arena = append(b.arena, 0, 0, 0, 0)
	rest := doc[4 : len(doc)-1]
	for len(rest) > 0 {
		t := rest[0]
		k := bytes.IndexByte(rest[1:], 0) + 1
		n, _ := valueLen(t, rest[k+1:])
		if string(rest[1:k]) != key {
			b.arena = append(b.arena, rest[:k+1+n]...)
		}
		rest = rest[k+1+n:]
	}
	b.arena = append(b.arena, 0)
	binary.LittleEndian.PutUint32(b.arena[s:], uint32(len(b.arena)-s))
	return span{int32(s), int32(len(b.arena))}
}
