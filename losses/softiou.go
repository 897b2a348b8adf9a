package losses

import "fmt"

// SoftIoU writes into r the soft IoU reward of each of the B = len(r)
// samples:
//
//	R_i = Σ_p min(Y*_ip, Y_ip) / Σ_p max(Y*_ip, Y_ip)
//
// where yTrue holds Y* and y holds Y, each B·P long and sample-major. R_i is
// defined as 1 when Σ_p max(Y*_ip, Y_ip) = 0 (both masks empty), matching the
// IoU metric's rule that an empty prediction of an empty mask is perfect.
// Masks are expected to be non-negative.
//
// SoftIoU panics if r is empty or if len(yTrue) and len(y) are not the same
// positive multiple of len(r).
func SoftIoU[F Float](r, yTrue, y []F) {
	B, P := softIoUShape("SoftIoU", r, yTrue, y)
	for i := range B {
		inter, union := softIoUSums(yTrue[i*P:(i+1)*P], y[i*P:(i+1)*P])
		r[i] = F(softIoURatio(inter, union))
	}
}

// SoftIoUGrad writes into gY the gradient of Σ_i w_i·R_i with respect to y,
// where R_i is SoftIoU's reward of sample i and w (length B) holds the
// upstream weights ∂ℓ/∂R_i. With I_i = Σ min and U_i = Σ max,
//
//	∂R_i/∂Y_ip = 1/U_i        if Y_ip < Y*_ip  (pixel counts in min)
//	           = −I_i/U_i²    if Y_ip > Y*_ip  (pixel counts in max)
//	           = (U_i − I_i)/(2·U_i²) if Y_ip = Y*_ip
//
// At a tie min and max are not differentiable; the value used is the mean of
// the two one-sided derivatives, the midpoint of the subdifferential. With
// sigmoid outputs ties occur only where σ saturates in float32. Where U_i = 0
// R_i is the constant 1 of the definition and its gradient is taken as 0.
//
// SoftIoUGrad panics if w is empty or if len(gY), len(yTrue) and len(y) are
// not the same positive multiple of len(w).
func SoftIoUGrad[F Float](gY, w, yTrue, y []F) {
	B, P := softIoUShape("SoftIoUGrad", w, yTrue, y)
	mustLen("SoftIoUGrad", "gY", gY, B*P, false)
	for i := range B {
		a, yi, gi := yTrue[i*P:(i+1)*P], y[i*P:(i+1)*P], gY[i*P:(i+1)*P]
		inter, union := softIoUSums(a, yi)
		if union == 0 {
			fill(gi, 0)
			continue
		}
		wi := float64(w[i])
		below := wi / union                    // Y < Y*: ∂R/∂Y = 1/U
		above := -wi * inter / (union * union) // Y > Y*: ∂R/∂Y = −I/U²
		for p := range P {
			switch {
			case yi[p] < a[p]:
				gi[p] = F(below)
			case yi[p] > a[p]:
				gi[p] = F(above)
			default:
				gi[p] = F((below + above) / 2)
			}
		}
	}
}

// softIoUSums returns I = Σ min(a, y) and U = Σ max(a, y) for one sample.
func softIoUSums[F Float](a, y []F) (inter, union float64) {
	for p, ap := range a {
		lo, hi := float64(ap), float64(y[p])
		if lo > hi {
			lo, hi = hi, lo
		}
		inter += lo
		union += hi
	}
	return inter, union
}

// softIoURatio returns I/U, or 1 when U = 0.
func softIoURatio(inter, union float64) float64 {
	if union == 0 {
		return 1
	}
	return inter / union
}

// softIoUShape checks the slices of SoftIoU and SoftIoUGrad and returns B and P.
func softIoUShape[F Float](who string, perSample, yTrue, y []F) (B, P int) {
	B = len(perSample)
	if B == 0 || len(yTrue) == 0 || len(yTrue)%B != 0 {
		panic(fmt.Sprintf("losses: %s: len(yTrue) = %d is not a positive multiple of B = %d",
			who, len(yTrue), B))
	}
	mustLen(who, "y", y, len(yTrue), false)
	return B, len(yTrue) / B
}
