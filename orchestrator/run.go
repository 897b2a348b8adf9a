package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/egan-ort/egan-ort/checkpoint"
	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/export"
	"github.com/egan-ort/egan-ort/optim"
	"github.com/egan-ort/egan-ort/ort"
)

// RunOptions say where and how a run executes; they are not part of the
// run's definition (Config).
type RunOptions struct {
	Dir    string       // run directory
	Resume bool         // continue the run in Dir from its last checkpoint
	Log    *slog.Logger // per-step and per-epoch records; nil discards
	ORT    ort.Options
	Limits data.Limits
	// Progress, when not nil, is called after every step with the steps
	// done and the steps of the whole run.
	Progress func(done, total int64, desc string)
	// StepLevel is the level of the per-step log records (Info by default;
	// a progress bar on a terminal makes them Debug).
	StepLevel slog.Level
	// Splits, when not nil, are trained on instead of loading Config.Data.
	Splits *data.Splits
	// AfterStep, when not nil, is called after every step's update, before
	// the parameters are checked: a hook for tools and fault injection.
	AfterStep func(t *Trainer, step int64)
}

// Summary is what a finished run reports.
type Summary struct {
	Dir       string
	Epochs    int
	Steps     int64
	Best      State // the state of the best checkpoint
	Last      State
	Seconds   float64
	Synthetic bool
}

// LoadData loads the dataset of a config: the folder c.Data at c.Size, or
// the synthetic dataset when c.Data is "".
func LoadData(c Config, lim data.Limits) (*data.Splits, string, error) {
	if c.Data == "" {
		return data.Synthetic(c.Size, c.Seed), "synthetic", nil
	}
	return data.Load(c.Data, c.Size, lim)
}

// Train runs (or resumes) a training run and returns its summary. On
// ctx's cancellation it saves a checkpoint and returns ErrInterrupted; on a
// non-finite loss or parameter it returns an error wrapping ErrNonFinite
// and leaves the last good checkpoint in place.
func Train(ctx context.Context, c Config, o RunOptions) (*Summary, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var (
		st       State
		savedCfg Config // on resume, the config the run was saved with
	)
	if o.Resume {
		saved, err := ReadState(o.Dir, LastCheckpoint)
		if err != nil {
			return nil, fmt.Errorf("orchestrator: resume %s: %w", o.Dir, err)
		}
		// The run's config.json may be rewritten below: one that does not
		// read is left for the user to look at, not replaced.
		if err := checkConfigFile(filepath.Join(o.Dir, ConfigFile)); err != nil {
			return nil, fmt.Errorf("orchestrator: resume %s: %w", o.Dir, err)
		}
		// The run ends by exporting its best checkpoint, which every
		// completed epoch has: one that does not load is reported now, not
		// after the training it would waste.
		if saved.Epoch > 0 {
			if _, err := checkpoint.Load(o.Dir, BestCheckpoint, &State{}); err != nil {
				return nil, fmt.Errorf("orchestrator: resume %s: the best checkpoint does not load, so the run "+
					"could not export its model at the end; nothing was changed: %w", o.Dir, err)
			}
		}
		epochs, dataDir := c.Epochs, c.Data
		c, st, savedCfg = saved.Config, saved, saved.Config
		// --epochs sets the run's planned total: more to extend it, fewer
		// to end an unfinished run early, but not at or below the epochs
		// it has completed.
		if epochs > 0 && epochs <= saved.Epoch && epochs != c.Epochs {
			return nil, fmt.Errorf("orchestrator: resume %s: the run has completed %d epochs; --epochs %d must be more",
				o.Dir, saved.Epoch, epochs)
		}
		if epochs > 0 {
			c.Epochs = epochs
		}
		if dataDir != "" {
			c.Data = dataDir // the same dataset, found at another path
		}
	} else if err := checkNewDir(o.Dir); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}

	// Data, normalisation and the trainer.
	splits, layout := o.Splits, "in-memory"
	if splits == nil {
		var err error
		if splits, layout, err = LoadData(c, o.Limits); err != nil {
			return nil, err
		}
	}
	if layout == "synthetic" {
		log.Warn("no --data given: training on the synthetic dataset (procedural shapes, not horses)")
	}
	stats := data.ComputeStats(splits.Train)
	if o.Resume {
		stats = st.Stats
	}
	t, err := NewTrainer(c, o.ORT)
	if err != nil {
		return nil, err
	}
	defer t.Destroy()
	loader := data.NewLoader(splits.Train, c.Batch, true, c.Seed)
	loader.Stats, loader.Augment = &stats, c.Augment
	loader.DropLast = c.Objective == "ebgan" // the pull-away term needs B ≥ 2
	if o.Resume {
		if st, err = t.Restore(o.Dir, LastCheckpoint, loader); err != nil {
			return nil, err
		}
		log.Info("resumed", st.position(o.Dir)...)
	} else {
		st = State{Stats: stats, Layout: layout, BestVal: -1}
		// The directory is made only now, when the data and the graphs are
		// ready, so that a run that cannot start leaves nothing behind.
		if err := os.MkdirAll(o.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("orchestrator: create run directory: %w", err)
		}
	}
	if !o.Resume || c != savedCfg {
		if err := writeJSON(filepath.Join(o.Dir, ConfigFile), c); err != nil {
			return nil, err
		}
	}
	log.Info("run", "dir", o.Dir, "objective", c.Objective, "data", data.DescribeLayout(layout),
		"train", splits.Train.Len(), "val", splits.Val.Len(), "test", splits.Test.Len(),
		"energy_params", t.Energy.Params.Count(), "disc_params", discCount(t), "threads", o.ORT.Threads)

	ml, err := openMetrics(o.Dir, st)
	if err != nil {
		return nil, err
	}
	defer ml.Close()

	r := &runner{t: t, c: c, o: o, log: log, st: st, loader: loader, splits: splits, metrics: ml}
	return r.loop(ctx, layout == "synthetic")
}

