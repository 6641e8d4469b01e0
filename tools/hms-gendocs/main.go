// Command hms-gendocs writes the man pages and the shell completions of the
// hms binaries, generated from their definitions (each command package's
// App(), the same one --help prints), into a share directory:
//
//	DIR/man/man1/hms-*.1                    one page per binary
//	DIR/man/man7/hms.7                      the conventions, formats and pipelines
//	DIR/bash-completion/completions/hms-*   bash
//	DIR/zsh/site-functions/_hms-*           zsh
//	DIR/fish/vendor_completions.d/hms-*.fish
//
// That layout is the one man(1), bash-completion, zsh and fish search under
// a prefix: 'go run ./tools/hms-gendocs -o ~/.local/share' installs them
// for the user. scripts/release.sh puts them into the archives and packages.
// The pages' date is SOURCE_DATE_EPOCH's when it is set, so that releases
// are reproducible.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/cmd/hms-factors/factorscmd"
	"github.com/hms-toolkit/hms/cmd/hms-recv/recvcmd"
	"github.com/hms-toolkit/hms/cmd/hms-send/sendcmd"
	"github.com/hms-toolkit/hms/cmd/hms-sign/signcmd"
	"github.com/hms-toolkit/hms/cmd/hms-store/storecmd"
	"github.com/hms-toolkit/hms/pkg/version"
)

// apps are the definitions of the five binaries, in pipeline order.
var apps = []func() *cli.App{factorscmd.App, signcmd.App, sendcmd.App, recvcmd.App, storecmd.App}

func main() {
	out := flag.String("o", "dist/share", "write into share directory `DIR`")
	ver := flag.String("version", version.Get().Version, "the hms `VERSION` the pages describe")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: hms-gendocs [-o DIR] [-version VERSION]\n"+
			"writes the man pages and shell completions of the hms binaries into DIR\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	date, err := pageDate()
	if err == nil {
		err = writeAll(*out, meta{version: *ver, date: date})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hms-gendocs: error:", err)
		os.Exit(1)
	}
}

// pageDate is the date of SOURCE_DATE_EPOCH (reproducible builds), else today.
func pageDate() (string, error) {
	t := time.Now()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return "", fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds", s)
		}
		t = time.Unix(sec, 0)
	}
	return t.UTC().Format("2006-01-02"), nil
}

// binaries reads the command trees of all the binaries.
func binaries() []*command {
	var bins []*command
	for _, app := range apps {
		bins = append(bins, fromApp(app()))
	}
	return bins
}

// files returns every file hms-gendocs writes, by path under the share
// directory.
func files(m meta) map[string]string {
	bins := binaries()
	out := map[string]string{"man/man7/hms.7": overviewPage(bins, m)}
	for _, b := range bins {
		name := b.name()
		out["man/man1/"+name+".1"] = manPage(b, bins, m)
		out["bash-completion/completions/"+name] = bashCompletion(b)
		out["zsh/site-functions/_"+name] = zshCompletion(b)
		out["fish/vendor_completions.d/"+name+".fish"] = fishCompletion(b)
	}
	return out
}

func writeAll(dir string, m meta) error {
	for rel, content := range files(m) {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
