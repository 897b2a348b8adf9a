package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/egan-ort/egan-ort/orchestrator"
	"github.com/egan-ort/egan-ort/report"
)

var cmdReport = &command{
	name:    "report",
	args:    "[RUN...]",
	summary: "write the study report of training runs: tables and figures",
	help: `
Report reads run directories and writes a study report into --out: README.md
and a folder of PNG figures per run. Runs are named with --runs, as
arguments, or both; '--runs runs/*' takes every directory the shell expands
the pattern to, and a quoted pattern is expanded here.

README.md opens with a table of every group of runs whose configs differ
only in their seed: its objective, its preset followed by the flags that
differ from the preset's defaults (e.g. "tuned defaults, --batch 4"), its
dataset ("synthetic" for the generated shapes), then the train, val and
test mean IoU of each run's best-on-val checkpoint as mean +- std over
the runs (the seeds), global IoU, epochs and wall time; runs of different
datasets or settings are never averaged together. Then come the commands
that reproduce the runs and, per group, a table of its runs and each
run's figures: IoU per epoch, the discriminator's scores of real and fake
masks at the first and the last epoch, the loss landscapes of the cross
entropy and of the adversarial loss at the first and the last epoch, and
sample grids (image, truth, prediction) of each split.

The sample grids run the best checkpoint with ONNX Runtime on the run's
dataset; --no-samples skips them and needs no ONNX Runtime. A relative
dataset path is read relative to the working directory, else to the run
directory's parent or grandparent (where training usually ran).

A run may be unfinished: what it lacks is left out and the report says so.
A directory that holds neither a checkpoint nor an epoch in metrics.jsonl
is skipped with a warning; report fails when no directory is a run.

An existing --out/README.md is replaced only when an earlier report wrote
it (its first line says so), and the figures it showed that the new report
does not are removed with it; any other README.md stops report before it
writes anything.`,
	ort: true,
	options: func(fs *pflag.FlagSet) options {
		o := &reportOptions{fs: fs}
		o.addFlags(fs)
		return o
	},
}

// reportOptions are report's flags.
type reportOptions struct {
	fs              *pflag.FlagSet
	Runs            []string // run directories or patterns, then the arguments
	Out             string   // report directory
	Samples         int      // images per split in the sample grids
	NoSamples       bool
	FiguresPerGroup int
}

func (o *reportOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.Runs, "runs", nil, "run `dir` or pattern (repeatable; more may follow as arguments)")
	fs.StringVarP(&o.Out, "out", "o", "", "`dir` for README.md and the figures (required)")
	fs.IntVar(&o.Samples, "samples", report.DefaultSamples, "images per split in the sample grids")
	fs.BoolVar(&o.NoSamples, "no-samples", false, "draw no sample grids (and load no ONNX Runtime)")
	fs.IntVar(&o.FiguresPerGroup, "figures-per-group", 0,
		"draw figures for the first `n` runs of each group only (0: every run)")
}

func (o *reportOptions) check(_ *globalOptions, args []string) error {
	o.Runs = append(o.Runs, args...)
	if len(o.Runs) == 0 {
		return fmt.Errorf("no run directory given: name runs with --runs or as arguments")
	}
	if o.Out == "" {
		return fmt.Errorf("--out is required: the directory for README.md and the figures")
	}
	if o.Samples < 1 && !o.NoSamples {
		return fmt.Errorf("--samples %d: want at least 1, or --no-samples", o.Samples)
	}
	if o.FiguresPerGroup < 0 {
		return fmt.Errorf("--figures-per-group %d: want 0 (every run) or more", o.FiguresPerGroup)
	}
	if o.NoSamples && o.fs.Changed("samples") {
		return fmt.Errorf("--samples and --no-samples contradict each other")
	}
	runs, err := expandRuns(o.Runs)
	if err != nil {
		return err
	}
	// An earlier report next to the runs ('-o runs/report' and then
	// 'runs/*') is not a run.
	out, _ := filepath.Abs(o.Out)
	o.Runs = slices.DeleteFunc(runs, func(r string) bool {
		abs, _ := filepath.Abs(r)
		return abs == out
	})
	if len(o.Runs) == 0 {
		return fmt.Errorf("the only run given is --out %s", o.Out)
	}
	return nil
}

// expandRuns expands the patterns among runs that name no existing path
// (a quoted 'runs/*'), and drops repeats. A pattern that matches nothing is
// an error; a plain path that does not exist is left for the report to
// skip with a warning.
func expandRuns(runs []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, r := range runs {
		paths := []string{r}
		if _, err := os.Stat(r); err != nil && strings.ContainsAny(r, "*?[") {
			m, err := filepath.Glob(r)
			if err != nil {
				return nil, fmt.Errorf("--runs %q: %w", r, err)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("--runs %q matches nothing", r)
			}
			paths = m
		}
		for _, p := range paths {
			if key := filepath.Clean(p); !seen[key] {
				seen[key] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}

func (o *reportOptions) run(ctx context.Context, e *env, _ []string) error {
	ro := report.Options{Command: trainCommand, Log: e.log, FiguresPerGroup: o.FiguresPerGroup}
	if !o.NoSamples {
		ortOpts, err := e.initORT()
		if err != nil {
			return fmt.Errorf("%w (--no-samples writes the report without ONNX Runtime)", err)
		}
		ro.Samples, ro.ORT = o.Samples, ortOpts
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	runs, err := report.Generate(o.Runs, o.Out, ro)
	if err != nil {
		return err
	}
	readme := filepath.Join(o.Out, report.ReadmeFile)
	if e.global.JSON {
		return json.NewEncoder(e.stdout).Encode(map[string]any{"report": readme, "runs": runs})
	}
	dirs := "1 directory"
	if len(runs) != 1 {
		dirs = fmt.Sprintf("%d directories", len(runs))
	}
	fmt.Fprintf(e.stdout, "report of %s written to %s\n", dirs, readme)
	return nil
}

// trainCommand returns the egan-ort train command line that reproduces a
// run of config c: its objective and preset, then every flag whose value
// differs from what the preset gives. Config fields without a flag are
// not shown.
func trainCommand(c orchestrator.Config) string {
	// An absolute dataset path is shown relative to the working directory,
	// where the commands are meant to be run, and holds no machine path.
	if wd, err := os.Getwd(); err == nil && filepath.IsAbs(c.Data) {
		if rel, err := filepath.Rel(wd, filepath.Clean(c.Data)); err == nil {
			c.Data = rel
		}
	}
	base := orchestrator.DefaultConfig(c.Objective)
	args := []string{"egan-ort", "train", "--objective", shellWord(c.Objective)}
	if base.ApplyPreset(c.Preset) == nil && c.Preset != "" {
		args = append(args, "--preset", shellWord(c.Preset))
	}
	want := pflag.NewFlagSet("defaults", pflag.ContinueOnError)
	bindConfig(want, &base)
	have := pflag.NewFlagSet("run", pflag.ContinueOnError)
	have.SortFlags = false // in the order train --help lists them
	bindConfig(have, &c)
	have.VisitAll(func(f *pflag.Flag) {
		v := f.Value.String()
		if f.Name == "objective" || want.Lookup(f.Name).Value.String() == v {
			return
		}
		if f.Value.Type() == "bool" {
			args = append(args, "--"+f.Name+"="+v)
			return
		}
		args = append(args, "--"+f.Name, shellWord(v))
	})
	return strings.Join(args, " ")
}

// shellWord quotes s for a POSIX shell when it holds anything but safe
// characters.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
