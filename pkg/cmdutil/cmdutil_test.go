package cmdutil

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// testApp is an app with a subcommand that has a required flag and an int
// flag, the shapes whose usage errors urfave/cli reports on stdout.
func testApp(stdout, stderr *bytes.Buffer, ran *bool) *cli.App {
	app := NewApp("hms-test", "test")
	app.Writer, app.ErrWriter = stdout, stderr
	app.Commands = []*cli.Command{{
		Name: "sub",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "op", Required: true, EnvVars: []string{"HMS_TEST_OP"}},
			&cli.IntFlag{Name: "n"},
		},
		Action: func(*cli.Context) error { *ran = true; return nil },
	}}
	return app
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		env    string
		code   int
		stderr string
	}{
		{[]string{"sub", "--op", "x"}, "", 0, ""},
		{[]string{"sub"}, "x", 0, ""},
		{[]string{"sub"}, "", 2, "hms-test: error: Required flag \"op\" not set\nhint: see 'hms-test sub --help'\n"},
		{[]string{"sub", "--op", "x", "--n", "abc"}, "", 2, "hms-test: error: invalid value \"abc\" for flag -n: parse error\nhint: see 'hms-test sub --help'\n"},
		{[]string{"sub", "--op", "x", "--nope"}, "", 2, "hms-test: error: flag provided but not defined: -nope\nhint: see 'hms-test sub --help'\n"},
		{[]string{"bogus"}, "", 2, "hms-test: error: unknown command \"bogus\"\nhint: see 'hms-test --help'; commands: sub\n"},
		{[]string{}, "", 2, "hms-test: error: no command given\nhint: see 'hms-test --help'; commands: sub\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Setenv("HMS_TEST_OP", tc.env)
			if tc.env == "" {
				os.Unsetenv("HMS_TEST_OP")
			}
			var stdout, stderr bytes.Buffer
			ran := false
			app := testApp(&stdout, &stderr, &ran)
			code := Run(app, append([]string{"hms-test"}, tc.args...))
			if code != tc.code || stderr.String() != tc.stderr {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, stderr.String(), tc.code, tc.stderr)
			}
			if stdout.Len() != 0 {
				t.Errorf("usage error wrote to stdout:\n%s", stdout.String())
			}
			if ran != (tc.code == 0) {
				t.Errorf("action ran: %v", ran)
			}
		})
	}
}

func TestHelpStillWorks(t *testing.T) {
	var stdout, stderr bytes.Buffer
	ran := false
	app := testApp(&stdout, &stderr, &ran)
	if code := Run(app, []string{"hms-test", "sub", "--help"}); code != 0 || ran {
		t.Fatalf("exit %d, ran %v; stderr %q", code, ran, stderr.String())
	}
	if !strings.Contains(stdout.String(), "--op") {
		t.Errorf("help does not list --op:\n%s", stdout.String())
	}
}

func TestCreateOutputRefusesStdin(t *testing.T) {
	dir := t.TempDir()
	in := dir + "/in"
	if err := os.WriteFile(in, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = saved }()

	if _, err := CreateOutput("--out", in); err == nil {
		t.Fatal("CreateOutput of stdin's own file succeeded")
	}
	if b, _ := os.ReadFile(in); string(b) != "keep\n" {
		t.Fatalf("input is now %q", b)
	}
	out, err := CreateOutput("--out", dir+"/other")
	if err != nil {
		t.Fatal(err)
	}
	out.Close()
}
