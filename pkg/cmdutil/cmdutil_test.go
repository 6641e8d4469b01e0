package cmdutil

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// testApp is an app with a subcommand that has a required flag and an int
// flag, the shapes whose usage errors urfave/cli reports on stdout.
func testApp(stdout, stderr *bytes.Buffer, ran *bool) *cli.App {
	app := NewApp("hms-test", "test")
	app.Commands = []*cli.Command{{
		Name: "sub",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "op", EnvVars: []string{"HMS_TEST_OP"}},
			&cli.IntFlag{Name: "n"},
		},
		Action: func(c *cli.Context) error {
			if err := Require(c, "op"); err != nil {
				return err
			}
			*ran = true
			return nil
		},
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
		{[]string{"sub"}, "", 2, "hms-test: error: Required flag \"op\" not set\nhms-test: hint: see 'hms-test sub --help'\n"},
		{[]string{"sub", "--op", "x", "--n", "abc"}, "", 2, "hms-test: error: invalid value \"abc\" for flag -n: parse error\nhms-test: hint: see 'hms-test sub --help'\n"},
		{[]string{"sub", "--op", "x", "--nope"}, "", 2, "hms-test: error: flag provided but not defined: -nope\nhms-test: hint: see 'hms-test sub --help'\n"},
		{[]string{"bogus"}, "", 2, "hms-test: error: unknown command \"bogus\"\nhms-test: hint: see 'hms-test --help'; commands: sub\n"},
		{[]string{}, "", 2, "hms-test: error: no command given\nhms-test: hint: see 'hms-test --help'; commands: sub\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Setenv("HMS_TEST_OP", tc.env)
			if tc.env == "" {
				os.Unsetenv("HMS_TEST_OP")
			}
			var stdout, stderr bytes.Buffer
			ran := false
			app := testApp(&stdout, &stderr, &ran)
			code := RunApp(context.Background(), app, append([]string{"hms-test"}, tc.args...), nil, &stdout, &stderr)
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
	if code := RunApp(context.Background(), app, []string{"hms-test", "sub", "--help"}, nil, &stdout, &stderr); code != 0 || ran {
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
	if _, err := CreateOutput("--out", in, f); err == nil {
		t.Fatal("CreateOutput of stdin's own file succeeded")
	}
	if b, _ := os.ReadFile(in); string(b) != "keep\n" {
		t.Fatalf("input is now %q", b)
	}
	out, err := CreateOutput("--out", dir+"/other", f)
	if err != nil {
		t.Fatal(err)
	}
	out.Close()
}

func TestVersionFlag(t *testing.T) {
	for _, arg := range []string{"--version", "-V"} {
		var stdout, stderr bytes.Buffer
		ran := false
		code := RunApp(context.Background(), testApp(&stdout, &stderr, &ran), []string{"hms-test", arg}, nil, &stdout, &stderr)
		if code != 0 || !strings.HasPrefix(stdout.String(), "hms-test ") || stderr.Len() != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", arg, code, stdout.String(), stderr.String())
		}
	}
}

func TestStoppedExitStatus(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	if e := Stopped(ctx, "after line %d", 3); e.Code != ExitFatal {
		t.Fatalf("no signal: code %d", e.Code)
	}
	cancel(&SignalError{Signal: syscall.SIGTERM})
	e := Stopped(ctx, "after line %d", 3)
	var stderr bytes.Buffer
	if code := Report("hms-x", &stderr, e); code != 143 || stderr.String() != "hms-x: error: stopped by SIGTERM: after line 3\n" {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	ctx2, cancel2 := context.WithCancelCause(context.Background())
	cancel2(&SignalError{Signal: syscall.SIGINT})
	stderr.Reset()
	if code := Report("hms-x", &stderr, Stopped(ctx2, "")); code != 130 || stderr.String() != "hms-x: error: stopped by SIGINT\n" {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestWorkContext(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	work, done := WorkContext(parent, time.Hour)
	defer done()
	cancel()
	select {
	case <-work.Done():
		t.Fatal("work context cancelled with its parent")
	default:
	}
	// A second signal (Hurry) ends the grace at once.
	hurry := make(chan struct{})
	parent2, cancel2 := context.WithCancel(context.WithValue(context.Background(), hurryKey{}, (<-chan struct{})(hurry)))
	work2, done2 := WorkContext(parent2, time.Hour)
	defer done2()
	cancel2()
	close(hurry)
	<-work2.Done()
	if !errors.Is(context.Cause(work2), ErrGraceOver) {
		t.Fatalf("cause %v", context.Cause(work2))
	}
	// The grace running out ends it too.
	parent3, cancel3 := context.WithCancel(context.Background())
	work3, done3 := WorkContext(parent3, time.Millisecond)
	defer done3()
	cancel3()
	<-work3.Done()
	if !errors.Is(context.Cause(work3), ErrGraceOver) {
		t.Fatalf("cause %v", context.Cause(work3))
	}
}

func TestNotifyStop(t *testing.T) {
	ctx, stop := NotifyStop(context.Background())
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-ctx.Done()
	if se := StopSignal(ctx); se == nil || se.ExitCode() != 143 {
		t.Fatalf("StopSignal: %v", se)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	<-Hurry(ctx)
}

func TestPlural(t *testing.T) {
	if Plural(1, "line") != "line" || Plural(int64(0), "line") != "lines" || Plural(2, "line") != "lines" {
		t.Fatal("Plural")
	}
}
