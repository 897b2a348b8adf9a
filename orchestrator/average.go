package orchestrator

import (
	"github.com/egan-ort/egan-ort/checkpoint"
	"github.com/egan-ort/egan-ort/models"
)

// averagePrefix names the averaged parameters' tensors in a checkpoint:
// "ema/" and the parameter's name.
const averagePrefix = "ema/"

// average is the exponential moving average of the energy network's
// parameters (Polyak averaging, as GAN generators commonly use): after
// update k (1-based) of the generator, avg ← d·avg + (1−d)·θ with
// d = min(Config.EMA, (1+k)/(10+k)), so that the first updates, whose
// average would otherwise lean on the initial weights, are followed
// closely. It does not touch training: the steps see θ alone. Evaluation,
// the best checkpoint's choice, inference and export use the average.
type average struct {
	decay float64
	avg   [][]float32 // one buffer per energy parameter
	saved [][]float32 // θ while the average stands in for it
}

// newAverage starts the average at the energy network's parameters; it
// returns nil when decay is 0 (off).
func newAverage(e *models.Energy, decay float64) *average {
	if decay == 0 {
		return nil
	}
	a := &average{decay: decay, avg: e.Params.NewBuffers(), saved: e.Params.NewBuffers()}
	for i, p := range e.Params.List {
		copy(a.avg[i], p.Data)
	}
	return a
}

// update folds the parameters after generator update k (1-based) into the
// average.
func (a *average) update(ps *models.Params, k int64) {
	d := min(a.decay, float64(1+k)/float64(10+k))
	d32, w32 := float32(d), float32(1-d)
	for i, p := range ps.List {
		avg := a.avg[i]
		for j, v := range p.Data {
			avg[j] = d32*avg[j] + w32*v
		}
	}
}

// tensors lists the average's buffers as checkpoint tensors.
func (a *average) tensors(ps *models.Params) []checkpoint.Tensor {
	out := make([]checkpoint.Tensor, len(ps.List))
	for i, p := range ps.List {
		out[i] = checkpoint.Tensor{Name: averagePrefix + p.Name, Shape: p.Shape, Data: a.avg[i]}
	}
	return out
}

// swapIn copies the average into the parameters' buffers (which the ORT
// programs read in place), keeping θ; swapOut puts θ back.
func (a *average) swapIn(ps *models.Params) {
	for i, p := range ps.List {
		copy(a.saved[i], p.Data)
		copy(p.Data, a.avg[i])
	}
}

func (a *average) swapOut(ps *models.Params) {
	for i, p := range ps.List {
		copy(p.Data, a.saved[i])
	}
}

// withAverage runs f with the average standing in for the energy
// network's parameters, when there is one; with none it just runs f.
func (t *Trainer) withAverage(f func() error) error {
	if t.avg == nil {
		return f()
	}
	t.avg.swapIn(t.Energy.Params)
	defer t.avg.swapOut(t.Energy.Params)
	return f()
}
