package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/pflag"
)

var cmdEval = &command{
	name:    "eval",
	args:    "RUN",
	summary: "compute the IoU of a trained model on dataset splits",
	help: `
Eval loads the last checkpoint of the run directory RUN (or RUN itself when
it is a checkpoint file), runs deterministic inference on the chosen split of
--data and prints its mean IoU (per image at threshold 0.5, averaged) and
global IoU. --data defaults to the data the run was trained on.`,
	ort: true,
	options: func(fs *pflag.FlagSet) options {
		o := &evalOptions{}
		o.addFlags(fs)
		return o
	},
}

// splits are the values eval's --split accepts.
var splits = []string{"train", "val", "test", "all"}

// evalOptions are eval's flags.
type evalOptions struct {
	Data  string // dataset; "" means the run's own
	Split string // one of splits
	Batch int
}

func (o *evalOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Data, "data", "", "dataset: synthetic, or a dataset `dir` (default: the run's)")
	fs.StringVar(&o.Split, "split", "test", "split to evaluate: "+joinOr(splits))
	fs.IntVar(&o.Batch, "batch", 32, "images per inference batch")
}

func (o *evalOptions) check(_ *globalOptions, args []string) error {
	switch {
	case len(args) != 1:
		return fmt.Errorf("want one run directory or checkpoint, got %d arguments", len(args))
	case !slices.Contains(splits, o.Split):
		return fmt.Errorf("--split %q: want %s", o.Split, joinOr(splits))
	case o.Batch < 1:
		return fmt.Errorf("--batch %d: want at least 1", o.Batch)
	}
	return nil
}

func (o *evalOptions) run(ctx context.Context, e *env, args []string) error {
	// TODO: evaluation needs the checkpoint format of models/ and the
	// inference of langevin/, neither written yet.
	return errNotImplemented
}
