package optim

import "math"

// AllFinite reports whether every element of every buffer is finite. If
// not, it also returns the index of the first buffer holding a NaN or an
// Inf; otherwise the index is −1. A training loop calls it on the gradients
// (and may on the parameters) before Update and stops on false, naming the
// buffer.
func AllFinite(bufs [][]float32) (bool, int) {
	for i, b := range bufs {
		for _, x := range b {
			if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
				return false, i
			}
		}
	}
	return true, -1
}
