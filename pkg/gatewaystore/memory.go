package gatewaystore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hms-toolkit/hms/pkg/gateway"
)

// Fields of a record in AppliedIDs (and, for fieldLease, in Deleted).
const (
	fieldSig   = "signature"
	fieldTS    = "ts"    // the message's signing time; absent for the legacy scheme
	fieldLease = "lease" // the token of the lease the message was applied under
	fieldOp    = "operation"
)

// remembered looks the message up in the memory: known is set when it
// took effect before (out is then "already applied") or when its identity
// belongs to another message (out refuses it).
func (a *attempt) remembered(ctx context.Context) (out Outcome, known bool, err error) {
	prev, err := a.get(ctx, AppliedIDs, a.key)
	if err != nil || prev == nil {
		return Outcome{}, false, err
	}
	if prev[fieldSig] == a.m.Signature {
		return Outcome{Result: AlreadyApplied}, true, nil
	}
	return reused(a.m, prev), true, nil
}

// claim inserts the attempt's record into AppliedIDs, before its effect.
// ok is false when it may not go on: out then says why.
func (a *attempt) claim(ctx context.Context) (out Outcome, ok bool, err error) {
	rec := a.record()
	for range maxConflicts {
		a.claimed = true
		_, err := a.db.Collection(AppliedIDs).InsertOne(ctx, rec)
		if err == nil {
			break
		}
		if !mongo.IsDuplicateKeyError(err) {
			return Outcome{}, false, err
		}
		// Claimed meanwhile by another message of the same identity (on
		// another object: this one is leased).
		a.claimed = false
		if out, known, err := a.remembered(ctx); err != nil || known {
			return out, false, err
		}
	}
	if !a.claimed {
		return Outcome{}, false, fmt.Errorf("gatewaystore: the record of %s came and went %d times in a row", a.key, maxConflicts)
	}
	if err := a.after("claim"); err != nil {
		return Outcome{}, false, err
	}
	// The horizon, read after the claim: Prune moves it before it deletes
	// records, so a claim made possible by a pruned record always sees the
	// horizon that pruned it.
	h, err := a.horizon(ctx)
	if err != nil {
		return Outcome{}, false, err
	}
	if reason := a.beforeHorizon(h); reason != "" {
		out, err := a.withdraw(ctx, refused("%s", reason))
		return out, false, err
	}
	return Outcome{}, true, nil
}

// record is the attempt's record in AppliedIDs.
func (a *attempt) record() bson.D {
	rec := bson.D{{Key: "_id", Value: a.key}}
	if a.m.KID != "" {
		rec = append(rec, bson.E{Key: "kid", Value: a.m.KID})
	}
	rec = append(rec, bson.E{Key: "id", Value: a.m.ID}, bson.E{Key: fieldSig, Value: a.m.Signature})
	if !a.m.TS.IsZero() {
		rec = append(rec, bson.E{Key: fieldTS, Value: a.m.TS})
	}
	return append(rec,
		bson.E{Key: fieldOp, Value: string(a.req.Operation)}, bson.E{Key: "collection", Value: a.req.Target.Collection()},
		bson.E{Key: "oid", Value: a.req.OID}, bson.E{Key: fieldLease, Value: a.lease.token}, bson.E{Key: "time", Value: a.now()})
}

// reused is the refusal of a message whose identity another message (prev,
// another signature) has: only the key's holder can sign one, and ids are
// used once.
func reused(m gateway.MessageID, prev map[string]any) Outcome {
	what := fmt.Sprintf("%v %s %v", prev[fieldOp], prev["collection"], prev["oid"])
	if m.KID == "" {
		return refused("id %s was used by another message (%s)", m.ID, what)
	}
	return refused("id reused: key %s already signed another message with id %s (%s); an id is used once", m.KID, m.ID, what)
}

// unclaim deletes the record key if it still carries the lease token.
func (s *Store) unclaim(ctx context.Context, key, token string) error {
	_, err := s.db.Collection(AppliedIDs).DeleteOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: fieldLease, Value: token}})
	return err
}

