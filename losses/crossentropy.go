package losses

import "math"

// CrossEntropyLogits returns the mean binary cross entropy between the
// targets yTrue and the probabilities σ(logits), over all N = B·P pixels:
//
//	CE = 1/N Σ_k −y_k·log σ(l_k) − (1 − y_k)·log(1 − σ(l_k))
//	   = 1/N Σ_k max(l_k, 0) − l_k·y_k + log1p(exp(−|l_k|))
//
// The second form is what is evaluated: it never takes the log of a
// saturated probability, so any finite logits (±100 included, where σ
// rounds to 0 or 1) give a finite value. Targets may be soft, in [0, 1].
//
// If grad is not nil it receives ∂CE/∂l_k = (σ(l_k) − y_k)/N.
// CrossEntropyLogits panics if len(yTrue) != len(logits), if logits is empty,
// or if grad is neither nil nor of that length.
func CrossEntropyLogits[F Float](grad, yTrue, logits []F) float64 {
	return crossEntropy(grad, yTrue, logits, 1, "CrossEntropyLogits")
}

// crossEntropy is CrossEntropyLogits with the gradient scaled by scale: the
// objectives call it with scale = α so gLogits is ∂(α·CE)/∂logits. The
// returned value is the unscaled CE.
func crossEntropy[F Float](grad, yTrue, logits []F, scale float64, who string) float64 {
	N := len(logits)
	if N == 0 {
		panic("losses: " + who + ": empty logits")
	}
	mustLen(who, "yTrue", yTrue, N, false)
	mustLen(who, "grad", grad, N, true)

	var sum float64
	for k, lf := range logits {
		l, y := float64(lf), float64(yTrue[k])
		// Adding log1p last keeps it when it is far below max(l, 0).
		sum += math.Max(l, 0) - l*y + math.Log1p(math.Exp(-math.Abs(l)))
		if grad != nil {
			// σ(l) − y written so a saturated σ keeps its tiny complement.
			grad[k] = F(scale * ((1-y)*sigmoid(l) - y*sigmoid(-l)) / float64(N))
		}
	}
	return sum / float64(N)
}
