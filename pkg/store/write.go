package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// write settles one batch: every document is counted once as inserted,
// updated, present or failed. It returns an error only when the load must
// stop.
func (l *loader) write(ctx context.Context, b *batch) error {
	var fails []LineError
	fail := func(i int, err error) {
		fails = append(fails, LineError{b.lines[i], Failed, err})
		l.stats.Failed++
	}
	defer func() {
		all := append(b.rejects, fails...)
		slices.SortFunc(all, func(x, y LineError) int { return int(x.Line - y.Line) })
		if l.opt.Report != nil {
			for _, e := range all {
				l.opt.Report(e)
			}
		}
	}()

	// Phase 1: unordered bulk insert. Duplicates are "present" (Insert) or
	// go on to phase 2 (Replace, Merge).
	var again []int // Replace/Merge: indexes for phase 2, in line order
	var pending []int
	for i := range b.lines {
		if l.opt.Mode != Insert && (b.repeat[i] || !l.useInsert) {
			continue
		}
		pending = append(pending, i)
	}
	// In _id order, the server's _id index is written in one sweep
	// instead of at random places (content ids are random): on FerretDB
	// this makes inserts up to twice as fast. Unordered inserts allow any
	// order; the stable sort keeps the first of equal _ids first.
	ids := make([][]byte, len(b.lines))
	for _, i := range pending {
		ids[i], _ = lookup(b.doc(b.ins[i]), "_id") // type, "_id", value
	}
	slices.SortStableFunc(pending, func(x, y int) int { return bytes.Compare(ids[x], ids[y]) })
	docs := make([]any, 0, len(pending))
	err := l.c.Retry(ctx, func(ctx context.Context) error {
		if len(pending) == 0 {
			return nil
		}
		docs = docs[:0]
		for _, i := range pending {
			docs = append(docs, b.doc(b.ins[i]))
		}
		_, err := l.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		var bwe mongo.BulkWriteException
		if err != nil && (!errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0) {
			return err // retried if transient
		}
		bad := make(map[int]mongo.BulkWriteError, len(bwe.WriteErrors))
		for _, we := range bwe.WriteErrors {
			bad[we.Index] = we
		}
		var retry []int
		var transient error
		for j, i := range pending {
			we, isBad := bad[j]
			switch {
			case !isBad:
				l.stats.Inserted++
			case isDuplicate(we.WriteError):
				if l.opt.Mode == Insert {
					l.stats.Present++
				} else {
					again = append(again, i)
				}
			case IsTransient(we.WriteError):
				retry = append(retry, i)
				transient = we.WriteError
			default:
				fail(i, serverRefused(we.WriteError))
			}
		}
		pending = retry
		return transient // try those again
	}, l.opt.OnRetry)
	if err != nil {
		return l.stopped(err)
	}
	if l.opt.Mode == Insert {
		return nil
	}

	// Phase 2: upserts by key, in line order, for keys that exist and for
	// keys repeated in the batch.
	for i := range b.lines {
		if b.repeat[i] || !l.useInsert {
			again = append(again, i)
		}
	}
	slices.Sort(again)
	return l.update(ctx, b, again, fail)
}

