package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/egan-ort/egan-ort/ort"
)

// globalOptions are the flags that every command shares. They may stand
// before the command name or among the command's own flags.
type globalOptions struct {
	// Logging, on every command.
	Quiet bool // log warnings and errors only; no progress bars
	JSON  bool // log JSON records instead of text

	// ONNX Runtime, on the commands that run it.
	OrtLib  string // the library's path; "" searches (see ort.Find)
	Device  string // execution provider: cpu or cuda
	Threads int    // intra-op threads per session
}

// ortFlagNames are the global flags that only commands running ORT take.
var ortFlagNames = []string{"ort-lib", "device", "threads"}

// logFlags returns the logging flags, bound to g.
func (g *globalOptions) logFlags() *pflag.FlagSet {
	fs := pflag.NewFlagSet("log", pflag.ContinueOnError)
	fs.BoolVar(&g.Quiet, "quiet", false, "log only warnings and errors, show no progress")
	fs.BoolVar(&g.JSON, "json", false, "log JSON records to stderr (and print JSON where a command has output)")
	return fs
}

// ortFlags returns the ONNX Runtime flags, bound to g.
func (g *globalOptions) ortFlags() *pflag.FlagSet {
	fs := pflag.NewFlagSet("ort", pflag.ContinueOnError)
	fs.StringVar(&g.OrtLib, "ort-lib", "", "ONNX Runtime library `path` or its directory\n"+
		"(default: $"+ort.EnvLibraryPath+", then third_party/ort/)")
	fs.StringVar(&g.Device, "device", string(ort.CPU), "execution provider: cpu or cuda")
	fs.IntVar(&g.Threads, "threads", ort.DefaultThreads(), "intra-op threads per ONNX Runtime session (train: 1 unless given)")
	return fs
}

// check validates the global flags that were given.
func (g *globalOptions) check() error {
	if _, err := ort.ParseDevice(g.Device); err != nil {
		return fmt.Errorf("--device %q: want cpu or cuda", g.Device)
	}
	if g.Threads < 1 {
		return fmt.Errorf("--threads %d: want at least 1", g.Threads)
	}
	return nil
}

// newLogger returns the logger that --quiet and --json ask for, writing to
// w.
func (g *globalOptions) newLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if g.Quiet {
		opts.Level = slog.LevelWarn
	}
	if g.JSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// interactive reports whether progress bars may be drawn on w: it is a
// terminal and neither --quiet nor --json was given.
func (g *globalOptions) interactive(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && !g.Quiet && !g.JSON && term.IsTerminal(int(f.Fd()))
}

// env is what a command runs with: the global options, where to write, and
// the logger.
type env struct {
	global         *globalOptions
	stdout, stderr io.Writer
	log            *slog.Logger
	progress       bool // progress bars allowed on stderr
}

// initORT loads ONNX Runtime as the global flags say and returns the
// session options they select. Commands that run graphs call it once, after
// their flags are checked and before their first session.
func (e *env) initORT() (ort.Options, error) {
	path, err := ort.Init(e.global.OrtLib)
	if err != nil {
		return ort.Options{}, err
	}
	dev, err := ort.ParseDevice(e.global.Device)
	if err != nil {
		return ort.Options{}, err
	}
	e.log.Debug("onnx runtime loaded", "path", path, "version", ort.Version(),
		"device", dev, "threads", e.global.Threads)
	return ort.Options{Device: dev, Threads: e.global.Threads}, nil
}
