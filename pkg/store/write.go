package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hms-toolkit/hms/pkg/jsonbson"
)

// write settles the documents of one batch: each is counted once as
// inserted, updated, present or failed. It returns an error only when the
// load must stop; the documents not settled then are still pending.
func (l *loader) write(ctx context.Context, b *batch) error {
	again, err := l.insertRounds(ctx, b)
	if err != nil || l.opt.Mode == Insert {
		return err
	}
	// Phase 2: updates, in line order, for keys that exist and for keys
	// repeated in the batch.
	for i := range b.lines {
		if b.fates[i] == pending && (b.repeat[i] || !l.useInsert) {
			again = append(again, i)
		}
	}
	slices.Sort(again)
	return l.update(ctx, b, again)
}

// insertRounds is phase 1: unordered bulk inserts. A document whose _id
// (Insert) equals an earlier one's in the batch waits: it is already
// present once that one is stored, and takes its place in another round if
// the server refused it — the first line with an id wins. For Replace and
// Merge, documents whose key exists are returned, for phase 2.
func (l *loader) insertRounds(ctx context.Context, b *batch) (again []int, err error) {
	var round, waiting []int
	for i := range b.lines {
		switch {
		case l.opt.Mode != Insert && (b.repeat[i] || !l.useInsert):
		case b.dupOf[i] >= 0:
			waiting = append(waiting, i)
		default:
			round = append(round, i)
		}
	}
	for len(round) > 0 {
		a, err := l.insertMany(ctx, b, round)
		again = append(again, a...)
		if err != nil {
			return again, err
		}
		round, waiting = l.nextRound(b, waiting)
	}
	return again, nil
}

// nextRound settles the documents waiting for an earlier one with an equal
// _id, now written: present if it is stored; the first of each group whose
// earlier one failed goes in the next round.
func (l *loader) nextRound(b *batch, waiting []int) (round, still []int) {
	next := map[int]int{} // first of a group → its new first
	for _, i := range waiting {
		j := b.dupOf[i]
		if r, ok := next[j]; ok {
			b.dupOf[i] = r
			still = append(still, i)
			continue
		}
		if b.fates[j] == stored {
			l.settle(b, i, &l.stats.Present)
			continue
		}
		next[j] = i
		b.dupOf[i] = -1
		round = append(round, i)
	}
	return round, still
}

// insertMany writes the documents pending of b as unordered bulk inserts,
// in _id order: the server's _id index is then written in one sweep instead
// of at random places (content ids are random), which makes inserts up to
// twice as fast on FerretDB.
func (l *loader) insertMany(ctx context.Context, b *batch, pending []int) (again []int, err error) {
	ids := make([][]byte, len(b.lines))
	for _, i := range pending {
		ids[i], _ = jsonbson.Lookup(b.doc(b.ins[i]), "_id")
	}
	pending = slices.Clone(pending)
	slices.SortStableFunc(pending, func(x, y int) int { return bytes.Compare(ids[x], ids[y]) })
	docs := make([]any, 0, len(pending))
	err = l.call(ctx, b, pending, "insert", func(ctx context.Context) error {
		docs = docs[:0]
		for _, i := range pending {
			docs = append(docs, b.doc(b.ins[i]))
		}
		_, err := l.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		var bwe mongo.BulkWriteException
		if err != nil && (!errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0) {
			return err // retried if transient
		}
		var a []int
		pending, a, err = l.settleInserts(b, pending, bwe.WriteErrors)
		again = append(again, a...)
		l.inflight = pending
		return err // transient: try those again
	})
	return again, l.stopped(err)
}

// settleInserts settles the documents of an insert by the server's write
// errors: those with a transient error are returned to retry; for Replace
// and Merge, those whose key exists are returned for phase 2.
func (l *loader) settleInserts(b *batch, sent []int, errs []mongo.BulkWriteError) (retry, again []int, transient error) {
	bad := make(map[int]mongo.BulkWriteError, len(errs))
	for _, we := range errs {
		bad[we.Index] = we
	}
	for j, i := range sent {
		we, isBad := bad[j]
		switch {
		case !isBad:
			l.settle(b, i, &l.stats.Inserted)
		case isDuplicate(we.WriteError) && l.opt.Mode == Insert:
			l.settle(b, i, &l.stats.Present)
		case isDuplicate(we.WriteError):
			again = append(again, i)
		case IsTransient(we.WriteError):
			retry = append(retry, i)
			transient = we.WriteError
		default:
			l.fail(b, i, serverRefused(we.WriteError))
		}
	}
	return retry, again, transient
}

// update writes ops (indexes into b, keys that exist) by _id, in writes of
// l.step documents: ordered bulk writes of updates filtered on the _id the
// record has when hms-store made it, plus its key, without upsert. That is
// fast on every server. Records another writer made (another _id) do not
// match; those go through upsert, filtered on the key alone. Updates are
// idempotent, so applying one twice is harmless.
func (l *loader) update(ctx context.Context, b *batch, ops []int) error {
	var rest []int
	for len(ops) > 0 {
		n := min(l.step, len(ops))
		missed, err := l.updateByID(ctx, b, ops[:n])
		if err != nil {
			return err
		}
		rest = append(rest, missed...)
		ops = ops[n:]
	}
	return l.upsert(ctx, b, rest)
}

