package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// command is one node of a binary's command tree as the generators see it:
// the binary itself, or one of its (sub)commands. It is read from the
// *cli.App that --help prints, so pages and completions say what --help says.
type command struct {
	path        []string // {"hms-store", "apply"}
	usage       string   // one line: what it does
	usageText   string   // synopsis lines, when the definition has them
	argsUsage   string
	description string
	flags       []flagDef
	commands    []*command
}

// flagDef is one visible flag of a command.
type flagDef struct {
	names       []string // as declared: "format", "f"
	placeholder string   // "FORMAT"; "" for a switch
	usage       string   // the usage with its placeholder unquoted
	helpNames   string   // the left column of --help: "--format FORMAT, -f FORMAT"
	help        string   // the right column of --help: usage, default, [$ENV]
	env         []string
	repeatable  bool
}

// name is the command as typed: "hms-store apply".
func (c *command) name() string { return strings.Join(c.path, " ") }

// walk calls fn for c and every command below it, parents first.
func (c *command) walk(fn func(*command)) {
	fn(c)
	for _, sub := range c.commands {
		sub.walk(fn)
	}
}

// fromApp reads the command tree of app (completed by cmdutil.Prepare, as
// every App() returns it).
func fromApp(app *cli.App) *command {
	root := &command{
		path:        []string{app.Name},
		usage:       app.Usage,
		usageText:   app.UsageText,
		argsUsage:   app.ArgsUsage,
		description: app.Description,
		flags:       visibleFlags(app.Flags, app.HideHelp),
	}
	root.commands = fromCommands(root.path, app.Commands)
	return root
}

func fromCommands(parent []string, cmds []*cli.Command) []*command {
	var out []*command
	for _, cc := range cmds {
		if cc.Hidden {
			continue
		}
		c := &command{
			path:        append(append([]string(nil), parent...), cc.Name),
			usage:       cc.Usage,
			usageText:   cc.UsageText,
			argsUsage:   cc.ArgsUsage,
			description: cc.Description,
			flags:       visibleFlags(cc.Flags, cc.HideHelp),
		}
		c.commands = fromCommands(c.path, cc.Subcommands)
		out = append(out, c)
	}
	return out
}

// visibleFlags returns the flags --help lists, --help itself included
// (urfave/cli adds it when the command runs).
func visibleFlags(flags []cli.Flag, hideHelp bool) []flagDef {
	var out []flagDef
	for _, f := range flags {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		if fl, ok := newFlag(f); ok {
			out = append(out, fl)
		}
	}
	if !hideHelp && cli.HelpFlag != nil {
		if fl, ok := newFlag(cli.HelpFlag); ok {
			out = append(out, fl)
		}
	}
	return out
}

func newFlag(f cli.Flag) (flagDef, bool) {
	d, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return flagDef{}, false
	}
	// f.String() is the --help line, "NAMES\tUSAGE (default: …) [$ENV]".
	left, right, _ := strings.Cut(f.String(), "\t")
	fl := flagDef{
		names:     d.Names(),
		usage:     unquoteUsage(d.GetUsage()),
		helpNames: left,
		help:      right,
		env:       d.GetEnvVars(),
	}
	if d.TakesValue() {
		first, _, _ := strings.Cut(left, ",")
		if w := strings.Fields(first); len(w) > 1 {
			fl.placeholder = w[1]
		}
	}
	if s, ok := f.(cli.DocGenerationSliceFlag); ok && s.IsSliceFlag() {
		fl.repeatable = true
	}
	return fl, true
}

// unquoteUsage drops the backquotes that mark a flag's placeholder in its
// usage, as urfave/cli does (only the first pair is a placeholder).
func unquoteUsage(usage string) string {
	before, rest, ok := strings.Cut(usage, "`")
	if !ok {
		return usage
	}
	name, after, ok := strings.Cut(rest, "`")
	if !ok {
		return usage
	}
	return before + name + after
}

// option returns the flag's name as typed: "--format", "-f".
func option(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// options returns all the flag's names as typed.
func (f flagDef) options() []string {
	out := make([]string, len(f.names))
	for i, n := range f.names {
		out[i] = option(n)
	}
	return out
}

// valueKind says what a flag's value (or a positional argument) is, for
// completion: a file, a directory, a command, or anything else.
type valueKind int

const (
	valueNone valueKind = iota // a switch: no value
	valueAny                   // a value nothing can be offered for
	valueFile
	valueDir
	valueCommand
)

// kind reads the value's kind from the placeholder, the one thing the
// definitions say about it: FILE, DIR, CMD.
func (f flagDef) kind() valueKind {
	return placeholderKind(f.placeholder)
}

func placeholderKind(ph string) valueKind {
	switch strings.TrimSuffix(strings.ToUpper(ph), "...") {
	case "":
		return valueNone
	case "FILE", "PATH":
		return valueFile
	case "DIR", "DIRECTORY":
		return valueDir
	case "CMD", "COMMAND":
		return valueCommand
	}
	return valueAny
}

// argsKind says what the command's positional arguments are: files only
// when its synopsis names FILE arguments, not a flag's FILE (hms tools read
// stdin).
func (c *command) argsKind() valueKind {
	prev := ""
	for _, w := range strings.Fields(c.argsUsage + " " + c.usageText) {
		w = strings.Trim(w, "[]().,|")
		if (w == "FILE" || w == "FILE...") && !strings.HasPrefix(prev, "-") {
			return valueFile
		}
		prev = w
	}
	return valueNone
}

// flagEnv is an environment variable a flag reads, with its flag.
type flagEnv struct {
	env     string
	flag    flagDef
	command *command
}

// envVars returns the environment variables the flags of c and its
// commands read, in the order they are first met.
func envVars(c *command) []flagEnv {
	var out []flagEnv
	c.walk(func(cmd *command) {
		for _, f := range cmd.flags {
			for _, e := range f.env {
				out = append(out, flagEnv{env: e, flag: f, command: cmd})
			}
		}
	})
	return out
}
