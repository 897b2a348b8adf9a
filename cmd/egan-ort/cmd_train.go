package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"

	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/losses"
	"github.com/egan-ort/egan-ort/orchestrator"
)

var cmdTrain = &command{
	name:    "train",
	summary: "train an energy network and its discriminator, writing a run directory",
	help: `
Train trains the energy network E(X, Y) end to end through its unrolled
Langevin inference, against a discriminator D(X, Y*, Y) under one of the GAN
objectives, or with cross entropy alone (--objective ce, the baseline).

--data names a dataset directory in one of the two Weizmann layouts: the
32x32 split (images/, masks/, train.txt, val.txt, test.txt, as in
../shared/data/weizmann_horse_32) or the full database (rgb/,
figure_ground/, split 196/66/66 by file name), resized to --size. Without
--data, train uses a procedurally generated dataset of shapes on textured
backgrounds, which needs no download (and is not horses).

The run directory (--out, default runs/OBJECTIVE-TIME) receives config.json,
metrics.jsonl (per-step losses, per-epoch IoU of train, val and test), the
checkpoints "last" (every epoch, and on Ctrl-C) and "best" (on val mean IoU).
--resume RUN_DIR continues a run exactly where it stopped, with the run's
own config: --epochs sets its total (above the epochs it has completed,
to extend it or end it early) and --data points to its dataset at another
path; any other setting must be given with the value the run already has,
or not at all. Ctrl-C saves a checkpoint and exits 130.
A NaN or Inf in a loss or a parameter stops training with an error and
keeps the last good checkpoint.

Every hyper-parameter has a flag. --preset paper selects Table 2 of the
report (batch 10, T=5, delta=2, 300 epochs, lambda=10, omega=0.01, m=10, D
rate 0.003, CE rate 0.001, adversarial rate 0.0003, no augmentation); flags
given explicitly override the preset.

Train runs ONNX Runtime with one intra-op thread unless --threads is given:
its graphs are many small ops, and one thread trained 2.4 times faster than
two on a 2-core machine. Two runs side by side use two cores.

Limits: images above --max-pixels are refused before decoding, and a dataset
of more than 100000 files is refused.`,
	ort: true,
	options: func(fs *pflag.FlagSet) options {
		o := &trainOptions{fs: fs, cfg: orchestrator.DefaultConfig("wgan-gp")}
		bindConfig(fs, &o.cfg)
		fs.StringVar(&o.preset, "preset", "", "hyper-parameter preset: paper (Table 2 of the report)")
		fs.StringVarP(&o.out, "out", "o", "", "run `dir` (default runs/OBJECTIVE-TIME)")
		fs.StringVar(&o.resume, "resume", "", "continue the run in `dir` from its last checkpoint")
		fs.Int64Var(&o.maxPixels, "max-pixels", data.DefaultMaxPixels, "refuse images with more `pixels` than this")
		return o
	},
}

// trainOptions are train's flags: the run's Config, bound field by field,
// and how to run it.
type trainOptions struct {
	fs        *pflag.FlagSet
	cfg       orchestrator.Config
	preset    string
	out       string
	resume    string
	maxPixels int64
	// resumeErr is why the run to resume could not be read, which run
	// reports.
	resumeErr error
}