// updateByID writes ops by _id and returns those that matched nothing.
func (l *loader) updateByID(ctx context.Context, b *batch, ops []int) (missed []int, err error) {
	write := func(ops []int) (*mongo.BulkWriteResult, error) { return l.bulkWrite(ctx, b, ops, false) }
	res, err := write(ops)
	if err == nil && res.MatchedCount == int64(len(ops)) {
		l.count(b, ops, res)
		return nil, nil
	}
	if err != nil && mustStop(err) {
		return nil, l.stopped(err)
	}
	// Find out which: one at a time.
	for _, i := range ops {
		res, err := write([]int{i})
		switch {
		case err != nil && mustStop(err):
			return nil, l.stopped(err)
		case err != nil || res.MatchedCount == 0:
			missed = append(missed, i)
		default:
			l.count(b, []int{i}, res)
		}
	}
	return missed, nil
}

// mustStop reports whether err from a write means the load cannot go on.
func mustStop(err error) bool {
	return errors.Is(err, ErrGaveUp) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) || IsTransient(err)
}

// count settles ops, all matched by a bulk write with result res.
func (l *loader) count(b *batch, ops []int, res *mongo.BulkWriteResult) {
	for _, i := range ops {
		b.fates[i] = stored
	}
	l.stats.Updated += res.ModifiedCount + res.UpsertedCount
	l.stats.Present += res.MatchedCount - res.ModifiedCount
}

// upsert writes ops (indexes into b) as ordered bulk writes of l.step
// upserts filtered on the key, resuming after a document the server
// refuses. MongoDB reports such a document by its index; FerretDB may fail
// the whole command instead, and then the rest are written one by one
// (upserts are idempotent, so writing again the ones that were done is
// harmless).
func (l *loader) upsert(ctx context.Context, b *batch, ops []int) error {
	retried := map[int]bool{}
	oneByOne := false
	for len(ops) > 0 {
		n := min(len(ops), l.step)
		if oneByOne {
			n = 1
		}
		done, err := l.upsertSome(ctx, b, ops[:n])
		ops = ops[done:]
		var bwe mongo.BulkWriteException
		switch {
		case err == nil:
		case errors.As(err, &bwe) && bwe.WriteConcernError == nil && len(bwe.WriteErrors) == 1:
			i, we := ops[0], bwe.WriteErrors[0].WriteError
			if isDuplicate(we) && !retried[i] {
				retried[i] = true // a concurrent writer inserted the key first: now it matches
			} else {
				l.fail(b, i, serverRefused(we))
				ops = ops[1:]
			}
		case mustStop(err):
			return l.stopped(err)
		case !oneByOne:
			oneByOne = true // a command error for the whole bulk write
		case isDuplicate(err) && !retried[ops[0]]:
			retried[ops[0]] = true
		default:
			l.fail(b, ops[0], serverRefused(err))
			ops = ops[1:]
		}
	}
	return nil
}

// upsertSome writes ops as one ordered bulk write of upserts and returns
// how many of them, from the first, are settled (all of them, or those
// before the one a bulk write error names).
func (l *loader) upsertSome(ctx context.Context, b *batch, ops []int) (int, error) {
	res, err := l.bulkWrite(ctx, b, ops, true)
	done := 0
	var bwe mongo.BulkWriteException
	switch {
	case err == nil:
		done = len(ops)
	case errors.As(err, &bwe) && bwe.WriteConcernError == nil && len(bwe.WriteErrors) == 1:
		done = bwe.WriteErrors[0].Index
	}
	for _, i := range ops[:done] {
		b.fates[i] = stored
	}
	if res != nil && done > 0 { // (after a command error, nothing counts)
		l.stats.Inserted += res.UpsertedCount
		l.stats.Updated += res.ModifiedCount
		l.stats.Present += res.MatchedCount - res.ModifiedCount
	}
	return done, err
}

// bulkWrite writes ops as one ordered bulk write: updates filtered on the
// _id and key (upsert false), or upserts filtered on the key.
func (l *loader) bulkWrite(ctx context.Context, b *batch, ops []int, upsert bool) (*mongo.BulkWriteResult, error) {
	models := make([]mongo.WriteModel, 0, len(ops))
	for _, i := range ops {
		models = append(models, l.model(b, i, upsert))
	}
	kind := "update"
	if upsert {
		kind = "upsert"
	}
	var res *mongo.BulkWriteResult
	err := l.call(ctx, b, ops, kind, func(ctx context.Context) error {
		var err error
		res, err = l.coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(true))
		return err
	})
	return res, err
}

