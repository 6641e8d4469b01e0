package recvcmd

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/message"
)

// A keyring others can read is warned about on the command's stderr, not
// the process's.
func TestVerifierWarnsOnItsStderr(t *testing.T) {
	k, err := message.GenerateKey("co-1", "central-office", "")
	if err != nil {
		t.Fatal(err)
	}
	ring := filepath.Join(t.TempDir(), "ring")
	if err := message.WriteKeyFile(ring, k); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ring, 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	fs := flag.NewFlagSet("hms-recv", flag.ContinueOnError)
	fs.String("keyring", ring, "")
	c := cli.NewContext(&cli.App{Name: "hms-recv", ErrWriter: &stderr}, fs, nil)
	if _, err := verifier(c); err != nil {
		t.Fatal(err)
	}
	want := "hms-recv: warning: key file " + ring + " is accessible by group or others (mode 0644); run: chmod 600 " + ring + "\n"
	if stderr.String() != want {
		t.Fatalf("stderr %q, want %q", stderr.String(), want)
	}
}
