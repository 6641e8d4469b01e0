package factorscmd

import (
	"bufio"
	"context"
	"io"
	"strings"
	"syscall"
	"testing"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
)

// The product of two 40-digit primes: ECM needs hours for it.
const tooHard = "3142443419509694922703904316225011557604515080316042899120949192357866282678941"

// A SIGINT while a number is in flight: once the stop grace is over, the
// lines before it are out, the exit status is 130 and stderr says where to
// resume.
func TestStoppedBySignal(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	stdin := strings.NewReader("12\n" + tooHard + " 13\n14\n")
	pr, pw := io.Pipe()
	var stderr strings.Builder
	status := make(chan int)
	go func() {
		code := Run(ctx, []string{"hms-factors", "-f", "factor", "--stop-grace", "10ms"}, stdin, pw, &stderr)
		pw.Close()
		status <- code
	}()
	out := bufio.NewReader(pr)
	if line, err := out.ReadString('\n'); line != "12: 2 2 3\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	cancel(&cmdutil.SignalError{Signal: syscall.SIGINT})
	rest, _ := io.ReadAll(out)
	if code := <-status; code != 130 || len(rest) != 0 {
		t.Fatalf("exit status %d, then %q", code, rest)
	}
	want := "hms-factors: error: stopped by SIGINT: the lines before line 2 were written, the rest not\n" +
		"hms-factors: hint: resume with: tail -n +2 INPUT | hms-factors ...\n"
	if stderr.String() != want {
		t.Fatalf("stderr %q, want %q", stderr.String(), want)
	}
}
