package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/export"
	"github.com/egan-ort/egan-ort/graphs"
	"github.com/egan-ort/egan-ort/losses"
	"github.com/egan-ort/egan-ort/orchestrator"
	"github.com/egan-ort/egan-ort/ort"
)

var cmdBench = &command{
	name:    "bench",
	summary: "measure the cost of every part of a training step, and of inference",
	help: `
Bench runs --iters training iterations (after --warmup ones) of each
objective at --size and --batch with the default networks and settings (or
those of --preset), on the synthetic dataset or on --data, and reports per
objective:

  ms/iter, images/s     the wall time of one training iteration
  ort, optim, loss,     the split of that time: inside ONNX Runtime calls,
  data, other           Adam updates, the losses in Go, data loading
                        (augmentation, normalisation), and the rest of the
                        Go side (tensor preparation, the unroll's arithmetic)
  GFLOP/iter, GFLOP/s   FLOPs of the ORT calls, counted from the graphs'
                        convolutions and matrix products, and their rate
  %peak                 that rate against the same run's peak: a large
                        3x3 convolution (64 channels, 64x64, batch 8) in ORT
  allocs/iter           Go heap allocations per iteration after warm-up

and the latency of the inference model train would export (with the flip
average of --tta flip unless the preset turns it off) at batch 1 and 128. All
figures come from one run, so their ratios are comparable; absolute times
depend on the machine and on what else runs on it.`,
	ort: true,
	options: func(fs *pflag.FlagSet) options {
		o := &benchOptions{}
		fs.StringVar(&o.objective, "objective", "all", "objective to time: all, or "+joinOr(losses.Names()))
		fs.IntVar(&o.size, "size", 32, "image side in pixels (8 to 512)")
		fs.IntVar(&o.batch, "batch", 10, "images per batch (2 to 4096)")
		fs.IntVar(&o.iters, "iters", 10, "timed iterations per objective")
		fs.IntVar(&o.warmup, "warmup", 2, "untimed iterations first")
		fs.StringVar(&o.data, "data", "", "dataset `dir` (default: the synthetic dataset)")
		fs.StringVar(&o.preset, "preset", "", "time the networks and settings of a train preset (paper) instead of the defaults")
		fs.StringVar(&o.profile, "profile", "", "write ONNX Runtime's per-op profile of each training graph to `dir`/OBJECTIVE_GRAPH_DATE.json\n(Chrome trace format: open it in Perfetto or chrome://tracing)")
		return o
	},
}

// benchOptions are bench's flags.
type benchOptions struct {
	objective, data, preset    string
	profile                    string
	size, batch, iters, warmup int
}

func (o *benchOptions) check(_ *globalOptions, args []string) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected argument %q (bench takes flags only)", args[0])
	case o.objective != "all" && !slices.Contains(losses.Names(), o.objective):
		return fmt.Errorf("--objective %q: want all or %s", o.objective, joinOr(losses.Names()))
	case o.preset != "" && !slices.Contains(orchestrator.Presets, o.preset):
		return fmt.Errorf("--preset %q: want one of %v", o.preset, orchestrator.Presets)
	case o.size < 8 || o.size > 512:
		return fmt.Errorf("--size %d: want 8 to 512 pixels, as train takes", o.size)
	case o.batch < 2 || o.batch > orchestrator.MaxBatch:
		return fmt.Errorf("--batch %d: want 2 to %d", o.batch, orchestrator.MaxBatch)
	case o.iters < 1:
		return fmt.Errorf("--iters %d: want at least 1", o.iters)
	case o.warmup < 0:
		return fmt.Errorf("--warmup %d: want 0 or more", o.warmup)
	}
	// Whatever else the settings timed would refuse, before any work.
	for _, obj := range o.objectives() {
		c, err := o.config(obj)
		if err == nil {
			err = c.Validate()
		}
		if err != nil {
			return fmt.Errorf("--objective %s at --size %d, --batch %d: %w", obj, o.size, o.batch, err)
		}
	}
	return nil
}

// objectives returns the objectives to time.
func (o *benchOptions) objectives() []string {
	if o.objective != "all" {
		return []string{o.objective}
	}
	return losses.Names()
}

// config returns the training config timed for an objective.
func (o *benchOptions) config(obj string) (orchestrator.Config, error) {
	c := orchestrator.DefaultConfig(obj)
	if err := c.ApplyPreset(o.preset); err != nil {
		return c, err
	}
	c.Size, c.Batch, c.Data = o.size, o.batch, o.data
	return c, nil
}