// bindConfig registers a flag for every field of c that a user may set.
func bindConfig(fs *pflag.FlagSet, c *orchestrator.Config) {
	fs.StringVar(&c.Objective, "objective", c.Objective, "training objective: "+joinOr(losses.Names()))
	fs.StringVar(&c.Data, "data", c.Data, "dataset `dir` (default: the synthetic dataset)")
	fs.IntVar(&c.Size, "size", c.Size, "image side in `pixels` (the 32x32 split is resized if it differs)")
	fs.IntVar(&c.Epochs, "epochs", c.Epochs, "passes over the training split")
	fs.IntVar(&c.Batch, "batch", c.Batch, "images per training batch (1 to 4096)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of every random draw (initialisation, batches, augmentation, noise)")

	fs.IntVar(&c.Langevin.Steps, "steps", c.Langevin.Steps, "unrolled Langevin inference steps T (1 to 1000)")
	fs.Float64Var(&c.Langevin.Rate, "rate", c.Langevin.Rate, "Langevin inference rate delta")
	fs.Float64Var(&c.Langevin.Temp, "temp", c.Langevin.Temp, "Langevin temperature tau during training (0 at evaluation)")
	fs.Float64Var(&c.Langevin.InitNoise, "init-noise", c.Langevin.InitNoise, "std of the initial logits' noise sigma0 during training")
	fs.Float64Var(&c.Langevin.Clip, "clip", c.Langevin.Clip, "clip each energy-gradient element to [-c, c]; 0 is off")

	fs.Float64Var(&c.Loss.Lambda, "lambda", c.Loss.Lambda, "WGAN-GP gradient-penalty weight lambda")
	fs.Float64Var(&c.Loss.Margin, "margin", c.Loss.Margin, "EBGAN margin m")
	fs.Float64Var(&c.Loss.Omega, "omega", c.Loss.Omega, "EBGAN pull-away weight omega")
	fs.Float64Var(&c.Loss.Alpha, "alpha", c.Loss.Alpha, "weight alpha of cross entropy in the adversarial generator loss")

	fs.Float64Var(&c.LRDisc, "lr-disc", c.LRDisc, "Adam learning rate of the discriminator")
	fs.Float64Var(&c.LRCE, "lr-ce", c.LRCE, "Adam learning rate of the generator's cross-entropy step")
	fs.Float64Var(&c.LRAdv, "lr-adv", c.LRAdv, "Adam learning rate of the generator's adversarial step")
	cosine := orchestrator.DefaultConfig(c.Objective)
	cosine.LRSchedule = "cosine"
	fs.StringVar(&c.LRSchedule, "lr-schedule", c.LRSchedule, fmt.Sprintf("learning-rate schedule of all three rates: constant, or cosine (epoch e of E scales them by\n"+
		"(1+cos(pi*(e-1)/E))/2: 1 at the first epoch, (1+cos(pi*(E-1)/E))/2 at the last, e.g. %.2g for %d epochs)",
		cosine.LRFactor(cosine.Epochs), cosine.Epochs))
	fs.Float64Var(&c.WeightDecay, "weight-decay", c.WeightDecay, "decoupled (AdamW) weight decay of the energy network's parameters (lr*wd below 1 for --lr-ce and --lr-adv); 0 is off")
	fs.Float64Var(&c.EMA, "ema", c.EMA, "decay of the moving average of the energy network's parameters that evaluation, the best checkpoint,\n"+
		"inference and export use, in [0, 1); 0 is off (they use the parameters themselves)")
	fs.Float64Var(&c.Beta1, "beta1", c.Beta1, "Adam beta1")
	fs.Float64Var(&c.Beta2, "beta2", c.Beta2, "Adam beta2")
	fs.IntVar(&c.DSteps, "d-steps", c.DSteps, "discriminator steps per batch")

	fs.BoolVar(&c.Augment.Flip, "flip", c.Augment.Flip, "augment: random horizontal flips")
	fs.IntVar(&c.Augment.MaxShift, "shift", c.Augment.MaxShift, "augment: random translation of up to `n` pixels")
	fs.Float64Var(&c.Augment.Scale, "scale", c.Augment.Scale, "augment: random crop of side (1-s..1) resized back; 0 is off")

	fs.StringVar(&c.TTA, "tta", c.TTA, "test-time augmentation of evaluation, inference and exports: none, or flip (the mean of the masks of the image and its mirror image, at twice the cost)")

	fs.IntVar(&c.Energy.Channels, "energy-channels", c.Energy.Channels, "channels of the energy's pairwise net (1 to 1024)")
	fs.IntVar(&c.Energy.Depth, "energy-depth", c.Energy.Depth, "convolutions of the energy's pairwise net (2 to 16; with --energy-dilate, while 2^(depth-1) < --size)")
	fs.BoolVar(&c.Energy.Dilate, "energy-dilate", c.Energy.Dilate, "dilations of the pairwise net double per layer (1, 2, 4, ...): a wider view of the mask")
	fs.IntVar(&c.Energy.UnaryChannels, "unary-channels", c.Energy.UnaryChannels, "channels of the energy's unary net (up to 1024); 0 is off")
	fs.IntVar(&c.Energy.UnaryDepth, "unary-depth", c.Energy.UnaryDepth, "convolutions of the energy's unary net (2 to 16, while its largest dilation 2^(depth-2) <= --size)")
	fs.BoolVar(&c.Energy.Prior, "prior", c.Energy.Prior, "learned per-pixel prior in the energy's unary term")
	fs.IntVar(&c.Disc.Channels, "disc-channels", c.Disc.Channels, "channels of the discriminator's first convolution (1 to 1024)")
	fs.IntVar(&c.Disc.Depth, "disc-depth", c.Disc.Depth, "stride-2 convolutions of the discriminator (at most log2 of --size)")
	fs.Float64Var(&c.Disc.Slope, "disc-slope", c.Disc.Slope, "LeakyReLU slope of the discriminator")
	fs.IntVar(&c.EvalBatch, "eval-batch", c.EvalBatch, "images per evaluation batch (1 to 4096)")
	fs.IntVar(&c.Landscape, "landscape", c.Landscape, "side of the loss-landscape grid recorded at the first and last epoch; 0 is off")
}

