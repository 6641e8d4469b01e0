package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

func TestURIDatabase(t *testing.T) {
	for uri, want := range map[string]string{
		"mongodb://127.0.0.1:27017":                      "",
		"mongodb://127.0.0.1:27017/":                     "",
		"mongodb://127.0.0.1:27017/hms":                  "hms",
		"mongodb://u:p@h1:1,h2:2/results?replicaSet=rs0": "results",
		"mongodb+srv://cluster.example.com/app?tls=true": "app",
		"mongodb://h/?authSource=admin":                  "",
	} {
		if got := URIDatabase(uri); got != want {
			t.Errorf("%s: %q, want %q", uri, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	for uri, want := range map[string]string{
		"mongodb://u:secret@h/db":                "mongodb://u:xxxxx@h/db",
		"mongodb://u:s@cret@h1,h2:2/db?w=1":      "mongodb://u:xxxxx@h1,h2:2/db?w=1",
		"mongodb://u@h/db":                       "mongodb://u@h/db",
		"mongodb://h:1/db":                       "mongodb://h:1/db",
		"mongodb+srv://u:p@c.example.com/?tls=1": "mongodb+srv://u:xxxxx@c.example.com/?tls=1",
	} {
		if got := Redact(uri); got != want {
			t.Errorf("%s: %s, want %s", uri, got, want)
		}
	}
}

func TestErrorClasses(t *testing.T) {
	ferretUpdateDup := mongo.CommandError{Code: 1, Name: "InternalError",
		Message: "[msg_update.go:133 handler.(*Handler).updateDocument] constraint failed: UNIQUE constraint failed: index 'y_fc0c4ef4_k_1' (2067)"}
	for _, c := range []struct {
		err       error
		dup, tran bool
	}{
		{mongo.WriteError{Code: 11000, Message: "E11000 duplicate key error"}, true, false},
		{ferretUpdateDup, true, false},
		{mongo.CommandError{Code: 1, Message: "something else"}, false, false},
		{mongo.CommandError{Code: 11600, Message: "interrupted at shutdown"}, false, true},
		{mongo.CommandError{Code: 13, Message: "unauthorized"}, false, false},
		{mongo.CommandError{Code: 2, Labels: []string{"RetryableWriteError"}}, false, true},
		{context.DeadlineExceeded, false, true},
		{context.Canceled, false, false},
	} {
		if got := isDuplicate(c.err); got != c.dup {
			t.Errorf("isDuplicate(%v) = %v", c.err, got)
		}
		if got := IsTransient(c.err); got != c.tran {
			t.Errorf("IsTransient(%v) = %v", c.err, got)
		}
	}
	if msg := serverRefused(ferretUpdateDup).Error(); msg != "server refused the document: constraint failed: UNIQUE constraint failed: index 'y_fc0c4ef4_k_1' (2067)" {
		t.Errorf("message %q", msg)
	}
}

func TestCheckNames(t *testing.T) {
	for _, ok := range []string{"hms", "hms_cluster", "a-b", "A1"} {
		if err := CheckDBName(ok); err != nil {
			t.Errorf("CheckDBName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a/b", "a.b", "a b", "a$", "a\x00", strings.Repeat("d", 64), "admin", "local", "config", "ADMIN", "Config"} {
		if CheckDBName(bad) == nil {
			t.Errorf("CheckDBName(%q) accepted", bad)
		}
	}
	for _, ok := range []string{"factors", "a.b.c", "rejected", "x-y"} {
		if err := CheckCollectionName(ok); err != nil {
			t.Errorf("CheckCollectionName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "$bad", "a$b", "a\x00", "system.users", ".a", "a\xffb"} {
		if CheckCollectionName(bad) == nil {
			t.Errorf("CheckCollectionName(%q) accepted", bad)
		}
	}
	if CheckNamespace("hms", strings.Repeat("c", 251)) != nil || CheckNamespace("hms", strings.Repeat("c", 252)) == nil {
		t.Error("CheckNamespace: the limit is 255 bytes for db.coll")
	}
}

// The driver's app name is set: the server shows which build connected.
func TestClientOptionsAppName(t *testing.T) {
	o, err := clientOptions(Options{URI: DefaultURI, AppName: "hms-store/v1.2.3", ConnectTimeout: time.Second})
	if err != nil || o.AppName == nil || *o.AppName != "hms-store/v1.2.3" {
		t.Fatalf("%v %v", o.AppName, err)
	}
}
