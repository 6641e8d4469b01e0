// Package clilog makes the log/slog loggers of the hms commands: human text
// lines that start with the program name (the way the rest of the errors of
// a Unix tool read), or JSON objects for journald and log shippers.
package clilog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// New returns a logger writing to w. format is "text" or "json"; level is
// the least severe level written.
func New(name string, w io.Writer, format string, level slog.Level) (*slog.Logger, error) {
	switch format {
	case "", "text":
		return slog.New(&textHandler{name: name, w: w, level: level, mu: new(sync.Mutex)}), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})).With("prog", name), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// textHandler writes "name: [warning: ]msg key=value ..." lines.
type textHandler struct {
	name  string
	w     io.Writer
	level slog.Level
	attrs []slog.Attr
	mu    *sync.Mutex
}

func (h *textHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *textHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(h.name)
	b.WriteString(": ")
	switch {
	case r.Level >= slog.LevelError:
		b.WriteString("error: ")
	case r.Level >= slog.LevelWarn:
		b.WriteString("warning: ")
	}
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		if a.Equal(slog.Attr{}) {
			return true
		}
		v := a.Value.Resolve()
		s := v.String()
		if v.Kind() == slog.KindDuration {
			s = v.Duration().Round(time.Millisecond).String()
		}
		if s == "" || strings.ContainsAny(s, " \t\n\"=") {
			s = fmt.Sprintf("%q", s)
		}
		b.WriteString(" " + a.Key + "=" + s)
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *textHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

// WithGroup is flattened: the text form has no nesting.
func (h *textHandler) WithGroup(string) slog.Handler { return h }