// resolve settles what a lease left behind (see the package doc): the
// message's claim stays if its effect was made, else the claim and a
// half-made archive record go.
func (s *Store) resolve(ctx context.Context, l lease) error {
	if l.msg == "" {
		return nil
	}
	rec, err := s.get(ctx, AppliedIDs, l.msg)
	if err != nil || rec == nil || rec[fieldLease] != l.token {
		return err // nothing claimed under that lease
	}
	coll, _ := rec["collection"].(string)
	oid, _ := rec["oid"].(string)
	cur, err := s.get(ctx, coll, oid)
	if err != nil {
		return err
	}
	if rec[fieldOp] == string(gateway.Delete) {
		arch, err := s.get(ctx, Deleted, l.msg)
		if err != nil {
			return err
		}
		archived := arch != nil && arch[fieldLease] == l.token
		if cur == nil && archived {
			return nil // deleted
		}
		if archived {
			if _, err := s.db.Collection(Deleted).DeleteOne(ctx, bson.D{{Key: "_id", Value: l.msg}, {Key: fieldLease, Value: l.token}}); err != nil {
				return err
			}
		}
	} else if cur != nil && cur[fieldRev] == l.msg {
		return nil // written
	}
	return s.unclaim(ctx, l.msg, l.token)
}

// ageRejection says why m is refused for its age under MaxAge ("" when it
// is not). Legacy messages carry no time and are not judged.
func (s *Store) ageRejection(m gateway.MessageID) string {
	if s.MaxAge <= 0 || m.TS.IsZero() {
		return ""
	}
	now := s.now()
	// Comparisons of times, not a subtraction: no overflow for any ts.
	if m.TS.Before(now.Add(-s.MaxAge)) {
		return fmt.Sprintf("too-old: signed at %s, more than the maximum age %v ago", m.TS.Format(time.RFC3339), s.MaxAge)
	}
	if m.TS.After(now.Add(s.MaxAge)) {
		return fmt.Sprintf("future: signed at %s, more than the maximum age %v ahead", m.TS.Format(time.RFC3339), s.MaxAge)
	}
	return ""
}

const horizonID = "applied"

// horizon reads the time before which the memory may have been pruned (the
// zero time when it never was).
func (s *Store) horizon(ctx context.Context) (time.Time, error) {
	doc, err := s.get(ctx, Horizon, horizonID)
	if err != nil || doc == nil {
		return time.Time{}, err
	}
	t, _ := doc["before"].(time.Time)
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.After(s.seen) {
		s.seen = t
	}
	return t, nil
}

// seenHorizon is the latest horizon this Store read: the horizon only
// moves forward, so a message signed before it is refused without a look.
func (s *Store) seenHorizon() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen
}

// beforeHorizon says why the attempt's message, signed before the horizon
// h, is refused ("" when it is not). Legacy records are never pruned.
func (a *attempt) beforeHorizon(h time.Time) string {
	if a.m.TS.IsZero() || !a.m.TS.Before(h) {
		return ""
	}
	return fmt.Sprintf("too-old: signed at %s, before %s, the horizon of the gateway's memory (older messages are no longer remembered, so none is applied)",
		a.m.TS.Format(time.RFC3339), h.Format(time.RFC3339))
}

// Prune forgets the messages signed more than MaxAge ago: it moves the
// horizon to now - MaxAge (never back) and deletes their records. Apply
// refuses every message signed before the horizon, so a pruned record
// never lets a replay through, whatever MaxAge other gateways use. Prune
// does nothing when MaxAge is not set, or when the horizon is less than
// MaxAge/16 behind (so a gateway may call it once per batch). Records of
// the legacy scheme (which has no signing time) are never pruned.
func (s *Store) Prune(ctx context.Context) (pruned int64, err error) {
	if s.MaxAge <= 0 {
		return 0, nil
	}
	before := s.now().Add(-s.MaxAge).Truncate(time.Millisecond) // as stored: records are cut to the millisecond too
	h, err := s.horizon(ctx)
	if err != nil || h.After(before.Add(-s.MaxAge/16)) {
		return 0, err
	}
	// One pruner at a time, so that the horizon never moves back; while
	// another gateway prunes, this one goes on with its messages.
	l, err := s.lease(ctx, Horizon+"/"+horizonID, "", 0)
	if errors.Is(err, ErrBusy) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer s.release(ctx, l)
	if h, err = s.horizon(ctx); err != nil {
		return 0, err
	}
	if before.After(h) {
		_, err := s.db.Collection(Horizon).ReplaceOne(ctx, bson.D{{Key: "_id", Value: horizonID}},
			bson.D{{Key: "_id", Value: horizonID}, {Key: "before", Value: before}}, options.Replace().SetUpsert(true))
		if err != nil {
			return 0, err
		}
		h = before
	}
	res, err := s.db.Collection(AppliedIDs).DeleteMany(ctx, bson.D{{Key: fieldTS, Value: bson.D{{Key: "$lt", Value: h}}}})
	if err != nil {
		return 0, err
	}
	return res.DeletedCount, nil
}