// benchResult is one objective's figures.
type benchResult struct {
	Objective   string  `json:"objective"`
	MSPerIter   float64 `json:"ms_per_iter"`
	ImagesPerS  float64 `json:"images_per_s"`
	ORTShare    float64 `json:"ort_share"`
	OptimShare  float64 `json:"optim_share"`
	LossShare   float64 `json:"loss_share"`
	DataShare   float64 `json:"data_share"`
	OtherShare  float64 `json:"other_share"`
	GFLOPPerIt  float64 `json:"gflop_per_iter"`
	GFLOPS      float64 `json:"ort_gflops"`
	PeakShare   float64 `json:"peak_share"`
	AllocsPerIt float64 `json:"allocs_per_iter"`
}

type benchReport struct {
	Size, Batch, Threads int
	Preset               string `json:"preset"`
	TTA                  string `json:"tta"` // of the exported model timed
	// EMA is the config's parameter-average decay: with it, a training
	// epoch also evaluates val with the parameters themselves.
	EMA                float64       `json:"ema"`
	PeakGFLOPS         float64       `json:"peak_gflops"`
	Results            []benchResult `json:"results"`
	InferMSBatch1      float64       `json:"infer_ms_batch1"`
	InferMSPerImage128 float64       `json:"infer_ms_per_image_batch128"`
}

func (o *benchOptions) run(ctx context.Context, e *env, _ []string) error {
	ortOpts, err := e.initORT()
	if err != nil {
		return err
	}
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return fmt.Errorf("--profile: %w", err)
		}
	}
	rep := benchReport{Size: o.size, Batch: o.batch, Threads: e.global.Threads, Preset: o.preset}
	if rep.PeakGFLOPS, err = peakGFLOPS(ortOpts); err != nil {
		return err
	}
	objs := o.objectives()
	var last *orchestrator.Trainer
	var stats data.Stats
	for _, obj := range objs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		objOpts := ortOpts
		if o.profile != "" {
			objOpts.Profile = filepath.Join(o.profile, obj+"_")
		}
		res, tr, st, err := o.benchObjective(obj, objOpts)
		if err != nil {
			return err
		}
		res.PeakShare = res.GFLOPS / rep.PeakGFLOPS
		rep.Results = append(rep.Results, res)
		e.log.Info("bench", "objective", obj, "ms", res.MSPerIter)
		if last != nil {
			last.Destroy()
		}
		last, stats = tr, st
	}
	defer last.Destroy()
	rep.TTA, rep.EMA = last.Config.TTA, last.Config.EMA
	if rep.InferMSBatch1, rep.InferMSPerImage128, err = inferLatency(last, stats, ortOpts); err != nil {
		return err
	}
	return o.print(e, rep)
}

func (o *benchOptions) benchObjective(obj string, ortOpts ort.Options) (benchResult, *orchestrator.Trainer,
	data.Stats, error) {
	c, err := o.config(obj)
	if err != nil {
		return benchResult{}, nil, data.Stats{}, err
	}
	splits, _, err := orchestrator.LoadData(c, data.Limits{})
	if err != nil {
		return benchResult{}, nil, data.Stats{}, err
	}
	stats := data.ComputeStats(splits.Train)
	tr, err := orchestrator.NewTrainer(c, ortOpts)
	if err != nil {
		return benchResult{}, nil, stats, err
	}
	loader := data.NewLoader(splits.Train, c.Batch, true, c.Seed)
	loader.Stats, loader.Augment, loader.DropLast = &stats, c.Augment, true
	p := c.Size * c.Size
	x, y := make([]float32, c.Batch*3*p), make([]float32, c.Batch*p)

	var dataTime time.Duration
	step := func() error {
		t0 := time.Now()
		n := loader.Next(x, y)
		if n == 0 {
			n = loader.Next(x, y)
		}
		dataTime += time.Since(t0)
		_, err := tr.Step(x, y, n)
		return err
	}
	for range o.warmup {
		if err := step(); err != nil {
			tr.Destroy()
			return benchResult{}, nil, stats, err
		}
	}
	t0, f0, d0 := tr.Timing(), tr.FLOPs(), dataTime
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	for range o.iters {
		if err := step(); err != nil {
			tr.Destroy()
			return benchResult{}, nil, stats, err
		}
	}
	wall := time.Since(start)
	runtime.ReadMemStats(&m1)
	t1 := tr.Timing()
	n := float64(o.iters)
	share := func(d time.Duration) float64 { return d.Seconds() / wall.Seconds() }
	res := benchResult{
		Objective:   obj,
		MSPerIter:   wall.Seconds() * 1000 / n,
		ImagesPerS:  n * float64(c.Batch) / wall.Seconds(),
		ORTShare:    share(t1.ORT - t0.ORT),
		OptimShare:  share(t1.Optim - t0.Optim),
		LossShare:   share(t1.Loss - t0.Loss),
		DataShare:   share(dataTime - d0),
		GFLOPPerIt:  (tr.FLOPs() - f0) / n / 1e9,
		GFLOPS:      (tr.FLOPs() - f0) / (t1.ORT - t0.ORT).Seconds() / 1e9,
		AllocsPerIt: float64(m1.Mallocs-m0.Mallocs) / n,
	}
	res.OtherShare = 1 - res.ORTShare - res.OptimShare - res.LossShare - res.DataShare
	return res, tr, stats, nil
}

