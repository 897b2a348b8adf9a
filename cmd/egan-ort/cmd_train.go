package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/pflag"
)

var cmdTrain = &command{
	name:    "train",
	summary: "train an energy network and its discriminator, writing a run directory",
	help: `
Train trains the energy network E(X, Y) end to end through its unrolled
Langevin inference, against a discriminator D(X, Y*, Y) under one of the GAN
objectives, or with cross entropy alone (--objective ce, the baseline).

--data names the training data: "synthetic" for generated shapes that need
no files, or a directory in one of the two Weizmann layouts: the 32x32 split
(images/, masks/, train.txt, val.txt, test.txt, as in
../shared/data/weizmann_horse_32) or the full database (rgb/,
figure_ground/), resized to --size.

The run directory (--out) receives the resolved configuration,
metrics.jsonl, checkpoints, plots and the exported model. --resume continues
the run in --out from its last checkpoint.`,
	ort: true,
	options: func(fs *pflag.FlagSet) options {
		o := &trainOptions{}
		o.addFlags(fs)
		return o
	},
}

// objectives are the values --objective accepts.
var objectives = []string{"ce", "wgan-gp", "ebgan", "mse", "logloss"}

// trainOptions are train's flags. The defaults follow the report's Table 2.
type trainOptions struct {
	Data      string // "synthetic" or a dataset directory
	Size      int    // image side when --data is the full Weizmann layout
	Out       string // run directory; "" makes one under runs/
	Resume    bool   // continue the run in Out from its last checkpoint
	Objective string // one of objectives
	Epochs    int
	Batch     int
	Steps     int    // T, the unrolled inference steps
	Seed      uint64 // seeds parameters, noise, batches and augmentation
}

func (o *trainOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Data, "data", "synthetic", "training data: synthetic, or a dataset `dir`")
	fs.IntVar(&o.Size, "size", 32, "image side in pixels for the full Weizmann layout")
	fs.StringVar(&o.Out, "out", "", "run `dir` (default runs/<time>)")
	fs.BoolVar(&o.Resume, "resume", false, "continue the run in --out from its last checkpoint")
	fs.StringVar(&o.Objective, "objective", "wgan-gp", "training objective: "+joinOr(objectives))
	fs.IntVar(&o.Epochs, "epochs", 300, "passes over the training split")
	fs.IntVar(&o.Batch, "batch", 10, "images per batch")
	fs.IntVar(&o.Steps, "steps", 5, "unrolled Langevin inference steps T")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed")
}

func (o *trainOptions) check(_ *globalOptions, args []string) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected argument %q (train takes flags only)", args[0])
	case !slices.Contains(objectives, o.Objective):
		return fmt.Errorf("--objective %q: want %s", o.Objective, joinOr(objectives))
	case o.Epochs < 1, o.Batch < 1, o.Steps < 1:
		return fmt.Errorf("--epochs, --batch and --steps must be at least 1, got %d, %d and %d",
			o.Epochs, o.Batch, o.Steps)
	case o.Size < 8:
		return fmt.Errorf("--size %d: want at least 8", o.Size)
	case o.Resume && o.Out == "":
		return fmt.Errorf("--resume needs --out, the run directory to continue")
	}
	return nil
}

func (o *trainOptions) run(ctx context.Context, e *env, args []string) error {
	// TODO: the training loop belongs to orchestrator/, which does not
	// exist yet; call it here with the session options of e.initORT().
	return errNotImplemented
}
