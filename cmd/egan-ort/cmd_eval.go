package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/pflag"

	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/orchestrator"
)

var cmdEval = &command{
	name:    "eval",
	summary: "compute the IoU of a trained model on dataset splits",
	help: `
Eval loads checkpoint --checkpoint (default best, the one with the highest
val mean IoU) of the run directory --run, runs the deterministic Langevin
inference (with the run's --tta: flip averages each mask with the mirror
image's) over the chosen split of the dataset and prints, per split, the
number of images, the mean IoU (per-image foreground IoU at threshold 0.5,
averaged) and the global IoU (intersections over unions summed over the
split). With --json it prints one JSON object.

--data defaults to the dataset the run was trained on, as config.json
records it (a relative path is read from the working directory). It may name
another dataset directory in either Weizmann layout, resized to the model's
size, or "synthetic" for the generated shapes. The images are normalised
with the statistics of the run's own training split, as in training.

Limits: images above --max-pixels are refused before their pixels are
decoded, and a dataset of more than 100000 files is refused.`,
	ort: true,
	options: func(fs *pflag.FlagSet) options {
		o := &evalOptions{}
		o.addFlags(fs)
		return o
	},
}

// splits are the values eval's --split accepts, "all" last.
var splits = []string{"train", "val", "test", "all"}

// checkpointNames are the values of --checkpoint.
var checkpointNames = []string{orchestrator.BestCheckpoint, orchestrator.LastCheckpoint}

// evalOptions are eval's flags.
type evalOptions struct {
	Run        string // run directory
	Checkpoint string // best or last
	Data       string // dataset dir or "synthetic"; "" means the run's own
	Split      string // one of splits
	MaxPixels  int64
}

func (o *evalOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Run, "run", "", "run `dir` to evaluate (required)")
	fs.StringVar(&o.Checkpoint, "checkpoint", orchestrator.BestCheckpoint, "checkpoint to evaluate: best or last")
	fs.StringVar(&o.Data, "data", "", "dataset `dir`, or synthetic (default: the run's)")
	fs.StringVar(&o.Split, "split", "all", "split to evaluate: "+joinOr(splits))
	fs.Int64Var(&o.MaxPixels, "max-pixels", data.DefaultMaxPixels, "refuse images with more `pixels` than this")
}

func (o *evalOptions) check(_ *globalOptions, args []string) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected argument %q (name the run with --run)", args[0])
	case o.Run == "":
		return fmt.Errorf("want one run directory: --run RUN_DIR is required")
	case !slices.Contains(splits, o.Split):
		return fmt.Errorf("--split %q: want %s", o.Split, joinOr(splits))
	case o.MaxPixels < 1:
		return fmt.Errorf("--max-pixels %d: want at least 1", o.MaxPixels)
	}
	return checkCheckpointName(o.Checkpoint)
}

// evalResult is what eval prints with --json; the names are stable for
// scripts. A split that was not evaluated is absent.
type evalResult struct {
	Run        string                 `json:"run"`
	Checkpoint string                 `json:"checkpoint"`
	Epoch      int                    `json:"epoch"` // completed epochs of the checkpoint
	Objective  string                 `json:"objective"`
	Data       string                 `json:"data"` // dataset dir, or "synthetic"
	Layout     string                 `json:"layout"`
	Train      *orchestrator.SplitIoU `json:"train,omitempty"`
	Val        *orchestrator.SplitIoU `json:"val,omitempty"`
	Test       *orchestrator.SplitIoU `json:"test,omitempty"`
}

