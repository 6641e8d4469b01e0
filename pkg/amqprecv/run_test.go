package amqprecv

import (
	"encoding/json"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestLine(t *testing.T) {
	d := &Delivery{Delivery: amqp.Delivery{Body: []byte("plain")}}
	if l, err := Line(d, false); err != nil || string(l) != "plain" {
		t.Fatalf("%q %v", l, err)
	}
	d.Body = []byte("two\nlines")
	if _, err := Line(d, false); err != ErrNewline {
		t.Fatalf("a body with a newline: %v", err)
	}
	d.MessageId, d.RoutingKey, d.Timestamp = "m1", "q", time.Unix(0, 0)
	d.Headers = amqp.Table{"k": "v", "n": int32(3)}
	l, err := Line(d, true)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"body":"two\nlines","message_id":"m1","timestamp":"1970-01-01T00:00:00Z","exchange":"","routing_key":"q","headers":{"k":"v","n":3}}`
	if string(l) != want {
		t.Fatalf("got  %s\nwant %s", l, want)
	}
	d.Body = []byte{0xff, '\n'}
	l, _ = Line(d, true)
	var m JSONMessage
	if err := json.Unmarshal(l, &m); err != nil || m.Body != nil || string(m.BodyBase64) != "\xff\n" {
		t.Fatalf("binary body: %s", l)
	}
}
