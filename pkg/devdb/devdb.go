// Package devdb runs a MongoDB-compatible server inside the current process
// for development and tests: FerretDB v1.24 (pure Go) with its SQLite
// backend, listening on a TCP address and keeping its data in a directory.
//
// No MongoDB server is packaged for the machines hms is developed on; this is
// what tools/hms-devdb, scripts/devdb.sh and the tests start instead.
// FerretDB differs from MongoDB in a few ways that matter to hms (see
// docs/hms-store.md): no Decimal128, no arrays directly inside arrays, slow
// updates, and unique-index violations on the update path reported with
// code 1 instead of 11000.
package devdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Server is a running FerretDB.
type Server struct {
	addr   string
	dir    string
	uri    string
	cancel context.CancelFunc
	done   chan error
}

// Options say where a Server listens and keeps its data.
type Options struct {
	// Addr is the TCP address to listen on, e.g. "127.0.0.1:27017";
	// "127.0.0.1:0" picks a free port (see Server.Addr).
	Addr string
	// Dir is the data directory (created if missing); one SQLite file per
	// database.
	Dir string
	// Logger receives FerretDB's logs; nil discards them.
	Logger *slog.Logger
}

// Start starts a server and returns once it accepts connections.
// Stop it with Stop.
func Start(opts Options) (*Server, error) {
	if opts.Addr == "" {
		return nil, errors.New("devdb: no listen address")
	}
	if opts.Dir == "" {
		return nil, errors.New("devdb: no data directory")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("devdb: %w", err)
	}
	// Fail early with the usual message when the port is taken: FerretDB's
	// own listener would only log it.
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("devdb: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()

	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
	})
	if err != nil {
		return nil, fmt.Errorf("devdb: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{addr: addr, dir: dir, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- f.Run(ctx) }()
	// MongoDBURI waits until the listener is up.
	s.uri = f.MongoDBURI()
	if err := waitDial(addr, 10*time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("devdb: server did not come up on %s: %w", addr, err)
	}
	return s, nil
}

func waitDial(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond) // polling a listener, not waiting for an effect
	}
}

// URI is the MongoDB connection string of the server, e.g.
// "mongodb://127.0.0.1:27017/".
func (s *Server) URI() string { return s.uri }

// Addr is the address the server listens on (the real port when Options.Addr
// asked for port 0), suitable for starting it again on the same address.
func (s *Server) Addr() string { return s.addr }

// Dir is the absolute data directory.
func (s *Server) Dir() string { return s.dir }

// Stop closes the listener and all connections and waits until the server
// has shut down. It is safe to call more than once.
func (s *Server) Stop() error {
	s.cancel()
	err, ok := <-s.done
	if ok {
		close(s.done)
	}
	return err
}