// ConfigFile is the run's config in a run directory, as JSON; the
// checkpoints hold it too, and resume reads it from the last one.
const ConfigFile = "config.json"

// checkConfigFile reports a config file at path that does not decode as a
// Config; a missing one is no error.
func checkConfigFile(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("%s does not read as a config (%v); it was left as it is: "+
			"repair or remove it to resume", path, err)
	}
	return nil
}

func discCount(t *Trainer) int {
	if t.Disc == nil {
		return 0
	}
	return t.Disc.Params.Count()
}

// checkNewDir refuses a run directory that already holds a run, or any
// other file, so that nothing already written is lost.
func checkNewDir(dir string) error {
	if checkpoint.Exists(dir, LastCheckpoint) {
		return fmt.Errorf("orchestrator: %s already holds a run; use --resume to continue it or choose another --out", dir)
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("orchestrator: run directory: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("orchestrator: %s is not empty (it holds %s); a new run needs a new or empty --out",
			dir, entries[0].Name())
	}
	return nil
}

// runner is one call of Train.
type runner struct {
	t       *Trainer
	c       Config
	o       RunOptions
	log     *slog.Logger
	st      State
	loader  *data.Loader
	splits  *data.Splits
	metrics *metricsLog
}

func (r *runner) loop(ctx context.Context, synthetic bool) (*Summary, error) {
	c, st := r.c, &r.st
	perEpoch := int64(r.loader.BatchesPerEpoch())
	total := int64(c.Epochs) * perEpoch
	p := c.Size * c.Size
	x, y := make([]float32, c.Batch*3*p), make([]float32, c.Batch*p)
	start := time.Now().Add(-time.Duration(st.Seconds * float64(time.Second)))

	for st.Epoch < c.Epochs {
		epoch := st.Epoch + 1
		epochStart := time.Now()
		r.t.ScheduleLR(epoch)
		var scores epochScores
		for {
			// Stop cleanly between steps on a signal.
			if ctx.Err() != nil {
				st.Seconds = time.Since(start).Seconds()
				if err := r.t.Save(r.o.Dir, LastCheckpoint, *st, r.loader); err != nil {
					return nil, fmt.Errorf("orchestrator: save on interrupt: %w", err)
				}
				r.log.Info("interrupted: checkpoint saved", st.position(r.o.Dir)...)
				return nil, ErrInterrupted
			}
			// Next batch; 0 ends the epoch.
			n := r.loader.Next(x, y)
			if n == 0 {
				break
			}
			t0 := time.Now()
			ss, err := r.t.Step(x, y, n)
			if err == nil && !finite(ss.LossD, ss.LossG, ss.LossCE) {
				err = fmt.Errorf("%w: loss at epoch %d step %d (d %g, g %g, ce %g)",
					ErrNonFinite, epoch, st.Step+1, ss.LossD, ss.LossG, ss.LossCE)
			}
			if err == nil && r.o.AfterStep != nil {
				r.o.AfterStep(r.t, st.Step+1)
			}
			if err == nil {
				err = r.checkParams(epoch, st.Step+1)
			}
			if err != nil {
				if !checkpoint.Exists(r.o.Dir, LastCheckpoint) {
					return nil, fmt.Errorf("%w; no checkpoint had been written yet in %s", err, r.o.Dir)
				}
				return nil, fmt.Errorf("%w; the last good checkpoint is in %s", err, r.o.Dir)
			}
			st.Step, st.InEpoch = st.Step+1, true
			ms := float64(time.Since(t0).Microseconds()) / 1000
			scores.add(ss)
			r.log.Log(ctx, r.o.StepLevel, "step", "epoch", epoch, "step", st.Step, "loss_d", ss.LossD,
				"loss_g", ss.LossG, "loss_ce", ss.LossCE, "ms", ms)
			if err := r.metrics.step(epoch, st.Step, ss, ms); err != nil {
				return nil, err
			}
			if r.o.Progress != nil {
				r.o.Progress(min(st.Step, total), total, fmt.Sprintf("epoch %d/%d ce %.3f", epoch, c.Epochs, ss.LossCE))
			}
		}
		trainSec := time.Since(epochStart).Seconds()
		if err := r.endEpoch(epoch, trainSec, scores, time.Since(start).Seconds()); err != nil {
			return nil, err
		}
	}
	// The deliverable: the best checkpoint's inference procedure as ONNX.
	g, err := Export(r.o.Dir, BestCheckpoint, export.Options{})
	if err == nil {
		err = export.WriteFile(filepath.Join(r.o.Dir, ModelFile), g.Bytes())
	}
	if err != nil {
		return nil, fmt.Errorf("orchestrator: export the best model: %w", err)
	}
	return &Summary{Dir: r.o.Dir, Epochs: st.Epoch, Steps: st.Step, Last: *st, Seconds: st.Seconds,
		Synthetic: synthetic, Best: r.bestState()}, nil
}

