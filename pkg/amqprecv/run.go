package amqprecv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/hms-toolkit/hms/pkg/backoff"
)

// Options say when to stop and how to turn a message into a line.
type Options struct {
	Count       int64         // stop after this many handled messages; 0: no limit
	Drain       bool          // stop when the queue has no message ready
	IdleTimeout time.Duration // stop after this long without a message; 0: never
	JSON        bool          // one JSON object per message instead of the bare body
	// Check, when set, is asked about each message before it is handled; a
	// non-nil error dead-letters the message with the error as reason.
	Check func(d *Delivery) error
}

// drainGrace is how long Drain waits, once the broker says the queue has
// nothing ready, for deliveries that may still be on their way.
const drainGrace = 50 * time.Millisecond

// flowWait is how long ToWriter waits for the next delivery before it
// flushes and acks what it has written.
const flowWait = 2 * time.Millisecond

// Line is the line that stands for d: its body (which must not contain a
// newline), or with asJSON a JSON object with body and properties.
func Line(d *Delivery, asJSON bool) ([]byte, error) {
	if !asJSON {
		if bytes.IndexByte(d.Body, '\n') >= 0 {
			return nil, errors.New("the body contains a newline (use --format json to receive such messages)")
		}
		return d.Body, nil
	}
	return json.Marshal(toJSON(d))
}

// JSONMessage is the --format json form of a message.
type JSONMessage struct {
	Body          *string        `json:"body,omitempty"`
	BodyBase64    []byte         `json:"body_base64,omitempty"` // when the body is not UTF-8
	MessageID     string         `json:"message_id,omitempty"`
	ContentType   string         `json:"content_type,omitempty"`
	CorrelationID string         `json:"correlation_id,omitempty"`
	Timestamp     *time.Time     `json:"timestamp,omitempty"`
	Exchange      string         `json:"exchange"`
	RoutingKey    string         `json:"routing_key"`
	Redelivered   bool           `json:"redelivered,omitempty"`
	Headers       map[string]any `json:"headers,omitempty"`
}

func toJSON(d *Delivery) JSONMessage {
	m := JSONMessage{
		MessageID: d.MessageId, ContentType: d.ContentType, CorrelationID: d.CorrelationId,
		Exchange: d.Exchange, RoutingKey: d.RoutingKey, Redelivered: d.Redelivered,
	}
	if utf8.Valid(d.Body) {
		s := string(d.Body)
		m.Body = &s
	} else {
		m.BodyBase64 = d.Body
	}
	if !d.Timestamp.IsZero() {
		t := d.Timestamp.UTC()
		m.Timestamp = &t
	}
	if len(d.Headers) > 0 {
		m.Headers = map[string]any(d.Headers)
	}
	return m
}

// stopper tracks the stop conditions shared by both modes.
type stopper struct {
	c       *Consumer
	opt     Options
	handled int64
}

func (s *stopper) done() bool { return s.opt.Count > 0 && s.handled >= s.opt.Count }

// wait is called when no delivery is at hand (and everything handled has
// been settled): it waits for the next one, or returns nil when the run
// should stop (queue drained, idle timeout, ctx done).
func (s *stopper) wait(ctx context.Context) (*Delivery, error) {
	if s.opt.Drain {
		empty, err := s.c.Drained()
		if err != nil {
			return nil, err
		}
		if empty {
			d, err := s.c.Next(ctx, drainGrace)
			if d == nil && err == nil {
				return nil, nil
			}
			return d, err
		}
	}
	wait := time.Duration(-1)
	if s.opt.IdleTimeout > 0 {
		wait = s.opt.IdleTimeout
	}
	if s.opt.Drain && (wait < 0 || wait > time.Second) {
		// Check the queue again now and then: another consumer may empty it.
		d, err := s.c.Next(ctx, time.Second)
		if d == nil && err == nil && ctx.Err() == nil {
			return s.wait(ctx)
		}
		return d, err
	}
	return s.c.Next(ctx, wait)
}

