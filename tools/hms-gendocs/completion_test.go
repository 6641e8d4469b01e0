package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// bashComplete loads the bash completion of words[0] from dir the way
// bash-completion does (source the file, then ask 'complete -p' which
// function completes the command), sets COMP_WORDS to words (the last one
// being completed), calls the function and returns COMPREPLY.
func bashComplete(t *testing.T, dir string, words ...string) []string {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("bash is needed to test the bash completions:", err)
	}
	const prog = `source "$1" || exit 3
shift
spec=$(complete -p "$1") || exit 4
fn=${spec#*-F }
fn=${fn%% *}
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
`
	script := filepath.Join(dir, "bash-completion", "completions", words[0])
	cmd := exec.Command("bash", append([]string{"--norc", "--noprofile", "-c", prog, "bash", script}, words...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("completing %q: %v", words, err)
	}
	var got []string
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" {
			got = append(got, l)
		}
	}
	slices.Sort(got)
	return got
}

func TestBashCompletion(t *testing.T) {
	dir := generate(t)
	if err := os.WriteFile(filepath.Join(dir, "ring"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{"hms-store", "a"}, []string{"apply"}},
		{[]string{"hms-store", ""}, []string{"apply", "find", "insert", "upsert"}},
		{[]string{"hms-store", "-"}, []string{"--help", "--version", "-V", "-h"}},
		{[]string{"hms-store", "apply", "--k"}, []string{"--key", "--keyring"}},
		{[]string{"hms-store", "apply", "--keyring", "ri"}, []string{"ring"}},
		{[]string{"hms-store", "apply", "--keyring", "=", "ri"}, []string{"ring"}},
		{[]string{"hms-store", "apply", "--keyring", "ring", "--scheme", ""}, nil},
		{[]string{"hms-store", "find", "-c", ""}, nil},
		{[]string{"hms-store", "find", "-c", "results", "--li"}, []string{"--limit"}},
		{[]string{"hms-store", "--version", "u"}, []string{"upsert"}},
		{[]string{"hms-sign", "k"}, []string{"keygen"}},
		{[]string{"hms-sign", "keygen", "--o"}, []string{"--origin", "--out"}},
		{[]string{"hms-factors", "r"}, []string{"reduce"}},
		{[]string{"hms-factors", "--format", "json", "--d"}, []string{"--deadline", "--drop-key"}},
		{[]string{"hms-factors", "-w", "2", "-"}, []string{"--deadline", "--drop-key", "--format", "--hadoop", "--help",
			"--progress", "--skip-invalid", "--stop-grace", "--verbose", "--version", "--workers", "-V", "-f", "-h", "-v", "-w"}},
		{[]string{"hms-factors", "12", "-"}, nil}, // flags end at the first argument
		{[]string{"hms-factors", "reduce", "--s"}, []string{"--summary"}},
		{[]string{"hms-send", "--q"}, []string{"--queue", "--quorum"}},
		{[]string{"hms-send", "-q", "work", "--fail"}, []string{"--failed"}},
		{[]string{"hms-recv", "--exec", "bas"}, []string{"bash"}},
	} {
		got := bashComplete(t, dir, tc.words...)
		if tc.words[len(tc.words)-1] == "bas" {
			// other commands start with "bas", and PATH may hold bash twice
			got = slices.Compact(slices.DeleteFunc(got, func(s string) bool { return s != "bash" }))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s<TAB>: %q, want %q", strings.Join(tc.words, " "), got, tc.want)
		}
	}
}

// TestCompletionsOfferEveryOption: the zsh and fish scripts name every
// option and command of their binary (bash's are exercised above).
func TestCompletionsOfferEveryOption(t *testing.T) {
	for _, b := range binaries() {
		for shell, script := range map[string]string{"zsh": zshCompletion(b), "fish": fishCompletion(b)} {
			b.walk(func(c *command) {
				for _, f := range c.flags {
					for _, n := range f.names {
						if !strings.Contains(script, option(n)) && !strings.Contains(script, " -l "+n) && !strings.Contains(script, " -s "+n) {
							t.Errorf("%s completion of %s lacks %s", shell, c.name(), option(n))
						}
					}
				}
				if len(c.path) > 1 && !strings.Contains(script, c.path[len(c.path)-1]) {
					t.Errorf("%s completion of %s lacks the command %s", shell, b.name(), c.name())
				}
			})
		}
	}
}