func (r *runner) bestState() State {
	st, err := ReadState(r.o.Dir, BestCheckpoint)
	if err != nil {
		return r.st
	}
	return st
}

func (r *runner) checkParams(epoch int, step int64) error {
	for _, ps := range r.t.Params() {
		if ok, i := optim.AllFinite(ps.Buffers()); !ok {
			return fmt.Errorf("%w: parameter %s at epoch %d step %d", ErrNonFinite, ps.List[i].Name, epoch, step)
		}
	}
	return nil
}

// endEpoch evaluates the three splits, logs them and writes the
// checkpoints: last always, best when val improves.
func (r *runner) endEpoch(epoch int, trainSec float64, scores epochScores, elapsed float64) error {
	st := &r.st
	t0 := time.Now()
	var res [3]SplitIoU
	for i, d := range r.splits.All() {
		var err error
		if res[i], err = r.t.Evaluate(d, st.Stats, nil); err != nil {
			return err
		}
	}
	// With an average, the parameters themselves on val, for comparison.
	var valRaw *SplitIoU
	if r.t.avg != nil {
		raw, err := r.t.EvaluateRaw(r.splits.Val, st.Stats)
		if err != nil {
			return err
		}
		valRaw = &raw
	}
	evalSec := time.Since(t0).Seconds()
	st.Epoch, st.InEpoch, st.Seconds = epoch, false, elapsed+evalSec
	st.Val, st.Test = res[1], res[2]
	attrs := []any{"epoch", epoch, "iou_train", round(res[0].Mean), "iou_val", round(res[1].Mean),
		"iou_test", round(res[2].Mean)}
	if valRaw != nil {
		attrs = append(attrs, "iou_val_raw", round(valRaw.Mean))
	}
	r.log.Info("epoch", append(attrs, "sec", round(trainSec), "eval_sec", round(evalSec))...)
	if err := r.metrics.epoch(epoch, st.Step, res, valRaw, trainSec, evalSec); err != nil {
		return err
	}
	if err := r.metrics.scores(epoch, scores); err != nil {
		return err
	}
	// Loss landscapes at the first and the last epoch.
	if r.c.Landscape > 0 && (epoch == 1 || epoch == r.c.Epochs) {
		if err := r.writeLandscape(epoch); err != nil {
			return err
		}
	}
	if res[1].Mean > st.BestVal {
		st.BestVal, st.BestEpoch = res[1].Mean, epoch
		if err := r.t.Save(r.o.Dir, BestCheckpoint, *st, r.loader); err != nil {
			return fmt.Errorf("orchestrator: save best checkpoint: %w", err)
		}
	}
	if err := r.t.Save(r.o.Dir, LastCheckpoint, *st, r.loader); err != nil {
		return fmt.Errorf("orchestrator: save last checkpoint: %w", err)
	}
	return nil
}

func round(x float64) float64 { return float64(int64(x*1e4+0.5)) / 1e4 }

// writeJSON writes v as indented JSON under a temporary name and renames it.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("orchestrator: %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("orchestrator: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("orchestrator: write %s: %w", path, errors.Unwrap(err))
	}
	return nil
}
