package clilog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	var b bytes.Buffer
	l, err := New("hms-x", &b, "text", slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("hidden")
	l.Info("connected", "url", "amqp://h/")
	l.With("queue", "q").Warn("retrying", "reason", "connection refused")
	l.Error("gave up")
	want := "hms-x: connected url=amqp://h/\n" +
		"hms-x: warning: retrying queue=q reason=\"connection refused\"\n" +
		"hms-x: error: gave up\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	l, err := New("hms-x", &b, "json", slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("hello", "n", 3)
	if !strings.Contains(b.String(), `"prog":"hms-x"`) || !strings.Contains(b.String(), `"n":3`) {
		t.Fatal(b.String())
	}
	if _, err := New("x", &b, "xml", slog.LevelInfo); err == nil {
		t.Fatal("want error for xml")
	}
}
