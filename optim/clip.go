package optim

import (
	"fmt"
	"math"
)

// GradNorm returns the global L2 norm of all buffers taken together,
// sqrt(Σ_i Σ_k g_ik²), accumulated in float64. It is NaN or +Inf when an
// element is.
func GradNorm(grads [][]float32) float64 {
	var sum float64
	for _, g := range grads {
		for _, x := range g {
			sum += float64(x) * float64(x)
		}
	}
	return math.Sqrt(sum)
}

// ClipGradNorm scales every buffer in place by maxNorm/‖g‖ when the global
// norm ‖g‖ = GradNorm(grads) exceeds maxNorm, so the clipped norm equals
// maxNorm and the direction is kept. It returns ‖g‖ before clipping, for
// logging. A non-finite norm leaves grads untouched: scaling cannot repair
// it, and the caller's AllFinite check should stop the step. ClipGradNorm
// panics if maxNorm is not positive.
func ClipGradNorm(grads [][]float32, maxNorm float64) float64 {
	if !(maxNorm > 0) {
		panic(fmt.Sprintf("optim: ClipGradNorm: maxNorm = %v, want > 0", maxNorm))
	}
	norm := GradNorm(grads)
	if norm <= maxNorm || math.IsInf(norm, 0) || math.IsNaN(norm) {
		return norm
	}
	scale := maxNorm / norm
	for _, g := range grads {
		for k := range g {
			g[k] = float32(float64(g[k]) * scale)
		}
	}
	return norm
}
