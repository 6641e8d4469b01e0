package hms_test

import (
	"fmt"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hms-toolkit/hms/pkg/devdb"
	"github.com/hms-toolkit/hms/pkg/devdb/devdbtest"
)

// Scripts named store_* get MONGODB_URI pointing at a database
// of their own ($MONGODB_DB) on the test server: $HMS_TEST_MONGODB_URI, or
// an in-process dev server (FerretDB) shared by the test binary. Other
// scripts can ask for the same with the command 'mongodb'.
//
// 'devdb start' runs a private dev server for the script (fresh data
// directory) and points MONGODB_URI at it; 'devdb stop' stops it and a
// later 'devdb start' starts it again on the same address and data, for
// tests of outages.
func init() {
	scriptSetups = append(scriptSetups, func(env *testscript.Env) error {
		name := env.T().(interface{ Name() string }).Name()
		name = name[strings.LastIndex(name, "/")+1:]
		if !strings.HasPrefix(name, "store_") {
			return nil
		}
		uri, err := devdbtest.SharedURI()
		if err != nil {
			return err
		}
		db := devdbtest.Name(name)
		env.Setenv("MONGODB_URI", withDB(uri, db))
		env.Setenv("MONGODB_DB", db)
		env.Defer(func() { devdbtest.Drop(uri, db) })
		return nil
	})
	scriptCmds["mongodb"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) > 0 {
			ts.Fatalf("usage: mongodb")
		}
		uri, err := devdbtest.SharedURI()
		ts.Check(err)
		db := devdbtest.Name("script")
		ts.Setenv("MONGODB_URI", withDB(uri, db))
		ts.Setenv("MONGODB_DB", db)
		ts.Defer(func() { devdbtest.Drop(uri, db) })
	}
	scriptCmds["devdb"] = scriptDevDB
}

var privateDBs struct {
	sync.Mutex
	m map[*testscript.TestScript]*devdb.Server
}

func scriptDevDB(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: devdb start|stop")
	}
	privateDBs.Lock()
	defer privateDBs.Unlock()
	if privateDBs.m == nil {
		privateDBs.m = map[*testscript.TestScript]*devdb.Server{}
	}
	s := privateDBs.m[ts]
	switch args[0] {
	case "start":
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
		ts.Setenv("MONGODB_URI", withDB(n.URI(), "script"))
		ts.Setenv("MONGODB_DB", "script")
	case "stop":
		if s == nil {
			ts.Fatalf("devdb stop: not started")
		}
		ts.Check(s.Stop())
	default:
		ts.Fatalf("usage: devdb start|stop")
	}
}

// withDB puts database db in the path of a MongoDB URI.
func withDB(uri, db string) string {
	base, query, _ := strings.Cut(uri, "?")
	// mongodb[+srv]://[user@]hosts[/olddb]
	scheme, rest, _ := strings.Cut(base, "://")
	if i := strings.Index(rest, "/"); i >= 0 {
		rest = rest[:i]
	}
	base = scheme + "://" + rest
	if query != "" {
		return fmt.Sprintf("%s/%s?%s", base, db, query)
	}
	return fmt.Sprintf("%s/%s", base, db)
}