func (o *evalOptions) run(ctx context.Context, e *env, _ []string) error {
	if err := checkRunDir(o.Run, o.Checkpoint); err != nil {
		return err
	}
	ortOpts, err := e.initORT()
	if err != nil {
		return err
	}
	m, err := orchestrator.OpenModel(o.Run, o.Checkpoint, ortOpts)
	if err != nil {
		return err
	}
	defer m.Destroy()
	cfg := m.Config()
	ds, dataName, layout, err := o.loadData(cfg)
	if err != nil {
		return err
	}
	e.log.Info("model", "run", o.Run, "checkpoint", o.Checkpoint, "epoch", m.State.Epoch,
		"objective", cfg.Objective, "size", cfg.Size, "data", dataName, "dataset", data.DescribeLayout(layout))

	// Evaluate the splits asked for, in the order train, val, test.
	res := evalResult{Run: o.Run, Checkpoint: o.Checkpoint, Epoch: m.State.Epoch,
		Objective: cfg.Objective, Data: dataName, Layout: layout}
	dst := []**orchestrator.SplitIoU{&res.Train, &res.Val, &res.Test}
	var names []string
	for i, d := range ds.All() {
		name := splits[i]
		if o.Split != "all" && o.Split != name {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.Len() == 0 {
			return fmt.Errorf("evaluate %s: the %s split of %s holds no images", o.Run, name, dataName)
		}
		r, err := m.Evaluate(d, nil)
		if err != nil {
			return fmt.Errorf("evaluate %s on the %s split: %w", o.Run, name, err)
		}
		*dst[i] = &r
		names = append(names, name)
	}

	if e.global.JSON {
		if err := json.NewEncoder(e.stdout).Encode(res); err != nil {
			return fmt.Errorf("write result: %w", err)
		}
		return nil
	}
	fmt.Fprintf(e.stdout, "run %s, checkpoint %s (epoch %d, %s), data %s\n",
		o.Run, o.Checkpoint, m.State.Epoch, cfg.Objective, dataName)
	fmt.Fprintln(e.stdout, "split  images  mean IoU  global IoU")
	for _, name := range names {
		r := *dst[slices.Index(splits, name)]
		fmt.Fprintf(e.stdout, "%-5s  %6d  %8.4f  %10.4f\n", name, r.Images, r.Mean, r.Global)
	}
	return nil
}

// loadData loads the dataset that --data names, or the run's own, at the
// model's size, and returns it with the name it goes by and its layout.
func (o *evalOptions) loadData(cfg orchestrator.Config) (*data.Splits, string, string, error) {
	switch o.Data {
	case "synthetic":
		cfg.Data = ""
	case "":
		// The run records --data as it was given: a relative path holds
		// only from the directory that train ran in.
		if cfg.Data != "" {
			if _, err := os.Stat(cfg.Data); errors.Is(err, fs.ErrNotExist) {
				return nil, "", "", fmt.Errorf("the run's dataset %s (recorded in %s) does not exist "+
					"from this directory: pass --data DIR", cfg.Data, filepath.Join(o.Run, "config.json"))
			}
		}
	default:
		cfg.Data = o.Data
	}
	lim := data.Limits{MaxPixels: o.MaxPixels, MaxFiles: data.DefaultMaxFiles}
	ds, layout, err := orchestrator.LoadData(cfg, lim)
	if err != nil {
		return nil, "", "", err
	}
	name := cfg.Data
	if name == "" {
		name = "synthetic"
	}
	return ds, name, layout, nil
}

// checkCheckpointName returns a usage error unless name is best or last.
func checkCheckpointName(name string) error {
	if !slices.Contains(checkpointNames, name) {
		return fmt.Errorf("--checkpoint %q: want %s", name, joinOr(checkpointNames))
	}
	return nil
}

// checkRunDir explains, before any model is loaded, why dir cannot hold
// checkpoint name: it does not exist, is not a directory, holds no
// checkpoint, or holds only the other one. A record that is present but
// corrupt passes here; the checkpoint package's errors name its files.
func checkRunDir(dir, name string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("run directory %s does not exist: train a model first "+
			"(egan-ort train --out %s)", dir, dir)
	case err != nil:
		return fmt.Errorf("run directory: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("%s is not a run directory (want the directory that train wrote)", dir)
	}
	has := func(n string) bool {
		_, err := os.Stat(filepath.Join(dir, n+".json"))
		return !errors.Is(err, fs.ErrNotExist)
	}
	if has(name) {
		return nil
	}
	for _, other := range checkpointNames {
		if other != name && has(other) {
			return fmt.Errorf("run directory %s has no %s checkpoint (%s.json), only %s: "+
				"pass --checkpoint %s", dir, name, name, other, other)
		}
	}
	return fmt.Errorf("run directory %s holds no checkpoint (no %s.json): train a model first "+
		"(egan-ort train --out %s), or name another run", dir, name, dir)
}
