package testenv

import "testing"

func TestWithDB(t *testing.T) {
	for in, want := range map[string]string{
		"mongodb://127.0.0.1:27017":              "mongodb://127.0.0.1:27017/d",
		"mongodb://127.0.0.1:27017/":             "mongodb://127.0.0.1:27017/d",
		"mongodb://u:p@h1,h2/old?replicaSet=rs0": "mongodb://u:p@h1,h2/d?replicaSet=rs0",
		"mongodb+srv://h/?tls=true":              "mongodb+srv://h/d?tls=true",
	} {
		if got := WithDB(in, "d"); got != want {
			t.Errorf("WithDB(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUniqueName(t *testing.T) {
	a, b := UniqueName("hmstest.go.Test/sub x"), UniqueName("hmstest.go.Test/sub x")
	if a == b {
		t.Fatalf("two calls gave %q", a)
	}
	if want := "hmstest.go.Test_sub_x."; a[:len(want)] != want {
		t.Fatalf("UniqueName = %q, want prefix %q", a, want)
	}
}
