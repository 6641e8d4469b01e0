package hms_test

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hms-toolkit/hms/pkg/devdb/devdbtest"
)

// TestGatewayDemo runs scripts/demo.sh --yes, as a person would without the
// pauses, against the real broker and a dev database (its own, or
// HMS_TEST_MONGODB_URI), and checks that each step did what it says.
func TestGatewayDemo(t *testing.T) {
	var rnd [6]byte
	rand.Read(rnd[:])
	queue := "hms.test.demo." + hex.EncodeToString(rnd[:])
	t.Cleanup(func() {
		if conn, err := amqp.Dial(gwAMQPURL()); err == nil {
			if ch, err := conn.Channel(); err == nil {
				ch.QueueDelete(queue, false, false, false)
				ch.QueueDelete(queue+".dead", false, false, false)
			}
			conn.Close()
		}
	})
	cmd := exec.Command("bash", "scripts/demo.sh", "--yes")
	cmd.Env = append(os.Environ(), "HMS_DEMO_QUEUE="+queue, "TERM=dumb")
	if u := os.Getenv(devdbtest.EnvURI); u != "" {
		cmd.Env = append(cmd.Env, "MONGODB_URI="+u)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo.sh --yes: %v\n%s", err, out)
	}
	for _, want := range []string{
		`"contact_name":"Ann Smith"`,
		`rejected: bad-signature`,
		`rejected: artisan a0000000-0000-4000-8000-00000000000a: website is a number`,
		`rejected: artisan may not create artisans`,
		`"company_name":"Smith Woodworks"`,
		`"contact_name":"Ann Smith-Jones"`,
		`an artisan may not change its own signing_key`,
		`may not update artisan b0000000-0000-4000-8000-00000000000b (only its own record)`,
		`an artisan may not set store_available`,
		`"store_available":true`,
		`may not fulfil product c0000000-0000-4000-8000-00000000000a`,
		`4 fulfilled, more than the 3 ordered`,
		`"fulfilled_items":{"c0000000-0000-4000-8000-00000000000a":2}`,
		`: already applied`,
		`{"collection":"artisans","oid":"b0000000-0000-4000-8000-00000000000b"`,
		`Done.`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", out)
	}
}
