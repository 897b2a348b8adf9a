package losses

import (
	"fmt"
	"math"
)

// Float is the element type of every buffer this package reads or writes:
// float32 in production, float64 in gradient checks.
type Float interface {
	~float32 | ~float64
}

// softplus returns log(1 + exp(x)) without overflow for large |x|:
// softplus(x) = max(x, 0) + log1p(exp(−|x|)). It is exact at ±Inf.
func softplus(x float64) float64 {
	return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
}

// sigmoid returns σ(x) = 1/(1 + exp(−x)), evaluated so that exp never
// overflows; σ(±Inf) = 1, 0.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// logSigmoid returns log σ(x) = −softplus(−x).
func logSigmoid(x float64) float64 { return -softplus(-x) }

// mean returns the float64 mean of x; x must not be empty.
func mean[F Float](x []F) float64 {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return s / float64(len(x))
}

// fill sets every element of dst to v; a nil dst is left alone.
func fill[F Float](dst []F, v float64) {
	for i := range dst {
		dst[i] = F(v)
	}
}

// mustLen panics when len(x) != n. A nil x is accepted when optional is
// true: it marks an output the caller does not want.
func mustLen[F Float](who, name string, x []F, n int, optional bool) {
	if x == nil && optional {
		return
	}
	if len(x) != n {
		panic(fmt.Sprintf("losses: %s: len(%s) = %d, want %d", who, name, len(x), n))
	}
}

// batchShape returns B = len(sFake) and P = len(yTrue)/B, and panics unless
// B > 0, len(yTrue) > 0 and B divides len(yTrue).
func batchShape[F Float](who string, sFake, yTrue []F) (B, P int) {
	B = len(sFake)
	if B == 0 {
		panic(fmt.Sprintf("losses: %s: empty batch", who))
	}
	if len(yTrue) == 0 || len(yTrue)%B != 0 {
		panic(fmt.Sprintf("losses: %s: len(yTrue) = %d is not a positive multiple of B = %d",
			who, len(yTrue), B))
	}
	return B, len(yTrue) / B
}
