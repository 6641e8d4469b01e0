package testenv

import (
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hms-toolkit/hms/pkg/devdb"
	"github.com/hms-toolkit/hms/pkg/devdb/devdbtest"
)

// scriptMongoDB (mongodb): a database of the script's own on the test
// server ($HMS_TEST_MONGODB_URI, or the dev server shared by the test
// binary): MONGODB_URI names it in its path, MONGODB_DB is its name. It is
// dropped when the script ends; the command fails when no server can be had.
func scriptMongoDB(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: mongodb")
	}
	uri, err := devdbtest.SharedURI()
	ts.Check(err)
	db := devdbtest.Name(scriptName(ts))
	ts.Setenv("MONGODB_URI", WithDB(uri, db))
	ts.Setenv("MONGODB_DB", db)
	ts.Defer(func() { devdbtest.Drop(uri, db) })
}

// privateDBs are the dev servers that 'devdb start' started, by script.
var privateDBs struct {
	sync.Mutex
	m map[*testscript.TestScript]*devdb.Server
}

// scriptDevDB (devdb start|stop): 'devdb start' runs a dev server of the
// script's own (fresh data directory, free port) and points MONGODB_URI
// and MONGODB_DB at its database "script"; 'devdb stop' stops it, and a
// later 'devdb start' starts it again on the same address and data, for
// tests of outages. It is stopped when the script ends.
func scriptDevDB(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || (args[0] != "start" && args[0] != "stop") {
		ts.Fatalf("usage: devdb start|stop")
	}
	privateDBs.Lock()
	defer privateDBs.Unlock()
	if privateDBs.m == nil {
		privateDBs.m = map[*testscript.TestScript]*devdb.Server{}
	}
	s := privateDBs.m[ts]
	if args[0] == "stop" {
		if s == nil {
			ts.Fatalf("devdb stop: not started")
		}
		ts.Check(s.Stop())
		return
	}
	opts := devdb.Options{Addr: "127.0.0.1:0", Dir: ts.MkAbs("devdb-data")}
	if s != nil {
		opts.Addr = s.Addr()
	}
	n, err := devdb.Start(opts)
	ts.Check(err)
	if s == nil {
		ts.Defer(func() {
			privateDBs.Lock()
			defer privateDBs.Unlock()
			privateDBs.m[ts].Stop()
			delete(privateDBs.m, ts)
		})
	}
	privateDBs.m[ts] = n
	ts.Setenv("MONGODB_URI", WithDB(n.URI(), "script"))
	ts.Setenv("MONGODB_DB", "script")
}
