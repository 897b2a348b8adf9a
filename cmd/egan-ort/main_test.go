package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// wantORT is the ONNX Runtime release that scripts/install-ort.sh pins.
const wantORT = "1.30.0"

// childEnv, when set, makes the test binary run egan-ort itself on its
// arguments and exit: for what needs a fresh process, such as a failed load
// of ONNX Runtime (which loads once per process) or the real exit status.
const childEnv = "EGAN_ORT_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// result is the outcome of one egan-ort command line.
type result struct {
	code           int
	stdout, stderr string
}

// runArgs runs egan-ort in this process.
func runArgs(ctx context.Context, args ...string) result {
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

// runChild runs egan-ort in a child process with extra environment.
func runChild(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{cmd.ProcessState.ExitCode(), out.String(), errb.String()}
}

// TestHelpListsCommands checks the help asked for, on stdout with exit
// status 0, and the help of a command line without a command, a usage
// error: on stderr with exit status 2.
func TestHelpListsCommands(t *testing.T) {
	for _, args := range [][]string{nil, {"--quiet"}, {"--help"}, {"-h"}, {"help"}} {
		r := runArgs(context.Background(), args...)
		help, other, code := r.stdout, r.stderr, exitOK
		if len(args) == 0 || args[0] == "--quiet" {
			help, other, code = r.stderr, r.stdout, exitUsage
		}
		if r.code != code || other != "" {
			t.Errorf("egan-ort %v: exit %d, stdout %q, stderr %q; want %d and the help alone",
				args, r.code, r.stdout, r.stderr, code)
		}
		for _, name := range []string{"train", "eval", "infer", "export", "report", "bench", "version"} {
			if !regexp.MustCompile(`(?m)^  ` + name + ` +\S`).MatchString(help) {
				t.Errorf("egan-ort %v does not list %s with a summary:\n%s", args, name, help)
			}
		}
		for _, flag := range []string{"--ort-lib", "--device", "--threads", "--quiet", "--json"} {
			if !strings.Contains(help, flag) {
				t.Errorf("egan-ort %v does not list the global flag %s", args, flag)
			}
		}
	}
}

func TestCommandHelp(t *testing.T) {
	for _, c := range commands {
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}} {
			r := runArgs(context.Background(), args...)
			if r.code != exitOK || r.stderr != "" {
				t.Errorf("egan-ort %v: exit %d, stderr %q; want 0 and nothing", args, r.code, r.stderr)
			}
			if !strings.HasPrefix(r.stdout, "Usage:\n  egan-ort "+c.name+" [flags]") {
				t.Errorf("egan-ort %v does not open with its usage line:\n%s", args, r.stdout)
			}
			if got := strings.Contains(r.stdout, "--ort-lib"); got != c.ort {
				t.Errorf("egan-ort %v lists --ort-lib: %v, want %v", args, got, c.ort)
			}
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string // in stderr, before the hint
		hint string
	}{
		{[]string{"trian"}, `unknown command "trian"; did you mean "train"?`, "egan-ort --help"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`, "egan-ort --help"},
		{[]string{"--bogus", "train"}, "unknown flag: --bogus", "egan-ort --help"},
		{[]string{"train", "--epoch", "3"}, "unknown flag: --epoch", "egan-ort train --help"},
		{[]string{"train", "--epochs", "x"}, `invalid argument "x" for "--epochs"`, "egan-ort train --help"},
		{[]string{"train", "--objective", "gan"}, `unknown objective "gan"`, "egan-ort train --help"},
		{[]string{"train", "--resume"}, "flag needs an argument: --resume", "egan-ort train --help"},
		{[]string{"train", "--resume", "a", "--out", "b"}, "differs", "egan-ort train --help"},
		{[]string{"train", "--preset", "fast"}, `unknown preset "fast"`, "egan-ort train --help"},
		{[]string{"train", "--scale", "NaN"}, "--scale must be a finite number", "egan-ort train --help"},
		{[]string{"train", "--shift", "-1"}, "--shift -1", "egan-ort train --help"},
		{[]string{"train", "extra"}, `unexpected argument "extra"`, "egan-ort train --help"},
		{[]string{"--device", "gpu", "train"}, `--device "gpu"`, "egan-ort train --help"},
		{[]string{"bench", "--threads", "0"}, "--threads 0", "egan-ort bench --help"},
		{[]string{"bench", "--preset", "fast"}, `--preset "fast"`, "egan-ort bench --help"},
		{[]string{"bench", "--size", "513"}, "--size 513: want 8 to 512", "egan-ort bench --help"},
		{[]string{"bench", "--size", "4"}, "--size 4: want 8 to 512", "egan-ort bench --help"},
		{[]string{"bench", "--batch", "100000"}, "--batch 100000: want 2 to 4096", "egan-ort bench --help"},
		{[]string{"bench", "--iters", "0"}, "--iters 0: want at least 1", "egan-ort bench --help"},
		{[]string{"train", "--lr-schedule", "step"}, `--lr-schedule "step"`, "egan-ort train --help"},
		{[]string{"train", "--weight-decay", "-1"}, "--weight-decay must be ≥ 0", "egan-ort train --help"},
		{[]string{"train", "--energy-depth", "1000"}, "--energy-depth 1000:", "egan-ort train --help"},
		{[]string{"train", "--energy-depth", "65", "--size", "8"}, "--energy-depth 65: with --energy-dilate", "egan-ort train --help"},
		{[]string{"train", "--energy-depth", "7"}, "must be below --size 32", "egan-ort train --help"},
		{[]string{"train", "--unary-depth", "64"}, "--unary-depth 64", "egan-ort train --help"},
		{[]string{"train", "--batch", "100000000"}, "--batch 100000000: want 1 to 4096", "egan-ort train --help"},
		{[]string{"train", "--eval-batch", "100000000"}, "--eval-batch 100000000: want 1 to 4096", "egan-ort train --help"},
		{[]string{"train", "--energy-channels", "100000"}, "--energy-channels 100000: want 1 to 1024", "egan-ort train --help"},
		{[]string{"train", "--unary-channels", "100000"}, "--unary-channels 100000: want 0 to 1024", "egan-ort train --help"},
		{[]string{"train", "--disc-channels", "100000"}, "--disc-channels 100000: want 1 to 1024", "egan-ort train --help"},
		{[]string{"train", "--steps", "100000"}, "--steps 100000: want 1 to 1000", "egan-ort train --help"},
		{[]string{"train", "--landscape", "100000"}, "--landscape 100000", "egan-ort train --help"},
		{[]string{"train", "--weight-decay", "1e30"}, "--weight-decay 1e+30: with --lr-ce 0.002", "egan-ort train --help"},
		{[]string{"train", "--weight-decay", "-Inf"}, "--weight-decay must be a finite number", "egan-ort train --help"},
		{[]string{"train", "--ema", "1"}, "--ema 1: want a decay in [0, 1)", "egan-ort train --help"},
		{[]string{"train", "--ema", "-0.5"}, "--ema -0.5: want a decay in [0, 1)", "egan-ort train --help"},
		{[]string{"train", "--ema", "NaN"}, "--ema must be a finite number", "egan-ort train --help"},
		{[]string{"--threads", "3", "export", "--run", "r"}, "--threads does not apply", "egan-ort export --help"},
		{[]string{"export", "--device", "cpu", "--run", "r"}, "unknown flag: --device", "egan-ort export --help"},
		{[]string{"report", "r"}, "--out is required", "egan-ort report --help"},
		{[]string{"eval"}, "want one run directory", "egan-ort eval --help"},
		{[]string{"infer"}, "no images", "egan-ort infer --help"},
		{[]string{"export", "--run", "r", "-o", "m.pb"}, "ending in .onnx", "egan-ort export --help"},
		{[]string{"export", "r"}, `unexpected argument "r"`, "egan-ort export --help"},
		{[]string{"export", "--run", "r", "--steps", "-3"}, "--steps -3: want ≥ 0", "egan-ort export --help"},
		{[]string{"export", "--run", "r", "--batch", "0"}, "--batch 0: want ≥ 1", "egan-ort export --help"},
		{[]string{"version", "now"}, `unexpected argument "now"`, "egan-ort version --help"},
	}
	for _, tc := range tests {
		r := runArgs(context.Background(), tc.args...)
		if r.code != exitUsage {
			t.Errorf("egan-ort %v: exit %d, want %d", tc.args, r.code, exitUsage)
		}
		if !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "Run '"+tc.hint+"' for usage.") {
			t.Errorf("egan-ort %v: stderr %q, want %q and a hint to %s", tc.args, r.stderr, tc.want, tc.hint)
		}
	}
}

// TestTrainRefusalsWriteNothing: a refused train command line reports one
// problem in one line, under its flag, and creates no run directory.
func TestTrainRefusalsWriteNothing(t *testing.T) {
	for _, args := range [][]string{
		{"--energy-depth", "65", "--size", "8"},
		{"--batch", "100000000"},
		{"--weight-decay", "-Inf"},
		{"--weight-decay", "1e30"},
		{"--ema", "1"},
		{"--lr-ce", "-Inf"},
		{"--steps", "100000"},
	} {
		out := filepath.Join(t.TempDir(), "run")
		r := runArgs(context.Background(), append([]string{"train", "--out", out}, args...)...)
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		if r.code != exitUsage || len(lines) != 2 || !strings.Contains(lines[0], args[0]) {
			t.Errorf("train %v: exit %d, stderr %q; want %d and one line naming %s before the hint",
				args, r.code, r.stderr, exitUsage, args[0])
		}
		if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("train %v: the refused run made %s (%v)", args, out, err)
		}
	}
}

func TestVersion(t *testing.T) {
	defer func(v string) { version = v }(version)
	version = "v9.9.9-test" // as -ldflags "-X main.version=..." sets it

	r := runArgs(context.Background(), "version", "--threads", "1")
	if r.code != exitOK {
		t.Fatalf("egan-ort version: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, re := range []string{
		`(?m)^egan-ort +v9\.9\.9-test$`,
		`(?m)^go +go1\.\d+`,
		`(?m)^onnxruntime +` + regexp.QuoteMeta(wantORT) + `$`,
		`(?m)^library +/\S+libonnxruntime\.so\.1$`,
		`(?m)^device +cpu \(works\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("egan-ort version output does not match %s:\n%s", re, r.stdout)
		}
	}

	r = runArgs(context.Background(), "--json", "version")
	var v versionInfo
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || r.code != exitOK {
		t.Fatalf("egan-ort --json version: exit %d, %v:\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if v.EganORT != "v9.9.9-test" || v.ORT != wantORT || !v.DeviceOK || v.Library == "" {
		t.Errorf("egan-ort --json version = %+v", v)
	}
}

// TestVersionWithoutLibrary runs version in a fresh process with a library
// path that does not exist: it must print the versions it knows, then the
// error with the path tried and the install command, and exit 1.
func TestVersionWithoutLibrary(t *testing.T) {
	missing := t.TempDir() + "/libonnxruntime.so.1"
	r := runChild(t, nil, "version", "--ort-lib", missing)
	if r.code != exitFailure {
		t.Errorf("exit %d, want %d", r.code, exitFailure)
	}
	if !regexp.MustCompile(`(?m)^go +go1\.`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^onnxruntime +unavailable$`).MatchString(r.stdout) {
		t.Errorf("stdout lacks the Go version or the unavailable ORT:\n%s", r.stdout)
	}
	for _, want := range []string{"egan-ort version: ort:", missing, "make setup"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}

	r = runChild(t, nil, "--json", "version", "--ort-lib", missing)
	var v versionInfo
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || r.code != exitFailure {
		t.Fatalf("--json: exit %d, %v:\n%s", r.code, err, r.stdout)
	}
	if v.ORT != "" || !strings.Contains(v.Error, missing) {
		t.Errorf("--json: %+v, want no ORT version and an error naming %s", v, missing)
	}
}

// TestExitStatus checks the statuses a real process exits with.
func TestExitStatus(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--help"}, exitOK},
		{nil, exitUsage},
		{[]string{"nosuch"}, exitUsage},
		{[]string{"train", "--epochs", "0"}, exitUsage},
		{[]string{"version"}, exitOK},
	} {
		if r := runChild(t, nil, tc.args...); r.code != tc.want {
			t.Errorf("egan-ort %v: exit %d, want %d\n%s", tc.args, r.code, tc.want, r.stderr)
		}
	}
}

// TestInterrupted runs a command under a context that a signal has
// already cancelled.
func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := runArgs(ctx, "version")
	if r.code != exitInterrupted || !strings.Contains(r.stderr, "egan-ort version: interrupted") {
		t.Errorf("exit %d, stderr %q; want %d and an interrupted message", r.code, r.stderr, exitInterrupted)
	}
}

func TestExitCode(t *testing.T) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	bg := context.Background()
	for _, tc := range []struct {
		ctx  context.Context
		err  error
		want int
	}{
		{bg, nil, exitOK},
		{bg, errors.New("disk full"), exitFailure},
		{bg, usagef("train", "bad"), exitUsage},
		{bg, context.Canceled, exitInterrupted},
		{bg, interrupted("checkpoint saved"), exitInterrupted},
		{done, errors.New("run stopped"), exitInterrupted},
		{done, nil, exitOK},
	} {
		if got := exitCode(tc.ctx, tc.err); got != tc.want {
			t.Errorf("exitCode(cancelled=%v, %v) = %d, want %d", tc.ctx.Err() != nil, tc.err, got, tc.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"train", "train", 0}, {"trian", "train", 2}, {"evl", "eval", 1},
		{"", "bench", 5}, {"version", "versions", 1},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
