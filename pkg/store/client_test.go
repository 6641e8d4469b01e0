package store

import "testing"

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