func (l *loader) model(b *batch, i int, upsert bool) mongo.WriteModel {
	f := b.doc(b.idFilter[i])
	if upsert {
		f = b.doc(b.filter[i])
	}
	doc := b.doc(b.upd[i])
	if l.opt.Mode == Replace {
		return mongo.NewReplaceOneModel().SetFilter(f).SetReplacement(doc).SetUpsert(upsert)
	}
	return mongo.NewUpdateOneModel().SetFilter(f).
		SetUpdate(bson.D{{Key: "$set", Value: doc}}).SetUpsert(upsert)
}

// call runs one write of the documents idx of b to the server, retried
// (Client.Retry): it marks them in flight, keeps the meter up to date,
// tells of a slow write, and fits the size of update writes to the time
// they take.
func (l *loader) call(ctx context.Context, b *batch, idx []int, kind string, op func(context.Context) error) error {
	l.inflight = idx
	start := time.Now()
	m := l.opt.Meter
	m.since.Store(start.UnixNano())
	notice := l.watchSlow(b, idx, kind, start)
	err := l.c.Retry(ctx, op, l.opt.OnRetry)
	took := time.Since(start)
	notice(took)
	m.since.Store(0)
	m.written.Store(l.stats.Stored())
	if err == nil {
		l.inflight = nil
	}
	if kind != "insert" {
		switch {
		case took > time.Second && l.step > 1:
			l.step /= 2
		case took < time.Second/4 && len(idx) >= l.step:
			l.step = min(2*l.step, l.opt.Batch)
		}
	}
	return err
}

// settle counts document i of b as stored, in counter.
func (l *loader) settle(b *batch, i int, counter *int64) {
	b.fates[i] = stored
	*counter++
}

// fail counts document i of b as refused by the server.
func (l *loader) fail(b *batch, i int, err error) {
	b.fates[i] = failed
	b.errs[i] = err
	l.stats.Failed++
}

// abandon settles the documents of b still pending as not stored: cut
// short if they were in the write in flight, else not written.
func (l *loader) abandon(b *batch) {
	inflight := map[int]bool{}
	for _, i := range l.inflight {
		inflight[i] = true
	}
	l.inflight = nil
	s := &l.stats
	for i, f := range b.fates {
		if f != pending {
			continue
		}
		b.fates[i], b.errs[i] = notWritten, errNotWritten
		if inflight[i] {
			b.fates[i], b.errs[i] = cutShort, errCutShort
			s.MaybeStored++
		}
		s.NotStored++
		if s.FirstNotStored == 0 || b.lines[i] < s.FirstNotStored {
			s.FirstNotStored = b.lines[i]
		}
	}
}

var (
	errNotWritten = errors.New("not stored: the load stopped before it was written")
	errCutShort   = errors.New("not stored: the write was cut short, it may be stored")
)

// report tells opt.Report of the lines of b that were not stored, in line
// order.
func (l *loader) report(b *batch) {
	if l.opt.Report == nil {
		return
	}
	all := make([]LineError, 0, len(b.rejects))
	for k, e := range b.rejects {
		if b.keepText {
			e.Text = b.textOf(b.rejText[k])
		}
		all = append(all, e)
	}
	for i, f := range b.fates {
		if f == stored {
			continue
		}
		e := LineError{Line: b.lines[i], Outcome: Failed, Err: b.errs[i]}
		if f != failed {
			e.Outcome = NotStored
		}
		if b.keepText {
			e.Text = b.textOf(b.texts[i])
		}
		all = append(all, e)
	}
	slices.SortFunc(all, func(x, y LineError) int { return int(x.Line - y.Line) })
	for _, e := range all {
		l.opt.Report(e)
	}
}

// ErrNamespace is wrapped by Load's error when the server refuses the name
// of the collection.
var ErrNamespace = errors.New("the server refuses the collection name")

// stopped wraps the error that ends a load.
func (l *loader) stopped(err error) error {
	var se mongo.ServerError
	switch {
	case err == nil || errors.Is(err, ErrGaveUp):
		return err
	case errors.As(err, &se) && se.HasErrorCode(73): // InvalidNamespace
		return fmt.Errorf("%w %q: %v", ErrNamespace, l.opt.Collection, serverRefused(err))
	}
	return fmt.Errorf("writing to %s: %w", l.opt.Collection, err)
}

// isDuplicate reports whether err is a duplicate-key error: code 11000 on
// MongoDB and FerretDB inserts; FerretDB's update path reports a unique
// index violation as code 1 (InternalError) with SQLite's message.
func isDuplicate(err error) bool {
	if mongo.IsDuplicateKeyError(err) {
		return true
	}
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(1) &&
		strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// serverRefused makes a short message of a server's error for one document.
func serverRefused(err error) error {
	msg := err.Error()
	var we mongo.WriteError
	if errors.As(err, &we) {
		msg = we.Message
	}
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		msg = ce.Message
		// FerretDB prefixes internal errors with a Go call trace.
		if i := strings.LastIndex(msg, "] "); i >= 0 && strings.HasPrefix(msg, "[") {
			msg = msg[i+2:]
		}
	}
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return fmt.Errorf("server refused the document: %s", msg)
}
