// Package devdbtest gives tests a MongoDB to talk to: the server named by
// HMS_TEST_MONGODB_URI when that is set (a real MongoDB), otherwise one
// in-process dev server (package devdb) per test binary, started on first
// use with a fresh temporary data directory ($TMPDIR/hms-devdbtest.pid<PID>,
// removed by a later test run once the process is gone). Each test gets its own
// database (DB), dropped when the test ends.
//
//	uri, db := devdbtest.URI(t), devdbtest.DB(t)
//
// A test that needs a server fails when none can be had; it never skips.
package devdbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hms-toolkit/hms/pkg/devdb"
)

// EnvURI names the environment variable that selects a real MongoDB.
const EnvURI = "HMS_TEST_MONGODB_URI"

var shared struct {
	once sync.Once
	uri  string
	err  error
}

// SharedURI returns the URI of the test server: $HMS_TEST_MONGODB_URI, or
// the in-process dev server, started on the first call. It is for harnesses
// that have no testing.TB (testscript setups); tests use URI.
func SharedURI() (string, error) {
	shared.once.Do(func() {
		if u := os.Getenv(EnvURI); u != "" {
			shared.uri = u
			return
		}
		// The server lives as long as the test binary, which has no exit
		// hook: its directory is named after the process, and directories
		// of processes that are gone are removed here.
		removeStale()
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("%s%d", dirPrefix, os.Getpid()))
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			shared.err = err
			return
		}
		s, err := devdb.Start(devdb.Options{Addr: "127.0.0.1:0", Dir: dir})
		if err != nil {
			shared.err = fmt.Errorf("starting the dev MongoDB (FerretDB): %w", err)
			return
		}
		shared.uri = s.URI()
	})
	return shared.uri, shared.err
}

const dirPrefix = "hms-devdbtest.pid"

// removeStale removes the data directories of shared test servers whose
// process has ended.
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), dirPrefix))
		if err != nil || pid <= 0 {
			continue // not ours
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(d)
		}
	}
}

// URI returns the URI of the test server (see SharedURI), failing t if the
// server cannot be started.
func URI(t testing.TB) string {
	t.Helper()
	u, err := SharedURI()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Name returns a fresh database name built from base: letters, digits and
// '_' only, at most 39 characters, unique to this call.
func Name(base string) string {
	var b strings.Builder
	for _, r := range base {
		if b.Len() >= 24 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	return "t_" + b.String() + "_" + hex.EncodeToString(rnd[:])
}

// DB returns a database name unique to this test and drops that database
// when the test ends.
func DB(t testing.TB) string {
	t.Helper()
	name := Name(t.Name())
	uri := URI(t)
	t.Cleanup(func() { Drop(uri, name) })
	return name
}

// Drop drops database name on the server at uri, ignoring errors (it is
// cleanup).
func Drop(uri, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return
	}
	defer c.Disconnect(ctx)
	c.Database(name).Drop(ctx)
}

// Server starts a dev server of the test's own (fresh data directory, free
// port), stopped when the test ends: for tests that stop and restart the
// server. It is a dev server even when HMS_TEST_MONGODB_URI is set.
func Server(t testing.TB) *devdb.Server {
	t.Helper()
	s, err := devdb.Start(devdb.Options{Addr: "127.0.0.1:0", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}
