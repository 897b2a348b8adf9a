package losses

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestCrossEntropyLogitsGradient(t *testing.T) {
	const B, P = 3, 7
	r := rand.New(rand.NewPCG(1, 1))
	for _, tc := range []struct {
		name  string
		yTrue []float64
		scale float64 // logits drawn from [−scale, scale)
	}{
		{"hard targets", binary(r, B*P), 4},
		{"soft targets", uniform(r, B*P, 0, 1), 4},
		{"large logits", binary(r, B*P), 100},
	} {
		logits := uniform(r, B*P, -tc.scale, tc.scale)
		grad := make([]float64, B*P)
		CrossEntropyLogits(grad, tc.yTrue, logits)
		f := func() float64 { return CrossEntropyLogits(nil, tc.yTrue, logits) }
		checkGrad(t, tc.name+" ∂CE/∂logits", f, logits, grad)
	}
}

// TestCrossEntropyLogitsValues checks hand-computed values, including
// saturated logits where log σ would underflow if taken naively.
func TestCrossEntropyLogitsValues(t *testing.T) {
	e100 := math.Exp(-100) // log1p(exp(−100)) = exp(−100) in float64
	for _, tc := range []struct {
		name     string
		yTrue    []float64
		logits   []float64
		want     float64
		wantGrad []float64
		rel      float64
	}{
		{"zero logits", []float64{0, 1}, []float64{0, 0}, math.Ln2, []float64{0.25, -0.25}, 1e-15},
		{"right and certain", []float64{1, 0}, []float64{100, -100}, e100,
			[]float64{-e100 / 2, e100 / 2}, 1e-12},
		{"wrong and certain", []float64{0, 1}, []float64{100, -100}, 100 + e100,
			[]float64{0.5, -0.5}, 1e-15},
		{"soft target", []float64{0.5}, []float64{2}, 2 - 1 + math.Log1p(math.Exp(-2)),
			[]float64{1/(1+math.Exp(-2)) - 0.5}, 1e-15},
	} {
		grad := make([]float64, len(tc.logits))
		got := CrossEntropyLogits(grad, tc.yTrue, tc.logits)
		if !near(got, tc.want, tc.rel, 0) {
			t.Errorf("%s: CE = %.17g, want %.17g", tc.name, got, tc.want)
		}
		for k := range grad {
			if !near(grad[k], tc.wantGrad[k], tc.rel, 0) {
				t.Errorf("%s: grad[%d] = %.17g, want %.17g", tc.name, k, grad[k], tc.wantGrad[k])
			}
		}
	}
}

// TestCrossEntropyLogitsFloat32Stable checks that float32 logits of ±100
// and beyond give finite values and gradients.
func TestCrossEntropyLogitsFloat32Stable(t *testing.T) {
	yTrue := []float32{1, 0, 1, 0, 1, 0}
	logits := []float32{100, 100, -100, -100, 1e30, -1e30}
	grad := make([]float32, len(logits))
	got := CrossEntropyLogits(grad, yTrue, logits)
	want := (100 + 100) / 6.0 // the two wrong terms; the right ones are below 1e-43
	if !near(got, want, 1e-12, 0) {
		t.Errorf("CE = %g, want %g", got, want)
	}
	wantGrad := []float32{0, 1.0 / 6, -1.0 / 6, 0, 0, 0}
	for k, g := range grad {
		if math.IsNaN(float64(g)) || math.IsInf(float64(g), 0) {
			t.Fatalf("grad[%d] = %g", k, g)
		}
		if !near(float64(g), float64(wantGrad[k]), 1e-6, 1e-30) {
			t.Errorf("grad[%d] = %g, want %g", k, g, wantGrad[k])
		}
	}
}

func TestCrossEntropyLogitsPanics(t *testing.T) {
	mustPanic(t, "length mismatch", func() {
		CrossEntropyLogits(nil, []float32{0, 1}, []float32{0})
	})
	mustPanic(t, "short grad", func() {
		CrossEntropyLogits(make([]float32, 1), []float32{0, 1}, []float32{0, 0})
	})
	mustPanic(t, "empty", func() { CrossEntropyLogits[float32](nil, nil, nil) })
}
