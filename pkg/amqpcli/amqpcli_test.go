package amqpcli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// urls runs an app with the amqpcli flags and args, and returns what URLs
// made of them.
func urls(t *testing.T, args ...string) ([]string, error) {
	t.Helper()
	var got []string
	var err error
	app := &cli.App{Name: "hms-test", Flags: Flags(), Action: func(c *cli.Context) error {
		got, err = URLs(c)
		return nil
	}}
	if e := app.Run(append([]string{"hms-test"}, args...)); e != nil {
		t.Fatal(e)
	}
	return got, err
}

func TestURLs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "urls")
	os.WriteFile(file, []byte("# the cluster\namqp://u:p@a/ amqp://u:p@b/\n\namqp://u:p@c/  # node 3\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("# nothing\n"), 0o600)

	for _, tc := range []struct {
		env  string
		args []string
		want []string
		err  string
	}{
		{"", nil, nil, ""},
		{"amqp://e1/  amqp://e2/ ", nil, []string{"amqp://e1/", "amqp://e2/"}, ""},
		// --url wins over AMQP_URL; repeated, and several in one value.
		{"amqp://e1/", []string{"--url", "amqp://a/", "--url", "amqp://b/ amqp://c/"}, []string{"amqp://a/", "amqp://b/", "amqp://c/"}, ""},
		// A comma is part of a URL (a password may hold one), not a separator.
		{"", []string{"--url", "amqp://u:p,w@a/"}, []string{"amqp://u:p,w@a/"}, ""},
		{"amqp://e1/", []string{"--url-file", file}, []string{"amqp://u:p@a/", "amqp://u:p@b/", "amqp://u:p@c/"}, ""},
		{"", []string{"--url-file", empty}, nil, "no URL in it"},
		{"", []string{"--url-file", filepath.Join(dir, "missing")}, nil, "--url-file: open"},
		{"", []string{"--url", "amqp://a/", "--url-file", file}, nil, "--url and --url-file exclude each other"},
		// An empty --url is no URL, as it always meant the default.
		{"amqp://e1/", []string{"--url", ""}, []string{"amqp://e1/"}, ""},
	} {
		t.Setenv("AMQP_URL", tc.env)
		got, err := urls(t, tc.args...)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: err = %v, want %q", tc.args, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case !slices.Equal(got, tc.want):
			t.Errorf("%q with AMQP_URL=%q: %q, want %q", tc.args, tc.env, got, tc.want)
		}
	}
}