// peakGFLOPS times a large 3×3 convolution (batch 8, 64→64 channels,
// 64×64) in ORT: the rate this machine reaches on the op training spends
// its time in.
func peakGFLOPS(o ort.Options) (float64, error) {
	const n, c, s = 8, 64, 64
	g := graphs.New("peak_conv")
	x := g.Input("x", graphs.Batch, c, s, s)
	r := rand.New(rand.NewPCG(1, 1))
	w := make([]float64, c*c*9)
	for i := range w {
		w[i] = r.NormFloat64() * 0.05
	}
	g.Output("y", g.Conv(x, g.Initializer("w", []int{c, c, 3, 3}, w), nil, graphs.ConvOpts{Pads: [4]int{1, 1, 1, 1}}))
	sess, err := ort.NewSession(g.Bytes(), g.InputNames(), g.OutputNames(), o)
	if err != nil {
		return 0, err
	}
	defer sess.Destroy()
	in, out := make([]float32, n*c*s*s), make([]float32, n*c*s*s)
	xt, err := ort.NewTensor(in, n, c, s, s)
	if err != nil {
		return 0, err
	}
	defer xt.Destroy()
	yt, err := ort.NewTensor(out, n, c, s, s)
	if err != nil {
		return 0, err
	}
	defer yt.Destroy()
	const reps = 5
	best := time.Duration(1 << 62)
	for range reps + 1 {
		t0 := time.Now()
		if err := sess.Run([]ort.Value{xt}, []ort.Value{yt}); err != nil {
			return 0, err
		}
		best = min(best, time.Since(t0))
	}
	return g.FLOPs(n) / best.Seconds() / 1e9, nil
}

// inferLatency times the inference model that train would export for tr's
// energy network (with the flip average of --tta flip, two unrolls): ms
// per call at batch 1 and ms per image at batch 128.
func inferLatency(tr *orchestrator.Trainer, stats data.Stats, o ort.Options) (float64, float64, error) {
	g, err := export.Build(tr.Energy, stats, tr.Config.Langevin, export.Options{Mirror: tr.Config.Mirror()})
	if err != nil {
		return 0, 0, err
	}
	sess, err := ort.NewSession(g.Bytes(), []string{export.Input}, []string{export.Output}, o)
	if err != nil {
		return 0, 0, err
	}
	defer sess.Destroy()
	s := int64(tr.Config.Size)
	timeAt := func(n int64, reps int) (float64, error) {
		in, out := make([]float32, n*3*s*s), make([]float32, n*s*s)
		xt, err := ort.NewTensor(in, n, 3, s, s)
		if err != nil {
			return 0, err
		}
		defer xt.Destroy()
		yt, err := ort.NewTensor(out, n, 1, s, s)
		if err != nil {
			return 0, err
		}
		defer yt.Destroy()
		best := time.Duration(1 << 62)
		for range reps + 1 {
			t0 := time.Now()
			if err := sess.Run([]ort.Value{xt}, []ort.Value{yt}); err != nil {
				return 0, err
			}
			best = min(best, time.Since(t0))
		}
		return best.Seconds() * 1000, nil
	}
	b1, err := timeAt(1, 20)
	if err != nil {
		return 0, 0, err
	}
	b128, err := timeAt(128, 3)
	return b1, b128 / 128, err
}

func (o *benchOptions) print(e *env, rep benchReport) error {
	if e.global.JSON {
		return json.NewEncoder(e.stdout).Encode(rep)
	}
	preset := "default networks"
	if rep.Preset != "" {
		preset = "preset " + rep.Preset
	}
	fmt.Fprintf(e.stdout, "size %d, batch %d, %d threads, %s; peak (3x3 conv, 64 ch, 64x64) %.1f GFLOP/s\n\n",
		rep.Size, rep.Batch, rep.Threads, preset, rep.PeakGFLOPS)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "objective\tms/iter\timages/s\tort\toptim\tloss\tdata\tother\tGFLOP/iter\tGFLOP/s\tpeak\tallocs/iter\t\n")
	pct := func(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t%s\t%.2f\t%.1f\t%s\t%.0f\t\n", r.Objective, r.MSPerIter,
			r.ImagesPerS, pct(r.ORTShare), pct(r.OptimShare), pct(r.LossShare), pct(r.DataShare), pct(r.OtherShare),
			r.GFLOPPerIt, r.GFLOPS, pct(r.PeakShare), r.AllocsPerIt)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nexported model (--tta %s): %.2f ms at batch 1, %.3f ms per image at batch 128\n", rep.TTA,
		rep.InferMSBatch1, rep.InferMSPerImage128)
	return nil
}
