package orchestrator

import (
	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/langevin"
	"github.com/egan-ort/egan-ort/metrics"
)

// Threshold is the probability at which a pixel counts as foreground.
const Threshold = 0.5

// SplitIoU is the evaluation of one split.
type SplitIoU struct {
	Mean   float64 `json:"mean"`   // mean over images of the per-image foreground IoU
	Global float64 `json:"global"` // Σ intersections / Σ unions over the split
	Images int     `json:"images"`
}

// Evaluate runs the inference (the deterministic unroll, σ0 = τ = 0, with
// the config's test-time augmentation) over every image of d, normalised
// with stats, and returns its IoU at Threshold. When keep is not
// nil it receives each image's predicted mask (probabilities). With
// Config.EMA it evaluates the parameters' average (see EvaluateRaw).
func (t *Trainer) Evaluate(d *data.Dataset, stats data.Stats, keep func(i int, pred []float32)) (SplitIoU, error) {
	var res SplitIoU
	err := t.withAverage(func() (err error) {
		res, err = evaluate(t.unroll, t.Config, d, stats, keep)
		return err
	})
	return res, err
}

// EvaluateRaw is Evaluate with the parameters being trained, not their
// average; without Config.EMA the two are the same.
func (t *Trainer) EvaluateRaw(d *data.Dataset, stats data.Stats) (SplitIoU, error) {
	return evaluate(t.unroll, t.Config, d, stats, nil)
}

func evaluate(u *langevin.Unroller, c Config, d *data.Dataset, stats data.Stats,
	keep func(i int, pred []float32)) (SplitIoU, error) {
	batch := c.EvalBatch
	bs := min(batch, d.Len())
	loader := data.NewLoader(d, bs, false, 0)
	loader.Stats = &stats
	p := d.Size * d.Size
	x, y := make([]float32, bs*3*p), make([]float32, bs*p)
	var acc metrics.IoUAccum
	for {
		n := loader.Next(x, y)
		if n == 0 {
			break
		}
		pred, err := u.Infer(x, n, c.Mirror())
		if err != nil {
			return SplitIoU{}, err
		}
		acc.AddBatch(pred, y[:n*p], n, Threshold)
		if keep != nil {
			for k, i := range loader.Indices() {
				keep(i, pred[k*p:(k+1)*p])
			}
		}
	}
	return SplitIoU{Mean: acc.Mean(), Global: acc.Global(), Images: acc.Count()}, nil
}

// Predict runs the inference on n normalised images and returns the masks'
// probabilities, in a slice owned by the trainer that stays valid until
// the next unroll. With Config.EMA it uses the parameters' average.
func (t *Trainer) Predict(x []float32, n int) ([]float32, error) {
	var y []float32
	err := t.withAverage(func() (err error) {
		y, err = t.unroll.Infer(x, n, t.Config.Mirror())
		return err
	})
	return y, err
}
