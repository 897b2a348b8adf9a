package losses

import (
	"fmt"
	"math"
)

// pullAwayEps is added to every squared norm in PullAway, so that an
// all-zero mask has cosine 0 with every other mask instead of 0/0. It is far
// below the squared norm of any mask with one pixel above 1e-5.
const pullAwayEps = 1e-12

// PullAway returns the pull-away term of the B masks in y (each of length
// P = len(y)/B, sample-major), the repelling regulariser of EBGAN (Zhao et
// al. 2017, Eq. 5):
//
//	PT(Y) = 1/(B(B−1)) Σ_{i≠j} cos(Y_i, Y_j)²,  cos(Y_i, Y_j) = ⟨Y_i, Y_j⟩/(n_i·n_j)
//
// with n_i = sqrt(⟨Y_i, Y_i⟩ + 1e-12). The epsilon keeps a zero-norm mask
// finite: its cosine with every mask is 0 and its gradient is 0. PT of a
// single mask (B = 1) is 0, with gradient 0, since there are no pairs.
//
// If grad is not nil it receives ∂PT/∂Y:
//
//	∂PT/∂Y_i = 4/(B(B−1)) Σ_{j≠i} cos_ij·(Y_j/(n_i·n_j) − cos_ij·Y_i/n_i²)
//
// The cost is O(B²·P) and nothing is allocated. PullAway panics if B < 1, if
// B does not divide len(y), if y is empty, or if grad is neither nil nor of
// length len(y).
func PullAway[F Float](grad, y []F, B int) float64 {
	if B < 1 || len(y) == 0 || len(y)%B != 0 {
		panic(fmt.Sprintf("losses: PullAway: len(y) = %d is not a positive multiple of B = %d",
			len(y), B))
	}
	mustLen("PullAway", "grad", grad, len(y), true)
	return pullAway(grad, y, B, 1)
}

// pullAway is PullAway with the gradient scaled by scale (ω in EBGAN's L_G);
// the returned value is unscaled.
func pullAway[F Float](grad, y []F, B int, scale float64) float64 {
	fill(grad, 0)
	if B == 1 {
		return 0
	}
	P := len(y) / B
	K := 1 / float64(B*(B-1))

	var sum float64
	for i := range B {
		yi := y[i*P : (i+1)*P]
		ni := math.Sqrt(dot(yi, yi) + pullAwayEps)
		var cos2 float64 // Σ_{j≠i} cos_ij²
		for j := range B {
			if j == i {
				continue
			}
			yj := y[j*P : (j+1)*P]
			nj := math.Sqrt(dot(yj, yj) + pullAwayEps)
			cos := dot(yi, yj) / (ni * nj)
			cos2 += cos * cos
			if grad != nil {
				axpy(grad[i*P:(i+1)*P], 4*scale*K*cos/(ni*nj), yj)
			}
		}
		sum += cos2
		if grad != nil {
			axpy(grad[i*P:(i+1)*P], -4*scale*K*cos2/(ni*ni), yi)
		}
	}
	return K * sum
}

// dot returns ⟨a, b⟩ accumulated in float64.
func dot[F Float](a, b []F) float64 {
	var s float64
	for p, v := range a {
		s += float64(v) * float64(b[p])
	}
	return s
}

// axpy adds alpha·x to y element-wise.
func axpy[F Float](y []F, alpha float64, x []F) {
	for p, v := range x {
		y[p] = F(float64(y[p]) + alpha*float64(v))
	}
}