// ToWriter writes each message as a line to w and acks it once written and
// flushed, in multiple-acks of up to half the prefetch count. It returns nil
// when a stop condition is met or ctx is done (a signal), and a write error
// (EPIPE when the reader went away) or a connection error otherwise.
func (c *Consumer) ToWriter(ctx context.Context, w io.Writer, opt Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	ackEvery := max(1, c.cfg.Prefetch/2)
	s := &stopper{c: c, opt: opt}
	var last *Delivery
	unacked := 0
	settle := func() error {
		if unacked == 0 {
			return nil
		}
		if err := bw.Flush(); err != nil {
			return err // not acked: the broker requeues them
		}
		if err := c.Ack(last, true, unacked); err != nil {
			c.cfg.Log.Warn("handled messages will be delivered again: the connection was lost before their ack", "count", unacked)
		}
		unacked = 0
		return nil
	}
	for !s.done() {
		d, err := c.Next(ctx, 0)
		if d == nil && err == nil && unacked > 0 {
			// Between two deliveries of a busy queue: a short wait is
			// cheaper than a flush and an ack per message.
			d, err = c.Next(ctx, flowWait)
		}
		if d == nil && err == nil {
			if err := settle(); err != nil {
				return err
			}
			d, err = s.wait(ctx)
			if d == nil && err == nil {
				return nil
			}
		}
		if err != nil {
			if serr := settle(); serr != nil {
				return serr
			}
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if last != nil && d.gen != last.gen && unacked > 0 {
			// Written, but their channel is gone: they will come again.
			c.Stats.Lost.Add(int64(unacked))
			c.cfg.Log.Warn("handled messages will be delivered again: the connection was lost before their ack", "count", unacked)
			if err := bw.Flush(); err != nil {
				return err
			}
			unacked = 0
		}
		line, err := Line(d, opt.JSON)
		if err == nil && opt.Check != nil {
			err = opt.Check(d)
		}
		if err != nil {
			if err := c.DeadLetter(d, err.Error()); err != nil && !errors.Is(err, ErrStale) {
				return err
			}
			continue
		}
		bw.Write(line)
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
		last = d
		unacked++
		s.handled++
		if unacked >= ackEvery {
			if err := settle(); err != nil {
				return err
			}
		}
	}
	return settle()
}

// ExecOptions configure ToCommand.
type ExecOptions struct {
	Options
	Command     string        // run with sh -c
	Batch       int           // messages per run; <= 0: 1
	BatchWait   time.Duration // how long to wait to fill a batch
	RejectCodes map[int]bool  // exit statuses that dead-letter the batch
	BackoffMin  time.Duration // first wait after a failed run; 0: 1s
	BackoffMax  time.Duration // longest wait; 0: 1m
	Stdout      io.Writer     // the command's stdout and stderr
	Stderr      io.Writer
}

// ToCommand runs Command with batches of messages on its stdin, one line
// each. Exit status 0 acks the batch; a status in RejectCodes dead-letters
// it; any other failure requeues it and waits (growing backoff) before the
// next batch. A signal (ctx) lets a running command finish and settles its
// batch; a batch still being gathered is handed back to the queue.
func (c *Consumer) ToCommand(ctx context.Context, opt ExecOptions) error {
	if opt.Batch <= 0 {
		opt.Batch = 1
	}
	if opt.Stdout == nil {
		opt.Stdout = os.Stdout
	}
	if opt.Stderr == nil {
		opt.Stderr = os.Stderr
	}
	failWait := backoff.Backoff{Min: opt.BackoffMin, Max: opt.BackoffMax}
	if failWait.Min <= 0 {
		failWait.Min = time.Second
	}
	if failWait.Max <= 0 {
		failWait.Max = time.Minute
	}
	s := &stopper{c: c, opt: opt.Options}
	var (
		batch []*Delivery
		input bytes.Buffer
	)
	for !s.done() {
		batch, input = batch[:0], bytes.Buffer{}
		want := opt.Batch
		if opt.Count > 0 {
			want = int(min(int64(want), opt.Count-s.handled))
		}
		// Gather a batch: the first message waits as long as the stop
		// conditions allow, the others until BatchWait after the first.
		var deadline time.Time
		for len(batch) < want {
			var d *Delivery
			var err error
			if len(batch) == 0 {
				d, err = c.Next(ctx, 0)
				if d == nil && err == nil {
					d, err = s.wait(ctx)
					if d == nil && err == nil {
						return nil
					}
				}
			} else {
				left := time.Until(deadline)
				if left <= 0 {
					break
				}
				d, err = c.Next(ctx, 0)
				if d == nil && err == nil && opt.Drain {
					// Don't wait for more when there is no more.
					if empty, _ := c.Drained(); empty {
						left = min(left, drainGrace)
					}
				}
				if d == nil && err == nil {
					d, err = c.Next(ctx, left)
				}
				if d == nil && err == nil {
					break
				}
			}
			if err != nil {
				if len(batch) > 0 {
					c.Requeue(batch[len(batch)-1], true, len(batch))
				}
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			if len(batch) > 0 && d.gen != batch[0].gen {
				// Reconnected while gathering: the broker took the first
				// part back already.
				batch, input = batch[:0], bytes.Buffer{}
			}
			line, err := Line(d, opt.JSON)
			if err == nil && opt.Check != nil {
				err = opt.Check(d)
			}
			if err != nil {
				if err := c.DeadLetter(d, err.Error()); err != nil && !errors.Is(err, ErrStale) {
					return err
				}
				continue
			}
			if len(batch) == 0 {
				deadline = time.Now().Add(opt.BatchWait)
			}
			batch = append(batch, d)
			input.Write(line)
			input.WriteByte('\n')
		}
		if len(batch) == 0 {
			continue
		}
		last := batch[len(batch)-1]
		code, err := run(opt.Command, &input, opt.Stdout, opt.Stderr)
		if err == nil && (code == 126 || code == 127) {
			// The shell could not run the command: a typo, not a transient failure.
			err = fmt.Errorf("sh exited %d: the command was not found or is not executable", code)
		}
		if err != nil {
			c.Requeue(last, true, len(batch))
			return fmt.Errorf("--exec: %w", err)
		}
		if code == 128+int(syscall.SIGPIPE) {
			// The command's stdout (ours) was closed by its reader: no
			// later batch can do better. Hand the batch back and stop.
			c.Requeue(last, true, len(batch))
			return fmt.Errorf("--exec: the command died of SIGPIPE: %w", syscall.EPIPE)
		}
		switch {
		case code == 0:
			failWait.Reset()
			if err := c.Ack(last, true, len(batch)); err != nil {
				c.cfg.Log.Warn("handled batch will be delivered again: the connection was lost before its ack", "count", len(batch))
			}
			s.handled += int64(len(batch))
		case opt.RejectCodes[code]:
			failWait.Reset()
			for _, d := range batch {
				if err := c.DeadLetter(d, fmt.Sprintf("--exec command exited %d (a --reject-codes status)", code)); err != nil && !errors.Is(err, ErrStale) {
					return err
				}
			}
		default:
			wait := failWait.Next()
			c.cfg.Log.Warn("--exec command failed; batch requeued", "status", code, "count", len(batch), "retry_in", wait)
			c.Requeue(last, true, len(batch))
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil
			}
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return nil
}

// run runs command with sh -c and returns its exit status; err is for a
// command that could not be started at all. A command killed by a signal
// counts as status 128+signal, as in the shell.
func run(command string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	cmd := exec.Command("sh", "-c", command)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	err := cmd.Run()
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if code := ee.ExitCode(); code >= 0 {
			return code, nil
		}
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return 255, nil
	}
	return 0, err
}
