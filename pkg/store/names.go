package store

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The names MongoDB refuses are refused here too, before anything is read,
// rather than at the first write (after which "run again" cannot help).

// reservedDBs are MongoDB's own databases: users and roles (admin), the
// replication log (local), sharding metadata (config). Data written there
// by a pipeline is at best misplaced.
var reservedDBs = []string{"admin", "local", "config"}

// CheckDBName reports a database name MongoDB refuses (empty, too long,
// or with one of the characters /\. "$*<>:|? or NUL) or keeps for itself
// (admin, local, config, in any case: MongoDB does not allow two names that
// differ only in case).
func CheckDBName(name string) error {
	switch {
	case name == "":
		return errors.New("the database name is empty")
	case len(name) >= 64:
		return fmt.Errorf("database name %q is %d bytes long; MongoDB allows at most 63", name, len(name))
	case strings.ContainsAny(name, "/\\. \"$*<>:|?\x00"):
		return fmt.Errorf("database name %q contains one of /\\. \"$*<>:|? or NUL, which MongoDB does not allow", name)
	}
	for _, r := range reservedDBs {
		if strings.EqualFold(name, r) {
			return fmt.Errorf("database %q is one of MongoDB's own (%s), not for data", name, strings.Join(reservedDBs, ", "))
		}
	}
	return nil
}

// CheckCollectionName reports a collection name MongoDB refuses: empty,
// with '$' or NUL, starting with '.', not UTF-8, or in the "system."
// namespace.
func CheckCollectionName(name string) error {
	switch {
	case name == "":
		return errors.New("the collection name is empty")
	case strings.ContainsAny(name, "$\x00"):
		return fmt.Errorf("collection name %q contains '$' or NUL, which MongoDB does not allow", name)
	case strings.HasPrefix(name, "."):
		return fmt.Errorf("collection name %q starts with '.', which MongoDB does not allow", name)
	case !utf8.ValidString(name):
		return fmt.Errorf("collection name %q is not valid UTF-8", name)
	case strings.HasPrefix(name, "system."):
		return fmt.Errorf("collection name %q is in MongoDB's reserved system. namespace", name)
	}
	return nil
}

// MaxNamespace is the longest "database.collection" MongoDB accepts, in
// bytes.
const MaxNamespace = 255

// CheckNamespace reports a database and collection whose namespace
// ("db.coll") is longer than MongoDB allows.
func CheckNamespace(db, coll string) error {
	if n := len(db) + 1 + len(coll); n > MaxNamespace {
		return fmt.Errorf("the namespace %s.%s is %d bytes long; MongoDB allows at most %d", db, coll, n, MaxNamespace)
	}
	return nil
}
