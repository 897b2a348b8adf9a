package losses

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// Tolerances of the float64 finite-difference checks. With step h = 1e-5
// the central difference has truncation error O(h²·|f‴|) ≈ 1e-10 and
// rounding error O(ε·|f|/h) ≈ 1e-11 for the O(1) losses here. A relative
// tolerance of 1e-6, with an absolute floor of 1e-9 for near-zero partials,
// leaves orders of magnitude of margin for a correct gradient while a wrong
// factor, sign or missing term fails it.
const (
	fdStep = 1e-5
	fdRel  = 1e-6
	fdAbs  = 1e-9
)

// checkGrad compares the analytic gradient got of f with respect to x with
// central finite differences; f must read x afresh on each call.
func checkGrad(t *testing.T, name string, f func() float64, x, got []float64) {
	t.Helper()
	if len(got) != len(x) {
		t.Fatalf("%s: len(grad) = %d, want %d", name, len(got), len(x))
	}
	for k := range x {
		x0 := x[k]
		x[k] = x0 + fdStep
		fPlus := f()
		x[k] = x0 - fdStep
		fMinus := f()
		x[k] = x0
		want := (fPlus - fMinus) / (2 * fdStep)
		if !near(got[k], want, fdRel, fdAbs) {
			t.Errorf("%s[%d] = %.12g, finite difference %.12g", name, k, got[k], want)
		}
	}
}

// near reports whether |a − b| <= rel·max(|a|, |b|) + abs.
func near(a, b, rel, abs float64) bool {
	return math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b))+abs
}

// uniform returns n values drawn uniformly from [lo, hi).
func uniform(r *rand.Rand, n int, lo, hi float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = lo + (hi-lo)*r.Float64()
	}
	return x
}

// binary returns n values in {0, 1}.
func binary(r *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(r.IntN(2))
	}
	return x
}

// mustPanic fails unless f panics with a message starting "losses:".
func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("%s: no panic", name)
			return
		}
		if msg := fmt.Sprint(r); !strings.HasPrefix(msg, "losses: ") {
			t.Errorf("%s: panic %q lacks the package prefix", name, msg)
		}
	}()
	f()
}
