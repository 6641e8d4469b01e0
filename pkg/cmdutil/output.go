package cmdutil

import (
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"
)

// CreateOutput creates (or truncates) the file at path, named by flag in
// messages, for a side output such as --failed or --rejects. It refuses a
// path that is also the command's input stdin: creating it would empty the
// input before it is read ('--failed rest < rest').
func CreateOutput(flag, path string, stdin io.Reader) (*os.File, error) {
	if f, ok := stdin.(*os.File); ok {
		if in, err := f.Stat(); err == nil && in.Mode().IsRegular() {
			if out, err := os.Stat(path); err == nil && os.SameFile(in, out) {
				return nil, Fatalf("%s %s is also the input: it would be emptied before it is read", flag, path).
					WithHint("write it to another file")
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, Fatalf("%s: %v", flag, err)
	}
	return f, nil
}

// Plural is word, with an "s" unless n is 1: "1 line", "2 lines".
func Plural[N ~int | ~int64](n N, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// Warner returns a function printing "name: warning: msg" lines on the
// command's stderr, for libraries that report warnings through a callback
// (message.OnWarning, say).
func Warner(c *cli.Context) func(msg string) {
	return func(msg string) { fmt.Fprintf(c.App.ErrWriter, "%s: warning: %s\n", c.App.Name, msg) }
}
