package amqpconn

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string // "" for valid
	}{
		{Config{}, ""},
		{Config{URLs: []string{"amqp://u:p@h:5672/v"}}, ""},
		{Config{URLs: []string{"http://h/"}}, "invalid AMQP URL http://h/"},
		{Config{URLs: []string{"amqp://u:secret@h:bad/"}}, "invalid AMQP URL amqp://u:xxxxx@h:bad/"},
		{Config{URLs: []string{"amqp://h/"}, CAFile: "ca.pem"}, "--ca, --cert and --key need an amqps:// URL"},
		{Config{URLs: []string{"amqps://h/"}, CAFile: "/no/such/ca.pem"}, "--ca: open /no/such/ca.pem"},
		{Config{URLs: []string{"amqps://h/"}, CertFile: "c.pem"}, "--cert and --key go together"},
		{Config{URLs: []string{"amqps://h/"}}, ""},
	} {
		err := tc.cfg.Check()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: got %v, want %q", tc.cfg, err, tc.want)
		case err != nil && !IsPermanent(err):
			t.Errorf("%+v: %v is not permanent", tc.cfg, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("password in message: %v", err)
		}
	}
}

func TestArgs(t *testing.T) {
	a := Queue{Name: "q"}.Args()
	if a["x-dead-letter-exchange"] != "" || a["x-dead-letter-routing-key"] != "q.dead" || len(a) != 2 {
		t.Fatalf("classic args %v", a)
	}
	a = Queue{Name: "q", Quorum: true, DeliveryLimit: 5}.Args()
	if a["x-queue-type"] != "quorum" || a["x-delivery-limit"] != int64(5) {
		t.Fatalf("quorum args %v", a)
	}
}