func (o *trainOptions) check(g *globalOptions, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %q (train takes flags only)", args[0])
	}
	if !o.fs.Changed("threads") {
		// The training graphs are many small ops, on which ORT's thread
		// pool costs more than further cores give back (docs/PERFORMANCE.md).
		g.Threads = 1
	}
	if o.resume != "" {
		if o.out != "" && o.out != o.resume {
			return fmt.Errorf("--resume names the run directory; --out %q differs from it", o.out)
		}
		o.out = o.resume
		return o.checkResume()
	}
	if o.preset != "" {
		// Preset values, then the flags given explicitly on top.
		c := orchestrator.DefaultConfig(o.cfg.Objective)
		if err := c.ApplyPreset(o.preset); err != nil {
			return err
		}
		scratch := pflag.NewFlagSet("preset", pflag.ContinueOnError)
		bindConfig(scratch, &c)
		var err error
		o.fs.Visit(func(f *pflag.Flag) {
			if scratch.Lookup(f.Name) != nil && err == nil {
				err = scratch.Set(f.Name, f.Value.String())
			}
		})
		if err != nil {
			return err
		}
		o.cfg = c
	}
	if o.out == "" {
		o.out = filepath.Join("runs", fmt.Sprintf("%s-%s", o.cfg.Objective, time.Now().Format("20060102-150405")))
	}
	return o.cfg.Validate()
}

// checkResume checks the flags given with --resume. A resumed run keeps the
// config of its last checkpoint: --epochs may extend it and --data find its
// dataset at another path; any other setting given with the value the run
// has is accepted, and with another value refused rather than silently
// ignored. A checkpoint that cannot be read is left for run to report: it
// is not a mistake on the command line.
func (o *trainOptions) checkResume() error {
	st, err := orchestrator.ReadState(o.resume, orchestrator.LastCheckpoint)
	if err != nil {
		o.resumeErr = err
		return nil
	}
	saved := st.Config
	recorded := pflag.NewFlagSet("", pflag.ContinueOnError)
	bindConfig(recorded, &saved)
	recorded.StringVar(&saved.Preset, "preset", saved.Preset, "")
	var refused error
	recorded.VisitAll(func(f *pflag.Flag) {
		if refused != nil || f.Name == "epochs" || f.Name == "data" || !o.fs.Changed(f.Name) {
			return
		}
		if was, now := f.Value.String(), o.fs.Lookup(f.Name).Value.String(); was != now {
			refused = fmt.Errorf("--%s cannot change a resumed run: it keeps the config of its checkpoint %s, "+
				"where --%s is %s, not %s (only --epochs and --data apply)",
				f.Name, checkpointFile(o.resume, orchestrator.LastCheckpoint), f.Name, quoteEmpty(was), quoteEmpty(now))
		}
	})
	if refused != nil {
		return refused
	}
	if !o.fs.Changed("epochs") {
		o.cfg.Epochs = 0
	}
	if !o.fs.Changed("data") {
		o.cfg.Data = ""
	}
	return nil
}

