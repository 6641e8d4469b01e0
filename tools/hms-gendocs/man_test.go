package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

var testMeta = meta{version: "0.0.0-test", date: "2026-12-01"}

// generate writes everything hms-gendocs writes into a temporary directory.
func generate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := writeAll(dir, testMeta); err != nil {
		t.Fatal(err)
	}
	return dir
}

// renderMan runs man(1) on page as a reader would, 80 columns wide, and
// returns what it printed on stdout and on stderr.
func renderMan(t *testing.T, page string, extra ...string) (stdout, stderr string) {
	t.Helper()
	if _, err := exec.LookPath("man"); err != nil {
		t.Fatal("man(1) is needed to check the man pages (apt-get install man-db):", err)
	}
	cmd := exec.Command("man", append(extra, "-l", page)...)
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat", "LC_ALL=C.UTF-8")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("man -l %s: %v\n%s", page, err, errb.String())
	}
	// Hyphens and minus signs as the reader types them.
	return strings.NewReplacer("\u2010", "-", "\u2212", "-").Replace(out.String()), errb.String()
}

// TestManPages renders every page as 'MANWIDTH=80 man -l PAGE' does, which
// must print nothing on stderr (nor with all of groff's warnings on), and
// checks what each page says: every command and option of its binary, the
// shared exit statuses, the environment variables its flags read.
func TestManPages(t *testing.T) {
	dir := generate(t)
	for _, b := range binaries() {
		text := renderCleanly(t, filepath.Join(dir, "man", "man1", b.name()+".1"))
		want := []string{"NAME", "SYNOPSIS", "EXIT STATUS", "130, 143", "141", "hms(7)"}
		b.walk(func(c *command) {
			want = append(want, c.name(), c.usage)
			for _, f := range c.flags {
				want = append(want, f.options()...)
				want = append(want, f.env...)
			}
		})
		for _, w := range want {
			if !strings.Contains(oneLine(text), oneLine(w)) {
				t.Errorf("%s(1) does not say %q", b.name(), w)
			}
		}
	}
	text := renderCleanly(t, filepath.Join(dir, "man", "man7", "hms.7"))
	for _, l := range strings.Split(text, "\n") {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("hms(7) has a line of %d columns: %q", n, l)
		}
	}
	for _, w := range []string{"EXIT STATUS", "130, 143", "SIGTERM", "AMQP_URL", "MONGODB_URI",
		"HMS_KEY_FILE", "HMS_KEYRING", "hms-key-v1 kid=KID origin=ORIGIN", "PIPELINES", "hms-store(1)"} {
		if !strings.Contains(text, w) {
			t.Errorf("hms(7) does not say %q", w)
		}
	}
	if pages, _ := filepath.Glob(filepath.Join(dir, "man", "man*", "*")); len(pages) != len(apps)+1 {
		t.Errorf("man pages: %q", pages)
	}
}

// TestFilesNameTheUnits: hms(7) names every systemd unit of
// scripts/systemd, which the Debian package installs, and its environment
// file.
func TestFilesNameTheUnits(t *testing.T) {
	units, _ := filepath.Glob("../../scripts/systemd/*.service")
	envs, _ := filepath.Glob("../../scripts/systemd/*.env")
	if len(units) < 3 || len(envs) < 3 {
		t.Fatalf("scripts/systemd: units %q, environment files %q", units, envs)
	}
	text := oneLine(renderCleanly(t, filepath.Join(generate(t), "man", "man7", "hms.7")))
	want := []string{"systemctl enable --now hms-gateway", "journalctl -u hms-gateway", "systemd.exec(5)", "production.md"}
	for _, u := range units {
		want = append(want, "/usr/lib/systemd/system/"+filepath.Base(u))
	}
	for _, e := range envs {
		want = append(want, "/etc/hms/"+filepath.Base(e))
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("hms(7) does not say %q", w)
		}
	}
}

// renderCleanly renders page and fails the test if man or groff warn.
func renderCleanly(t *testing.T, page string) string {
	t.Helper()
	text, stderr := renderMan(t, page)
	if stderr != "" {
		t.Errorf("MANWIDTH=80 man -l %s warns:\n%s", filepath.Base(page), stderr)
	}
	if _, stderr := renderMan(t, page, "--warnings=w"); stderr != "" {
		t.Errorf("MANWIDTH=80 man --warnings=w -l %s warns:\n%s", filepath.Base(page), stderr)
	}
	return text
}

func TestExitStatuses(t *testing.T) {
	var got []string
	for _, s := range exitStatuses() {
		got = append(got, s.codes)
		if s.meaning == "" {
			t.Errorf("exit status %s has no meaning", s.codes)
		}
	}
	if strings.Join(got, "|") != "0|1|2|130, 143|141" {
		t.Errorf("exit statuses read from cmdutil.ExitCodesHelp: %q", got)
	}
}

// TestPipelinesUseRealOptions: every hms command and option in the
// examples of hms(7) exists, so the page cannot drift from the binaries.
func TestPipelinesUseRealOptions(t *testing.T) {
	roots := map[string]*command{}
	for _, b := range binaries() {
		roots[b.name()] = b
	}
	text := strings.ReplaceAll(overviewPipelines+overviewConventions, "\\\n", " ")
	checked := 0
	for _, line := range strings.Split(text, "\n") {
		var node *command
		atCommand := true
		for _, raw := range strings.Fields(line) {
			switch raw {
			case "|", "||", "&&", ";", "#":
				node, atCommand = nil, raw != "#"
				continue
			}
			word := strings.Trim(raw, `'"`)
			quoted := word != raw
			switch {
			case (atCommand || strings.HasPrefix(raw, `'`) || strings.HasPrefix(raw, `"`)) && roots[word] != nil:
				node = roots[word]
			case node != nil && strings.HasPrefix(word, "-"):
				name, _, _ := strings.Cut(word, "=")
				if !hasOption(node, name) {
					t.Errorf("hms(7): %s has no option %s: %q", node.name(), name, line)
				}
				checked++
			case node != nil:
				for _, sub := range node.commands {
					if sub.path[len(sub.path)-1] == word {
						node = sub
					}
				}
			}
			atCommand = false
			if quoted && (strings.HasSuffix(raw, `'`) || strings.HasSuffix(raw, `"`)) {
				node = nil
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d options checked in hms(7)'s examples", checked)
	}
}

func hasOption(c *command, opt string) bool {
	for _, f := range c.flags {
		for _, o := range f.options() {
			if o == opt {
				return true
			}
		}
	}
	return false
}