// update writes ops (indexes into b, keys that exist) by _id: one ordered
// bulk write of updates filtered on the _id the record has when hms-store
// made it, plus its key, without upsert. That is fast on every server.
// Records another writer made (another _id) do not match; those, and any
// that failed, go through upsert, filtered on the key alone. Updates are
// idempotent, so applying one twice is harmless.
func (l *loader) update(ctx context.Context, b *batch, ops []int, fail func(int, error)) error {
	if len(ops) == 0 {
		return nil
	}
	count := func(res *mongo.BulkWriteResult) {
		l.stats.Updated += res.ModifiedCount
		l.stats.Present += res.MatchedCount - res.ModifiedCount
	}
	write := func(ops []int) (*mongo.BulkWriteResult, error) {
		models := make([]mongo.WriteModel, 0, len(ops))
		for _, i := range ops {
			models = append(models, l.model(b, i, b.idFilter[i], false))
		}
		var res *mongo.BulkWriteResult
		err := l.c.Retry(ctx, func(ctx context.Context) error {
			var err error
			res, err = l.coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(true))
			return err
		}, l.opt.OnRetry)
		return res, err
	}
	stop := func(err error) bool {
		return errors.Is(err, ErrGaveUp) || errors.Is(err, context.Canceled) || IsTransient(err)
	}
	res, err := write(ops)
	if err == nil && res.MatchedCount == int64(len(ops)) {
		count(res)
		return nil
	}
	if err != nil && stop(err) {
		return l.stopped(err)
	}
	// Find out which: one at a time.
	var rest []int
	for _, i := range ops {
		res, err := write([]int{i})
		switch {
		case err != nil && stop(err):
			return l.stopped(err)
		case err != nil || res.MatchedCount == 0:
			rest = append(rest, i)
		default:
			count(res)
		}
	}
	return l.upsert(ctx, b, rest, fail)
}

// upsert writes ops (indexes into b) as one ordered bulk write, resuming
// after a document the server refuses. MongoDB reports such a document by
// its index; FerretDB may fail the whole command instead, and then the
// rest are written one by one (upserts are idempotent, so writing again
// the ones that were done is harmless).
func (l *loader) upsert(ctx context.Context, b *batch, ops []int, fail func(int, error)) error {
	retried := map[int]bool{}
	oneByOne := false
	for len(ops) > 0 {
		n := len(ops)
		if oneByOne {
			n = 1
		}
		models := make([]mongo.WriteModel, 0, n)
		for _, i := range ops[:n] {
			models = append(models, l.model(b, i, b.filter[i], true))
		}
		var res *mongo.BulkWriteResult
		err := l.c.Retry(ctx, func(ctx context.Context) error {
			var err error
			res, err = l.coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(true))
			return err
		}, l.opt.OnRetry)
		if res != nil {
			l.stats.Inserted += res.UpsertedCount
			l.stats.Updated += res.ModifiedCount
			l.stats.Present += res.MatchedCount - res.ModifiedCount
		}
		if err == nil {
			ops = ops[n:]
			continue
		}
		var bwe mongo.BulkWriteException
		if errors.As(err, &bwe) && bwe.WriteConcernError == nil && len(bwe.WriteErrors) == 1 {
			k := bwe.WriteErrors[0].Index
			i := ops[k]
			we := bwe.WriteErrors[0].WriteError
			if isDuplicate(we) && !retried[i] {
				// A concurrent writer inserted the key first: now it matches.
				retried[i] = true
				ops = ops[k:]
			} else {
				fail(i, serverRefused(we))
				ops = ops[k+1:]
			}
			continue
		}
		if IsTransient(err) || errors.Is(err, ErrGaveUp) || errors.Is(err, context.Canceled) {
			return l.stopped(err)
		}
		// A command error for the whole bulk write.
		if !oneByOne {
			oneByOne = true
			continue
		}
		i := ops[0]
		if isDuplicate(err) && !retried[i] {
			retried[i] = true
			continue
		}
		fail(i, serverRefused(err))
		ops = ops[1:]
	}
	return nil
}

func (l *loader) model(b *batch, i int, filter span, upsert bool) mongo.WriteModel {
	f := b.doc(filter)
	doc := b.doc(b.upd[i])
	if l.opt.Mode == Replace {
		return mongo.NewReplaceOneModel().SetFilter(f).SetReplacement(doc).SetUpsert(upsert)
	}
	return mongo.NewUpdateOneModel().SetFilter(f).
		SetUpdate(bson.D{{Key: "$set", Value: doc}}).SetUpsert(upsert)
}

// stopped wraps the error that ends a load.
func (l *loader) stopped(err error) error {
	if errors.Is(err, ErrGaveUp) {
		return err
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
