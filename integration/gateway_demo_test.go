package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hms-toolkit/hms/internal/testenv"
	"github.com/hms-toolkit/hms/pkg/devdb/devdbtest"
)

// TestGatewayDemo runs scripts/demo.sh --yes, as a person would without the
// pauses, against the test broker (AMQP_URL, see testenv.Main) and a dev
// database (the demo's own, or HMS_TEST_MONGODB_URI), and checks that each
// step did what it says. The demo builds the binaries from the repository.
func TestGatewayDemo(t *testing.T) {
	queue := testenv.Queue(t)
	root := testenv.Root(t)
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "demo.sh"), "--yes")
	cmd.Dir = root
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
