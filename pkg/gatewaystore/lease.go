package gatewaystore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/hms-toolkit/hms/pkg/backoff"
)

// LeaseTTL is how long a lease on an object holds when its holder does not
// release it (it crashed, or left it after a database error): others wait
// for it that long at most, then resolve what it left and take over.
const LeaseTTL = 30 * time.Second

// leaseWait is how long Apply waits for an object: long enough for a lease
// to expire.
const leaseWait = LeaseTTL + 5*time.Second

// ErrBusy is returned when another writer held an object for longer than
// LeaseTTL allows; retrying later is the remedy.
var ErrBusy = errors.New("gatewaystore: object busy")

// lease is a held lease: a document {_id, msg, token, until} in Locks. The
// token is new for every lease taken, so a lease (and the records written
// under it) is told apart from every other attempt, even of the same
// message.
type lease struct {
	id    string // what is leased: "collection/oid"
	msg   string // the key of the message worked on under it ("" for none)
	token string
}

// lease takes the lease on id for the message msg, waiting (with backoff)
// while another holds it, for up to patience. A lease that expired, or that
// this Store left behind, is resolved first, then taken over.
func (s *Store) lease(ctx context.Context, id, msg string, patience time.Duration) (lease, error) {
	locks := s.db.Collection(Locks)
	l := lease{id: id, msg: msg, token: newToken()}
	deadline := time.Now().Add(patience)
	wait := backoff.Backoff{Min: 2 * time.Millisecond, Max: 100 * time.Millisecond}
	for {
		// Expiry is on the real clock, which every gateway shares.
		_, err := locks.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "msg", Value: msg},
			{Key: "token", Value: l.token}, {Key: "until", Value: time.Now().Add(LeaseTTL)}})
		if err == nil {
			return l, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return lease{}, err
		}
		held, err := s.get(ctx, Locks, id)
		if err != nil {
			return lease{}, err
		}
		if held != nil {
			old := lease{id: id}
			old.msg, _ = held["msg"].(string)
			old.token, _ = held["token"].(string)
			until, _ := held["until"].(time.Time)
			if s.leftBehind(old) || !until.After(time.Now()) {
				// Its holder is gone. Resolve what it left while the lease
				// still stands (a crash here leaves it to the next taker),
				// then remove that very lease and compete for a new one.
				if err := s.resolve(ctx, old); err != nil {
					return lease{}, err
				}
				if _, err := locks.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "token", Value: old.token}}); err != nil {
					return lease{}, err
				}
				s.forget(old)
				continue
			}
		}
		if time.Now().After(deadline) {
			return lease{}, fmt.Errorf("%w: %s is held by another writer", ErrBusy, id)
		}
		if err := backoff.Sleep(ctx, wait.Next()); err != nil {
			return lease{}, err
		}
	}
}

// release gives l back, also after ctx is cancelled: a lease must not
// outlive its work. A lease whose release fails expires.
func (s *Store) release(ctx context.Context, l lease) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	s.db.Collection(Locks).DeleteOne(ctx, bson.D{{Key: "_id", Value: l.id}, {Key: "token", Value: l.token}})
}

// leave keeps l in place after an error that may have left its claim and
// effect in disagreement. This Store takes it over at once when it comes
// back to the object (its own attempt is over); others after LeaseTTL.
func (s *Store) leave(l lease) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.left == nil {
		s.left = map[string]string{}
	}
	s.left[l.id] = l.token
}

func (s *Store) leftBehind(l lease) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return l.token != "" && s.left[l.id] == l.token
}

func (s *Store) forget(l lease) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.left[l.id] == l.token {
		delete(s.left, l.id)
	}
}

func newToken() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
