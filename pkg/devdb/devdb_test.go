package devdb

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// A server stopped and started again on the same address and directory
// keeps its data, and clients reconnect.
func TestRestartKeepsData(t *testing.T) {
	s, err := Start(Options{Addr: "127.0.0.1:0", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(s.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	coll := c.Database("devdb").Collection("c")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	s2, err := Start(Options{Addr: s.Addr(), Dir: s.Dir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Stop()
	if s2.URI() != s.URI() {
		t.Errorf("URI changed across restart: %s, then %s", s.URI(), s2.URI())
	}
	n, err := coll.CountDocuments(ctx, bson.D{})
	if err != nil || n != 1 {
		t.Fatalf("after restart: count %d, %v; want 1", n, err)
	}
}

func TestStartErrors(t *testing.T) {
	if _, err := Start(Options{Dir: t.TempDir()}); err == nil {
		t.Error("no address: no error")
	}
	s, err := Start(Options{Addr: "127.0.0.1:0", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if _, err := Start(Options{Addr: s.Addr(), Dir: t.TempDir()}); err == nil {
		t.Error("address in use: no error")
	}
}
