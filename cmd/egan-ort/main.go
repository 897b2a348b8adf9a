// Command egan-ort trains end-to-end energy-based GANs for binary image
// segmentation, evaluates and exports them. ONNX Runtime runs the graphs;
// this program does everything around them.
//
// Usage:
//
//	egan-ort [global flags] <command> [flags] [args]
//
// Each command lives in its own file (cmd_train.go, ...) with an options
// struct that registers its flags, checks their combination before any work
// starts, and runs. Exit codes are decided in exit.go alone.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/egan-ort/egan-ort/data"
)

// command is one subcommand: its help texts and how to make its options.
type command struct {
	name    string
	args    string // what follows the flags in the usage line, e.g. "IMAGE..."
	summary string // one line for egan-ort --help
	help    string // paragraphs for egan-ort <command> --help
	ort     bool   // runs ONNX Runtime, so takes --ort-lib, --device, --threads

	// options registers the command's flags on fs, bound to a fresh
	// options value, and returns that value.
	options func(fs *pflag.FlagSet) options
}

// options are a command's parsed flags.
type options interface {
	// check validates the flags and arguments together, before any work
	// starts. Its errors are usage errors.
	check(g *globalOptions, args []string) error
	// run does the command's work.
	run(ctx context.Context, e *env, args []string) error
}

// commands lists the commands in the order egan-ort --help shows them.
var commands = []*command{
	cmdTrain, cmdEval, cmdInfer, cmdExport, cmdReport, cmdBench, cmdVersion,
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, restore the default handling, so that a
	// second Ctrl-C ends a command that is slow to stop.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses args (without the program name), runs the command they name
// and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var g globalOptions
	top := newFlagSet("egan-ort")
	help := top.BoolP("help", "h", false, "show this help")
	top.AddFlagSet(g.logFlags())
	top.AddFlagSet(g.ortFlags())
	// Flags after the command name belong to the command's flag set.
	top.SetInterspersed(false)
	if err := top.Parse(args); err != nil {
		return reportError(ctx, stderr, false, "", &usageError{err: err})
	}
	rest := top.Args()
	if *help {
		printHelp(stdout, top)
		return exitOK
	}
	if len(rest) == 0 {
		// No command is a bad command line: the help goes where usage
		// errors go, and scripts see exit status 2.
		printHelp(stderr, top)
		return exitUsage
	}
	name := rest[0]
	if name == "help" {
		// "egan-ort help train" is "egan-ort train --help".
		if len(rest) == 1 {
			printHelp(stdout, top)
			return exitOK
		}
		name, rest = rest[1], []string{rest[1], "--help"}
	}
	cmd := lookup(name)
	if cmd == nil {
		return reportError(ctx, stderr, g.JSON, "", unknownCommand(name))
	}
	return runCommand(ctx, cmd, top, &g, rest[1:], stdout, stderr)
}

// runCommand parses a command's flags on top of the global ones given
// before its name, checks them, and runs it.
func runCommand(ctx context.Context, cmd *command, top *pflag.FlagSet, g *globalOptions,
	args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("egan-ort " + cmd.name)
	help := fs.BoolP("help", "h", false, "show this help")
	opts := cmd.options(fs)
	// The global flags are shared *pflag.Flag values: whatever was set
	// before the command name stays set, and may be set again after it.
	own := newFlagSet("")
	own.AddFlagSet(fs)
	global := cmd.globalFlags(top)
	fs.AddFlagSet(global)

	if err := fs.Parse(args); err != nil {
		return reportError(ctx, stderr, g.JSON, cmd.name, &usageError{cmd: cmd.name, err: err})
	}
	if *help {
		printCommandHelp(stdout, cmd, own, global)
		return exitOK
	}
	if err := cmd.checkGlobal(top, g); err != nil {
		return reportError(ctx, stderr, g.JSON, cmd.name, err)
	}
	if err := opts.check(g, fs.Args()); err != nil {
		var ue *usageError
		if !errors.As(err, &ue) {
			err = &usageError{cmd: cmd.name, err: err}
		}
		return reportError(ctx, stderr, g.JSON, cmd.name, err)
	}

	log := g.newLogger(stderr)
	slog.SetDefault(log)
	e := &env{global: g, stdout: stdout, stderr: stderr, log: log, progress: g.interactive(stderr)}
	err := ctx.Err() // a signal during start-up stops before any work
	if err == nil {
		err = opts.run(ctx, e, fs.Args())
	}
	return reportError(ctx, stderr, g.JSON, cmd.name, nameLimitFlag(err, fs))
}

// limitFlags maps the fields of data.Limits to the flags that set them.
var limitFlags = map[string]string{"MaxPixels": "max-pixels"}

