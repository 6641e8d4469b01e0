package testenv

import (
	"strings"
	"testing"

	"github.com/hms-toolkit/hms/pkg/devdb/devdbtest"
)

// MongoDB returns a database of the test's own on the test server (see
// devdbtest: $HMS_TEST_MONGODB_URI, or a dev server shared by the test
// binary): a URI with the database in its path, and the database's name.
// The database is dropped when the test ends; t fails when no server can
// be had.
func MongoDB(t testing.TB) (uri, db string) {
	t.Helper()
	db = devdbtest.DB(t)
	return WithDB(devdbtest.URI(t), db), db
}

// WithDB puts database db in the path of a MongoDB URI, replacing the one
// there, and keeps the options.
func WithDB(uri, db string) string {
	base, query, hasQuery := strings.Cut(uri, "?")
	// mongodb[+srv]://[user@]hosts[/olddb]
	scheme, rest, _ := strings.Cut(base, "://")
	if i := strings.Index(rest, "/"); i >= 0 {
		rest = rest[:i]
	}
	out := scheme + "://" + rest + "/" + db
	if hasQuery {
		out += "?" + query
	}
	return out
}
