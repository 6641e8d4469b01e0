package testenv

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// Commands for the scripts of long-running programs (hms-recv stopped by a
// signal, hms-send on a stdin that stays open, metrics scraped while they
// run): they wait for an effect by polling, with a deadline.

// scriptPatience bounds every wait of these commands: long enough for a
// loaded machine; a wait that succeeds returns at once.
const scriptPatience = 60 * time.Second

// waitFile (waitfile FILE [REGEXP]): wait until FILE exists and, with
// REGEXP, until its content matches it (multi-line mode: ^ and $ match at
// line breaks).
func waitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: waitfile FILE [REGEXP]")
	}
	var want *regexp.Regexp
	if len(args) == 2 {
		want = regexp.MustCompile("(?m)" + args[1])
	}
	if !WaitFor(scriptPatience, func() bool {
		b, err := os.ReadFile(ts.MkAbs(args[0]))
		return err == nil && (want == nil || want.Match(b))
	}) {
		ts.Fatalf("%s did not appear (or match %v) within %v", args[0], want, scriptPatience)
	}
}

var metricsURL = regexp.MustCompile(`serving metrics url=(http://\S+)/metrics`)

// metricsGet (metrics-get LOG PATH [REGEXP]): GET PATH from the metrics
// endpoint that the program logging to LOG announced ("serving metrics
// url=..."; -v logs it) and print the status line, then the body; with
// REGEXP, ask again until the body matches it (multi-line mode).
func metricsGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: metrics-get LOG PATH [REGEXP]")
	}
	var base string
	if !WaitFor(scriptPatience, func() bool {
		log, _ := os.ReadFile(ts.MkAbs(args[0]))
		m := metricsURL.FindSubmatch(log)
		if m != nil {
			base = string(m[1])
		}
		return m != nil
	}) {
		ts.Fatalf("%s did not say where the metrics are within %v", args[0], scriptPatience)
	}
	var want *regexp.Regexp
	if len(args) == 3 {
		want = regexp.MustCompile("(?m)" + args[2])
	}
	var status, body string
	ok := WaitFor(scriptPatience, func() bool {
		resp, err := http.Get(base + args[1])
		ts.Check(err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		ts.Check(err)
		status, body = resp.Status, string(b)
		return want == nil || want.MatchString(body)
	})
	fmt.Fprintf(ts.Stdout(), "%s\n%s", status, body)
	if !ok {
		ts.Fatalf("no match for %v in %s%s within %v:\n%s", want, base, args[1], scriptPatience, strings.TrimSpace(body))
	}
}