// nameLimitFlag adds to an error of an input limit (data.LimitError) the
// flag that sets the limit, when the command whose flags fs holds has one.
// The data package names no flags: one limit is a flag of several commands.
func nameLimitFlag(err error, fs *pflag.FlagSet) error {
	var le *data.LimitError
	if !errors.As(err, &le) {
		return err
	}
	if name, ok := limitFlags[le.Field]; ok && fs.Lookup(name) != nil {
		return fmt.Errorf("%w; --%s sets that limit", err, name)
	}
	return err
}

// globalFlags returns the global flags that cmd takes, taken from top so
// that they share its values.
func (c *command) globalFlags(top *pflag.FlagSet) *pflag.FlagSet {
	fs := newFlagSet("")
	top.VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" && (c.ort || !isORTFlag(f.Name)) {
			fs.AddFlag(f)
		}
	})
	return fs
}

// checkGlobal validates the global flags for cmd. An ORT flag given before
// the name of a command that does not run ORT is refused: it would have no
// effect, and the user probably meant another command.
func (c *command) checkGlobal(top *pflag.FlagSet, g *globalOptions) error {
	for _, name := range ortFlagNames {
		if !c.ort && top.Changed(name) {
			return usagef(c.name, "--%s does not apply: %s does not run ONNX Runtime", name, c.name)
		}
	}
	if !c.ort {
		return nil
	}
	if err := g.check(); err != nil {
		return &usageError{cmd: c.name, err: err}
	}
	return nil
}

func isORTFlag(name string) bool {
	for _, n := range ortFlagNames {
		if n == name {
			return true
		}
	}
	return false
}

// newFlagSet returns a flag set that reports errors to its caller and
// prints nothing itself: egan-ort prints help and errors in one place.
func newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// unknownCommand is the usage error for a command name that does not
// exist, with the nearest known name when one is close.
func unknownCommand(name string) error {
	best, bestDist := "", 3 // suggest only within two edits
	for _, c := range commands {
		if d := editDistance(name, c.name); d < bestDist {
			best, bestDist = c.name, d
		}
	}
	if best != "" {
		return usagef("", "unknown command %q; did you mean %q?", name, best)
	}
	return usagef("", "unknown command %q", name)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// printHelp writes egan-ort --help.
func printHelp(w io.Writer, top *pflag.FlagSet) {
	var b strings.Builder
	b.WriteString("egan-ort trains energy-based GANs for binary image segmentation.\n" +
		"ONNX Runtime runs the graphs; egan-ort does everything around them.\n\n")
	b.WriteString("Usage:\n  egan-ort [global flags] <command> [flags] [args]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	b.WriteString("\nGlobal flags:\n")
	b.WriteString(flagUsages(top))
	b.WriteString("\nThe ONNX Runtime flags (--ort-lib, --device, --threads) apply to\n" +
		"every command but export. Run 'egan-ort <command> --help' for a\n" +
		"command's own flags.\n")
	io.WriteString(w, b.String())
}

// printCommandHelp writes egan-ort <command> --help.
func printCommandHelp(w io.Writer, c *command, own, global *pflag.FlagSet) {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage:\n  egan-ort %s [flags]", c.name)
	if c.args != "" {
		b.WriteString(" " + c.args)
	}
	fmt.Fprintf(&b, "\n\n%s\n", strings.TrimSpace(c.help))
	b.WriteString("\nFlags:\n")
	b.WriteString(flagUsages(own))
	b.WriteString("\nGlobal flags:\n")
	b.WriteString(flagUsages(global))
	io.WriteString(w, b.String())
}

// joinOr lists words as "a, b or c".
func joinOr(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// flagUsages lists the flags of fs, one per line with the usage aligned,
// continuation lines of a multi-line usage indented to match. Unlike
// pflag's own listing it shows boolean flags without "[=true|false]".
func flagUsages(fs *pflag.FlagSet) string {
	var names, usages []string
	width := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		name := "      --" + f.Name
		if f.Shorthand != "" {
			name = "  -" + f.Shorthand + ", --" + f.Name
		}
		varname, usage := pflag.UnquoteUsage(f)
		if varname != "" && f.Value.Type() != "bool" {
			name += " " + varname
		}
		switch f.DefValue {
		case "", "false", "0", "0s", "[]":
		default:
			if f.Value.Type() == "string" {
				usage += fmt.Sprintf(" (default %q)", f.DefValue)
			} else {
				usage += " (default " + f.DefValue + ")"
			}
		}
		names, usages = append(names, name), append(usages, usage)
		width = max(width, len(name))
	})
	var b strings.Builder
	indent := "\n" + strings.Repeat(" ", width+3)
	for i, name := range names {
		fmt.Fprintf(&b, "%-*s   %s\n", width, name, strings.ReplaceAll(usages[i], "\n", indent))
	}
	return b.String()
}
