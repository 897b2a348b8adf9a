package optim

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// float32 storage rounds θ, m and v to 24 bits after every step, so hand
// values computed in float64 agree to a few float32 ulps: relative 3e-7.
const adamRel = 3e-7

func near(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b))
}

// TestAdamByHand runs two steps on three one-element buffers and compares
// with values worked out by hand from Algorithm 1 (β1 = 0.9, β2 = 0.999,
// ε = 1e-8). For g = (0.5, −1) from θ0 = 1:
//
//	t = 1: m = 0.05, v = 0.00025, m̂ = 0.05/0.1 = 0.5, v̂ = 0.00025/0.001 = 0.25
//	       θ1 = 1 − η·0.5/(0.5 + 1e-8)
//	t = 2: m = 0.045 − 0.1 = −0.055, v = 0.00024975 + 0.001 = 0.00124975
//	       m̂ = −0.055/0.19, v̂ = 0.00124975/0.001999
//	       θ2 = θ1 + η·(0.055/0.19)/(sqrt(v̂) + 1e-8)
func TestAdamByHand(t *testing.T) {
	for _, tc := range []struct {
		name   string
		wd     float64
		lr     [2]float64 // η at step 1 and step 2
		theta0 float32
		g      [2]float32
		m, v   [2]float64
		theta  [2]float64
	}{
		{"plain", 0, [2]float64{0.1, 0.1}, 1, [2]float32{0.5, -1},
			[2]float64{0.05, -0.055}, [2]float64{0.00025, 0.00124975},
			[2]float64{0.900000002, 0.9366103542405654}},
		// The second step at half the rate moves θ by half as much.
		{"LR changed", 0, [2]float64{0.1, 0.05}, 1, [2]float32{0.5, -1},
			[2]float64{0.05, -0.055}, [2]float64{0.00025, 0.00124975},
			[2]float64{0.900000002, 0.9183051781202827}},
		// Decoupled decay: θ1 = 1·(1 − 0.1·0.01) − 0.1·0.5/(0.5 + 1e-8),
		// θ2 = θ1·0.999 + 0.1·(0.055/0.19)/(sqrt(v̂2) + 1e-8).
		{"weight decay", 0.01, [2]float64{0.1, 0.1}, 1, [2]float32{0.5, -1},
			[2]float64{0.05, -0.055}, [2]float64{0.00025, 0.00124975},
			[2]float64{0.899000002, 0.9347113542385653}},
		// A constant gradient gives m̂ = g and v̂ = g²: steps of η·|g|/(|g| + ε).
		{"constant gradient", 0, [2]float64{0.1, 0.1}, -0.5, [2]float32{-2, -2},
			[2]float64{-0.2, -0.38}, [2]float64{0.004, 0.007996},
			[2]float64{-0.4000000005, -0.3000000010000007}},
		// A zero gradient leaves θ and the moments at zero.
		{"zero gradient", 0, [2]float64{0.1, 0.1}, 0.25, [2]float32{0, 0},
			[2]float64{0, 0}, [2]float64{0, 0}, [2]float64{0.25, 0.25}},
	} {
		cfg := DefaultAdamConfig(tc.lr[0])
		cfg.WeightDecay = tc.wd
		a, err := NewAdam([]int{1}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		params := [][]float32{{tc.theta0}}
		for s := range 2 {
			a.LR = tc.lr[s]
			a.Update(params, [][]float32{{tc.g[s]}})
			if a.Step != int64(s+1) {
				t.Errorf("%s: Step = %d after %d updates", tc.name, a.Step, s+1)
			}
			for _, c := range []struct {
				what      string
				got, want float64
			}{
				{"m", float64(a.M[0][0]), tc.m[s]},
				{"v", float64(a.V[0][0]), tc.v[s]},
				{"θ", float64(params[0][0]), tc.theta[s]},
			} {
				if !near(c.got, c.want, adamRel) {
					t.Errorf("%s step %d: %s = %.10g, want %.10g", tc.name, s+1, c.what, c.got, c.want)
				}
			}
		}
	}
}

// TestAdamStateRoundTrip checks that an optimiser restored from State
// continues exactly, bit for bit, like the one it was taken from.
func TestAdamStateRoundTrip(t *testing.T) {
	sizes := []int{5, 0, 3}
	rng := rand.New(rand.NewPCG(7, 7))
	random := func() [][]float32 {
		b := make([][]float32, len(sizes))
		for i, n := range sizes {
			b[i] = make([]float32, n)
			for k := range b[i] {
				b[i][k] = float32(rng.NormFloat64())
			}
		}
		return b
	}
	cfg := DefaultAdamConfig(0.003)
	cfg.WeightDecay = 1e-4
	a, _ := NewAdam(sizes, cfg)
	params := random()
	for range 3 {
		a.Update(params, random())
	}

	s := a.State()
	b, _ := NewAdam(sizes, cfg)
	if err := b.Restore(s); err != nil {
		t.Fatal(err)
	}
	pa, pb := clone(params), clone(params)
	for range 2 {
		g := random()
		a.Update(pa, g)
		b.Update(pb, g)
	}
	if a.Step != b.Step || a.Step != 5 {
		t.Errorf("Step = %d and %d, want 5", a.Step, b.Step)
	}
	for _, c := range []struct {
		name string
		x, y [][]float32
	}{{"params", pa, pb}, {"M", a.M, b.M}, {"V", a.V, b.V}} {
		for i := range c.x {
			for k := range c.x[i] {
				if math.Float32bits(c.x[i][k]) != math.Float32bits(c.y[i][k]) {
					t.Fatalf("%s[%d][%d]: %g != %g after restore", c.name, i, k, c.x[i][k], c.y[i][k])
				}
			}
		}
	}
	// The snapshot is a copy: the later updates did not change it.
	if s.Step != 3 || &s.M[0][0] == &a.M[0][0] {
		t.Error("State shares memory with the optimiser")
	}
}

func TestAdamRestoreErrors(t *testing.T) {
	a, _ := NewAdam([]int{2, 3}, DefaultAdamConfig(0.1))
	good := a.State()
	for _, tc := range []struct {
		name string
		s    AdamState
		want string
	}{
		{"negative step", AdamState{Step: -1, M: good.M, V: good.V}, "step"},
		{"buffer count", AdamState{M: good.M[:1], V: good.V}, "M buffers"},
		{"buffer length", AdamState{M: good.M, V: [][]float32{{0, 0}, {0}}}, "V buffer 1"},
	} {
		err := a.Restore(tc.s)
		if err == nil || !strings.HasPrefix(err.Error(), "optim: ") ||
			!strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestNewAdamErrors(t *testing.T) {
	base := DefaultAdamConfig(0.1)
	for _, tc := range []struct {
		name string
		edit func(*AdamConfig)
		want string
	}{
		{"negative LR", func(c *AdamConfig) { c.LR = -1 }, "learning rate"},
		{"beta1 = 1", func(c *AdamConfig) { c.Beta1 = 1 }, "beta1"},
		{"NaN beta2", func(c *AdamConfig) { c.Beta2 = math.NaN() }, "beta2"},
		{"negative eps", func(c *AdamConfig) { c.Eps = -1e-8 }, "eps"},
		{"infinite decay", func(c *AdamConfig) { c.WeightDecay = math.Inf(1) }, "weight decay"},
	} {
		c := base
		tc.edit(&c)
		if _, err := NewAdam([]int{1}, c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
	if a, err := NewAdam([]int{1}, base); err != nil || a.Config() != base {
		t.Errorf("NewAdam(default) = %+v, %v", a, err)
	}
}

func TestAdamUpdatePanics(t *testing.T) {
	a, _ := NewAdam([]int{2}, DefaultAdamConfig(0.1))
	for _, tc := range []struct {
		name          string
		params, grads [][]float32
	}{
		{"buffer count", [][]float32{{0, 0}, {0}}, [][]float32{{0, 0}}},
		{"grad length", [][]float32{{0, 0}}, [][]float32{{0}}},
		{"param length", [][]float32{{0, 0, 0}}, [][]float32{{0, 0}}},
	} {
		func() {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.HasPrefix(msg, "optim: ") {
					t.Errorf("%s: recovered %v, want an optim panic", tc.name, r)
				}
			}()
			a.Update(tc.params, tc.grads)
		}()
	}
	if a.Step != 0 {
		t.Errorf("Step = %d after rejected updates, want 0", a.Step)
	}
}
