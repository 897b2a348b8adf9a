package orchestrator

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/ort"
)

// TestAdversarialGradient checks ∂L_G/∂θ of every GAN objective, through a
// T = 3 unroll with fixed noise and a tiny discriminator, against a
// fourth-order central difference of the whole pipeline (unroll, D and the
// loss) along random directions of θ. The discriminator is smooth (LeakyReLU
// slope 1) so that no finite-difference step straddles a kink; LeakyReLU's
// own derivatives are checked in package graphs.
func TestAdversarialGradient(t *testing.T) {
	for _, obj := range []string{"wgan-gp", "ebgan", "mse", "logloss"} {
		t.Run(obj, func(t *testing.T) {
			c := tinyConfig(obj)
			c.Disc.Slope = 1
			c.Energy.Channels, c.Energy.UnaryChannels = 4, 4
			tr, err := NewTrainer(c, ort.Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Destroy()
			s := tinySplits(t)
			stats := data.ComputeStats(s.Train)
			loader := data.NewLoader(s.Train, c.Batch, false, 1)
			loader.Stats = &stats
			p := tinySize * tinySize
			x, y := make([]float32, c.Batch*3*p), make([]float32, c.Batch*p)
			n := loader.Next(x, y)
			noise, err := tr.noisePCG.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			loss := func() float64 {
				if err := tr.noisePCG.UnmarshalBinary(noise); err != nil {
					t.Fatal(err)
				}
				l, err := tr.adversarialGrad(x, y, n)
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			loss()
			grads := make([][]float32, len(tr.gradE))
			for i := range grads {
				grads[i] = slices.Clone(tr.gradE[i])
			}
			worst := 0.0
			r := rand.New(rand.NewPCG(3, 4))
			for trial := range 3 {
				a, fd, scale := directional(tr.Energy.Params.Buffers(), grads, r, 2e-3, loss)
				rel := math.Abs(a-fd) / math.Max(math.Max(math.Abs(a), math.Abs(fd)), scale/100)
				worst = math.Max(worst, rel)
				if rel > 3e-3 || math.IsNaN(rel) {
					t.Errorf("trial %d: analytic %.7g, finite difference %.7g, relative error %.2e", trial, a, fd, rel)
				}
			}
			t.Logf("worst relative error %.2e", worst)
		})
	}
}

// directional returns ⟨grads, d⟩, the fourth-order central difference of
// loss along d, and Σ|grads·d|, for a random direction d of the params.
func directional(params, grads [][]float32, r *rand.Rand, eps float64, loss func() float64) (a, fd, scale float64) {
	d := make([][]float32, len(params))
	for k := range params {
		d[k] = make([]float32, len(params[k]))
		for i := range d[k] {
			d[k][i] = float32(0.5 * r.NormFloat64())
			a += float64(grads[k][i]) * float64(d[k][i])
			scale += math.Abs(float64(grads[k][i]) * float64(d[k][i]))
		}
	}
	at := func(h float64) float64 {
		saved := make([][]float32, len(params))
		for k := range params {
			saved[k] = slices.Clone(params[k])
			for i := range params[k] {
				params[k][i] += float32(h) * d[k][i]
			}
		}
		v := loss()
		for k := range params {
			copy(params[k], saved[k])
		}
		return v
	}
	fd = (-at(2*eps) + 8*at(eps) - 8*at(-eps) + at(-2*eps)) / (12 * eps)
	return a, fd, scale
}
