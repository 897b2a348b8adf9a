package losses

import (
	"math/rand/v2"
	"testing"
)

func TestSoftIoUValues(t *testing.T) {
	for _, tc := range []struct {
		name     string
		yTrue, y []float64
		B        int
		want     []float64
	}{
		// min = 0.5 + 0, max = 1 + 0.5.
		{"half on, half off", []float64{1, 0}, []float64{0.5, 0.5}, 1, []float64{1.0 / 3}},
		// min = 0 + 1, max = 0.25 + 1.
		{"one spill", []float64{0, 1}, []float64{0.25, 1}, 1, []float64{0.8}},
		{"perfect", []float64{1, 0, 1}, []float64{1, 0, 1}, 1, []float64{1}},
		{"disjoint", []float64{1, 0}, []float64{0, 1}, 1, []float64{0}},
		{"both empty", []float64{0, 0}, []float64{0, 0}, 1, []float64{1}},
		{"empty truth", []float64{0, 0}, []float64{0.2, 0}, 1, []float64{0}},
		{"two samples", []float64{1, 0, 0, 1}, []float64{0.5, 0.5, 0.25, 1}, 2,
			[]float64{1.0 / 3, 0.8}},
	} {
		r := make([]float64, tc.B)
		SoftIoU(r, tc.yTrue, tc.y)
		for i := range r {
			if !near(r[i], tc.want[i], 1e-15, 0) {
				t.Errorf("%s: R[%d] = %.17g, want %.17g", tc.name, i, r[i], tc.want[i])
			}
		}
	}
}

// TestSoftIoUGradient checks Σ_i w_i·R_i on random inputs without ties:
// binary truth and predictions strictly inside (0, 1).
func TestSoftIoUGradient(t *testing.T) {
	const B, P = 3, 7
	rng := rand.New(rand.NewPCG(2, 2))
	yTrue := binary(rng, B*P)
	y := uniform(rng, B*P, 0.05, 0.95)
	w := uniform(rng, B, -2, 2)

	gY := make([]float64, B*P)
	SoftIoUGrad(gY, w, yTrue, y)
	r := make([]float64, B)
	f := func() float64 {
		SoftIoU(r, yTrue, y)
		return dot(w, r)
	}
	checkGrad(t, "∂(w·R)/∂y", f, y, gY)
}

// TestSoftIoUGradTies checks the documented subgradient: at Y = Y* it is the
// mean of the two one-sided derivatives, and it is 0 for empty masks.
func TestSoftIoUGradTies(t *testing.T) {
	// Pixel 0 ties at 1; pixel 1 is below the truth; pixel 2 above it.
	// I = 1 + 0.5 + 0 = 1.5, U = 1 + 1 + 0.5 = 2.5.
	yTrue := []float64{1, 1, 0}
	y := []float64{1, 0.5, 0.5}
	const I, U = 1.5, 2.5
	want := []float64{(1/U - I/(U*U)) / 2, 1 / U, -I / (U * U)}
	gY := make([]float64, 3)
	SoftIoUGrad(gY, []float64{1}, yTrue, y)
	for p := range want {
		if !near(gY[p], want[p], 1e-15, 0) {
			t.Errorf("gY[%d] = %.17g, want %.17g", p, gY[p], want[p])
		}
	}

	// The tie value must sit between the one-sided finite differences.
	r := make([]float64, 1)
	R := func() float64 { SoftIoU(r, yTrue, y); return r[0] }
	R0 := R()
	y[0] = 1 + fdStep
	right := (R() - R0) / fdStep
	y[0] = 1 - fdStep
	left := (R0 - R()) / fdStep
	y[0] = 1
	if mid := (left + right) / 2; !near(gY[0], mid, 1e-4, 0) {
		t.Errorf("tie gradient %.9g, mean of one-sided differences %.9g", gY[0], mid)
	}

	gEmpty := []float64{7, 7}
	SoftIoUGrad(gEmpty, []float64{1}, []float64{0, 0}, []float64{0, 0})
	if gEmpty[0] != 0 || gEmpty[1] != 0 {
		t.Errorf("empty masks: gY = %v, want zeros", gEmpty)
	}
}

func TestSoftIoUPanics(t *testing.T) {
	mustPanic(t, "B does not divide", func() {
		SoftIoU(make([]float32, 2), make([]float32, 3), make([]float32, 3))
	})
	mustPanic(t, "y length", func() {
		SoftIoU(make([]float32, 1), make([]float32, 3), make([]float32, 2))
	})
	mustPanic(t, "empty r", func() {
		SoftIoU(nil, make([]float32, 3), make([]float32, 3))
	})
	mustPanic(t, "gY length", func() {
		SoftIoUGrad(make([]float32, 2), make([]float32, 1), make([]float32, 3), make([]float32, 3))
	})
}
