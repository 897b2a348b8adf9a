package optim

import (
	"fmt"
	"math"
)

// AdamConfig holds Adam's hyperparameters.
type AdamConfig struct {
	LR          float64 // η, learning rate
	Beta1       float64 // β1, decay of the first moment, in [0, 1)
	Beta2       float64 // β2, decay of the second moment, in [0, 1)
	Eps         float64 // ε, added to sqrt(v̂) in the denominator
	WeightDecay float64 // λ, decoupled decay: θ shrinks by η·λ·θ per step
}

// DefaultAdamConfig returns Kingma & Ba's defaults at learning rate lr:
// β1 = 0.9, β2 = 0.999, ε = 1e-8, no weight decay.
func DefaultAdamConfig(lr float64) AdamConfig {
	return AdamConfig{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// validate returns an error naming the first hyperparameter out of range.
func (c AdamConfig) validate() error {
	switch {
	case !(c.LR >= 0) || math.IsInf(c.LR, 1):
		return fmt.Errorf("optim: adam: learning rate %v, want a finite value >= 0", c.LR)
	case !(c.Beta1 >= 0 && c.Beta1 < 1):
		return fmt.Errorf("optim: adam: beta1 %v, want a value in [0, 1)", c.Beta1)
	case !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("optim: adam: beta2 %v, want a value in [0, 1)", c.Beta2)
	case !(c.Eps >= 0) || math.IsInf(c.Eps, 1):
		return fmt.Errorf("optim: adam: eps %v, want a finite value >= 0", c.Eps)
	case !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 1):
		return fmt.Errorf("optim: adam: weight decay %v, want a finite value >= 0", c.WeightDecay)
	}
	return nil
}

// Adam is the Adam optimiser over a fixed list of float32 buffers, with
// decoupled weight decay when WeightDecay > 0 (see the package doc for the
// update).
//
// The hyperparameter fields may be changed between calls to Update: a new
// LR applies from the next step on, and the moments are kept. Step counts
// the updates made so far and drives the bias correction; M and V hold the
// first and second moments, one buffer per parameter buffer. State and
// Restore copy them for checkpoints. An Adam is not safe for concurrent use.
type Adam struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64

	Step int64
	M, V [][]float32
}

// NewAdam returns an Adam for parameter buffers of the given sizes, with
// zero moments and Step 0. It returns an error if a hyperparameter in cfg is
// out of range, and panics if a size is negative.
func NewAdam(sizes []int, cfg AdamConfig) (*Adam, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	a := &Adam{
		LR: cfg.LR, Beta1: cfg.Beta1, Beta2: cfg.Beta2, Eps: cfg.Eps,
		WeightDecay: cfg.WeightDecay,
		M:           make([][]float32, len(sizes)),
		V:           make([][]float32, len(sizes)),
	}
	for i, n := range sizes {
		if n < 0 {
			panic(fmt.Sprintf("optim: NewAdam: sizes[%d] = %d", i, n))
		}
		a.M[i] = make([]float32, n)
		a.V[i] = make([]float32, n)
	}
	return a, nil
}

// Config returns the current hyperparameters.
func (a *Adam) Config() AdamConfig {
	return AdamConfig{LR: a.LR, Beta1: a.Beta1, Beta2: a.Beta2, Eps: a.Eps,
		WeightDecay: a.WeightDecay}
}

// Update increments Step and applies one Adam step to params in place,
// using grads (the gradient of the loss with respect to params; it is only
// read). params[i] and grads[i] must have the length of M[i]; Update panics
// otherwise. A NaN or Inf in grads would poison the moments for good, so
// callers check AllFinite(grads) first.
func (a *Adam) Update(params, grads [][]float32) {
	if len(params) != len(a.M) || len(grads) != len(a.M) {
		panic(fmt.Sprintf("optim: Adam.Update: %d params and %d grads, want %d buffers",
			len(params), len(grads), len(a.M)))
	}
	for i := range a.M {
		if len(params[i]) != len(a.M[i]) || len(grads[i]) != len(a.M[i]) {
			panic(fmt.Sprintf("optim: Adam.Update: buffer %d: len(params) = %d, len(grads) = %d, want %d",
				i, len(params[i]), len(grads[i]), len(a.M[i])))
		}
	}

	a.Step++
	t := float64(a.Step)
	bc1 := 1 - math.Pow(a.Beta1, t) // bias corrections 1 − βᵗ
	bc2 := 1 - math.Pow(a.Beta2, t)
	decay := 1 - a.LR*a.WeightDecay
	for i, theta := range params {
		g, m, v := grads[i], a.M[i], a.V[i]
		for k := range theta {
			gk := float64(g[k])
			mk := a.Beta1*float64(m[k]) + (1-a.Beta1)*gk
			vk := a.Beta2*float64(v[k]) + (1-a.Beta2)*gk*gk
			m[k], v[k] = float32(mk), float32(vk)
			step := a.LR * (mk / bc1) / (math.Sqrt(vk/bc2) + a.Eps)
			theta[k] = float32(decay*float64(theta[k]) - step)
		}
	}
}
