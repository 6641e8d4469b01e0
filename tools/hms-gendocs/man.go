package main

import (
	"fmt"
	"strings"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
)

// meta is what a page's title line says besides its name.
type meta struct {
	version string // "0.3.0"
	date    string // YYYY-MM-DD
}

// manPage returns the section 1 page of binary c; others are all the
// binaries, for SEE ALSO.
func manPage(c *command, others []*command, m meta) string {
	var r roff
	r.header(c.name(), 1, m.date, "hms "+m.version)
	r.section("NAME")
	r.line(esc(c.name() + " - " + c.usage))
	r.section("SYNOPSIS")
	writeSynopsis(&r, c, c)
	if c.description != "" {
		r.section("DESCRIPTION")
		r.prose(c.description)
	}
	r.section("OPTIONS")
	if len(c.commands) > 0 {
		r.paragraph("Options of " + c.name() + " itself; its commands have their own, under COMMANDS.")
	}
	writeFlags(&r, c.flags)
	if len(c.commands) > 0 {
		r.section("COMMANDS")
		for _, sub := range c.commands {
			sub.walk(func(s *command) { writeCommand(&r, c, s) })
		}
	}
	r.section("EXIT STATUS")
	writeExitStatuses(&r)
	if env := envVars(c); len(env) > 0 {
		r.section("ENVIRONMENT")
		writeEnv(&r, env)
	}
	r.section("SEE ALSO")
	writeSeeAlso(&r, c, others)
	return r.String()
}

// writeCommand writes one command of root as a subsection.
func writeCommand(r *roff, root, c *command) {
	r.subsection(c.name())
	r.paragraph(c.usage)
	writeSynopsis(r, root, c)
	if c.description != "" {
		r.prose(c.description)
	}
	if len(c.flags) > 0 {
		r.macro("PP")
		r.line("Options:")
		writeFlags(r, c.flags)
	}
}

// writeSynopsis writes the usage lines of c: its own, or, for a command
// that only groups others, theirs.
func writeSynopsis(r *roff, root, c *command) {
	for _, l := range synopsisLines(c) {
		n := commandWords(root, l)
		words := strings.Fields(l)
		r.macro("SY", esc(strings.Join(words[:n], " ")))
		if rest := words[n:]; len(rest) > 0 {
			r.line(synopsis(strings.Join(rest, " ")))
		}
		r.macro("YS")
	}
}

func synopsisLines(c *command) []string {
	if c.usageText != "" {
		var out []string
		for _, l := range strings.Split(c.usageText, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
		return out
	}
	if len(c.commands) > 0 {
		var out []string
		for _, sub := range c.commands {
			out = append(out, synopsisLines(sub)...)
		}
		return out
	}
	return []string{strings.TrimSpace(c.name() + " [options] " + c.argsUsage)}
}

// commandWords counts the words at the start of a usage line that name a
// command of root's tree: 2 for "hms-sign keygen --kid ID".
func commandWords(root *command, line string) int {
	words := strings.Fields(line)
	if len(words) == 0 || words[0] != root.path[0] {
		return min(1, len(words))
	}
	n, node := 1, root
	for n < len(words) {
		var next *command
		for _, sub := range node.commands {
			if sub.path[len(sub.path)-1] == words[n] {
				next = sub
			}
		}
		if next == nil {
			break
		}
		n, node = n+1, next
	}
	return n
}

func writeFlags(r *roff, flags []flagDef) {
	for _, f := range flags {
		var names []string
		for _, w := range strings.Fields(f.helpNames) {
			names = append(names, formatWord(w))
		}
		r.tagged(strings.Join(names, " "), f.help)
	}
}

// exitStatus is one row of the exit status table every hms command shares.
type exitStatus struct{ codes, meaning string }

// exitStatuses reads cmdutil.ExitCodesHelp, the table --help prints: a
// title line, then rows whose second column starts at a fixed offset and
// may continue on the next lines.
func exitStatuses() []exitStatus {
	lines := strings.Split(strings.TrimRight(cmdutil.ExitCodesHelp, "\n"), "\n")[1:]
	first := strings.TrimLeft(lines[0], " ")
	code, _, _ := strings.Cut(first, " ")
	rest := strings.TrimLeft(first[len(code):], " ")
	col := len(lines[0]) - len(rest)
	var out []exitStatus
	for _, l := range lines {
		if len(l) > col && strings.TrimSpace(l[:col]) != "" {
			out = append(out, exitStatus{strings.TrimSpace(l[:col]), strings.TrimSpace(l[col:])})
		} else if len(out) > 0 {
			out[len(out)-1].meaning += " " + strings.TrimSpace(l)
		}
	}
	return out
}

func writeExitStatuses(r *roff) {
	for _, s := range exitStatuses() {
		r.tagged(bold(s.codes), s.meaning)
	}
}

// writeEnv lists each environment variable once, with the options it is
// the default of and the commands that have them.
func writeEnv(r *roff, env []flagEnv) {
	type use struct {
		option, usage string
		commands      []string
	}
	var names []string
	uses := map[string][]*use{}
	for _, e := range env {
		opt := option(e.flag.names[0])
		var u *use
		for _, x := range uses[e.env] {
			if x.option == opt {
				u = x
			}
		}
		if u == nil {
			if len(uses[e.env]) == 0 {
				names = append(names, e.env)
			}
			u = &use{option: opt, usage: e.flag.usage}
			uses[e.env] = append(uses[e.env], u)
		}
		u.commands = append(u.commands, e.command.name())
	}
	for _, name := range names {
		var parts []string
		for _, u := range uses[name] {
			parts = append(parts, fmt.Sprintf("%s, when not given (%s): %s", u.option, strings.Join(u.commands, ", "), u.usage))
		}
		r.tagged(bold(name), "The value of "+strings.Join(parts, "; ")+".")
	}
}

func writeSeeAlso(r *roff, c *command, all []*command) {
	refs := []string{"hms 7"}
	for _, o := range all {
		if o.name() != c.name() {
			refs = append(refs, o.name()+" 1")
		}
	}
	for i, ref := range refs {
		name, sec, _ := strings.Cut(ref, " ")
		punct := ","
		if i == len(refs)-1 {
			punct = ""
		}
		r.macro("BR", esc(name), "("+sec+")"+punct)
	}
	r.paragraph("The full documentation of " + c.name() + " is docs/" + c.name() +
		".md in the hms source, installed in /usr/share/doc/hms/ by the Debian package.")
}