// checkpointFile is the record of checkpoint name in run directory dir,
// the file that holds its config.
func checkpointFile(dir, name string) string { return filepath.Join(dir, name+".json") }

// quoteEmpty shows a flag's value, "" when it is empty.
func quoteEmpty(v string) string {
	if v == "" {
		return `""`
	}
	return v
}

func (o *trainOptions) run(ctx context.Context, e *env, _ []string) error {
	if o.resumeErr != nil {
		return fmt.Errorf("resume %s: %w (nothing written)", o.resume, o.resumeErr)
	}
	orchestrator.Version = buildVersion()
	ortOpts, err := e.initORT()
	if err != nil {
		return err
	}
	opts := orchestrator.RunOptions{Dir: o.out, Resume: o.resume != "", Log: e.log, ORT: ortOpts,
		Limits: data.Limits{MaxPixels: o.maxPixels, MaxFiles: data.DefaultMaxFiles}}
	if e.progress {
		opts.StepLevel = slog.LevelDebug // the bar shows the steps
		var bar *progressbar.ProgressBar
		opts.Progress = func(done, total int64, desc string) {
			if bar == nil {
				bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(os.Stderr),
					progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
					progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(200*time.Millisecond))
			}
			bar.Describe(desc)
			bar.Set64(done)
		}
	}
	sum, err := orchestrator.Train(ctx, o.cfg, opts)
	if errors.Is(err, orchestrator.ErrInterrupted) {
		return interrupted("checkpoint saved; continue with: egan-ort train --resume " + o.out)
	}
	if err != nil {
		return err
	}
	b := sum.Best
	if e.global.JSON {
		return json.NewEncoder(e.stdout).Encode(trainResult{Run: sum.Dir, Epochs: sum.Epochs, Seconds: sum.Seconds,
			BestEpoch: b.BestEpoch, Val: b.Val, Test: b.Test, Model: filepath.Join(sum.Dir, orchestrator.ModelFile)})
	}
	epochs := "epochs"
	if sum.Epochs == 1 {
		epochs = "epoch"
	}
	fmt.Fprintf(e.stdout, "run %s: %d %s, %.0f s; best val mean IoU %.4f at epoch %d (test %.4f)\n",
		sum.Dir, sum.Epochs, epochs, sum.Seconds, b.Val.Mean, b.BestEpoch, b.Test.Mean)
	return nil
}

// trainResult is what train prints with --json; the names are stable for
// scripts.
type trainResult struct {
	Run       string                `json:"run"`
	Epochs    int                   `json:"epochs"` // completed epochs
	Seconds   float64               `json:"seconds"`
	BestEpoch int                   `json:"best_epoch"`
	Val       orchestrator.SplitIoU `json:"val"` // of the best checkpoint
	Test      orchestrator.SplitIoU `json:"test"`
	Model     string                `json:"model"` // the best checkpoint, exported
}

// interrupted is the error of a run stopped by a signal: its message says
// how to continue, and it unwraps to context.Canceled, which sets the exit
// status.
type interrupted string

func (e interrupted) Error() string { return string(e) }
func (e interrupted) Unwrap() error { return context.Canceled }
