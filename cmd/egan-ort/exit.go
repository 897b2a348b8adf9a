package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// Exit codes. Every path out of the program goes through exitCode, so
// these are the only values egan-ort exits with.
const (
	exitOK          = 0   // the command did its work
	exitFailure     = 1   // the command failed while working
	exitUsage       = 2   // bad command line
	exitInterrupted = 130 // stopped by SIGINT or SIGTERM (128 + SIGINT)
)

// usageError is a mistake on the command line, found before any work
// started. cmd is the command it concerns, or "" for the top level; the
// hint printed after it points to that command's help.
type usageError struct {
	cmd string
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError for cmd with a formatted message.
func usagef(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, err: fmt.Errorf(format, args...)}
}

// exitCode maps the outcome of a command to the process's exit status. An
// error after ctx was cancelled is an interruption, whatever it says: the
// command most likely failed because it was told to stop.
func exitCode(ctx context.Context, err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &ue):
		return exitUsage
	}
	return exitFailure
}

// reportError writes err for a human on stderr, prefixed with the command
// it concerns, and returns the exit code. With asJSON (--json) the error is
// one JSON log record instead, so that a script reading stderr sees nothing
// but JSON lines.
func reportError(ctx context.Context, stderr io.Writer, asJSON bool, cmd string, err error) int {
	code := exitCode(ctx, err)
	if err == nil {
		return code
	}
	prog := "egan-ort"
	if cmd != "" {
		prog += " " + cmd
	}
	if code == exitInterrupted {
		err = fmt.Errorf("interrupted: %w", err)
	}
	if asJSON {
		slog.New(slog.NewJSONHandler(stderr, nil)).Error(prog+": "+err.Error(), "exit", code)
		return code
	}
	fmt.Fprintf(stderr, "%s: %v\n", prog, err)
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", prog)
	}
	return code
}
