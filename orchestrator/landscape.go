package orchestrator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"

	"github.com/egan-ort/egan-ort/losses"
	"github.com/egan-ort/egan-ort/models"
)

// Landscape is a 2-D slice of the generator's losses around its parameters
// θ: L(θ + α·d₁ + β·d₂) on a grid of (α, β), with d₁, d₂ random directions
// normalised filter by filter (Li et al. 2018, "Visualizing the Loss
// Landscape of Neural Nets", §4): each output filter of d has the norm of
// the same filter of θ, and biases are not perturbed. The losses are taken
// on a fixed training batch with the deterministic unroll.
type Landscape struct {
	Kind      string      `json:"kind"` // "landscape"
	Epoch     int         `json:"epoch"`
	Objective string      `json:"objective"`
	Images    int         `json:"images"`
	Alphas    []float64   `json:"alphas"`
	Betas     []float64   `json:"betas"`
	CE        [][]float64 `json:"ce"`            // CE(Y*, Y_T), [β][α]
	Adv       [][]float64 `json:"adv,omitempty"` // L_G of the objective, [β][α]; none for ce
}

// LandscapeFile names the landscape of an epoch in a run directory.
func LandscapeFile(epoch int) string { return fmt.Sprintf("landscape-%03d.json", epoch) }

// filterDirection returns a random direction over ps, filter-normalised.
func filterDirection(ps *models.Params, r *rand.Rand) [][]float32 {
	d := make([][]float32, len(ps.List))
	for k, p := range ps.List {
		d[k] = make([]float32, p.Size())
		if len(p.Shape) < 2 {
			continue // biases stay put
		}
		filters := p.Shape[0]
		if p.Shape[0] == 1 && len(p.Shape) == 4 && p.Shape[1] == 1 {
			filters = 1 // the prior: one filter
		}
		per := p.Size() / filters
		for f := range filters {
			theta, dir := p.Data[f*per:(f+1)*per], d[k][f*per:(f+1)*per]
			var nt, nd float64
			for i := range dir {
				dir[i] = float32(r.NormFloat64())
				nd += float64(dir[i]) * float64(dir[i])
				nt += float64(theta[i]) * float64(theta[i])
			}
			scale := float32(0)
			if nd > 0 {
				scale = float32(math.Sqrt(nt / nd))
			}
			for i := range dir {
				dir[i] *= scale
			}
		}
	}
	return d
}

// Landscape evaluates the generator's CE and adversarial losses on the n
// images x (normalised) with masks yStar over a res×res grid on [−1, 1]²,
// and restores the parameters afterwards.
func (t *Trainer) Landscape(epoch int, x, yStar []float32, n, res int, seed uint64) (*Landscape, error) {
	ps := t.Energy.Params
	r := rand.New(rand.NewPCG(seed, uint64(epoch)))
	d1, d2 := filterDirection(ps, r), filterDirection(ps, r)
	saved := make([][]float32, len(ps.List))
	for k, p := range ps.List {
		saved[k] = slices.Clone(p.Data)
	}
	defer func() {
		for k, p := range ps.List {
			copy(p.Data, saved[k])
		}
	}()

	ls := &Landscape{Kind: "landscape", Epoch: epoch, Objective: t.Config.Objective, Images: n}
	for i := range res {
		v := -1 + 2*float64(i)/float64(res-1)
		ls.Alphas, ls.Betas = append(ls.Alphas, v), append(ls.Betas, v)
	}
	w := t.workspace(n)
	m := n * t.Config.Size * t.Config.Size
	x, yStar = x[:3*n*t.Config.Size*t.Config.Size], yStar[:m]
	for _, b := range ls.Betas {
		ceRow, advRow := make([]float64, res), make([]float64, res)
		for j, a := range ls.Alphas {
			for k, p := range ps.List {
				for i := range p.Data {
					p.Data[i] = saved[k][i] + float32(a)*d1[k][i] + float32(b)*d2[k][i]
				}
			}
			yT, lT, err := t.unroll.Forward(x, n, nil)
			if err != nil {
				return nil, err
			}
			ceRow[j] = losses.CrossEntropyLogits[float32](nil, yStar, lT)
			if t.Obj.UsesDiscriminator() {
				if err := t.scores(w.sFake, x, yStar, yT, n); err != nil {
					return nil, err
				}
				advRow[j] = t.Obj.GenLoss(w.gFake, w.gY, w.gLogits, w.sFake, yStar, yT, lT)
			}
		}
		ls.CE = append(ls.CE, ceRow)
		if t.Obj.UsesDiscriminator() {
			ls.Adv = append(ls.Adv, advRow)
		}
	}
	return ls, nil
}

// writeLandscape computes the landscape of the current parameters on the
// first images of the training split and writes it into the run directory.
func (r *runner) writeLandscape(epoch int) error {
	c := r.c
	d := r.splits.Train
	n := min(d.Len(), 2*c.Batch)
	p := c.Size * c.Size
	x, y := make([]float32, n*3*p), make([]float32, n*p)
	for i := range n {
		r.st.Stats.Normalize(x[i*3*p:(i+1)*3*p], d.Images[i])
		copy(y[i*p:(i+1)*p], d.Masks[i])
	}
	ls, err := r.t.Landscape(epoch, x, y, n, c.Landscape, c.Seed)
	if err != nil {
		return fmt.Errorf("orchestrator: landscape at epoch %d: %w", epoch, err)
	}
	return writeJSON(filepath.Join(r.o.Dir, LandscapeFile(epoch)), ls)
}
