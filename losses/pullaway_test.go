package losses

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestPullAwayValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		y    []float64
		B    int
		want float64
	}{
		{"single mask", []float64{0.3, 0.9, 0.1}, 1, 0},
		{"identical", []float64{0.2, 0.7, 0.2, 0.7, 0.2, 0.7}, 3, 1},
		{"scaled copies", []float64{1, 2, 0.5, 1}, 2, 1},
		{"orthogonal", []float64{1, 0, 0, 1}, 2, 0},
		// cos = 1/√2 both ways: 1/(2·1)·(½ + ½).
		{"45 degrees", []float64{1, 0, 1, 1}, 2, 0.5},
		// ⟨Y0,Y1⟩ = 0.625, ‖Y0‖² = 0.5, ‖Y1‖² = 1.0625: cos² = 25/34.
		{"objective table masks", []float64{0.5, 0.5, 0.25, 1}, 2, 25.0 / 34},
		// pairs (0,1) cos² = ½, (0,2) and (1,2) involve the zero mask: 0.
		{"zero mask", []float64{1, 0, 1, 1, 0, 0}, 3, 2 * 0.5 / 6},
	} {
		grad := make([]float64, len(tc.y))
		got := PullAway(grad, tc.y, tc.B)
		if !near(got, tc.want, 1e-10, 1e-15) {
			t.Errorf("%s: PT = %.17g, want %.17g", tc.name, got, tc.want)
		}
		for k, g := range grad {
			if math.IsNaN(g) || math.IsInf(g, 0) {
				t.Errorf("%s: grad[%d] = %g", tc.name, k, g)
			}
		}
	}
}

func TestPullAwayGradient(t *testing.T) {
	const B, P = 3, 7
	rng := rand.New(rand.NewPCG(3, 3))
	y := uniform(rng, B*P, 0, 1)
	grad := make([]float64, B*P)
	PullAway(grad, y, B)
	checkGrad(t, "∂PT/∂y", func() float64 { return PullAway(nil, y, B) }, y, grad)
}

// TestPullAwayDegenerate checks the documented edge cases: B = 1 and a
// zero-norm mask give a zero gradient rather than NaN.
func TestPullAwayDegenerate(t *testing.T) {
	grad := []float64{5, 5, 5}
	if pt := PullAway(grad, []float64{0.1, 0.2, 0.3}, 1); pt != 0 {
		t.Errorf("B = 1: PT = %g, want 0", pt)
	}
	for k, g := range grad {
		if g != 0 {
			t.Errorf("B = 1: grad[%d] = %g, want 0", k, g)
		}
	}

	y := []float64{0, 0, 0.3, 0.8, 0.6, 0.1}
	grad = make([]float64, len(y))
	PullAway(grad, y, 3)
	for k, g := range grad {
		if math.IsNaN(g) || math.IsInf(g, 0) {
			t.Fatalf("zero mask: grad[%d] = %g", k, g)
		}
	}
	if grad[0] != 0 || grad[1] != 0 {
		t.Errorf("zero mask: its gradient %v, want zeros", grad[:2])
	}
}

func TestPullAwayPanics(t *testing.T) {
	mustPanic(t, "B = 0", func() { PullAway(nil, make([]float32, 4), 0) })
	mustPanic(t, "B does not divide", func() { PullAway(nil, make([]float32, 4), 3) })
	mustPanic(t, "grad length", func() { PullAway(make([]float32, 3), make([]float32, 4), 2) })
}
