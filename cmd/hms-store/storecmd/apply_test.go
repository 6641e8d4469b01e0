package storecmd

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/message"
)

// A key file others can read, a keyring or a legacy key, is warned about
// on the command's stderr, not the process's.
func TestApplyVerifierWarnsOnItsStderr(t *testing.T) {
	dir := t.TempDir()
	k, err := message.GenerateKey("co-1", "central-office", "")
	if err != nil {
		t.Fatal(err)
	}
	ring := filepath.Join(dir, "ring")
	if err := message.WriteKeyFile(ring, k); err != nil {
		t.Fatal(err)
	}
	legacyKey := filepath.Join(dir, "legacy.key")
	if err := os.WriteFile(legacyKey, []byte("7c7c7c7c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ scheme, flag, path string }{
		{"hms", "keyring", ring},
		{"legacy", "key", legacyKey},
	} {
		if err := os.Chmod(tc.path, 0o640); err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		fs := flag.NewFlagSet("apply", flag.ContinueOnError)
		fs.String("scheme", tc.scheme, "")
		fs.String("keyring", "", "")
		fs.String("key", "", "")
		if err := fs.Set(tc.flag, tc.path); err != nil {
			t.Fatal(err)
		}
		c := cli.NewContext(&cli.App{Name: "hms-store", ErrWriter: &stderr}, fs, nil)
		if _, err := applyVerifier(c); err != nil {
			t.Fatalf("%s: %v", tc.scheme, err)
		}
		want := "hms-store: warning: key file " + tc.path + " is accessible by group or others (mode 0640); run: chmod 600 " + tc.path + "\n"
		if stderr.String() != want {
			t.Errorf("%s: stderr %q, want %q", tc.scheme, stderr.String(), want)
		}
	}
}
